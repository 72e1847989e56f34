"""Apply the relax policy to a whole file model: which requirements change, and the findings on the way.

PURE: models and text in, new models and text out. The requirements-file model changes only the specifier
slice of each relaxed line (:meth:`RequirementsFile.with_specifier`); pyproject.toml changes only the strings
it relaxes (:func:`resolver.core.pyproject.apply_edits`).

What is never relaxed: direct references (``name @ url``, VCS, paths), editables, lines marked
``# relax-pins: keep``, packages the policy keeps, and every line of a lock file (a file with ``--hash``
options or a generator's header), which is reported as ``lock-file-skipped`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from resolver.core.model import Change, Finding, Severity
from resolver.core.policy import Policy
from resolver.core.pyproject import DependencyStyle, PyProject, apply_edits, poetry_exact_version
from resolver.core.relax import Relaxation, relax_specifier
from resolver.core.reqfile import EntryKind, Requirement, RequirementsFile, parse_requirement

__all__ = ["KEEP_MARK", "Rewrite", "relax_pyproject", "relax_requirements"]

#: An inline comment containing this keeps the requirement on its line exact.
KEEP_MARK = "relax-pins: keep"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rewrite:
    """The new text of one file, the changes that make it, and what was noticed."""

    text: str
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]


def _shown(req: Requirement, specifier: str) -> str:
    extras = f"[{','.join(req.extras)}]" if req.extras else ""
    return f"{req.name}{extras}{''.join(specifier.split())}"


def relax_requirements(model: RequirementsFile, policy: Policy, *, path: str) -> Rewrite:
    """Relax every exact pin of a requirements file that the policy lets go."""
    if model.lock_reason is not None:
        finding = Finding(
            code="lock-file-skipped",
            severity=Severity.WARNING,
            path=path,
            message=f"{path} is a lock file ({model.lock_reason}); its pins are left exact",
            fix="relax the source file it was generated from (e.g. requirements.in), then lock again",
        )
        return Rewrite(text=model.format(), changes=(), findings=(finding,))
    changes: list[Change] = []
    findings: list[Finding] = []
    edits: dict[int, str] = {}
    for index, entry in enumerate(model.entries):
        req = entry.requirement
        if entry.kind is not EntryKind.REQUIREMENT or req is None or req.url is not None:
            continue
        bound = None if entry.keep else policy.bound_for(req.name)
        result = relax_specifier(req.specifier, package=req.name, bound=bound)
        findings.extend(f.located(path=path, line=entry.lineno) for f in result.findings)
        if result.changed:
            edits[index] = result.after
            changes.append(_change(path, entry.lineno, req, result))
    model = model.with_specifiers(edits) if edits else model
    return Rewrite(text=model.format(), changes=tuple(changes), findings=tuple(findings))


def _change(path: str, line: int, req: Requirement, result: Relaxation) -> Change:
    return Change(
        path=path,
        line=line,
        package=req.key,
        before=_shown(req, result.before),
        after=_shown(req, result.after),
    )


def relax_pyproject(text: str, project: PyProject, policy: Policy, *, path: str) -> Rewrite:
    """Relax the exact pins in the dependency tables of a pyproject.toml, changing only those strings."""
    lines = text.splitlines()
    edits: dict[tuple[str | int, ...], str] = {}
    changes: list[Change] = []
    findings: list[Finding] = []
    for dep in project.dependencies:
        keep = KEEP_MARK in (lines[dep.line - 1] if 0 < dep.line <= len(lines) else "")
        bound = None if keep else policy.bound_for(dep.name)
        if dep.style is DependencyStyle.PEP508:
            req = parse_requirement(dep.text, path=path, line=dep.line, col_offset=dep.col)
            if req.url is not None:
                continue
            result = relax_specifier(req.specifier, package=req.name, bound=bound)
            new = dep.text[: req.spec_start] + result.after + dep.text[req.spec_end :]
            before, after = _shown(req, result.before), _shown(req, result.after)
        else:
            exact = poetry_exact_version(dep.text)
            if exact is None:
                continue
            result = relax_specifier(f"=={exact}", package=dep.name, bound=bound)
            new = result.after
            before, after = f'{dep.name} = "{dep.text}"', f'{dep.name} = "{new}"'
        findings.extend(f.located(path=path, line=dep.line) for f in result.findings)
        if result.changed:
            edits[dep.key] = new
            changes.append(
                Change(path=path, line=dep.line, package=canonicalize_name(dep.name), before=before, after=after)
            )
    new_text = apply_edits(text, edits, path=path) if edits else text
    return Rewrite(text=new_text, changes=tuple(changes), findings=tuple(findings))
