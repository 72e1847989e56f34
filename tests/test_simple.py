"""resolver.index.simple: PEP 691 JSON and PEP 503 HTML pages into wire types, leniently.

Pages come from the loopback index's renderers (the bytes a real client receives) and from hand-written
snippets for the odd shapes real mirrors serve.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolver.errors import RelaxPinsError
from resolver.index.simple import (
    FileLink,
    IndexFormatError,
    parse_filename,
    parse_find_links_html,
    parse_html_page,
    parse_json_page,
)
from tests.indexserver import fixtures
from tests.indexserver.model import JSON_V1, Project, dist, render_project_html, render_project_json

if TYPE_CHECKING:
    from tests.indexserver.server import IndexServer
    from tests.indexserver.wheels import WheelCache

index_server = fixtures.index_server
wheel_cache = fixtures.wheel_cache

PAGE = "https://index.invalid/simple/foo/"


def _project(cache: WheelCache) -> Project:
    return Project(
        "Foo",
        [
            dist(cache.wheel("foo", "1.0", requires_dist=["bar"])),
            dist(cache.sdist("foo", "1.0"), upload_time=None),
            dist(cache.wheel("foo", "2.0"), yanked="bad <build> & more"),
            dist(cache.wheel("foo", "2.1"), yanked=True, advertise_metadata=False),
            dist(cache.wheel("foo", "3.0"), requires_python=">=3.10,<4"),
            dist(cache.wheel("foo", "4.0+cu118", tags="cp310-cp310-linux_x86_64"), advertise_hash=False),
        ],
    )


def _json(entries: list[object], **top: object) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "foo", "files": entries, **top}).encode()


# -- real pages from the index's renderers -----------------------------------------------------------------


def test_json_page_fields(wheel_cache: WheelCache) -> None:
    project = _project(wheel_cache)
    page = parse_json_page(render_project_json(project), url=PAGE)
    assert page.name == "foo"
    assert page.api_version == "1.1"
    assert page.versions == ("1.0", "2.0", "2.1", "3.0", "4.0+cu118")
    assert page.warnings == ()
    wheel, sdist, yanked, yanked_plain, python, torch = page.files
    source = project.files[0]
    assert wheel == FileLink(
        filename="foo-1.0-py3-none-any.whl",
        url="https://index.invalid/files/foo-1.0-py3-none-any.whl",
        hashes=(("sha256", source.sha256),),
        core_metadata=(("sha256", source.metadata_sha256 or ""),),
        size=len(source.content),
        upload_time="2024-01-01T00:00:00.000000Z",
    )
    assert wheel.has_metadata
    assert wheel.metadata_url == wheel.url + ".metadata"
    assert wheel.hash("sha256") == source.sha256
    assert sdist.core_metadata is False
    assert sdist.upload_time is None
    assert (yanked.yanked, yanked.is_yanked) == ("bad <build> & more", True)
    assert (yanked_plain.yanked, yanked_plain.has_metadata) == ("", False)
    assert wheel.yanked is None
    assert not wheel.is_yanked
    assert python.requires_python == ">=3.10,<4"
    assert torch.filename == "foo-4.0+cu118-cp310-cp310-linux_x86_64.whl"
    assert torch.url.endswith("/files/foo-4.0%2Bcu118-cp310-cp310-linux_x86_64.whl")
    assert torch.hashes == ()


def test_html_and_json_agree(wheel_cache: WheelCache) -> None:
    project = _project(wheel_cache)
    from_json = parse_json_page(render_project_json(project), url=PAGE)
    from_html = parse_html_page(render_project_html(project), url=PAGE)
    assert from_html.name == from_json.name
    assert from_html.api_version == "1.1"
    assert from_html.versions == ()
    assert from_html.warnings == ()
    for html_file, json_file in zip(from_html.files, from_json.files, strict=True):
        # size and upload-time exist only in JSON (PEP 700)
        assert html_file.filename == json_file.filename
        assert html_file.url == json_file.url
        assert html_file.hashes == json_file.hashes
        assert html_file.requires_python == json_file.requires_python
        assert html_file.yanked == json_file.yanked
        assert html_file.core_metadata == json_file.core_metadata
        assert (html_file.size, html_file.upload_time) == (None, None)


def test_pages_fetched_from_the_loopback_index(index_server: IndexServer, wheel_cache: WheelCache) -> None:
    index_server.absolute_urls = True
    index_server.add(_project(wheel_cache))
    with httpx.Client(timeout=5) as client:
        url = index_server.project_url("foo")
        as_json = parse_json_page(client.get(url, headers={"Accept": JSON_V1}).content, url=url)
        as_html = parse_html_page(client.get(url).content, url=url)
        for link in as_json.files:
            body = client.get(link.url).content
            assert link.size == len(body)
            if link.hashes:
                assert link.hash() == hashlib.sha256(body).hexdigest()
    assert [f.url for f in as_json.files] == [f.url for f in as_html.files]
    assert as_json.files[0].url == index_server.file_url("foo-1.0-py3-none-any.whl")


# -- JSON leniency ------------------------------------------------------------------------------------------


def test_json_bad_entries_are_skipped_with_warnings() -> None:
    body = _json(
        [
            "not an object",
            {"filename": "nourl-1.0.tar.gz"},
            {
                "url": "../../files/guess-1.0.tar.gz#sha256=ABCD",
                "hashes": "nope",
                "requires-python": 3,
                "size": -1,
                "upload-time": 17,
                "core-metadata": "yes",
            },
            {
                "filename": "ok-1.0.tar.gz",
                "url": "https://elsewhere.invalid/ok-1.0.tar.gz",
                "hashes": {"SHA256": "ABCDEF", "sha512": 12},
                "size": True,
                "yanked": 1,
            },
        ],
        versions="1.0",
    )
    page = parse_json_page(body, url=PAGE)
    guess, ok = page.files
    assert guess.filename == "guess-1.0.tar.gz"
    assert guess.url == "https://index.invalid/files/guess-1.0.tar.gz"
    assert guess.hashes == (("sha256", "abcd"),)  # from the fragment, since hashes was unusable
    assert (guess.requires_python, guess.size, guess.upload_time, guess.core_metadata) == (
        None,
        None,
        None,
        False,
    )
    assert ok.hashes == (("sha256", "abcdef"),)
    assert ok.url == "https://elsewhere.invalid/ok-1.0.tar.gz"
    assert ok.size is None
    assert ok.yanked == ""
    assert page.versions == ()
    text = "\n".join(page.warnings)
    for needle in (
        "files[0]",
        "files[1]: no url",
        "no filename",
        "requires-python",
        "size",
        "upload-time",
        "core-metadata",
        "sha512",
        "yanked",
        "versions",
    ):
        assert needle in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [(False, None), (True, ""), ("", None), ("security hole", "security hole"), (None, None)],
)
def test_json_yanked_values(value: object, expected: str | None) -> None:
    (link,) = parse_json_page(_json([{"filename": "a-1.tar.gz", "url": "a-1.tar.gz", "yanked": value}]), url=PAGE).files
    assert link.yanked == expected


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"core-metadata": {"sha256": "AB"}}, (("sha256", "ab"),)),
        ({"core-metadata": {}}, True),
        ({"core-metadata": True}, True),
        ({"data-dist-info-metadata": {"sha256": "cd"}}, (("sha256", "cd"),)),
        ({"core-metadata": False, "data-dist-info-metadata": True}, False),
        ({}, False),
    ],
)
def test_json_core_metadata_and_pep_714_fallback(entry: dict[str, object], expected: object) -> None:
    body = _json([{"filename": "a-1-py3-none-any.whl", "url": "a-1-py3-none-any.whl", **entry}])
    (link,) = parse_json_page(body, url=PAGE).files
    assert link.core_metadata == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"meta": {"api-version": "1.0"}}', "no files list"),
        (b'{"meta": {"api-version": "2.0"}, "files": []}', "unsupported simple API version 2.0"),
        (b"[" * 100000, "not valid JSON"),
    ],
)
def test_json_unusable_pages_raise(body: bytes, message: str) -> None:
    with pytest.raises(IndexFormatError, match=message) as caught:
        parse_json_page(body, url=PAGE)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, RelaxPinsError)
    assert str(caught.value).startswith(PAGE)


def test_json_missing_meta_and_name_are_warnings() -> None:
    page = parse_json_page(b'{"files": []}', url="https://x.invalid/simple/Some_Thing/")
    assert page.api_version is None
    assert page.name == "some-thing"
    assert len(page.warnings) == 2


# -- HTML leniency ------------------------------------------------------------------------------------------


def test_html_attributes_and_fragments() -> None:
    body = b"""<!DOCTYPE html><html><body>
    <a href="/files/a-1.0.tar.gz#sha256=ABCDEF" data-requires-python="&gt;=3.8,&lt;4">a-1.0.tar.gz</a>
    <a href="b-1.0.tar.gz#md5=0123" data-yanked>b</a>
    <a href="c-1.0.tar.gz#egg=c" data-yanked="why &amp; because" data-requires-python="">c</a>
    <a href="d-1.0-py3-none-any.whl?x=1&amp;y=2" data-core-metadata="true">d</a>
    <a href="e-1.0-py3-none-any.whl" data-dist-info-metadata="sha256=ABC">e</a>
    <a href="f-1.0-py3-none-any.whl" data-core-metadata="sha256=aa" data-dist-info-metadata="true">f</a>
    <a href="g-1.0-py3-none-any.whl" data-core-metadata="maybe">g</a>
    <a name="anchor-without-href">nothing</a>
    <a href="h-1.0-py3-none-any.whl#sha1024=ab">h</a>
    <p><a href="i-1.0.tar.gz">unclosed
    """
    page = parse_html_page(body, url="https://idx.invalid/simple/x/")
    a, b, c, d, e, f, g, h, i = page.files
    assert (a.url, a.hashes, a.requires_python) == (
        "https://idx.invalid/files/a-1.0.tar.gz",
        (("sha256", "abcdef"),),
        ">=3.8,<4",
    )
    assert (b.url, b.hashes, b.yanked) == (
        "https://idx.invalid/simple/x/b-1.0.tar.gz",
        (("md5", "0123"),),
        "",
    )
    assert (c.hashes, c.yanked, c.requires_python, a.yanked) == ((), "why & because", None, None)
    assert (d.url, d.filename, d.core_metadata) == (
        "https://idx.invalid/simple/x/d-1.0-py3-none-any.whl?x=1&y=2",
        "d-1.0-py3-none-any.whl",
        True,
    )
    assert e.core_metadata == (("sha256", "abc"),)
    assert f.core_metadata == (("sha256", "aa"),)  # data-core-metadata wins (PEP 714)
    assert g.core_metadata is False
    assert h.hashes == ()
    assert i.filename == "i-1.0.tar.gz"
    assert page.api_version is None
    assert any("maybe" in w for w in page.warnings)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://cdn.invalid/pkgs/", "https://cdn.invalid/pkgs/x-1.tar.gz"),
        ("../../other/", "https://idx.invalid/other/x-1.tar.gz"),
        (None, "https://idx.invalid/simple/x/x-1.tar.gz"),
    ],
)
def test_html_base_href(base: str | None, expected: str) -> None:
    head = f'<head><base href="{base}"><base href="https://ignored.invalid/"></head>' if base else ""
    body = f'<html>{head}<body><a href="x-1.tar.gz">x</a></body></html>'.encode()
    (link,) = parse_html_page(body, url="https://idx.invalid/simple/x/").files
    assert link.url == expected


def test_html_quoted_filenames_and_name_from_url() -> None:
    body = b'<a href="../../files/torch-2.1.0%2Bcu118-cp310-cp310-linux_x86_64.whl#sha256=00">t</a>'
    page = parse_html_page(body, url="file:///srv/simple/Torch_Nightly/index.html")
    assert page.name == "torch-nightly"
    (link,) = page.files
    assert link.filename == "torch-2.1.0+cu118-cp310-cp310-linux_x86_64.whl"
    assert link.url == "file:///srv/files/torch-2.1.0%2Bcu118-cp310-cp310-linux_x86_64.whl"
    assert parse_html_page(body, url=PAGE, name="Other.Name").name == "other-name"


def test_html_bad_bytes_and_versions() -> None:
    page = parse_html_page(b'<a href="x-1.tar.gz">\xff</a>', url=PAGE)
    assert len(page.files) == 1
    assert "not valid UTF-8" in page.warnings[0]
    with pytest.raises(IndexFormatError, match=r"2\.0"):
        parse_html_page(b'<meta name="pypi:repository-version" content="2.0">', url=PAGE)


def test_find_links_keeps_only_distributions() -> None:
    body = b"""<html><body>
    <a href="../">Parent</a>
    <a href="README.md">readme</a>
    <a href="https://example.invalid/">home</a>
    <a href="pkg-1.0-py3-none-any.whl#sha256=AB" data-core-metadata="bogus">pkg wheel</a>
    <a href="sub/pkg-0.9.tar.gz">pkg sdist</a>
    <a href="xformers-0.0.20.dev528-cp310-cp310-manylinux2014_x86_64-pytorch2.whl">bad wheel</a>
    </body></html>"""
    page = parse_find_links_html(body, url="https://host.invalid/links/index.html")
    assert [f.url for f in page.files] == [
        "https://host.invalid/links/pkg-1.0-py3-none-any.whl",
        "https://host.invalid/links/sub/pkg-0.9.tar.gz",
    ]
    assert page.files[0].hashes == (("sha256", "ab"),)
    assert len(page.warnings) == 1  # only the kept link's odd attribute, not the skipped links


# -- filenames -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("foo-1.0-py3-none-any.whl", ("foo", "1.0", "wheel", "py3-none-any", ())),
        ("Foo.Bar-1.0-2-py3-none-any.whl", ("foo-bar", "1.0", "wheel", "py3-none-any", (2, ""))),
        (
            "torch-2.1.0+cu118-cp310-cp310-linux_x86_64.whl",
            ("torch", "2.1.0+cu118", "wheel", "cp310-cp310-linux_x86_64", ()),
        ),
        ("foo-bar-1.0.tar.gz", ("foo-bar", "1.0", "sdist", None, ())),
        ("Foo_Bar-1.0rc1.zip", ("foo-bar", "1.0rc1", "sdist", None, ())),
        ("old-0.1.tar.bz2", ("old", "0.1", "sdist", None, ())),
        ("old-0.1.TGZ", ("old", "0.1", "sdist", None, ())),
        ("xformers-0.0.20.dev528-cp310-cp310-manylinux2014_x86_64-pytorch2.whl", None),
        ("foo-notaversion-py3-none-any.whl", None),
        ("foo-notaversion.tar.gz", None),
        ("foo.tar.gz", None),
        ("-1.0.tar.gz", None),
        ("foo-1.0-py2.4.egg", None),
        ("README.md", None),
        ("", None),
    ],
)
def test_parse_filename(filename: str, expected: tuple[str, str, str, str | None, tuple[()]] | None) -> None:
    parsed = parse_filename(filename)
    if expected is None:
        assert parsed is None
        return
    assert parsed is not None
    name, version, kind, tags, build = expected
    assert (parsed.name, str(parsed.version), parsed.kind, parsed.build) == (name, version, kind, build)
    if tags is None:
        assert parsed.tags is None
    else:
        assert {str(t) for t in parsed.tags or ()} == {tags}


# -- properties ---------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_html_never_crashes(body: bytes) -> None:
    try:
        page = parse_html_page(body, url=PAGE)
    except IndexFormatError:
        return
    assert all(f.filename and "#" not in f.url for f in page.files)
    parse_find_links_html(body, url=PAGE)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner, max_size=4),
    max_leaves=20,
)
_file_keys = st.sampled_from(
    [
        "filename",
        "url",
        "hashes",
        "requires-python",
        "yanked",
        "core-metadata",
        "data-dist-info-metadata",
        "size",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_file_keys, _json_values, max_size=8) | _json_values, max_size=5), _json_values)
def test_json_never_crashes(files: list[object], versions: object) -> None:
    body = json.dumps({"meta": {"api-version": "1.0"}, "name": "x", "files": files, "versions": versions}).encode()
    page = parse_json_page(body, url=PAGE)
    assert len(page.files) <= len(files)
    for link in page.files:
        assert isinstance(link.filename, str)
        assert link.yanked is None or isinstance(link.yanked, str)
        assert all(isinstance(v, str) for _, v in link.hashes)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_parse_filename_never_raises(filename: str) -> None:
    parsed = parse_filename(filename)
    assert parsed is None or parsed.kind in {"wheel", "sdist"}
