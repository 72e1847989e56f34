"""The releases of a project and the candidates a target can install: policy-free, over the index client.

The rules are pip's (and unearth's evaluator), applied per file:

- a file counts only if its filename parses and names the project (the page may list strays);
- a wheel fits when one of its tags is in :attr:`Target.tags`; among fitting wheels the best tag priority
  wins, then the higher build tag; an sdist is the fallback when no wheel fits;
- ``Requires-Python`` is checked per file, leniently (an invalid specifier passes, as in pip);
- PEP 592: a yanked file is skipped unless the specifier is an exact ``==``/``===`` pin and the caller
  allows yanked pins; a release counts as yanked when ALL its files are;
- pre-releases are candidates only when the specifier names one or ``allow_prereleases`` is set.

No policy lives here (which bound to pick is :mod:`resolver.core.policy`'s business). Cost: one
``client.project`` call per name (memoized in the client); grouping is linear in the number of files, and
releases are memoized per name, so the resolver may ask again and again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import BuildTag, canonicalize_name
from packaging.version import InvalidVersion, Version

from resolver.index.lazylinks import LazyLinks
from resolver.index.simple import parse_filename

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.specifiers import SpecifierSet
    from packaging.utils import NormalizedName

    from resolver.core.target import Target
    from resolver.index.client import IndexClient
    from resolver.index.simple import FileLink

__all__ = ["Candidate", "Finder", "Release"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One installable version for the target: the best file for it and where it came from."""

    name: NormalizedName
    version: Version
    link: FileLink
    is_wheel: bool
    yanked: str | None
    requires_python: str | None
    index_url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """Every file of one version on the index, and what they say about the target.

    ``yanked`` is set (the first reason given, else ``""``) only when every file is yanked.
    ``requires_python`` is that of the best file for the target (else of the first file);
    ``python_ok`` says whether any usable file accepts the target Python.
    """

    version: Version
    files: tuple[FileLink, ...]
    yanked: str | None
    requires_python: str | None
    has_compatible_wheel: bool
    has_sdist: bool
    python_ok: bool


@dataclass(frozen=True, slots=True)
class _File:
    files: Sequence[FileLink]  # the page's files; ``link`` is built from it only when read (LazyLinks)
    index: int
    kind: str  # "wheel" or "sdist"
    build: BuildTag
    priority: int | None  # tag priority for wheels, None for sdists and wheels that do not fit

    @property
    def link(self) -> FileLink:
        return self.files[self.index]


_BUILD_TAG = re.compile(r"(\d+)(.*)")


class _Parser:
    """Filenames to (name, version, kind, build, priority), fast for the common wheel case.

    An ML resolution reads ~100,000 filenames (numpy, scipy and torch list thousands each). Wheel names are
    split by hand (``name-version[-build]-python-abi-platform.whl``; wheel names and versions hold no ``-``),
    versions and names are parsed once per distinct string, and the tag fields are looked up as strings
    (:meth:`Target.priority_of`). Anything unusual goes through :func:`parse_filename`, which validates.
    """

    def __init__(self, target: Target) -> None:
        self._target = target
        self._versions: dict[str, Version | None] = {}
        self._names: dict[str, NormalizedName] = {}

    def _version(self, text: str) -> Version | None:
        if text not in self._versions:
            try:
                self._versions[text] = Version(text)
            except InvalidVersion:
                self._versions[text] = None
        return self._versions[text]

    def _name(self, text: str) -> NormalizedName:
        if text not in self._names:
            self._names[text] = canonicalize_name(text)
        return self._names[text]

    def file(self, files: Sequence[FileLink], index: int, project: NormalizedName) -> tuple[Version, _File] | None:
        filename = files.filename(index) if isinstance(files, LazyLinks) else files[index].filename
        if filename.endswith(".whl"):
            parts = filename[:-4].split("-")
            if len(parts) not in (5, 6) or self._name(parts[0]) != project:
                return None
            version = self._version(parts[1])
            build: BuildTag = ()
            if len(parts) == 6:
                match = _BUILD_TAG.fullmatch(parts[2])
                if match is None:
                    return None  # an invalid build tag: pip refuses the file too
                build = (int(match.group(1)), match.group(2))
            if version is None:
                return None
            priority = self._target.priority_of(parts[-3], parts[-2], parts[-1])
            return version, _File(files, index, "wheel", build, priority)
        parsed = parse_filename(filename)
        if parsed is None or parsed.name != project or parsed.kind != "sdist":
            return None
        return parsed.version, _File(files, index, "sdist", (), None)


def _is_exact_pin(specifier: SpecifierSet) -> bool:
    specs = list(specifier)
    return len(specs) == 1 and specs[0].operator in ("==", "===") and not specs[0].version.endswith(".*")


class Finder:
    """Releases and candidates of projects for one :class:`Target`, read through an :class:`IndexClient`."""

    def __init__(self, client: IndexClient, target: Target, *, allow_prereleases: bool = False) -> None:
        self._client = client
        self._target = target
        self._parser = _Parser(target)
        self._allow_prereleases = allow_prereleases
        self._files: dict[str, dict[Version, list[_File]] | None] = {}

    def releases(
        self, name: str, specifier: SpecifierSet | None = None, *, prereleases: bool = True
    ) -> tuple[Release, ...] | None:
        """The releases of ``name`` (those in ``specifier`` when given), newest first; ``None`` when no index
        has the project. Give the specifier when you can: only the releases returned are looked at closely."""
        groups = self._grouped(canonicalize_name(name))
        if groups is None:
            return None
        versions = sorted(groups, reverse=True)
        if specifier is not None:
            versions = [v for v in versions if specifier.contains(v, prereleases=prereleases)]
        return tuple(self._release(version, groups[version]) for version in versions)

    def newest_version(self, name: str) -> Version | None:
        """The newest version ``name`` has on the index (any kind of file), without reading its files."""
        groups = self._grouped(canonicalize_name(name))
        return max(groups) if groups else None

    def candidates(
        self, name: str, specifier: SpecifierSet, *, allow_yanked_pin: bool = False
    ) -> tuple[Candidate, ...]:
        """Installable versions in ``specifier``, newest first, each with its best file for the target."""
        project = canonicalize_name(name)
        groups = self._grouped(project) or {}
        prereleases = self._allow_prereleases or bool(specifier.prereleases)
        yanked_ok = allow_yanked_pin and _is_exact_pin(specifier)
        found = []
        for version in sorted(groups, reverse=True):
            if not specifier.contains(version, prereleases=prereleases):
                continue
            best = self._best(groups[version], yanked_ok=yanked_ok)
            if best is None:
                continue
            found.append(
                Candidate(
                    name=project,
                    version=version,
                    link=best.link,
                    is_wheel=best.kind == "wheel",
                    yanked=best.link.yanked,
                    requires_python=best.link.requires_python,
                    index_url=self._client.index_of(best.link),
                )
            )
        return tuple(found)

    def _grouped(self, name: NormalizedName) -> dict[Version, list[_File]] | None:
        if name in self._files:
            return self._files[name]
        page = self._client.project(name)
        groups: dict[Version, list[_File]] | None = None
        if page is not None:
            groups = {}
            for index in range(len(page.files)):
                parsed = self._parser.file(page.files, index, name)
                if parsed is not None:
                    groups.setdefault(parsed[0], []).append(parsed[1])
        self._files[name] = groups
        return groups

    def _best(self, files: list[_File], *, yanked_ok: bool) -> _File | None:
        """The wheel with the best tag priority (then build tag), else the first sdist; ``None`` if neither.

        Files that are yanked (unless ``yanked_ok``) or reject the target Python do not count.
        """
        usable = [
            f for f in files if (yanked_ok or not f.link.is_yanked) and self._target.python_ok(f.link.requires_python)
        ]
        wheels = sorted((f for f in usable if f.priority is not None), key=lambda f: f.build, reverse=True)
        if wheels:
            return min(wheels, key=lambda f: f.priority if f.priority is not None else 0)
        return next((f for f in usable if f.kind == "sdist"), None)

    def _release(self, version: Version, files: list[_File]) -> Release:
        fitting = [f for f in files if f.priority is not None or f.kind == "sdist"]
        all_yanked = all(f.link.is_yanked for f in files)
        best = self._best(files, yanked_ok=True)
        reasons = [f.link.yanked for f in files if f.link.yanked]
        return Release(
            version=version,
            files=tuple(f.link for f in files),
            yanked=(reasons[0] if reasons else "") if all_yanked else None,
            requires_python=(best or files[0]).link.requires_python,
            has_compatible_wheel=any(f.priority is not None for f in files),
            has_sdist=any(f.kind == "sdist" for f in files),
            python_ok=any(self._target.python_ok(f.link.requires_python) for f in fitting),
        )
