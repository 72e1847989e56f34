"""The only network boundary: pure parsers (``simple``, ``metadata``, ``urls``) and the client over them.

``client.IndexClient`` is the facade; ``transport`` is the only module besides it that may import httpx.
"""

from __future__ import annotations

__all__: list[str] = []
