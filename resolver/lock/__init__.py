"""Locks and layers as values: the lock model (PEP 751 facts, hashes, the inputs digest) and the layer plan."""

from __future__ import annotations

__all__: list[str] = []
