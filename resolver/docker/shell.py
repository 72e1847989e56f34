"""Shell words with exact offsets: how ``/bin/sh`` splits the text of a ``RUN``. Pure; linear; iterative.

:func:`split_commands` cuts shell text into simple commands and words. Supported: blanks and newlines; the
operators ``&&``, ``||``, ``;``, ``;;``, ``|``, ``|&``, ``&``, ``(`` and ``)``, each ending a command; ``#``
comments where a word starts; single quotes; double quotes with their backslash escapes; backslash escapes
and backslash-newline outside quotes; ``$NAME``, ``${NAME}`` and ``${NAME:-w}``, ``${NAME-w}``,
``${NAME:+w}``, ``${NAME+w}``, ``${NAME:?w}``, ``${NAME:=w}``. ``$(...)``, ``$((...))`` and backquotes are
kept whole inside their word and never run.

``<`` and ``>`` are *not* operators here: they stay in their word and mark it ``redirect``, because the
caller's question is "did the author write an unquoted ``>`` in a requirement?". Not supported: ``$'...'``
(dash has none), ``${X%y}``/``${X#y}``/``${X/y/z}`` (kept as written, reported unresolved), aliases,
functions, brace and glob expansion (kept literal). Unknown variables are never an error: the reference is
kept as written and its name listed in ``Word.unresolved``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ShellSyntaxError",
    "Word",
    "expand_braced",
    "quote_requirement",
    "replace_word",
    "skip_balanced",
    "split_commands",
    "split_words",
]

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL = re.compile(r"[0-9@*#?$!-]")
_OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")")
_WORD_END = frozenset(" \t\r\n;|()")
_DQ_ESCAPE = re.compile(r'([$`"\\])')
_QUOTED_PART = re.compile(r"'[^']*'?|\"(?:[^\"\\]|\\.)*\"?|\\.|\$\{[^}]*\}|\$\([^)]*\)")
#: What must not reach the shell bare: redirections, operators, blanks, ``[extras]``, braces, a leading ``#``.
#: ``*``, ``?`` and a leading ``~`` are left alone: where written bare, their expansion was meant (dist/*.whl).
_NEEDS_QUOTES = re.compile(r"[\[\]{}<>|&;()\s]|^#")


class ShellSyntaxError(ValueError):
    """Text the shell would refuse: an unterminated quote or substitution starting at ``pos``."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True, slots=True, kw_only=True)
class Word:
    """One shell word; ``text[start:end]`` is the word as written.

    ``value`` has quotes and backslashes removed, ``$`` references kept; ``expanded`` substitutes those whose
    value is known and names the rest in ``unresolved``. ``quoted``: some quoting was used. ``redirect``: the
    written word holds a ``<`` or ``>`` outside quotes, which the shell reads as a redirection. ``dq`` is the
    body of an equivalent double-quoted word (see :func:`quote_requirement`).
    """

    start: int
    end: int
    value: str
    expanded: str
    quoted: bool
    redirect: bool
    unresolved: tuple[str, ...]
    dq: str


def _simple_expand(word: str, env: Mapping[str, str | None] | None) -> str | None:
    """Substitute plain ``$X``/``${X}`` in an operator's word; ``None`` if one is unknown or nested deeper."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        word = word[1:-1]
    out: list[str] = []
    i = 0
    while i < len(word):
        if word[i] != "$":
            out.append(word[i])
            i += 1
            continue
        braced = word.startswith("${", i)
        m = NAME.match(word, i + 2 if braced else i + 1)
        if m is None or (braced and not word.startswith("}", m.end())):
            return None
        value = None if env is None else env.get(m.group())
        if value is None:
            return None
        out.append(value)
        i = m.end() + braced
    return "".join(out)


def expand_braced(body: str, env: Mapping[str, str | None] | None) -> str | None:
    """The value of ``${body}``; ``None`` when unknown (unset, unsupported operator, ``:?`` failing)."""
    m = NAME.match(body)
    if m is None:
        return None
    value = None if env is None else env.get(m.group())
    rest = body[m.end() :]
    if not rest:
        return value
    op = next((o for o in (":-", ":+", ":?", ":=", "-", "+", "?", "=") if rest.startswith(o)), None)
    if op is None:
        return None  # ${X%p}, ${X#p}, ${X/p/r}, ${X:1:2}: not modelled
    present = value is not None and (value != "" or not op.startswith(":"))
    word = rest[len(op) :]
    if op[-1] in "-=":
        return value if present else _simple_expand(word, env)
    if op[-1] == "+":
        return _simple_expand(word, env) if present else ""
    return value if present else None


def skip_balanced(text: str, i: int) -> int:
    """Index just past the bracket closing ``text[i]`` (``(`` or ``{``), stepping over quotes; -1 if none."""
    opening = text[i]
    closing = ")" if opening == "(" else "}"
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 1
        elif c in "'\"" and opening == "(":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if c == '"' and text[j] == "\\" else 1
            if j >= n:
                return -1
            i = j
        elif c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


class _Lexer:
    """One pass over shell text; each ``_part_*`` method reads one construct of the current word."""

    def __init__(self, text: str, env: Mapping[str, str | None] | None, strict: bool) -> None:
        self.text = text
        self.env = env
        self.strict = strict
        self.reset()

    def reset(self) -> None:
        self.value: list[str] = []
        self.exp: list[str] = []
        self.dq: list[str] = []
        self.unresolved: list[str] = []
        self.quoted = False
        self.redirect = False

    def fail(self, message: str, pos: int) -> int:
        if self.strict:
            raise ShellSyntaxError(message, pos)
        return len(self.text)

    def literal(self, s: str, dq: str | None = None) -> None:
        self.value.append(s)
        self.exp.append(s)
        self.dq.append(s if dq is None else dq)

    def reference(self, written: str, known: str | None, name: str) -> None:
        self.value.append(written)
        self.exp.append(written if known is None else known)
        self.dq.append(written)
        if known is None:
            self.unresolved.append(name)

    def dollar(self, i: int) -> int:
        text = self.text
        nxt = text[i + 1 : i + 2]
        if nxt in ("(", "{"):
            end = skip_balanced(text, i + 1)
            end = self.fail(f"unterminated '${nxt}'", i) if end < 0 else end
            written = text[i:end]
            known = None if nxt == "(" else expand_braced(written[2:-1], self.env)
            self.reference(written, known, written)
            return end
        m = NAME.match(text, i + 1)
        if m is not None:
            self.reference(text[i : m.end()], None if self.env is None else self.env.get(m.group()), m.group())
            return m.end()
        if nxt and _SPECIAL.match(nxt):
            self.reference(text[i : i + 2], None, text[i : i + 2])
            return i + 2
        self.literal("$", "\\$")
        return i + 1

    def backquote(self, i: int) -> int:
        j = i + 1
        while j < len(self.text) and self.text[j] != "`":
            j += 2 if self.text[j] == "\\" else 1
        end = self.fail("unterminated backquote", i) if j >= len(self.text) else j + 1
        self.reference(self.text[i:end], None, self.text[i:end])
        return end

    def single(self, i: int) -> int:
        j = self.text.find("'", i + 1)
        j = self.fail("unterminated single quote", i) if j < 0 else j
        part = self.text[i + 1 : j]
        self.literal(part, _DQ_ESCAPE.sub(r"\\\1", part))
        self.quoted = True
        return min(j + 1, len(self.text))

    def double(self, i: int) -> int:
        text = self.text
        self.quoted = True
        j = i + 1
        while j < len(text) and text[j] != '"':
            c = text[j]
            if c == "\\" and text[j + 1 : j + 2] in ("$", "`", '"', "\\", "\n"):
                if text[j + 1] != "\n":
                    self.literal(text[j + 1], text[j : j + 2])
                j += 2
            elif c in "$`":
                j = self.dollar(j) if c == "$" else self.backquote(j)
            else:
                self.literal(c, "\\\\" if c == "\\" else None)  # a lone backslash, spelled safely
                j += 1
        return j + 1 if j < len(text) else self.fail("unterminated double quote", i)

    def backslash(self, i: int) -> int:
        ch = self.text[i + 1 : i + 2]
        if ch == "\n":
            return i + 2
        if not ch:
            self.literal("\\", "\\\\")
            return i + 1
        self.literal(ch, "\\" + ch if ch in '$`"\\' else ch)
        self.quoted = True
        return i + 2

    def word(self, i: int) -> tuple[Word, int]:
        start = i
        text = self.text
        parts = {
            "\\": self.backslash,
            "'": self.single,
            '"': self.double,
            "$": self.dollar,
            "`": self.backquote,
        }
        self.reset()
        while i < len(text):
            c = text[i]
            if c in _WORD_END or (c == "&" and not (i > start and text[i - 1] in "<>")):
                break
            part = parts.get(c)
            if part is not None:
                i = part(i)
                continue
            self.redirect = self.redirect or c in "<>"
            self.literal(c)
            i += 1
        word = Word(
            start=start,
            end=i,
            value="".join(self.value),
            expanded="".join(self.exp),
            quoted=self.quoted,
            redirect=self.redirect,
            unresolved=tuple(self.unresolved),
            dq="".join(self.dq),
        )
        return word, i


def split_commands(
    text: str, *, env: Mapping[str, str | None] | None = None, strict: bool = True
) -> tuple[tuple[Word, ...], ...]:
    """Split shell ``text`` into simple commands, each a tuple of :class:`Word`; empty ones are dropped.

    With ``strict`` an unterminated quote or substitution raises :class:`ShellSyntaxError`; without it the
    construct runs to the end of the text.
    """
    lexer = _Lexer(text, env, strict)
    commands: list[tuple[Word, ...]] = []
    current: list[Word] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\r" or (c == "\\" and text.startswith("\n", i + 1)):
            i += 1 if c != "\\" else 2
        elif c == "#":  # only ever met where a word would start: a comment
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
        elif c == "\n" or c in ";&|()":
            op = "\n" if c == "\n" else next(o for o in _OPERATORS if text.startswith(o, i))
            if current:
                commands.append(tuple(current))
                current = []
            i += len(op)
        else:
            word, i = lexer.word(i)
            current.append(word)
    if current:
        commands.append(tuple(current))
    return tuple(commands)


def split_words(text: str, *, env: Mapping[str, str | None] | None = None, strict: bool = True) -> tuple[Word, ...]:
    """All words of ``text``, wherever commands end."""
    return tuple(w for command in split_commands(text, env=env, strict=strict) for w in command)


def quote_requirement(raw_word: str) -> str:
    """The shell-safe spelling of one requirement word, meaning the same to pip.

    A word that needs no quoting (``torch==2.1.0``, ``dist/*.whl`` whose glob is meant) or is already quoted
    safely (``"torch>=2"``) comes back as written. Otherwise it is double-quoted: ``torch>=2.0.0,<2.1.0``
    becomes ``"torch>=2.0.0,<2.1.0"``; ``$VAR`` references stay live and text that was single-quoted keeps its
    ``$`` literal. Idempotent: quoting a quoted word changes nothing.
    """
    words = split_words(raw_word, strict=False)
    if len(words) == 1 and words[0].start == 0 and words[0].end == len(raw_word):
        word = words[0]
        if not word.redirect and not _NEEDS_QUOTES.search(_QUOTED_PART.sub("", raw_word)):
            return raw_word
        return f'"{word.dq}"'
    # Not one word (blanks or operators inside): keep every character, with $ references still live.
    return '"' + re.sub(r'([`"\\])', r"\\\1", raw_word) + '"'


def replace_word(text: str, start: int, end: int, new: str) -> str:
    """``text`` with ``text[start:end]`` replaced by ``new``; nothing else changes."""
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"span {start}:{end} is outside the text (length {len(text)})")
    return text[:start] + new + text[end:]
