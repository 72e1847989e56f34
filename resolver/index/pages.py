"""Project pages and find-links pages: which to ask, when a cached one is still good, and what they are.

Which. ``load_project(name)`` asks each index of :attr:`IndexSettings.urls` in order for ``<index>/<name>/``
(PEP 691 JSON preferred, PEP 503 HTML by content type) and keeps the FIRST index that has the project, so a
same-named project on an extra index cannot shadow the main one (dependency confusion); find-links files are
always merged in. ``best_across_indexes=True`` merges every index instead. ``file://`` indexes and find-links
folders are read from disk.

Down. An extra index or a find-links page (any location in ``tolerated``) that cannot be reached is noted in
:attr:`Pages.down` (location -> why) and not asked again this run; the pages are read from the other
locations, as pip does when a page cannot be fetched. What it would have served is unknown, so a caller
treats every claim of absence as unchecked. The main index is never tolerated: without it nothing is known.

When. Cached pages are used without a request while ``Cache-Control: max-age`` holds (or
:data:`HEURISTIC_FRESHNESS` when the server says nothing), then revalidated with
``If-None-Match``/``If-Modified-Since``. ``offline=True`` answers from the cache only and never opens a
socket; ``refresh=True`` ignores what is cached (and rewrites it). A 404 is cached too, so ``--offline``
can answer "not on this index".

What (page identity). A view (:meth:`resolver.index.client.IndexClient.project_view`) is keyed by the
identity of the pages it was derived from: the redacted URL and the sha256 of each cached body that
``load_project`` would read, in order, up to the first index that has the project. :meth:`Pages.cached_identity`
reads it from the cache's entry headers alone (a few hundred bytes each, no body); :meth:`Pages.read_identity`
from the bodies this run fetched. Cost: parsing a page is CPU work under the interpreter lock, so at most
``parse_slots`` pages are decoded at once (a decoded numpy page is ~7 MB of JSON in dicts).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import quote

from resolver.index.cache import CachedPage
from resolver.index.errors import IndexUnreachableError, tried
from resolver.index.lazylinks import LazyLinks
from resolver.index.simple import (
    IndexedLink,
    ProjectPage,
    parse_filename,
    parse_find_links_html,
    parse_html_page,
    parse_json_page,
    parse_json_page_entries,
)
from resolver.index.urls import local_path, redact

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from concurrent.futures import Future
    from pathlib import Path

    from packaging.utils import NormalizedName

    from resolver.index.cache import Cache
    from resolver.index.loads import Loads
    from resolver.index.simple import FileLink
    from resolver.index.transport import Transport

__all__ = ["ACCEPT", "HEURISTIC_FRESHNESS", "Pages"]

logger = logging.getLogger(__name__)

#: PEP 691 negotiation: JSON first, the HTML flavours as fallbacks.
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"

#: How long a page that says nothing about caching (no Cache-Control, no Expires, no ETag, no Last-Modified)
#: stays fresh. RFC 9111 4.2.2 lets a cache give a 200 answer heuristic freshness; without validators the
#: alternative is downloading every page again on every run (a monorepo CI job checks dozens of files in a
#: row). --refresh ignores it.
HEURISTIC_FRESHNESS = 300


#: Content type of the page digests an earlier version cached (never sent by an index): fetched again.
_OLD_DIGEST_TYPE = "application/x.relax-pins.page-digest"


class Pages:
    """The pages of the configured indexes and find-links locations (module docstring).

    ``indexes`` end in ``/`` and ``find_links`` are locations, both already stripped of credentials
    (:meth:`resolver.index.transport.Transport.register`). Thread-safe: the bodies this run read are noted
    under ``loads.lock``; the find-links listing is loaded once.
    """

    def __init__(
        self,
        transport: Transport,
        loads: Loads,
        cache: Cache | None,
        *,
        indexes: tuple[str, ...],
        find_links: tuple[str, ...],
        offline: bool,
        refresh: bool,
        best_across_indexes: bool,
        tolerated: frozenset[str] = frozenset(),
    ) -> None:
        self._transport = transport
        self._loads = loads
        self._lock = loads.lock
        self._cache = cache
        self._indexes = indexes
        self._find_links = find_links
        self._offline = offline
        self._refresh = refresh
        # Merging needs two indexes: with one, the first index that has a project is the only one (and its views
        # can be cached and its JSON pages read lazily).
        self._best = best_across_indexes and len(indexes) > 1
        # Parsing is CPU work under the GIL: running many at once gains no time, only holds many decoded pages
        # (numpy's is ~7 MB of JSON) in memory together. Fetches stay parallel; parses take turns.
        self.parse_slots = threading.Semaphore(2)
        self._links: dict[str, Future[tuple[IndexedLink, ...]]] = {}
        self._page_bodies: dict[str, str] = {}  # page URL -> sha256 of the cached body this run read, or "404"
        self._tolerated = tolerated
        #: tolerated locations that could not be reached (location -> why, redacted), in the order met
        self.down: dict[str, str] = {}

    def page_at(self, location: str, url: str) -> CachedPage | None:
        """:meth:`page`, except that a tolerated location that cannot be reached is noted in :attr:`down` and
        answers ``None`` (now and for the rest of the run)."""
        if location in self.down:
            return None
        try:
            return self.page(url)
        except IndexUnreachableError as exc:
            if location not in self._tolerated:
                raise
            self.note_down(location, f"{exc.reason} ({exc.tried.partition(',')[0]})")
            return None

    def note_down(self, location: str, why: str) -> None:
        """Note that ``location`` could not be reached (here, or in a worker process that read pages)."""
        with self._lock:
            if location in self.down:
                return
            self.down[location] = why
        logger.debug("%s could not be reached (%s); read without it", redact(location), why)

    def page(self, url: str, *, refresh: bool = False) -> CachedPage | None:
        """A page body with its validators; ``None`` for 404/410. Cache rules in the module docstring."""
        path = local_path(url)
        if path is not None:
            return self._local_page(path, url)
        cached = None if self._refresh or refresh or self._cache is None else self._cache.get_page(url)
        if cached is not None and cached.content_type == _OLD_DIGEST_TYPE:
            cached = None  # an earlier version's digest: fetch the page again
        now = time.time()
        if self._offline or (cached is not None and cached.is_fresh(now)):
            if cached is None:
                raise IndexUnreachableError(
                    "offline, and the page is not in the cache",
                    url=url,
                    tried="0 attempts (offline)",
                    hint="run once without --offline to fill the cache",
                )
            self._loads.count(cache_hits=1)
            self._remember_body(url, cached.status, cached.sha256)
            return cached if cached.status == 200 else None
        headers = {"Accept": ACCEPT}
        if cached is not None and cached.status == 200:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response = self._transport.get(url, headers=headers, ok=(200, 304, 404, 410))
        max_age, store = _freshness(response.headers)
        if response.status_code == 304 and cached is not None:
            self._loads.count(cache_hits=1)
            etag = response.headers.get("etag", cached.etag)
            page = replace(cached, fetched_at=now, max_age=max_age, etag=etag)
        elif response.status_code == 200:
            page = CachedPage(
                body=response.content,
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                fetched_at=now,
                max_age=max_age,
                final_url=redact(str(response.url)),
            )
        elif response.status_code == 304:
            raise IndexUnreachableError("HTTP 304 to an unconditional request", url=url, tried=tried(1, "304"))
        else:
            page = CachedPage(
                body=b"", content_type=None, etag=None, last_modified=None, fetched_at=now, max_age=max_age, status=404
            )
        if store and self._cache is not None:
            self._remember_body(url, page.status, self._cache.put_page(url, page))
        return page if page.status == 200 else None

    def _remember_body(self, url: str, status: int, sha256: str | None) -> None:
        """Note which cached body this run read for ``url`` (views are keyed by it); 404 pages are ``"404"``."""
        value = "404" if status != 200 else sha256
        with self._lock:
            if value is None:
                self._page_bodies.pop(url, None)
            else:
                self._page_bodies[url] = value

    def _local_page(self, path: Path, url: str) -> CachedPage | None:
        target = path / "index.html" if path.is_dir() else path
        try:
            body = target.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise IndexUnreachableError(
                f"cannot read it ({exc.strerror})", url=url, tried=tried(1, "OSError")
            ) from None
        content_type = "application/vnd.pypi.simple.v1+json" if target.suffix == ".json" else "text/html"
        return CachedPage(
            body=body,
            content_type=content_type,
            etag=None,
            last_modified=None,
            fetched_at=time.time(),
            max_age=None,
            final_url=url,
        )

    def load_project(self, name: NormalizedName) -> ProjectPage | None:
        """The project's page: the first index that has it, plus find-links files; ``None`` if nowhere."""
        extra = [link for link in self._find_links_files() if _project_of(link) == name]
        found: list[tuple[str, ProjectPage]] = []
        for index in self._indexes:
            url = f"{index}{quote(name)}/"
            page = self.page_at(index, url)
            if page is None:
                continue
            parsed = self.parse(name, index, url, page, extra=extra, compact=True)
            if isinstance(parsed.files, LazyLinks):
                return parsed  # one index's PEP 691 page, find-links files already inside
            found.append((index, parsed))
            if not self._best:
                break
        if not found and not extra:
            return None
        first = found[0][1] if found else None
        return ProjectPage(
            name=name,
            url=first.url if first else extra[0].index_url,
            files=tuple(IndexedLink.of(f, index) for index, page in found for f in page.files) + tuple(extra),
            versions=tuple(dict.fromkeys(v for _, page in found for v in page.versions)),
            warnings=tuple(w for _, page in found for w in page.warnings),
            api_version=first.api_version if first else None,
        )

    def parse(
        self, name: NormalizedName, index: str, url: str, page: CachedPage, *, extra: Sequence[FileLink], compact: bool
    ) -> ProjectPage:
        """One index's page; a PEP 691 one (outside ``best_across_indexes``) as lazy links that hold ``extra``."""
        base = page.final_url or url
        with self.parse_slots:
            if "json" in (page.content_type or "").lower() and not self._best:
                # Links are built only for the files someone reads (see resolver.index.lazylinks), and the
                # decoded page is dropped here, inside the slot, unless compact=False keeps its dicts.
                parsed, entries = parse_json_page_entries(page.body, url=base)
                files = LazyLinks(entries, url=base, index_url=index, extra=extra, compact=compact)
                del entries
                return ProjectPage(
                    name=name,
                    url=parsed.url,
                    files=files,
                    versions=parsed.versions,
                    warnings=parsed.warnings,
                    api_version=parsed.api_version,
                )
            if "json" in (page.content_type or "").lower():
                parsed = parse_json_page(page.body, url=base)
            else:
                parsed = parse_html_page(page.body, url=base, name=name)
        return replace(parsed, files=tuple(IndexedLink.of(f, index) for f in parsed.files))

    # -- page identity -----------------------------------------------------------------------------------

    def page_urls(self, name: NormalizedName) -> list[str] | None:
        """The page URLs :meth:`load_project` reads for ``name``, in order; ``None`` when views are not cached
        (find-links files merge in, every index counts, local pages, --refresh, no cache)."""
        if self._cache is None or self._best or self._find_links or self._refresh:
            return None
        urls = [f"{index}{quote(name)}/" for index in self._indexes]
        return None if any(local_path(url) is not None for url in urls) else urls

    def _identity(self, urls: Sequence[str], body: Callable[[str], str | None]) -> str | None:
        parts: list[str] = []
        for url in urls:
            found = body(url)
            if found is None:
                return None
            parts.append(f"{redact(url)} {found}")
            if found != "404":  # load_project() stops at the first index that has the project
                break
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def cached_identity(self, urls: Sequence[str]) -> str | None:
        """The identity of the pages in the cache, when every one load_project() would read is fresh there."""
        cache, now = self._cache, time.time()
        if cache is None:
            return None

        def body(url: str) -> str | None:
            found = cache.page_header(url)
            if found is None or not (self._offline or found[0].is_fresh(now)):
                return None
            if found[0].content_type == _OLD_DIGEST_TYPE:
                return None
            return "404" if found[0].status != 200 else found[1]

        return self._identity(urls, body)

    def read_identity(self, urls: Sequence[str]) -> str | None:
        """The identity of the page bodies this run read and cached, ``None`` if any was not."""
        with self._lock:
            bodies = dict(self._page_bodies)
        return self._identity(urls, bodies.get)

    # -- find-links --------------------------------------------------------------------------------------

    def _find_links_files(self) -> tuple[IndexedLink, ...]:
        if not self._find_links:
            return ()
        return self._loads.once(self._links, "", self._load_find_links)

    def _load_find_links(self) -> tuple[IndexedLink, ...]:
        """Every distribution in the find-links locations: folders are listed, pages parsed."""
        links: list[IndexedLink] = []
        for location in self._find_links:
            path = local_path(location)
            if path is not None and path.is_dir():
                for entry in sorted(path.iterdir()):
                    if entry.is_file() and parse_filename(entry.name) is not None:
                        uri = entry.resolve().as_uri()
                        links.append(IndexedLink(filename=entry.name, url=uri, index_url=redact(location)))
                continue
            if path is None:
                if location in self.down:
                    continue
                page = self.page_at(location, location)
                if page is None and location in self.down:
                    continue
            else:
                page = self._local_page(path, path.resolve().as_uri())
            if page is None:
                logger.warning("find-links location %s was not found; ignored", redact(location))
                continue
            parsed = parse_find_links_html(page.body, url=page.final_url or location)
            links.extend(IndexedLink.of(f, location) for f in parsed.files)
        return tuple(links)


def _freshness(headers: Mapping[str, str]) -> tuple[int | None, bool]:
    """``(max_age, may_store)`` from ``Cache-Control``, or :data:`HEURISTIC_FRESHNESS` when nothing is said."""
    if not any(h in headers for h in ("cache-control", "expires", "etag", "last-modified")):
        return HEURISTIC_FRESHNESS, True
    directives = {}
    for item in headers.get("cache-control", "").lower().split(","):
        key, _, value = item.strip().partition("=")
        directives[key] = value.strip('"')
    if "no-store" in directives:
        return None, False
    if "no-cache" in directives:
        return None, True
    try:
        return max(0, int(directives["max-age"])), True
    except (KeyError, ValueError):
        return None, True


def _project_of(link: FileLink) -> str | None:
    parsed = parse_filename(link.filename)
    return parsed.name if parsed else None
