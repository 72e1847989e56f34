"""Pytest fixtures for the loopback index; ``tests/conftest.py`` imports them by name.

``wheel_cache`` is session-scoped so a suite that needs hundreds of archives builds each distinct one once;
``index_server`` is function-scoped so faults, auth and the request log never leak between tests. Its
teardown stops the server and closes every connection (bounded to a few seconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["index_server", "wheel_cache"]


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> WheelCache:
    """Wheels and sdists built once per session: ``wheel_cache.wheel("foo", "1.0", requires_dist=[...])``."""
    return WheelCache(tmp_path_factory.mktemp("wheels"))


@pytest.fixture
def index_server() -> Iterator[IndexServer]:
    """A running, empty :class:`IndexServer` on ``127.0.0.1``; ``index_server.url`` ends in ``/simple/``."""
    server = IndexServer().start()
    try:
        yield server
    finally:
        server.stop()
