"""Parse simple-repository pages (PEP 691 JSON, PEP 503 HTML) into wire types, leniently. PURE: no I/O.

What is read:

- JSON (PEP 691, with PEP 700's ``versions``/``size``/``upload-time`` and PEP 714's ``core-metadata``
  falling back to ``data-dist-info-metadata``). ``meta.api-version`` must have major version 1; a page
  that is not a JSON object, or has no ``files`` list, is an :class:`IndexFormatError`.
- HTML (PEP 503, with PEP 592 ``data-yanked``, ``data-requires-python``, PEP 658/714
  ``data-core-metadata``/``data-dist-info-metadata`` and the ``pypi:repository-version`` meta tag).
  Hrefs are resolved against the first ``<base href>`` or else the page URL; attribute values are
  HTML-unescaped; hash fragments (``#sha256=...``) become ``hashes`` and are stripped from the URL.

One bad file entry never fails a page: it is skipped or its bad field dropped, and a sentence goes into
``warnings``. Parsing is linear in the page size; the HTML parser is the stdlib's, which tolerates the
malformed markup real mirrors serve. Not supported: PEP 708 tracks/alternate-locations, GPG signatures.

Wire types mirror the page (yanked reason, metadata availability as served); :func:`parse_filename` is the
first domain step, turning a filename into name, version, kind, tags and build tag, or ``None``.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from packaging.utils import (
    BuildTag,
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from resolver.errors import RelaxPinsError
from resolver.index.urls import redact

if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = [
    "FileLink",
    "FindLinksPage",
    "IndexFormatError",
    "IndexedLink",
    "ParsedFilename",
    "ProjectPage",
    "json_file_link",
    "parse_filename",
    "parse_find_links_html",
    "parse_html_page",
    "parse_json_page",
    "parse_json_page_entries",
]

Hashes = tuple[tuple[str, str], ...]

#: Hash names pip accepts in fragments and ``hashes`` (hashlib's guaranteed set, minus the odd ones out).
_HASH_NAMES = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"})
_HASH_FRAGMENT = re.compile(r"([a-z0-9]+)=([0-9a-fA-F]+)")
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar")


class IndexFormatError(RelaxPinsError, ValueError):
    """What an index served cannot be read at all (not JSON, wrong API major version, a broken archive).

    ``url`` says where it came from, when known. Per-entry problems are warnings on the page instead.
    """

    def __init__(self, message: str, *, url: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.url}: {self.message}" if self.url else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class FileLink:
    """One file as a page lists it.

    ``url`` is absolute and without fragment. ``yanked``: ``None`` not yanked, ``""`` yanked without a
    reason, else the reason. ``core_metadata``: ``False`` (not advertised), ``True`` (advertised without a
    hash) or the advertised hashes. ``hashes`` names are lower-case, values lower-case hex.
    """

    filename: str
    url: str
    hashes: Hashes = ()
    requires_python: str | None = None
    yanked: str | None = None
    core_metadata: bool | Hashes = False
    size: int | None = None
    upload_time: str | None = None

    @property
    def is_yanked(self) -> bool:
        """Whether the index yanked this file (PEP 592)."""
        return self.yanked is not None

    @property
    def has_metadata(self) -> bool:
        """Whether the page advertises a PEP 658 ``.metadata`` file."""
        return self.core_metadata is not False

    @property
    def metadata_url(self) -> str:
        """Where the PEP 658 metadata lives (meaningful only when :attr:`has_metadata`)."""
        return self.url + ".metadata"

    @property
    def metadata_hashes(self) -> Hashes:
        """The advertised hashes of the ``.metadata`` file, empty when none were given."""
        return self.core_metadata if isinstance(self.core_metadata, tuple) else ()

    def hash(self, name: str = "sha256") -> str | None:
        """The advertised digest of the file for hash ``name``, if any."""
        return dict(self.hashes).get(name)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexedLink(FileLink):
    """A :class:`FileLink` that remembers which index or find-links location listed it (redacted)."""

    index_url: str = ""

    @classmethod
    def of(cls, link: FileLink, index_url: str) -> IndexedLink:
        """``link`` tagged with ``index_url``."""
        return cls(
            filename=link.filename,
            url=link.url,
            hashes=link.hashes,
            requires_python=link.requires_python,
            yanked=link.yanked,
            core_metadata=link.core_metadata,
            size=link.size,
            upload_time=link.upload_time,
            index_url=redact(index_url),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectPage:
    """A project page as served: ``versions`` is PEP 700's list (JSON 1.1+ only, else empty).

    ``files`` is a tuple, or a :class:`~resolver.index.lazylinks.LazyLinks` when the client builds links on
    demand (``parse_json_page(..., lazy=True)``): read it as a sequence.
    """

    name: NormalizedName
    url: str
    files: Sequence[FileLink]
    versions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    api_version: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FindLinksPage:
    """The distribution links of a find-links HTML page (other links are dropped silently)."""

    url: str
    files: tuple[FileLink, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFilename:
    """What a distribution filename says. ``tags`` is ``None`` for sdists; ``build`` is ``()`` if absent."""

    name: NormalizedName
    version: Version
    kind: Literal["wheel", "sdist"]
    tags: frozenset[Tag] | None
    build: BuildTag


_HEX = re.compile(r"[0-9a-fA-F]+")
_SDIST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def parse_filename(filename: str) -> ParsedFilename | None:
    """Name, version, kind, tags and build tag of a wheel or sdist filename; ``None`` when invalid.

    Wheels go through :func:`packaging.utils.parse_wheel_filename`, so names are normalized and a bad
    build tag (``xformers-...-manylinux2014_x86_64-pytorch2.whl``) or version gives ``None``. Sdists
    accept the legacy suffixes pip still lists (``.tar.bz2``, ``.tgz``...) and split at the last ``-``.
    """
    if filename.endswith(".whl"):
        try:
            name, version, build, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            return None
        return ParsedFilename(name=name, version=version, kind="wheel", tags=tags, build=build)
    lowered = filename.lower()
    for suffix in _SDIST_SUFFIXES:
        if lowered.endswith(suffix):
            stem = filename[: -len(suffix)]
            break
    else:
        return None
    raw_name, dash, raw_version = stem.rpartition("-")
    if not dash or not raw_name or not _SDIST_NAME.fullmatch(raw_name):
        return None
    try:
        version = Version(raw_version)
    except (InvalidVersion, InvalidSdistFilename):
        return None
    return ParsedFilename(name=canonicalize_name(raw_name), version=version, kind="sdist", tags=None, build=())


def _resolve(base: str, href: str) -> tuple[str, Hashes] | None:
    """The absolute URL without fragment and the hash the fragment carries (``#sha256=...``), if any.

    ``None`` for an href that is not a URL at all (``http://[::1`` makes urlsplit raise ValueError).
    An absolute ``https://`` or ``http://`` href without fragment, what JSON pages serve for every file, is
    taken as it is: joining and splitting tens of thousands of such URLs was a third of a page's parse time.
    """
    if href.startswith(("https://", "http://")) and "#" not in href and href == href.strip():
        return href, ()
    try:
        parts = urlsplit(urljoin(base, href.strip()))
    except ValueError:
        return None
    hashes: Hashes = ()
    match = _HASH_FRAGMENT.fullmatch(parts.fragment)
    if match and match[1].lower() in _HASH_NAMES:
        hashes = ((match[1].lower(), match[2].lower()),)
    return urlunsplit(parts._replace(fragment="")), hashes


def _filename_of(url: str) -> str:
    return unquote(posixpath.basename(urlsplit(url).path))


def _name_from_url(url: str) -> NormalizedName:
    """``/simple/Foo/`` -> ``foo``: the last non-empty path segment, normalized."""
    segments = [s for s in urlsplit(url).path.split("/") if s and s != "index.html"]
    return canonicalize_name(unquote(segments[-1]) if segments else "")


def _check_api_version(version: object, url: str, warnings: list[str]) -> str | None:
    if version is None:
        warnings.append("the page does not state meta.api-version")
        return None
    text = str(version)
    major = text.split(".", 1)[0]
    if major != "1":
        raise IndexFormatError(
            f"unsupported simple API version {text}", url=url, hint="relax-pins reads API version 1.x"
        )
    return text


def _parse_hash_value(value: str, what: str, warnings: list[str]) -> Hashes | None:
    """``sha256=abc`` -> hashes; ``None`` (with a warning) when it is not a supported hash."""
    match = _HASH_FRAGMENT.fullmatch(value.strip())
    if match and match[1].lower() in _HASH_NAMES:
        return ((match[1].lower(), match[2].lower()),)
    warnings.append(f"{what}: ignored unrecognized metadata value {value!r}")
    return None


def _json_hashes(value: object, what: str, warnings: list[str]) -> Hashes:
    if value is None:
        return ()
    if not isinstance(value, dict):
        warnings.append(f"{what}: hashes is not an object")
        return ()
    out = []
    for key, digest in value.items():
        if isinstance(key, str) and isinstance(digest, str) and _HEX.fullmatch(digest):
            out.append((key.lower(), digest.lower()))
        else:
            warnings.append(f"{what}: ignored hash {key!r}")
    return tuple(sorted(out))


def _json_core_metadata(entry: dict[str, object], what: str, warnings: list[str]) -> bool | Hashes:
    value = entry.get("core-metadata", entry.get("data-dist-info-metadata", False))
    if isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return _json_hashes(value, what, warnings) or True
    warnings.append(f"{what}: ignored core-metadata value {value!r}")
    return False


def json_file_link(entry: object, index: int, url: str, warnings: list[str]) -> FileLink | None:
    """One entry of a PEP 691 ``files`` list as a link, ``None`` (with a warning) when it has no usable URL."""
    if not isinstance(entry, dict):
        warnings.append(f"files[{index}]: not an object, skipped")
        return None
    href = entry.get("url")
    if not isinstance(href, str) or not href:
        warnings.append(f"files[{index}]: no url, skipped")
        return None
    resolved = _resolve(url, href)
    if resolved is None:
        warnings.append(f"files[{index}]: url {href!r} is not a URL, skipped")
        return None
    absolute, fragment_hashes = resolved
    filename = entry.get("filename")
    if not isinstance(filename, str) or not filename:
        filename = _filename_of(absolute)
        warnings.append(f"files[{index}]: no filename, took {filename!r} from the url")
    what = f"files[{index}] ({filename})"
    hashes = _json_hashes(entry.get("hashes"), what, warnings) or fragment_hashes
    requires_python = entry.get("requires-python")
    if requires_python is not None and not isinstance(requires_python, str):
        warnings.append(f"{what}: requires-python is not a string, ignored")
        requires_python = None
    yanked_value = entry.get("yanked", False)
    yanked: str | None
    if isinstance(yanked_value, str):
        yanked = yanked_value or None  # PEP 691: a truthy value means yanked; "" is not truthy
    elif yanked_value is True:
        yanked = ""
    elif yanked_value is False or yanked_value is None:
        yanked = None
    else:
        warnings.append(f"{what}: yanked is {yanked_value!r}, taken as yanked")
        yanked = "" if yanked_value else None
    size = entry.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        warnings.append(f"{what}: size {size!r} ignored")
        size = None
    upload_time = entry.get("upload-time")
    if upload_time is not None and not isinstance(upload_time, str):
        warnings.append(f"{what}: upload-time {upload_time!r} ignored")
        upload_time = None
    return FileLink(
        filename=filename,
        url=absolute,
        hashes=hashes,
        requires_python=requires_python or None,
        yanked=yanked,
        core_metadata=_json_core_metadata(entry, what, warnings),
        size=size,
        upload_time=upload_time,
    )


def parse_json_page(body: bytes, *, url: str) -> ProjectPage:
    """Parse a PEP 691 project page served at ``url`` (relative file URLs resolve against it).

    Raises :class:`IndexFormatError` when the body is not a JSON object with a ``files`` list or the API
    major version is not 1; everything else degrades into warnings.
    """
    page, raw_files = _json_document(body, url=url)
    warnings = list(page.warnings)
    files = tuple(f for i, entry in enumerate(raw_files) if (f := json_file_link(entry, i, url, warnings)))
    return ProjectPage(
        name=page.name,
        url=url,
        files=files,
        versions=page.versions,
        warnings=tuple(warnings),
        api_version=page.api_version,
    )


def parse_json_page_entries(body: bytes, *, url: str) -> tuple[ProjectPage, list[dict[str, object]]]:
    """The page without its files, and the raw ``files`` entries that are objects, for lazy building.

    Same errors as :func:`parse_json_page`; a non-object entry is dropped with a warning.
    """
    page, raw_files = _json_document(body, url=url)
    warnings = list(page.warnings)
    entries: list[dict[str, object]] = []
    for index, entry in enumerate(raw_files):
        if isinstance(entry, dict):
            entries.append(entry)
        else:
            warnings.append(f"files[{index}]: not an object, skipped")
    return ProjectPage(
        name=page.name,
        url=url,
        files=(),
        versions=page.versions,
        warnings=tuple(warnings),
        api_version=page.api_version,
    ), entries


def _json_document(body: bytes, *, url: str) -> tuple[ProjectPage, list[object]]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise IndexFormatError(f"the project page is not valid JSON: {exc}", url=url) from None
    if not isinstance(data, dict):
        raise IndexFormatError("the project page is not a JSON object", url=url)
    warnings: list[str] = []
    meta = data.get("meta")
    api_version = _check_api_version(meta.get("api-version") if isinstance(meta, dict) else None, url, warnings)
    raw_files = data.get("files")
    if not isinstance(raw_files, list):
        raise IndexFormatError("the project page has no files list", url=url)
    raw_name = data.get("name")
    if isinstance(raw_name, str) and raw_name:
        name = canonicalize_name(raw_name)
    else:
        name = _name_from_url(url)
        warnings.append("the page does not state the project name")
    raw_versions = data.get("versions", [])
    versions: tuple[str, ...] = ()
    if isinstance(raw_versions, list):
        versions = tuple(v for v in raw_versions if isinstance(v, str))
        if len(versions) != len(raw_versions):
            warnings.append("versions: non-string entries ignored")
    else:
        warnings.append("versions is not a list, ignored")
    page = ProjectPage(
        name=name, url=url, files=(), versions=versions, warnings=tuple(warnings), api_version=api_version
    )
    return page, raw_files


class _AnchorCollector(HTMLParser):
    """Collects ``<a>`` attributes, the first ``<base href>`` and the repository-version meta tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base: str | None = None
        self.api_version: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a":
            self.anchors.append(values)
        elif tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag == "meta" and values.get("name") == "pypi:repository-version":
            self.api_version = values.get("content")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _collect(body: bytes, url: str, warnings: list[str]) -> tuple[_AnchorCollector, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
        warnings.append("the page is not valid UTF-8; undecodable bytes were replaced")
    collector = _AnchorCollector()
    collector.feed(text)
    collector.close()
    base = url
    if collector.base:
        try:
            base = urljoin(url, collector.base)
        except ValueError:
            warnings.append(f"ignored unusable <base href={collector.base!r}>")
    return collector, base


def _html_file(attrs: dict[str, str | None], base: str, warnings: list[str]) -> FileLink | None:
    href = attrs.get("href")
    if not href:
        return None
    resolved = _resolve(base, href)
    if resolved is None:
        warnings.append(f"link {href!r} is not a URL, skipped")
        return None
    absolute, hashes = resolved
    filename = _filename_of(absolute)
    if not filename:
        warnings.append(f"link {href!r} names no file, skipped")
        return None
    yanked = (attrs["data-yanked"] or "") if "data-yanked" in attrs else None
    metadata: bool | Hashes = False
    for key in ("data-core-metadata", "data-dist-info-metadata"):
        if key in attrs:
            value = attrs[key] or ""
            if value.strip().lower() == "true":
                metadata = True
            else:
                metadata = _parse_hash_value(value, filename, warnings) or False
            break
    return FileLink(
        filename=filename,
        url=absolute,
        hashes=hashes,
        requires_python=(attrs.get("data-requires-python") or "").strip() or None,
        yanked=yanked,
        core_metadata=metadata,
    )


def parse_html_page(body: bytes, *, url: str, name: str | None = None) -> ProjectPage:
    """Parse a PEP 503 project page served at ``url``; ``name`` defaults to the URL's last segment.

    Never raises on malformed markup: anchors without ``href`` are ignored, odd attributes warned about.
    """
    warnings: list[str] = []
    collector, base = _collect(body, url, warnings)
    files = tuple(f for attrs in collector.anchors if (f := _html_file(attrs, base, warnings)))
    api_version = collector.api_version
    if api_version is not None:
        api_version = _check_api_version(api_version, url, warnings)
    return ProjectPage(
        name=canonicalize_name(name) if name else _name_from_url(url),
        url=url,
        files=files,
        warnings=tuple(warnings),
        api_version=api_version,
    )


def parse_find_links_html(body: bytes, *, url: str) -> FindLinksPage:
    """Parse a find-links page: like :func:`parse_html_page`, but keep only links to wheels and sdists.

    Find-links pages are arbitrary HTML (navigation, READMEs), so links whose filename does not parse as a
    distribution are dropped without a warning.
    """
    warnings: list[str] = []
    collector, base = _collect(body, url, warnings)
    files = []
    for attrs in collector.anchors:
        link_warnings: list[str] = []
        link = _html_file(attrs, base, link_warnings)
        if link is not None and parse_filename(link.filename) is not None:
            files.append(link)
            warnings += link_warnings
    return FindLinksPage(url=url, files=tuple(files), warnings=tuple(warnings))
