"""torch and its companions: torchvision and torchaudio ranges that can (or cannot) go with a torch range.

PURE. Up to torchvision 0.29.1 and torchaudio 2.10 every companion release pins ``torch==X.Y.Z`` exactly
(the matrix records each pin as ``vision_requires``/``audio_requires``); later ones require ``torch>=``
or nothing at all (torchaudio 2.11.0, the companion of every torch from 2.11 on). So:

- :func:`family_findings` reports ``torch-family-mismatch`` when no torch the torch range allows can be
  installed with any companion the companion range allows: listed releases are paired by the pin they
  declare; versions the matrix does not list are paired by line (torchvision 0.16 goes with torch 2.1);
- :func:`align_family` keeps relaxed companions on torch's lines. The companion lines are major.minor, so
  a bound wider than ``minor`` (``--bound major`` turns ``torchaudio==2.7.1`` into ``<3.0.0``) lets a
  companion range admit lines that go with no torch the torch range allows; those ranges are narrowed to
  the companion lines of torch's range (``torch-family-narrowed``). A companion range narrower than torch's
  holds torch back (``torch-family-held``, info: pip keeps torch on the companion's line).
  :func:`align_requirements` applies it to a relaxed requirements file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolver.core.model import Finding, Severity
from resolver.core.reqfile import EntryKind, parse
from resolver.core.rewrite import Rewrite
from resolver.cuda.builds import line_range, newest_line

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from resolver.core.model import Direct
    from resolver.cuda.matrix import Matrix
    from resolver.cuda.schema import TorchLine

__all__ = [
    "COMPANIONS",
    "FamilyAlignment",
    "align_family",
    "align_requirements",
    "companion_lines",
    "compatible",
    "family_findings",
]

COMPANIONS = ("torchvision", "torchaudio")
_PROBES = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class FamilyAlignment:
    """New specifiers for the companions that had to move (``(name, specifier)``), and why."""

    specifiers: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]

    def get(self, name: str) -> str | None:
        return dict(self.specifiers).get(name)


def _companion_line(line: TorchLine, name: str) -> str:
    return line.torchvision if name == "torchvision" else line.torchaudio


def _pairs(matrix: Matrix, name: str) -> list[tuple[Version, SpecifierSet | None, TorchLine]]:
    """Every listed (companion release, the torch requirement it declares, the torch line listing it)."""
    out = []
    for line in matrix.torch_lines:
        for r in line.releases:
            version = r.torchvision if name == "torchvision" else r.torchaudio
            requires = r.vision_requires if name == "torchvision" else r.audio_requires
            out.append((Version(version), SpecifierSet(requires) if requires else None, line))
    return out


def companion_lines(matrix: Matrix, name: str, spec: SpecifierSet) -> list[str]:
    """The companion lines (``0.22``) known to the matrix from which ``spec`` admits some version."""
    out: list[str] = []
    for comp in dict.fromkeys(_companion_line(tl, name) for tl in matrix.torch_lines):
        major, minor = Version(comp).release[:2]
        probes = [v for v, _, tl in _pairs(matrix, name) if _companion_line(tl, name) == comp]
        probes += [Version(f"{major}.{minor}.{p}") for p in range(_PROBES)]
        if any(spec.contains(v, prereleases=True) for v in probes):
            out.append(comp)
    return out


def compatible(matrix: Matrix, name: str, torch_spec: SpecifierSet, spec: SpecifierSet) -> bool | None:
    """Whether some torch in ``torch_spec`` installs with some ``name`` in ``spec``; None: the matrix can't say."""
    pairs = _pairs(matrix, name)
    torches = [Version(r.torch) for line in matrix.torch_lines for r in line.releases]
    torches = [t for t in torches if torch_spec.contains(t, prereleases=True)]
    companions = [p for p in pairs if spec.contains(p[0], prereleases=True)]
    if companions and torches:
        for _, requires, line in companions:
            if requires is not None and any(requires.contains(t, prereleases=True) for t in torches):
                return True
            if requires is None and any(matrix.line_for(str(t)) == line for t in torches):
                return True
        return False
    lines = matrix.lines_in(torch_spec)
    known = companion_lines(matrix, name, spec)
    if not lines or not known:
        return None
    return any(_companion_line(line, name) in known for line in lines)


def _fix_for(matrix: Matrix, name: str, torch_spec: SpecifierSet, line: TorchLine) -> str:
    exact = [s.version for s in torch_spec if s.operator == "=="]
    if len(exact) == 1 and len(torch_spec) == 1:
        pair = matrix.companions(exact[0])
        if pair is not None and pair.exact:
            return f"{name}{pair.torchvision if name == 'torchvision' else pair.torchaudio}"
    return f"{name}{line_range(line, name)}"


def family_findings(requirements: Sequence[Direct], *, matrix: Matrix) -> list[Finding]:
    """``torch-family-mismatch`` for each torchvision/torchaudio range that cannot go with the torch range."""
    usable = [d for d in requirements if not d.constraint and d.url is None and d.unchecked is None]
    torches = [d for d in usable if d.name == "torch"]
    out: list[Finding] = []
    for comp in (d for d in usable if d.name in COMPANIONS):
        torch = next((t for t in torches if t.path == comp.path), torches[0] if torches else None)
        if torch is None:
            continue
        verdict = compatible(matrix, comp.name, torch.specifier, comp.specifier)
        line = newest_line(matrix, torch.specifier)
        if verdict is not False or line is None:
            continue
        admitted = companion_lines(matrix, comp.name, comp.specifier)
        goes_with = [tl.torch for tl in matrix.torch_lines if _companion_line(tl, comp.name) in admitted]
        with_text = f"torch {', '.join(dict.fromkeys(goes_with))}" if goes_with else "no torch the matrix lists"
        torch_lines = ", ".join(tl.torch for tl in matrix.lines_in(torch.specifier))
        fix = _fix_for(matrix, comp.name, torch.specifier, line)
        out.append(
            comp.finding(
                "torch-family-mismatch",
                Severity.ERROR,
                f"{comp.text} goes with {with_text} (each {comp.name} release requires its own torch), but "
                f"{torch.text} ({torch.path}:{torch.line}) allows torch {torch_lines} only: pip stops with "
                "ResolutionImpossible when both are in one install, and replaces torch when they are installed "
                "in separate steps",
                fix=f"use {fix}, which goes with torch {line.torch}",
            )
        )
        out[-1] = replace(out[-1], data=(("replace", fix),))  # the line's fix as a requirement, to be re-checked
    return out


def _bounds(spec: SpecifierSet) -> tuple[list[str], list[str]]:
    keep = [str(s) for s in spec if s.operator in ("!=", "==", "===", "~=")]
    lower = [s.version for s in spec if s.operator in (">=", ">")]
    return keep, lower


def _narrowed(matrix: Matrix, name: str, spec: SpecifierSet, allowed: Sequence[str]) -> str:
    """``spec`` cut to the companion lines ``allowed`` (oldest first): lower and upper bound replaced."""
    keep, lower = _bounds(spec)
    firsts = [v for v, _, tl in _pairs(matrix, name) if _companion_line(tl, name) == allowed[0]]
    floor = str(min(firsts)) if firsts else f"{allowed[0]}.0"
    low = max([Version(v) for v in lower] + [Version(floor)])
    top = Version(allowed[-1])
    clauses = [f">={low}", f"<{top.major}.{top.minor + 1}.0", *keep]
    return ",".join(clauses)


def align_family(
    specifiers: Mapping[str, str], *, matrix: Matrix, relaxed: Collection[str] | None = None
) -> FamilyAlignment:
    """Keep torchvision/torchaudio on the lines of torch's range (see the module docstring).

    ``specifiers`` maps package names to specifier texts as relaxed (``{"torch": ">=2.7.1,<2.8.0", ...}``);
    only the companions named in ``relaxed`` (default: all) may be narrowed, since a range the user wrote is
    theirs. Findings carry the package but no place: locate them with :meth:`Finding.located`.
    """
    named: dict[str, str] = {canonicalize_name(k): v for k, v in specifiers.items()}
    movable = {canonicalize_name(n) for n in (relaxed if relaxed is not None else named)}
    try:
        torch_spec = SpecifierSet(named["torch"]) if "torch" in named else None
    except InvalidSpecifier:
        torch_spec = None
    lines = matrix.lines_in(torch_spec) if torch_spec is not None else ()
    if torch_spec is None or not lines:
        return FamilyAlignment(specifiers=(), findings=())
    changed: list[tuple[str, str]] = []
    findings: list[Finding] = []
    for name in COMPANIONS:
        try:
            spec = SpecifierSet(named[name]) if name in named else None
        except InvalidSpecifier:
            spec = None
        if spec is None:
            continue
        allowed = list(dict.fromkeys(_companion_line(tl, name) for tl in lines))
        admitted = companion_lines(matrix, name, spec)
        extra = [c for c in admitted if c not in allowed]
        torch_lines = ", ".join(tl.torch for tl in lines)
        shown, torch_shown = named[name].replace(" ", ""), named["torch"].replace(" ", "")
        if extra and name in movable and set(admitted) & set(allowed):
            new = _narrowed(matrix, name, spec, [c for c in allowed if c in admitted] or allowed)
            changed.append((name, new))
            findings.append(
                Finding(
                    code="torch-family-narrowed",
                    severity=Severity.INFO,
                    package=name,
                    message=f"{name}{shown} would admit {name} {', '.join(extra)}, which go with no torch that "
                    f"torch{torch_shown} allows (torch {torch_lines}); narrowed to {name}{new} so the family "
                    "stays on matching lines",
                    data=(("before", shown), ("after", new)),
                )
            )
        elif admitted and not extra and len(admitted) < len(allowed):
            held = [tl.torch for tl in lines if _companion_line(tl, name) in admitted]
            findings.append(
                Finding(
                    code="torch-family-held",
                    severity=Severity.INFO,
                    package=name,
                    message=f"torch{torch_shown} allows torch {torch_lines}, but {name}{shown} goes with torch "
                    f"{', '.join(held)} only, so pip keeps torch there",
                    fix=f"widen {name} to {_narrowed(matrix, name, spec, allowed)} to let the family move together, "
                    "or bound torch by minor",
                )
            )
    return FamilyAlignment(specifiers=tuple(changed), findings=tuple(findings))


def align_requirements(rewrite: Rewrite, *, matrix: Matrix, path: str) -> Rewrite:
    """:func:`align_family` applied to a relaxed requirements file (``rewrite`` from ``relax_requirements``).

    Only companions this run relaxed (those in ``rewrite.changes``) move; their ``Change.after`` follows.
    A file that names no torch has no family to align, and is not parsed again.
    """
    if "torch" not in rewrite.text.lower():
        return rewrite
    model = parse(rewrite.text, path=path)
    where: dict[str, tuple[int, str]] = {}
    for index, entry in enumerate(model.entries):
        req = entry.requirement
        family = req is not None and (req.key == "torch" or req.key in COMPANIONS)
        if (
            entry.kind is EntryKind.REQUIREMENT
            and req is not None
            and family
            and req.url is None
            and req.key not in where
        ):
            where[req.key] = (index, req.specifier)
    relaxed = {c.package for c in rewrite.changes}
    alignment = align_family({k: v[1] for k, v in where.items()}, matrix=matrix, relaxed=relaxed)
    if not alignment.specifiers and not alignment.findings:
        return rewrite
    changes = list(rewrite.changes)
    for name, new in alignment.specifiers:
        index, old = where[name]
        model = model.with_specifier(index, new)
        lineno = model.entries[index].lineno
        changes = [
            dataclasses.replace(c, after=c.after.replace(old.replace(" ", ""), new))
            if c.package == name and c.line == lineno
            else c
            for c in changes
        ]
    located = [
        f.located(path=path, line=model.entries[where[f.package][0]].lineno) if f.package in where else f
        for f in alignment.findings
    ]
    return Rewrite(text=model.format(), changes=tuple(changes), findings=(*rewrite.findings, *located))
