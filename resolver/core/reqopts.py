"""The option part of a requirements-file line: word splitting and the options pip accepts there.

pip cuts a logical line into an *argument* part (the requirement) and an *option* part at the first word
that starts with ``-`` (words are separated by single spaces), then splits the option part the way POSIX
``shlex.split`` does and hands the words to ``optparse``. This module mirrors both steps on positions, so an
error can point at the offending column:

- words: separated by space, tab, CR or LF; ``'...'`` quotes literally; ``"..."`` quotes with ``\\"`` and
  ``\\\\`` escapes; a backslash outside quotes escapes the next character. An unclosed quote or a trailing
  lone backslash is an error, as in pip ("Could not split options").
- options (optparse rules): ``--long value``, ``--long=value``, unique prefixes of long names
  (``--extra-index``), ``-rfile`` and ``-r file`` for short options; ``--`` ends the options; other words are
  positional and pip ignores them. A flag given a value (``--pre=1``), a missing value, an unknown or
  ambiguous name is an error, and so are the values pip's option callbacks reject: ``--hash`` not
  ``sha256|sha384|sha512:digest``, ``-C`` without ``=``, ``--no-binary``/``--only-binary`` values that
  start with ``-``.

Accepted options are those of pip's ``req_file.py`` (``SUPPORTED_OPTIONS`` and ``SUPPORTED_OPTIONS_REQ``) plus
``--global-option``, a per-requirement option that older pips accept (recent pip rejects it); everything is
parsed in one pass over the words, in linear time, without recursion.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

__all__ = [
    "LineSyntaxError",
    "OptionItem",
    "OptionSpec",
    "ParsedOptions",
    "Word",
    "option_names",
    "parse_options",
    "split_words",
]

_WORD_SPACE = " \t\r\n"
_PLAIN_WORD = re.compile(r"[^ \t\r\n]+")


class LineSyntaxError(Exception):
    """A problem at offset ``pos`` of the text being parsed; the caller turns it into an ``InputError``."""

    def __init__(self, message: str, pos: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Word:
    """One shell-split word: its value after quote removal and the span ``[start, end)`` it came from."""

    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """An option pip accepts in a requirements file, under its canonical long name."""

    name: str
    takes_value: bool
    per_requirement: bool = False
    short: str | None = None


_SPECS = (
    OptionSpec("--index-url", True, short="-i"),
    OptionSpec("--extra-index-url", True),
    OptionSpec("--no-index", False),
    OptionSpec("--constraint", True, short="-c"),
    OptionSpec("--requirement", True, short="-r"),
    OptionSpec("--editable", True, short="-e"),
    OptionSpec("--find-links", True, short="-f"),
    OptionSpec("--no-binary", True),
    OptionSpec("--only-binary", True),
    OptionSpec("--prefer-binary", False),
    OptionSpec("--require-hashes", False),
    OptionSpec("--no-require-hashes", False),
    OptionSpec("--pre", False),
    OptionSpec("--all-releases", True),
    OptionSpec("--only-final", True),
    OptionSpec("--trusted-host", True),
    OptionSpec("--use-feature", True),
    OptionSpec("--hash", True, per_requirement=True),
    OptionSpec("--config-settings", True, per_requirement=True, short="-C"),
    OptionSpec("--global-option", True, per_requirement=True),
)
_LONG: dict[str, OptionSpec] = {spec.name: spec for spec in _SPECS}
_LONG["--pypi-url"] = _LONG["--index-url"]  # pip's alias
_SHORT: dict[str, OptionSpec] = {spec.short: spec for spec in _SPECS if spec.short}


def option_names() -> tuple[str, ...]:
    """Every option spelling accepted, long names first (used in hints and tests)."""
    return (*_LONG, *_SHORT)


@dataclass(frozen=True, slots=True)
class OptionItem:
    """One option occurrence: its spec, its value (``None`` for flags) and the span of its text."""

    spec: OptionSpec
    value: str | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ParsedOptions:
    """The options of one line in order, and the positional words pip would ignore."""

    items: tuple[OptionItem, ...]
    positional: tuple[Word, ...]


def split_words(text: str, base: int = 0) -> list[Word]:
    """Split ``text`` like ``shlex.split`` (POSIX mode); spans are offsets into ``text`` plus ``base``."""
    if "'" not in text and '"' not in text and "\\" not in text:
        return [Word(m.group(), base + m.start(), base + m.end()) for m in _PLAIN_WORD.finditer(text)]
    words: list[Word] = []
    n = len(text)
    i = 0
    while i < n:
        if text[i] in _WORD_SPACE:
            i += 1
            continue
        start = i
        buf: list[str] = []
        while i < n and text[i] not in _WORD_SPACE:
            ch = text[i]
            if ch == "\\":
                if i + 1 >= n:
                    raise LineSyntaxError(
                        "a backslash at the end of the options escapes nothing",
                        base + i,
                        "remove the backslash, or put it last on the line with nothing after it to continue the line",
                    )
                buf.append(text[i + 1])
                i += 2
            elif ch in "'\"":
                i = _quoted(text, i, buf, base)
            else:
                buf.append(ch)
                i += 1
        words.append(Word("".join(buf), base + start, base + i))
    return words


def _quoted(text: str, i: int, buf: list[str], base: int) -> int:
    """Read the quoted run opening at ``i`` into ``buf``; return the offset after its closing quote."""
    quote = text[i]
    j = i + 1
    n = len(text)
    while j < n:
        ch = text[j]
        if ch == quote:
            return j + 1
        if quote == '"' and ch == "\\" and j + 1 < n and text[j + 1] in '"\\':
            buf.append(text[j + 1])
            j += 2
            continue
        buf.append(ch)
        j += 1
    raise LineSyntaxError(
        f"the quote {quote} opened here is never closed",
        base + i,
        f"close it with a matching {quote} before the end of the line",
    )


def _unknown(name: str, pos: int) -> LineSyntaxError:
    close = difflib.get_close_matches(name, option_names(), n=1)
    hint = (
        f"did you mean {close[0]}?"
        if close
        else "a requirements file accepts only pip's file options (-r, -c, -e, -i, --extra-index-url, -f,"
        " --no-index, --pre, --trusted-host, --only-binary, --no-binary, --prefer-binary, --require-hashes,"
        " --use-feature) and, after a requirement, --hash and -C/--config-settings;"
        " other pip options go on the command line"
    )
    return LineSyntaxError(f"unknown option {name}", pos, hint)


def _match_long(name: str, pos: int) -> OptionSpec:
    """optparse's rule: an exact long name, or a prefix of exactly one long name."""
    spec = _LONG.get(name)
    if spec is not None:
        return spec
    matches = sorted({s.name for key, s in _LONG.items() if key.startswith(name)})
    if len(matches) == 1:
        return _LONG[matches[0]]
    if matches:
        raise LineSyntaxError(
            f"ambiguous option {name}: it could be {', '.join(matches)}", pos, "write the option name in full"
        )
    raise _unknown(name, pos)


def _missing_value(written: str, spec: OptionSpec, pos: int) -> LineSyntaxError:
    if spec.name in ("--requirement", "--constraint"):
        hint = f"give the file to read: {written} other-requirements.txt"
    elif spec.name == "--editable":
        hint = f"give a local project path or a VCS URL: {written} ./my-project"
    else:
        hint = f"write the value after the option: {written} VALUE or {spec.name}=VALUE"
    return LineSyntaxError(f"{written} needs a value", pos, hint)


_HASH_ALGORITHMS = ("sha256", "sha384", "sha512")  # pip's STRONG_HASHES
#: A digest: pip refuses ``--hash=sha256`` (no ``:``), and no file can match an empty or non-hex digest.
_HEX = re.compile(r"[0-9a-fA-F]+")
_NAME_LISTS = ("--no-binary", "--only-binary", "--all-releases", "--only-final")


def _checked(spec: OptionSpec, value: str, start: int, end: int) -> OptionItem:
    """The option item, once its value passes the checks pip's option callbacks make."""
    algorithm, colon, digest = value.partition(":")
    if spec.name == "--hash" and (algorithm not in _HASH_ALGORITHMS or not colon or not _HEX.fullmatch(digest)):
        raise LineSyntaxError(
            f"--hash needs an algorithm and a digest, got {value!r}",
            start,
            f"write --hash=sha256:<hex digest> (pip allows {', '.join(_HASH_ALGORITHMS)})",
        )
    if spec.name == "--config-settings" and "=" not in value:
        raise LineSyntaxError(f"{spec.name} needs KEY=VALUE, got {value!r}", start, "write -C key=value")
    if spec.name in _NAME_LISTS and value.startswith("-"):
        raise LineSyntaxError(
            f"{spec.name} needs a value, got the option {value!r}",
            start,
            f"give package names or :all: / :none:, e.g. {spec.name} :all:",
        )
    return OptionItem(spec, value, start, end)


def parse_options(words: list[Word]) -> ParsedOptions:
    """Read options from ``words`` the way optparse does for pip; raise ``LineSyntaxError`` on bad input."""
    items: list[OptionItem] = []
    positional: list[Word] = []
    k = 0
    count = len(words)
    while k < count:
        word = words[k]
        arg = word.value
        if arg == "--":
            positional.extend(words[k + 1 :])
            break
        if arg.startswith("--"):
            name, eq, explicit = arg.partition("=")
            spec = _match_long(name, word.start)
            if not spec.takes_value:
                if eq:
                    raise LineSyntaxError(
                        f"{spec.name} takes no value", word.start, f"write just {spec.name}, without '='"
                    )
                items.append(OptionItem(spec, None, word.start, word.end))
                k += 1
                continue
            if eq:
                items.append(_checked(spec, explicit, word.start, word.end))
                k += 1
                continue
            written = name
        elif arg.startswith("-") and arg != "-":
            short = arg[:2]
            found = _SHORT.get(short)
            if found is None:
                raise _unknown(short, word.start)
            spec = found
            if len(arg) > 2:
                items.append(_checked(spec, arg[2:], word.start, word.end))
                k += 1
                continue
            written = short
        else:
            positional.append(word)
            k += 1
            continue
        if k + 1 >= count:
            raise _missing_value(written, spec, word.start)
        value_word = words[k + 1]
        items.append(_checked(spec, value_word.value, word.start, value_word.end))
        k += 2
    return ParsedOptions(tuple(items), tuple(positional))
