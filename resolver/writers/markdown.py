"""The check report as Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY) or a pull-request comment.

PURE: values in, a string out. Table cells are escaped (``|`` and line breaks).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from resolver.core.model import Finding, Severity

if TYPE_CHECKING:
    from resolver.results import CheckOutcome, CheckReport

__all__ = ["render_markdown"]

_ICON = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def _environment(check: CheckOutcome, heading: str | None) -> list[str]:
    lines = [f"### {_cell(heading)}", ""] if heading else []
    target = ", ".join(f"{k} {v}" for k, v in check.target.describe().items())
    links = f" Find-links: {_cell(', '.join(check.find_links))}." if check.find_links else ""
    lines += [f"Target: {_cell(target)}. Index: {_cell(', '.join(check.indexes) or 'none')}.{links}", ""]
    if check.unreachable or check.integrity:
        lines += [f"**Could not finish:** {_cell(check.unreachable or check.integrity or '')}", ""]
    if check.verification is not None and check.verification.rows:
        lines += ["| requirement | range | newest | lowest | findings |", "|---|---|---|---|---|"]
        for row in check.verification.rows:
            req = row.requirement
            lines.append(
                f"| `{_cell(req.path)}:{req.line}` {_cell(req.name)} | `{_cell(str(req.specifier) or '*')}` "
                f"| {row.newest or '-'} | {row.lowest or '-'} | {_cell(row.verdict)} |"
            )
        lines.append("")
    return lines


def render_markdown(findings: Iterable[Finding], check: CheckReport | None) -> str:
    """A heading, each environment's target and requirements table, and the findings table."""
    items = list(findings)
    errors = sum(f.severity is Severity.ERROR for f in items)
    stopped = check is not None and check.stopped
    heading = "could not finish (the index stopped it)" if stopped else ("failed" if errors else "passed")
    lines = [f"## relax-pins: {heading}", ""]
    if check is not None:
        several = len(check.environments) > 1
        for env in check.environments:
            lines += _environment(env, (env.name or ", ".join(env.files)) if several else None)
    if items:
        lines += ["| severity | where | code | message | fix |", "|---|---|---|---|---|"]
        for f in items:
            where = f"{f.path}:{f.line}" if f.path and f.line is not None else (f.path or "")
            lines.append(
                f"| {_ICON[f.severity]} | `{_cell(where)}` | `{f.code}` | {_cell(f.message)} | {_cell(f.fix or '')} |"
            )
    else:
        lines.append("No findings.")
    return "\n".join(lines) + "\n"
