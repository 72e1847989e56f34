"""Core metadata (PEP 566/643 ``METADATA``/``PKG-INFO``) and the zip reading needed to find it. PURE.

Two parts, both bytes in and values out:

- :func:`parse_metadata` reads the RFC 822 style fields through :func:`packaging.metadata.parse_email`,
  which is lenient (bad encodings and repeated single-use fields land in a side table, reported here as
  warnings). Requirement strings stay raw: ``packaging`` renders them canonically, not verbatim, and the
  resolver parses each one where it knows the marker environment. :func:`is_static_sdist_metadata`
  applies PEP 643's rule.
- The zip functions let the client read a wheel's ``METADATA`` with HTTP range requests instead of
  downloading the wheel: fetch the tail, :func:`find_eocd` (zip64 aware) gives the central directory's
  place, :func:`parse_central_directory` lists entries, :func:`find_metadata_entry` picks the top-level
  ``*.dist-info/METADATA``, :func:`entry_span` says which bytes hold its local record (often already in the
  tail, since ``.dist-info`` is written last), and :func:`read_entry` (or :func:`local_header_data_offset`
  then :func:`inflate`) returns the bytes, checked against size and CRC-32.

Every malformed input raises a :class:`ZipFormatError` or :class:`MetadataError` (both ``ValueError``),
never ``IndexError`` or ``struct.error``. :attr:`ZipFormatError.needed_from` tells a caller whose tail was
too short which absolute offset to fetch from. Supported: stored and deflated members, zip64 records and
extra fields, archive comments. Not supported: multi-disk archives, encryption, other compressions.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from resolver.index.simple import IndexFormatError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from packaging.metadata import RawMetadata

__all__ = [
    "MAX_REQUIRES_DIST",
    "CoreMetadata",
    "EndOfCentralDirectory",
    "MemberMismatchError",
    "MetadataError",
    "ZipEntry",
    "ZipFormatError",
    "entry_span",
    "find_eocd",
    "find_metadata_entry",
    "inflate",
    "is_static_sdist_metadata",
    "local_header_data_offset",
    "parse_central_directory",
    "parse_metadata",
    "read_entry",
    "wheel_metadata",
]

_EOCD = struct.Struct("<4s4H2LH")  # signature, disk, cd disk, entries here, entries, cd size, cd offset, comment
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # signature, disk of zip64 end, its offset, disks
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # ..., entries here, entries, cd size, cd offset
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_MAX_COMMENT = 0xFFFF

#: How many bytes from the end a client should fetch to be sure to hold every end record.
TAIL_SIZE = _EOCD.size + _MAX_COMMENT + _ZIP64_LOCATOR.size + _ZIP64_EOCD.size

#: Refuse to inflate a member larger than this: METADATA is kilobytes; this bounds a hostile archive.
MAX_MEMBER_SIZE = 32 * 1024 * 1024
#: The most Requires-Dist lines one METADATA may hold: real distributions have at most a few hundred (every
#: extra of a large framework); 100,000 took 613 MB to read.
MAX_REQUIRES_DIST = 5_000


class MetadataError(IndexFormatError):
    """Core metadata that does not say which distribution it describes (no Name or no Version)."""


class ZipFormatError(IndexFormatError):
    """Bytes that are not the zip structure expected; ``needed_from`` is set when more tail would help."""

    def __init__(self, message: str, *, url: str | None = None, needed_from: int | None = None) -> None:
        super().__init__(message, url=url)
        self.needed_from = needed_from


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreMetadata:
    """The fields relax-pins reads from METADATA or PKG-INFO; strings exactly as written."""

    name: str
    version: str
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()
    metadata_version: str | None = None
    dynamic: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _parse_email(data: bytes | str) -> tuple[RawMetadata, dict[str, list[str]]]:
    # Imported on first use (~12 ms with the email package): a forked index worker never needs it, and the
    # parent needs it only once the first metadata file arrives, while it is waiting anyway.
    from packaging.metadata import parse_email

    return parse_email(data)


def parse_metadata(data: bytes | str) -> CoreMetadata:
    """Parse a METADATA/PKG-INFO body; only a missing Name or Version is an error (:class:`MetadataError`).

    Fields the parser could not decode or that were repeated when they must not be become warnings.
    """
    count = (
        data.lower().count(b"\nrequires-dist:") if isinstance(data, bytes) else data.lower().count("\nrequires-dist:")
    )
    if count > MAX_REQUIRES_DIST:
        raise MetadataError(f"core metadata with {count} Requires-Dist lines, over the limit of {MAX_REQUIRES_DIST}")
    try:
        raw, unparsed = _parse_email(data)
    except (ValueError, LookupError) as exc:  # the email parser is lenient; this is belt and braces
        raise MetadataError(f"unreadable core metadata: {exc}") from None
    warnings = [f"field {key!r} could not be read" for key in sorted(unparsed)]
    name, version = raw.get("name"), raw.get("version")
    if not name or not version:
        missing = "Name" if not name else "Version"
        raise MetadataError(f"core metadata has no usable {missing} field")
    return CoreMetadata(
        name=name,
        version=version,
        requires_dist=tuple(raw.get("requires_dist", ())),
        requires_python=raw.get("requires_python"),
        provides_extra=tuple(raw.get("provides_extra", ())),
        metadata_version=raw.get("metadata_version"),
        dynamic=tuple(raw.get("dynamic", ())),
        warnings=tuple(warnings),
    )


def is_static_sdist_metadata(md: CoreMetadata, *, fields: Iterable[str] = ("Requires-Dist",)) -> bool:
    """PEP 643: an sdist's PKG-INFO can be trusted for ``fields`` when Metadata-Version >= 2.2 and none
    of them is listed in ``Dynamic``. Field names compare case-insensitively."""
    try:
        if md.metadata_version is None or Version(md.metadata_version) < Version("2.2"):
            return False
    except InvalidVersion:
        return False
    dynamic = {d.strip().lower() for d in md.dynamic}
    return not any(f.lower() in dynamic for f in fields)


class EndOfCentralDirectory(NamedTuple):
    """Where the central directory is (absolute offsets) and how many entries it says it has."""

    central_dir_offset: int
    central_dir_size: int
    entries: int
    zip64: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipEntry:
    """A central directory entry; ``offset`` is the absolute offset of the member's local header."""

    name: str
    offset: int
    compressed_size: int
    uncompressed_size: int
    method: int
    crc32: int
    flags: int = 0


def _find_eocd_position(tail: bytes) -> int | None:
    """The position of the classic end record: the last signature whose comment length fits."""
    fallback = None
    position = len(tail) - _EOCD.size
    lowest = max(0, len(tail) - _EOCD.size - _MAX_COMMENT)
    while position >= lowest:
        position = tail.rfind(b"PK\x05\x06", lowest, position + 4)
        if position < 0:
            break
        comment_length = struct.unpack_from("<H", tail, position + 20)[0]
        remaining = len(tail) - position - _EOCD.size
        if comment_length == remaining:
            return position
        if fallback is None and comment_length <= remaining:
            fallback = position
        position -= 1
    return fallback


def find_eocd(tail: bytes, *, file_size: int | None = None) -> EndOfCentralDirectory:
    """Read the end of central directory record (zip64 included) from the last bytes of an archive.

    ``tail`` is the archive's last ``len(tail)`` bytes and ``file_size`` its full size (default: the tail
    is the whole archive); fetch :data:`TAIL_SIZE` bytes to be sure. Cost: one backwards scan of the tail.
    """
    size = len(tail) if file_size is None else file_size
    start = size - len(tail)
    if start < 0:
        raise ZipFormatError(f"a tail of {len(tail)} bytes cannot come from a {size}-byte archive")
    position = _find_eocd_position(tail)
    if position is None:
        if start > 0 and len(tail) < TAIL_SIZE:
            raise ZipFormatError("no end of central directory record in the tail", needed_from=max(0, size - TAIL_SIZE))
        raise ZipFormatError("not a zip archive: no end of central directory record")
    _, disk, cd_disk, _, entries, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, position)
    end_record = position
    zip64 = position >= _ZIP64_LOCATOR.size and tail.startswith(b"PK\x06\x07", position - _ZIP64_LOCATOR.size)
    if zip64:
        _, _, record_offset, disks = _ZIP64_LOCATOR.unpack_from(tail, position - _ZIP64_LOCATOR.size)
        relative = record_offset - start
        if relative < 0:
            raise ZipFormatError("the zip64 end record lies before the tail", needed_from=record_offset)
        if relative + _ZIP64_EOCD.size > position - _ZIP64_LOCATOR.size or disks > 1:
            raise ZipFormatError("the zip64 end record locator is inconsistent")
        signature, _, _, _, disk, cd_disk, _, entries, cd_size, cd_offset = _ZIP64_EOCD.unpack_from(tail, relative)
        if signature != b"PK\x06\x06":
            raise ZipFormatError("the zip64 end record has a bad signature")
        end_record = relative
    elif entries == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
        raise ZipFormatError("the end record needs zip64 values but has no zip64 locator")
    if disk != 0 or cd_disk != 0:
        raise ZipFormatError("multi-disk zip archives are not supported")
    if cd_offset + cd_size > start + end_record:
        raise ZipFormatError("the central directory would overlap the end record")
    return EndOfCentralDirectory(cd_offset, cd_size, entries, zip64)


def _zip64_values(extra: bytes, wanted: int) -> list[int]:
    """The first ``wanted`` 8-byte values of the zip64 extra field (id 1) in ``extra``."""
    position = 0
    while position + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, position)
        body = extra[position + 4 : position + 4 + length]
        if tag == 1:
            if len(body) < 8 * wanted:
                raise ZipFormatError("a zip64 extra field is too short")
            return list(struct.unpack_from(f"<{wanted}Q", body))
        position += 4 + length
    raise ZipFormatError("an entry needs zip64 values but has no zip64 extra field")


def parse_central_directory(data: bytes, *, expected_entries: int | None = None) -> list[ZipEntry]:
    """Entries of a central directory (exactly the ``central_dir_size`` bytes at its offset).

    Stops at a digital-signature or end record, so a slightly longer slice is fine. Names are UTF-8 when
    flag bit 11 says so, else CP437, as zipfile reads them.
    """
    entries: list[ZipEntry] = []
    position = 0
    while position < len(data):
        signature = data[position : position + 4]
        if signature in (b"PK\x05\x05", b"PK\x06\x06", b"PK\x05\x06"):
            break
        if signature != b"PK\x01\x02":
            raise ZipFormatError(f"bad central directory entry signature at offset {position}")
        if position + _CENTRAL.size > len(data):
            raise ZipFormatError("the central directory is truncated")
        fields = _CENTRAL.unpack_from(data, position)
        flags, method, crc, compressed, uncompressed = fields[5], fields[6], fields[9], fields[10], fields[11]
        name_length, extra_length, comment_length, offset = fields[12], fields[13], fields[14], fields[18]
        name_start = position + _CENTRAL.size
        end = name_start + name_length + extra_length + comment_length
        if end > len(data):
            raise ZipFormatError("the central directory is truncated")
        raw_name = data[name_start : name_start + name_length]
        name = raw_name.decode("utf-8", errors="replace") if flags & 0x800 else raw_name.decode("cp437")
        big = [v == 0xFFFFFFFF for v in (uncompressed, compressed, offset)]
        if any(big):
            values = iter(_zip64_values(data[name_start + name_length : end - comment_length], sum(big)))
            uncompressed = next(values) if big[0] else uncompressed
            compressed = next(values) if big[1] else compressed
            offset = next(values) if big[2] else offset
        entries.append(
            ZipEntry(
                name=name,
                offset=offset,
                compressed_size=compressed,
                uncompressed_size=uncompressed,
                method=method,
                crc32=crc,
                flags=flags,
            )
        )
        position = end
    if expected_entries is not None and len(entries) != expected_entries:
        raise ZipFormatError(f"the central directory lists {len(entries)} entries, the end record {expected_entries}")
    return entries


def find_metadata_entry(entries: Sequence[ZipEntry], *, project: str | None = None) -> ZipEntry:
    """The ``<dir>.dist-info/METADATA`` entry of the wheel's single top-level ``.dist-info`` directory.

    With ``project``, a directory whose name part does not normalize to it is rejected, as pip does.
    """
    candidates = [e for e in entries if re.fullmatch(r"[^/]+\.dist-info/METADATA", e.name)]
    if project is not None:
        wanted = canonicalize_name(project)
        candidates = [e for e in candidates if canonicalize_name(e.name.partition("-")[0]) == wanted]
    if len(candidates) != 1:
        found = "no" if not candidates else f"{len(candidates)}"
        raise ZipFormatError(
            f"{found} top-level .dist-info/METADATA in the wheel" + (f" for {project}" if project else "")
        )
    return candidates[0]


def entry_span(entry: ZipEntry, entries: Sequence[ZipEntry], central_dir_offset: int) -> tuple[int, int]:
    """``(start, end)`` (end exclusive) of the bytes holding ``entry``'s local header and data.

    Members are stored one after another, so the record ends where the next one starts or where the central
    directory begins: one range request (``bytes=start-(end-1)``) fetches it whole.
    """
    following = [e.offset for e in entries if e.offset > entry.offset]
    return entry.offset, min(following, default=central_dir_offset)


def local_header_data_offset(header: bytes) -> int:
    """How far past the start of a local file header the member's data begins (30 + name + extra)."""
    if len(header) < _LOCAL.size:
        raise ZipFormatError(f"a local file header needs {_LOCAL.size} bytes, got {len(header)}")
    fields = _LOCAL.unpack_from(header)
    if fields[0] != b"PK\x03\x04":
        raise ZipFormatError("bad local file header signature")
    return int(_LOCAL.size + fields[10] + fields[11])


def inflate(entry: ZipEntry, raw: bytes, *, max_size: int = MAX_MEMBER_SIZE) -> bytes:
    """The bytes of a member from its raw ``compressed_size`` bytes (stored or deflated), CRC checked."""
    if entry.flags & 0x1:
        raise ZipFormatError(f"{entry.name} is encrypted")
    if entry.uncompressed_size > max_size:
        raise ZipFormatError(f"{entry.name} is {entry.uncompressed_size} bytes, over the {max_size} limit")
    if len(raw) < entry.compressed_size:
        raise ZipFormatError(f"{entry.name}: got {len(raw)} of {entry.compressed_size} compressed bytes")
    raw = raw[: entry.compressed_size]
    if entry.method == 0:
        data = raw
    elif entry.method == 8:
        decompressor = zlib.decompressobj(-15)
        try:
            data = decompressor.decompress(raw, max_size + 1)
        except zlib.error as exc:
            raise ZipFormatError(f"{entry.name}: corrupt deflate data ({exc})") from None
        if not decompressor.eof:
            raise ZipFormatError(f"{entry.name}: the deflate stream is incomplete")
    else:
        raise ZipFormatError(f"{entry.name}: unsupported compression method {entry.method}")
    if len(data) != entry.uncompressed_size:
        raise ZipFormatError(f"{entry.name}: {len(data)} bytes, the directory says {entry.uncompressed_size}")
    if zlib.crc32(data) != entry.crc32:
        raise ZipFormatError(f"{entry.name}: CRC-32 mismatch")
    return data


class MemberMismatchError(ZipFormatError):
    """The local header of a member names another file than the central directory: two readers of the same
    zip (pip reads the local headers when it installs) would see different files."""


def read_entry(entry: ZipEntry, record: bytes) -> bytes:
    """The member's bytes from ``record``, the archive bytes starting at ``entry.offset`` (header first); the
    local header must name the member the central directory names (:class:`MemberMismatchError`)."""
    start = local_header_data_offset(record)
    fields = _LOCAL.unpack_from(record)
    raw_name = record[_LOCAL.size : _LOCAL.size + fields[10]]
    flags = fields[3]  # general purpose bit flag: 0x800 means the name is UTF-8 (else cp437)
    local_name = raw_name.decode("utf-8", errors="replace") if flags & 0x800 else raw_name.decode("cp437")
    if local_name != entry.name:
        raise MemberMismatchError(f"the local header names {local_name!r}, the central directory {entry.name!r}")
    if start + entry.compressed_size > len(record):
        raise ZipFormatError(f"{entry.name}: the local record is truncated", needed_from=entry.offset + len(record))
    return inflate(entry, record[start : start + entry.compressed_size])


def wheel_metadata(data: bytes, *, project: str | None = None) -> bytes:
    """The METADATA bytes of a whole wheel in memory: the fallback when ranges are not served."""
    end = find_eocd(data)
    directory = data[end.central_dir_offset : end.central_dir_offset + end.central_dir_size]
    entry = find_metadata_entry(parse_central_directory(directory, expected_entries=end.entries), project=project)
    return read_entry(entry, data[entry.offset :])
