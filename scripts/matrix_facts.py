"""Read the facts behind ``data/cuda_torch_matrix.yaml`` from the configured main index again.

A maintainer's research script, not part of the package. The matrix cites, for every torch line, facts that
the main index itself publishes; this script reads them again so that the table can be refreshed and checked:

- the simple API (PEP 691 JSON) of torch, torchvision and torchaudio: versions, upload times, yanked flags,
  Requires-Python and wheel tags (the CPython versions, the manylinux glibc floor of the Linux wheels);
- the core metadata of one Linux x86_64 and one Linux aarch64 wheel per torch release, and of one wheel per
  companion release. The PEP 658 ``<wheel>.metadata`` file is tried first; when it is not served, the
  ``*.dist-info/METADATA`` member is read out of the wheel with HTTP range requests (the end of central
  directory, the central directory, then that one member), never the whole wheel. Requires-Dist then gives
  torch's CUDA runtime pin (``nvidia-cuda-runtime-cuNN==`` or ``cuda-toolkit[...]==``) and triton pin, and
  the companions' ``torch`` requirement;
- with ``--version-py``, ``torch/version.py`` out of each Linux x86_64 torch wheel (its ``cuda = '...'``
  line), which names the CUDA the wheel was built with even where no nvidia-* requirement says it (1.12).

The index comes from pip's configuration: ``--index-url``, else ``PIP_INDEX_URL``, else
``pip config get global.index-url``, else pip's own built-in default. No host name is written here.
Requests are sequential, cached on disk under ``--cache`` (a temporary directory by default) and counted: a
first full run makes about 520 (most wheels serve no PEP 658 file, so their METADATA costs four range requests),
about 650 with ``--version-py``; a run over a warm cache makes none.

Usage::

    python scripts/matrix_facts.py --out facts.json [--version-py] [--check data/cuda_torch_matrix.yaml]

``--check`` compares the facts with the matrix (through ``resolver.cuda.matrix``) and exits 1 on a difference;
a later ``relax-pins matrix --verify`` may reuse :func:`collect` and :func:`compare`.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import parse_wheel_filename
from packaging.version import Version

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
FIRST_TORCH = Version("1.12")
FIRST_VISION = Version("0.13")
FIRST_AUDIO = Version("0.12")
_CUDA_PIN = re.compile(r"^(nvidia-cuda-runtime(-cu\d+)?|cuda-toolkit)$")
_VERSION_PY = re.compile(r"torch/version\.py")
_VERSION_PY_CUDA = re.compile(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


# --------------------------------------------------------------------------------------------------- index


def configured_index_url() -> str:
    """The simple-API root pip would use: PIP_INDEX_URL, pip's configuration, then pip's default."""
    env = os.environ.get("PIP_INDEX_URL")
    if env:
        return env.split()[0]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip()
    from pip._internal.models.index import PyPI  # pip's own default, read from pip itself

    return str(PyPI.simple_url)


@dataclass
class Fetcher:
    """Sequential GETs with an on-disk cache; ``requests`` counts what went to the network."""

    cache: Path
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=120, follow_redirects=True))
    requests: int = 0

    def get(self, url: str, *, accept: str | None = None, byte_range: str | None = None) -> bytes | None:
        key = hashlib.sha256(f"{url}|{accept}|{byte_range}".encode()).hexdigest()
        path = self.cache / key
        miss = self.cache / f"{key}.404"
        if path.exists():
            return path.read_bytes()
        if miss.exists():
            return None
        headers = {}
        if accept:
            headers["Accept"] = accept
        if byte_range:
            headers["Range"] = f"bytes={byte_range}"
        self.requests += 1
        response = self.client.get(url, headers=headers)
        if response.status_code == 404:
            miss.write_bytes(b"")
            return None
        response.raise_for_status()
        if byte_range and response.status_code != 206:
            raise RuntimeError(f"{url}: the server ignored the range request (status {response.status_code})")
        self.cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(response.content)
        return response.content


def project_page(fetch: Fetcher, index: str, name: str) -> dict[str, Any]:
    body = fetch.get(f"{index.rstrip('/')}/{name}/", accept=SIMPLE_JSON)
    if body is None:
        raise SystemExit(f"{name}: not on the index")
    page: dict[str, Any] = json.loads(body)
    return page


# ------------------------------------------------------------------------------------- wheels as zip files


def _span(fetch: Fetcher, url: str, start: int, end: int) -> bytes:
    """Bytes ``start``..``end`` (inclusive) of a file the simple API listed, so absence is an error."""
    data = fetch.get(url, byte_range=f"{start}-{end}")
    if data is None:
        raise RuntimeError(f"{url}: not found, although the simple API lists it")
    return data


def read_member(fetch: Fetcher, url: str, size: int, wanted: re.Pattern[str]) -> tuple[str, bytes] | None:
    """One member of a remote zip, through range requests: tail, central directory, local header, member."""
    tail_start = max(0, size - 65536)
    tail = _span(fetch, url, tail_start, size - 1)
    eocd = tail.rfind(b"PK\x05\x06")
    if eocd < 0:
        raise RuntimeError(f"{url}: no end of central directory")
    cd_size, cd_offset = struct.unpack("<II", tail[eocd + 12 : eocd + 20])
    locator = tail.rfind(b"PK\x06\x07", 0, eocd)
    if locator >= 0:  # ZIP64: the real sizes are in the ZIP64 end record
        (zip64_eocd,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        cd_size, cd_offset = struct.unpack("<QQ", _span(fetch, url, zip64_eocd, zip64_eocd + 55)[40:56])
    directory = _span(fetch, url, cd_offset, cd_offset + cd_size - 1)
    pos = 0
    while directory[pos : pos + 4] == b"PK\x01\x02":
        (method,) = struct.unpack("<H", directory[pos + 10 : pos + 12])
        comp_size, _, name_len, extra_len, note_len = struct.unpack("<IIHHH", directory[pos + 20 : pos + 34])
        (local_offset,) = struct.unpack("<I", directory[pos + 42 : pos + 46])
        name = directory[pos + 46 : pos + 46 + name_len].decode()
        pos += 46 + name_len + extra_len + note_len
        if wanted.fullmatch(name):
            header = _span(fetch, url, local_offset, local_offset + 29)
            local_name_len, local_extra_len = struct.unpack("<HH", header[26:30])
            start = local_offset + 30 + local_name_len + local_extra_len
            data = _span(fetch, url, start, start + comp_size - 1)
            return name, zlib.decompress(data, -15) if method == 8 else data
    return None


def wheel_metadata(fetch: Fetcher, file: dict[str, Any]) -> tuple[str, str] | None:
    """(how it was read, METADATA text) of one wheel: PEP 658 first, then range requests."""
    body = fetch.get(file["url"] + ".metadata")
    if body is not None:
        return "pep658", body.decode()
    found = read_member(fetch, file["url"], int(file["size"]), re.compile(r"[^/]+\.dist-info/METADATA"))
    if found is None:
        return None
    return "range", found[1].decode()


# --------------------------------------------------------------------------------------------------- facts


def _wheels(page: dict[str, Any], version: Version) -> list[dict[str, Any]]:
    out = []
    for file in page["files"]:
        if not file["filename"].endswith(".whl"):
            continue
        _, wheel_version, _, _ = parse_wheel_filename(file["filename"])
        if wheel_version == version:
            out.append(file)
    return out


def _platform_wheel(files: list[dict[str, Any]], machine: str) -> dict[str, Any] | None:
    """A Linux wheel for ``machine`` (the newest regular CPython), else a pure-Python wheel."""
    candidates = []
    for file in files:
        _, _, _, tags = parse_wheel_filename(file["filename"])
        if any("linux" in t.platform and t.platform.endswith(machine) for t in tags):
            free_threaded = any(t.abi.endswith("t") for t in tags)
            candidates.append((not free_threaded, _cp_key(sorted(t.interpreter for t in tags)[0]), file))
    if candidates:
        return max(candidates, key=lambda c: (c[0], c[1]))[2]
    pure = [f for f in files if f["filename"].endswith("-none-any.whl")]
    return pure[0] if pure else None


def _tags(files: list[dict[str, Any]]) -> dict[str, Any]:
    cpython: set[str] = set()
    glibc: set[str] = set()
    for file in files:
        _, _, _, tags = parse_wheel_filename(file["filename"])
        for tag in tags:
            linux_x86 = "linux" in tag.platform and tag.platform.endswith("x86_64")
            if linux_x86 and tag.interpreter.startswith("cp"):
                cpython.add(tag.abi if tag.abi.endswith("t") else tag.interpreter)
                glibc.add(tag.platform.removesuffix("_x86_64"))
    return {"cpython": sorted(cpython, key=_cp_key), "linux_x86_64_platforms": sorted(glibc)}


def _cp_key(tag: str) -> tuple[int, int, str]:
    digits = re.sub(r"\D", "", tag)
    return (int(digits[0]), int(digits[1:] or 0), tag)


def _requirements(metadata: str, machine: str, python: str) -> list[Requirement]:
    message = email.parser.Parser().parsestr(metadata)
    env = {"platform_system": "Linux", "sys_platform": "linux", "platform_machine": machine}
    env |= {"python_version": python, "python_full_version": f"{python}.0", "extra": ""}
    out = []
    for line in message.get_all("Requires-Dist") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is None or Marker(str(req.marker)).evaluate(env):
            out.append(req)
    return out


def torch_facts(req: list[Requirement]) -> dict[str, str | None]:
    """CUDA runtime, triton and NCCL pins of one torch wheel's (marker-evaluated) requirements."""
    cuda = triton = nccl = None
    for r in req:
        spec = str(r.specifier)
        if _CUDA_PIN.match(r.name):
            pinned = [s.version for s in r.specifier if s.operator == "=="]
            cuda = ".".join(pinned[0].split(".")[:2]) if pinned else None
        elif r.name in {"triton", "pytorch-triton"}:
            triton = spec
        elif r.name.startswith("nvidia-nccl"):
            nccl = f"{r.name}{spec}"
    return {"cuda": cuda, "triton": triton, "nccl": nccl}


def _oldest_python(cpython: list[str]) -> str:
    """The oldest regular CPython of a release, as ``3.N``: markers are evaluated for it.

    Every wheel of one release carries the same Requires-Dist; its markers (``python_version < "3.12"`` on
    triton in 2.2, for example) decide per interpreter, so the oldest one sees the most requirements.
    """
    regular = [tag for tag in cpython if not tag.endswith("t")]
    if not regular:
        return "3.12"
    major, minor, _ = _cp_key(regular[0])
    return f"{major}.{minor}"


def collect(fetch: Fetcher, index: str, *, version_py: bool = False) -> dict[str, Any]:
    """Everything this script knows how to read, as one JSON-able mapping."""
    pages = {name: project_page(fetch, index, name) for name in ("torch", "torchvision", "torchaudio")}
    facts: dict[str, Any] = {"index_pages": sorted(pages), "torch": {}, "torchvision": {}, "torchaudio": {}}
    for name, first in (("torch", FIRST_TORCH), ("torchvision", FIRST_VISION), ("torchaudio", FIRST_AUDIO)):
        versions = sorted({Version(v) for v in pages[name].get("versions", [])})
        for version in versions:
            if version < first or version.is_prerelease or version.local:
                continue
            files = _wheels(pages[name], version)
            if not files:
                continue
            entry: dict[str, Any] = {
                "uploaded": min(f["upload-time"] for f in files)[:10],
                "yanked": all(bool(f.get("yanked")) for f in files),
                "requires_python": sorted({f.get("requires-python") or "" for f in files}),
            }
            entry |= _tags(files)
            x86 = _platform_wheel(files, "x86_64")
            if x86 is not None:
                read = wheel_metadata(fetch, x86)
                entry["metadata_from"] = f"{x86['filename']} ({read[0]})" if read else None
                if read:
                    reqs = _requirements(read[1], "x86_64", _oldest_python(entry["cpython"]))
                    if name == "torch":
                        entry |= torch_facts(reqs)
                    else:
                        entry["torch"] = next((str(r.specifier) for r in reqs if r.name == "torch"), None)
                if name == "torch" and version_py:
                    member = read_member(fetch, x86["url"], int(x86["size"]), _VERSION_PY)
                    found = _VERSION_PY_CUDA.search(member[1].decode()) if member else None
                    entry["version_py_cuda"] = found.group(1) if found else None
            if name == "torch":
                arm = _platform_wheel(files, "aarch64")
                if arm is not None and "aarch64" in arm["filename"]:
                    read = wheel_metadata(fetch, arm)
                    if read:
                        python = _oldest_python(entry["cpython"])
                        arm_facts = torch_facts(_requirements(read[1], "aarch64", python))
                        entry["aarch64_cuda"] = arm_facts["cuda"] or "cpu"
            facts[name][str(version)] = entry
    facts["requests"] = fetch.requests
    return facts


# ------------------------------------------------------------------------------------------------- compare


def compare(facts: dict[str, Any], matrix_path: Path) -> list[str]:
    """Where the matrix and the index disagree, one line each (empty: they agree)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from resolver.cuda.matrix import load_matrix

    matrix = load_matrix(matrix_path.read_text(encoding="utf-8"), source=str(matrix_path))
    problems = []
    for version, seen in facts["torch"].items():
        release = matrix.release_for(version)
        if release is None:
            problems.append(f"torch {version}: not listed in the matrix")
            continue
        want_cuda = seen.get("cuda") or seen.get("version_py_cuda")
        if want_cuda and release.cuda and release.cuda != want_cuda:
            problems.append(f"torch {version}: matrix says CUDA {release.cuda}, index says {want_cuda}")
        if seen.get("triton") and release.triton != seen["triton"]:
            problems.append(f"torch {version}: matrix triton {release.triton}, index {seen['triton']}")
    for name in ("torchvision", "torchaudio"):
        for version, seen in facts[name].items():
            pin = seen.get("torch") or ""
            if not pin.startswith("=="):
                continue
            torch_version = pin[2:]
            release = matrix.release_for(torch_version)
            paired = getattr(release, name, None)
            if release is None:
                problems.append(f"{name} {version} pins torch{pin}, which the matrix does not list")
            elif paired != version and not seen.get("yanked"):
                problems.append(f"{name} {version} pins torch{pin}; the matrix pairs {paired}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-url", help="simple-API root; default: pip's configuration")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "relax-pins-matrix-facts")
    parser.add_argument("--out", type=Path, help="write the facts here as JSON (default: stdout)")
    parser.add_argument("--version-py", action="store_true", help="also read torch/version.py of each torch")
    parser.add_argument("--check", type=Path, help="compare with this matrix file; exit 1 on a difference")
    args = parser.parse_args(argv)
    index = args.index_url or configured_index_url()
    fetch = Fetcher(cache=args.cache)
    facts = collect(fetch, index, version_py=args.version_py)
    text = json.dumps(facts, indent=1, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    print(f"{fetch.requests} requests to the index", file=sys.stderr)
    if args.check:
        problems = compare(facts, args.check)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
