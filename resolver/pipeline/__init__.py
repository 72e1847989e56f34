"""The library API: inputs -> environments -> index session -> relax, check, lock, layers. Prints nothing."""

from __future__ import annotations

__all__: list[str] = []
