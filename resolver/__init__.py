"""relax-pins: turn exact dependency pins into verified, compatible ranges.

The import package is ``resolver``; the distribution and the command are ``relax-pins``.
The library API lives in :mod:`resolver.pipeline`; the command line in :mod:`resolver.cli`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("relax-pins")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
