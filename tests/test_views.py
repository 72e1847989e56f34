"""Finder views (resolver.index.finder, "views"): a warm run reads a small per-target view instead of the page,
an unchanged page downloaded again keeps its view, a changed page or another target gets a new one, and a
damaged view is rebuilt. Against the loopback index, with a real cache folder."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from packaging.specifiers import SpecifierSet

import resolver.index.pages as pages_module
from resolver.core.target import make_target
from resolver.index.cache import Cache, CachedPage
from resolver.index.client import IndexClient
from resolver.index.finder import Finder
from resolver.index.settings import IndexSettings
from tests.indexserver import fixtures
from tests.indexserver.model import Project, dist

if TYPE_CHECKING:
    from tests.indexserver.server import IndexServer
    from tests.indexserver.wheels import WheelCache

index_server = fixtures.index_server
wheel_cache = fixtures.wheel_cache

LINUX = "manylinux_2_28_x86_64"


def _client(url: str, cache_dir: Path, **options: Any) -> IndexClient:
    settings = IndexSettings(index_url=url)
    defaults: dict[str, Any] = {"retries": 1, "backoff": 0.01, "timeout": 5.0, "netrc": False}
    return IndexClient(settings, cache=Cache(cache_dir), **{**defaults, **options})


def _serve(server: IndexServer, wheels: WheelCache, *versions: str) -> None:
    files = []
    for version in versions:
        files.append(dist(wheels.wheel("foo", version, tags="cp311-cp311-manylinux_2_17_x86_64")))
        files.append(dist(wheels.wheel("foo", version, tags="cp311-cp311-win_amd64")))
    files.append(dist(wheels.wheel("foo", "0.5", tags="cp311-cp311-win_amd64")))  # no Linux wheel at all
    server.add(Project("foo", files))


def _candidates(url: str, cache_dir: Path, platform: str = LINUX, **options: Any) -> list[tuple[str, str]]:
    with _client(url, cache_dir, **options) as client:
        finder = Finder(client, make_target("3.11", platform))
        return [(str(c.version), c.link.filename) for c in finder.candidates("foo", SpecifierSet())]


def _make_stale(url: str, cache_dir: Path) -> None:
    """Age the cached page of foo past its freshness, body untouched."""
    cache = Cache(cache_dir)
    page = cache.get_page(f"{url}foo/")
    assert page is not None
    cache.put_page(f"{url}foo/", replace(page, fetched_at=0.0))


def _forbid_page_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("the page was decoded, though its view is cached")

    monkeypatch.setattr(pages_module, "parse_json_page_entries", refuse)
    monkeypatch.setattr(pages_module, "parse_html_page", refuse)


def test_a_warm_run_reads_the_view_and_neither_asks_for_nor_decodes_the_page(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(index_server, wheel_cache, "1.0", "2.0")
    first = _candidates(index_server.url, tmp_path)
    assert first == [
        ("2.0", "foo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        ("1.0", "foo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
    ]
    assert list((tmp_path / "views").rglob("*"))
    index_server.clear_log()
    _forbid_page_parsing(monkeypatch)
    assert _candidates(index_server.url, tmp_path) == first
    assert index_server.requests("/simple/foo/") == []


def test_a_stale_page_served_unchanged_keeps_its_view(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_server.cache_headers = False  # no validators: a stale page is downloaded whole again
    _serve(index_server, wheel_cache, "1.0", "2.0")
    first = _candidates(index_server.url, tmp_path)
    _make_stale(index_server.url, tmp_path)
    index_server.clear_log()
    _forbid_page_parsing(monkeypatch)
    assert _candidates(index_server.url, tmp_path) == first
    assert len(index_server.requests("/simple/foo/")) == 1


def test_a_changed_page_gets_a_new_view(index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    _serve(index_server, wheel_cache, "1.0")
    assert [v for v, _ in _candidates(index_server.url, tmp_path)] == ["1.0"]
    _serve(index_server, wheel_cache, "1.0", "3.0")
    _make_stale(index_server.url, tmp_path)
    assert [v for v, _ in _candidates(index_server.url, tmp_path)] == ["3.0", "1.0"]


def test_each_target_has_its_own_view(index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    _serve(index_server, wheel_cache, "1.0")
    linux = _candidates(index_server.url, tmp_path)
    windows = _candidates(index_server.url, tmp_path, platform="win_amd64")
    assert linux == [("1.0", "foo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")]
    assert windows == [
        ("1.0", "foo-1.0-cp311-cp311-win_amd64.whl"),
        ("0.5", "foo-0.5-cp311-cp311-win_amd64.whl"),
    ]
    assert len(list((tmp_path / "views").rglob("*/*"))) == 2
    assert _candidates(index_server.url, tmp_path) == linux  # the Linux view was not overwritten


def test_releases_from_a_view_still_list_every_file_of_a_version(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve(index_server, wheel_cache, "1.0")
    _candidates(index_server.url, tmp_path)
    with _client(index_server.url, tmp_path, offline=True) as client:
        releases = Finder(client, make_target("3.11", LINUX)).releases("foo")
        assert releases is not None
        by_version = {str(r.version): r for r in releases}
        assert not by_version["0.5"].has_compatible_wheel  # known from the view, without the page
        assert sorted(f.filename for f in by_version["1.0"].files) == [  # read from the page when asked
            "foo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "foo-1.0-cp311-cp311-win_amd64.whl",
        ]


def test_a_damaged_view_is_dropped_and_built_again(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _serve(index_server, wheel_cache, "1.0", "2.0")
    first = _candidates(index_server.url, tmp_path)
    (view,) = (p for p in (tmp_path / "views").rglob("*") if p.is_file())
    view.write_bytes(view.read_bytes()[:-5])
    with caplog.at_level(logging.WARNING):
        assert _candidates(index_server.url, tmp_path) == first
    assert "dropped corrupt cache entry" in caplog.text
    assert _candidates(index_server.url, tmp_path, offline=True) == first  # and stored again


def test_offline_answers_from_views(index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    _serve(index_server, wheel_cache, "1.0", "2.0")
    first = _candidates(index_server.url, tmp_path)
    index_server.clear_log()
    assert _candidates(index_server.url, tmp_path, offline=True) == first
    assert index_server.requests() == []


def test_the_next_run_reads_the_last_runs_views_in_the_background(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve(index_server, wheel_cache, "1.0")
    index_server.add(Project("bar", [dist(wheel_cache.wheel("bar", "1.0"))]))
    with _client(index_server.url, tmp_path) as client:
        finder = Finder(client, make_target("3.11", LINUX))
        assert finder.candidates("foo", SpecifierSet()) and finder.candidates("bar", SpecifierSet())
        finder.remember()
    with _client(index_server.url, tmp_path, offline=True) as client:
        Finder(client, make_target("3.11", LINUX)).warm_up()
        deadline = time.monotonic() + 5
        while client.stats.cache_hits < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.stats.cache_hits == 2  # both views were read, though nobody asked for them
    with _client(index_server.url, tmp_path, offline=True) as client:
        Finder(client, make_target("3.11", "win_amd64")).warm_up()  # another target noted nothing
        time.sleep(0.2)
        assert client.stats.cache_hits == 0


def test_a_queued_background_load_is_run_by_the_caller_who_needs_it(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve(index_server, wheel_cache, "1.0")
    slow = [f"slow{i}" for i in range(8)]
    for name in slow:
        index_server.add(Project(name, [dist(wheel_cache.wheel(name, "1.0"))]))
    index_server.slow("/simple/slow*", 1.5)
    with _client(index_server.url, tmp_path, max_connections=9) as client:  # 8 background threads, 9 connections
        client.prefetch_projects([*slow, "foo"])  # foo waits in the queue behind eight slow pages
        time.sleep(0.1)
        started = time.monotonic()
        assert client.project("foo") is not None
        assert time.monotonic() - started < 1.0  # run here, not after the slow ones' 1.5 s


def test_a_page_digest_an_earlier_version_cached_is_fetched_again(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    _serve(index_server, wheel_cache, "1.0")
    url = f"{index_server.url}foo/"
    cache = Cache(tmp_path)
    earlier = CachedPage(
        body=b"\x00an earlier version's marshal digest",
        content_type="application/x.relax-pins.page-digest",
        etag=None,
        last_modified=None,
        fetched_at=time.time(),
        max_age=600,
    )
    cache.put_page(url, earlier)
    index_server.clear_log()
    assert [v for v, _ in _candidates(index_server.url, tmp_path)] == ["1.0"]
    with _client(index_server.url, tmp_path) as client:
        page = client.project("foo")
        assert page is not None
        assert {f.filename for f in page.files} >= {"foo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"}
    assert len(index_server.requests("/simple/foo/")) == 1  # fetched once, then cached as served
    cached = cache.get_page(url)
    assert cached is not None
    assert "json" in (cached.content_type or "")


def test_a_view_of_an_html_page_remembers_which_index_listed_each_file(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    index_server.html_only()
    _serve(index_server, wheel_cache, "1.0")
    for offline in (False, True):  # built from the page, then read back from the view
        with _client(index_server.url, tmp_path, offline=offline) as client:
            (found,) = Finder(client, make_target("3.11", LINUX)).candidates("foo", SpecifierSet())
            assert client.index_of(found.link) == index_server.url.rstrip("/") + "/"
