"""Build real, installable wheels and sdists for the loopback index.

The archives are made by the same rules pip checks: a ``.dist-info`` directory with METADATA, WHEEL and a
RECORD whose ``sha256=`` entries match the bytes, so hashes, metadata and ``pip download`` are all real.
Output is deterministic (fixed timestamps, sorted members), so the same arguments always give the same bytes
and the same sha256: a session cache (:class:`WheelCache`) can then share one build between tests.

Cost: building a wheel is a few hundred microseconds of zlib work; the cache only saves the disk writes.
Not supported: entry points, scripts, data directories, signatures (RECORD.jws) - none is needed to test an
index client.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
import struct
import tarfile
import zipfile
from typing import TYPE_CHECKING, Literal

from packaging.tags import parse_tag

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

__all__ = ["WheelCache", "build_sdist", "build_wheel", "dist_name", "to_zip64"]

#: Every member gets this timestamp, so builds are reproducible byte for byte.
_EPOCH = (2020, 1, 1, 0, 0, 0)
_EPOCH_SECONDS = 1577836800


def dist_name(name: str) -> str:
    """The escaped project name used in archive and ``.dist-info`` names (``Foo.Bar`` -> ``foo_bar``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata(
    name: str,
    version: str,
    *,
    metadata_version: str,
    requires_dist: Iterable[str],
    requires_python: str | None,
    extras: Iterable[str],
    dynamic: Iterable[str] = (),
) -> bytes:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    lines += [f"Dynamic: {field}" for field in dynamic]
    lines.append("Summary: A test distribution served by the loopback index")
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in extras]
    lines += [f"Requires-Dist: {req}" for req in requires_dist]
    return ("\n".join(lines) + "\n\nA test distribution.\n").encode()


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    tags: str = "py3-none-any",
    extras: Iterable[str] = (),
    metadata_version: str = "2.1",
    extra_files: Mapping[str, bytes | str] | None = None,
    build_tag: str | None = None,
    compression: Literal["deflate", "stored"] = "deflate",
    zip64: bool = False,
    zip_comment: bytes = b"",
    metadata: bytes | None = None,
) -> Path:
    """Write ``{name}-{version}[-{build}]-{tags}.whl`` into ``directory`` and return its path.

    ``tags`` is a compressed tag set (``cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64``), written
    expanded into WHEEL as pip expects. ``extra_files`` maps archive paths to contents (listed in RECORD).
    ``metadata`` replaces the generated METADATA verbatim (for metadata-mismatch tests). ``zip64`` writes
    zip64 local headers and rewrites the central directory and end record in zip64 form (see
    :func:`to_zip64`); ``zip_comment`` appends an archive comment, which moves the end record.
    """
    directory.mkdir(parents=True, exist_ok=True)
    escaped = dist_name(name)
    ver = version.replace("-", "_")
    dist_info = f"{escaped}-{ver}.dist-info"
    parts = [escaped, ver] + ([build_tag] if build_tag else []) + [tags]
    path = directory / ("-".join(parts) + ".whl")

    members: dict[str, bytes] = {f"{escaped}/__init__.py": f'__version__ = "{version}"\n'.encode()}
    for member, content in (extra_files or {}).items():
        members[member] = content.encode() if isinstance(content, str) else content
    members[f"{dist_info}/METADATA"] = metadata or _metadata(
        name,
        version,
        metadata_version=metadata_version,
        requires_dist=requires_dist,
        requires_python=requires_python,
        extras=extras,
    )
    wheel_lines = ["Wheel-Version: 1.0", "Generator: tests.indexserver", "Root-Is-Purelib: true"]
    wheel_lines += [f"Tag: {tag}" for tag in sorted(str(t) for t in parse_tag(tags))]
    if build_tag:
        wheel_lines.append(f"Build: {build_tag}")
    members[f"{dist_info}/WHEEL"] = ("\n".join(wheel_lines) + "\n").encode()
    record = [f"{member},{_record_hash(data)},{len(data)}" for member, data in members.items()]
    record.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()

    method = zipfile.ZIP_DEFLATED if compression == "deflate" else zipfile.ZIP_STORED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, date_time=_EPOCH)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=zip64) as handle:
                handle.write(data)
        archive.comment = zip_comment
    data = buffer.getvalue()
    if zip64:
        data = to_zip64(data)
    path.write_bytes(data)
    return path


def to_zip64(data: bytes) -> bytes:
    """Rewrite a small zip so its central directory and end record use the zip64 forms.

    zipfile only writes those past 4 GiB; this keeps the local records as they are and re-emits every
    central directory entry with sizes and offset set to 0xFFFFFFFF plus a zip64 extra field (id 1), then a
    zip64 end record, its locator and a classic end record full of 0xFFFF markers. Readers (zipfile, pip)
    accept the result, and it exercises the zip64 paths of a range-request metadata reader cheaply.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        cd_offset: int = archive.start_dir
        comment = archive.comment
    central = bytearray()
    for info in infos:
        name = info.filename.encode("utf-8")
        dostime = info.date_time[3] << 11 | info.date_time[4] << 5 | info.date_time[5] // 2
        dosdate = (info.date_time[0] - 1980) << 9 | info.date_time[1] << 5 | info.date_time[2]
        extra = struct.pack("<HHQQQ", 1, 24, info.file_size, info.compress_size, info.header_offset)
        central += struct.pack(
            "<4s4B4HL2L5H2L",
            b"PK\x01\x02",
            45,
            3,
            45,
            0,
            info.flag_bits,
            info.compress_type,
            dostime,
            dosdate,
            info.CRC,
            0xFFFFFFFF,
            0xFFFFFFFF,
            len(name),
            len(extra),
            0,
            0,
            0,
            info.external_attr,
            0xFFFFFFFF,
        )
        central += name + extra
    zip64_end_offset = cd_offset + len(central)
    zip64_end = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, len(infos), len(infos), len(central), cd_offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, zip64_end_offset, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    return data[:cd_offset] + bytes(central) + zip64_end + locator + end + comment


def build_sdist(
    directory: Path,
    name: str,
    version: str,
    *,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    extras: Iterable[str] = (),
    metadata_version: str = "2.2",
    dynamic: Iterable[str] = (),
) -> Path:
    """Write ``{name}-{version}.tar.gz`` (PEP 625 name) with PKG-INFO, pyproject.toml and a module.

    PKG-INFO carries ``Dynamic:`` lines as given, so PEP 643 tests can tell static metadata (Metadata-Version
    2.2+, Requires-Dist not dynamic) from metadata a build would have to produce. The pyproject.toml names a
    setuptools backend; nothing here builds the sdist, which keeps tests offline.
    """
    directory.mkdir(parents=True, exist_ok=True)
    escaped = dist_name(name)
    root = f"{escaped}-{version}"
    path = directory / f"{root}.tar.gz"
    pkg_info = _metadata(
        name,
        version,
        metadata_version=metadata_version,
        requires_dist=requires_dist,
        requires_python=requires_python,
        extras=extras,
        dynamic=dynamic,
    )
    deps = ", ".join(f'"{req}"' for req in requires_dist)
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndependencies = [{deps}]\n'
    ).encode()
    members = {
        f"{root}/PKG-INFO": pkg_info,
        f"{root}/pyproject.toml": pyproject,
        f"{root}/src/{escaped}/__init__.py": f'__version__ = "{version}"\n'.encode(),
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mtime = _EPOCH_SECONDS
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return path


class WheelCache:
    """A session-wide store of built archives, keyed by every build argument.

    Tests ask for ``cache.wheel("foo", "1.0", requires_dist=["bar"])`` and get the same path back for the
    same arguments; each distinct build lives in its own folder, so two builds that share a filename (same
    name and version, other dependencies) never overwrite each other.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: dict[str, Path] = {}
        self.builds = 0

    def _key(self, kind: str, name: str, version: str, options: dict[str, object]) -> str:
        text = repr((kind, name, version, sorted((k, repr(v)) for k, v in options.items())))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def wheel(self, name: str, version: str, **options: object) -> Path:
        """A wheel built by :func:`build_wheel` with these arguments, built once per session."""
        key = self._key("wheel", name, version, options)
        if key not in self._paths:
            self._paths[key] = build_wheel(self.root / key, name, version, **options)  # type: ignore[arg-type]
            self.builds += 1
        return self._paths[key]

    def sdist(self, name: str, version: str, **options: object) -> Path:
        """An sdist built by :func:`build_sdist` with these arguments, built once per session."""
        key = self._key("sdist", name, version, options)
        if key not in self._paths:
            self._paths[key] = build_sdist(self.root / key, name, version, **options)  # type: ignore[arg-type]
            self.builds += 1
        return self._paths[key]
