"""The library API: settings in, a result out. Wires readers, policy and writers; prints nothing.

``plan_relax(settings)`` reads every input (following includes), applies the policy and returns what would
change, touching no file. ``apply(result)`` writes the changed files, all or none. The CLI is these two calls
plus rendering; other tools (a pre-commit wrapper, a notebook) can call them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from resolver.config import load_policy
from resolver.core.model import Change, Finding, Severity
from resolver.core.policy import Bound, Policy
from resolver.core.pyproject import parse as parse_pyproject
from resolver.core.rewrite import Rewrite, relax_pyproject, relax_requirements
from resolver.fsio import TextFile, clean_stray_temps, display_path, read_text, write_all
from resolver.sources import is_pyproject, load_requirements

__all__ = ["FileResult", "RelaxResult", "RelaxSettings", "apply", "plan_relax"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RelaxSettings:
    """What the relax command was asked to do."""

    paths: tuple[Path, ...]
    bound: Bound | None = None
    config: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """One input file: as read, as it would be written, and the changes between."""

    path: Path
    display: str
    kind: str
    original: TextFile
    text: str
    changes: tuple[Change, ...] = ()
    constraint: bool = False

    @property
    def changed(self) -> bool:
        """Whether the new text differs from the file's text."""
        return self.text != self.original.text

    def new_bytes(self) -> bytes:
        """The new text in the file's own encoding, with its BOM."""
        return self.original.encode(self.text)


@dataclass(frozen=True, slots=True, kw_only=True)
class RelaxResult:
    """Everything a relax run found and would change."""

    files: tuple[FileResult, ...]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def changed_files(self) -> tuple[FileResult, ...]:
        """The files whose text would change."""
        return tuple(f for f in self.files if f.changed)

    @property
    def has_errors(self) -> bool:
        """Whether any finding is an error (the command then exits 1)."""
        return any(f.severity is Severity.ERROR for f in self.findings)


def plan_relax(settings: RelaxSettings) -> RelaxResult:
    """Read every input and compute the relaxed text of each file; write nothing.

    Raises :class:`~resolver.errors.InputError` (and its subclasses) for input it cannot use.
    """
    policies: dict[Path, Policy] = {}

    def policy_for(path: Path) -> Policy:
        folder = path.resolve().parent
        if folder not in policies:
            policy = load_policy(settings.config, start=folder)
            policies[folder] = policy.with_default(settings.bound) if settings.bound else policy
        return policies[folder]

    seen: set[Path] = set()
    files: list[FileResult] = []
    findings: list[Finding] = []
    for path in settings.paths:
        if is_pyproject(path):
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            display = display_path(path)
            original = read_text(path, display=display)
            rewrite = relax_pyproject(
                original.text, parse_pyproject(original.text, path=display), policy_for(path), path=display
            )
            files.append(_result(path, display, "pyproject", original, rewrite))
            findings.extend(rewrite.findings)
            continue
        for source in load_requirements(path):
            key = source.path.resolve()
            if key in seen:
                continue
            seen.add(key)
            rewrite = relax_requirements(source.model, policy_for(source.path), path=source.display)
            files.append(
                _result(source.path, source.display, "requirements", source.file, rewrite, constraint=source.constraint)
            )
            findings.extend(rewrite.findings)
    return RelaxResult(files=tuple(files), findings=tuple(findings))


def _result(
    path: Path, display: str, kind: str, original: TextFile, rewrite: Rewrite, *, constraint: bool = False
) -> FileResult:
    return FileResult(
        path=path,
        display=display,
        kind=kind,
        original=original,
        text=rewrite.text,
        changes=rewrite.changes,
        constraint=constraint,
    )


def apply(result: RelaxResult) -> tuple[FileResult, ...]:
    """Write every changed file, all or none; return the files written.

    Encoding problems surface before any file is touched, because every new content is encoded first.
    """
    changed = result.changed_files
    payload = [(f.path, f.new_bytes(), f.original.raw) for f in changed]
    for f in changed:
        clean_stray_temps(f.path.parent, f.path.name)
    write_all(payload)
    return changed
