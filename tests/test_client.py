"""The index client against the loopback index: pages, the metadata chain, faults, credentials, prefetch.

Every test talks real HTTP to ``tests.indexserver`` on 127.0.0.1 and checks what the server logged, so a
claim like "no whole wheel was downloaded" is read off the wire, not off the client's own counters.
"""

from __future__ import annotations

import email.utils
import http.server
import io
import logging
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from resolver.index.cache import Cache
from resolver.index.client import IndexClient, IndexedLink, IndexUnreachableError, IntegrityError
from resolver.index.settings import IndexSettings
from resolver.index.transport import ANSWER_FACTOR, MAX_REDIRECTS
from tests.indexserver import fixtures
from tests.indexserver.model import JSON_V1, IndexFile, Project, dist, render_project_json, write_static_index
from tests.indexserver.server import IndexServer
from tests.scenario import Rel, publish

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from resolver.index.simple import FileLink
    from tests.indexserver.wheels import WheelCache

index_server = fixtures.index_server
wheel_cache = fixtures.wheel_cache

SECRET = "s3cr3t-t0ken"


def make_client(*urls: str, find_links: tuple[str, ...] = (), **options: Any) -> IndexClient:
    """A client with test-sized retries: tiny backoff, short timeout, no ~/.netrc of the developer."""
    settings = IndexSettings(
        index_url=urls[0] if urls else None, extra_index_urls=tuple(urls[1:]), find_links=find_links
    )
    defaults: dict[str, Any] = {"retries": 2, "backoff": 0.01, "timeout": 5.0, "netrc": False}
    return IndexClient(settings, **{**defaults, **options})


@pytest.fixture
def second_server() -> Iterator[IndexServer]:
    server = IndexServer().start()
    try:
        yield server
    finally:
        server.stop()


def _link(client: IndexClient, project: str, filename: str) -> FileLink:
    page = client.project(project)
    assert page is not None
    return next(f for f in page.files if f.filename == filename)


def _file_gets(server: IndexServer, filename: str) -> list[tuple[int | None, str | None]]:
    """(status, Range header) of every request for the file itself (not its .metadata)."""
    return [(r.status, r.range) for r in server.requests(f"/files/{filename}")]


def _metadata_first_wheel(directory: Path, name: str = "big", size: int = 200_000) -> Path:
    """A wheel whose METADATA comes first and a big incompressible member after it, so the 64 KiB tail
    holds the central directory but not METADATA: reading it needs exactly two range requests."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-1.0-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nRequires-Dist: numpy>=1.20\n\n"
        archive.writestr(f"{name}-1.0.dist-info/METADATA", metadata, zipfile.ZIP_DEFLATED)
        archive.writestr(f"{name}/blob.bin", os.urandom(size), zipfile.ZIP_STORED)
        archive.writestr(f"{name}-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
        archive.writestr(f"{name}-1.0.dist-info/RECORD", "")
    path.write_bytes(buffer.getvalue())
    return path


# -- pages -------------------------------------------------------------------------------------------------


def test_json_page_is_asked_for_and_parsed(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    index_server.add(
        Project("Foo.Bar", [dist(wheel_cache.wheel("foo.bar", "1.0")), dist(wheel_cache.sdist("foo.bar", "1.0"))])
    )
    with make_client(index_server.url) as client:
        page = client.project("FOO_bar")
    assert page is not None
    assert page.name == "foo-bar"
    assert page.api_version == "1.1"
    assert page.versions == ("1.0",)
    assert {f.filename for f in page.files} == {"foo_bar-1.0-py3-none-any.whl", "foo_bar-1.0.tar.gz"}
    assert all(isinstance(f, IndexedLink) and f.index_url == index_server.url for f in page.files)
    [request] = index_server.requests("/simple/*")
    assert request.path == "/simple/foo-bar/"
    assert request.headers["accept"].startswith(JSON_V1)
    assert request.status == 200


def test_html_page_when_the_server_only_speaks_html(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    index_server.html_only()
    index_server.add(Project("foo", [dist(wheel_cache.wheel("foo", "1.0"), yanked="bad", requires_python=">=3.8")]))
    with make_client(index_server.url.rstrip("/")) as client:
        page = client.project("foo")
        assert page is not None
        metadata = client.metadata(page.files[0])
    assert page.versions == ()  # PEP 700 versions exist in JSON only
    [link] = page.files
    assert (link.yanked, link.requires_python, link.has_metadata) == ("bad", ">=3.8", True)
    assert link.url == index_server.file_url("foo-1.0-py3-none-any.whl")
    assert metadata is not None
    assert metadata.name == "foo"


def test_unknown_project_is_none(index_server: IndexServer) -> None:
    with make_client(index_server.url) as client:
        assert client.project("nothing-here") is None
    assert [r.status for r in index_server.requests("/simple/*")] == [404]


def test_file_index_tree(tmp_path: Path, wheel_cache: WheelCache) -> None:
    simple = write_static_index(
        tmp_path / "index",
        [
            Project(
                "foo",
                [
                    dist(wheel_cache.wheel("foo", "1.0", requires_dist=["bar"])),
                    dist(wheel_cache.wheel("foo", "2.0", requires_dist=["baz"]), serve_metadata=False),
                ],
            )
        ],
    )
    with make_client(simple.as_uri()) as client:
        page = client.project("foo")
        assert page is not None
        assert client.project("missing") is None
        by_name = {f.filename: f for f in page.files}
        first = client.metadata(by_name["foo-1.0-py3-none-any.whl"])
        second = client.metadata(by_name["foo-2.0-py3-none-any.whl"])
        assert client.stats.requests == 0
    assert first is not None
    assert first.requires_dist == ("bar",)
    assert second is not None
    assert second.requires_dist == ("baz",)


def test_find_links_folder_and_page_merge_with_the_index(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    index_server.add(Project("foo", [dist(wheel_cache.wheel("foo", "1.0"))]))
    folder = tmp_path / "wheels"
    folder.mkdir()
    (folder / "foo-2.0-py3-none-any.whl").write_bytes(wheel_cache.wheel("foo", "2.0", requires_dist=["x"]).read_bytes())
    (folder / "README.txt").write_text("not a distribution")
    page_dir = tmp_path / "page"
    page_dir.mkdir()
    (page_dir / "bar-3.0.tar.gz").write_bytes(wheel_cache.sdist("bar", "3.0").read_bytes())
    (page_dir / "links.html").write_text('<a href="bar-3.0.tar.gz">bar</a> <a href="about.html">about</a>')
    with make_client(index_server.url, find_links=(str(folder), str(page_dir / "links.html"))) as client:
        foo = client.project("foo")
        bar = client.project("bar")
        assert foo is not None
        assert bar is not None
        local = next(f for f in foo.files if f.filename.startswith("foo-2.0"))
        metadata = client.metadata(local)
        sdist_metadata = client.metadata(bar.files[0])
    assert sorted(f.filename for f in foo.files) == ["foo-1.0-py3-none-any.whl", "foo-2.0-py3-none-any.whl"]
    assert client.index_of(local) == str(folder)
    assert [f.filename for f in bar.files] == ["bar-3.0.tar.gz"]
    assert metadata is not None
    assert metadata.requires_dist == ("x",)
    assert sdist_metadata is not None
    assert sdist_metadata.version == "3.0"


def test_first_index_wins_unless_best_across_indexes(
    index_server: IndexServer, second_server: IndexServer, wheel_cache: WheelCache
) -> None:
    index_server.add(Project("foo", [dist(wheel_cache.wheel("foo", "1.0"))]), Project("only-main", []))
    second_server.add(
        Project("foo", [dist(wheel_cache.wheel("foo", "9.0"))]),
        Project("extra-only", [dist(wheel_cache.wheel("extra-only", "1.0"))]),
    )
    with make_client(index_server.url, second_server.url) as client:
        foo = client.project("foo")
        extra = client.project("extra-only")
    assert foo is not None
    assert [f.filename for f in foo.files] == ["foo-1.0-py3-none-any.whl"]
    assert second_server.requests("/simple/foo/") == []  # never asked: the main index had it
    assert extra is not None
    assert [client.index_of(f) for f in extra.files] == [second_server.url]
    with make_client(index_server.url, second_server.url, best_across_indexes=True) as client:
        merged = client.project("foo")
    assert merged is not None
    assert {f.filename: client.index_of(f) for f in merged.files} == {
        "foo-1.0-py3-none-any.whl": index_server.url,
        "foo-9.0-py3-none-any.whl": second_server.url,
    }


# -- the metadata chain ------------------------------------------------------------------------------------


def test_advertised_metadata_with_right_hash(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    index_server.add(Project("foo", [dist(wheel_cache.wheel("foo", "1.0", requires_dist=["bar>=2"]))]))
    with make_client(index_server.url) as client:
        metadata = client.metadata(_link(client, "foo", "foo-1.0-py3-none-any.whl"))
    assert metadata is not None
    assert metadata.requires_dist == ("bar>=2",)
    assert [r.status for r in index_server.requests("/files/*.metadata")] == [200]
    assert _file_gets(index_server, "foo-1.0-py3-none-any.whl") == []


def test_advertised_metadata_with_wrong_hash_is_an_integrity_error(
    index_server: IndexServer, wheel_cache: WheelCache
) -> None:
    index_server.add(Project("foo", [dist(wheel_cache.wheel("foo", "1.0"), wrong_metadata_hash=True)]))
    with make_client(index_server.url) as client, pytest.raises(IntegrityError) as caught:
        client.metadata(_link(client, "foo", "foo-1.0-py3-none-any.whl"))
    assert caught.value.exit_code == 4
    assert caught.value.url.endswith("foo-1.0-py3-none-any.whl.metadata")
    assert caught.value.expected != caught.value.actual


def test_metadata_file_served_but_not_advertised(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    index_server.add(
        Project("foo", [dist(wheel_cache.wheel("foo", "1.0", requires_dist=["q"]), advertise_metadata=False)])
    )
    with make_client(index_server.url) as client:
        link = _link(client, "foo", "foo-1.0-py3-none-any.whl")
        assert not link.has_metadata
        metadata = client.metadata(link)
    assert metadata is not None
    assert metadata.requires_dist == ("q",)
    assert [r.status for r in index_server.requests("/files/*.metadata")] == [200]
    assert _file_gets(index_server, "foo-1.0-py3-none-any.whl") == []


def test_small_wheel_needs_one_range_request(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    file = dist(wheel_cache.wheel("foo", "1.0", requires_dist=["r"]), advertise_metadata=False, serve_metadata=False)
    index_server.add(Project("foo", [file]))
    with make_client(index_server.url) as client:
        metadata = client.metadata(_link(client, "foo", file.filename))
    assert metadata is not None
    assert metadata.requires_dist == ("r",)
    assert _file_gets(index_server, file.filename) == [(206, "bytes=-65536")]
    assert client.stats.whole_downloads == 0


def test_big_wheel_needs_two_range_requests_and_no_download(index_server: IndexServer, tmp_path: Path) -> None:
    path = _metadata_first_wheel(tmp_path / "big")
    file = dist(path, advertise_metadata=False, serve_metadata=False)
    index_server.add(Project("big", [file]))
    with make_client(index_server.url) as client:
        metadata = client.metadata(_link(client, "big", file.filename))
    assert metadata is not None
    assert metadata.requires_dist == ("numpy>=1.20",)
    requests = index_server.requests(f"/files/{file.filename}")
    assert [r.status for r in requests] == [206, 206]
    assert requests[0].range == "bytes=-65536"
    assert requests[1].range is not None
    assert requests[1].range.startswith("bytes=0-")
    assert sum(r.bytes_sent for r in requests) < len(file.content) // 2
    assert (client.stats.range_requests, client.stats.whole_downloads) == (2, 0)


def test_zip64_wheel_by_ranges(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    file = dist(
        wheel_cache.wheel("foo", "1.0", requires_dist=["z"], zip64=True, zip_comment=b"c" * 300),
        advertise_metadata=False,
        serve_metadata=False,
    )
    index_server.add(Project("foo", [file]))
    with make_client(index_server.url) as client:
        metadata = client.metadata(_link(client, "foo", file.filename))
    assert metadata is not None
    assert metadata.requires_dist == ("z",)
    assert [status for status, _ in _file_gets(index_server, file.filename)] == [206]


def test_server_ignoring_range_gives_the_whole_wheel_once(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    index_server.no_range()
    index_server.no_metadata_files()
    file = dist(wheel_cache.wheel("foo", "1.0", requires_dist=["w"]), advertise_metadata=False)
    index_server.add(Project("foo", [file]))
    with make_client(index_server.url) as client:
        metadata = client.metadata(_link(client, "foo", file.filename))
    assert metadata is not None
    assert metadata.requires_dist == ("w",)
    assert _file_gets(index_server, file.filename) == [(200, "bytes=-65536")]
    assert client.stats.whole_downloads == 1


@pytest.mark.parametrize("kind", ["header", "bytes"])
def test_broken_range_answers_fall_back_to_a_whole_download(
    index_server: IndexServer, tmp_path: Path, kind: str
) -> None:
    index_server.broken_range(kind)  # type: ignore[arg-type]
    file = dist(_metadata_first_wheel(tmp_path / kind), advertise_metadata=False, serve_metadata=False)
    index_server.add(Project("big", [file]))
    with make_client(index_server.url) as client:
        metadata = client.metadata(_link(client, "big", file.filename))
    assert metadata is not None
    assert metadata.requires_dist == ("numpy>=1.20",)
    gets = _file_gets(index_server, file.filename)
    assert gets[-1] == (200, None)  # the fallback: one plain GET of the whole file
    assert all(status == 206 for status, _ in gets[:-1])
    assert client.stats.whole_downloads == 1


def test_wheel_hash_mismatch_on_whole_download(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    index_server.no_range()
    file = dist(wheel_cache.wheel("foo", "1.0"), wrong_hash=True, advertise_metadata=False, serve_metadata=False)
    index_server.add(Project("foo", [file]))
    with make_client(index_server.url) as client, pytest.raises(IntegrityError) as caught:
        client.metadata(_link(client, "foo", file.filename))
    assert caught.value.exit_code == 4
    assert caught.value.expected.startswith("sha256:")
    assert "wheel" in str(caught.value)


def test_unadvertised_metadata_probes_stop_after_repeated_404s(
    index_server: IndexServer, wheel_cache: WheelCache
) -> None:
    index_server.no_metadata_files()
    files = [dist(wheel_cache.wheel("foo", f"1.{i}"), advertise_metadata=False) for i in range(6)]
    index_server.add(Project("foo", files))
    with make_client(index_server.url) as client:
        for file in files:
            assert client.metadata(_link(client, "foo", file.filename)) is not None
    assert len(index_server.requests("/files/*.metadata")) == 3
    assert len(index_server.requests("/files/*.whl")) == 6


def test_sdist_with_static_pkg_info(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    file = dist(wheel_cache.sdist("foo", "1.0", requires_dist=["a>=1", "b; extra == 'x'"], extras=["x"]))
    index_server.add(Project("foo", [file]))
    with make_client(index_server.url) as client:
        metadata = client.metadata(_link(client, "foo", file.filename))
    assert metadata is not None
    assert metadata.metadata_version == "2.2"
    assert metadata.requires_dist == ("a>=1", "b; extra == 'x'")
    assert _file_gets(index_server, file.filename) == [(200, None)]


@pytest.mark.parametrize(
    "options", [{"dynamic": ["Requires-Dist"]}, {"metadata_version": "2.1"}], ids=["dynamic", "old-metadata"]
)
def test_sdist_without_static_requirements_is_none(
    index_server: IndexServer, wheel_cache: WheelCache, options: dict[str, Any]
) -> None:
    file = dist(wheel_cache.sdist("foo", "1.0", requires_dist=["a"], **options))
    index_server.add(Project("foo", [file]))
    with make_client(index_server.url) as client:
        assert client.metadata(_link(client, "foo", file.filename)) is None


# -- faults ------------------------------------------------------------------------------------------------


def _foo(server: IndexServer, cache: WheelCache) -> IndexFile:
    file = dist(cache.wheel("foo", "1.0"))
    server.add(Project("foo", [file]))
    return file


def test_500_then_success(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    _foo(index_server, wheel_cache)
    index_server.fail("/simple/foo/", 500, times=2)
    with make_client(index_server.url) as client:
        assert client.project("foo") is not None
    assert [r.status for r in index_server.requests("/simple/foo/")] == [500, 500, 200]
    assert client.stats.retries == 2


def test_500_forever_gives_up_quickly_with_exit_3(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    _foo(index_server, wheel_cache)
    index_server.fail("/simple/*", 503)
    started = time.monotonic()
    with make_client(index_server.url, retries=2) as client, pytest.raises(IndexUnreachableError) as caught:
        client.project("foo")
    assert time.monotonic() - started < 2.0
    assert caught.value.exit_code == 3
    assert len(index_server.requests("/simple/foo/")) == 3
    assert "3 attempts" in caught.value.tried
    assert "HTTP 503" in str(caught.value)
    assert index_server.project_url("foo") in str(caught.value)


def test_errors_are_memoized_not_refetched(index_server: IndexServer) -> None:
    index_server.fail("/simple/*", 500)
    with make_client(index_server.url, retries=0) as client:
        for _ in range(3):
            with pytest.raises(IndexUnreachableError):
                client.project("foo")
    assert len(index_server.requests("/simple/foo/")) == 1


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_429_honours_retry_after(index_server: IndexServer, wheel_cache: WheelCache, form: str) -> None:
    _foo(index_server, wheel_cache)
    value = "1" if form == "seconds" else email.utils.formatdate(time.time() + 2, usegmt=True)
    index_server.rate_limit("/simple/foo/", value, times=1)
    started = time.monotonic()
    with make_client(index_server.url, backoff=0.0) as client:
        assert client.project("foo") is not None
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 4.0  # waited as asked (an HTTP date has one-second resolution), not longer
    assert [r.status for r in index_server.requests("/simple/foo/")] == [429, 200]


def test_429_asking_more_than_the_cap_gives_up_at_once(index_server: IndexServer) -> None:
    index_server.rate_limit("/simple/*", "120", times=None)
    started = time.monotonic()
    with make_client(index_server.url, retry_cap=5.0) as client, pytest.raises(IndexUnreachableError) as caught:
        client.project("foo")
    assert time.monotonic() - started < 1.0
    assert "asked to wait 120 s" in str(caught.value)
    assert len(index_server.log) == 1


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_reset_and_truncated_answers_are_retried(
    index_server: IndexServer, wheel_cache: WheelCache, fault: str
) -> None:
    _foo(index_server, wheel_cache)
    getattr(index_server, fault)("/simple/foo/", times=1)
    with make_client(index_server.url) as client:
        page = client.project("foo")
    assert page is not None
    assert [f.filename for f in page.files] == ["foo-1.0-py3-none-any.whl"]
    assert [r.fault for r in index_server.requests("/simple/foo/")] == [fault, None]
    assert client.stats.retries == 1


def test_truncated_wheel_range_is_retried(index_server: IndexServer, tmp_path: Path) -> None:
    file = dist(_metadata_first_wheel(tmp_path), advertise_metadata=False, serve_metadata=False)
    index_server.add(Project("big", [file]))
    index_server.truncate(f"/files/{file.filename}", times=1)
    with make_client(index_server.url) as client:
        assert client.metadata(_link(client, "big", file.filename)) is not None
    assert client.stats.whole_downloads == 0


def test_slow_answer_within_and_beyond_the_timeout(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    _foo(index_server, wheel_cache)
    index_server.slow("/simple/foo/", 0.2, times=1)
    with make_client(index_server.url, timeout=2.0) as client:
        assert client.project("foo") is not None
    index_server.slow("/simple/*", 2.0)
    started = time.monotonic()
    with (
        make_client(index_server.url, timeout=0.3, retries=1) as client,
        pytest.raises(IndexUnreachableError) as caught,
    ):
        client.project("bar")
    assert time.monotonic() - started < 1.5
    assert "timed out" in str(caught.value)
    assert "2 attempts" in caught.value.tried


def test_connection_refused_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        make_client(f"http://127.0.0.1:{port}/simple/", retries=1) as client,
        pytest.raises(IndexUnreachableError) as caught,
    ):
        client.project("foo")
    assert "connection failed" in str(caught.value)
    assert caught.value.exit_code == 3


# -- credentials -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_fail_at_once_redacted(
    index_server: IndexServer, wheel_cache: WheelCache, status: int
) -> None:
    _foo(index_server, wheel_cache)
    if status == 401:
        index_server.require_auth("user", "right-password")
    else:
        index_server.fail("/simple/*", 403)
    url = index_server.url_with_credentials("user", SECRET)
    with make_client(url) as client, pytest.raises(IndexUnreachableError) as caught:
        client.project("foo")
    text = str(caught.value)
    assert SECRET not in text
    assert SECRET not in repr(caught.value.args)
    assert "credentials are missing or were refused" in text
    assert caught.value.url == index_server.project_url("foo")
    assert "credentials were sent" in text
    assert len(index_server.log) == 1


def test_credentials_work_and_never_leak(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    index_server.require_auth("user", SECRET)
    file = dist(wheel_cache.wheel("foo", "1.0", requires_dist=["x"]), advertise_metadata=False, serve_metadata=False)
    index_server.add(Project("foo", [file]))
    cache_dir = tmp_path / "cache"
    url = index_server.url_with_credentials("user", SECRET)
    with make_client(url, cache=Cache(cache_dir)) as client:
        page = client.project("foo")
        assert page is not None
        assert client.metadata(page.files[0]) is not None
        with pytest.raises(IndexUnreachableError) as caught:
            index_server.fail("/simple/bar/", 500)
            client.project("bar")
    assert SECRET not in str(caught.value)
    assert SECRET not in page.url
    assert all(SECRET not in f.url and SECRET not in client.index_of(f) for f in page.files)
    assert SECRET not in caplog.text
    assert SECRET not in "".join(str(record.args) for record in caplog.records)
    entries = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert entries
    for entry in entries:
        assert SECRET not in str(entry)
        assert SECRET.encode() not in entry.read_bytes()
    assert all(r.status != 401 for r in index_server.log)


def test_index_credentials_stay_on_the_index_host(
    index_server: IndexServer, second_server: IndexServer, wheel_cache: WheelCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files hosted elsewhere (a CDN) never see the index's credentials."""
    index_server.require_auth("user", SECRET)
    file = dist(wheel_cache.wheel("foo", "1.0"), advertise_metadata=False, serve_metadata=False)
    project = Project("foo", [file])
    index_server.add(project)
    second_server.add(project)
    cdn = f"{second_server.base_url}/files/"
    monkeypatch.setattr(index_server, "_render_project", lambda p, as_json: render_project_json(p, file_base=cdn))
    with make_client(index_server.url_with_credentials("user", SECRET)) as client:
        assert client.metadata(_link(client, "foo", file.filename)) is not None
    assert all("authorization" in r.headers for r in index_server.log)
    assert second_server.log
    assert all("authorization" not in r.headers for r in second_server.log)


def test_netrc_supplies_credentials(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _foo(index_server, wheel_cache)
    index_server.require_auth("nu", SECRET)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login nu password {SECRET}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with make_client(index_server.url, netrc=True) as client:
        assert client.project("foo") is not None
    with make_client(index_server.url, netrc=False) as client, pytest.raises(IndexUnreachableError):
        client.project("foo")


# -- prefetch ----------------------------------------------------------------------------------------------


def test_prefetch_runs_in_parallel(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    names = [f"p{i}" for i in range(8)]
    index_server.add(*(Project(n, [dist(wheel_cache.wheel(n, "1.0"))]) for n in names))
    index_server.slow("/simple/*", 0.3)
    index_server.slow("/files/*", 0.3)
    started = time.monotonic()
    with make_client(index_server.url) as client:
        client.prefetch_projects(names)
        pages = [client.project(n) for n in names]
        links = [page.files[0] for page in pages if page is not None]
        client.prefetch_metadata(links)
        metadata = [client.metadata(link) for link in links]
    elapsed = time.monotonic() - started
    assert len(links) == 8
    assert all(m is not None for m in metadata)
    assert elapsed < 1.6, elapsed  # serial would be 16 * 0.3 = 4.8 s
    assert len(index_server.requests("/simple/*")) == 8


# -- host lookups -------------------------------------------------------------------------------------------


def test_connections_share_one_lookup_per_host_and_try_every_address(
    index_server: IndexServer, wheel_cache: WheelCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"p{i}" for i in range(12)]
    publish(index_server, wheel_cache, {name: [Rel("1.0")] for name in names})
    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "index.invalid":
            lookups.append(host)
            # An address that refuses first (as an IPv6 answer can where the server listens on IPv4 only),
            # then the loopback index.
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
                *real("127.0.0.1", port, *args, **kwargs),
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    url = index_server.url.replace("127.0.0.1", "index.invalid")
    with make_client(url, max_connections=8) as client:
        client.prefetch_projects(names)
        pages = [client.project(name) for name in names]
    assert all(page is not None and len(page.files) == 1 for page in pages)
    assert len(index_server.requests("/simple/p*/")) == len(names)  # eight connections or so, in parallel
    assert lookups == ["index.invalid"]


def test_a_dripping_answer_is_cut_by_the_whole_answer_deadline(
    index_server: IndexServer, wheel_cache: WheelCache
) -> None:
    """One byte every 0.2 s never trips a per-read timeout of 0.5 s: an index doing that held
    ``check --timeout 1 --retries 1`` for 75 s. A whole answer now has ANSWER_FACTOR x timeout, and the request
    its budget of timeout x (retries + 1) + retry cap."""
    _foo(index_server, wheel_cache)
    index_server.drip("/simple/foo/", 0.2)
    started = time.monotonic()
    with (
        make_client(index_server.url, timeout=0.5, retries=1) as client,
        pytest.raises(IndexUnreachableError) as caught,
    ):
        client.project("foo")
    elapsed = time.monotonic() - started
    assert elapsed < 0.5 * ANSWER_FACTOR * 2 + 1.5, elapsed
    assert "the whole answer took longer than 2 s" in str(caught.value)
    assert "2 attempts" in caught.value.tried


def test_a_host_name_that_does_not_resolve_fails_after_one_retry() -> None:
    """A failed DNS lookup was retried five times (6.4 s) before the error; one retry covers a dropped packet."""
    started = time.monotonic()
    with (
        make_client("http://no-such-host.invalid/simple/", retries=4, backoff=0.2) as client,
        pytest.raises(IndexUnreachableError) as caught,
    ):
        client.project("foo")
    assert time.monotonic() - started < 2.0
    assert caught.value.tried.startswith("2 attempts") and "host name not resolved" in caught.value.tried
    assert caught.value.hint is not None and "host name" in caught.value.hint


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_an_untrusted_certificate_fails_at_once(tmp_path: Path) -> None:
    """Certificate errors were retried four times: the same certificate comes back each time."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with (
            make_client(f"https://127.0.0.1:{server.server_address[1]}/simple/", retries=4) as client,
            pytest.raises(IndexUnreachableError) as caught,
        ):
            client.project("foo")
    finally:
        server.shutdown()
    assert caught.value.tried.startswith("1 attempt,") and "certificate not trusted" in caught.value.tried
    assert caught.value.hint is not None and "SSL_CERT_FILE" in caught.value.hint


def test_redirects_stop_after_ten_hops() -> None:
    """Redirects were followed up to 20 hops; pip stops at 10, and so does relax-pins now."""
    hops: list[str] = []

    class Loop(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hops.append(self.path)
            self.send_response(302)
            self.send_header("Location", f"/hop{len(hops)}/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Loop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with (
            make_client(f"http://127.0.0.1:{server.server_address[1]}/simple/", retries=0) as client,
            pytest.raises(IndexUnreachableError) as caught,
        ):
            client.project("foo")
    finally:
        server.shutdown()
    assert len(hops) == MAX_REDIRECTS + 1 == 11
    assert "TooManyRedirects" in str(caught.value)


def test_a_run_has_a_time_budget_even_when_each_request_ends_in_time(
    index_server: IndexServer, wheel_cache: WheelCache
) -> None:
    """A drip on the first attempt of each page only: every request ends within its own deadline (the retry
    answers), yet ten in a row held a check for 44 s against a claimed bound of 8 s. All of a client's
    requests now share one budget: timeout x ANSWER_FACTOR x (retries + 1) + retry cap."""
    names = [f"chain{i}" for i in range(6)]
    for name in names:
        index_server.add(Project(name, [dist(wheel_cache.wheel(name, "1.0"))]))
        index_server.drip(f"/simple/{name}/", 0.2, times=1)
    started = time.monotonic()
    with make_client(index_server.url, timeout=0.5, retries=1, retry_cap=3.0) as client:
        budget = 0.5 * ANSWER_FACTOR * 2 + 3.0  # 7 s: three pages at about 2.1 s each fit, the fourth does not
        with pytest.raises(IndexUnreachableError) as caught:
            for name in names:
                client.project(name)
    assert time.monotonic() - started < budget + 1.5
    assert "the run's time budget of 7 s is spent" in str(caught.value)
    assert "chain0" not in str(caught.value)  # the first pages were read, late but whole
