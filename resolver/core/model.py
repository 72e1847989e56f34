"""Result types shared across relax-pins: findings and the changes a run makes.

These are plain frozen values so that every stage (parsers, policy, index checks, writers) can produce and
consume them without knowing about the others. Finding codes are part of the JSON schema (docs/json.md):
add new codes freely, never rename one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

__all__ = ["Change", "Direct", "Finding", "Severity"]


class Severity(str, enum.Enum):
    """How much a finding matters. Only ``ERROR`` makes the command exit 1."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing relax-pins noticed, tied to a place where it knows one.

    ``code`` is stable and machine-readable (``calver``, ``local-version``, ``lock-file-skipped``...);
    ``message`` is for people; ``fix`` says what to do, when there is something to do; ``data`` carries
    structured extras that later stages read (for example the CUDA variant of a local version label).
    """

    code: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    package: str | None = None
    fix: str | None = None
    data: tuple[tuple[str, str], ...] = field(default=())

    def get(self, key: str) -> str | None:
        """The value stored under ``key`` in ``data``, if any."""
        for k, v in self.data:
            if k == key:
                return v
        return None

    def located(self, *, path: str | None, line: int | None) -> Finding:
        """A copy placed at ``path:line`` (policy findings are made before their place is known)."""
        return Finding(
            code=self.code,
            severity=self.severity,
            message=self.message,
            path=path,
            line=line,
            package=self.package,
            fix=self.fix,
            data=self.data,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One requirement whose specifier a run rewrote: ``before`` and ``after`` are whole requirement texts."""

    path: str
    line: int
    package: str
    before: str
    after: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Direct:
    """A direct requirement as written in a file, with its place."""

    name: NormalizedName
    text: str
    specifier: SpecifierSet
    path: str
    line: int
    extras: frozenset[str] = frozenset()
    marker: Marker | None = None
    url: str | None = None
    constraint: bool = False
    unchecked: str | None = None  # why the index cannot check it (a direct reference, a Poetry "||" constraint)

    def finding(self, code: str, severity: Severity, message: str, fix: str | None = None) -> Finding:
        """A finding placed on this requirement's line."""
        return Finding(
            code=code, severity=severity, message=message, path=self.path, line=self.line, package=self.name, fix=fix
        )
