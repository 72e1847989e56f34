"""The only network boundary: pure page and metadata parsers (``simple``, ``metadata``) and the client."""

from __future__ import annotations

__all__: list[str] = []
