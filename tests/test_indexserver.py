"""The loopback index behaves like a real one: pages, negotiation, ranges, caching, auth and every fault.

These tests talk to the server with httpx directly, so a client bug cannot hide a server bug; two slow
tests run the real pip against it (HTTP and ``file://``) to prove wheels and pages are valid.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import os
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import httpx
import pytest
from packaging.utils import parse_wheel_filename

from tests.indexserver import fixtures
from tests.indexserver.model import JSON_V1, IndexFile, Project, dist, write_find_links, write_static_index
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache, build_sdist, build_wheel

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

index_server = fixtures.index_server
wheel_cache = fixtures.wheel_cache

PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def _demo(server: IndexServer, cache: WheelCache) -> dict[str, IndexFile]:
    """foo 1.0 (wheel + sdist), 2.0 yanked with a reason, 3.0 for Python >= 4 (escaped in HTML)."""
    files = {
        "1.0": dist(cache.wheel("foo", "1.0", requires_dist=["bar>=1"])),
        "1.0-sdist": dist(cache.sdist("foo", "1.0")),
        "2.0": dist(cache.wheel("foo", "2.0"), yanked="broken <build>"),
        "3.0": dist(cache.wheel("foo", "3.0", requires_python=">=4"), requires_python=">=4"),
    }
    server.add(Project("foo", list(files.values())), Project("Bar_Baz", [dist(cache.wheel("Bar_Baz", "0.1"))]))
    return files


# -- wheels and sdists -------------------------------------------------------------------------------------


def test_wheel_is_real_with_matching_record(tmp_path: Path) -> None:
    path = build_wheel(
        tmp_path,
        "My.Pkg",
        "1.2.3",
        requires_dist=["numpy>=1.20", "rich; extra == 'cli'"],
        requires_python=">=3.9",
        extras=["cli"],
        tags="cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64",
        build_tag="7",
        extra_files={"my_pkg/data.txt": "hello"},
    )
    assert path.name == "my_pkg-1.2.3-7-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    name, version, build, tags = parse_wheel_filename(path.name)
    assert (name, str(version), build, len(tags)) == ("my-pkg", "1.2.3", (7, ""), 2)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        record = archive.read("my_pkg-1.2.3.dist-info/RECORD").decode().splitlines()
        for line in record:
            member, digest, size = line.rsplit(",", 2)
            if member.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(member)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}"
            assert int(size) == len(data)
        metadata = archive.read("my_pkg-1.2.3.dist-info/METADATA").decode()
        wheel = archive.read("my_pkg-1.2.3.dist-info/WHEEL").decode()
    assert {m.split(",")[0] for m in record} == set(zipfile.ZipFile(path).namelist())
    assert "Name: My.Pkg\nVersion: 1.2.3\n" in metadata
    assert "Requires-Dist: rich; extra == 'cli'" in metadata
    assert "Requires-Python: >=3.9" in metadata
    assert "Provides-Extra: cli" in metadata
    assert "Tag: cp310-cp310-manylinux2014_x86_64\n" in wheel
    assert "Tag: cp310-cp310-manylinux_2_17_x86_64\n" in wheel
    assert "Build: 7" in wheel


def test_wheels_are_reproducible_byte_for_byte(tmp_path: Path) -> None:
    first = build_wheel(tmp_path / "a", "foo", "1.0", requires_dist=["bar"]).read_bytes()
    second = build_wheel(tmp_path / "b", "foo", "1.0", requires_dist=["bar"]).read_bytes()
    other = build_wheel(tmp_path / "c", "foo", "1.0", requires_dist=["baz"]).read_bytes()
    assert first == second
    assert first != other


def test_zip64_wheel_reads_back(tmp_path: Path) -> None:
    path = build_wheel(tmp_path, "foo", "1.0", zip64=True, zip_comment=b"a comment")
    data = path.read_bytes()
    assert data.endswith(b"a comment")
    assert b"PK\x06\x06" in data[-200:]
    assert b"PK\x06\x07" in data[-200:]
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert b"Name: foo" in archive.read("foo-1.0.dist-info/METADATA")


def test_sdist_has_pkg_info_and_pyproject(tmp_path: Path) -> None:
    path = build_sdist(tmp_path, "Foo-Bar", "2.0", requires_dist=["x>=1"], dynamic=["Requires-Dist"])
    assert path.name == "foo_bar-2.0.tar.gz"
    with tarfile.open(path) as archive:
        names = archive.getnames()
        pkg_info = archive.extractfile("foo_bar-2.0/PKG-INFO").read().decode()  # type: ignore[union-attr]
    assert "foo_bar-2.0/pyproject.toml" in names
    assert "Metadata-Version: 2.2\n" in pkg_info
    assert "Dynamic: Requires-Dist\n" in pkg_info
    assert "Requires-Dist: x>=1\n" in pkg_info


def test_wheel_cache_builds_each_distinct_archive_once(wheel_cache: WheelCache) -> None:
    before = wheel_cache.builds
    first = wheel_cache.wheel("cached", "1.0", requires_dist=["a"])
    again = wheel_cache.wheel("cached", "1.0", requires_dist=["a"])
    other = wheel_cache.wheel("cached", "1.0", requires_dist=["b"])
    assert first == again
    assert first.name == other.name
    assert first != other
    assert first.read_bytes() != other.read_bytes()
    assert wheel_cache.builds == before + 2


# -- pages and negotiation ---------------------------------------------------------------------------------


def test_json_page_follows_pep_691_and_700(
    index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client
) -> None:
    files = _demo(index_server, wheel_cache)
    page_url = index_server.project_url("foo")
    response = client.get(page_url, headers={"Accept": PIP_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_V1
    page = response.json()
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "foo"
    assert page["versions"] == ["1.0", "2.0", "3.0"]
    by_name = {f["filename"]: f for f in page["files"]}
    wheel = by_name[files["1.0"].filename]
    assert wheel["hashes"] == {"sha256": hashlib.sha256(files["1.0"].content).hexdigest()}
    assert wheel["yanked"] is False
    assert wheel["size"] == len(files["1.0"].content)
    assert wheel["upload-time"] == "2024-01-01T00:00:00.000000Z"
    assert wheel["core-metadata"] == {"sha256": hashlib.sha256(files["1.0"].metadata or b"").hexdigest()}
    assert by_name[files["2.0"].filename]["yanked"] == "broken <build>"
    assert by_name[files["3.0"].filename]["requires-python"] == ">=4"
    assert by_name[files["1.0-sdist"].filename]["core-metadata"] is False
    downloaded = client.get(urljoin(page_url, wheel["url"]))
    assert hashlib.sha256(downloaded.content).hexdigest() == wheel["hashes"]["sha256"]


def test_html_page_escapes_attributes(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    files = _demo(index_server, wheel_cache)
    response = client.get(index_server.project_url("foo"))
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    text = response.text
    assert 'data-requires-python="&gt;=4"' in text
    assert 'data-yanked="broken &lt;build&gt;"' in text
    assert f"{files['1.0'].filename}#sha256={files['1.0'].sha256}" in text
    assert f'data-core-metadata="sha256={files["1.0"].metadata_sha256}"' in text
    assert '<meta name="pypi:repository-version" content="1.1">' in text


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (PIP_ACCEPT, JSON_V1),
        ("application/vnd.pypi.simple.latest+json", JSON_V1),
        ("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.v1+html"),
        ("text/html", "text/html; charset=utf-8"),
        ("*/*", "text/html; charset=utf-8"),
        (f"{JSON_V1}; q=0.2, text/html; q=0.9", "text/html; charset=utf-8"),
        ("application/json", None),
    ],
)
def test_accept_negotiation(
    index_server: IndexServer,
    wheel_cache: WheelCache,
    client: httpx.Client,
    accept: str,
    expected: str | None,
) -> None:
    _demo(index_server, wheel_cache)
    response = client.get(index_server.project_url("foo"), headers={"Accept": accept})
    if expected is None:
        assert response.status_code == 406
    else:
        assert response.status_code == 200
        assert response.headers["content-type"] == expected
        assert response.headers["vary"] == "Accept"


def test_html_only_and_json_only(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    _demo(index_server, wheel_cache)
    index_server.html_only()
    page = client.get(index_server.project_url("foo"), headers={"Accept": JSON_V1})
    assert page.headers["content-type"].startswith("text/html")
    index_server.clear_faults()
    index_server.json_only()
    page = client.get(index_server.project_url("foo"), headers={"Accept": "text/html"})
    assert page.headers["content-type"] == JSON_V1
    assert page.json()["name"] == "foo"


def test_redirects_and_not_found(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    _demo(index_server, wheel_cache)
    for path in ("Bar_Baz/", "bar.baz/", "bar-baz"):
        response = client.get(index_server.url + path)
        assert response.status_code == 301
        assert response.headers["location"] == "/simple/bar-baz/"
    followed = client.get(index_server.url + "BAR_baz/", follow_redirects=True)
    assert followed.status_code == 200
    assert "bar_baz-0.1-py3-none-any.whl" in followed.text
    assert client.get(index_server.url + "nope/").status_code == 404
    assert client.get(index_server.file_url("nope-1.0.tar.gz")).status_code == 404
    assert client.get(index_server.base_url + "/elsewhere").status_code == 404


def test_project_list(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    _demo(index_server, wheel_cache)
    listing = client.get(index_server.url, headers={"Accept": JSON_V1}).json()
    assert listing["projects"] == [{"name": "Bar_Baz"}, {"name": "foo"}]
    html = client.get(index_server.url).text
    assert '<a href="bar-baz/">Bar_Baz</a>' in html
    assert '<a href="foo/">foo</a>' in html


# -- files, ranges, metadata -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "window"),
    [
        ("bytes=0-9", (0, 9)),
        ("bytes=10-", (10, None)),
        ("bytes=-7", (-7, None)),
        ("bytes=5-10000000", (5, None)),
        ("bytes=-10000000", (0, None)),
    ],
)
def test_range_answers_are_byte_exact(
    index_server: IndexServer,
    wheel_cache: WheelCache,
    client: httpx.Client,
    spec: str,
    window: tuple[int, int | None],
) -> None:
    first, last = window
    files = _demo(index_server, wheel_cache)
    data = files["1.0"].content
    response = client.get(index_server.file_url(files["1.0"].filename), headers={"Range": spec})
    expected = data[first : None if last is None else last + 1]
    start = first % len(data) if first < 0 else first
    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["content-range"] == f"bytes {start}-{start + len(expected) - 1}/{len(data)}"
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["accept-ranges"] == "bytes"
    assert index_server.log[-1].range == spec
    assert index_server.log[-1].bytes_sent == len(expected)


def test_whole_file_unsatisfiable_and_ignored_ranges(
    index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client
) -> None:
    files = _demo(index_server, wheel_cache)
    url = index_server.file_url(files["1.0"].filename)
    size = len(files["1.0"].content)
    whole = client.get(url)
    assert (whole.status_code, whole.content) == (200, files["1.0"].content)
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(size)
    too_far = client.get(url, headers={"Range": f"bytes={size}-"})
    assert too_far.status_code == 416
    assert too_far.headers["content-range"] == f"bytes */{size}"
    for ignored in ("bytes=0-1,5-6", "items=0-1", "bytes=9-3"):
        answer = client.get(url, headers={"Range": ignored})
        assert (answer.status_code, len(answer.content)) == (200, size)
    head = client.head(url)
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(size))


def test_metadata_files(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    wheel = wheel_cache.wheel("meta", "1.0", requires_dist=["dep>=2"])
    served = dist(wheel)
    hidden = dist(wheel_cache.wheel("meta", "2.0"), advertise_metadata=False)
    missing = dist(wheel_cache.wheel("meta", "3.0"), serve_metadata=False)
    lying = dist(wheel_cache.wheel("meta", "4.0"), wrong_metadata_hash=True)
    index_server.add(Project("meta", [served, hidden, missing, lying]))
    body = client.get(index_server.file_url(served.filename) + ".metadata").content
    with zipfile.ZipFile(wheel) as archive:
        assert body == archive.read("meta-1.0.dist-info/METADATA")
    assert b"Requires-Dist: dep>=2" in body
    page = {
        f["filename"]: f
        for f in client.get(index_server.project_url("meta"), headers={"Accept": JSON_V1}).json()["files"]
    }
    assert page[served.filename]["core-metadata"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert page[hidden.filename]["core-metadata"] is False
    assert client.get(index_server.file_url(hidden.filename) + ".metadata").status_code == 200
    assert page[missing.filename]["core-metadata"] is not False
    assert client.get(index_server.file_url(missing.filename) + ".metadata").status_code == 404
    lying_body = client.get(index_server.file_url(lying.filename) + ".metadata").content
    assert page[lying.filename]["core-metadata"]["sha256"] != hashlib.sha256(lying_body).hexdigest()
    index_server.no_metadata_files()
    assert client.get(index_server.file_url(served.filename) + ".metadata").status_code == 404


def test_percent_quoted_filenames(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    torch = dist(wheel_cache.wheel("torch", "2.1.0+cu118", tags="cp310-cp310-linux_x86_64"))
    index_server.add(Project("torch", [torch]))
    assert torch.filename == "torch-2.1.0+cu118-cp310-cp310-linux_x86_64.whl"
    html = client.get(index_server.project_url("torch")).text
    assert "torch-2.1.0%2Bcu118-cp310-cp310-linux_x86_64.whl#sha256=" in html
    assert client.get(index_server.file_url(torch.filename)).content == torch.content


# -- caching and auth --------------------------------------------------------------------------------------


def test_conditional_requests(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    _demo(index_server, wheel_cache)
    index_server.cache_control = "max-age=0, must-revalidate"
    url = index_server.project_url("foo")
    first = client.get(url, headers={"Accept": JSON_V1})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "max-age=0, must-revalidate"
    again = client.get(url, headers={"Accept": JSON_V1, "If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    html_etag = client.get(url).headers["etag"]
    assert html_etag != etag
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    old = email.utils.formatdate(time.time() - 3600, usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": old}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "garbage"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    assert client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": modified}).status_code == 200


def test_basic_auth(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    files = _demo(index_server, wheel_cache)
    index_server.require_auth("user", "p@ss word")
    denied = client.get(index_server.project_url("foo"))
    assert denied.status_code == 401
    assert denied.headers["www-authenticate"] == 'Basic realm="index"'
    assert client.get(index_server.project_url("foo"), auth=("user", "wrong")).status_code == 401
    assert client.get(index_server.project_url("foo"), auth=("user", "p@ss word")).status_code == 200
    assert client.get(index_server.file_url(files["1.0"].filename)).status_code == 401
    with_url = index_server.url_with_credentials("user", "p@ss word")
    assert httpx.get(with_url + "foo/", timeout=5).status_code == 200


# -- faults and the log ------------------------------------------------------------------------------------


def test_fail_n_times_then_succeed(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    _demo(index_server, wheel_cache)
    fault = index_server.fail("/simple/foo/", status=503, times=2)
    statuses = [client.get(index_server.project_url("foo")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert fault.fired == 2
    assert [r.status for r in index_server.requests("/simple/foo/")] == [503, 503, 200]
    assert [r.fault for r in index_server.requests("/simple/foo/")] == ["fail", "fail", None]
    # other paths are untouched
    assert client.get(index_server.project_url("bar-baz")).status_code == 200


def test_fail_forever_matches_globs(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    files = _demo(index_server, wheel_cache)
    index_server.fail("*.whl")
    for _ in range(4):
        assert client.get(index_server.file_url(files["1.0"].filename)).status_code == 500
    assert client.get(index_server.file_url(files["1.0-sdist"].filename)).status_code == 200
    assert client.get(index_server.file_url(files["1.0"].filename) + ".metadata").status_code == 200


def test_rate_limit(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    _demo(index_server, wheel_cache)
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    index_server.rate_limit("/simple/*", retry_after="2", times=1)
    index_server.rate_limit("/simple/*", retry_after=when, times=1)
    first = client.get(index_server.project_url("foo"))
    second = client.get(index_server.project_url("foo"))
    third = client.get(index_server.project_url("foo"))
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    assert (second.status_code, second.headers["retry-after"]) == (429, when)
    assert third.status_code == 200


def test_reset_closes_without_answer(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    _demo(index_server, wheel_cache)
    index_server.reset("/simple/foo/", times=2)
    for _ in range(2):
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.get(index_server.project_url("foo"))
    assert client.get(index_server.project_url("foo")).status_code == 200
    assert [r.status for r in index_server.requests("/simple/foo/")] == [None, None, 200]


def test_truncate_sends_half_the_body(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    files = _demo(index_server, wheel_cache)
    url = index_server.file_url(files["1.0"].filename)
    index_server.truncate("/files/*", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(url)
    size = len(files["1.0"].content)
    assert index_server.log[-1].bytes_sent == size // 2
    assert client.get(url).content == files["1.0"].content


def test_slow(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    _demo(index_server, wheel_cache)
    index_server.slow("/simple/foo/", 0.3, times=1)
    started = time.monotonic()
    assert client.get(index_server.project_url("foo")).status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        index_server.slow("/simple/foo/", 1.0, times=1)
        client.get(index_server.project_url("foo"), timeout=0.2)


def test_no_range_and_broken_range(index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client) -> None:
    files = _demo(index_server, wheel_cache)
    url = index_server.file_url(files["1.0"].filename)
    data = files["1.0"].content
    index_server.no_range()
    whole = client.get(url, headers={"Range": "bytes=0-9"})
    assert (whole.status_code, whole.content) == (200, data)
    assert "accept-ranges" not in whole.headers
    index_server.clear_faults()
    index_server.broken_range("bytes")
    wrong = client.get(url, headers={"Range": "bytes=0-9"})
    assert wrong.status_code == 206
    assert wrong.headers["content-range"] == f"bytes 0-9/{len(data)}"
    assert len(wrong.content) == 10
    assert wrong.content != data[:10]
    index_server.broken_range("header")
    lying = client.get(url, headers={"Range": "bytes=0-9"})
    assert lying.content == data[:10]
    assert lying.headers["content-range"] != f"bytes 0-9/{len(data)}"


def test_log_shows_no_whole_wheel_was_downloaded(
    index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client
) -> None:
    files = _demo(index_server, wheel_cache)
    url = index_server.file_url(files["1.0"].filename)
    client.get(url, headers={"Range": "bytes=-100"})
    client.get(url + ".metadata")
    wheel_requests = index_server.requests("*.whl")
    assert len(wheel_requests) == 1
    assert all(r.range is not None and r.status == 206 for r in wheel_requests)
    assert sum(r.bytes_sent for r in wheel_requests) < len(files["1.0"].content)
    assert len(index_server.requests("*.metadata", method="GET")) == 1
    index_server.clear_log()
    assert index_server.log == []


def test_stop_closes_connections_and_threads(wheel_cache: WheelCache) -> None:
    server = IndexServer(idle_timeout=30).start()
    server.add(Project("foo", [dist(wheel_cache.wheel("foo", "1.0"))]))
    url = server.project_url("foo")
    with httpx.Client(timeout=5) as keep_alive:
        assert keep_alive.get(url).status_code == 200  # leaves a pooled connection open
        prefix = f"indexserver-{server.port}"
        assert any(t.name == f"{prefix}-connection" for t in threading.enumerate())
        server.stop()
        assert not [t for t in threading.enumerate() if t.name.startswith(prefix)]
        with pytest.raises(httpx.TransportError):
            keep_alive.get(url)
    server.stop()  # idempotent


# -- file:// trees -----------------------------------------------------------------------------------------


def test_static_index_and_find_links(tmp_path: Path, wheel_cache: WheelCache) -> None:
    from resolver.index.simple import parse_find_links_html, parse_html_page

    foo = dist(wheel_cache.wheel("foo", "1.0"), yanked=True, requires_python=">=3.8")
    simple = write_static_index(tmp_path / "index", [Project("Foo", [foo])])
    page_path = simple / "foo" / "index.html"
    page = parse_html_page(page_path.read_bytes(), url=page_path.as_uri())
    (link,) = page.files
    assert link.yanked == ""
    assert link.requires_python == ">=3.8"
    assert link.url == (tmp_path / "index" / "files" / foo.filename).as_uri()
    assert (tmp_path / "index" / "files" / f"{foo.filename}.metadata").read_bytes() == foo.metadata
    assert (
        dict(link.hashes)["sha256"]
        == hashlib.sha256((tmp_path / "index/files" / foo.filename).read_bytes()).hexdigest()
    )
    links = write_find_links(tmp_path / "links", [foo])
    found = parse_find_links_html((links / "index.html").read_bytes(), url=(links / "index.html").as_uri())
    assert [f.url for f in found.files] == [(links / foo.filename).as_uri()]


# -- the real pip ------------------------------------------------------------------------------------------


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    command = [sys.executable, "-m", "pip", "download", "--isolated", "--disable-pip-version-check"]
    command += ["--no-deps", "--no-cache-dir", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_pip_downloads_from_the_server(index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    files = _demo(index_server, wheel_cache)
    result = _pip("--index-url", index_server.url, "--dest", str(tmp_path), "--only-binary=:all:", "foo")
    assert result.returncode == 0, result.stderr
    # 3.0 needs Python >= 4 and 2.0 is yanked: pip must pick 1.0, and the hash it checked was right.
    assert [p.name for p in tmp_path.iterdir()] == [files["1.0"].filename]
    assert (tmp_path / files["1.0"].filename).read_bytes() == files["1.0"].content
    page_requests = index_server.requests("/simple/foo/")
    assert page_requests
    assert page_requests[0].headers["accept"].startswith(JSON_V1)
    assert index_server.requests(f"/files/{files['1.0'].filename}")
    # pip read the advertised PEP 658 metadata (and checked its hash) before downloading the wheel.
    assert index_server.requests(f"/files/{files['1.0'].filename}.metadata")[0].status == 200
    assert not index_server.requests(f"/files/{files['2.0'].filename}")


@pytest.mark.slow
def test_pip_downloads_from_a_file_index(tmp_path: Path, wheel_cache: WheelCache) -> None:
    files = [dist(wheel_cache.wheel("foo", "1.0")), dist(wheel_cache.wheel("foo", "2.0"), yanked="bad")]
    simple = write_static_index(tmp_path / "index", [Project("foo", files)])
    dest = tmp_path / "dest"
    result = _pip("--index-url", simple.as_uri(), "--dest", str(dest), "foo==1.0")
    assert result.returncode == 0, result.stderr
    assert (dest / files[0].filename).read_bytes() == files[0].content
    links = write_find_links(tmp_path / "links", files[:1])
    result = _pip("--no-index", "--find-links", str(links), "--dest", str(tmp_path / "fl"), "foo")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fl" / files[0].filename).exists()


def test_versions_override_and_api_version(
    index_server: IndexServer, wheel_cache: WheelCache, client: httpx.Client
) -> None:
    index_server.api_version = "1.0"
    index_server.add(Project("x", [dist(wheel_cache.wheel("x", "1.0"))], versions=["0.9", "1.0"]))
    page = client.get(index_server.project_url("x"), headers={"Accept": JSON_V1}).json()
    assert page["meta"]["api-version"] == "1.0"
    assert page["versions"] == ["0.9", "1.0"]
    index_server.add_files("X", dist(wheel_cache.sdist("x", "1.1")))
    files = client.get(index_server.project_url("x"), headers={"Accept": JSON_V1}).json()["files"]
    assert [f["filename"] for f in files] == ["x-1.0-py3-none-any.whl", "x-1.1.tar.gz"]
