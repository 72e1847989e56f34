"""The files of a PEP 691 page, made into :class:`FileLink` values only when someone reads them.

Why: an ML resolution reads about 100 project pages listing ~110,000 files (pydantic-core, aiohttp and numpy
list thousands each), yet looks closely at the few versions its ranges allow. Building a validated, frozen
``FileLink`` for every entry was most of a check's CPU time. This sequence keeps the decoded JSON entries,
answers ``filename(i)`` and :meth:`LazyLinks.columns` (names, yanked flags, Requires-Python: all the finder
needs to group files) from them directly, and builds a link (with the same lenient rules as
:func:`resolver.index.simple.parse_json_page`) on first access, once.

Two ways to keep the entries: ``compact=True`` (a page kept for the whole run) stores tuples of the fields a
link reads, with repeated values shared, a fraction of the decoded dicts' memory; ``compact=False`` (a page
read once to build a view and dropped) keeps the decoded dicts, which skips the per-field copying.

A file's link can also be carried as plain values (:meth:`LazyLinks.source`, made into the link by
:func:`link_from_source`): a finder view stores those for the files a target can install, so building a view
builds no link at all, and a link is made only for a candidate that is chosen.

PURE: values in, values out; the client passes ``index_url`` to tag each link with its index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from resolver.index.simple import FileLink, IndexedLink, json_file_link

__all__ = ["LazyLinks", "Source", "link_from_source", "source_of"]

#: A file as plain values, the one form a file takes between the wire and a chosen candidate: the page URL its
#: relative URLs resolve against, the index that listed it (or ``None``), and the PEP 691 entry's fields in
#: :data:`_FIELDS` order (``None`` for an absent key). A JSON page's entries are kept in this shape, a view
#: stores it for each usable file (files of HTML pages too, through :func:`source_of`), and
#: :func:`link_from_source` builds the :class:`FileLink` a candidate carries.
Source = tuple[str, str | None, tuple[object, ...]]

#: The PEP 691 file keys a link is built from (the others, such as provenance, are not read).
_FIELDS = (
    "filename",
    "url",
    "hashes",
    "requires-python",
    "yanked",
    "size",
    "upload-time",
    "core-metadata",
    "data-dist-info-metadata",
)
_REQUIRES_PYTHON = _FIELDS.index("requires-python")
_YANKED = _FIELDS.index("yanked")


def _compact(key: str, value: object, shared: dict[object, object]) -> object:
    """A smaller equal stand-in: a lone sha256 as its hex string, repeated small values shared.

    The JSON decoder makes a new object for every occurrence; over ~110,000 files the per-file hash dicts
    and repeated Requires-Python strings were tens of megabytes.
    """
    if key == "hashes" and isinstance(value, dict) and len(value) == 1 and isinstance(value.get("sha256"), str):
        return _Sha256(value["sha256"])
    if isinstance(value, str) and key not in ("url", "filename"):
        return shared.setdefault(value, value)
    return value


def _expand(key: str, value: object) -> object:
    return {"sha256": str(value)} if isinstance(value, _Sha256) else value


def link_from_source(source: Source) -> FileLink:
    """The link :meth:`LazyLinks.source` described, exactly as :class:`LazyLinks` would have built it."""
    url, index_url, fields = source
    entry = {key: _expand(key, value) for key, value in zip(_FIELDS, fields, strict=True) if value is not None}
    made = json_file_link(entry, 0, url, [])
    if made is None:
        raise ValueError(f"not a file link: {entry!r}")
    return made if index_url is None else IndexedLink.of(made, index_url)


def source_of(link: FileLink) -> Source:
    """A built link as plain values, such that :func:`link_from_source` makes an equal link: how a file that
    came with no JSON entry (an HTML page, a find-links page) is stored in a view."""
    index_url = link.index_url if isinstance(link, IndexedLink) else None
    core = link.core_metadata
    entry = {
        "filename": link.filename,
        "url": link.url,
        "hashes": dict(link.hashes) or None,
        "requires-python": link.requires_python,
        "yanked": True if link.yanked == "" else link.yanked,  # PEP 691: a reason, or true without one
        "size": link.size,
        "upload-time": link.upload_time,
        "core-metadata": (dict(core) if isinstance(core, tuple) else core) or None,
        "data-dist-info-metadata": None,
    }
    return (link.url, index_url, tuple(entry[key] for key in _FIELDS))


class _Sha256(str):
    """A ``hashes`` value that held only a sha256 (told apart from a plain string field)."""

    __slots__ = ()


class LazyLinks(Sequence[FileLink]):
    """A read-only sequence of a page's files (then ``extra`` links), built on demand and cached."""

    __slots__ = ("_built", "_entries", "_extra", "_index_url", "_names", "_url")

    def __init__(
        self,
        entries: Sequence[dict[str, object]],
        *,
        url: str,
        index_url: str | None = None,
        extra: Sequence[FileLink] = (),
        compact: bool = True,
    ) -> None:
        # Entries that would not make a link at all are dropped now, so indexes stay dense and stable.
        keep: list[tuple[object, ...] | dict[str, object]] = []
        names: list[str] = []
        shared: dict[object, object] = {}
        for entry in entries:
            href = entry.get("url")
            name = entry.get("filename")
            if not isinstance(href, str) or not href:
                continue
            if not isinstance(name, str) or not name or "#" in href or not href.startswith(("https://", "http://")):
                link = json_file_link(entry, len(keep), url, [])  # the rare odd entry: decide now
                if link is None:
                    continue
                name = link.filename
            keep.append(tuple(_compact(key, entry.get(key), shared) for key in _FIELDS) if compact else entry)
            names.append(name)
        self._entries = keep
        self._names = names
        self._url = url
        self._index_url = index_url
        self._extra = tuple(extra)
        self._built: dict[int, FileLink] = {}

    def __len__(self) -> int:
        return len(self._entries) + len(self._extra)

    def filename(self, index: int) -> str:
        """The filename of file ``index`` without building its link."""
        if index < len(self._entries):
            return self._names[index]
        return self._extra[index - len(self._entries)].filename

    def columns(self) -> tuple[list[str], list[bool], list[str | None]]:
        """Every file's name, yanked flag and Requires-Python, as its link would hold them (by the rules of
        :func:`json_file_link`), in one pass and without building links: what a view is built from."""
        yanked: list[bool] = []
        pythons: list[str | None] = []
        for entry in self._entries:
            if isinstance(entry, dict):
                flag, python = entry.get("yanked"), entry.get("requires-python")
            else:
                flag, python = entry[_YANKED], entry[_REQUIRES_PYTHON]
            yanked.append(bool(flag))
            pythons.append(python if isinstance(python, str) and python else None)
        extra = self._extra
        return (
            [*self._names, *(f.filename for f in extra)],
            [*yanked, *(f.is_yanked for f in extra)],
            [*pythons, *(f.requires_python for f in extra)],
        )

    @overload
    def __getitem__(self, index: int) -> FileLink: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[FileLink]: ...

    def __getitem__(self, index: int | slice) -> FileLink | Sequence[FileLink]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index >= len(self._entries):
            return self._extra[index - len(self._entries)]
        link = self._built.get(index)
        if link is None:
            link = self._built[index] = link_from_source(self._source(index))
        return link

    def source(self, index: int) -> Source | None:
        """File ``index``'s link as plain values (:data:`Source`), without building it; ``None`` for a link
        passed in as ``extra``, which has no entry."""
        if not 0 <= index < len(self._entries):
            return None
        return self._source(index)

    def _source(self, index: int) -> Source:
        entry = self._entries[index]
        if isinstance(entry, dict):
            fields = tuple(entry.get(key) for key in _FIELDS)
        else:
            fields = tuple(_expand(key, value) for key, value in zip(_FIELDS, entry, strict=True))
        return (self._url, self._index_url, fields)

    def __iter__(self) -> Iterator[FileLink]:
        for index in range(len(self)):
            yield self[index]
