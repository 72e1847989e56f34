"""Reading the input files: a requirements file with the files it includes, or a pyproject.toml.

``-r``/``--requirement`` and ``-c``/``--constraint`` lines are followed relative to the including file's
folder, depth first, each file loaded once (a file included twice, a diamond, is read once). A cycle
(``a.txt`` includes ``b.txt`` includes ``a.txt``), a missing file and nesting deeper than
:data:`MAX_INCLUDE_DEPTH` are :class:`~resolver.errors.IncludeError` at the including line. Includes given as
URLs are not fetched: pip would fetch them, relax-pins never rewrites a remote file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from resolver.core.reqfile import EntryKind, RequirementsFile
from resolver.errors import IncludeError, InputError, InputErrors
from resolver.fsio import TextFile, display_path, read_text
from resolver.pipeline.inputs import requirements_parse

__all__ = ["MAX_INCLUDE_DEPTH", "RequirementsSource", "load_requirements"]

#: How deep ``-r`` includes may nest before relax-pins calls it a mistake.
MAX_INCLUDE_DEPTH = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class RequirementsSource:
    """One requirements file as read: where it is, its text, its model, and who included it."""

    path: Path
    display: str
    file: TextFile
    model: RequirementsFile
    included_from: tuple[str, int] | None = None
    constraint: bool = False


def _parse(text: str, display: str, errors: list[InputError]) -> RequirementsFile:
    model, found = requirements_parse(text, display)
    errors.extend(found)
    return model


def load_requirements(path: Path, *, display: str | None = None) -> tuple[RequirementsSource, ...]:
    """Load ``path`` and, depth first, every file it includes; the root comes first.

    Every parse error of every file reached is collected and raised together (:class:`InputErrors`), so a
    user fixes them in one pass; include problems (cycles, missing files) stop at once.
    """
    errors: list[InputError] = []
    loaded: dict[Path, RequirementsSource] = {}
    order: list[RequirementsSource] = []
    root = RequirementsSource(
        path=path,
        display=display or display_path(path),
        file=(file := read_text(path, display=display or display_path(path))),
        model=_parse(file.text, display or display_path(path), errors),
    )
    # An explicit stack instead of recursion: include depth can never exhaust Python's stack.
    stack: list[tuple[RequirementsSource, tuple[Path, ...]]] = [(root, (path.resolve(),))]
    loaded[path.resolve()] = root
    while stack:
        source, chain = stack.pop()
        order.append(source)
        children: list[tuple[RequirementsSource, tuple[Path, ...]]] = []
        for entry in source.model.includes():
            target = entry.include or ""
            if "://" in target:
                continue
            written = source.path.parent / target  # as pip reads it; a symlink stays one (see apply)
            child_path = written.resolve()
            where = (source.display, entry.lineno)
            col = entry.raw.find(target) + 1 if target else 1
            if child_path in chain:
                cycle = " -> ".join(display_path(p) for p in (*chain[chain.index(child_path) :], child_path))
                raise IncludeError(f"include cycle: {cycle}", path=where[0], line=where[1], col=col)
            if len(chain) >= MAX_INCLUDE_DEPTH:
                raise IncludeError(
                    f"includes nest deeper than {MAX_INCLUDE_DEPTH} files",
                    path=where[0],
                    line=where[1],
                    col=col,
                )
            if child_path in loaded:
                continue
            if not child_path.is_file():
                raise IncludeError(
                    f"included file not found: {target}",
                    hint=f"looked for {display_path(child_path)}, relative to {source.display}",
                    path=where[0],
                    line=where[1],
                    col=col,
                )
            shown = display_path(written)
            child_file = read_text(written, display=shown)
            child = RequirementsSource(
                path=written,
                display=shown,
                file=child_file,
                model=_parse(child_file.text, shown, errors),
                included_from=(source.display, entry.lineno),
                constraint=entry.kind is EntryKind.CONSTRAINT,
            )
            loaded[child_path] = child
            children.append((child, (*chain, child_path)))
        stack.extend(reversed(children))
    if errors:
        raise InputErrors(errors)
    return tuple(order)
