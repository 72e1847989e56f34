"""The rows of a verification: one per input line, with its own range's answers (never a version outside it)
and the codes of every finding on the line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolver.resolve.horizon import latest

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from resolver.core.model import Direct
    from resolver.index.finder import Finder
    from resolver.resolve.model import Resolution

__all__ = ["Row", "build_rows", "has_lower_bound"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One direct requirement in the report: its range, where it resolves, and its finding codes."""

    requirement: Direct
    newest: Version | None
    lowest: Version | None
    codes: tuple[str, ...]
    applies: bool = True  # False: the line's marker excludes the target, so nothing was checked for it
    latest: Version | None = None  # the newest final release the target can install, in the range or not

    @property
    def verdict(self) -> str:
        """The findings column: the codes, ``not for this target`` for a line its marker excludes, else ``ok``."""
        return ", ".join(self.codes) or ("ok" if self.applies else "not for this target")


def build_rows(
    requirements: Sequence[Direct],
    env: Mapping[str, str],
    codes: Mapping[int, Sequence[str]],
    highest: Resolution | None,
    lowest: Resolution | None,
    finder: Finder,
) -> tuple[Row, ...]:
    """One row per line; a line whose marker excludes the target installs nothing there: no version is its
    answer."""
    applies = [d.marker is None or d.marker.evaluate({**env, "extra": ""}) for d in requirements]
    return tuple(
        Row(
            requirement=direct,
            newest=_answer(direct, highest) if applies[index] else None,
            lowest=_answer(direct, lowest) if applies[index] and has_lower_bound(direct.specifier) else None,
            codes=tuple(codes.get(index, ())),
            applies=applies[index],
            latest=latest(direct, finder) if applies[index] else None,
        )
        for index, direct in enumerate(requirements)
    )


def _answer(direct: Direct, resolution: Resolution | None) -> Version | None:
    """The version ``resolution`` holds for ``direct``'s name, when it is inside ``direct``'s own range: a line
    left out of the resolution (an error of its own) is never shown a version another line brought in."""
    version = resolution.version_of(direct.name) if resolution is not None else None
    if version is None or (direct.url is None and not direct.specifier.contains(version, prereleases=True)):
        return None
    return version


def has_lower_bound(spec: SpecifierSet) -> bool:
    """Whether ``spec`` bounds the version from below (what the lowest resolution holds a line at)."""
    return any(s.operator in {">=", ">", "==", "~=", "==="} for s in spec)
