"""Fetching ahead of the resolver, against the loopback index: the look-ahead walk (resolver.resolve.source)
and the warm-cache test that decides whether to fork workers (IndexClient.views_ready)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from resolver.core.target import make_target
from resolver.index.cache import Cache
from resolver.index.client import IndexClient
from resolver.index.finder import Finder
from resolver.index.settings import IndexSettings
from resolver.resolve.model import Req
from resolver.resolve.provider import Provider
from resolver.resolve.source import IndexSource
from tests.indexserver import fixtures
from tests.scenario import Rel, publish

if TYPE_CHECKING:
    from tests.indexserver.server import IndexServer
    from tests.indexserver.wheels import WheelCache

index_server = fixtures.index_server
wheel_cache = fixtures.wheel_cache

TARGET = make_target("3.11", "manylinux_2_28_x86_64")
CHAIN = {
    "app": [Rel("1.0", ["lib>=1", "winonly; sys_platform == 'win32'", "extra-only; extra == 'x'"])],
    "lib": [Rel("1.0", ["other"]), Rel("2.0", ["leaf"])],
    "leaf": [Rel("1.0")],
    "other": [Rel("1.0")],
    "winonly": [Rel("1.0")],
    "extra-only": [Rel("1.0")],
}


def _client(url: str, cache_dir: Path | None = None, **options: Any) -> IndexClient:
    cache = Cache(cache_dir) if cache_dir is not None else None
    return IndexClient(
        IndexSettings(index_url=url), cache=cache, retries=1, backoff=0.01, timeout=5.0, netrc=False, **options
    )


def _asked(server: IndexServer, name: str) -> bool:
    return bool(server.requests(f"*/{name}-*")) or bool(server.requests(f"*/{name}/"))


def _wait_for(condition: Any, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_walk_fetches_the_likely_tree_and_nothing_the_target_excludes(
    index_server: IndexServer, wheel_cache: WheelCache
) -> None:
    publish(index_server, wheel_cache, CHAIN)
    with _client(index_server.url) as client:
        finder = Finder(client, TARGET)
        source = IndexSource(finder=finder, client=client, walk=True)
        source.look_ahead([Req(name=canonicalize_name("app"))], Provider(source=source, markers=TARGET.markers))
        # Two levels below app, reached with nobody resolving: app's metadata names lib, lib 2.0's names leaf.
        assert _wait_for(lambda: _asked(index_server, "leaf-1.0")), [r.path for r in index_server.log]
    for name in ("winonly", "extra-only", "other", "lib-1.0"):  # a false marker, an extra nobody asked for,
        assert not _asked(index_server, name), name  # and the dependency of a release the resolver won't pick


def test_without_workers_the_walk_only_reads_the_first_views(
    index_server: IndexServer, wheel_cache: WheelCache
) -> None:
    publish(index_server, wheel_cache, CHAIN)
    with _client(index_server.url) as client:
        source = IndexSource(finder=Finder(client, TARGET), client=client)  # walk=None: follows the client
        assert not client.offloading
        source.look_ahead([Req(name=canonicalize_name("app"))], Provider(source=source, markers=TARGET.markers))
        assert _wait_for(lambda: bool(index_server.requests("/simple/app/")))
    time.sleep(0.2)
    assert not _asked(index_server, "app-1.0")  # no metadata fetched ahead, so no second level either
    assert not _asked(index_server, "lib")


def test_views_ready_is_true_only_when_every_view_would_come_from_the_cache(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    publish(index_server, wheel_cache, CHAIN)
    cache_dir = tmp_path / "cache"
    with _client(index_server.url, cache_dir) as client:
        finder = Finder(client, TARGET)
        assert not client.views_ready(["app", "lib"], finder.reader)  # nothing cached yet
        assert [str(c.version) for c in finder.candidates("lib", SpecifierSet())] == ["2.0", "1.0"]
        assert finder.candidates("app", SpecifierSet())
        finder.remember()
    with _client(index_server.url, cache_dir) as client:
        finder = Finder(client, TARGET)
        assert client.views_ready(["app", "lib"], finder.reader)
        assert not client.views_ready(["app", "leaf"], finder.reader)  # leaf's page was never read
        assert not client.views_ready(["app"], Finder(client, make_target("3.11", "win_amd64")).reader)
        assert finder.offload_views() is False  # warm: the last run's views are all here, nothing to fork
    cache = Cache(cache_dir)
    page = cache.get_page(f"{index_server.url}lib/")
    assert page is not None
    from dataclasses import replace

    cache.put_page(f"{index_server.url}lib/", replace(page, fetched_at=0.0, max_age=1))
    with _client(index_server.url, cache_dir) as client:
        assert not client.views_ready(["app", "lib"], Finder(client, TARGET).reader)  # stale: a request to make
