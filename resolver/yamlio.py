"""YAML reading for the shipped data files and user configuration: libyaml's loader when PyYAML has it.

The CUDA matrix is ~2,700 nodes; the pure-Python loader took ~0.25 s to read it, on every command that
looks at the torch family, while libyaml's takes ~0.02 s. Both build the same plain data (safe tags only)
and raise the same :class:`yaml.YAMLError` subclasses, so callers see no difference but the time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["safe_load", "shipped_file"]

_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:  # noqa: ANN401 - a YAML document is any plain value
    """``yaml.safe_load(text)`` by the fastest safe loader available."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (C or Python), never the full one


def shipped_file(name: str) -> Path | None:
    """A data file shipped with the package: ``resolver/data/NAME`` in a wheel, ``data/NAME`` at the top of a
    source tree (the wheel's build copies it there). ``None`` when neither exists."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "data" / name, package.parent / "data" / name):
        if candidate.is_file():
            return candidate
    return None
