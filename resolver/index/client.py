"""The index client: the facade over the index boundary. Pages, metadata and views, each loaded once per run.

:class:`IndexClient` is what the finder, the resolver's source and the pipeline hold; it keeps the memos (one
future per page, metadata file and view) and hands the work to the parts, each in its module:

- :mod:`resolver.index.transport`: HTTP with retries, credentials per host and netrc, shared host lookups; the
  one module, with this one, allowed to import httpx (it loads with the first request, so a warm run that
  answers everything from the cache never loads the network stack: ~0.1 s of start-up);
- :mod:`resolver.index.pages`: which index pages to read, when a cached page is fresh, and page identity;
- :mod:`resolver.index.metadata_chain`: core metadata by PEP 658 file, HTTP ranges, whole file, or a static
  sdist PKG-INFO (PEP 643), the chain written in its docstring;
- :mod:`resolver.index.offload`: views built in forked worker processes, the parent's side and the worker's;
- :mod:`resolver.index.loads`: the one lock, the thread pool, the memo discipline and the counters they share;
- :mod:`resolver.index.errors` and :mod:`resolver.index.urls`: the errors, and credentials stripped or redacted.

Views. What a reader (the finder) derives from a project's page for one target is cached beside it, keyed
by the sha256 of the page body as served (:meth:`IndexClient.project_view`). A warm run with fresh pages
reads the views' few kilobytes and no page; with stale pages it downloads them again and, when the body is
the same, still decodes none. A page is decoded only to build a view that is not cached yet, and then
dropped (``LazyLinks(compact=False)``); :meth:`IndexClient.project` keeps its pages for the run.

Cost: a bounded thread pool (``max_connections``, at most 8 threads) runs prefetches; every page, metadata
file and view asked for is kept in memory for the client's life.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import quote

from packaging.utils import canonicalize_name

from resolver.index.errors import IndexUnreachableError, IntegrityError
from resolver.index.loads import ClientStats, Loads
from resolver.index.metadata_chain import METADATA_PROBE_LIMIT, MetadataChain
from resolver.index.offload import Offload, ViewWorker
from resolver.index.pages import ACCEPT, Pages
from resolver.index.simple import IndexedLink
from resolver.index.transport import Transport
from resolver.index.worker import can_fork

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from concurrent.futures import Future
    from types import TracebackType

    from packaging.utils import NormalizedName

    from resolver.index.cache import Cache, CachedPage
    from resolver.index.metadata import CoreMetadata
    from resolver.index.settings import IndexSettings
    from resolver.index.simple import FileLink, ProjectPage

__all__ = [
    "ACCEPT",
    "METADATA_PROBE_LIMIT",
    "ClientStats",
    "IndexClient",
    "IndexUnreachableError",
    "IndexedLink",
    "IntegrityError",
]


class IndexClient:
    """Fetches project pages and core metadata from the configured indexes (see the module docstring).

    Thread-safe: ``project``/``metadata`` may be called from many threads; each distinct page or file is
    fetched once per client (results and errors are memoized). ``backoff`` is the first retry's upper
    bound in seconds (tests make it tiny). ``partial=True`` reads on without an extra index or find-links
    page that cannot be reached and lists it in :attr:`down` (a check; a lock must not). Use as a context
    manager, or call :meth:`close`.
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
        partial: bool = False,
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
        indexes = tuple(self._transport.register(url).rstrip("/") + "/" for url in settings.urls)
        find_links = tuple(self._transport.register(location) for location in settings.find_links)
        main = None if settings.index_url is None else self._transport.register(settings.index_url).rstrip("/") + "/"
        # Without a main index nothing is known for sure, so nothing is tolerated (module docstring of pages).
        tolerated = frozenset() if main is None or not partial else frozenset((*indexes, *find_links)) - {main}
        self._pages = Pages(
            self._transport,
            self._loads,
            cache,
            indexes=indexes,
            find_links=find_links,
            offline=offline,
            refresh=refresh,
            best_across_indexes=best_across_indexes,
            tolerated=tolerated,
        )
        self._metadata_chain = MetadataChain(self._transport, self._loads, cache, offline=offline, refresh=refresh)
        self._projects: dict[str, Future[ProjectPage | None]] = {}
        self._metadata: dict[str, Future[CoreMetadata | None]] = {}
        self._views: dict[str, Future[bytes]] = {}
        self._offload = Offload(self._loads, self._views, self._load_view, on_down=self._pages.note_down)

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
        future = self._offload.future(key, reader, build)
        if future is not None and not future.done():
            self._offload.hurry(f"{reader}\n{key}")
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
        future = self._offload.future(key, reader, build)
        if future is None:
            future = self._loads.submit(self._views, f"{reader}\n{key}", partial(self._load_view, key, reader, build))
        return future

    def offload_views(self, reader: str, build: Callable[[ProjectPage | None], bytes]) -> bool:
        """From now on, build ``reader``'s views in forked worker processes (:mod:`resolver.index.offload`).

        Call it before anything else starts a thread: the fork happens here, and only while this process has
        one thread, on Linux, with the network allowed, and unless ``RELAX_PINS_WORKER=0``; the answer says
        whether it did. The workers fetch, decode and cache the pages and send back only the views; the
        results are the same either way, and whatever a worker cannot answer is done here.
        """
        if self._offload.started or self._offline or self._transport.opened or self._loads.closed or not can_fork():
            return False
        # The network stack (httpx, the TLS context) is loaded here, once, before the fork: the workers start
        # with it instead of each loading it while the other and this process compete for the two cores. The
        # client has opened no connection yet, so none is shared across the fork.
        self._transport.client()
        # One page decoded at a time per process: the workers share the machine's cores between them already,
        # and each decoded page is tens of MB of dicts (cold ml.txt, all processes: ~193 MB with two at a
        # time, PSS summed).
        self._pages.parse_slots = threading.Semaphore(1)
        worker = ViewWorker(
            self._loads,
            self._views,
            self._load_view,
            reader=reader,
            build=build,
            threads=min(self._max_connections, 4),
            close=self.close,
            down=lambda: dict(self._pages.down),
        )
        return self._offload.start(reader, worker)

    @property
    def offloading(self) -> bool:
        """Whether views are being built in worker processes (:meth:`offload_views`)."""
        return self._offload.offloading

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

    @property
    def down(self) -> dict[str, str]:
        """The extra indexes and find-links pages that could not be reached (location -> why, redacted): read
        without them (see :mod:`resolver.index.pages`), so what they serve is unknown."""
        with self._loads.lock:
            return dict(self._pages.down)

    def close(self, *, interrupted: bool = False) -> None:
        """Wait for running prefetches, drop queued ones, close the connections (and end the workers).
        ``interrupted`` (Ctrl-C, SIGTERM): close the connections first and wait for nothing, so a stalled
        request cannot hold the exit; its thread ends on the closed connection."""
        self._offload.close(now=interrupted)
        if interrupted:
            self._transport.close()
            self._loads.shutdown(wait=False)
            return
        self._loads.shutdown()
        self._transport.close()

    def __enter__(self) -> IndexClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(interrupted=exc_type is not None and issubclass(exc_type, KeyboardInterrupt))

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
            index = url[: -len(f"{quote(name)}/")]
            pages.append((url, self._pages.page_at(index, url)))
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
