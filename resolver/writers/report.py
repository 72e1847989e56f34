"""The report of a run, as text for people or JSON for machines (schema in docs/json.md).

PURE: results in, a string out. JSON schema 2 is stable: keys are only ever added. Verification adds
``environments``: one per place the files install into, each with its files, target, indexes,
``requirements`` (one row per direct requirement) and ``resolution`` (highest, lowest, sources).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from resolver.core.model import Finding, Severity
from resolver.index.urls import redact

if TYPE_CHECKING:
    from resolver.core.model import Direct
    from resolver.resolve.model import Resolution
    from resolver.results import CheckOutcome, CheckReport, RelaxResult

__all__ = [
    "SCHEMA_VERSION",
    "finding_dict",
    "render_diff",
    "render_findings",
    "render_json",
    "render_stopped",
    "render_text",
    "stopped_reasons",
]

#: Version of the JSON report; bumped only for an incompatible change (2: results per environment).
SCHEMA_VERSION = 2


#: The longest string a finding puts in JSON (as the text formats cut their lines): a 1 MB name from a
#: hostile index stays out of a CI log.
MAX_STRING = 10_000


def _clip(text: str) -> str:
    return text if len(text) <= MAX_STRING else f"{text[:MAX_STRING]}... ({len(text) - MAX_STRING} more characters)"


def finding_dict(f: Finding) -> dict[str, object]:
    """One finding as the JSON schema spells it (``was``: the code of a claim made ``unchecked``)."""
    doc: dict[str, object] = {
        "code": f.code,
        "severity": f.severity.value,
        "path": f.path,
        "line": f.line,
        "package": f.package,
        "message": _clip(f.message),
        "fix": None if f.fix is None else _clip(f.fix),
    }
    was = f.get("was")
    if was is not None:
        doc["was"] = was
    return doc


def _versions(resolution: Resolution | None) -> dict[str, str] | None:
    return None if resolution is None else {p.name: str(p.version) for p in resolution.pins}


def _sources(resolution: Resolution | None) -> dict[str, str | None] | None:
    """Which index each pinned version came from (redacted), so several indexes stay auditable."""
    return None if resolution is None else {p.name: p.index_url for p in resolution.pins}


def _environment_json(check: CheckOutcome) -> dict[str, object]:
    verification = check.verification
    doc: dict[str, object] = {
        "name": check.name,
        "files": list(check.files),
        "target": {**check.target.describe(), "python_source": check.python_source},
        "indexes": list(check.indexes),
        "find_links": list(check.find_links),
        "requirements": [
            {
                "path": row.requirement.path,
                "line": row.requirement.line,
                "package": row.requirement.name,
                "range": str(row.requirement.specifier),
                "newest": str(row.newest) if row.newest else None,
                "lowest": str(row.lowest) if row.lowest else None,
                "latest": str(row.latest) if row.latest else None,
                "findings": list(row.codes),
                "applies": row.applies,
            }
            for row in (verification.rows if verification else ())
        ],
        "resolution": {
            "highest": _versions(verification.highest if verification else None),
            "lowest": _versions(verification.lowest if verification else None),
            "sources": _sources(verification.highest if verification else None),
        },
        "findings": [finding_dict(f) for f in check.findings],
        "error": _clip(error) if (error := check.unreachable or check.integrity) else None,
    }
    if check.stats:
        doc["index"] = dict(check.stats)
    return doc


def render_json(
    result: RelaxResult, *, ok: bool, findings: Iterable[Finding] = (), check: CheckReport | None = None
) -> str:
    """The whole run as one JSON object (``ok`` is whether the command exits 0)."""
    doc: dict[str, object] = {
        "schema": SCHEMA_VERSION,
        "ok": ok,
        "files": [
            {
                "path": f.display,
                "changed": f.changed,
                "changes": [
                    {"line": c.line, "package": c.package, "before": c.before, "after": c.after} for c in f.changes
                ],
            }
            for f in result.files
        ],
        "findings": [finding_dict(f) for f in findings],
    }
    if check is not None:
        doc["environments"] = [_environment_json(env) for env in check.environments]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


_COLOURS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_RESET = "\x1b[0m"


def _finding_line(f: Finding, *, color: bool) -> str:
    where = f.path or ""
    if f.path and f.line is not None:
        where += f":{f.line}"
    head = f"{where}: " if where else ""
    label = f"{f.severity.value}[{f.code}]"
    if color:
        label = f"{_COLOURS[f.severity]}{label}{_RESET}"
    text = f"{head}{label}: {f.message}"
    if f.fix:
        text += f"\n    fix: {f.fix}"
    return text


def render_findings(findings: Iterable[Finding], *, quiet: bool, color: bool = False) -> list[str]:
    """Findings as text lines; ``quiet`` keeps only errors; ``color`` marks severities with ANSI colours."""
    return [_finding_line(f, color=color) for f in findings if not quiet or f.severity is Severity.ERROR]


def _shown_name(direct: Direct) -> str:
    """The name column: an unnamed URL or path (``git+https://...``) as written, credentials masked, not the
    normalised name it is counted under."""
    if direct.url is not None and direct.name == canonicalize_name(direct.url):
        return redact(direct.url)
    return direct.name


def _table(check: CheckOutcome) -> list[str]:
    verification = check.verification
    if verification is None or not verification.rows:
        return []
    head = ("requirement", "range", "newest", "lowest", "findings")
    rows = [
        (
            f"{r.requirement.path}:{r.requirement.line} {_shown_name(r.requirement)}",
            str(r.requirement.specifier) or "*",
            str(r.newest or "-"),
            str(r.lowest or "-"),
            r.verdict,
        )
        for r in verification.rows
    ]
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in (head, *rows)]


def _environment_text(check: CheckOutcome) -> list[str]:
    """An environment's target line, its assumption note, its table and where each version comes from."""
    target = ", ".join(f"{k} {v}" for k, v in check.target.describe().items())
    links = f"; find-links: {', '.join(check.find_links)}" if check.find_links else ""
    lines = [f"target: {target}; index: {', '.join(check.indexes) or 'none'}{links}"]
    if check.python_assumed:
        python = check.target.describe()["python"]
        lines.append(f"note: Python {python} is {check.python_source}")
    lines.extend(_table(check))
    highest = check.verification.highest if check.verification is not None else None
    if len(check.indexes) > 1 and highest is not None and highest.pins:
        lines.append("where each version comes from:")
        lines.extend(f"  {p.name} {p.version}: {p.index_url or 'unknown'}" for p in highest.pins)
    return lines


def render_text(
    result: RelaxResult,
    *,
    wrote: bool,
    quiet: bool,
    findings: Iterable[Finding] | None = None,
    check: CheckReport | None = None,
    color: bool = False,
) -> str:
    """Changes as ``path:line: before -> after``, each environment's table, findings, and a summary. With
    more than one environment, each table is headed by the files that install into it."""
    all_findings = list(result.findings if findings is None else findings)
    lines: list[str] = []
    several = check is not None and len(check.environments) > 1
    if not quiet:
        if check is not None:
            for n, env in enumerate(check.environments, 1):
                if several:
                    lines.append(f"environment {n} of {len(check.environments)}: {env.name or ', '.join(env.files)}")
                lines.extend(_environment_text(env))
        else:
            for f in result.files:
                lines.extend(f"{c.path}:{c.line}: {c.before} -> {c.after}" for c in f.changes)
    lines.extend(render_findings(all_findings, quiet=quiet, color=color))
    if not quiet:
        lines.append(_summary(result, all_findings, wrote=wrote, check=check))
    return "\n".join(lines) + ("\n" if lines else "")


def stopped_reasons(check: CheckReport) -> list[tuple[str, list[str]]]:
    """Why the index stopped (or partly stopped) environments: each reason once, with the environments it
    stopped (the environments of one pyproject share their index, and would repeat it)."""
    reasons: dict[str, list[str]] = {}
    for env in check.environments:
        if env.stopped:
            reasons.setdefault(env.unreachable or env.integrity or "", []).append(env.name or ", ".join(env.files))
    return list(reasons.items())


def render_stopped(check: CheckReport | None) -> str:
    """``relax-pins: error (where): reason`` per reason and ``no files changed``, for stderr in every format;
    ``""`` when nothing stopped."""
    if check is None or not check.stopped:
        return ""
    several = len(check.environments) > 1
    lines = []
    for reason, names in stopped_reasons(check):
        where = f" ({'; '.join(names)})" if several else ""
        lines.append(f"relax-pins: error{where}: {reason}")
    return "".join(f"{line}\n" for line in [*lines, "no files changed"])


def _summary(result: RelaxResult, findings: list[Finding], *, wrote: bool, check: CheckReport | None) -> str:
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    tail = f"; {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if check is not None and check.stopped:  # the counts are not the whole story: say so, the reason follows
        tail += "; not finished: the index stopped the check (the reason is below)"
    verified = [env.verification for env in check.environments if env.verification] if check else []
    if verified and not wrote and not result.changed_files:
        n = sum(len(v.rows) for v in verified)
        return f"checked {n} requirement{'s' * (n != 1)}{tail}"
    changes = [c for f in result.files for c in f.changes]
    pins = sum(1 for c in changes if "==" in c.before)  # a Dockerfile word that is only quoted is no pin
    quoted = len(changes) - pins
    files = len(result.changed_files)
    if not changes:
        return f"nothing to relax in {len(result.files)} file{'s' * (len(result.files) != 1)}{tail}"
    done = [f"{pins} pin{'s' * (pins != 1)}"] if pins else []
    verb = "relaxed" if wrote else "would relax"
    if quoted:
        words = f"{quoted} word{'s' * (quoted != 1)}"
        done.append(f"{'quoted' if wrote else 'quote'} {words}" if pins else words)
        verb = verb if pins else ("quoted" if wrote else "would quote")
    return f"{verb} {' and '.join(done)} in {files} file{'s' * (files != 1)}{tail}"


def render_diff(result: RelaxResult) -> str:
    """A unified diff of every file that would change (``a/`` and ``b/`` prefixes, like git)."""
    chunks: list[str] = []
    for f in result.changed_files:
        for line in difflib.unified_diff(
            f.original.text.splitlines(keepends=True),
            f.text.splitlines(keepends=True),
            fromfile=f"a/{f.display}",
            tofile=f"b/{f.display}",
        ):
            # A last line without a line ending would run into the next one: say so, as diff(1) does.
            chunks.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(chunks)
