"""Renderers: values in, strings out. Each output format is one module; none of them prints."""

from __future__ import annotations

__all__: list[str] = []
