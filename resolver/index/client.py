"""The index client: pages, metadata, views and the cache, over the transport (:mod:`resolver.index.transport`).

HTTP (retries, timeouts, credentials per host, netrc, shared host lookups) is the transport's; httpx loads with
the first request, so a warm run that answers everything from the cache never loads the network stack.

Pages: :mod:`resolver.index.pages` (the first index that has the project wins, find-links merged in; when a
cached page is fresh; page identity), memoized here.

Metadata: :mod:`resolver.index.metadata_chain` (PEP 658 file, HTTP ranges of the wheel, the whole file, a static
sdist PKG-INFO by PEP 643), memoized here.

Views. What a reader (the finder) derives from a project's page for one target is cached beside it, keyed
by the sha256 of the page body as served (:meth:`IndexClient.project_view`). A warm run with fresh pages
reads the views' few kilobytes and no page; with stale pages it downloads them again and, when the body is
the same, still decodes none. A page is decoded only to build a view that is not cached yet, and then
dropped (``LazyLinks(compact=False)``); :meth:`IndexClient.project` keeps its pages for the run.

Cost: a bounded thread pool (``max_connections``, at most 8 threads) runs prefetches.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import quote

from packaging.utils import canonicalize_name

from resolver.index.cache import CachedPage
from resolver.index.errors import IndexUnreachableError, IntegrityError
from resolver.index.loads import ClientStats, Loads
from resolver.index.metadata import CoreMetadata
from resolver.index.metadata_chain import METADATA_PROBE_LIMIT, MetadataChain
from resolver.index.pages import ACCEPT, Pages
from resolver.index.simple import FileLink, IndexedLink, ProjectPage
from resolver.index.transport import Transport
from resolver.index.worker import Worker, WorkerGone, can_fork, default_count, start

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import TracebackType

    from packaging.utils import NormalizedName

    from resolver.index.cache import Cache
    from resolver.index.settings import IndexSettings

__all__ = [
    "ACCEPT",
    "METADATA_PROBE_LIMIT",
    "ClientStats",
    "IndexClient",
    "IndexUnreachableError",
    "IndexedLink",
    "IntegrityError",
]

logger = logging.getLogger(__name__)


class IndexClient:
    """Fetches project pages and core metadata from the configured indexes (see the module docstring).

    Thread-safe: ``project``/``metadata`` may be called from many threads; each distinct page or file is
    fetched once per client (results and errors are memoized). ``backoff`` is the first retry's upper
    bound in seconds (tests make it tiny). Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        settings: IndexSettings,
        *,
        cache: Cache | None = None,
        timeout: float = 15.0,
        retries: int = 4,
        offline: bool = False,
        refresh: bool = False,
        max_connections: int = 32,
        retry_cap: float = 30.0,
        best_across_indexes: bool = False,
        netrc: bool = True,
        backoff: float = 0.5,
    ) -> None:
        self.settings = settings
        self._cache = cache
        self._offline = offline
        self._refresh = refresh
        self._max_connections = max(1, max_connections)
        # Eight threads, not more: parsing and view building hold the GIL, and more threads only queued on it
        # (a cold ml.txt check: 2.6-2.7 s with 16 threads, 2.3-2.5 s with 4 to 8, user and system time both lower).
        self._loads = Loads(threads=min(self._max_connections, 8))
        self.stats: ClientStats = self._loads.stats
        self._transport = Transport(
            self._loads,
            timeout=timeout,
            retries=max(0, retries),
            retry_cap=retry_cap,
            backoff=backoff,
            max_connections=self._max_connections,
            netrc=netrc,
        )
        self._pages = Pages(
            self._transport,
            self._loads,
            cache,
            indexes=tuple(self._transport.register(url).rstrip("/") + "/" for url in settings.urls),
            find_links=tuple(self._transport.register(location) for location in settings.find_links),
            offline=offline,
            refresh=refresh,
            best_across_indexes=best_across_indexes,
        )
        self._metadata_chain = MetadataChain(self._transport, self._loads, cache, offline=offline, refresh=refresh)
        self._closing = False
        self._projects: dict[str, Future[ProjectPage | None]] = {}
        self._metadata: dict[str, Future[CoreMetadata | None]] = {}
        self._views: dict[str, Future[bytes]] = {}
        # The forked view worker (offload_views): which reader it builds for, and (in the child) the build.
        self._workers: list[Worker] = []
        self._worker_reader: str | None = None
        self._worker_build: Callable[[ProjectPage | None], bytes] | None = None
        self._worker_sent = ClientStats()  # in the child: the counters already passed to the parent
        self._hurried: list[threading.Thread] = []  # in the child: loads started at the parent's word

    # -- the public surface ------------------------------------------------------------------------------

    def project(self, name: str) -> ProjectPage | None:
        """The project's page: the first index that has it, plus find-links files; ``None`` if nowhere."""
        key = canonicalize_name(name)
        return self._loads.once(self._projects, key, lambda: self._pages.load_project(key))

    def metadata(self, link: FileLink) -> CoreMetadata | None:
        """The core metadata of ``link``; ``None`` when only a build could tell (dynamic sdist metadata)."""
        return self._loads.once(self._metadata, link.url, lambda: self._metadata_chain.load(link))

    def project_view(self, name: str, reader: str, build: Callable[[ProjectPage | None], bytes]) -> bytes:
        """``build(project(name))``, cached on disk for a warm run to read instead of the page.

        ``reader`` must name everything other than the page that ``build``'s answer depends on (a format
        version, the target). The answer is stored under the sha256 of the cached page bodies it was derived
        from, so while those pages are fresh (or ``--offline``), a later run reads a few kilobytes here
        instead of megabytes of page; a changed page has another sha256 and gets a new view. With find-links,
        ``best_across_indexes``, local indexes, ``--refresh`` or no cache, it is computed every run.
        """
        key = canonicalize_name(name)
        future = self._view_from_worker(key, reader, build)
        if future is not None and not future.done():
            for worker in self._workers:
                worker.hurry(f"{reader}\n{key}")
        return self._loads.once(self._views, f"{reader}\n{key}", lambda: self._load_view(key, reader, build))

    def prefetch_views(self, names: Iterable[str], reader: str, build: Callable[[ProjectPage | None], bytes]) -> None:
        """Start :meth:`project_view` for these projects in the background."""
        for name in names:
            self.prefetch_view(name, reader, build)

    def prefetch_view(
        self, name: str, reader: str, build: Callable[[ProjectPage | None], bytes]
    ) -> Future[bytes] | None:
        """Start :meth:`project_view` for one project in the background; its future (``None`` once closed)."""
        key = canonicalize_name(name)
        future = self._view_from_worker(key, reader, build)
        if future is None:
            future = self._loads.submit(self._views, f"{reader}\n{key}", partial(self._load_view, key, reader, build))
        return future

    def offload_views(self, reader: str, build: Callable[[ProjectPage | None], bytes]) -> bool:
        """From now on, build ``reader``'s views in forked worker processes (:mod:`resolver.index.worker`).

        Call it before anything else starts a thread: the fork happens here, and only while this process has
        one thread, on Linux, with the network allowed, and unless ``RELAX_PINS_WORKER=0``; the answer says
        whether it did. The workers fetch, decode and cache the pages and send back only the views; the
        results are the same either way, and whatever a worker cannot answer is done here.
        """
        if self._workers or self._offline or self._transport.opened or self._loads.closed or not can_fork():
            return False
        # The network stack (httpx, the TLS context) is loaded here, once, before the fork: the workers start
        # with it instead of each loading it while the other and this process compete for the two cores. The
        # client has opened no connection yet, so none is shared across the fork.
        self._transport.client()
        # One page decoded at a time per process: the workers share the machine's cores between them already,
        # and each decoded page is tens of MB of dicts (cold ml.txt, all processes: ~193 MB with two at a
        # time, PSS summed).
        self._pages.parse_slots = threading.Semaphore(1)
        self._worker_reader, self._worker_build = reader, build
        self._workers = start(
            self._serve_view,
            hurry=self._hurry_view,
            setup=self._setup_worker,
            count=default_count(),
            counts=self._worker_counts,
            finish=self._finish_worker,
            on_counts=self._add_counts,
        )
        if not self._workers:
            self._worker_reader = self._worker_build = None
            return False
        return True

    @property
    def offloading(self) -> bool:
        """Whether views are being built in worker processes (:meth:`offload_views`)."""
        return any(worker.alive for worker in self._workers)

    def views_ready(self, names: Iterable[str], reader: str) -> bool:
        """Whether :meth:`project_view` would answer every one of ``names`` from the cache without a request."""
        cache = self._cache
        if cache is None:
            return False
        for name in names:
            urls = self._pages.page_urls(canonicalize_name(name))
            identity = None if urls is None else self._pages.cached_identity(urls)
            if identity is None or not cache.has_view(f"{reader}\n{identity}"):
                return False
        return True

    def recall(self, key: str) -> bytes | None:
        """What :meth:`note` stored under ``key`` in an earlier run; ``None`` without a cache or with --refresh."""
        if self._cache is None or self._refresh:
            return None
        return self._cache.get_view(f"note\n{key}")

    def note(self, key: str, data: bytes) -> None:
        """Keep ``data`` in the cache for a later run's :meth:`recall` (best effort)."""
        if self._cache is not None:
            self._cache.put_view(f"note\n{key}", data)

    def prefetch_projects(self, names: Iterable[str]) -> None:
        """Start fetching these pages in the background; :meth:`project` then answers from memory."""
        for name in names:
            key = canonicalize_name(name)
            self._loads.submit(self._projects, key, partial(self._pages.load_project, key))

    def prefetch_metadata(self, links: Iterable[FileLink]) -> None:
        """Start fetching these files' metadata in the background."""
        for link in links:
            self.prefetch_one_metadata(link)

    def prefetch_one_metadata(self, link: FileLink) -> Future[CoreMetadata | None] | None:
        """Start fetching one file's metadata in the background; its future (``None`` once closed)."""
        return self._loads.submit(self._metadata, link.url, partial(self._metadata_chain.load, link))

    def index_of(self, link: FileLink) -> str:
        """The redacted index (or find-links location) that listed ``link``, ``""`` when unknown."""
        return link.index_url if isinstance(link, IndexedLink) else ""

    def close(self) -> None:
        """Wait for running prefetches, drop queued ones, close the connections (and end the worker)."""
        with self._loads.lock:
            self._closing = True
        for worker in self._workers:
            worker.close()
        self._loads.shutdown()
        self._transport.close()

    def __enter__(self) -> IndexClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- the view worker ---------------------------------------------------------------------------------

    def _view_from_worker(
        self, name: NormalizedName, reader: str, build: Callable[[ProjectPage | None], bytes]
    ) -> Future[bytes] | None:
        """The view's future, asked of the worker if it builds this reader's views; ``None`` when it does not.

        The memo's future is marked running, so no caller claims it; it is settled by the worker's answer,
        or by a load here when the worker is gone.
        """
        if reader != self._worker_reader:
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

    def _serve_view(self, key: str) -> Future[bytes]:
        """In the worker: start building the view ``key`` (``reader\nname``) names."""
        reader, _, name = key.partition("\n")
        build = self._worker_build
        future = None
        if reader == self._worker_reader and build is not None:
            future = self._loads.submit(
                self._views, key, partial(self._load_view, canonicalize_name(name), reader, build)
            )
        if future is None:
            future = Future()
            future.set_exception(WorkerGone(f"the worker does not build {reader!r} views"))
        return future

    def _setup_worker(self) -> None:
        """In a worker, first: fewer threads. Two workers with four each fetch as many pages at once as one
        process with eight did, and hold fewer page bodies (cold ml.txt, all processes, PSS summed: 177-186 MB
        with four, 190-198 MB with eight; as fast or faster)."""
        self._loads.pool = ThreadPoolExecutor(
            max_workers=min(self._max_connections, 4), thread_name_prefix="relax-pins-worker"
        )

    def _hurry_view(self, key: str) -> None:
        """In the worker: the parent waits for ``key``; if its load is still queued, start it in a thread of
        its own now (the queued entry then finds it claimed and does nothing)."""
        reader, _, name = key.partition("\n")
        build = self._worker_build
        with self._loads.lock:
            future = self._views.get(key)
            run = future is not None and build is not None and self._loads.claim(future)
        if run:
            assert future is not None and build is not None
            load = partial(self._load_view, canonicalize_name(name), reader, build)
            thread = threading.Thread(target=self._loads.run_into, args=(future, load), name="relax-pins-hurried")
            self._hurried.append(thread)
            thread.start()

    def _finish_worker(self) -> None:
        """In the worker, once the parent is done: finish running loads (hurried ones too, so no cache write
        is cut short by the exit), drop queued ones, close connections."""
        for thread in self._hurried:
            thread.join()
        self.close()

    def _worker_counts(self) -> dict[str, int]:
        """In the worker: the counters gained since the last answer."""
        with self._loads.lock:
            now, sent = self.stats, self._worker_sent
            delta = {
                f: getattr(now, f) - getattr(sent, f)
                for f in ClientStats.__slots__
                if getattr(now, f) != getattr(sent, f)
            }
            self._worker_sent = replace(now)
        return delta

    def _add_counts(self, counts: dict[str, int]) -> None:
        self._loads.count(**{name: amount for name, amount in counts.items() if name in ClientStats.__slots__})

    # -- views -------------------------------------------------------------------------------------------

    def _load_view(self, name: NormalizedName, reader: str, build: Callable[[ProjectPage | None], bytes]) -> bytes:
        cache, urls = self._cache, self._pages.page_urls(name)
        if cache is None or urls is None:
            return build(self.project(name))
        identity = self._pages.cached_identity(urls)
        if identity is not None:
            found = cache.get_view(f"{reader}\n{identity}")
            if found is not None:
                self._loads.count(cache_hits=1)
                return found
        # Ask for the pages project() would read, as project() would (the first index that has the project
        # wins). A body the index serves unchanged keeps its identity, and its view is still good.
        pages: list[tuple[str, CachedPage | None]] = []
        for url in urls:
            pages.append((url, self._pages.page(url)))
            if pages[-1][1] is not None:
                break
        identity = self._pages.read_identity(urls)
        found = None if identity is None else cache.get_view(f"{reader}\n{identity}")
        if found is not None:
            self._loads.count(cache_hits=1)
            return found
        url, page = pages[-1]
        if page is None:
            data = build(None)
        else:
            index = url[: -len(f"{quote(name)}/")]
            data = build(self._pages.parse(name, index, url, page, extra=(), compact=False))
        if identity is not None:
            cache.put_view(f"{reader}\n{identity}", data)
        return data
