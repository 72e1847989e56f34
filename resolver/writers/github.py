"""Findings as GitHub Actions workflow commands: annotations on the right file and line.

PURE. ``::error file=requirements.txt,line=3,title=unresolvable::message`` for each finding; values are
escaped as the workflow-command syntax requires (``%``, ``\\r``, ``\\n``, and ``:``/``,`` in properties).
"""

from __future__ import annotations

from collections.abc import Iterable

from resolver.core.model import Finding, Severity

__all__ = ["render_github"]

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Iterable[Finding]) -> str:
    """One workflow command per finding; the fix follows the message on its own line."""
    lines: list[str] = []
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
