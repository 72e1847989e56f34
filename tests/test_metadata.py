"""resolver.index.metadata: core metadata fields, PEP 643, and reading METADATA out of a zip by ranges.

The zip functions are checked against real wheels from the builder (deflated, stored, zip64, with a
comment, with data descriptors) and compared with what :mod:`zipfile` reads, then fed truncated and
corrupted bytes, which must give :class:`ZipFormatError` (a ``ValueError``) and nothing else.
"""

from __future__ import annotations

import contextlib
import io
import random
import struct
import tarfile
import zipfile
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolver.index.metadata import (
    TAIL_SIZE,
    CoreMetadata,
    MetadataError,
    ZipEntry,
    ZipFormatError,
    entry_span,
    find_eocd,
    find_metadata_entry,
    inflate,
    is_static_sdist_metadata,
    local_header_data_offset,
    parse_central_directory,
    parse_metadata,
    read_entry,
    wheel_metadata,
)
from resolver.index.simple import IndexFormatError
from tests.indexserver import fixtures
from tests.indexserver.wheels import build_sdist, build_wheel

if TYPE_CHECKING:
    from pathlib import Path

    from tests.indexserver.wheels import WheelCache

wheel_cache = fixtures.wheel_cache

EXTRA = {f"pkg/mod{i}.py": f"value = {i}\n" * 50 for i in range(20)}


class _Unseekable(io.RawIOBase):
    """A write-only stream without seek/tell, so zipfile writes data descriptors after each member."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        chunk = bytes(b)  # type: ignore[call-overload]
        self.data += chunk
        return len(chunk)


def _descriptor_zip() -> bytes:
    stream = _Unseekable()
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dd/__init__.py", b"x = 1\n" * 100)
        archive.writestr("dd-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: dd\nVersion: 1.0\n")
        archive.writestr("dd-1.0.dist-info/RECORD", b"")
    return bytes(stream.data)


def _read_by_ranges(data: bytes, tail_size: int = TAIL_SIZE) -> tuple[bytes, int]:
    """What a client does: tail, central directory, one local record. Returns (METADATA, bytes read)."""
    tail = data[-tail_size:]
    end = find_eocd(tail, file_size=len(data))
    directory = data[end.central_dir_offset : end.central_dir_offset + end.central_dir_size]
    entries = parse_central_directory(directory, expected_entries=end.entries)
    entry = find_metadata_entry(entries)
    start, stop = entry_span(entry, entries, end.central_dir_offset)
    return read_entry(entry, data[start:stop]), len(tail) + len(directory) + stop - start


# -- core metadata ------------------------------------------------------------------------------------------


def test_parse_real_wheel_metadata(tmp_path: Path) -> None:
    path = build_wheel(
        tmp_path,
        "Real.Pkg",
        "2.0.1",
        requires_dist=[
            "numpy>=1.22",
            'torch==2.1.*; extra == "gpu"',
            "typing-extensions; python_version < '3.11'",
        ],
        requires_python=">=3.9",
        extras=["gpu"],
        metadata_version="2.3",
    )
    with zipfile.ZipFile(path) as archive:
        md = parse_metadata(archive.read("real_pkg-2.0.1.dist-info/METADATA"))
    assert md == CoreMetadata(
        name="Real.Pkg",
        version="2.0.1",
        requires_dist=(
            "numpy>=1.22",
            'torch==2.1.*; extra == "gpu"',
            "typing-extensions; python_version < '3.11'",
        ),
        requires_python=">=3.9",
        provides_extra=("gpu",),
        metadata_version="2.3",
    )


def test_parse_sdist_pkg_info_and_pep_643(tmp_path: Path) -> None:
    def pkg_info(**options: Any) -> CoreMetadata:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        path = build_sdist(folder, "s", "1.0", requires_dist=["a"], **options)
        with tarfile.open(path) as archive:
            member = archive.extractfile("s-1.0/PKG-INFO")
            assert member is not None
            return parse_metadata(member.read().decode())

    static = pkg_info()
    assert (static.metadata_version, static.dynamic, static.requires_dist) == ("2.2", (), ("a",))
    assert is_static_sdist_metadata(static)
    dynamic = pkg_info(dynamic=["Requires-Dist"])
    assert dynamic.dynamic == ("Requires-Dist",)
    assert not is_static_sdist_metadata(dynamic)
    assert not is_static_sdist_metadata(pkg_info(metadata_version="2.1"))
    only_python = pkg_info(dynamic=["requires-python"])
    assert is_static_sdist_metadata(only_python)
    assert not is_static_sdist_metadata(only_python, fields=("Requires-Dist", "Requires-Python"))


@pytest.mark.parametrize(
    ("version", "dynamic", "static"),
    [
        ("2.2", (), True),
        ("2.4", ("License",), True),
        ("2.10", ("requires-dist",), False),
        ("2.1", (), False),
        (None, (), False),
        ("two", (), False),
    ],
)
def test_is_static_rules(version: str | None, dynamic: tuple[str, ...], static: bool) -> None:
    md = CoreMetadata(name="x", version="1", metadata_version=version, dynamic=dynamic)
    assert is_static_sdist_metadata(md) is static


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Metadata-Version: 2.1\nVersion: 1.0\n", "Name"),
        ("Metadata-Version: 2.1\nName: x\n", "Version"),
        ("Name: x\nName: y\nVersion: 1\n", "Name"),
        ("", "Name"),
        ("\x00\x01 binary garbage", "Name"),
    ],
)
def test_metadata_without_identity_raises(text: str, message: str) -> None:
    with pytest.raises(MetadataError, match=message) as caught:
        parse_metadata(text)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, IndexFormatError)


def test_metadata_leniency() -> None:
    md = parse_metadata(b"Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Dist: ok\nSummary: \xff\xfe\n\nbody")
    assert (md.name, md.version, md.requires_dist) == ("x", "1", ("ok",))
    assert md.requires_python is None
    assert any("summary" in w for w in md.warnings)


# -- zip: the happy paths against real wheels ---------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"compression": "stored"},
        {"zip64": True},
        {"zip_comment": b"c" * 300},
        {"zip64": True, "zip_comment": b"a comment", "extra_files": EXTRA},
        {"extra_files": EXTRA},
    ],
    ids=["deflate", "stored", "zip64", "comment", "zip64-comment-many", "many"],
)
def test_read_metadata_by_ranges(wheel_cache: WheelCache, options: dict[str, object]) -> None:
    path = wheel_cache.wheel("ranged", "1.0", requires_dist=["dep>=1"], **options)
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        expected = archive.read("ranged-1.0.dist-info/METADATA")
        infos = archive.infolist()
    body, _ = _read_by_ranges(data)
    assert body == expected
    end = find_eocd(data)
    assert end.zip64 is bool(options.get("zip64"))
    entries = parse_central_directory(data[end.central_dir_offset : end.central_dir_offset + end.central_dir_size])
    assert [(e.name, e.offset, e.compressed_size, e.uncompressed_size, e.crc32, e.method) for e in entries] == [
        (i.filename, i.header_offset, i.compress_size, i.file_size, i.CRC, i.compress_type) for i in infos
    ]
    assert wheel_metadata(data, project="Ranged") == expected


def test_small_tail_reads_less_than_the_wheel(wheel_cache: WheelCache) -> None:
    blob = random.Random(0).randbytes(100_000)  # incompressible, so the wheel stays big
    data = wheel_cache.wheel("big", "1.0", extra_files={"big/blob.bin": blob}).read_bytes()
    body, read = _read_by_ranges(data, tail_size=2048)
    assert b"Name: big" in body
    assert read < len(data) // 4


def test_comment_that_looks_like_an_end_record(tmp_path: Path) -> None:
    # zipfile takes the last signature it sees and fails here; the comment-length check finds the real one.
    path = build_wheel(tmp_path, "fake", "1.0", zip_comment=b"PK\x05\x06" + b"\0" * 16 + b"\x63\x00tail")
    body, _ = _read_by_ranges(path.read_bytes())
    assert b"Name: fake" in body


def test_data_descriptors() -> None:
    data = _descriptor_zip()
    entries_info = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert all(i.flag_bits & 0x08 for i in entries_info)
    body, _ = _read_by_ranges(data)
    assert body == b"Metadata-Version: 2.1\nName: dd\nVersion: 1.0\n"


def test_find_metadata_entry_rules() -> None:
    def entry(name: str) -> ZipEntry:
        return ZipEntry(name=name, offset=0, compressed_size=0, uncompressed_size=0, method=0, crc32=0)

    nested = entry("vendored/other-1.0.dist-info/METADATA")
    ours = entry("foo_bar-1.0.dist-info/METADATA")
    assert find_metadata_entry([entry("foo_bar/__init__.py"), nested, ours]) == ours
    with pytest.raises(ZipFormatError, match="no top-level"):
        find_metadata_entry([nested, entry("foo-1.0.dist-info/RECORD")])
    two = [ours, entry("other-2.0.dist-info/METADATA")]
    with pytest.raises(ZipFormatError, match="2 top-level"):
        find_metadata_entry(two)
    assert find_metadata_entry(two, project="Foo.Bar") == ours
    with pytest.raises(ZipFormatError, match="for baz"):
        find_metadata_entry([ours], project="baz")


def test_entry_span_ends_at_the_next_member_or_the_directory(wheel_cache: WheelCache) -> None:
    data = wheel_cache.wheel("span", "1.0").read_bytes()
    end = find_eocd(data)
    entries = parse_central_directory(data[end.central_dir_offset :])
    offsets = sorted(e.offset for e in entries)
    for e in entries:
        start, stop = entry_span(e, list(reversed(entries)), end.central_dir_offset)
        later = [o for o in offsets if o > e.offset]
        assert (start, stop) == (e.offset, later[0] if later else end.central_dir_offset)
        assert local_header_data_offset(data[start:stop]) + e.compressed_size <= stop - start


# -- zip: bad input ---------------------------------------------------------------------------------------


def test_tail_too_short_says_where_to_fetch_from(wheel_cache: WheelCache) -> None:
    data = wheel_cache.wheel("short", "1.0", zip64=True, zip_comment=b"x" * 40).read_bytes()
    with pytest.raises(ZipFormatError) as caught:
        find_eocd(data[-10:], file_size=len(data))
    assert caught.value.needed_from == max(0, len(data) - TAIL_SIZE)
    # end record and locator are in the tail, the zip64 record is not
    locator_and_end = 20 + 22 + 40
    with pytest.raises(ZipFormatError, match="zip64 end record lies before") as caught:
        find_eocd(data[-locator_and_end:], file_size=len(data))
    assert caught.value.needed_from == len(data) - locator_and_end - 56
    assert find_eocd(data[-(locator_and_end + 56) :], file_size=len(data)).zip64


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (b"", "not a zip"),
        (b"garbage" * 10, "not a zip"),
        (struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0, 0, 0, 0, 5), "not a zip"),
        (struct.pack("<4s4H2LH", b"PK\x05\x06", 1, 0, 1, 1, 0, 0, 0), "multi-disk"),
        (struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, 50, 10, 0), "overlap"),
        (struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0, 0, 0), "no zip64 locator"),
        (
            struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1) + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, 0, 0, 0),
            "locator is inconsistent",
        ),
        (
            b"\0" * 56
            + struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
            + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, 0, 0, 0),
            "bad signature",
        ),
    ],
)
def test_find_eocd_rejects(tail: bytes, message: str) -> None:
    with pytest.raises(ZipFormatError, match=message):
        find_eocd(tail)


def test_find_eocd_rejects_impossible_sizes() -> None:
    with pytest.raises(ZipFormatError, match="cannot come from"):
        find_eocd(b"x" * 100, file_size=10)


def test_central_directory_damage(wheel_cache: WheelCache) -> None:
    data = wheel_cache.wheel("cd", "1.0", zip64=True).read_bytes()
    end = find_eocd(data)
    directory = data[end.central_dir_offset : end.central_dir_offset + end.central_dir_size]
    with pytest.raises(ZipFormatError, match="truncated"):
        parse_central_directory(directory[:30])
    with pytest.raises(ZipFormatError, match="truncated"):
        parse_central_directory(directory[:50])
    with pytest.raises(ZipFormatError, match="signature"):
        parse_central_directory(b"XX" + directory)
    with pytest.raises(ZipFormatError, match="entries"):
        parse_central_directory(directory, expected_entries=end.entries + 1)
    # cut the zip64 extra field short (extra length kept, so the record still parses as complete)
    damaged = bytearray(directory)
    name_length, extra_length = struct.unpack_from("<HH", damaged, 28)
    struct.pack_into("<HH", damaged, 46 + name_length, 1, 8)
    with pytest.raises(ZipFormatError, match="too short"):
        parse_central_directory(bytes(damaged))
    struct.pack_into("<HH", damaged, 46 + name_length, 9, extra_length - 4)
    with pytest.raises(ZipFormatError, match="no zip64 extra"):
        parse_central_directory(bytes(damaged))


def test_local_header_damage() -> None:
    with pytest.raises(ZipFormatError, match="needs 30 bytes"):
        local_header_data_offset(b"PK\x03\x04")
    with pytest.raises(ZipFormatError, match="signature"):
        local_header_data_offset(b"\0" * 30)


def test_inflate_checks_everything(wheel_cache: WheelCache) -> None:
    data = wheel_cache.wheel("inf", "1.0").read_bytes()
    end = find_eocd(data)
    entries = parse_central_directory(data[end.central_dir_offset :])
    entry = find_metadata_entry(entries)
    start, stop = entry_span(entry, entries, end.central_dir_offset)
    record = data[start:stop]
    raw_start = local_header_data_offset(record)
    raw = record[raw_start : raw_start + entry.compressed_size]
    assert inflate(entry, raw).startswith(b"Metadata-Version")
    with pytest.raises(ZipFormatError, match="truncated"):
        read_entry(entry, record[: raw_start + 3])
    with pytest.raises(ZipFormatError, match="compressed bytes"):
        inflate(entry, raw[:-1])
    with pytest.raises(ZipFormatError, match=r"corrupt deflate|incomplete|CRC|bytes, the directory"):
        inflate(entry, bytes(b ^ 0x55 for b in raw))
    with pytest.raises(ZipFormatError, match="incomplete"):
        inflate(replace(entry, compressed_size=len(raw) // 2), raw[: len(raw) // 2])
    with pytest.raises(ZipFormatError, match="CRC-32"):
        inflate(replace(entry, crc32=entry.crc32 ^ 1), raw)
    with pytest.raises(ZipFormatError, match="the directory says"):
        inflate(replace(entry, uncompressed_size=entry.uncompressed_size + 1), raw)
    with pytest.raises(ZipFormatError, match="encrypted"):
        inflate(replace(entry, flags=1), raw)
    with pytest.raises(ZipFormatError, match="method 12"):
        inflate(replace(entry, method=12), raw)
    with pytest.raises(ZipFormatError, match="over the 10 limit"):
        inflate(entry, raw, max_size=10)
    stored = replace(entry, method=0, compressed_size=5, uncompressed_size=5, crc32=0)
    with pytest.raises(ZipFormatError, match="CRC-32"):
        inflate(stored, b"hello")


def test_whole_wheel_without_metadata() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("just/a/file.txt", "x")
    with pytest.raises(ZipFormatError, match="no top-level"):
        wheel_metadata(buffer.getvalue())


# -- properties ---------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=1000))
def test_garbage_only_raises_zip_format_error(data: bytes, extra: int) -> None:
    for call in (
        lambda: find_eocd(data, file_size=len(data) + extra),
        lambda: parse_central_directory(data),
        lambda: local_header_data_offset(data),
        lambda: wheel_metadata(data),
    ):
        with contextlib.suppress(ZipFormatError):
            call()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_truncated_or_flipped_wheels_fail_cleanly(data: st.DataObject) -> None:
    wheel = _PROPERTY_WHEEL
    cut = data.draw(st.integers(min_value=0, max_value=len(wheel)))
    flip = data.draw(st.integers(min_value=0, max_value=len(wheel) - 1))
    for variant in (wheel[:cut], wheel[cut:], wheel[:flip] + bytes([wheel[flip] ^ 0xFF]) + wheel[flip + 1 :]):
        try:
            body = wheel_metadata(variant)
        except ZipFormatError:
            continue
        assert body.startswith(b"Metadata-Version")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_parse_metadata_only_raises_metadata_error(data: bytes | str) -> None:
    try:
        md = parse_metadata(data)
    except MetadataError:
        return
    assert md.name
    assert md.version


def _property_wheel() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("p/__init__.py", b"")
        archive.writestr("p-1.dist-info/METADATA", b"Metadata-Version: 2.1\nName: p\nVersion: 1\n" * 3)
    return buffer.getvalue()


_PROPERTY_WHEEL = _property_wheel()
