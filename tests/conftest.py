"""Shared fixtures: the loopback package index (tests/indexserver) for every test module."""

from __future__ import annotations

from tests.indexserver.fixtures import index_server, wheel_cache

__all__ = ["index_server", "wheel_cache"]
