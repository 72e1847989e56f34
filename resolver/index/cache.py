"""The on-disk cache of index pages and core metadata: bytes in, bytes out, atomic writes.

Layout under the root (see :func:`default_cache_dir`)::

    pages/<ab>/<sha256 of the redacted page URL>      a page body with its validators (ETag, Last-Modified)
    metadata/<ab>/<sha256 of the key>                  a METADATA body, keyed by the distribution's hash
    views/<ab>/<sha256 of the key>                     what a reader derived from one page body for one
                                                       target, keyed by that body's sha256 (immutable)

Entry names are hashes of the *redacted* URL or key, so no credential reaches a path. Each entry is
``MAGIC | 4-byte header length | JSON header | body``; the header holds the key, the body's length and its
sha256, so a truncated, garbage or foreign entry is detected on read, dropped with a logging warning and
reported as a miss (the caller refetches); reading never raises.

Writes go to a private temporary file in the same folder, then ``os.replace`` it over the entry: readers
see the old entry or the new one, never half of either, so several processes (8 ``relax-pins`` runs in a
CI matrix) can share one cache without locks. Writers racing on one entry each write whole bytes, and the
last rename wins. Writes are best effort: a full or read-only disk logs a warning and the run goes on.
No fsync: after a power cut an entry may be empty, which the checksum catches. Cost per read: one file read
and one sha256 of the body; per write: one temporary file and one rename. Nothing is ever evicted (pages are
revalidated, metadata keyed by file hash is immutable); delete the folder to reclaim space.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import struct
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resolver.index.urls import redact

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Cache", "CachedPage", "default_cache_dir"]

logger = logging.getLogger(__name__)

_MAGIC = b"RLXPC\x01\r\n"
_LENGTH = struct.Struct(">I")
#: A header longer than this is garbage, not a header.
_MAX_HEADER = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedPage:
    """A page as fetched: body and validators, when (``time.time()``) and for how long it stays fresh.

    ``max_age`` is the ``Cache-Control: max-age`` in seconds (``None``: always revalidate). ``status`` is
    200, or 404 for a remembered "not on this index" (lets ``--offline`` answer it). ``final_url`` is the
    redacted URL after redirects, the base that relative links resolve against.
    """

    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: float
    max_age: int | None
    status: int = 200
    final_url: str | None = None
    #: The stored body's sha256 when the page came out of the cache (not itself stored in the header).
    sha256: str | None = field(default=None, compare=False)

    def is_fresh(self, now: float) -> bool:
        """Whether the page may be used without asking the server again."""
        return self.max_age is not None and now < self.fetched_at + self.max_age


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$RELAX_PINS_CACHE_DIR``, else ``$XDG_CACHE_HOME/relax-pins``, else ``~/.cache/relax-pins``."""
    env = os.environ if env is None else env
    if env.get("RELAX_PINS_CACHE_DIR"):
        return Path(env["RELAX_PINS_CACHE_DIR"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "relax-pins"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".cache" / "relax-pins"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _decode(raw: bytes, key: str) -> tuple[dict[str, Any], bytes, str | None]:
    """``(header, body, None)`` for a sound entry of ``key``, else ``({}, b"", what is wrong)``."""
    start = len(_MAGIC) + _LENGTH.size
    if not raw.startswith(_MAGIC) or len(raw) < start:
        return {}, b"", "it does not start with the cache header"
    (length,) = _LENGTH.unpack_from(raw, len(_MAGIC))
    if length > _MAX_HEADER or start + length > len(raw):
        return {}, b"", "its header is cut or too long"
    try:
        header = json.loads(raw[start : start + length])
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    body = raw[start + length :]
    if not isinstance(header, dict):
        return {}, b"", "its header is not readable"
    checks = (
        (header.get("key") == key, "it belongs to another key"),
        (header.get("size") == len(body), "its body is truncated"),
        (header.get("sha256") == hashlib.sha256(body).hexdigest(), "its checksum does not match"),
    )
    problem = next((message for passed, message in checks if not passed), None)
    return (header, body, None) if problem is None else ({}, b"", problem)


def _page_of(header: Mapping[str, Any], body: bytes) -> CachedPage | None:
    """The page an entry's header describes, with ``body``; ``None`` when its fields are unreadable."""
    try:
        fields = header["page"]
        return CachedPage(
            body=body,
            content_type=fields["content_type"],
            etag=fields["etag"],
            last_modified=fields["last_modified"],
            fetched_at=float(fields["fetched_at"]),
            max_age=None if fields["max_age"] is None else int(fields["max_age"]),
            status=int(fields["status"]),
            final_url=fields["final_url"],
            sha256=header["sha256"],
        )
    except (KeyError, TypeError, ValueError):
        return None


class Cache:
    """Pages and metadata on disk under ``root`` (created on the first write, mode 0700).

    Thread- and process-safe by construction (atomic renames, no shared state in memory).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- pages -------------------------------------------------------------------------------------------

    def get_page(self, url: str) -> CachedPage | None:
        """The cached page for ``url`` (credentials in it are ignored), ``None`` on a miss or a bad entry."""
        key = redact(url)
        found = self._read(self._path("pages", key), key)
        if found is None:
            return None
        header, body = found
        page = _page_of(header, body)
        if page is None:
            self._drop(self._path("pages", key), "its page fields are unreadable")
        return page

    def page_header(self, url: str) -> tuple[CachedPage, str] | None:
        """The cached page for ``url`` WITHOUT its body (``body=b""``), and the body's sha256; ``None`` on a miss.

        Reads only the entry's header (a few hundred bytes): enough to tell whether the page is fresh and to
        key what was derived from its body (:meth:`get_view`). The body itself is not checked here; whoever
        reads it later through :meth:`get_page` is.
        """
        key = redact(url)
        header = self._read_header(self._path("pages", key), key)
        page = None if header is None else _page_of(header, b"")
        return (page, page.sha256) if page is not None and isinstance(page.sha256, str) else None

    def put_page(self, url: str, page: CachedPage) -> str | None:
        """Store ``page`` for ``url``, replacing any entry atomically; the body's sha256, ``None`` if not stored."""
        key = redact(url)
        fields = asdict(page)
        del fields["body"], fields["sha256"]
        return self._write(self._path("pages", key), {"key": key, "page": fields}, page.body)

    # -- metadata ----------------------------------------------------------------------------------------

    def get_metadata(self, key: str) -> bytes | None:
        """The metadata stored under ``key`` (``sha256:<hex>`` of the file, or a URL hash), else ``None``."""
        found = self._read(self._path("metadata", key), key)
        return None if found is None else found[1]

    def put_metadata(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; an empty body is a valid entry (callers use it for "unknowable")."""
        self._write(self._path("metadata", key), {"key": key}, data)

    # -- views -------------------------------------------------------------------------------------------

    def get_view(self, key: str) -> bytes | None:
        """The view stored under ``key`` (which names the page body's sha256 and the reader), else ``None``."""
        found = self._read(self._path("views", key), key)
        return None if found is None else found[1]

    def has_view(self, key: str) -> bool:
        """Whether a view is stored under ``key`` (not read, so not checked: :meth:`get_view` is)."""
        return self._path("views", key).is_file()

    def put_view(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any entry atomically."""
        self._write(self._path("views", key), {"key": key}, data)

    # -- plumbing ----------------------------------------------------------------------------------------

    def _path(self, kind: str, key: str) -> Path:
        digest = _digest(key)
        return self.root / kind / digest[:2] / digest

    def _read(self, path: Path, key: str) -> tuple[dict[str, Any], bytes] | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("cache entry %s could not be read (%s); ignoring it", path.name, exc.strerror)
            return None
        header, body, problem = _decode(raw, key)
        if problem is not None:
            self._drop(path, problem)
            return None
        return header, body

    def _read_header(self, path: Path, key: str) -> dict[str, Any] | None:
        """The header of an entry of ``key``, reading only its first bytes; ``None`` when absent or unsound."""
        start = len(_MAGIC) + _LENGTH.size
        try:
            with path.open("rb") as handle:
                head = handle.read(start)
                if len(head) < start or not head.startswith(_MAGIC):
                    return None
                (length,) = _LENGTH.unpack_from(head, len(_MAGIC))
                raw = handle.read(length) if length <= _MAX_HEADER else b""
        except OSError:
            return None
        try:
            header = json.loads(raw) if len(raw) == length else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            header = None
        return header if isinstance(header, dict) and header.get("key") == key else None

    def _drop(self, path: Path, problem: str) -> None:
        logger.warning("dropped corrupt cache entry %s: %s; it will be fetched again", path.name, problem)
        with contextlib.suppress(OSError):
            path.unlink()

    def _write(self, path: Path, header: dict[str, object], body: bytes) -> str | None:
        """Write the entry atomically; the body's sha256 when it was written, ``None`` when it could not be."""
        digest = hashlib.sha256(body).hexdigest()
        header = {**header, "size": len(body), "sha256": digest}
        encoded = json.dumps(header, sort_keys=True).encode("utf-8")
        head = _MAGIC + _LENGTH.pack(len(encoded)) + encoded  # the body is written after it, not copied to it
        temp: str | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(head)
                handle.write(body)
            Path(temp).replace(path)
            temp = None
        except OSError as exc:
            logger.warning("could not write cache entry %s (%s); continuing without it", path.name, exc)
            return None
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    Path(temp).unlink()
        return digest
