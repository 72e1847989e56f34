"""Cached page digests: a JSON page is decoded once, then read back as compact rows; bad digests are refetched."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from resolver.index.cache import Cache
from resolver.index.client import DIGEST_TYPE
from tests.indexserver import fixtures
from tests.indexserver.model import Project, dist
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.test_cache import _client

index_server = fixtures.index_server


def _serve(server: IndexServer, wheels: WheelCache) -> None:
    server.add(
        Project(
            "foo",
            [
                dist(wheels.wheel("foo", "1.0", requires_dist=("bar",))),
                dist(wheels.wheel("foo", "2.0", requires_dist=("bar>=2",)), yanked="broken", requires_python=">=3.9"),
                dist(wheels.sdist("foo", "2.0")),
            ],
        )
    )


def test_a_json_page_is_cached_as_a_digest_and_reads_back_the_same(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve(index_server, wheel_cache)
    with _client(index_server.url, tmp_path) as first:
        page = first.project("foo")
        assert page is not None
        fresh = [(f.filename, f.url, f.hashes, f.yanked, f.requires_python, f.size) for f in page.files]
    url = f"{index_server.url}foo/"
    cached = Cache(tmp_path).get_page(url)
    assert cached is not None
    assert cached.content_type == DIGEST_TYPE
    with _client(index_server.url, tmp_path, offline=True) as second:
        again = second.project("foo")
        assert again is not None
        digested = [(f.filename, f.url, f.hashes, f.yanked, f.requires_python, f.size) for f in again.files]
    assert digested == fresh
    assert any(h == ("sha256", f.hash("sha256")) for f in again.files for h in f.hashes)


def test_an_unreadable_digest_is_fetched_again(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve(index_server, wheel_cache)
    with _client(index_server.url, tmp_path) as first:
        assert first.project("foo") is not None
    url = f"{index_server.url}foo/"
    cache = Cache(tmp_path)
    cached = cache.get_page(url)
    assert cached is not None
    cache.put_page(url, replace(cached, body=b"\x00not a digest"))  # stored intact, but not a digest we wrote
    index_server.clear_log()
    with _client(index_server.url, tmp_path) as second:
        page = second.project("foo")
        assert page is not None
        assert sorted(f.filename for f in page.files) == [
            "foo-1.0-py3-none-any.whl",
            "foo-2.0-py3-none-any.whl",
            "foo-2.0.tar.gz",
        ]
    assert index_server.requests("/simple/foo/") != []
