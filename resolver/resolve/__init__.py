"""Resolution over the index: the resolvelib provider, the engine, and the index-backed candidate source."""

from __future__ import annotations

__all__: list[str] = []
