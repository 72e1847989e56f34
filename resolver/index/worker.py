"""A forked worker process: index work that runs on a second core, beside the resolution.

Why a process. A cold check of an ML set reads ~100 project pages, ~50 MB of PEP 691 JSON listing ~113,000
files, and turns each into a view (:mod:`resolver.index.finder`). That is CPU work in Python, and threads
share one interpreter lock: measured on bench/ml.txt (2 cores), the lock was held ~90 % of a cold run's
wall time, half of it by page work, half by start-up, resolution and metadata. Threads overlap the network
waits but not the CPU. A forked child has its own interpreter: it fetches and decodes pages and builds views
while the parent resolves, and it sends back only the views (a few KB each).

Why fork, and when not. A forked child starts in a millisecond with every module the parent imported and the
client's settings, and it fetches its pages itself, so no page crosses a pipe (a spawned helper that was sent
the page bodies made cold checks slower: 2.87-3.01 s against 2.34-2.51 s, see docs/architecture.md). Forking
is safe only while the parent has one thread (a lock held by another thread at the fork stays held forever in
the child), so :func:`start` forks only then, only on Linux (macOS system libraries are not fork-safe; Windows
has no fork), and never when ``RELAX_PINS_WORKER=0``. Otherwise it returns ``None`` and the caller does the
work in-process, as it does when the worker dies: every request the worker has not answered fails with
:class:`WorkerGone`, which means "do it here", never "it failed".

The protocol: two pipes; each message is a 4-byte big-endian length and a :mod:`marshal` body. The parent
sends ``(urgent, key)``: a request for ``key`` (``urgent`` false), or (true) word that it now waits for a
request it made, which the child then starts at once if it is still queued (a FIFO queue of speculative
fetches would otherwise hold the one the resolver needs). The child answers each request with
``(key, ok, payload, counts)``: ``payload`` is the result bytes, or the pickled exception when ``ok`` is false
(an exception that does not pickle comes back as :class:`WorkerGone`, and the parent's own attempt raises
it); ``counts`` are the child's counters since its last answer. Both ends are this program, forked from one
image, so both formats are the same version by construction.

Lifetime: the child ignores SIGINT (the parent decides), ends when its request pipe closes (the parent closed
it, or died) after finishing what is running and dropping what is queued, and always leaves by ``os._exit``: it
never returns into the parent's code, runs no exit handlers and flushes no inherited buffers.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import pickle
import signal
import struct
import sys
import threading
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Worker", "WorkerGone", "can_fork", "default_count", "start"]

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct(">I")
#: The environment switch: ``0`` keeps all index work in the one process.
ENV_SWITCH = "RELAX_PINS_WORKER"


class WorkerGone(Exception):
    """The worker did not answer (it ended, or could not pass its answer back): do the work in-process."""


def default_count() -> int:
    """How many workers to fork: two where there are two cores or more, none on one core (a worker there only
    adds its start-up). Measured on 2 cores (docs/benchmarks.md): one worker left the page work on one core and
    the resolution waiting for it (cold ml.txt 1.44-1.60 s), two were faster (1.17-1.31 s), three no faster."""
    return 2 if (os.cpu_count() or 1) >= 2 else 0


def can_fork() -> bool:
    """Whether :func:`start` may fork here and now (module docstring)."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and os.environ.get(ENV_SWITCH, "1") != "0"
        and threading.active_count() == 1
    )


def start(
    serve: Callable[[str], Future[bytes]],
    *,
    hurry: Callable[[str], None] = lambda key: None,
    setup: Callable[[], None] = lambda: None,
    count: int,
    counts: Callable[[], dict[str, int]],
    finish: Callable[[], None],
    on_counts: Callable[[dict[str, int]], None],
) -> list[Worker]:
    """Fork ``count`` workers; fewer (none) when :func:`can_fork` says no or a fork fails.

    In a child: ``setup()`` runs first; ``serve(key)`` starts the work for a request and returns its future;
    ``hurry(key)`` asks that a request still queued be started now (the parent is waiting for it);
    ``counts()`` returns the counters to add to the parent's since the last call; ``finish()`` runs once the
    requests end, and waits for running work. In the parent, ``on_counts`` receives those counters, on a
    worker's reply thread.
    """
    if count < 1 or not can_fork():
        return []
    for stream in (sys.stdout, sys.stderr):  # else a child's copy of a buffer could be written twice
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    forked: list[tuple[int, int, int]] = []
    for _ in range(count):  # every fork before any reply thread starts: the parent has one thread throughout
        siblings = [fd for _, requests, replies in forked for fd in (requests, replies)]
        child = _fork(setup, serve, hurry, counts, finish, siblings)
        if child is None:
            break
        forked.append(child)
    return [Worker(pid, requests, replies, on_counts) for pid, requests, replies in forked]


def _fork(
    setup: Callable[[], None],
    serve: Callable[[str], Future[bytes]],
    hurry: Callable[[str], None],
    counts: Callable[[], dict[str, int]],
    finish: Callable[[], None],
    siblings: list[int],
) -> tuple[int, int, int] | None:
    """Fork one worker: ``(pid, requests fd, replies fd)`` in the parent; never returns in the child."""
    requests_read, requests_write = os.pipe()
    replies_read, replies_write = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        logger.debug("no worker process (%s); index work stays in this process", exc)
        for fd in (requests_read, requests_write, replies_read, replies_write):
            os.close(fd)
        return None
    if pid == 0:  # pragma: no cover - the child's coverage is not collected; tests check what it answers
        code = 1
        try:
            for fd in (requests_write, replies_read, *siblings):  # else a sibling's pipe would never see EOF
                os.close(fd)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's graceful handler: a worker just ends
            setup()
            _serve(requests_read, replies_write, serve, hurry, counts)
            finish()
            code = 0
        except BaseException:
            logger.debug("the worker process failed", exc_info=True)
        finally:
            os._exit(code)
    os.close(requests_read)
    os.close(replies_write)
    return pid, requests_write, replies_read


class Worker:
    """The parent's end: :meth:`submit` a key, get a future of the child's answer."""

    def __init__(self, pid: int, requests: int, replies: int, on_counts: Callable[[dict[str, int]], None]) -> None:
        self.pid = pid
        self._requests = requests
        self._replies = replies
        self._on_counts = on_counts
        self._lock = threading.Lock()
        self._pending: dict[str, Future[bytes]] = {}
        self._alive = True
        self._reader = threading.Thread(target=self._read_replies, name="relax-pins-worker-replies", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        """Whether the worker still takes requests."""
        return self._alive

    @property
    def outstanding(self) -> int:
        """How many requests the worker has not answered yet."""
        return len(self._pending)

    def submit(self, key: str) -> Future[bytes]:
        """Ask the worker for ``key``; the future fails with :class:`WorkerGone` if it never answers."""
        future: Future[bytes] = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            if self._alive and key not in self._pending:
                self._pending[key] = future
                try:
                    _send(self._requests, marshal.dumps((False, key)))
                except OSError:
                    self._alive = False
                    del self._pending[key]
                else:
                    return future
        future.set_exception(WorkerGone("the worker process has ended"))
        return future

    def hurry(self, key: str) -> None:
        """Ask the worker to start ``key`` now if it is still queued there (someone is waiting for it)."""
        with self._lock:
            if self._alive and key in self._pending:
                with contextlib.suppress(OSError):  # the reply thread notices a dead worker
                    _send(self._requests, marshal.dumps((True, key)))

    def close(self, *, now: bool = False) -> None:
        """End the worker: it finishes what is running, drops what is queued; wait for it to exit. ``now``
        (an interrupted run): end it with SIGTERM instead of waiting for what it runs (a stalled request)."""
        with self._lock:
            self._alive = False
            with contextlib.suppress(OSError):
                os.close(self._requests)
        if now:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGTERM)
        self._reader.join()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self._replies)

    def _read_replies(self) -> None:
        try:
            while (frame := _receive(self._replies)) is not None:
                key, ok, payload, counts = marshal.loads(frame)  # noqa: S302 - our own child, over a private pipe
                if counts:
                    self._on_counts(counts)
                with self._lock:
                    future = self._pending.pop(key, None)
                if future is not None:
                    if ok:
                        future.set_result(payload)
                    else:
                        future.set_exception(_unpickled(payload))
        except (OSError, ValueError, EOFError, TypeError) as exc:
            logger.debug("lost the worker process's replies: %s", exc)
        finally:
            with self._lock:
                self._alive = False
                pending, self._pending = self._pending, {}
            for future in pending.values():
                future.set_exception(WorkerGone("the worker process ended before it answered"))


def _serve(
    requests: int,
    replies: int,
    serve: Callable[[str], Future[bytes]],
    hurry: Callable[[str], None],
    counts: Callable[[], dict[str, int]],
) -> None:
    """The child's loop: read messages until EOF; answer each request when its future is done."""
    lock = threading.Lock()

    def answer(key: str, future: Future[bytes]) -> None:
        with lock:  # counts and the write together, so no answer's counters are lost or doubled
            try:
                frame = (key, True, future.result(), counts())
            except BaseException as exc:  # noqa: BLE001 - passed back to be raised in the parent
                frame = (key, False, _pickled(exc), counts())
            with contextlib.suppress(OSError):  # the parent is gone: nobody to tell
                _send(replies, marshal.dumps(frame))

    while (frame := _receive(requests)) is not None:
        urgent, key = marshal.loads(frame)  # noqa: S302 - our own parent, over a private pipe
        if urgent:
            hurry(key)
        else:
            serve(key).add_done_callback(partial(answer, key))


def _pickled(exc: BaseException) -> bytes:
    """The exception as pickle bytes, ``b""`` when it does not survive the trip (the parent then retries)."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)  # noqa: S301 - made just above
    except Exception:  # noqa: BLE001 - any failure means "cannot pass it back"
        return b""
    return data


def _unpickled(data: bytes) -> BaseException:
    if data:
        with contextlib.suppress(Exception):
            exc = pickle.loads(data)  # noqa: S301 - from our own child process
            if isinstance(exc, BaseException):
                return exc
    return WorkerGone("the worker process could not pass its error back")


def _send(fd: int, payload: bytes) -> None:
    data = memoryview(_LENGTH.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data) :]


def _receive(fd: int) -> bytes | None:
    """One message, or ``None`` at a clean end of the pipe; a message cut short raises :class:`EOFError`."""
    head = _read_exact(fd, _LENGTH.size)
    if head is None:
        return None
    (length,) = _LENGTH.unpack(head)
    body = _read_exact(fd, length) if length else b""
    if body is None:
        raise EOFError("the pipe ended inside a message")
    return body


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            if left == size:
                return None
            raise EOFError("the pipe ended inside a message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
