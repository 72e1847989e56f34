"""The one place that turns what a run produced into an exit code (docs/exit-codes.md).

- 0: success; 1: error findings, no lock, or changes pending under ``--check``; 2: bad input (the
  :class:`~resolver.errors.InputError` family: ``path:line:col: message``); 3: the index cannot be reached;
  4: a download failed its hash check, or the index offers no usable hash; 130: interrupted.

Results say what happened (:mod:`resolver.results`: ``unreachable``, ``integrity``, ``lock is None``,
findings); exceptions carry their own ``exit_code`` and are mapped by :func:`resolver.cli.app.guard`.
"""

from __future__ import annotations

from collections.abc import Iterable

from resolver.core.model import Finding, Severity
from resolver.results import CheckReport, LockOutcome

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INPUT",
    "EXIT_INTEGRITY",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_UNREACHABLE",
    "exit_code",
    "stopped",
]

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_UNREACHABLE, EXIT_INTEGRITY, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_TERMINATED = 143  # SIGTERM: 128 + 15, as a shell reports a process it ended


def stopped(outcome: CheckReport | LockOutcome | None) -> int | None:
    """The exit code of a run the index stopped (4: a hash did not hold, 3: unreachable), else ``None``."""
    if outcome is None:
        return None
    if outcome.integrity:
        return EXIT_INTEGRITY
    if outcome.unreachable:
        return EXIT_UNREACHABLE
    return None


def exit_code(
    findings: Iterable[Finding], outcome: CheckReport | LockOutcome | None = None, *, pending: bool = False
) -> int:
    """The exit code of a command: the index stopping it first, then a lock not made, then error findings
    or pending changes (``--check``), else 0."""
    code = stopped(outcome)
    if code is not None:
        return code
    if isinstance(outcome, LockOutcome) and outcome.lock is None:
        return EXIT_FINDINGS
    if pending or any(f.severity is Severity.ERROR for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK
