"""Core metadata of one file, by the cheapest source that has it; never running package code.

The chain, each step falling through to the next:

1. PEP 658/714 ``<file>.metadata`` when the page advertises it (its advertised hash is checked:
   :class:`IntegrityError` on mismatch); when not advertised it is still tried, until one host has answered
   404 :data:`METADATA_PROBE_LIMIT` times, then no more for that host (a round trip saved per file);
2. for wheels, HTTP ranges: one suffix request for the last 64 KiB (the central directory, usually the
   METADATA member too), at most one more for the member; a server ignoring ``Range`` (200) gives the whole
   wheel, a wrong ``Content-Range`` or bytes that do not parse fall through to
3. downloading the whole wheel, its sha256 checked against the index (:class:`IntegrityError`);
4. for sdists, the ``.metadata`` file, else the sdist downloaded and ``PKG-INFO`` read from the archive in
   memory (never extracted, never built); trusted only when static by PEP 643, else ``None``.

Local files (``file:`` URLs and find-links folders) are read from disk: a ``.metadata`` sibling, else the
file. Results are cached by the file's sha256 (immutable), else by a hash of the redacted URL; an empty entry
remembers "only a build could tell". Cost: one to three requests per wheel, usually one; whole-file fallbacks
hold the file in memory; the zip and tar readers are imported only when a step needs them.
"""

from __future__ import annotations

import hashlib
import logging
import re
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from resolver.index.errors import ContentError, IndexUnreachableError, IntegrityError, tried
from resolver.index.metadata import (
    CoreMetadata,
    MetadataError,
    ZipFormatError,
    entry_span,
    find_eocd,
    find_metadata_entry,
    is_static_sdist_metadata,
    parse_central_directory,
    parse_metadata,
    read_entry,
    wheel_metadata,
)
from resolver.index.simple import IndexFormatError, parse_filename
from resolver.index.urls import local_path, redact

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from resolver.index.cache import Cache
    from resolver.index.loads import Loads
    from resolver.index.simple import FileLink
    from resolver.index.transport import Response, Transport

__all__ = ["METADATA_PROBE_LIMIT", "TAIL_BYTES", "WHEEL_LIMIT", "MetadataChain"]

#: The largest whole wheel or sdist read into memory when range requests fail (torch's CUDA wheels are
#: under 1 GiB; a larger answer is refused rather than held in memory).
WHEEL_LIMIT = 4 * 1024 * 1024 * 1024

logger = logging.getLogger(__name__)

#: After this many 404s for unadvertised ``.metadata`` files, a host is not asked for them again.
METADATA_PROBE_LIMIT = 3
#: The suffix range fetched first: holds the central directory of nearly every wheel.
TAIL_BYTES = 64 * 1024
_MAX_PKG_INFO = 4 * 1024 * 1024
_IDENTITY = {"Accept-Encoding": "identity"}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class MetadataChain:
    """Runs the chain (module docstring) for one file at a time; :class:`resolver.index.client.IndexClient`
    memoizes the answers. Thread-safe: the per-host probe counts are kept under ``loads.lock``."""

    def __init__(
        self, transport: Transport, loads: Loads, cache: Cache | None, *, offline: bool, refresh: bool
    ) -> None:
        self._transport = transport
        self._loads = loads
        self._lock = loads.lock
        self._cache = cache
        self._offline = offline
        self._refresh = refresh
        self._metadata_misses: dict[str, int] = {}

    def load(self, link: FileLink) -> CoreMetadata | None:
        """The core metadata of ``link``: cached, else by the chain; ``None`` when only a build could tell."""
        parsed = parse_filename(link.filename)
        if parsed is None:
            return None
        key = _metadata_key(link)
        cached = None if self._refresh or self._cache is None else self._cache.get_metadata(key)
        if cached is not None:
            try:
                result = parse_metadata(cached) if cached else None
            except MetadataError:
                logger.warning("cached metadata of %s is unreadable; fetching it again", link.filename)
            else:
                self._loads.count(cache_hits=1)
                return result
        if self._offline and local_path(link.url) is None:
            raise IndexUnreachableError(
                "offline, and its metadata is not in the cache",
                url=link.url,
                tried="0 attempts (offline)",
                hint="run once without --offline to fill the cache",
            )
        data = self._metadata_file(link)
        if data is None:
            data = self._wheel_metadata(link, parsed.name) if parsed.kind == "wheel" else self._sdist_metadata(link)
        result = None
        if data:
            try:
                result = parse_metadata(data)
            except MetadataError as exc:  # what the index serves cannot be used: exit 4, naming the file
                raise ContentError(
                    exc.message, url=link.url, expected="usable core metadata", actual=exc.message
                ) from None
            if parsed.kind == "wheel":
                _check_identity(result, parsed.name, parsed.version, link)
            if parsed.kind == "sdist" and not is_static_sdist_metadata(result):
                data, result = b"", None
        if self._cache is not None:
            self._cache.put_metadata(key, data)
        return result

    def _metadata_file(self, link: FileLink) -> bytes | None:
        """The PEP 658 ``.metadata`` body, or ``None`` when not served (step 1 of the chain)."""
        advertised = link.has_metadata
        path = local_path(link.url)
        if path is not None:
            sibling = path.with_name(path.name + ".metadata")
            data = sibling.read_bytes() if sibling.is_file() else None
        else:
            host = urlsplit(link.url).netloc
            with self._lock:
                if not advertised and self._metadata_misses.get(host, 0) >= METADATA_PROBE_LIMIT:
                    return None
            # S3-style hosts answer 403 for a missing object: for an unadvertised probe that means "absent".
            response = self._transport.get(
                link.metadata_url, ok=(200, 404, 410) if advertised else (200, 403, 404, 410)
            )
            data = response.content if response.status_code == 200 else None
            if data is None and not advertised:
                with self._lock:
                    self._metadata_misses[host] = self._metadata_misses.get(host, 0) + 1
        if data is not None and advertised:
            _check_hashes(data, link.metadata_hashes, url=link.metadata_url, what="metadata file")
        return data

    def _read_local(self, link: FileLink) -> bytes | None:
        path = local_path(link.url)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise IndexUnreachableError(
                f"cannot read it ({exc.strerror})", url=link.url, tried=tried(1, "OSError")
            ) from None

    def _download(self, link: FileLink) -> bytes:
        response = self._transport.get(link.url, headers=_IDENTITY, ok=(200, 404, 410), limit=WHEEL_LIMIT)
        if response.status_code != 200:
            raise _not_found(link.url)
        self._loads.count(whole_downloads=1)
        return response.content

    def _wheel_metadata(self, link: FileLink, project: str) -> bytes:
        """METADATA by range requests, else from the whole wheel (hash checked)."""
        data = self._read_local(link)
        if data is None:
            try:
                return self._ranged_metadata(link, project)
            except _Fallback as fallback:
                logger.debug("ranges of %s did not work (%s); reading the whole wheel", redact(link.url), fallback)
                if fallback.body is not None:
                    self._loads.count(whole_downloads=1)
                data = fallback.body if fallback.body is not None else self._download(link)
        _check_hashes(data, link.hashes, url=link.url, what="wheel")
        try:
            return wheel_metadata(data, project=project)
        except ZipFormatError as exc:  # the bytes the index serves (and, where it gives one, their hash)
            raise ContentError(
                f"the wheel cannot be trusted: {exc.message}",
                url=link.url,
                expected="a readable wheel",
                actual=exc.message,
            ) from None

    def _range(self, url: str, first: int, last: int) -> bytes:
        response = self._transport.get(
            url,
            headers={"Range": f"bytes={first}-{last}", **_IDENTITY},
            ok=(200, 206, 404, 410, 416),
            limit=WHEEL_LIMIT,  # a server that ignores Range sends the whole file
        )
        self._loads.count(range_requests=1)
        if response.status_code == 200:
            raise _Fallback("the server ignored Range", response.content)
        if response.status_code in (404, 410):
            raise _not_found(url)
        span = _content_range(response)
        if span is None or span[:2] != (first, last):
            raise _Fallback(f"a wrong answer to bytes={first}-{last}")
        return response.content

    def _ranged_metadata(self, link: FileLink, project: str) -> bytes:
        response = self._transport.get(
            link.url,
            headers={"Range": f"bytes=-{TAIL_BYTES}", **_IDENTITY},
            ok=(200, 206, 404, 410, 416),
            limit=WHEEL_LIMIT,  # a server that ignores Range sends the whole file
        )
        self._loads.count(range_requests=1)
        if response.status_code == 200:
            raise _Fallback("the server ignored Range", response.content)
        if response.status_code in (404, 410):
            raise _not_found(link.url)
        span = _content_range(response)
        if span is None or span[1] != span[2] - 1 or span[0] != max(0, span[2] - TAIL_BYTES):
            raise _Fallback("a wrong answer to the suffix range")
        try:
            return _zip_metadata(partial(self._range, link.url), response.content, span[2], project)
        except ZipFormatError as exc:
            raise _Fallback(f"the ranges do not read as a zip: {exc.message}") from None

    def _sdist_metadata(self, link: FileLink) -> bytes:
        """PKG-INFO read from the sdist in memory; ``b""`` when it has none."""
        data = self._read_local(link)
        if data is None:
            data = self._download(link)
        _check_hashes(data, link.hashes, url=link.url, what="sdist")
        return _pkg_info(data, link.filename, link.url) or b""


class _Fallback(Exception):
    """Range requests cannot give the METADATA; ``body`` is the whole file when the server sent it."""

    def __init__(self, reason: str, body: bytes | None = None) -> None:
        super().__init__(reason)
        self.body = body


def _not_found(url: str) -> IndexUnreachableError:
    return IndexUnreachableError("the index lists this file but does not serve it", url=url, tried=tried(1, "HTTP 404"))


def _check_identity(md: CoreMetadata, name: str, version: Version, link: FileLink) -> None:
    """A wheel's METADATA must name the project and version of its filename (normalised, as pip compares
    them): a wheel ``mismatch-1.0.0-...whl`` whose METADATA says ``evilname 9.9.9`` would otherwise bring the
    requirements of another project into the resolution and the lock."""
    said = f"{md.name} {md.version}"
    wanted = f"{name} {version}"
    try:
        same = canonicalize_name(md.name) == canonicalize_name(name) and Version(md.version) == version
    except InvalidVersion:
        same = False
    if not same:
        raise ContentError(
            f"its METADATA says {said!r}, its filename {wanted!r}: the wheel cannot be trusted",
            url=link.url,
            expected=wanted,
            actual=said,
        )


def _check_hashes(data: bytes, hashes: Iterable[tuple[str, str]], *, url: str, what: str) -> None:
    """Compare ``data`` with the strongest known advertised hash (sha256 first); no hash, no check."""
    for name, expected in sorted(hashes, key=lambda item: item[0] != "sha256"):
        if name in hashlib.algorithms_guaranteed:
            actual = hashlib.new(name, data).hexdigest()
            if actual != expected.lower():
                raise IntegrityError(url=url, expected=f"{name}:{expected}", actual=f"{name}:{actual}", what=what)
            return


def _content_range(response: Response) -> tuple[int, int, int] | None:
    """``(first, last, total)`` of a 206 answer whose header agrees with its body, else ``None``."""
    match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
    if response.status_code != 206 or match is None:
        return None
    first, last, total = (int(group) for group in match.groups())
    if last < first or last >= total or len(response.content) != last - first + 1:
        return None
    return first, last, total


def _zip_metadata(fetch: Callable[[int, int], bytes], tail: bytes, size: int, project: str) -> bytes:
    """METADATA of a ``size``-byte wheel whose last bytes are ``tail``; ``fetch(first, last)`` reads more."""
    start = size - len(tail)
    try:
        end = find_eocd(tail, file_size=size)
    except ZipFormatError as exc:
        if exc.needed_from is None or exc.needed_from >= start:
            raise
        tail, start = fetch(exc.needed_from, start - 1) + tail, exc.needed_from
        end = find_eocd(tail, file_size=size)
    if end.central_dir_offset < start:
        tail, start = fetch(end.central_dir_offset, start - 1) + tail, end.central_dir_offset
    offset = end.central_dir_offset - start
    directory = tail[offset : offset + end.central_dir_size]
    entries = parse_central_directory(directory, expected_entries=end.entries)
    entry = find_metadata_entry(entries, project=project)
    first, stop = entry_span(entry, entries, end.central_dir_offset)
    record = tail[first - start : stop - start] if first >= start else fetch(first, stop - 1)
    return read_entry(entry, record)


def _is_top_pkg_info(name: str) -> bool:
    parts = name.removeprefix("./").split("/")
    return len(parts) == 2 and parts[1] == "PKG-INFO"


def _pkg_info(data: bytes, filename: str, url: str) -> bytes | None:
    """The top-level PKG-INFO of an sdist held in memory (tar or zip), ``None`` when it has none."""
    import io  # lazily: only sdists are read this way
    import tarfile
    import zipfile
    import zlib

    try:
        if filename.lower().endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    if _is_top_pkg_info(info.filename) and info.file_size <= _MAX_PKG_INFO:
                        return archive.read(info)
            return None
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                if member.isfile() and _is_top_pkg_info(member.name) and member.size <= _MAX_PKG_INFO:
                    handle = tar.extractfile(member)
                    return handle.read() if handle is not None else None
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise IndexFormatError(f"the sdist cannot be read: {exc}", url=redact(url)) from None
    return None


def _metadata_key(link: FileLink) -> str:
    digest = link.hash("sha256")
    if digest:
        return f"sha256:{digest}"
    return "url:" + hashlib.sha256(redact(link.url).encode()).hexdigest()
