"""The direct requirements of a file model, and the index options a requirements file sets.

PURE. What is verified from each kind of file:

- requirements files: every REQUIREMENT and EDITABLE entry (editables and direct references are unchecked
  but their names count); entries of a file reached through ``-c`` constrain and never request;
- pyproject.toml: ``[project].dependencies`` and Poetry's main ``dependencies``; each optional set (an extra of
  ``[project.optional-dependencies]``, a ``[dependency-groups]`` group, a Poetry group or Poetry's
  ``dev-dependencies``: :func:`optional_sets`) is read on its own (``table=``), to be resolved with the main
  set but not with the other optional sets, since extras such as ``cpu`` and ``cuda`` are often meant to
  exclude each other. A Poetry constraint that PEP 440 cannot say (``||``) is unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from resolver.core.model import Direct
from resolver.core.poetry import to_pep440
from resolver.core.pyproject import DependencyStyle, PyProject
from resolver.core.reqfile import EntryKind, Requirement, RequirementsFile, parse_requirement

__all__ = [
    "FileIndexOptions",
    "OptionalSet",
    "directs_from_pyproject",
    "directs_from_requirements",
    "index_options",
    "optional_sets",
]

_MAIN_TABLES = ("project.dependencies", "tool.poetry.dependencies")


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionalSet:
    """An optional set of a pyproject.toml: ``kind`` is ``extra`` or ``group``, ``name`` as written,
    ``table`` the table its dependencies are in (``project.optional-dependencies.gpu``)."""

    kind: str
    name: str
    table: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def _optional_set(table: str) -> OptionalSet | None:
    for prefix, kind in (("project.optional-dependencies.", "extra"), ("dependency-groups.", "group")):
        if table.startswith(prefix):
            return OptionalSet(kind=kind, name=table.removeprefix(prefix), table=table)
    if table.startswith("tool.poetry.group.") and table.endswith(".dependencies"):
        name = table.removeprefix("tool.poetry.group.").removesuffix(".dependencies")
        return OptionalSet(kind="group", name=name, table=table)
    if table == "tool.poetry.dev-dependencies":
        return OptionalSet(kind="group", name="dev", table=table)
    return None


def optional_sets(project: PyProject) -> list[OptionalSet]:
    """The optional sets that hold at least one dependency (a dependency group may hold them only through the
    groups it includes), in file order."""
    found = [_optional_set(dep.table) for dep in project.dependencies]
    found += [_optional_set(f"dependency-groups.{group}") for group in project.group_includes]
    return list(dict.fromkeys(s for s in found if s is not None))


@dataclass(frozen=True, slots=True, kw_only=True)
class FileIndexOptions:
    """Index options a requirements file sets for pip (``--index-url``, ``--extra-index-url``, ...)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    pre: bool = False
    no_index: bool = False


def index_options(models: list[RequirementsFile]) -> FileIndexOptions:
    """The index options of a set of files (an included file's options apply to the whole run, as in pip)."""
    index_url: str | None = None
    extra: list[str] = []
    links: list[str] = []
    pre = no_index = False
    for model in models:
        for entry in model.entries:
            if entry.kind is not EntryKind.OPTION:
                continue
            for name, value in entry.options:
                if name == "--index-url" and value:
                    index_url = value
                elif name == "--extra-index-url" and value:
                    extra.append(value)
                elif name == "--find-links" and value:
                    links.append(value)
                elif name == "--pre":
                    pre = True
                elif name == "--no-index":
                    no_index = True
    return FileIndexOptions(
        index_url=index_url,
        extra_index_urls=tuple(dict.fromkeys(extra)),
        find_links=tuple(dict.fromkeys(links)),
        pre=pre,
        no_index=no_index,
    )


def _direct(req: Requirement, *, text: str, path: str, line: int, constraint: bool) -> Direct:
    try:
        specifier = SpecifierSet(req.specifier)
    except InvalidSpecifier:  # the parser validated it; a weird ``===`` value is the only way here
        specifier = SpecifierSet()
    try:
        marker = Marker(req.marker) if req.marker else None
    except InvalidMarker:
        marker = None
    return Direct(
        name=req.key,
        text=text,
        specifier=specifier,
        path=path,
        line=line,
        extras=frozenset(canonicalize_name(e) for e in req.extras),
        marker=marker,
        url=req.url,
        constraint=constraint,
    )


def _shown(req: Requirement) -> str:
    extras = f"[{','.join(req.extras)}]" if req.extras else ""
    if req.url is not None:
        return f"{req.name or '<unnamed>'}{extras} @ {req.url}" if req.name else req.url
    return f"{req.name}{extras}{''.join(req.specifier.split())}"


def directs_from_requirements(model: RequirementsFile, *, path: str, constraint: bool = False) -> list[Direct]:
    """Every requirement of a requirements file, in order."""
    out: list[Direct] = []
    for entry in model.requirements():
        req = entry.requirement
        if req is None:
            continue
        if not req.key and req.url is not None:
            # An unnamed URL or path: nothing to look up, nothing to count.
            out.append(
                Direct(
                    name=canonicalize_name(req.url),
                    text=req.url,
                    specifier=SpecifierSet(),
                    path=path,
                    line=entry.lineno,
                    url=req.url,
                    constraint=constraint,
                )
            )
            continue
        out.append(_direct(req, text=_shown(req), path=path, line=entry.lineno, constraint=constraint))
    return out


def directs_from_pyproject(project: PyProject, *, path: str, table: str | None = None) -> list[Direct]:
    """The main dependencies of a pyproject.toml, or those of one optional set's ``table`` (module docstring).

    A dependency group's table stands for it and every group it includes. A dependency on the project itself
    (``onetrainer[cuda]`` in an extra of onetrainer) is no package to look up: as pip and uv read it, it
    stands for the dependencies of those extras, which are read in its place (each extra once)."""
    tables: tuple[str, ...]
    if table is None:
        tables = _MAIN_TABLES
    elif table.startswith("dependency-groups."):  # a group and the groups it includes (PEP 735)
        tables = tuple(
            f"dependency-groups.{g}" for g in project.included_groups(table.removeprefix("dependency-groups."))
        )
    else:
        tables = (table,)
    return _directs(project, path=path, tables=tables, seen=set())


def _directs(project: PyProject, *, path: str, tables: tuple[str, ...], seen: set[str]) -> list[Direct]:
    out: list[Direct] = []
    own = canonicalize_name(project.name) if project.name else None
    for dep in project.dependencies:
        if dep.table not in tables:
            continue
        if own is not None and dep.style is DependencyStyle.PEP508:
            req = parse_requirement(dep.text, path=path, line=dep.line, col_offset=dep.col)
            if req.name is not None and canonicalize_name(req.name) == own:
                wanted = [f"project.optional-dependencies.{e}" for e in req.extras]
                fresh = tuple(t for t in wanted if t not in seen)
                seen.update(fresh)
                out.extend(_directs(project, path=path, tables=fresh, seen=seen) if fresh else ())
                continue
        if dep.style is DependencyStyle.PEP508:
            req = parse_requirement(dep.text, path=path, line=dep.line, col_offset=dep.col)
            out.append(_direct(req, text=_shown(req), path=path, line=dep.line, constraint=False))
            continue
        name = canonicalize_name(dep.name)
        specifier = to_pep440(dep.text)
        out.append(
            Direct(
                name=name,
                text=f'{dep.name} = "{dep.text}"',
                specifier=specifier if specifier is not None else SpecifierSet(),
                path=path,
                line=dep.line,
                unchecked=None if specifier is not None else f"the Poetry constraint {dep.text!r} has no PEP 440 form",
            )
        )
    return out
