"""The dependency tables of pyproject.toml: found, located to the column, and edited in place.

Supported (the rest of the file is only written back, byte for byte):

- ``[project].dependencies`` and every extra of ``[project.optional-dependencies]``: PEP 508 strings.
- ``[dependency-groups]`` (PEP 735): PEP 508 strings, and ``{include-group = "..."}`` entries, recorded in
  :attr:`PyProject.group_includes` (a name that is no group, or a cycle, is bad input at its place).
- Poetry: ``[tool.poetry.dependencies]`` (``python`` skipped), ``[tool.poetry.group.<g>.dependencies]``
  and ``[tool.poetry.dev-dependencies]``. A value is a constraint string (``torch = "2.7.1"``), a table
  with a ``version`` (inline or a ``[tool.poetry.dependencies.torch]`` section; the key ends with
  ``"version"``), or a list of those (multiple constraints, also ``[[...]]``; the key holds the index).
  Tables without a ``version`` (git, path, url, file, source-only) are skipped.
- ``[tool.relax-pins]``, returned as plain Python values. A leading UTF-8 BOM is kept and counted.

Not supported: ``[build-system].requires``, ``[tool.uv]`` (``dev-dependencies``, ``constraint-`` and
``override-dependencies``), ``[tool.pdm]``, hatch environments and Poetry ``extras`` are never read or
changed. An edited string is re-escaped from its new value: its quote style is kept, but not the escapes or
line-ending backslashes it used.

Positions: tomlkit records none, but ``doc.as_string()`` reproduces the input exactly. Each wanted string
gets a unique sentinel text, the document is rendered once, and each sentinel's offset, less what earlier
sentinels added, is the string's offset in the input. The text is never searched for the string itself, so
this is exact for multi-line arrays and strings, several strings on a line, comments and duplicates. Lines
count ``\\n`` (CRLF alike); columns count characters from 1, at the opening quote. Edits are splices at
those offsets, so only the edited strings' bytes change; the result is parsed again and checked. The cost
is one extra render per call and a reliance on tomlkit's ``String._original``; a mismatch raises RuntimeError.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from tomlkit.container import OutOfOrderTableProxy
from tomlkit.exceptions import InvalidStringError, ParseError, TOMLKitError
from tomlkit.items import AoT, Array, Bool, Float, InlineTable, Integer, String, StringType, Table

from resolver.errors import ConfigError, InputError, InputErrors

if TYPE_CHECKING:
    from tomlkit.toml_document import TOMLDocument

__all__ = ["Dependency", "DependencyStyle", "PyProject", "apply_edits", "parse", "poetry_exact_version"]

Key = tuple[str | int, ...]

_BOM = "\ufeff"
_CONFLICT = re.compile(r"^<<<<<<<", re.MULTILINE)
_DUPLICATE = re.compile(r'Key "(.+)" already exists')
_PARSE_POSITION = re.compile(r" at line \d+ col \d+$")
_POETRY_EXACT = re.compile(r"^\s*={0,2}\s*(?P<version>[^\s,|*^~<>=!]+)\s*$")
_HEADER = re.compile(r"^[ \t]*(?P<open>\[)\[?(?P<key>[^\]\n]*)\]", re.MULTILINE)
_HEADER_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)""")
_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (String, "a string"),
    ((Bool, bool), "a boolean"),
    (Integer, "an integer"),
    (Float, "a float"),
    (Mapping, "a table"),
    ((Array, AoT), "an array"),
)


class DependencyStyle(enum.Enum):
    """How a dependency's text is written: a PEP 508 requirement, or a Poetry version constraint."""

    PEP508 = "pep508"
    POETRY = "poetry"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependency:
    """One dependency string in pyproject.toml and exactly where it is.

    ``key`` is the path to the string inside the document (pass it to :func:`apply_edits`); ``table`` is
    the same place for people (``"project.optional-dependencies.gpu"``). ``line``/``col`` are 1-based and
    point at the opening quote. ``name`` is as written, not normalized; ``text`` is the string's value.
    """

    table: str
    key: Key
    line: int
    col: int
    name: str
    text: str
    style: DependencyStyle


@dataclass(frozen=True, slots=True, kw_only=True)
class PyProject:
    """What relax-pins reads from a pyproject.toml: its dependencies, in file order, and its own config."""

    dependencies: tuple[Dependency, ...]
    relax_config: Mapping[str, object] | None
    name: str | None = None  # [project].name (or Poetry's), to know a self-reference (``demo[gpu]``) as one
    #: dependency group -> the groups its ``{include-group = ...}`` entries name, as written in [dependency-groups]
    group_includes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def included_groups(self, group: str) -> tuple[str, ...]:
        """``group`` and every group it includes, directly or through another, each once (names as written)."""
        out = [group]
        for name in out:
            out.extend(g for g in self.group_includes.get(name, ()) if g not in out)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class _Found:
    item: String
    table: str
    key: Key
    name: str
    style: DependencyStyle


def parse(text: str, *, path: str = "pyproject.toml") -> PyProject:
    """Find every dependency string of the supported tables, with its exact line and column.

    Raises :class:`InputError` (with line and column where known) for invalid TOML, merge-conflict
    markers, values of the wrong type and PEP 508 strings that do not parse; every entry that is wrong is
    reported (:class:`InputErrors`), as a requirements file's are, not only the first. A table of the wrong
    type stops the walk at once, since nothing under it can be read.
    """
    doc, shift = _load(text, path)
    walker = _Walker(doc, text, shift, path)
    walker.walk()
    errors: list[InputError] = []  # the PEP 508 strings that do not parse; the walker keeps its own
    offsets = _string_offsets(doc, text[shift:], [found.item for found in walker.found])
    deps: list[tuple[int, Dependency]] = []
    starts = _line_starts(text)
    for found, offset in zip(walker.found, offsets, strict=True):
        line, col = _line_col_at(starts, offset + shift)
        name = found.name
        if found.style is DependencyStyle.PEP508:
            try:
                name = Requirement(found.item.strip()).name
            except InvalidRequirement as exc:
                detail = (str(exc).splitlines() or ["invalid requirement"])[0]
                message = f"{found.table}: {str(found.item)!r} is not a valid PEP 508 requirement: {detail}"
                errors.append(InputError(message, path=path, line=line, col=col))
                continue
        dep = Dependency(
            table=found.table,
            key=found.key,
            line=line,
            col=col,
            name=name,
            text=str(found.item),
            style=found.style,
        )
        deps.append((offset, dep))
    deps.sort(key=lambda pair: pair[0])
    includes = walker.group_includes()
    errors = sorted([*errors, *walker.errors], key=lambda e: (e.line or 0, e.col or 0))
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
    return PyProject(
        dependencies=tuple(dep for _, dep in deps),
        relax_config=walker.relax_config(),
        name=walker.project_name(),
        group_includes=includes,
    )


def apply_edits(text: str, edits: Mapping[Key, str], *, path: str = "pyproject.toml") -> str:
    """Replace the string values at ``edits``' keys and return the new text; nothing else changes.

    Each new string keeps the old one's quote style (basic or literal, single- or multi-line) when the new
    value can be written in it, else it becomes the basic string of the same line-ness. Raises
    :class:`KeyError` for a key that does not exist and :class:`TypeError` for one that is not a string.
    """
    doc, shift = _load(text, path)
    keys = list(edits)
    items = [_string_at(doc, key) for key in keys]
    offsets = [offset + shift for offset in _string_offsets(doc, text[shift:], items)]
    pieces: list[str] = []
    pos = 0
    for offset, item, key in sorted(zip(offsets, items, keys, strict=True), key=lambda t: t[0]):
        pieces += [text[pos:offset], _render_like(item, edits[key])]
        pos = offset + len(item.as_string())
    result = "".join(pieces) + text[pos:]
    check, _ = _load(result, path)
    for key in keys:
        if str(_string_at(check, key)) != edits[key]:
            raise RuntimeError(f"internal error: editing {key!r} did not round-trip")
    return result


def poetry_exact_version(constraint: str) -> str | None:
    """The version a Poetry constraint pins exactly (``"2.7.1"``, ``"==2.7.1"``, ``"=2.7.1"``), else None.

    Poetry reads a bare version as ``==``. Ranges, carets, tildes, wildcards and unions are not exact.
    The version is returned as written (stripped), not normalized.
    """
    match = _POETRY_EXACT.match(constraint)
    if match is None:
        return None
    try:
        Version(match.group("version"))
    except InvalidVersion:
        return None
    return match.group("version")


class _Walker:
    """Walks the supported tables, collecting strings and raising on values of the wrong type."""

    def __init__(self, doc: TOMLDocument, text: str, shift: int, path: str) -> None:
        self.doc, self.text, self.shift, self.path = doc, text, shift, path
        self.found: list[_Found] = []
        self._includes: list[tuple[str, str, Key]] = []  # (group, the group it includes, the entry's key)
        self.errors: list[InputError] = []  # entries of the wrong type (the walk goes on past them)

    def walk(self) -> None:
        project = self._table(("project",))
        for field_name in ("name", "version"):  # PEP 621: strings (``version = 1.0`` is a float no tool reads)
            if project is not None and field_name in project and not isinstance(project[field_name], String):
                self._note(("project", field_name), project[field_name], "a string")
        if project is not None and "dependencies" in project:
            key: Key = ("project", "dependencies")
            self._pep508_array(project["dependencies"], key, "project.dependencies", groups=False)
        for extra, value in (self._table(("project", "optional-dependencies")) or {}).items():
            key = ("project", "optional-dependencies", extra)
            self._pep508_array(value, key, f"project.optional-dependencies.{extra}", groups=False)
        for group, value in (self._table(("dependency-groups",)) or {}).items():
            self._pep508_array(value, ("dependency-groups", group), f"dependency-groups.{group}", groups=True)
        self._poetry(("tool", "poetry", "dependencies"))
        for group in self._table(("tool", "poetry", "group")) or {}:
            if self._table(("tool", "poetry", "group", group)) is not None:
                self._poetry(("tool", "poetry", "group", group, "dependencies"))
        self._poetry(("tool", "poetry", "dev-dependencies"))

    def project_name(self) -> str | None:
        """``[project].name``, else ``[tool.poetry].name``, when it is a string."""
        for key in (("project",), ("tool", "poetry")):
            table = self._table(key)
            value = table.get("name") if table is not None else None
            if isinstance(value, str):
                return value
        return None

    def relax_config(self) -> Mapping[str, object] | None:
        tool = self._table(("tool",))
        if tool is None or "relax-pins" not in tool:
            return None
        value = tool["relax-pins"]
        if not isinstance(value, Table | InlineTable | OutOfOrderTableProxy):
            self._fail(("tool", "relax-pins"), value, "a table", error=ConfigError)
        plain: dict[str, object] = value.unwrap()
        return plain

    def _table(self, key: Key) -> Mapping[str, object] | None:
        node: object = self.doc
        for depth, part in enumerate(key):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
            if not isinstance(node, Mapping):
                self._fail(key[: depth + 1], node, "a table")
        return node if isinstance(node, Mapping) else None

    def _add(self, item: String, table: str, key: Key, name: str, style: DependencyStyle) -> None:
        self.found.append(_Found(item, table, key, name, style))

    def _pep508_array(self, value: object, key: Key, table: str, *, groups: bool) -> None:
        if not isinstance(value, Array):
            self._note(key, value, "an array of PEP 508 strings")
            return
        for index, entry in enumerate(value):
            if isinstance(entry, String):
                self._add(entry, table, (*key, index), entry.strip(), DependencyStyle.PEP508)
            elif groups and isinstance(entry, Mapping) and "include-group" in entry:
                included = entry["include-group"]
                if not isinstance(included, str):
                    self._note((*key, index, "include-group"), included, "the name of a dependency group")
                    continue
                self._includes.append((str(key[-1]), str(included), (*key, index)))
            else:
                expected = "a PEP 508 string or {include-group = ...}" if groups else "a PEP 508 string"
                self._note((*key, index), entry, expected)

    def group_includes(self) -> dict[str, tuple[str, ...]]:
        """Each group's includes, by the group names as written (PEP 735 compares them normalized); a name that
        is no group, or a group that includes itself through others, is :class:`InputError` at the entry."""
        written = {canonicalize_name(g): g for g in self._table(("dependency-groups",)) or {}}
        out: dict[str, list[str]] = {}
        for group, included, key in self._includes:
            target = written.get(canonicalize_name(included))
            if target is None:
                self._bad(key, f"includes {included!r}, which is no group of [dependency-groups]")
                continue
            out.setdefault(group, []).append(target)
        for group, included, key in self._includes:
            if canonicalize_name(included) not in written:
                continue
            seen, todo = set(), [written[canonicalize_name(included)]]
            while todo:
                name = todo.pop()
                if name == group:
                    self._bad(key, f"includes {included!r}, which includes {group!r} again (a cycle)")
                    break
                if name not in seen:
                    seen.add(name)
                    todo.extend(out.get(name, ()))
        return {group: tuple(names) for group, names in out.items()}

    def _bad(self, key: Key, message: str) -> None:
        """Record an error at ``key``'s place; the walk goes on."""
        offset = _locate(self.text[self.shift :], key)
        line, col = (None, None) if offset is None else _line_col(self.text, offset + self.shift)
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in key)[1:]
        self.errors.append(InputError(f"{where} {message}", path=self.path, line=line, col=col))

    def _poetry(self, key: Key) -> None:
        table = ".".join(str(part) for part in key)
        for name, value in (self._table(key) or {}).items():
            if name.lower() == "python":
                continue
            entries = list(enumerate(value)) if isinstance(value, Array | AoT) else [(None, value)]
            for index, entry in entries:
                entry_key: Key = (*key, name) if index is None else (*key, name, index)
                if isinstance(entry, String):
                    self._add(entry, table, entry_key, name, DependencyStyle.POETRY)
                elif isinstance(entry, Mapping):
                    if "version" not in entry:
                        continue  # git, path, url, file or source-only: no version to relax
                    version = entry["version"]
                    if not isinstance(version, String):
                        self._note((*entry_key, "version"), version, "a version string")
                        continue
                    self._add(version, table, (*entry_key, "version"), name, DependencyStyle.POETRY)
                else:
                    self._note(entry_key, entry, "a version string, a table or an array of tables")

    def _note(self, key: Key, value: object, expected: str) -> None:
        """:meth:`_fail`'s error for one entry, recorded; the walk goes on to the next entry."""
        try:
            self._fail(key, value, expected)
        except InputError as exc:
            self.errors.append(exc)

    def _fail(self, key: Key, value: object, expected: str, *, error: type[InputError] = InputError) -> NoReturn:
        offset = _locate(self.text[self.shift :], key)
        line, col = (None, None) if offset is None else _line_col(self.text, offset + self.shift)
        kind = next((name for cls, name in _KINDS if isinstance(value, cls)), "a date or time")
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in key)[1:]
        raise error(f"{where} must be {expected}, found {kind}", path=self.path, line=line, col=col)


def _load(text: str, path: str) -> tuple[TOMLDocument, int]:
    """Parse what follows a UTF-8 BOM (its length is returned), translating tomlkit's errors."""
    shift = len(_BOM) if text.startswith(_BOM) else 0
    try:
        return tomlkit.parse(text[shift:]), shift
    except TOMLKitError as exc:
        conflict = _CONFLICT.search(text)
        if conflict is not None:
            line, col = _line_col(text, conflict.start())
            hint = "resolve the merge conflict, then run again"
            message = "unresolved merge conflict marker '<<<<<<<'"
            raise InputError(message, path=path, line=line, col=col, hint=hint) from exc
        if isinstance(exc, ParseError):
            col = exc.col + 1 + (shift if exc.line == 1 else 0)
            message = f"invalid TOML: {_PARSE_POSITION.sub('', str(exc))}"
            raise InputError(message, path=path, line=exc.line, col=col) from exc
        where = _duplicate_line(text[shift:], str(exc))
        raise InputError(f"invalid TOML: {exc}", path=path, line=where, col=where and 1) from exc


def _duplicate_line(text: str, message: str) -> int | None:
    """The line of a key tomlkit says is defined twice: the last one whose renaming cures the error."""
    match = _DUPLICATE.match(message)
    if match is None:
        return None
    key = re.escape(match.group(1))
    for found in reversed(list(re.finditer(rf"^[ \t]*({key}|\"{key}\"|'{key}')[ \t]*=", text, re.M))):
        try:
            tomlkit.parse(text[: found.start(1)] + "RELAXPINS_DUPLICATE" + text[found.end(1) :])
        except TOMLKitError as exc:
            if str(exc) == message:
                continue
        return text.count("\n", 0, found.start()) + 1
    return None


def _string_offsets(doc: TOMLDocument, text: str, items: Sequence[String]) -> list[int]:
    """The offset in ``text`` (what ``doc`` was parsed from) of each string's opening quote."""
    if not items:
        return []
    nonce = 0
    while (marker := f"RELAXPINS{nonce}Q") in text:
        nonce += 1
    saved = [item._original for item in items]
    try:
        for index, item in enumerate(items):
            item._original = f"{marker}{index}Z"
        rendered = doc.as_string()
    finally:
        for item, original in zip(items, saved, strict=True):
            item._original = original
    offsets = [-1] * len(items)
    shift = 0
    for match in re.finditer(re.escape(marker) + r"(\d+)Z", rendered):
        index = int(match.group(1))
        quote, raw = len(items[index].type.value), items[index].as_string()
        start = match.start() - quote - shift
        if offsets[index] != -1 or text[start : start + len(raw)] != raw:
            raise RuntimeError(f"internal error: could not place the string {raw!r}")
        offsets[index] = start
        shift += len(match.group(0)) - (len(raw) - 2 * quote)
    if -1 in offsets:
        raise RuntimeError("internal error: a string was not rendered")
    return offsets


def _locate(text: str, key: Key) -> int | None:
    """Best-effort offset of any item, for error messages; None when it cannot be found."""
    try:
        doc = tomlkit.parse(text)
        parent: object = doc
        for part in key[:-1]:
            parent = parent[part]  # type: ignore[index]
        item = parent[key[-1]]  # type: ignore[index]
        if isinstance(item, String):
            return _string_offsets(doc, text, [item])[0]
        if isinstance(item, Table | AoT):
            wanted = [str(part) for part in key]
            for header in _HEADER.finditer(text):
                parts = [m.group(1).strip("'\"") for m in _HEADER_PART.finditer(header.group("key"))]
                if parts == wanted:
                    return header.start("open")
            return None
        # Swap the item for a sentinel string: everything before it renders as before.
        marker = "RELAXPINS" + "X" * 8
        while marker in text:
            marker += "X"
        parent[key[-1]] = tomlkit.string(marker)  # type: ignore[index]
        rendered = doc.as_string()
        offset = rendered.find(marker) - 1
    except (LookupError, TypeError, ValueError, RuntimeError):
        return None
    return offset if offset >= 0 and rendered[:offset] == text[:offset] else None


def _string_at(doc: TOMLDocument, key: Key) -> String:
    node: object = doc
    for part in key:
        in_array = isinstance(part, int) and isinstance(node, Array | AoT) and 0 <= part < len(node)
        if not (in_array or (isinstance(part, str) and isinstance(node, Mapping) and part in node)):
            raise KeyError(key)
        node = node[part]  # type: ignore[index]
    if not isinstance(node, String):
        raise TypeError(f"{key!r} is not a string")
    return node


def _render_like(old: String, value: str) -> str:
    """``value`` as a TOML string in ``old``'s quote style when it fits, else the basic style."""
    kind = old.type
    try:
        raw = String.from_raw(value, kind).as_string()
    except InvalidStringError:
        kind = StringType.MLB if kind.is_multiline() else StringType.SLB
        raw = String.from_raw(value, kind).as_string()
    if kind.is_multiline():
        # A newline right after the opening quotes is not part of the value: keep the old layout.
        old_inner, inner = old.as_string()[len(old.type.value) :], raw[len(kind.value) :]
        newline = next((nl for nl in ("\r\n", "\n") if old_inner.startswith(nl)), "")
        if not inner.startswith(("\n", "\r")):
            raw = kind.value + newline + inner
    return raw


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``; lines end at ``\\n``."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _line_starts(text: str) -> list[int]:
    """The offset where each line starts, for :func:`_line_col_at` (one pass, however many strings)."""
    return [0, *(match.end() for match in re.finditer("\n", text))]


def _line_col_at(starts: list[int], offset: int) -> tuple[int, int]:
    """:func:`_line_col` by bisection in :func:`_line_starts`: counting from the top for each of 40,000
    dependencies made a large pyproject.toml quadratic."""
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1
