"""LazyLinks.columns: the names, yanked flags and Requires-Python a view is built from must be what the links
themselves say, for messy entries too, whether the entries are kept compact or as decoded."""

from __future__ import annotations

import marshal

import pytest

from resolver.index.lazylinks import LazyLinks, link_from_source, source_of
from resolver.index.simple import FileLink, IndexedLink, parse_html_page

BASE = "https://index.invalid/simple/foo/"
ENTRIES: list[dict[str, object]] = [
    {"filename": "foo-1.0-py3-none-any.whl", "url": "https://files.invalid/a.whl", "yanked": False},
    {"filename": "foo-1.1.tar.gz", "url": "https://files.invalid/b.tar.gz", "yanked": "broken build"},
    {"filename": "foo-1.2-py3-none-any.whl", "url": "https://files.invalid/c.whl", "yanked": True},
    {"filename": "foo-1.3-py3-none-any.whl", "url": "https://files.invalid/d.whl", "yanked": ""},
    {"filename": "foo-1.4-py3-none-any.whl", "url": "../../files/e.whl", "requires-python": ">=3.9"},
    {"filename": "foo-1.5-py3-none-any.whl", "url": "https://files.invalid/f.whl", "requires-python": 3},
    {"filename": "foo-1.6-py3-none-any.whl", "url": "https://files.invalid/g.whl", "requires-python": ""},
    {"filename": "foo-1.7-py3-none-any.whl", "yanked": True},  # no url: not a file at all
]


@pytest.mark.parametrize("compact", [True, False])
def test_columns_say_what_the_links_say(compact: bool) -> None:
    extra = FileLink(filename="foo-2.0-py3-none-any.whl", url="file:///wheels/foo-2.0.whl", yanked="")
    links = LazyLinks(ENTRIES, url=BASE, extra=[extra], compact=compact)
    names, yanked, pythons = links.columns()
    assert len(names) == len(yanked) == len(pythons) == len(links) == 8
    assert names == [link.filename for link in links]
    assert yanked == [link.is_yanked for link in links]
    assert pythons == [link.requires_python for link in links]
    assert yanked == [False, True, True, False, False, False, False, True]
    assert pythons[4] == ">=3.9"


HTML = b"""<!DOCTYPE html><html><body>
<a href="../../files/foo-1.0-py3-none-any.whl#sha256=ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
   data-requires-python="&gt;=3.8">foo-1.0-py3-none-any.whl</a>
<a href="https://files.invalid/foo-1.1.tar.gz" data-yanked="">foo-1.1.tar.gz</a>
<a href="https://files.invalid/foo-1.2.tar.gz" data-yanked="broken build">foo-1.2.tar.gz</a>
<a href="https://files.invalid/foo-1.3-py3-none-any.whl" data-core-metadata="true">foo-1.3-py3-none-any.whl</a>
<a href="https://files.invalid/foo-1.4-py3-none-any.whl"
   data-dist-info-metadata="sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef">x</a>
<a href="file:///wheels/foo-1.5-py3-none-any.whl">foo-1.5-py3-none-any.whl</a>
</body></html>"""


def test_a_built_link_as_plain_values_builds_the_same_link_again() -> None:
    # The one form a file takes between the wire and a candidate: what a view stores (through marshal) for a
    # file of an HTML page or find-links must build a link equal to the page's, field for field.
    html_links = list(parse_html_page(HTML, url=BASE).files)
    assert len(html_links) == 6
    made = [
        *html_links,
        *LazyLinks(ENTRIES, url=BASE),
        IndexedLink(
            filename="foo-3.0-py3-none-any.whl",
            url="https://files.invalid/foo-3.0-py3-none-any.whl",
            hashes=(("sha256", "ab" * 32), ("sha512", "cd" * 64)),
            requires_python=">=3.10",
            yanked="",
            core_metadata=(("sha256", "ef" * 32),),
            size=1234,
            upload_time="2026-01-01T00:00:00Z",
            index_url="https://user:***@index.invalid/simple/",
        ),
    ]
    for link in made:
        (source,) = marshal.loads(marshal.dumps([source_of(link)]))
        assert link_from_source(source) == link, link
        assert type(link_from_source(source)) is type(link)
