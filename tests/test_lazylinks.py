"""LazyLinks.columns: the names, yanked flags and Requires-Python a view is built from must be what the links
themselves say, for messy entries too, whether the entries are kept compact or as decoded."""

from __future__ import annotations

import pytest

from resolver.index.lazylinks import LazyLinks
from resolver.index.simple import FileLink

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
