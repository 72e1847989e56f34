"""relax-pins: turn exact dependency pins into verified, compatible ranges.

The import package is ``resolver``; the distribution and the command are ``relax-pins``.
The library API lives in :mod:`resolver.pipeline.relax`; the command line in :mod:`resolver.cli`.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed distribution on first use (importlib.metadata costs ~40 ms
    of start-up, which every command but ``--version`` would pay for nothing)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version  # lazily: see the docstring

    try:
        found = version("relax-pins")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found
