"""Dockerfile lines to instructions, as BuildKit's parser reads them. Pure; no I/O; linear time.

Grammar supported (BuildKit ``frontend/dockerfile/parser`` and the Dockerfile reference):

* Parser directives ``# syntax=``, ``# escape=`` (``\\`` or a backquote) and ``# check=`` at the top of the
  file, before any blank line, comment or instruction; leading blanks and a UTF-8 BOM are allowed. A repeated
  directive or another escape character is an error; an unknown directive is a comment.
* A line whose last non-blank character is the escape character continues on the next one (trailing spaces
  after it too), unless that character is itself escaped (``echo a\\\\`` ends the instruction). Comment lines
  and blank lines inside a continued instruction are dropped; continuation lines keep their leading blanks. A
  continuation at the end of the file ends the instruction.
* Heredocs in RUN, COPY and ADD (``<<EOF``, ``<<-EOF`` which strips leading tabs, ``<<"EOF"`` and
  ``<<'EOF'`` which disable expansion, ``2<<EOF``, several on one line, read in order): bodies are kept on
  :class:`Heredoc` and never read as instructions. An unterminated heredoc is an error.
* Keywords are case-insensitive. Leading ``--flag`` words are split off every instruction (``RUN --mount``,
  ``FROM --platform``, ``COPY --from``). RUN/CMD/ENTRYPOINT/SHELL arguments that are a JSON array of strings
  are exec form; anything else, including malformed JSON, is shell form, as in BuildKit.

Line endings ``\\n`` and ``\\r\\n`` are both read; ``Instruction.raw`` keeps them as written.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolver.docker.shell import NAME, expand_braced, skip_balanced
from resolver.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "Heredoc",
    "Instruction",
    "Locator",
    "docker_split",
    "docker_word",
    "json_array",
    "read_directives",
    "read_instructions",
    "split_lines",
]

_DIRECTIVE = re.compile(r"#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(\S.*)")  # value rstripped below
_HEREDOC = re.compile(r"(\d*)<<(-?)([^<]*)")
_EXEC_FORM = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL"})
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Heredoc:
    """One heredoc. ``raw[start:end]`` of its instruction is the body as written (lines ``line`` to
    ``end_line - 1``; ``end_line`` holds the terminator); ``body`` is what the builder passes on."""

    name: str
    word: str
    chomp: bool
    quoted: bool
    body: str
    start: int
    end: int
    line: int
    end_line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Instruction:
    """One instruction.

    ``raw`` is the exact source text of lines ``line``..``end_line`` (continuations, dropped comment lines and
    heredocs included, the final line break excluded); it sits at ``offset`` in the file. ``pieces`` are the
    spans of ``raw`` that, joined, make the logical line the builder reads (see :attr:`logical`); ``args`` is
    that logical line after the keyword and the ``flags``, starting at index ``args_start`` of it.
    ``exec_form`` holds the strings of a JSON-form RUN/CMD/ENTRYPOINT/SHELL.
    """

    keyword: str
    line: int
    end_line: int
    raw: str
    offset: int
    pieces: tuple[tuple[int, int], ...]
    flags: tuple[str, ...]
    args: str
    args_start: int
    exec_form: tuple[str, ...] | None
    heredocs: tuple[Heredoc, ...]

    @property
    def logical(self) -> str:
        """The instruction as the builder reads it: continuations joined, comment lines removed."""
        return "".join(self.raw[a:b] for a, b in self.pieces)

    def flag(self, name: str) -> str | None:
        """The value of ``--name=value`` among the flags, if given."""
        prefix = f"--{name}="
        return next((f[len(prefix) :] for f in self.flags if f.startswith(prefix)), None)


class Locator:
    """Maps an instruction's logical-line indexes to offsets of its ``raw`` text, and those to line/col.

    Building one costs a pass over ``raw``; each lookup is a binary search.
    """

    def __init__(self, instruction: Instruction) -> None:
        self.instruction = instruction
        self._starts: list[int] = []
        total = 0
        for a, b in instruction.pieces:
            self._starts.append(total)
            total += b - a
        self._newlines = [i for i, c in enumerate(instruction.raw) if c == "\n"]

    def raw_index(self, logical_index: int) -> int:
        """The offset in ``raw`` of the logical character at ``logical_index``."""
        pieces = self.instruction.pieces
        k = max(bisect.bisect_right(self._starts, logical_index) - 1, 0)
        return pieces[k][0] + logical_index - self._starts[k]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The ``raw`` span covering the logical span ``start:end``."""
        if end <= start:
            at = self.raw_index(start)
            return at, at
        return self.raw_index(start), self.raw_index(end - 1) + 1

    def position(self, raw_index: int) -> tuple[int, int]:
        """The 1-based ``(line, col)`` in the file of ``raw[raw_index]``; columns count characters."""
        k = bisect.bisect_left(self._newlines, raw_index)
        line_start = self._newlines[k - 1] + 1 if k else 0
        return self.instruction.line + k, raw_index - line_start + 1

    def error(self, message: str, path: str, logical_index: int, hint: str | None = None) -> InputError:
        """An :class:`InputError` pointing at ``logical_index`` of the logical line."""
        line, col = self.position(self.raw_index(logical_index))
        return InputError(message, path=path, line=line, col=col, hint=hint)


def split_lines(text: str) -> list[tuple[int, str]]:
    """``(offset, content)`` per line: content has no line break, trailing ``\\r`` or leading BOM."""
    out: list[tuple[int, str]] = []
    offset = 0
    for part in text.split("\n"):
        out.append((offset, part.rstrip("\r")))
        offset += len(part) + 1
    if out and out[-1][1] == "" and (text.endswith("\n") or not text):
        out.pop()
    if out and out[0][1].startswith("\ufeff"):
        out[0] = (1, out[0][1][1:])
    return out


def read_directives(lines: list[tuple[int, str]], path: str) -> dict[str, str]:
    """The parser directives at the top of the file (keys lower-cased)."""
    found: dict[str, str] = {}
    for number, (_offset, content) in enumerate(lines, start=1):
        m = _DIRECTIVE.fullmatch(content.strip())
        if m is None or m[1].lower() not in ("syntax", "escape", "check"):
            break
        key, value = m[1].lower(), m[2].rstrip()
        if key in found:
            raise InputError(f"only one {key} parser directive can be used", path=path, line=number, col=1)
        if key == "escape" and value not in ("\\", "`"):
            raise InputError(
                f"invalid escape token {value!r}", path=path, line=number, col=1, hint="use \\ or a backquote"
            )
        found[key] = value
    return found


def _json_string_end(args: str, i: int) -> int:
    """Index just past the JSON string starting at ``args[i] == '"'``; -1 if it does not end."""
    j = i + 1
    while j < len(args) and args[j] != '"':
        j += 2 if args[j] == "\\" else 1
    return j + 1 if j < len(args) else -1


def json_array(args: str) -> tuple[tuple[str, int, int], ...] | None:
    """``(value, start, end)`` per string when ``args`` is exactly a JSON array of strings, else ``None``."""
    if not args.startswith("["):
        return None
    out: list[tuple[str, int, int]] = []
    i = 1
    while True:
        while i < len(args) and args[i].isspace():
            i += 1
        if args.startswith("]", i) and not out:
            break
        end = _json_string_end(args, i) if args.startswith('"', i) else -1
        if end < 0:
            return None
        try:
            value = json.loads(args[i:end])
        except ValueError:
            return None
        out.append((value, i, end))
        i = end
        while i < len(args) and args[i].isspace():
            i += 1
        if not args.startswith(",", i):
            break
        i += 1
    return tuple(out) if args.startswith("]", i) and not args[i + 1 :].strip() else None


def _continues(content: str, escape: str) -> tuple[bool, int]:
    """Whether ``content`` ends in a line continuation, and how much of it comes before that."""
    trimmed = content.rstrip(" \t")  # BuildKit: ([^\\])\\[ \t]*$|^\\[ \t]*$
    if trimmed.endswith(escape) and not trimmed.endswith(escape * 2):
        return True, len(trimmed) - 1
    return False, len(content)


def _heredocs(
    args: str, lines: list[tuple[int, str]], i: int, *, escape: str, path: str, line: int
) -> tuple[list[tuple[str, str, bool, bool, int, int]], int]:
    """``(name, word, chomp, quoted, first body line index, terminator line index)`` of each heredoc."""
    found: list[tuple[str, str, bool, bool, int, int]] = []
    for a, b in docker_split(args, escape):
        m = _HEREDOC.fullmatch(args[a:b])
        if m is None or not m[3]:
            continue
        name = re.sub(r"[\"']", "", m[3])
        chomp = m[2] == "-"
        k = i
        while k < len(lines) and (lines[k][1].lstrip("\t") if chomp else lines[k][1]) != name:
            k += 1
        if k >= len(lines):
            raise InputError(
                f"unterminated heredoc {args[a:b]}", path=path, line=line, hint=f"end it with a line {name!r}"
            )
        found.append((name, args[a:b], chomp, name != m[3], i, k))
        i = k + 1
    return found, i


def _split_flags(logical: str, escape: str) -> tuple[str, tuple[str, ...], int]:
    """The keyword, the leading ``--flag`` words, and where the arguments start."""
    keyword = logical.split(None, 1)[0]
    pos = logical.index(keyword) + len(keyword)  # a lone escape line may leave blanks in front
    flags: list[str] = []
    for a, b in docker_split(logical[pos:], escape):
        word = logical[pos + a : pos + b]
        if not word.startswith("--") or word == "--":
            break
        flags.append(word)
        end = pos + b
    if flags:
        pos = end
    while pos < len(logical) and logical[pos].isspace():
        pos += 1
    return keyword.upper(), tuple(flags), pos


def read_instructions(text: str, lines: list[tuple[int, str]], escape: str, path: str) -> list[Instruction]:
    """Every instruction of the file, in order; comments and blank lines are skipped."""
    out: list[Instruction] = []
    i = 0
    while i < len(lines):
        offset, content = lines[i]
        stripped = content.lstrip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        first = last = i
        cont, length = _continues(stripped, escape)
        lead = offset + len(content) - len(stripped)
        spans = [(lead, lead + length)]
        i += 1
        while cont and i < len(lines):
            off, line = lines[i]
            i += 1
            if not line.strip() or line.lstrip().startswith("#"):
                continue  # BuildKit drops comment and blank lines inside a continuation
            cont, length = _continues(line, escape)
            spans.append((off, off + length))
            last = i - 1
        logical = "".join(text[a:b] for a, b in spans)
        if not logical.strip():  # only escape characters and blank or comment lines: no instruction
            continue
        keyword, flags, args_start = _split_flags(logical, escape)
        args = logical[args_start:].rstrip()
        strings = json_array(args) if keyword in _EXEC_FORM else None
        found: list[tuple[str, str, bool, bool, int, int]] = []
        if keyword in _HEREDOC_KEYWORDS and strings is None and "<<" in args:
            found, i = _heredocs(args, lines, i, escape=escape, path=path, line=first + 1)
            last = found[-1][5] if found else last
        start = lines[first][0]
        heredocs = tuple(
            Heredoc(
                name=name,
                word=word,
                chomp=chomp,
                quoted=quoted,
                body="".join(lines[k][1] + "\n" for k in range(a, b)),
                start=lines[a][0] - start,
                end=lines[b][0] - start,
                line=a + 1,
                end_line=b + 1,
            )
            for name, word, chomp, quoted, a, b in found
        )
        out.append(
            Instruction(
                keyword=keyword,
                line=first + 1,
                end_line=last + 1,
                raw=text[start : lines[last][0] + len(lines[last][1])],
                offset=start,
                pieces=tuple((a - start, b - start) for a, b in spans),
                flags=flags,
                args=args,
                args_start=args_start,
                exec_form=None if strings is None else tuple(s for s, _a, _b in strings),
                heredocs=heredocs,
            )
        )
    return out


# --- words of FROM / ARG / ENV, by BuildKit's rules --------------------------------------------------


def docker_split(text: str, escape: str = "\\") -> tuple[tuple[int, int], ...]:
    """Spans of the blank-separated words of ``text``; quotes and the escape character protect blanks."""
    spans: list[tuple[int, int]] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        quote = ""
        while i < n and (quote or not text[i].isspace()):
            c = text[i]
            if c == escape and quote != "'":
                i += 1
            elif quote and c == quote:
                quote = ""
            elif not quote and c in "'\"":
                quote = c
            i += 1
        spans.append((start, min(i, n)))
    return tuple(spans)


def docker_word(text: str, env: Mapping[str, str | None] | None, escape: str = "\\") -> tuple[str, tuple[str, ...]]:
    """Quote removal and ``$`` substitution of one Dockerfile word: ``(value, unresolved names)``.

    As in BuildKit: the escape character escapes anything outside quotes and only ``"``, ``$`` and itself
    inside double quotes; ``$(`` is plain text. Unknown references are kept as written.
    """
    out: list[str] = []
    unresolved: list[str] = []
    quote = ""
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == escape and quote != "'" and i + 1 < n:
            keep = quote == '"' and text[i + 1] not in ('"', "$", escape)
            out.append(c if keep else text[i + 1])
            i += 1 if keep else 2
        elif (quote and c == quote) or (not quote and c in "'\""):
            quote = "" if quote else c
            i += 1
        elif c == "$" and quote != "'" and (text.startswith("{", i + 1) or NAME.match(text, i + 1)):
            if text.startswith("{", i + 1):
                end = skip_balanced(text, i + 1)
                end = n if end < 0 else end
                value = expand_braced(text[i + 2 : end - 1], env)
            else:
                end = NAME.match(text, i + 1).end()  # type: ignore[union-attr]  # matched just above
                value = None if env is None else env.get(text[i + 1 : end])
            if value is None:
                name = NAME.match(text, i + 2 if text[i + 1] == "{" else i + 1)
                unresolved.append(name.group() if name else text[i:end])
            out.append(text[i:end] if value is None else value)
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out), tuple(unresolved)
