"""The on-disk cache alone (format, corruption, concurrency) and as the client uses it (freshness,
revalidation, offline, refresh), against the loopback index."""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from resolver.index.cache import Cache, CachedPage, default_cache_dir
from resolver.index.client import IndexClient, IndexUnreachableError
from resolver.index.settings import IndexSettings
from tests.indexserver import fixtures
from tests.indexserver.model import Project, dist

if TYPE_CHECKING:
    from tests.indexserver.server import IndexServer
    from tests.indexserver.wheels import WheelCache

index_server = fixtures.index_server
wheel_cache = fixtures.wheel_cache

SECRET = "hunter2-token"


def _page(body: bytes = b"<html></html>", **changes: Any) -> CachedPage:
    values: dict[str, Any] = {
        "body": body,
        "content_type": "text/html",
        "etag": '"abc"',
        "last_modified": "Mon, 01 Jan 2024 00:00:00 GMT",
        "fetched_at": 1000.0,
        "max_age": 600,
    }
    return CachedPage(**{**values, **changes})


def _client(url: str, cache_dir: Path, **options: Any) -> IndexClient:
    settings = IndexSettings(index_url=url)
    defaults: dict[str, Any] = {"retries": 1, "backoff": 0.01, "timeout": 5.0, "netrc": False}
    return IndexClient(settings, cache=Cache(cache_dir), **{**defaults, **options})


def _entries(root: Path, kind: str = "") -> list[Path]:
    return sorted(p for p in (root / kind).rglob("*") if p.is_file())


# -- the cache alone ---------------------------------------------------------------------------------------


def test_default_cache_dir_precedence(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    assert default_cache_dir({"HOME": home}) == Path(home) / ".cache" / "relax-pins"
    assert default_cache_dir({"HOME": home, "XDG_CACHE_HOME": "/x"}) == Path("/x/relax-pins")
    env = {"HOME": home, "XDG_CACHE_HOME": "/x", "RELAX_PINS_CACHE_DIR": "/y/cache"}
    assert default_cache_dir(env) == Path("/y/cache")


def test_pages_and_metadata_round_trip(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    assert cache.get_page("http://h/simple/foo/") is None
    page = _page(b"\x00body\xff", status=404, final_url="http://h/simple/foo/", max_age=None)
    cache.put_page("http://h/simple/foo/", page)
    assert cache.get_page("http://h/simple/foo/") == page
    cache.put_metadata("sha256:ab", b"Metadata-Version: 2.1\n")
    cache.put_metadata("sha256:empty", b"")
    assert cache.get_metadata("sha256:ab") == b"Metadata-Version: 2.1\n"
    assert cache.get_metadata("sha256:empty") == b""
    assert cache.get_metadata("sha256:other") is None
    assert not [p for p in _entries(tmp_path) if p.name.endswith(".part")]


def test_freshness() -> None:
    assert _page(fetched_at=100.0, max_age=10).is_fresh(105.0)
    assert not _page(fetched_at=100.0, max_age=10).is_fresh(111.0)
    assert not _page(max_age=None).is_fresh(0.0)


def test_credentials_never_reach_the_disk(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put_page(f"https://user:{SECRET}@h/simple/foo/", _page())
    assert cache.get_page(f"https://user:{SECRET}@h/simple/foo/") is not None
    assert cache.get_page("https://user:other@h/simple/foo/") is not None  # the same redacted key
    for entry in _entries(tmp_path):
        assert SECRET not in str(entry)
        assert SECRET.encode() not in entry.read_bytes()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "empty", "foreign"])
def test_corrupt_entries_are_dropped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    cache = Cache(tmp_path)
    cache.put_page("http://h/simple/a/", _page(b"a" * 1000))
    cache.put_page("http://h/simple/b/", _page(b"b" * 1000))
    entries = _entries(tmp_path, "pages")
    first = entries[0]
    raw = first.read_bytes()
    damaged = {
        "truncate": raw[: len(raw) - 10],
        "garbage": b"\x89PNG not a cache entry at all",
        "flip": raw[:-1] + bytes([raw[-1] ^ 1]),
        "empty": b"",
        "foreign": entries[1].read_bytes(),
    }[damage]
    first.write_bytes(damaged)
    with caplog.at_level(logging.WARNING):
        results = [cache.get_page("http://h/simple/a/"), cache.get_page("http://h/simple/b/")]
    assert results.count(None) == 1
    assert not first.exists()
    assert "dropped corrupt cache entry" in caplog.text


def test_unwritable_cache_only_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    cache = Cache(blocker)
    with caplog.at_level(logging.WARNING):
        cache.put_metadata("sha256:ab", b"x")
    assert cache.get_metadata("sha256:ab") is None
    assert "could not write cache entry" in caplog.text


def _hammer(root: str, worker: int) -> int:
    """One of 8 processes: write and read the same entries over and over; every read must be whole."""
    cache = Cache(Path(root))
    seen = 0
    for round_ in range(60):
        body = bytes([worker]) * (5000 + round_)
        cache.put_page("http://h/simple/shared/", _page(body))
        cache.put_metadata("sha256:shared", body)
        page = cache.get_page("http://h/simple/shared/")
        data = cache.get_metadata("sha256:shared")
        for got in (page.body if page else None, data):
            if got is not None:
                assert len(set(got)) == 1
                assert 5000 <= len(got) < 5060
                seen += 1
    return seen


def test_eight_processes_share_one_cache(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(_hammer, [str(tmp_path)] * 8, range(8)))
    assert all(seen == 120 for seen in results)
    assert not [p for p in _entries(tmp_path) if p.name.endswith(".part")]


# -- the client with a cache -------------------------------------------------------------------------------


def _serve_foo(server: IndexServer, cache: WheelCache, cache_control: str = "max-age=600") -> None:
    server.cache_control = cache_control
    server.add(Project("foo", [dist(cache.wheel("foo", "1.0", requires_dist=["bar"]))]))


def test_fresh_page_and_cached_metadata_need_no_request(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve_foo(index_server, wheel_cache)
    with _client(index_server.url, tmp_path) as warm:
        page = warm.project("foo")
        assert page is not None
        assert warm.metadata(page.files[0]) is not None
    requests = len(index_server.log)
    with _client(index_server.url, tmp_path) as client:
        page = client.project("foo")
        assert page is not None
        metadata = client.metadata(page.files[0])
    assert metadata is not None
    assert metadata.requires_dist == ("bar",)
    assert len(index_server.log) == requests
    assert client.stats.cache_hits == 2
    assert client.stats.requests == 0


def test_stale_page_is_revalidated_with_304(index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    _serve_foo(index_server, wheel_cache, "no-cache")
    with _client(index_server.url, tmp_path) as warm:
        assert warm.project("foo") is not None
    with _client(index_server.url, tmp_path) as client:
        page = client.project("foo")
    assert page is not None
    assert [f.filename for f in page.files] == ["foo-1.0-py3-none-any.whl"]
    second = index_server.requests("/simple/foo/")[-1]
    assert second.status == 304
    assert "if-none-match" in second.headers
    assert "if-modified-since" in second.headers
    assert client.stats.cache_hits == 1


def test_changed_page_replaces_the_cached_one(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve_foo(index_server, wheel_cache, "max-age=0")
    with _client(index_server.url, tmp_path) as warm:
        assert warm.project("foo") is not None
    index_server.add_files("foo", dist(wheel_cache.wheel("foo", "2.0")))
    with _client(index_server.url, tmp_path) as client:
        page = client.project("foo")
    assert page is not None
    assert len(page.files) == 2
    assert index_server.requests("/simple/foo/")[-1].status == 200


def test_offline_with_an_empty_cache_opens_no_socket(index_server: IndexServer, tmp_path: Path) -> None:
    with _client(index_server.url, tmp_path, offline=True) as client:
        with pytest.raises(IndexUnreachableError) as caught:
            client.project("foo")
        assert client._transport._http is None  # no HTTP client, so no socket, was ever made
    assert "offline" in str(caught.value)
    assert caught.value.exit_code == 3
    assert index_server.log == []


def test_offline_with_a_warm_cache_works_without_the_server(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve_foo(index_server, wheel_cache, "no-cache")
    with _client(index_server.url, tmp_path) as warm:
        page = warm.project("foo")
        assert page is not None
        assert warm.metadata(page.files[0]) is not None
        assert warm.project("missing") is None
    url = index_server.url
    index_server.stop()
    with _client(url, tmp_path, offline=True) as client:
        page = client.project("foo")
        assert page is not None
        metadata = client.metadata(page.files[0])
        assert client.project("missing") is None  # the 404 is remembered too
        assert client._transport._http is None
    assert metadata is not None
    assert metadata.requires_dist == ("bar",)


def test_offline_metadata_missing_from_the_cache(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve_foo(index_server, wheel_cache)
    with _client(index_server.url, tmp_path) as warm:
        assert warm.project("foo") is not None
    requests = len(index_server.log)
    with _client(index_server.url, tmp_path, offline=True) as client:
        page = client.project("foo")
        assert page is not None
        with pytest.raises(IndexUnreachableError, match="offline"):
            client.metadata(page.files[0])
    assert len(index_server.log) == requests


def test_refresh_ignores_the_cache(index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    _serve_foo(index_server, wheel_cache)
    with _client(index_server.url, tmp_path) as warm:
        page = warm.project("foo")
        assert page is not None
        assert warm.metadata(page.files[0]) is not None
    index_server.clear_log()
    with _client(index_server.url, tmp_path, refresh=True) as client:
        page = client.project("foo")
        assert page is not None
        assert client.metadata(page.files[0]) is not None
    [request] = index_server.requests("/simple/foo/")
    assert request.status == 200
    assert "if-none-match" not in request.headers
    assert len(index_server.requests("/files/*")) == 1


def test_corrupt_page_entry_is_refetched(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _serve_foo(index_server, wheel_cache)
    with _client(index_server.url, tmp_path) as warm:
        assert warm.project("foo") is not None
    for entry in _entries(tmp_path, "pages"):
        entry.write_bytes(entry.read_bytes()[:-7])
    with caplog.at_level(logging.WARNING), _client(index_server.url, tmp_path) as client:
        page = client.project("foo")
    assert page is not None
    assert "dropped corrupt cache entry" in caplog.text
    assert [r.status for r in index_server.requests("/simple/foo/")] == [200, 200]


def test_no_store_pages_are_not_written(index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    _serve_foo(index_server, wheel_cache, "no-store")
    with _client(index_server.url, tmp_path) as client:
        assert client.project("foo") is not None
    assert _entries(tmp_path, "pages") == []


def test_eight_threads_with_their_own_clients_share_one_cache(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    names = [f"p{i}" for i in range(4)]
    index_server.cache_control = "no-cache"
    index_server.add(*(Project(n, [dist(wheel_cache.wheel(n, "1.0", requires_dist=[f"dep{n}"]))]) for n in names))

    def work() -> tuple[str, ...]:
        with _client(index_server.url, tmp_path) as client:
            found = []
            for name in names:
                page = client.project(name)
                assert page is not None
                metadata = client.metadata(page.files[0])
                assert metadata is not None
                found.append(metadata.requires_dist[0])
            return tuple(found)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [future.result() for future in [pool.submit(work) for _ in range(8)]]
    assert results == [tuple(f"dep{n}" for n in names)] * 8
