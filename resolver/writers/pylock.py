"""A lock as PEP 751 ``pylock.toml``: ``uv pip install -r pylock.toml`` (and pip's ``-r``) install it.

PURE: a :class:`~resolver.lock.model.Lock` in, TOML text out (written with tomli-w). What is written:

- top level: ``lock-version = "1.0"``, ``environments`` (the one target environment as a marker),
  ``requires-python`` (``==3.11.*``), ``created-by = "relax-pins"`` (no version: upgrading the tool does not
  churn the file);
- per package, by name: ``name``, ``version``, ``marker`` (the user's own, where it is the package's only
  reason), ``requires-python``, ``dependencies`` (``{name = ...}`` tables), ``index``, ``wheels`` (every wheel
  that fits the target: ``name``, ``url``, ``size``, ``upload-time``, ``hashes``) and ``sdist`` when the
  release has one;
- ``[tool.relax-pins]``: the inputs digest (``--check`` reads it offline), the sources, the target, the build
  variant, any find-links location.

Nothing volatile: upload times come from the index, the order is by name and file name, so locking the same
inputs against the same index writes the same bytes. The document goes through ``packaging.pylock.Pylock``
(``from_dict``, which validates it, then ``to_dict``) before ``tomli_w.dumps``: the file is what the library
that defines PEP 751 writes. Cost: one validation and one dump of a document the size of the lock.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import tomli_w
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from resolver.lock.model import CREATED_BY, environment_marker

if TYPE_CHECKING:
    from resolver.lock.model import Lock, LockedFile, LockedPackage

__all__ = ["pylock_document", "render_pylock"]

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE
)


def _upload_time(text: str | None) -> datetime | None:
    """PEP 700's ``upload-time`` (ISO 8601, any fraction, ``Z``) as a UTC datetime; ``None`` when unreadable."""
    match = _ISO.fullmatch(text.strip()) if text else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    micro = int((match[7] or "0")[:6].ljust(6, "0"))
    zone = match[8] or "Z"
    offset = timedelta(0)
    if zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone(offset))
    except ValueError:
        return None
    return moment.astimezone(timezone.utc)


def _file(file: LockedFile) -> dict[str, object]:
    entry: dict[str, object] = {"name": file.filename, "url": file.url}
    if file.size is not None:
        entry["size"] = file.size
    uploaded = _upload_time(file.upload_time)
    if uploaded is not None:
        entry["upload-time"] = uploaded
    entry["hashes"] = {"sha256": file.sha256}
    return entry


def _valid_specifier(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    try:
        return str(SpecifierSet(text))
    except InvalidSpecifier:
        return None  # real indexes serve broken Requires-Python; pip ignores them, so does the lock


def _package(package: LockedPackage) -> dict[str, object]:
    entry: dict[str, object] = {"name": package.name, "version": str(package.version)}
    if package.marker:
        entry["marker"] = package.marker
    requires_python = _valid_specifier(package.requires_python)
    if requires_python:
        entry["requires-python"] = requires_python
    if package.dependencies:
        entry["dependencies"] = [{"name": name} for name in package.dependencies]
    if package.index:
        entry["index"] = package.index
    if package.wheels:
        entry["wheels"] = [_file(w) for w in package.wheels]
    if package.sdist is not None:
        entry["sdist"] = _file(package.sdist)
    return entry


def pylock_document(lock: Lock) -> dict[str, object]:
    """The lock as the PEP 751 TOML document (a plain dict, as ``Pylock.from_dict`` takes it)."""
    major, minor = lock.target.python_version
    described = lock.target.describe()
    tool: dict[str, object] = {
        "inputs": lock.inputs,
        "sources": list(lock.sources),
        "target": {"python": described["python"], "platform": described["platform"]},
    }
    if lock.variant:
        tool["variant"] = lock.variant
    if lock.find_links:
        tool["find-links"] = list(lock.find_links)
    return {
        "lock-version": "1.0",
        "environments": [environment_marker(lock.target)],
        "requires-python": f"=={major}.{minor}.*",
        "created-by": CREATED_BY,
        "packages": [_package(p) for p in sorted(lock.packages, key=lambda p: p.name)],
        "tool": {"relax-pins": tool},
    }


def render_pylock(lock: Lock, *, output: str = "pylock.toml") -> str:
    """The lock as ``pylock.toml`` text, with a comment that says where it came from and how to install it."""
    sources = ", ".join(lock.sources) or "the command line"
    header = [
        f"# Generated by relax-pins from {sources}; edit those files and lock again, not this one.",
        f"# install: uv pip install -r {output}   (or: pip install -r {output})",
        *(
            f"# warning: the dependencies of {name} cannot be read without building it; they are not locked"
            for name in lock.dynamic
        ),
    ]
    # Through packaging.pylock, the library that defines the format: it validates the document (a lock it would
    # refuse is never written) and writes it in its own order and spelling (markers with double quotes).
    from packaging.pylock import Pylock  # lazily: only a lock needs it

    document = dict(Pylock.from_dict(pylock_document(lock)).to_dict())
    return "\n".join(header) + "\n" + tomli_w.dumps(document)
