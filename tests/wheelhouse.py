"""Offline wheels for install tests: repack distributions installed in this environment as wheel files.

The tests that install relax-pins into a fresh venv (from its wheel, or through pre-commit) must pass with no
network, so they cannot download the dependencies. Every installed distribution lists its files in RECORD and
its tags in WHEEL; zipping those files back up gives a wheel that pip installs with ``--no-index
--find-links``. Scripts are not repacked: pip regenerates them from ``entry_points.txt``.
"""

from __future__ import annotations

import re
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = ["build_wheelhouse"]


def _closure(roots: list[str]) -> list[metadata.Distribution]:
    """The installed distributions ``roots`` need, transitively (markers evaluated here, no extras)."""
    env = {k: str(v) for k, v in default_environment().items()}
    seen: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        if key in seen:
            continue
        dist = metadata.distribution(req.name)
        seen[key] = dist
        for dep in dist.requires or []:
            parsed = Requirement(dep)
            if parsed.marker is None or parsed.marker.evaluate({**env, "extra": ""}):
                todo.append(parsed)
    return list(seen.values())


def _repack(dist: metadata.Distribution, dest: Path) -> Path:
    wheel_meta = dist.read_text("WHEEL") or ""
    tags = re.findall(r"^Tag:\s*(\S+)", wheel_meta, flags=re.MULTILINE) or ["py3-none-any"]
    name = re.sub(r"[^\w\d.]+", "_", dist.metadata["Name"], flags=re.UNICODE)
    # A compressed tag set (``py2.py3-none-any``) covers every tag the WHEEL file lists.
    fields = [sorted({t.split("-")[i] for t in tags}) for i in range(3)]
    out = dest / f"{name}-{dist.version}-{'-'.join('.'.join(f) for f in fields)}.whl"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for file in dist.files or []:
            parts = Path(file).parts
            if (parts and parts[0] == "..") or "__pycache__" in parts or str(file).endswith(".pyc"):
                continue
            located = Path(str(dist.locate_file(file)))
            if located.is_file():
                zf.write(located, str(file))
    return out


def build_wheelhouse(dest: Path, roots: list[str]) -> Path:
    """Write wheels of ``roots`` and their installed dependencies into ``dest``; return ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for dist in _closure(roots):
        if canonicalize_name(dist.metadata["Name"]) == "relax-pins":
            continue
        _repack(dist, dest)
    return dest
