"""The values a command's run produces and the writers render: per file, per environment, per command.

They sit between the pipeline, which makes them, and the writers and the CLI, which render them and map
them to an exit code (:mod:`resolver.cli.exits`, the one place that does). Pure values: no I/O, no
rendering, no exit codes. An index that could not be reached, or a hash that did not hold, is a value here
(``unreachable``, ``integrity``: the reason, in words), not an exception: the command still reports every
finding that did not need the index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from resolver.core.model import Finding, Severity

if TYPE_CHECKING:
    from pathlib import Path

    from resolver.core.model import Change
    from resolver.core.target import Target
    from resolver.fsio import TextFile
    from resolver.lock.layers import LayerPlan
    from resolver.lock.model import Lock
    from resolver.resolve.verify import Verification

__all__ = [
    "ASSUMED_PYTHON",
    "CheckOutcome",
    "CheckReport",
    "CheckRun",
    "FileResult",
    "LayersOutcome",
    "LayersRun",
    "LockOutcome",
    "LockRun",
    "RelaxResult",
    "RelaxRun",
]

#: The ``python_source`` of a check whose inputs and options name no Python: the running interpreter's is used.
ASSUMED_PYTHON = "assumed: the Python running relax-pins (nothing in the inputs names one; give --python)"


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
    origins: tuple[str, ...] = ()  # the inputs (displays) whose environments the file installs into
    build_args: tuple[tuple[str, str], ...] = ()  # a Dockerfile's --build-arg values, as the build is given them

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


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """What verification found in one environment (``files``, as displayed); ``unreachable``/``integrity``
    say why it could not finish."""

    verification: Verification | None
    target: Target
    indexes: tuple[str, ...]
    files: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    name: str = ""  # for people: the files, or "pyproject.toml with extra gpu"
    findings: tuple[Finding, ...] = ()
    unreachable: str | None = None
    integrity: str | None = None
    stats: tuple[tuple[str, int], ...] = ()  # the client's counters: requests, cache_hits, bytes_received...
    python_source: str = "--python"  # where the target's Python came from; ASSUMED_PYTHON when nothing said

    @property
    def python_assumed(self) -> bool:
        """Whether nothing in the inputs or options named the target's Python (it is this interpreter's)."""
        return self.python_source.startswith("assumed:")

    @property
    def stopped(self) -> bool:
        """Whether the index stopped verification (unreachable, or a hash that did not hold)."""
        return bool(self.unreachable or self.integrity)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    """A check of every environment of a run, in the order of the inputs: each verified on its own, so one
    environment's unreachable index stops only that one."""

    environments: tuple[CheckOutcome, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every environment's findings, in order, each once (a pyproject's main lines are checked again with
        each optional set, and say the same)."""
        return tuple(dict.fromkeys(f for env in self.environments for f in env.findings))

    @property
    def integrity(self) -> str | None:
        """Why a hash did not hold, in the first environment where one did not."""
        return next((env.integrity for env in self.environments if env.integrity), None)

    @property
    def unreachable(self) -> str | None:
        """Why an index could not be reached, in the first environment where one could not."""
        return next((env.unreachable for env in self.environments if env.unreachable), None)

    @property
    def stopped(self) -> bool:
        """Whether the index stopped the verification of any environment."""
        return any(env.stopped for env in self.environments)


@dataclass(frozen=True, slots=True, kw_only=True)
class LockOutcome:
    """The lock, or the findings and reason that prevented one; ``inputs`` is always the inputs digest."""

    lock: Lock | None
    target: Target
    indexes: tuple[str, ...]
    inputs: str
    findings: tuple[Finding, ...] = ()
    unreachable: str | None = None
    integrity: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LayersOutcome:
    """The lock outcome and, when there is a lock, its layers."""

    outcome: LockOutcome
    plan: LayerPlan | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRun:
    """A check command's run: the files read, the verification, and every finding in report order."""

    result: RelaxResult
    check: CheckReport
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RelaxRun:
    """A relax command's run: the files read and their new text, the verification of the relaxed ranges
    (``None`` when none ran: ``--diff``, ``--check``, ``--no-verify``, nothing to change), every finding,
    and what happened on disk. ``blocked``: verification stopped the write (index stopped, or errors
    without ``--force``); ``pending``: ``--check`` found files that would change."""

    result: RelaxResult
    check: CheckReport | None
    findings: tuple[Finding, ...]
    wrote: bool
    blocked: bool
    pending: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class LockRun:
    """A lock command's run: the outcome and, when a lock was made, its text and whether the file changed."""

    outcome: LockOutcome
    text: str | None = None
    changed: bool = False
    #: (name, version before, version now) for each pin that moved against the lock it replaced (new: "")
    moved: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LayersRun:
    """A layers command's run: the outcome and the files written (names relative to the output folder)."""

    outcome: LayersOutcome
    written: tuple[str, ...] = ()
