"""Views built in forked worker processes: the parent's side (:class:`Offload`) and the worker's (:class:`ViewWorker`).

:mod:`resolver.index.worker` forks the processes and carries requests and answers over pipes; this module says
what a request means for the index client. A request is a view key, ``"<reader>\\n<name>"``.

In the parent, :class:`Offload` hands a view to the least busy live worker and settles the memo's future with
the answer; the future is marked running, so no caller claims it and builds the view a second time. An error
the worker raised is raised here; a worker that ended (or could not pass its error back) leaves the view to be
built in this process. A caller that starts waiting for a view the worker has queued *hurries* it.

In a worker, :class:`ViewWorker` runs on the forked copy of the parent's client: it builds views through that
copy's own memo, pool and connections, starts a hurried view in a thread of its own, and passes back its
counters with every answer. Cost per view: a few KB over a pipe, against the ~0.5 MB of page it was built from.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from resolver.index.loads import ClientStats
from resolver.index.worker import Worker, WorkerGone, default_count, start

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from packaging.utils import NormalizedName

    from resolver.index.loads import Loads
    from resolver.index.simple import ProjectPage

    Build = Callable[[ProjectPage | None], bytes]
    LoadView = Callable[[NormalizedName, str, Build], bytes]

__all__ = ["DOWN", "Offload", "ViewWorker"]

#: Prefix of a counter key that carries a location a worker could not reach: ``"down\n<location>\n<why>"``
#: (the counters are the one channel every answer has).
DOWN = "down\n"

logger = logging.getLogger(__name__)


class Offload:
    """The parent's side: which reader's views the workers build, and the futures their answers settle.

    ``views`` is the client's memo of views, shared with the client; ``load_view`` builds a view in this
    process (when a worker cannot).
    """

    def __init__(
        self,
        loads: Loads,
        views: dict[str, Future[bytes]],
        load_view: LoadView,
        on_down: Callable[[str, str], None] | None = None,
    ) -> None:
        self._loads = loads
        self._on_down = on_down
        self._views = views
        self._load_view = load_view
        self._workers: list[Worker] = []
        self._reader: str | None = None
        self._closing = False

    @property
    def started(self) -> bool:
        """Whether workers were forked (alive or not)."""
        return bool(self._workers)

    @property
    def offloading(self) -> bool:
        """Whether views are being built in worker processes."""
        return any(worker.alive for worker in self._workers)

    def start(self, reader: str, worker: ViewWorker) -> bool:
        """Fork the workers that will run ``worker`` for ``reader``'s views; whether any was forked."""
        self._reader = reader
        self._workers = start(
            worker.serve,
            hurry=worker.hurry,
            setup=worker.setup,
            count=default_count(),
            counts=worker.counts,
            finish=worker.finish,
            on_counts=self._add_counts,
        )
        if not self._workers:
            self._reader = None
            return False
        return True

    def future(self, name: NormalizedName, reader: str, build: Build) -> Future[bytes] | None:
        """The view's future, asked of a worker if they build this reader's views; ``None`` when they do not.

        The memo's future is marked running, so no caller claims it; it is settled by the worker's answer,
        or by a load here when the worker is gone.
        """
        if reader != self._reader:
            return None
        worker = min((w for w in self._workers if w.alive), key=lambda w: w.outstanding, default=None)
        if worker is None:
            return None
        key = f"{reader}\n{name}"
        with self._loads.lock:
            future = self._views.get(key)
            if future is not None:
                return future
            future = self._views[key] = Future()
            future.set_running_or_notify_cancel()
        worker.submit(key).add_done_callback(
            partial(self._settle_view, future, partial(self._load_view, name, reader, build))
        )
        return future

    def hurry(self, key: str) -> None:
        """Someone waits for the view ``key``: ask the workers to start it now if it is still queued."""
        for worker in self._workers:
            worker.hurry(key)

    def close(self, *, now: bool = False) -> None:
        """End the workers (each finishes what it is running, unless ``now``: an interrupted run waits for
        nothing); answers that do not come fail their views."""
        with self._loads.lock:
            self._closing = True
        for worker in self._workers:
            worker.close(now=now)

    def _settle_view(self, future: Future[bytes], load: Callable[[], bytes], answer: Future[bytes]) -> None:
        exc = answer.exception()
        if exc is None:
            self._loads.count(worker_views=1)
            future.set_result(answer.result())
        elif not isinstance(exc, WorkerGone):
            future.set_exception(exc)
        elif self._closing:
            future.set_exception(RuntimeError("the index client is closed"))
        else:
            logger.debug("the worker did not answer (%s); building the view here", exc)
            try:
                self._loads.pool.submit(self._loads.run_into, future, load)
            except RuntimeError as closed:  # the pool was shut down by a concurrent close()
                future.set_exception(closed)

    def _add_counts(self, counts: dict[str, int]) -> None:
        self._loads.count(**{name: amount for name, amount in counts.items() if name in ClientStats.__slots__})
        for name in counts:
            if name.startswith(DOWN) and self._on_down is not None:  # a location the worker could not reach
                location, _, why = name[len(DOWN) :].partition("\n")
                self._on_down(location, why)


class ViewWorker:
    """What runs in a worker: made in the parent before the fork, its methods called in the child only.

    ``threads`` sizes the worker's pool; ``close`` closes the worker's copy of the client when the parent is
    done with it.
    """

    def __init__(
        self,
        loads: Loads,
        views: dict[str, Future[bytes]],
        load_view: LoadView,
        *,
        reader: str,
        build: Build,
        threads: int,
        close: Callable[[], None],
        down: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self._loads = loads
        self._down = down
        self._down_sent: set[str] = set()
        self._views = views
        self._load_view = load_view
        self._reader = reader
        self._build = build
        self._threads = threads
        self._close = close
        self._sent = ClientStats()  # the counters already passed to the parent
        self._hurried: list[threading.Thread] = []  # loads started at the parent's word

    def setup(self) -> None:
        """First: fewer threads. Two workers with four each fetch as many pages at once as one process with
        eight did, and hold fewer page bodies (cold ml.txt, all processes, PSS summed: 177-186 MB with four,
        190-198 MB with eight; as fast or faster)."""
        self._loads.pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="relax-pins-worker")

    def serve(self, key: str) -> Future[bytes]:
        """Start building the view ``key`` (``reader\\nname``) names."""
        reader, _, name = key.partition("\n")
        future = None
        if reader == self._reader:
            load = partial(self._load_view, canonicalize_name(name), reader, self._build)
            future = self._loads.submit(self._views, key, load)
        if future is None:
            future = Future()
            future.set_exception(WorkerGone(f"the worker does not build {reader!r} views"))
        return future

    def hurry(self, key: str) -> None:
        """The parent waits for ``key``; if its load is still queued, start it in a thread of its own now (the
        queued entry then finds it claimed and does nothing)."""
        reader, _, name = key.partition("\n")
        with self._loads.lock:
            future = self._views.get(key)
            run = future is not None and self._loads.claim(future)
        if run:
            assert future is not None
            load = partial(self._load_view, canonicalize_name(name), reader, self._build)
            thread = threading.Thread(target=self._loads.run_into, args=(future, load), name="relax-pins-hurried")
            self._hurried.append(thread)
            thread.start()

    def finish(self) -> None:
        """Once the parent is done: finish running loads (hurried ones too, so no cache write is cut short by
        the exit), drop queued ones, close connections."""
        for thread in self._hurried:
            thread.join()
        self._close()

    def counts(self) -> dict[str, int]:
        """The counters gained since the last answer."""
        with self._loads.lock:
            now, sent = self._loads.stats, self._sent
            delta = {
                f: getattr(now, f) - getattr(sent, f)
                for f in ClientStats.__slots__
                if getattr(now, f) != getattr(sent, f)
            }
            self._sent = replace(now)
        if self._down is not None:
            for location, why in self._down().items():
                if location not in self._down_sent:
                    self._down_sent.add(location)
                    delta[f"{DOWN}{location}\n{why}"] = 1
        return delta
