"""The upgrade horizon of a line: the newest release the target could install, and whether the range shuts out a
newer minor or major one (``outdated``, info). PURE over the finder's release list, which the per-line checks
already fetched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from resolver.core.model import Finding, Severity

if TYPE_CHECKING:
    from resolver.core.model import Direct
    from resolver.index.finder import Finder, Release

__all__ = ["installable", "latest", "outdated"]


def installable(release: Release) -> bool:
    """Whether the finder offers ``release`` as a candidate: a file for the target, not every file yanked."""
    return release.python_ok and release.yanked is None and (release.has_compatible_wheel or release.has_sdist)


def latest(direct: Direct, finder: Finder) -> Version | None:
    """The newest final release of ``direct``'s project the target can install, whatever the range says (what
    a widened range would take in); read from the release list the checks already fetched."""
    if direct.url is not None or direct.unchecked is not None:
        return None
    every = finder.releases(direct.name) or ()
    return next((r.version for r in every if not r.version.is_prerelease and installable(r)), None)


def outdated(direct: Direct, allowed: Version | None, latest: Version | None) -> Finding | None:
    """``outdated`` (info): ``direct``'s range (whose newest answer is ``allowed``, else its written lower bound)
    excludes ``latest``, a newer minor or major release the target could install: the upgrade horizon Renovate
    shows, said where the range is written. A fact, with no fix: a widened range is only safe once the set is
    resolved again, which this finding has not done."""
    if latest is None or direct.specifier.contains(latest, prereleases=True):
        return None
    reference = allowed if allowed is not None else _floor(direct)
    if reference is not None and (latest <= reference or latest.release[:2] == reference.release[:2]):
        return None  # no newer minor: a patch outside the range is the bound's own choice
    newer = "" if reference is None else ("major " if latest.major > reference.major else "minor ")
    return direct.finding(
        "outdated",
        Severity.INFO,
        f"{direct.text} excludes {direct.name} {latest}, a newer {newer}release"
        + (f" (the newest it allows is {allowed})" if allowed is not None else ""),
    )


def _floor(direct: Direct) -> Version | None:
    """The version a range names as its floor (``==``, ``>=``, ``~=``), when it names one."""
    for spec in direct.specifier:
        if spec.operator in {"==", ">=", "~="} and not spec.version.endswith(".*"):
            try:
                return Version(spec.version)
            except InvalidVersion:
                return None
    return None
