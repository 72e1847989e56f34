"""Findings as GitHub Actions workflow commands: annotations on the right file and line.

PURE. ``::error file=requirements.txt,line=3,title=unresolvable::message`` for each finding; values are
escaped as the workflow-command syntax requires (``%``, ``\\r``, ``\\n``, and ``:``/``,`` in properties).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from resolver.core.model import Finding, Severity

if TYPE_CHECKING:
    from resolver.results import CheckReport

__all__ = ["render_github", "render_input_errors"]

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Iterable[Finding], check: CheckReport | None = None) -> str:
    """One workflow command per finding; the fix follows the message on its own line. When the index stopped
    an environment (exit 3 or 4), an ``::error`` says why, so a failed CI job is never silent."""
    lines: list[str] = []
    if check is not None and check.stopped:
        from resolver.writers.report import stopped_reasons

        for reason, names in stopped_reasons(check):
            title = "relax-pins: hash mismatch" if check.integrity else "relax-pins: index unreachable"
            lines.append(f"::error title={_prop(title)}::{_data(reason + ' (' + '; '.join(names) + ')')}")
    for f in findings:
        props = []
        if f.path:
            props.append(f"file={_prop(f.path)}")
            if f.line is not None:
                props.append(f"line={f.line}")
        props.append(f"title={_prop(f'relax-pins {f.code}')}")
        message = f.message + (f"\nfix: {f.fix}" if f.fix else "")
        lines.append(f"::{_LEVEL[f.severity]} {','.join(props)}::{_data(message)}")
    return "".join(f"{line}\n" for line in lines)


def render_input_errors(errors: Iterable[tuple[str | None, int | None, int | None, str]]) -> str:
    """Bad input (exit 2) as ``::error file=...,line=...,col=...::message`` annotations, one per error."""
    lines = []
    for path, line, col, message in errors:
        props = [f"file={_prop(path)}"] if path else []
        if path and line is not None:
            props.append(f"line={line}")
            if col is not None:
                props.append(f"col={col}")
        props.append(f"title={_prop('relax-pins: bad input')}")
        lines.append(f"::error {','.join(props)}::{_data(message)}")
    return "".join(f"{line}\n" for line in lines)
