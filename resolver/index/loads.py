"""What the parts of the index client share: one lock, one thread pool, memoized loads, and the counters.

Every page, metadata file and view is loaded once per client: a memo maps its key to a
:class:`~concurrent.futures.Future`, and whoever asks again waits for the same result or exception. A load
can be queued in the background (:meth:`Loads.submit`) or run by the caller who needs it (:meth:`Loads.once`);
a queued load that has not started yet is *claimed* by that caller and run at once, so nobody waits behind a
queue of speculative work. The same discipline holds in the parent and in a forked worker
(:mod:`resolver.index.offload`).

One lock guards the memos, the counters and the small state the other parts keep (the transport,
the pages, the metadata chain); it is held for short steps (a dictionary update, a counter, and once the
making of the HTTP client), never across a request or a parse. Cost: a future and a dictionary entry per
key, kept for the client's life.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ClientStats", "Loads"]

T = TypeVar("T")


@dataclass(slots=True)
class ClientStats:
    """Counters of one client's work (HTTP attempts, bytes, cache hits, ranges, whole files, retries)."""

    requests: int = 0
    bytes_received: int = 0
    cache_hits: int = 0
    range_requests: int = 0
    whole_downloads: int = 0
    retries: int = 0
    worker_views: int = 0  # views a worker process built (offload_views)


class Loads:
    """The lock, the pool (``threads`` threads), the memo discipline and the counters of one client.

    ``pool`` is replaced in a forked worker (:class:`resolver.index.offload.ViewWorker`); ``closed`` is set by
    :meth:`shutdown`, after which nothing more is queued.
    """

    def __init__(self, *, threads: int) -> None:
        self.lock = threading.Lock()
        self.stats = ClientStats()
        self.closed = False
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="relax-pins-index")

    def once(self, memo: dict[str, Future[T]], key: str, load: Callable[[], T]) -> T:
        """``load()`` run once per key; other callers wait for the same result or exception.

        A load that was queued in the background but has not started is run here instead (claimed), so
        a caller never waits behind a queue of speculative work.
        """
        with self.lock:
            future = memo.get(key)
            if future is None:
                future = memo[key] = Future()
            run = self.claim(future)
        if run:
            try:
                future.set_result(load())
            except BaseException as exc:
                future.set_exception(exc)
                raise
        return future.result()

    @staticmethod
    def claim(future: Future[T]) -> bool:
        """Whether the caller (holding the lock) is the one to run ``future``'s load: it has not started."""
        return not future.running() and not future.done() and future.set_running_or_notify_cancel()

    def submit(self, memo: dict[str, Future[T]], key: str, load: Callable[[], T]) -> Future[T] | None:
        """Queue ``load`` for ``key`` unless it is known or queued; the key's future (``None`` once closed)."""
        with self.lock:
            future = memo.get(key)
            if future is not None or self.closed:
                return future
            future = memo[key] = Future()
        with contextlib.suppress(RuntimeError):  # the pool was shut down by a concurrent close()
            self.pool.submit(self._run_claimed, future, load)
        return future

    def _run_claimed(self, future: Future[T], load: Callable[[], T]) -> None:
        with self.lock:
            run = self.claim(future)
        if run:
            self.run_into(future, load)

    @staticmethod
    def run_into(future: Future[T], load: Callable[[], T]) -> None:
        """Settle ``future`` with what ``load()`` returns or raises."""
        try:
            future.set_result(load())
        except BaseException as exc:  # noqa: BLE001 - kept in the future: whoever asks gets it raised
            future.set_exception(exc)

    def count(self, **amounts: int) -> None:
        """Add ``amounts`` to the :class:`ClientStats` fields of the same names."""
        with self.lock:
            for name, amount in amounts.items():
                setattr(self.stats, name, getattr(self.stats, name) + amount)

    def shutdown(self, *, wait: bool = True) -> None:
        """Wait for running loads (unless ``wait`` is false: an interrupted run does not wait for a stalled
        request), drop queued ones; then nothing more is queued."""
        self.pool.shutdown(wait=wait, cancel_futures=True)
        with self.lock:
            self.closed = True
