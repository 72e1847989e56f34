"""The upgrade horizon of a line: the newest release the target could install, and whether the range shuts out a
newer minor or major one (``outdated``, info). PURE over the finder's release list, which the per-line checks
already fetched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolver.core.model import Finding, Severity

if TYPE_CHECKING:
    from packaging.version import Version

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
    """``outdated`` (info): ``direct``'s range (whose newest answer is ``allowed``) excludes ``latest``, a newer
    minor or major release the target could install: the upgrade horizon Renovate shows, said where the range
    is written."""
    if latest is None or direct.specifier.contains(latest, prereleases=True):
        return None
    if allowed is not None and (latest <= allowed or latest.release[:2] == allowed.release[:2]):
        return None  # no newer minor: a patch outside the range is the bound's own choice
    newer = "major" if allowed is None or latest.major > allowed.major else "minor"
    return direct.finding(
        "outdated",
        Severity.INFO,
        f"{direct.text} excludes {direct.name} {latest}, a newer {newer} release"
        + (f" (the newest it allows is {allowed})" if allowed is not None else ""),
        fix=f"widen the upper bound to take in {latest}, then check again that the set still installs",
    )
