"""Verification wired for the commands: files in, one verification per environment, findings out.

``check_files(result, options, relaxed=...)`` takes what :func:`resolver.pipeline.relax.plan_relax` read and
verifies either the ranges as they are (``relax-pins check``) or as the relax command would write them.
An index that cannot be reached is a value here (``unreachable``, per environment), not an exception: the
command still reports every finding that did not need the index and every other environment, writes nothing
and exits 3. An extra index or find-links page that cannot be reached does not stop its environment: the set is
verified with the other locations, and every claim that something is missing or conflicts (which the lost
location might disprove) becomes ``unchecked``, naming it (:func:`partial`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from typing import TYPE_CHECKING

from resolver.core.model import Finding, Severity
from resolver.cuda.toolkit import toolkit_findings
from resolver.index.client import IndexClient, IndexUnreachableError, IntegrityError
from resolver.index.finder import Finder
from resolver.index.urls import redact
from resolver.pipeline.environment import Environment, environments
from resolver.pipeline.session import IndexOptions, first_index, open_cache, open_client
from resolver.resolve.source import IndexSource
from resolver.resolve.verify import verify
from resolver.results import CheckOutcome, CheckReport

if TYPE_CHECKING:
    from resolver.core.target import Target
    from resolver.index.cache import Cache
    from resolver.resolve.rows import Row
    from resolver.resolve.verify import Verification
    from resolver.results import RelaxResult

__all__ = ["ABSENCE", "check_files", "exact_pin_findings", "partial"]

log = logging.getLogger(__name__)


def exact_pin_findings(result: RelaxResult) -> tuple[Finding, ...]:
    """``exact-pin`` warnings for every pin the relax command would change."""
    return tuple(
        Finding(
            code="exact-pin",
            severity=Severity.WARNING,
            path=c.path,
            line=c.line,
            package=c.package,
            message=f"{c.before} is an exact pin",
            fix=f"relax it to {c.after} (run: relax-pins {c.path})",
        )
        for f in result.files
        for c in f.changes
        if "==" in c.before  # a Dockerfile word that is only quoted is a shell-redirect finding, not a pin
    )


def check_files(
    result: RelaxResult,
    options: IndexOptions,
    *,
    relaxed: bool,
    on_client: Callable[[IndexClient], None] | None = None,
) -> CheckReport:
    """Verify the files' requirements (as relaxed, or as they are) in each of their environments.

    Each environment is verified on its own (its target, its indexes), one after the other: an index that
    stops one (unreachable, a hash that does not hold) stops only that one. ``on_client`` receives each index
    client once it exists, so a caller can show progress from its ``stats`` (the CLI does, on a terminal);
    this module prints nothing.
    """
    cache = open_cache(options)
    return CheckReport(
        environments=tuple(
            _check_environment(env, options, cache, on_client) for env in environments(result, options, relaxed=relaxed)
        )
    )


def _check_environment(
    env: Environment, options: IndexOptions, cache: Cache | None, on_client: Callable[[IndexClient], None] | None
) -> CheckOutcome:
    target, pre, indexes = env.target, env.pre, env.indexes
    assumed = env.python_source.startswith("assumed:")
    index_free = _assumed(env.findings, target) if assumed else env.findings
    # What is reported when the index stops the check: the index-free findings, and why (set below).
    stopped = CheckOutcome(
        verification=None,
        target=target,
        indexes=indexes,
        files=tuple(f.display for f in env.files),
        find_links=env.find_links,
        name=env.name,
        findings=index_free,
        python_source=env.python_source,
    )
    try:
        with open_client(env.index, options, cache, partial=True) as client:
            finder = Finder(client, target, allow_prereleases=pre)
            finder.offload_views()  # first: it forks only while this process has one thread
            if on_client is not None:
                on_client(client)
            finder.warm_up()
            source = IndexSource(finder=finder, client=client)
            merged = not first_index(env.index, options) and len(env.index.urls) + len(env.index.find_links) > 1
            verification = verify(
                list(env.directs),
                finder=finder,
                source=source,
                target=target,
                allow_prereleases=pre,
                shadowing=merged,
                suggested=[f for f in env.findings if f.get("replace")],
            )
            finder.remember()
            if env.focus is not None:  # an optional set's environment: its own lines' rows
                rows = tuple(r for r in verification.rows if (r.requirement.path, r.requirement.line) in env.focus)
                verification = replace(verification, rows=rows)
            down = client.down
            # CUDA and family findings on what pip installs; not when a location is down, since a build it
            # serves (torch 1.10.0+cu111 on a find-links page) would have been chosen over the one resolved
            if verification.highest is not None and not down:
                resolved = env.resolved_findings({p.name: p.version for p in verification.highest.pins})
                index_free = _assumed(resolved, target) if assumed else resolved
            if assumed:
                verification = replace(verification, findings=_assumed(verification.findings, target))
            index_free = (*index_free, *toolkit_findings(verification.findings, env.image))
            verification = replace(verification, rows=_with_codes(verification.rows, index_free))
            stats = tuple((f.name, int(getattr(client.stats, f.name))) for f in fields(client.stats))
    except IndexUnreachableError as exc:
        return replace(stopped, unreachable=str(exc))
    except IntegrityError as exc:
        return replace(stopped, integrity=str(exc))
    if down:
        verification = partial(verification, down)
        reason = "; ".join(f"{redact(location)}: {why}" for location, why in down.items())
        them = "it, so what it serves" if len(down) == 1 else "them, so what they serve"
        stopped = replace(stopped, unreachable=f"{reason}; checked without {them} is unchecked")
    findings = (*index_free, *verification.findings)
    return replace(stopped, verification=verification, findings=findings, stats=stats)


#: Claims that a location the check could not read might disprove: something missing, or a set that conflicts.
ABSENCE = frozenset(
    {
        "not-found",
        "empty-range",
        "yanked",
        "requires-python",
        "no-wheel",
        "python-unsupported",
        "unresolvable",
        "lowest-unresolvable",
        "lower-bound-unreachable",
    }
)


def partial(verification: Verification, down: Mapping[str, str]) -> Verification:
    """The verification of a set read without the locations in ``down``: each claim of absence or conflict
    becomes ``unchecked`` (a warning that keeps the claim's words, names what was not read, and offers no fix:
    a fix found without that location, such as a move to a version the main index has, could break what the
    location was named for), since a version that location serves could clear it. What resolved stays: more
    candidates cannot undo a solution pip would find."""
    where = " and ".join(redact(location) for location in down)
    findings = tuple(
        replace(
            f,
            code="unchecked",
            severity=Severity.WARNING,
            message=f"{f.message}; not confirmed: {where} could not be reached, and may serve what is missing",
            fix=f"check again where {where} can be reached",
            data=(*f.data, ("was", f.code)),
        )
        if f.code in ABSENCE
        else f
        for f in verification.findings
    )
    rows = tuple(
        replace(row, codes=tuple(dict.fromkeys("unchecked" if c in ABSENCE else c for c in row.codes)))
        for row in verification.rows
    )
    return replace(verification, findings=findings, rows=rows)


#: Findings whose truth depends on the target's Python: when that Python is assumed, they are not errors.
PYTHON_BOUND = frozenset({"requires-python", "no-wheel", "python-unsupported"})


def _assumed(findings: tuple[Finding, ...], target: Target) -> tuple[Finding, ...]:
    """Findings that rest on an assumed Python say so, and are warnings: nothing in the inputs named the
    Python they are true for, so they are not a fact about the build (a guess is never an error)."""
    python = target.describe()["python"]
    return tuple(
        replace(
            f,
            severity=Severity.WARNING if f.severity is Severity.ERROR else f.severity,
            message=f"{f.message} (this rests on Python {python}, which is assumed: give --python for the build's)",
        )
        if f.code in PYTHON_BOUND
        else f
        for f in findings
    )


def _with_codes(rows: tuple[Row, ...], findings: tuple[Finding, ...]) -> tuple[Row, ...]:
    """Each row with the codes of the index-free findings on its line (CUDA, family, Dockerfile), so a row
    never says ok beside an error on the same line."""
    extra: dict[tuple[str | None, int | None, str | None], list[str]] = {}
    for f in findings:
        extra.setdefault((f.path, f.line, f.package), []).append(f.code)
    out = []
    for row in rows:
        req = row.requirement
        line_wide = [c for c in extra.get((req.path, req.line, None), ()) if c != "unchecked"]  # of another word
        codes = [*extra.get((req.path, req.line, req.name), ()), *line_wide]
        new = tuple(c for c in dict.fromkeys(codes) if c not in row.codes and c != "exact-pin")
        out.append(replace(row, codes=(*row.codes, *new)) if new and row.applies else row)
    return tuple(out)
