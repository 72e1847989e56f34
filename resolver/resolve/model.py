"""The values the resolver works with and returns: requirements with their origin, pins, conflicts.

A requirement remembers where it came from (a file and line for a direct one, the pinned parent for a
transitive one) so that a conflict can be explained as a chain a person can act on:
``torchvision 0.16.0 requires torch==2.1.0, but requirements.txt:3 asks for torch>=2.0.1,<2.1.0``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

__all__ = ["Conflict", "ConflictCause", "Mode", "Origin", "Pin", "Req", "Resolution"]


class Mode(str, enum.Enum):
    """Which end of each direct range the resolution prefers."""

    HIGHEST = "highest"
    LOWEST = "lowest"  # the lower bounds of the direct requirements; transitive ones newest


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """Where a requirement was asked for: a file and line, or a pinned parent."""

    path: str | None = None
    line: int | None = None
    parent: str | None = None  # "torchvision 0.16.0"

    def __str__(self) -> str:
        if self.parent:
            return self.parent
        if self.path and self.line is not None:
            return f"{self.path}:{self.line}"
        return self.path or "the command line"


@dataclass(frozen=True, slots=True, kw_only=True)
class Req:
    """A requirement as the resolver sees it: a name, extras, a range and its origin."""

    name: NormalizedName
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    extras: frozenset[str] = frozenset()
    origin: Origin = field(default_factory=Origin)

    @property
    def identifier(self) -> str:
        """``name`` or ``name[extra,...]``: requirements on extras resolve as their own identifier."""
        return f"{self.name}[{','.join(sorted(self.extras))}]" if self.extras else self.name

    def __str__(self) -> str:
        return f"{self.identifier}{self.specifier}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """One package of a resolution: the version chosen and the file it would install from."""

    name: NormalizedName
    version: Version
    filename: str | None = None
    index_url: str | None = None
    is_wheel: bool = True
    required_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """A complete, consistent set of pins for one target and mode."""

    mode: Mode
    pins: tuple[Pin, ...]
    dynamic: tuple[NormalizedName, ...] = ()  # releases whose dependencies could not be read without a build

    def version_of(self, name: str) -> Version | None:
        """The pinned version of ``name`` (normalised), if it is in the resolution."""
        for pin in self.pins:
            if pin.name == name:
                return pin.version
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConflictCause:
    """One requirement that took part in a conflict."""

    requirement: Req
    parent: str | None  # "torchvision 0.16.0", or None for a direct requirement


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict:
    """Why a set of requirements has no solution, in the words of the requirements involved."""

    mode: Mode
    causes: tuple[ConflictCause, ...]
    message: str
    fix: str | None = None
    direct: tuple[Req, ...] = ()  # the direct requirements the conflict involves, for placing the finding
    gave_up: bool = False  # the search ran out of rounds: no proof that no solution exists
    edits: tuple[tuple[Req, str], ...] = ()  # each fix as (the direct requirement rewritten, the fix in words)
