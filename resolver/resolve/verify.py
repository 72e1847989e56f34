"""Verify a set of direct requirements against the index: per-requirement checks, then two resolutions.

The checks degrade per requirement, never as a whole. A direct reference (URL, VCS, path, editable) is not
fetched or built: it is ``unchecked`` and its name still counts as provided. A requirement the index cannot
satisfy (``not-found``, ``empty-range``, every release excluding the target Python) is reported and left out
of the resolutions, so every other requirement is still checked. The set is then resolved at its newest
versions and, when that succeeds, preferring lower bounds (docs/check.md, "What is checked"): only what a
solution of the set proves or rules out is claimed.

Findings (codes are part of the JSON schema): ``not-found``, ``empty-range``, ``yanked``, ``requires-python``,
``no-wheel``, ``unresolvable``, ``lowest-unresolvable``, ``lower-bound-unreachable``, ``resolution-too-complex``,
``dynamic-metadata``, ``unchecked``, ``prerelease``, ``index-shadowing``, ``duplicate``, ``outdated``.

Pre-releases are taken as pip takes them: when the range names one, or when no final release in it can be
installed on the target (``prerelease``, info, says so).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from resolver.core.kinds import is_dockerfile
from resolver.core.model import Direct, Finding, Severity
from resolver.resolve.engine import Outcome, look_ahead, resolve
from resolver.resolve.horizon import installable, outdated
from resolver.resolve.model import Conflict, Mode, Origin, Req, Resolution
from resolver.resolve.rows import Row, build_rows, has_lower_bound

if TYPE_CHECKING:
    from resolver.core.target import Target
    from resolver.index.finder import Finder, Release
    from resolver.resolve.provider import CandidateSource

__all__ = ["FLOOR_PROOF_REJECTIONS", "FLOOR_PROOF_ROUNDS", "Row", "Verification", "verify"]

#: What a proof that a lower bound cannot be reached may spend: rounds, and candidates turned down (each can
#: be a metadata request). Proving that no solution exists can mean trying every version of everything the
#: floor touches (minutes on a real file); past this budget the line gets no claim either way (docs/check.md).
FLOOR_PROOF_ROUNDS = 25
FLOOR_PROOF_REJECTIONS = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """Everything the index said about a set of requirements."""

    rows: tuple[Row, ...]
    findings: tuple[Finding, ...]
    highest: Resolution | None
    lowest: Resolution | None


def _prereleases(spec: SpecifierSet, allow: bool) -> bool:
    return allow or any(Version(s.version.rstrip(".*")).is_prerelease for s in spec if s.operator != "===")


def _lower_bound(spec: SpecifierSet) -> Version | None:
    for s in spec:
        if s.operator in {">=", "==", "~="} and not s.version.endswith(".*"):
            return Version(s.version)
    return None


def _check_releases(
    direct: Direct, in_range: Sequence[Release], newest: Version | None, target: Target
) -> list[Finding]:
    """The per-requirement checks that need only the releases in range (newest first) and the newest."""
    spec = direct.specifier
    if not in_range:
        return [
            direct.finding(
                "empty-range",
                Severity.ERROR,
                f"no release of {direct.name} on the index satisfies {direct.text}"
                + (f" (the newest is {newest})" if newest else ""),
                fix=f"widen the range to include a released version, e.g. {direct.name}>={newest}" if newest else None,
            )
        ]
    findings: list[Finding] = []
    floor = _lower_bound(spec)
    at_floor = next((r for r in in_range if floor is not None and r.version == floor), None)
    if at_floor is not None and at_floor.yanked is not None:
        reason = f" ({at_floor.yanked})" if at_floor.yanked else ""
        usable = [r for r in in_range if r.yanked is None]
        findings.append(
            direct.finding(
                "yanked",
                Severity.WARNING,
                f"{direct.name} {at_floor.version}, the lower bound of {direct.text}, is yanked{reason}",
                fix=f"raise the lower bound to {min(r.version for r in usable)}" if usable else None,
            )
        )
    python = ".".join(map(str, target.python_version))
    fitting = [r for r in in_range if r.has_compatible_wheel or r.has_sdist]
    if not fitting:
        findings.append(_no_file(direct, in_range[0], python, _platform_shown(target)))
        return findings
    usable_python = [r for r in fitting if r.python_ok]
    if not usable_python:
        asks = next((r.requires_python for r in fitting if r.requires_python), None)
        full = str(target.markers.get("python_full_version", python))
        patch_only = asks is not None and _other_patch_allowed(asks, target.python_version, full)
        findings.append(
            direct.finding(
                "requires-python",
                Severity.ERROR,
                f"every release of {direct.name} in {direct.text} excludes Python {full if patch_only else python}"
                + (f" (the newest asks for {asks})" if asks else "")
                + (
                    f"; the target's full version is {full}, and a later {python}.x is allowed: give --python "
                    f"with the patch release the build uses"
                    if patch_only
                    else ""
                ),
                fix=f"choose a target Python the package supports, or a range of {direct.name} that supports {python}",
            )
        )
        return findings
    if at_floor is not None and not at_floor.python_ok:
        findings.append(
            direct.finding(
                "requires-python",
                Severity.WARNING,
                f"{direct.name} {at_floor.version}, the lower bound, requires Python {at_floor.requires_python}; "
                f"the target is {python}",
                fix=f"raise the lower bound to {min(r.version for r in usable_python)}",
            )
        )
    installable = [r for r in usable_python if r.yanked is None]
    best = installable[0] if installable else usable_python[0]
    if not best.has_compatible_wheel:
        platform = _platform_shown(target)
        findings.append(
            direct.finding(
                "no-wheel",
                Severity.WARNING,
                f"{direct.name} {best.version} has no wheel for Python {python} on {platform}"
                + (", only an sdist: the build would compile it" if best.has_sdist else ""),
                fix=f"pick a range of {direct.name} with wheels for the target, or build the wheel once and host it",
            )
        )
    return findings


def _duplicates(directs: Sequence[Direct], source: CandidateSource) -> list[Finding]:
    """``duplicate``: one name asked for on several lines of one requirements file (one pip invocation) that apply
    to the target. pip and uv merge their ranges (tests/test_check.py asserts what pip installs); the finding
    sits on each later line, and the merged line is the fix when the index has a release in it. Lines of
    different files, or of a Dockerfile's separate RUN commands, are separate installs: not merged, not said."""
    by_name: dict[tuple[str | None, str], list[Direct]] = {}
    for direct in directs:
        if direct.path is None or not is_dockerfile(direct.path):
            by_name.setdefault((direct.path, direct.name), []).append(direct)
    findings = []
    for (_, name), lines in by_name.items():
        if len(lines) < 2:
            continue
        merged = SpecifierSet()
        for direct in lines:
            merged &= direct.specifier
        first = lines[0]
        plain = all(d.marker is None and d.extras == first.extras for d in lines)
        extras = f"[{','.join(sorted(first.extras))}]" if first.extras else ""
        fixable = plain and bool(source.candidates(first.name, merged, pinned=False))
        for later in lines[1:]:
            findings.append(
                later.finding(
                    "duplicate",
                    Severity.WARNING,
                    f"{name} is asked for on {len(lines)} lines ("
                    + "; ".join(f"{d.path}:{d.line} {d.text}" for d in lines)
                    + f"): pip and uv merge them into {name}{merged or ' (any version)'}",
                    fix=f"keep one line: {name}{extras}{merged}" if fixable else None,
                )
            )
    return findings


def _platform_shown(target: Target) -> str:
    return target.platform or f"{target.platform_tag} (this machine)"


def _spelling(finding: Finding, direct: Direct, requirements: Sequence[Direct]) -> Finding:
    """A ``not-found`` name close to another name of the same set (``pstuil`` beside ``psutil``) says so."""
    if finding.code != "not-found":
        return finding
    others: dict[str, Direct] = {d.name: d for d in requirements if d.name != direct.name}
    close = difflib.get_close_matches(direct.name, list(others), n=1, cutoff=0.8)
    if not close:
        return finding
    other = others[close[0]]
    return replace(
        finding,
        message=f"{finding.message}; {other.name} ({other.path}:{other.line}), a close spelling, is in the same set",
        fix=f"if {direct.name} is a misspelling of {other.name}, remove this line: {other.path}:{other.line} "
        f"already asks for {other.text}",
    )


def _no_file(direct: Direct, newest: Release, python: str, platform: str) -> Finding:
    """``no-wheel`` as an error: no release in range has a wheel for the target or an sdist, so pip and uv find
    no matching distribution. When every wheel of the newest is for one other OS, the fix is that OS's marker."""
    tags: set[tuple[str, str]] = set()
    for file in newest.files:
        try:
            _, _, _, parsed = parse_wheel_filename(file.filename)
        except InvalidWheelFilename:
            continue
        tags.update((tag.interpreter, tag.platform) for tag in parsed)
    shown = ", ".join(f"{i}-{p}" for i, p in sorted(tags)[:4]) + (", ..." if len(tags) > 4 else "")
    systems = {"win32" if p.startswith("win") else "darwin" if p.startswith("macosx") else "" for _, p in tags}
    one = len(systems) == 1 and "" not in systems and direct.marker is None  # a second marker would need an `and`
    marker = f"; sys_platform == '{next(iter(systems))}'" if one else None
    return direct.finding(
        "no-wheel",
        Severity.ERROR,
        f"no release of {direct.name} in {direct.text} has a wheel for Python {python} on {platform} or an sdist: "
        "pip and uv find no matching distribution"
        + (f" (the wheels of {newest.version} are for {shown})" if shown else ""),
        fix=f"install it only there: {direct.text}{marker}" if marker else None,
    )


def _check_one(
    direct: Direct, finder: Finder, target: Target, allow_pre: bool, *, shadowing: bool = False
) -> list[Finding]:
    """The findings about one requirement that need its release list, not the whole set."""
    if direct.url is not None or direct.unchecked is not None:
        reason = direct.unchecked or "a direct reference is neither fetched nor built; only its name counts"
        return [direct.finding("unchecked", Severity.INFO, f"{direct.text}: not checked: {reason}")]
    pre = _prereleases(direct.specifier, allow_pre)
    releases = finder.releases(direct.name, direct.specifier, prereleases=pre)
    if releases is None:
        return [
            direct.finding(
                "not-found",
                Severity.ERROR,
                f"{direct.name} is not on the index",
                fix="check the name's spelling, or the --index-url it comes from",
            )
        ]
    newest = finder.newest_version(direct.name)
    shadow = _shadowing(direct, finder, pre) if shadowing else []
    if not pre and not any(installable(r) for r in releases):
        # As pip: with no final release in range to install, the pre-releases in range are the candidates.
        pres = [r for r in finder.releases(direct.name, direct.specifier) or () if r.version.is_prerelease]
        taken = next((r for r in pres if installable(r)), None)
        if taken is not None:
            every = finder.releases(direct.name) or ()
            note = _prerelease_note(direct, taken.version, only=all(r.version.is_prerelease for r in every))
            return [note, *shadow, *_check_releases(direct, pres, newest, target)]
    return [*shadow, *_check_releases(direct, releases, newest, target)]


def _shadowing(direct: Direct, finder: Finder, pre: bool) -> list[Finding]:
    """``index-shadowing``: the versions in range come from more than one index (or find-links page), merged as
    pip merges them, so a same-named project elsewhere can win (dependency confusion) without a word."""
    spec = direct.specifier if not pre else SpecifierSet(str(direct.specifier), prereleases=True)
    found = list(finder.lazy_candidates(direct.name, spec))
    where = list(dict.fromkeys(c.index_url for c in found if c.index_url))
    if len(where) < 2 or not found:
        return []
    best = found[0]
    return [
        direct.finding(
            "index-shadowing",
            Severity.WARNING,
            f"{direct.name} is served by {len(where)} indexes ({', '.join(where)}): pip merges them and installs "
            f"the best version from any (the newest that {direct.text} allows is {best.version}, from "
            f"{best.index_url}); check that each index is one you trust for {direct.name}, or install it with "
            "--index-url naming one",
        )
    ]


def _prerelease_note(direct: Direct, version: Version, *, only: bool) -> Finding:
    """Why a range with no pre-release in it resolves to one (pip and uv agree: tests/test_prereleases.py)."""
    if only:
        said = f"{direct.name} has only pre-releases: pip and uv take {version} for {direct.text}"
    else:
        said = (
            f"no final release of {direct.name} in {direct.text} can be installed on the target, so pip and uv "
            f"take the pre-release {version}"
        )
    return direct.finding("prerelease", Severity.INFO, said)


def verify(
    requirements: Sequence[Direct],
    *,
    finder: Finder,
    source: CandidateSource,
    target: Target,
    allow_prereleases: bool = False,
    shadowing: bool = False,
    suggested: Sequence[Finding] = (),
) -> Verification:
    """Check each requirement, then resolve the set at its newest and at its lower bounds. ``shadowing``: the
    finder merges several indexes, so say where a project is served by more than one. ``suggested``: findings
    made without the index whose fix rewrites their line (``data`` ``replace``: the new requirement, such as a
    torch companion the CUDA matrix names); a conflict they explain takes that fix when it resolves the set."""
    findings: list[Finding] = []
    codes: dict[int, list[str]] = {}
    resolvable: list[tuple[int, Direct]] = []
    constraints: dict[str, SpecifierSet] = {}
    constraint_lines: dict[str, list[Direct]] = {}
    provided = frozenset(d.name for d in requirements if d.url is not None)
    env = dict(target.markers)
    source.prefetch(d.name for d in requirements if d.url is None and d.unchecked is None)
    look_ahead(
        [
            _req(d)
            for d in requirements
            if d.url is None
            and d.unchecked is None
            and not d.constraint
            and (d.marker is None or d.marker.evaluate({**env, "extra": ""}))
        ],
        source=source,
        markers=env,
    )
    for index, direct in enumerate(requirements):
        if direct.marker is not None and not direct.marker.evaluate({**env, "extra": ""}):
            codes[index] = []
            continue
        checked = _check_one(direct, finder, target, allow_prereleases, shadowing=shadowing)
        mine = [_spelling(f, direct, requirements) for f in checked]
        if direct.url is None and direct.unchecked is None and not any(f.severity is Severity.ERROR for f in mine):
            if direct.constraint:
                constraints[direct.name] = constraints.get(direct.name, SpecifierSet()) & direct.specifier
                constraint_lines.setdefault(direct.name, []).append(direct)
            else:
                resolvable.append((index, direct))
        findings.extend(mine)
        codes[index] = [f.code for f in mine]

    for finding in _duplicates([d for _, d in resolvable], source):
        findings.append(finding)
        codes[next(i for i, d in resolvable if (d.path, d.line) == (finding.path, finding.line))].append(finding.code)
    reqs = [_req(d) for _, d in resolvable]
    run = partial(resolve, source=source, markers=env, constraints=constraints, provided=provided)

    def record(finding: Finding) -> None:
        findings.append(finding)
        for index, direct in resolvable:
            if direct.path == finding.path and direct.line == finding.line:
                codes[index].append(finding.code)

    newest = run(reqs, mode=Mode.HIGHEST)
    lowest_outcome: Outcome | None = None
    if newest.conflict is not None:
        finding = _conflict_finding(newest.conflict, resolvable)
        if not newest.conflict.gave_up:  # a search that gave up proved nothing: no fix to check
            finding = _constrained(
                _verified(finding, newest.conflict, reqs, run, suggested, source),
                newest.conflict,
                resolvable,
                reqs,
                constraint_lines,
                constraints,
                source,
                run,
            )
        record(finding)
    else:
        # uv's --resolution lowest-direct: each line with a lower bound oldest first, everything else newest.
        floors = frozenset(r.identifier for r in reqs if has_lower_bound(r.specifier))
        lowest_outcome = run(reqs, mode=Mode.LOWEST, floors=floors)
        if lowest_outcome.conflict is not None:
            record(_conflict_finding(lowest_outcome.conflict, resolvable))
        elif lowest_outcome.resolution is not None:
            for finding in _unreached_floors(resolvable, reqs, lowest_outcome.resolution, source, run, floors):
                record(finding)
    highest = newest.resolution
    lowest = lowest_outcome.resolution if lowest_outcome is not None else None
    findings.extend(_dynamic(highest, lowest))
    rows = build_rows(requirements, env, codes, highest, lowest, finder)
    findings.extend(f for r in rows if (f := outdated(r.requirement, r.newest, r.latest)) is not None)
    return Verification(rows=rows, findings=tuple(findings), highest=highest, lowest=lowest)


def _other_patch_allowed(requires_python: str, minor: tuple[int, ...], full: str) -> bool:
    """Whether ``requires_python`` excludes the target's full version (``3.11.0``) but allows a later patch of
    the same minor (``!=3.11.0``): then the finding is about the assumed patch, and says so."""
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return False
    major, minor_no = minor[0], minor[1]
    later = (Version(f"{major}.{minor_no}.{patch}") for patch in range(1, 30))
    return not spec.contains(full, prereleases=True) and any(spec.contains(v, prereleases=True) for v in later)


def _dynamic(highest: Resolution | None, lowest: Resolution | None) -> list[Finding]:
    """``dynamic-metadata``: releases of either resolution whose dependencies could not be read."""
    findings = []
    for name in sorted(set(highest.dynamic if highest else ()) | set(lowest.dynamic if lowest else ())):
        findings.append(
            Finding(
                code="dynamic-metadata",
                severity=Severity.WARNING,
                package=name,
                message=f"the dependencies of {name} could not be read without building it (no wheel, and its "
                "sdist declares them dynamic); they were not checked",
                fix=f"use a release of {name} that publishes a wheel",
            )
        )
    return findings


def _req(direct: Direct) -> Req:
    return Req(
        name=direct.name,
        specifier=direct.specifier,
        extras=direct.extras,
        origin=Origin(path=direct.path, line=direct.line),
    )


def _unreached_floors(
    resolvable: Sequence[tuple[int, Direct]],
    reqs: Sequence[Req],
    lowest: Resolution,
    source: CandidateSource,
    run: Callable[..., Outcome],
    floors: frozenset[str],
) -> list[Finding]:
    """``lower-bound-unreachable``: lines whose lowest release in range (for the target) no solution of the set
    contains. Only lines the lower-bound resolution did not take to their floor are tried, each by resolving the
    set with that line pinned to its floor: a solution proves the floor reachable (nothing is said); none is
    the finding, a claim ``uv pip compile`` with the pin added confirms. Its fix is the lowest version a
    resolution trying that line oldest first installs, which that resolution itself proves installable."""
    findings = []
    for position, ((_, direct), req) in enumerate(zip(resolvable, reqs, strict=True)):
        got = lowest.version_of(direct.name)
        if req.identifier not in floors or got is None:
            continue
        oldest = next(reversed(source.candidates(req.name, req.specifier, pinned=False)), None)  # newest first
        if oldest is None or got <= oldest.version:
            continue
        floor = oldest.version
        pinned = list(reqs)
        at_floor = SpecifierSet(f"=={floor}")
        pinned[position] = Req(name=req.name, specifier=at_floor, extras=req.extras, origin=req.origin)
        tried = run(pinned, mode=Mode.HIGHEST, max_rounds=FLOOR_PROOF_ROUNDS, max_rejections=FLOOR_PROOF_REJECTIONS)
        if tried.conflict is None or tried.conflict.gave_up:
            continue  # a solution holds the floor, or the search could not tell: no claim either way
        why = tried.conflict.message.split(": ", 1)[-1].replace(f"asks for {req.identifier}=={floor}", f"is at {floor}")
        reached = run(reqs, mode=Mode.LOWEST, floors=frozenset({req.identifier})).resolution
        lowest_ok = reached.version_of(direct.name) if reached is not None else None
        findings.append(
            direct.finding(
                "lower-bound-unreachable",
                Severity.WARNING,
                f"{direct.name} {floor}, the lowest release in {direct.text}, cannot be installed with the rest of "
                f"the set: {why}"
                + (f"; the lowest {direct.name} that can is {lowest_ok}" if lowest_ok is not None else ""),
                fix=f"raise the lower bound to {lowest_ok}" if lowest_ok is not None else None,
            )
        )
    return findings


#: The search budget of re-checking one fix: a fix whose check runs out of it is not offered.
FIX_PROOF_ROUNDS, FIX_PROOF_REJECTIONS = 200, 200
_FIX_BUDGET = {"max_rounds": FIX_PROOF_ROUNDS, "max_rejections": FIX_PROOF_REJECTIONS}


def _suggested_edits(conflict: Conflict, reqs: Sequence[Req], suggested: Sequence[Finding]) -> list[tuple[Req, str]]:
    """The suggested rewrites of lines this conflict involves, as edits of the set."""
    named = {c.requirement.name for c in conflict.causes} | {r.name for r in conflict.direct}
    parents = {c.parent.split(" ", 1)[0] for c in conflict.causes if c.parent}
    edits = []
    for finding in suggested:
        text = finding.get("replace")
        place = (finding.path, finding.line, finding.package)
        req = next((r for r in reqs if (r.origin.path, r.origin.line, r.name) == place), None)
        if text is None or req is None or req.name not in named | parents:
            continue
        try:
            new = Requirement(text)
        except InvalidRequirement:
            continue
        edit = Req(name=req.name, specifier=new.specifier, extras=req.extras, origin=req.origin)
        edits.append((edit, f"change {req.origin} to {text} ({finding.code})"))
    return edits


def _verified(
    finding: Finding,
    conflict: Conflict,
    reqs: Sequence[Req],
    run: Callable[..., Outcome],
    suggested: Sequence[Finding] = (),
    source: CandidateSource | None = None,
) -> Finding:
    """The conflict's fix that holds: each candidate is applied to the set (its line rewritten) and the set
    resolved again at its newest; one after which the set still does not resolve, or whose check gives up, is
    dropped. A suggested rewrite (a torch companion moved to torch's line) that holds is the one fix; then a
    line that depends on torch moved to a release that accepts the torch line (:func:`_parent_edits`); else
    every fix that holds, on either side of the conflict."""
    parents = _parent_edits(conflict, reqs, source) if source is not None else ([], [])
    kept = []
    # torch is the anchor of its family: what depends on it moves first; elsewhere either side may be wrong
    for edits in (_suggested_edits(conflict, reqs, suggested), parents[0], [*conflict.edits, *parents[1]]):
        kept = _holding(edits, reqs, run)
        if kept:
            break
    return replace(finding, fix="; or ".join(kept) or None)


#: How many releases of a direct requirement are read (newest first) for one that accepts the other line.
PARENT_SCAN = 12
#: Names whose own line stays when something that depends on them conflicts with it.
ANCHORS = frozenset({"torch"})


def _parent_edits(
    conflict: Conflict, reqs: Sequence[Req], source: CandidateSource
) -> tuple[list[tuple[Req, str]], list[tuple[Req, str]]]:
    """Rewrites of the other side of a conflict: ``xformers 0.0.20 requires torch==2.0.1, but a.txt:1 asks for
    torch==2.7.1`` moves the xformers line to the newest xformers (of the last :data:`PARENT_SCAN`) whose
    Requires-Dist accepts a torch the torch line allows. Returned as (edits for anchored names, the rest)."""
    anchored: list[tuple[Req, str]] = []
    others: list[tuple[Req, str]] = []
    direct = {c.requirement.name: c.requirement for c in conflict.causes if c.parent is None}
    for cause in conflict.causes:
        name = cause.requirement.name
        if cause.parent is None or name not in direct:
            continue
        parent_name = canonicalize_name(cause.parent.split(" ", 1)[0].split("[", 1)[0])
        line = next((r for r in reqs if r.name == parent_name), None)
        if line is None:
            continue
        version = _accepting(parent_name, name, direct[name].specifier, source)
        if version is None:
            continue
        exact = any(s.operator in {"==", "==="} for s in line.specifier)
        spec = SpecifierSet(f"=={version}" if exact else _minor_range(version))
        edit = Req(name=line.name, specifier=spec, extras=line.extras, origin=line.origin)
        (anchored if name in ANCHORS else others).append((edit, f"change {line.origin} to {line.identifier}{spec}"))
    return anchored, others


def _accepting(parent: NormalizedName, name: str, wanted: SpecifierSet, source: CandidateSource) -> Version | None:
    """The newest release of ``parent`` (of the last :data:`PARENT_SCAN`) that requires ``name`` in a range
    sharing a release with ``wanted``."""
    for found in list(source.candidates(parent, SpecifierSet(), pinned=False))[:PARENT_SCAN]:
        for text in source.requires_dist(found) or ():
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if canonicalize_name(req.name) != name or (req.marker is not None and "extra" in str(req.marker)):
                continue
            if next(iter(source.candidates(canonicalize_name(name), wanted & req.specifier, pinned=False)), None):
                return found.version
    return None


def _holding(edits: Sequence[tuple[Req, str]], reqs: Sequence[Req], run: Callable[..., Outcome]) -> list[str]:
    kept = []
    for edit, text in edits:
        applied = [edit if (r.origin, r.identifier) == (edit.origin, edit.identifier) else r for r in reqs]
        tried = run(applied, mode=Mode.HIGHEST, max_rounds=FIX_PROOF_ROUNDS, max_rejections=FIX_PROOF_REJECTIONS)
        if tried.resolution is not None:
            kept.append(text)
    return kept


def _constrained(
    finding: Finding,
    conflict: Conflict,
    resolvable: Sequence[tuple[int, Direct]],
    reqs: Sequence[Req],
    lines: Mapping[str, Sequence[Direct]],
    constraints: Mapping[str, SpecifierSet],
    source: CandidateSource,
    run: Callable[..., Outcome],
) -> Finding:
    """A conflict that a ``-c`` constraint takes part in names the constraint's lines, and its fix is the
    change that resolves the set: the direct line moved inside the constraint, or the constraint widened to
    the direct line's range. Each is applied and the set resolved again; only what resolves is offered."""
    named = [c.requirement.name for c in conflict.causes] or [r.name for r in conflict.direct]
    involved = [name for name in dict.fromkeys(named) if name in lines]
    if not involved:
        return finding
    said = "; ".join(
        f"{d.path}:{d.line} constrains {name} to {d.specifier or '(any version)'}"
        for name in involved
        for d in lines[name]
    )
    fixes: list[str] = []
    for name in involved:
        spots = [(k, d) for k, (_, d) in enumerate(resolvable) if d.name == name]
        for k, direct in spots:
            inside = next(iter(source.candidates(name, constraints[name], pinned=False)), None)
            if inside is not None:
                rng = _minor_range(inside.version)
                moved = list(reqs)
                old = reqs[k]
                moved[k] = Req(name=old.name, specifier=SpecifierSet(rng), extras=old.extras, origin=old.origin)
                if run(moved, mode=Mode.HIGHEST, **_FIX_BUDGET).resolution is not None:
                    fixes.append(f"change {direct.path}:{direct.line} to {name}{rng}")
            widened = {**constraints, name: direct.specifier}
            if run(reqs, mode=Mode.HIGHEST, constraints=widened, **_FIX_BUDGET).resolution is not None:
                where = ", ".join(f"{c.path}:{c.line}" for c in lines[name])
                fixes.append(f"change {where} to {name}{direct.specifier} (or drop it)")
    return replace(
        finding,
        message=f"{finding.message} (within the constraints: {said})",
        fix="; or ".join(dict.fromkeys(fixes)) or finding.fix,
    )


def _minor_range(version: Version) -> str:
    """``>=1.26.4,<1.27.0``: the range a relax run would write around ``version``."""
    release = (*version.release, 0)
    return f">={version.base_version},<{release[0]}.{release[1] + 1}.0"


def _conflict_finding(conflict: Conflict, resolvable: Sequence[tuple[int, Direct]]) -> Finding:
    """``unresolvable`` (error) when the set has no solution; ``resolution-too-complex`` (warning) when the search
    gave up, which proves nothing; ``lowest-unresolvable`` (warning) when only the lower-bound search failed."""
    if conflict.gave_up:
        code, severity = "resolution-too-complex", Severity.WARNING
    elif conflict.mode is Mode.HIGHEST:
        code, severity = "unresolvable", Severity.ERROR
    else:
        code, severity = "lowest-unresolvable", Severity.WARNING
    place = next(
        (d for _, d in resolvable for r in conflict.direct if r.origin.path == d.path and r.origin.line == d.line),
        None,
    )
    return Finding(
        code=code,
        severity=severity,
        message=conflict.message,
        path=place.path if place else None,
        line=place.line if place else None,
        package=place.name if place else None,
        fix=conflict.fix,
    )
