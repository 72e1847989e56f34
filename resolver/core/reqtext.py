"""Physical and logical lines of a requirements file, with a map from joined text back to the raw bytes.

pip reads a requirements file as ``str.splitlines()`` lines joined by ``\\`` continuations (its
``join_lines``); this module does the same on offsets, so that every position in the joined (logical) text
can be traced back to the exact place in the file it came from:

- physical lines end with ``\\n``, ``\\r\\n`` or ``\\r`` (the last one may have no ending); a leading
  U+FEFF is part of the first line's raw text but not of its content;
- a line whose content ends with ``\\`` (and is not a comment line, ``\\s*#``) continues on the next one;
  pip strips every backslash at both ends of such a line; a comment line that closes a continuation is
  joined after a space, so that it is still a comment;
- a comment starts at a ``#`` at the start of the logical line or after whitespace.

Everything here is linear in the text and iterative.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Logical", "OffsetMap", "comment_start", "count_physical", "logical_lines"]

_LINE = re.compile(r"([^\r\n]*)(?:\r\n|\r|\n|\Z)")
_COMMENT_LINE = re.compile(r"\s*#")


class OffsetMap:
    """Offsets in the joined logical text -> offsets in ``raw``; raw offsets -> (line, column), 1-based."""

    __slots__ = ("bom", "lineno", "log", "phys", "raw")

    def __init__(self, bom: bool) -> None:
        self.lineno = 1
        self.bom = bom
        self.log: list[int] = []  # where each joined segment starts in the logical text...
        self.raw: list[int] = []  # ...and where it starts in raw
        self.phys: list[int] = []  # where each physical line starts in raw

    def at(self, q: int) -> int:
        """The raw offset of the logical character at ``q``."""
        i = max(bisect_right(self.log, q) - 1, 0)
        return self.raw[i] + q - self.log[i]

    def end(self, q: int) -> int:
        """The raw offset just after the logical character at ``q - 1`` (for span ends)."""
        return self.at(q - 1) + 1 if q > 0 else self.at(0)

    def where(self, r: int) -> tuple[int, int]:
        """Line and column of raw offset ``r``; a BOM is not counted as a column."""
        i = max(bisect_right(self.phys, r) - 1, 0)
        col = r - self.phys[i] + 1
        if self.bom and i == 0:
            col -= 1
        return self.lineno + i, max(col, 1)


class Logical(NamedTuple):
    """One logical line: its raw text, the text pip reads, the map between them, where the content ends."""

    raw: str
    joined: str
    mapping: OffsetMap
    content_end: int


def _physical(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, content end, end) of each physical line."""
    size = len(text)
    for match in _LINE.finditer(text):
        start, stop, end = match.start(), match.end(1), match.end()
        if start == size:  # the empty match at the very end
            return
        yield start, stop, end


def count_physical(text: str) -> int:
    """How many physical lines ``text`` has."""
    return sum(1 for _ in _physical(text))


def logical_lines(text: str, *, allow_bom: bool = True) -> Iterator[Logical]:
    """Group physical lines into logical ones, as pip's ``join_lines`` does."""
    bom = allow_bom and text.startswith("\ufeff")
    group: list[tuple[int, int, int, int, bool]] = []
    comment_line = _COMMENT_LINE.match
    for start, stop, end in _physical(text):
        content_start = 1 if bom and start == 0 else start
        continued = text.endswith("\\", content_start, stop) and not comment_line(text, content_start, stop)
        if not continued and not group:  # the common case: a line on its own
            mapping = OffsetMap(bom and start == 0)
            mapping.log.append(0)
            mapping.raw.append(content_start - start)
            mapping.phys.append(0)
            yield Logical(text[start:end], text[content_start:stop], mapping, stop - start)
            continue
        group.append((start, content_start, stop, end, continued))
        if not continued:
            yield _join(text, group, bom)
            group = []
    if group:
        yield _join(text, group, bom)


def _join(text: str, group: list[tuple[int, int, int, int, bool]], bom: bool) -> Logical:
    base = group[0][0]
    mapping = OffsetMap(bom and base == 0)
    pieces: list[str] = []
    size = 0
    for index, (start, c_start, c_stop, _end, continued) in enumerate(group):
        mapping.phys.append(start - base)
        a, b = c_start, c_stop
        if continued:
            content = text[c_start:c_stop]
            a += len(content) - len(content.lstrip("\\"))
            b -= len(content) - len(content.rstrip("\\"))
            a = min(a, b)
        elif index and _COMMENT_LINE.match(text, c_start, c_stop):
            mapping.log.append(size)  # pip joins a closing comment line after a space
            mapping.raw.append(c_start - base)
            pieces.append(" ")
            size += 1
        mapping.log.append(size)
        mapping.raw.append(a - base)
        pieces.append(text[a:b])
        size += b - a
    return Logical(text[base : group[-1][3]], "".join(pieces), mapping, group[-1][2] - base)


def comment_start(joined: str) -> int:
    """Where pip's comment starts: the first ``#`` at 0 or after whitespace; -1 when there is none."""
    i = joined.find("#")
    while i > 0 and not joined[i - 1].isspace():
        i = joined.find("#", i + 1)
    return i
