"""One PEP 508 requirement, with the span of its version specifier, parsed without losing how it was written.

Grammar (PEP 508 as the ``packaging`` library accepts it; packaging validates, this module locates)::

    requirement := WS? NAME WS? ("[" WS? extra (WS? "," WS? extra)* WS? "]")? WS? details
    details     := "@" WS? URL (WS ";" marker)? WS?          # URL is any run of non-whitespace
                 | "(" WS? specifiers WS? ")" WS? (";" marker)?
                 | specifiers? WS? (";" marker)?

Errors carry a column and, for the usual mistakes, a hint: two requirements on one line, an operator with no
version (``foo==``), ``=`` for ``==``. The forms only pip accepts (URLs, paths, ``-e`` values) are in
``reqpip``.

Not supported: environment-variable expansion (``${VAR}`` stays as written).
Cost: a regular-expression fast path for the common shape (specifier set and marker still checked by
packaging, cached), else one packaging parse; linear scans, no recursion of its own.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as _PackagingRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from resolver.core.reqopts import LineSyntaxError
from resolver.errors import InputError

__all__ = ["SHAPE_HINT", "WS", "Parsed", "Requirement", "make", "parse_pep508", "parse_requirement", "parse_simple"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """A requirement as written. ``raw[spec_start:spec_end] == specifier`` in the text it was parsed from.

    ``name`` is as written (``""`` for an unnamed URL or path), ``key`` its normalised form. ``specifier`` is
    the version specifier text exactly as written (``"== 2.7.1"``, ``""`` when there is none); when it is
    empty both offsets sit right after the name and extras, where one would be inserted.
    """

    name: str
    key: NormalizedName
    extras: tuple[str, ...] = ()
    specifier: str = ""
    spec_start: int
    spec_end: int
    marker: str | None = None
    url: str | None = None
    editable: bool = False
    hashes: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    @property
    def is_direct_reference(self) -> bool:
        """True for ``name @ url``, bare URLs, VCS URLs and local paths: no index lookup, no specifier."""
        return self.url is not None


WS = " \t"
_IDENT = re.compile(r"\b[a-zA-Z0-9][a-zA-Z0-9._-]*\b")
_FAST_IDENT = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?"
_FAST_SPEC = r"(?:===|==|~=|!=|<=|>=|<|>)[ \t]*[A-Za-z0-9.*+!_-]+"
_SIMPLE_SPEC = r"(?:(?:==|!=)[ \t]*\d+(?:\.\d+)*(?:\.\*)?|(?:>=|<=|>|<)[ \t]*\d+(?:\.\d+)*|~=[ \t]*\d+(?:\.\d+)+)"
_SIMPLE_SPECS = re.compile(rf"{_SIMPLE_SPEC}(?:[ \t]*,[ \t]*{_SIMPLE_SPEC})*")  # valid without asking packaging
_FAST = re.compile(
    rf"""[ \t]*(?P<name>{_FAST_IDENT})[ \t]*
    (?:\[(?P<extras>[ \t]*{_FAST_IDENT}(?:[ \t]*,[ \t]*{_FAST_IDENT})*[ \t]*)\][ \t]*)?
    (?P<spec>{_FAST_SPEC}(?:[ \t]*,[ \t]*{_FAST_SPEC})*)?[ \t]*
    (?:;(?P<marker>.*))?\Z""",
    re.VERBOSE,
)
_NON_WS = re.compile(r"\S+")
_BAD_EQ = re.compile(r"(?<![=!<>~])=(?!=)")
_EMPTY_OP = re.compile(r"(===|==|~=|!=|<=|>=|<|>)[ \t]*(?=$|[,;)])")
SHAPE_HINT = "a requirement reads `name[extras] <specifier> ; <marker>`, or `name @ url`"


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in WS:
        i += 1
    return i


class Parsed(NamedTuple):
    """A requirement as parsed, before it is placed in a file: spans relative to the parsed text."""

    name: str
    spec_start: int
    spec_end: int
    specifier: str = ""
    extras: tuple[str, ...] = ()
    marker: str | None = None
    url: str | None = None
    editable: bool = False

    def build(
        self,
        span: tuple[int, int] | None = None,
        hashes: tuple[str, ...] = (),
        options: tuple[str, ...] = (),
    ) -> Requirement:
        """The public value, with the specifier span moved to ``span`` when given."""
        start, end = span if span is not None else (self.spec_start, self.spec_end)
        return Requirement(
            name=self.name,
            key=canonicalize_name(self.name),
            extras=self.extras,
            specifier=self.specifier,
            spec_start=start,
            spec_end=end,
            marker=self.marker,
            url=self.url,
            editable=self.editable,
            hashes=hashes,
            options=options,
        )


def make(
    name: str,
    *,
    at: tuple[int, int],
    spec: str = "",
    extras: tuple[str, ...] = (),
    marker: str | None = None,
    url: str | None = None,
    editable: bool = False,
) -> Parsed:
    return Parsed(name, at[0], at[1], spec, extras, marker, url, editable)


def _diagnose(text: str, exc: InvalidRequirement) -> LineSyntaxError:
    """Turn packaging's error into one with a column and, for the usual mistakes, a hint."""
    cause = exc.__cause__
    span = getattr(cause, "span", None)
    message = str(getattr(cause, "message", None) or exc)
    pos = 0
    if isinstance(span, tuple) and len(span) == 2:
        pos = int(span[1]) if message.startswith("Expected") else int(span[0])
    pos = min(max(pos, 0), len(text))
    if 0 < pos < len(text) and text[pos - 1] in WS and _IDENT.match(text, pos):
        head = text[:pos].rstrip(WS)
        try:
            _PackagingRequirement(head)
        except InvalidRequirement:
            pass
        else:
            second = text[pos:].split(maxsplit=1)[0]
            return LineSyntaxError(
                f"more than one requirement on one line: {head!r} is followed by {second!r}",
                pos,
                f"pip reads one requirement per line; give {second!r} (and each one after it) a line of its own",
            )
    empty = _EMPTY_OP.search(text.split(";", 1)[0])
    if empty:
        op = empty.group(1)
        return LineSyntaxError(
            f"the version operator {op} has no version after it",
            empty.start(),
            f"write a version after {op} (for example {op}1.2.3), or drop the operator",
        )
    bad_eq = _BAD_EQ.search(text)
    if bad_eq and not any(op in text for op in ("==", ">=", "<=", "!=", "~=", "<", ">")):
        return LineSyntaxError("= is not a version operator", bad_eq.start(), "did you mean == ?")
    return LineSyntaxError(f"invalid requirement: {message}", pos, SHAPE_HINT)


@functools.lru_cache(maxsize=4096)
def _valid_specifier(text: str) -> bool:
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _valid_marker(text: str) -> bool:
    try:
        Marker(text)
    except (InvalidMarker, RecursionError):
        return False
    return True


def parse_simple(text: str) -> Parsed | None:
    """The common shape (``name[extras] specs ; marker``) without packaging's tokenizer, or None.

    It accepts a subset of what packaging accepts, validating the specifier set and the marker with packaging
    itself (cached), so every answer it gives is the one the full parse would give.
    """
    match = _FAST.match(text)
    if match is None:
        return None
    spec, marker = match.group("spec"), match.group("marker")
    if marker is not None:
        marker = marker.strip(WS)
        if not marker or not _valid_marker(marker):
            return None
    if spec and not _SIMPLE_SPECS.fullmatch(spec) and not _valid_specifier(spec):
        return None
    raw_extras = match.group("extras")
    extras = tuple(e.strip(WS) for e in raw_extras.split(",")) if raw_extras else ()
    if spec:
        at = match.span("spec")
    else:
        after = match.end("extras") + 1 if raw_extras else match.end("name")
        at = (after, after)
    return make(match.group("name"), at=at, spec=spec or "", extras=extras, marker=marker)


def parse_pep508(text: str) -> Parsed:
    """Parse a PEP 508 string; spans relative to ``text``. Raises ``LineSyntaxError``."""
    fast = parse_simple(text)
    if fast is not None:
        return fast
    try:
        _PackagingRequirement(text)
    except InvalidRequirement as exc:
        raise _diagnose(text, exc) from None
    except RecursionError:
        raise LineSyntaxError("the marker is nested too deeply", 0, "simplify the marker") from None
    i = _skip_ws(text, 0)
    match = _IDENT.match(text, i)
    if match is None:  # pragma: no cover - packaging accepted it, so a name is there
        raise LineSyntaxError("expected a project name", i, SHAPE_HINT)
    name = match.group()
    after = match.end()
    k = _skip_ws(text, after)
    extras: tuple[str, ...] = ()
    if k < len(text) and text[k] == "[":
        close = text.index("]", k)
        extras = tuple(e.strip(WS) for e in text[k + 1 : close].split(",") if e.strip(WS))
        after = close + 1
        k = _skip_ws(text, after)
    marker: str | None = None
    if k < len(text) and text[k] == "@":
        url_match = _NON_WS.match(text, _skip_ws(text, k + 1))
        url = url_match.group() if url_match else ""
        rest = _skip_ws(text, url_match.end() if url_match else len(text))
        if rest < len(text) and text[rest] == ";":
            marker = text[rest + 1 :].strip(WS)
        return make(name, at=(after, after), extras=extras, marker=marker, url=url)
    if k < len(text) and text[k] == "(":
        close = text.index(")", k)
        start, stop = _skip_ws(text, k + 1), close
        semi = text.find(";", close)
    else:
        semi = text.find(";", k)
        start, stop = k, semi if semi >= 0 else len(text)
    while stop > start and text[stop - 1] in WS:
        stop -= 1
    if semi >= 0:
        marker = text[semi + 1 :].strip(WS)
    if start == stop:
        start = stop = after
    return make(name, spec=text[start:stop], at=(start, stop), extras=extras, marker=marker)


def parse_requirement(text: str, *, path: str = "<input>", line: int = 1, col_offset: int = 0) -> Requirement:
    """Parse one PEP 508 string (as in ``pyproject.toml``); offsets are relative to ``text``.

    Raises ``InputError`` at ``line`` and column ``col_offset + offset + 1``.
    """
    try:
        return parse_pep508(text).build()
    except LineSyntaxError as err:
        raise InputError(err.message, path=path, line=line, col=col_offset + err.pos + 1, hint=err.hint) from None
