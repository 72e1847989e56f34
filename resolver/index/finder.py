"""The releases of a project and the candidates a target can install: policy-free, over the index client.

The rules are pip's (and unearth's evaluator), applied per file:

- a file counts only if its filename parses and names the project (the page may list strays);
- a wheel fits when one of its tags is in :attr:`Target.tags`; among fitting wheels the best tag priority
  wins, then the higher build tag; an sdist is the fallback when no wheel fits;
- ``Requires-Python`` is checked per file, leniently (an invalid specifier passes, as in pip);
- PEP 592: a yanked file is skipped unless the specifier is an exact ``==``/``===`` pin and the caller
  allows yanked pins; a release counts as yanked when ALL its files are;
- pre-releases are candidates when the specifier names one, when ``allow_prereleases`` is set, or, as pip
  takes them (packaging's ``SpecifierSet.filter(prereleases=None)`` over the candidates it found), when no
  final release in the specifier has a file the target can install.

No policy lives here (which bound to pick is :mod:`resolver.core.policy`'s business).

Views. What the finder needs of a page is small: per version, the files this target could install (wheels
whose tags fit, sdists) and a few facts about the rest. That is a *view* of the page for the target's tags,
built once from the page (linear in its files: numpy, torch and pydantic-core list thousands) and kept by
the client beside the page, keyed by the page body's sha256 and :attr:`Finder.reader` (a format version and
the target's tags). While the page is fresh, a warm run reads the view, a few kilobytes, and never the page.
Links of files a target cannot install are read from the page only when asked for (a lock lists them).
"""

from __future__ import annotations

import hashlib
import marshal
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, NamedTuple, overload

from packaging.utils import BuildTag, canonicalize_name
from packaging.version import InvalidVersion, Version

from resolver.index.lazylinks import LazyLinks, Source, link_from_source, source_of
from resolver.index.lazyseq import LazyFiltered
from resolver.index.simple import FileLink, ProjectPage, parse_filename

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from concurrent.futures import Future
    from typing import Literal

    from packaging.specifiers import SpecifierSet
    from packaging.utils import NormalizedName

    from resolver.core.target import Target
    from resolver.index.client import IndexClient

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
    files: Sequence[FileLink]
    yanked: str | None
    requires_python: str | None
    has_compatible_wheel: bool
    has_sdist: bool
    python_ok: bool


#: Bumped whenever the view's shape or the rules that build it change: old views are then never read.
VIEW_FORMAT = "relax-pins finder view 4"


def _source_of_file(files: Sequence[FileLink], index: int, source: Callable[[int], Source | None] | None) -> Source:
    """What a view keeps of file ``index``: its page entry's plain values when the page has them (no link is
    built), else the plain values of the page's built link (HTML pages, find-links)."""
    row = source(index) if source is not None else None
    return row if row is not None else source_of(files[index])


class _File(NamedTuple):
    """A file the target could install: a wheel whose tags fit (``priority`` set) or an sdist."""

    kind: str  # "wheel" or "sdist"
    build: BuildTag
    priority: int | None  # tag priority for wheels (lower is better), None for sdists
    yanked: bool
    requires_python: str | None
    source: Source

    @property
    def link(self) -> FileLink:
        return link_from_source(self.source)


class _Version(NamedTuple):
    """One version of a project as the target sees it (see the module docstring, "views").

    A view holds these as plain tuples; they are wrapped without copying (``_make``). ``usable`` is the
    :mod:`marshal` bytes of the usable files' rows, read only when a candidate is chosen among them: a
    resolution looks at one or two versions of most projects, and decoding every row of every version
    was most of the time a warm run spent reading views.
    """

    text: str
    usable: bytes
    all_yanked: bool
    yank_reason: str  # the first non-empty reason when every file is yanked, else ""
    has_compatible_wheel: bool
    has_sdist: bool
    first_requires_python: str | None  # of the page's first file of this version

    def files(self) -> list[_File]:
        return [_File._make(raw) for raw in marshal.loads(self.usable)]  # noqa: S302 - see _decode


class _LazyFiles(Sequence[FileLink]):
    """Every file of one version, read from the page on first use (a check never asks; a lock does)."""

    __slots__ = ("_load", "_loaded")

    def __init__(self, load: Callable[[], tuple[FileLink, ...]]) -> None:
        self._load = load
        self._loaded: tuple[FileLink, ...] | None = None

    def _files(self) -> tuple[FileLink, ...]:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def __len__(self) -> int:
        return len(self._files())

    @overload
    def __getitem__(self, index: int) -> FileLink: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[FileLink]: ...

    def __getitem__(self, index: int | slice) -> FileLink | Sequence[FileLink]:
        return self._files()[index]


_BUILD_TAG = re.compile(r"(\d+)(.*)")
_UNKNOWN: object = object()
_PROJECT_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # a normalized name (PEP 503)


class _Parser:
    """Filenames to (version, kind, build, priority), fast for the common wheel case.

    An ML resolution reads ~100,000 filenames (numpy, scipy and torch list thousands each). Wheel names are
    split by hand (``name-version[-build]-python-abi-platform.whl``; wheel names and versions hold no ``-``),
    versions and names are parsed once per distinct string, and the tag fields are looked up as strings
    (:meth:`Target.priority_of`). Anything unusual goes through :func:`parse_filename`, which validates.
    """

    def __init__(self, target: Target) -> None:
        self._target = target
        self._versions: dict[str, Version | None] = {}
        self._keys: dict[str, str | None] = {}
        self._tails: dict[str, int | None] = {}  # "python-abi-platform" of a wheel name -> tag priority
        self._names: dict[str, NormalizedName] = {}

    def version(self, text: str) -> Version | None:
        if text not in self._versions:
            try:
                self._versions[text] = Version(text)
            except InvalidVersion:
                self._versions[text] = None
        return self._versions[text]

    def key(self, text: str) -> str | None:
        """The normalized form of a version string (``str(Version(text))``), once per distinct string."""
        if text not in self._keys:
            version = self.version(text)
            self._keys[text] = None if version is None else str(version)
        return self._keys[text]

    def _name(self, text: str) -> NormalizedName:
        if text not in self._names:
            self._names[text] = canonicalize_name(text)
        return self._names[text]

    def group(
        self, filenames: Sequence[str], project: NormalizedName
    ) -> dict[str, list[tuple[int, str, BuildTag, int | None]]]:
        """:meth:`file` for every name, as ``{version: [(index, kind, build, priority), ...]}`` in page order.

        The loop a view is built from (~113,000 names for an ML set): the common wheel case is handled inline
        with this parser's caches bound to locals, one call per page instead of several per file.
        """
        by_version: dict[str, list[tuple[int, str, BuildTag, int | None]]] = {}
        names, keys, seen = self._names, self._keys, self._tails
        priority_of, file = self._target.priority_of, self.file
        for index, filename in enumerate(filenames):
            parts = filename[:-4].split("-") if filename.endswith(".whl") else None
            if parts is not None and len(parts) == 5 and names.get(parts[0]) == project:
                version = keys.get(parts[1], _UNKNOWN)
                if version is _UNKNOWN:
                    version = self.key(parts[1])
                if version is None:
                    continue
                tail = filename[len(parts[0]) + len(parts[1]) + 2 : -4]
                priority = seen.get(tail, _UNKNOWN)
                if priority is _UNKNOWN:
                    priority = seen[tail] = priority_of(parts[2], parts[3], parts[4])
                entry: tuple[int, str, BuildTag, int | None] = (index, "wheel", (), priority)  # type: ignore[assignment]
                found_version: str = version  # type: ignore[assignment]
            else:
                parsed = file(filename, project)  # sdists, build tags, a name seen the first time, strays
                if parsed is None:
                    continue
                found_version, kind, build, parsed_priority = parsed
                entry = (index, kind, build, parsed_priority)
            group = by_version.get(found_version)
            if group is None:
                by_version[found_version] = [entry]
            else:
                group.append(entry)
        return by_version

    def file(self, filename: str, project: NormalizedName) -> tuple[str, str, BuildTag, int | None] | None:
        """``(normalized version, kind, build tag, tag priority)``, ``None`` for a file not of ``project``."""
        if filename.endswith(".whl"):
            parts = filename[:-4].split("-")
            if len(parts) not in (5, 6) or self._name(parts[0]) != project:
                return None
            version = self.key(parts[1])
            build: BuildTag = ()
            if len(parts) == 6:
                match = _BUILD_TAG.fullmatch(parts[2])
                if match is None:
                    return None  # an invalid build tag: pip refuses the file too
                build = (int(match.group(1)), match.group(2))
            if version is None:
                return None
            return version, "wheel", build, self._target.priority_of(parts[-3], parts[-2], parts[-1])
        parsed = parse_filename(filename)
        if parsed is None or parsed.name != project or parsed.kind != "sdist":
            return None
        return str(parsed.version), "sdist", (), None


def _filename(files: Sequence[FileLink], index: int) -> str:
    return files.filename(index) if isinstance(files, LazyLinks) else files[index].filename


def _columns(files: Sequence[FileLink]) -> tuple[Sequence[str], Sequence[bool], Sequence[str | None]]:
    """Every file's name, yanked flag and Requires-Python, read from the page's rows when it has them."""
    if isinstance(files, LazyLinks):
        return files.columns()
    return (
        [f.filename for f in files],
        [f.is_yanked for f in files],
        [f.requires_python for f in files],
    )


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
        self._groups: dict[str, dict[Version, _Version] | None] = {}
        self._newest_first: dict[str, list[Version]] = {}  # name -> the versions of its groups, newest first
        self._recalled: list[str] | None = None
        tags = "\n".join(str(tag) for tag in target.tags)
        #: Names what a view depends on besides the page: its format and the target's tags, in order.
        self.reader = f"{VIEW_FORMAT} {hashlib.sha256(tags.encode()).hexdigest()}"

    def releases(
        self, name: str, specifier: SpecifierSet | None = None, *, prereleases: bool = True
    ) -> tuple[Release, ...] | None:
        """The releases of ``name`` (those in ``specifier`` when given), newest first; ``None`` when no index
        has the project."""
        project = canonicalize_name(name)
        groups = self._grouped(project)
        if groups is None:
            return None
        versions = sorted(groups, reverse=True)
        if specifier is not None:
            versions = [v for v in versions if specifier.contains(v, prereleases=prereleases)]
        return tuple(self._release(project, version, groups[version]) for version in versions)

    def newest_version(self, name: str) -> Version | None:
        """The newest version ``name`` has on the index (any kind of file)."""
        groups = self._grouped(canonicalize_name(name))
        return max(groups) if groups else None

    def candidates(
        self, name: str, specifier: SpecifierSet, *, allow_yanked_pin: bool = False
    ) -> tuple[Candidate, ...]:
        """Installable versions in ``specifier``, newest first, each with its best file for the target."""
        return tuple(self.lazy_candidates(name, specifier, allow_yanked_pin=allow_yanked_pin))

    def lazy_candidates(
        self, name: str, specifier: SpecifierSet, *, allow_yanked_pin: bool = False
    ) -> LazyFiltered[Version, Candidate]:
        """:meth:`candidates`, each made only when read (:class:`~resolver.index.lazyseq.LazyFiltered`): a version's
        best file is chosen and its link built then, so reading the first or the last costs one or a few."""
        project = canonicalize_name(name)
        groups = self._grouped(project) or {}
        prereleases = self._allow_prereleases or bool(specifier.prereleases)
        yanked_ok = allow_yanked_pin and _is_exact_pin(specifier)
        make = partial(self._candidate, project, groups, yanked_ok)
        newest_first = self._newest_first.get(project, ())
        found = LazyFiltered([v for v in newest_first if specifier.contains(v, prereleases=prereleases)], make)
        if prereleases or found:
            return found
        # No final release in range can install: pip then takes the pre-releases in range (module docstring).
        pres = [v for v in newest_first if v.is_prerelease and specifier.contains(v, prereleases=True)]
        return LazyFiltered(pres, make)

    def _candidate(
        self, project: NormalizedName, groups: dict[Version, _Version], yanked_ok: bool, version: Version
    ) -> Candidate | None:
        best = self._best(groups[version].files(), yanked_ok=yanked_ok)
        if best is None:
            return None
        link = best.link
        return Candidate(
            name=project,
            version=version,
            link=link,
            is_wheel=best.kind == "wheel",
            yanked=link.yanked,
            requires_python=best.requires_python,
            index_url=self._client.index_of(link),
        )

    def prefetch(self, names: Iterable[str]) -> None:
        """Start reading these projects' views in the background."""
        self._client.prefetch_views(names, self.reader, self._build)

    def prefetch_one(self, name: str) -> Future[bytes] | None:
        """Start reading one project's view in the background; the future settles when it is read."""
        return self._client.prefetch_view(name, self.reader, self._build)

    def offload_views(self) -> bool:
        """Build this finder's views in the client's worker processes (:meth:`IndexClient.offload_views`),
        unless the views the last run read are all in the cache and fresh: then a run reads them in a few
        milliseconds, and forking would cost more (warm ml.txt: 0.42 s in-process, 0.50 s with workers)."""
        names = self._recent()
        if names and self._client.views_ready(names, self.reader):
            return False
        return self._client.offload_views(self.reader, self._build)

    def warm_up(self) -> None:
        """Start reading the views of the projects the last run for this target read (:meth:`remember`).

        A resolution finds its projects one dependency at a time; on a warm cache, the last run's set is the
        best guess of this run's, and reading those views in the background while the first requirements
        are checked leaves the resolver nothing to wait for. A wrong guess costs a few file reads.
        """
        self.prefetch(self._recent())

    def _recent(self) -> list[str]:
        """The projects the last run for this target read, as :meth:`remember` noted them (read once)."""
        if self._recalled is None:
            data = self._client.recall(f"recent projects\n{self.reader}")
            names = data.decode("utf-8", "replace").split() if data else []
            self._recalled = [n for n in names if _PROJECT_NAME.fullmatch(n)]
        return self._recalled

    def remember(self) -> None:
        """Note the projects this finder read, for the next run's :meth:`warm_up`."""
        names = sorted(name for name, groups in tuple(self._groups.items()) if groups is not None)
        if names:
            self._client.note(f"recent projects\n{self.reader}", "\n".join(names).encode())

    # -- views -------------------------------------------------------------------------------------------

    def _grouped(self, name: NormalizedName) -> dict[Version, _Version] | None:
        if name not in self._groups:
            data = self._client.project_view(name, self.reader, self._build)
            groups = self._decode(data)
            if groups is False:  # a view this version cannot read (a damaged entry passes no checksum)
                groups = self._decode(self._build(self._client.project(name)))
            found = groups if groups is not False else None
            self._newest_first[name] = sorted(found or (), reverse=True)
            self._groups[name] = found
        return self._groups[name]

    def _build(self, page: ProjectPage | None) -> bytes:
        """The view of ``page`` for this finder's target (module docstring), as :mod:`marshal` bytes."""
        if page is None:
            return marshal.dumps((VIEW_FORMAT, None))
        files, project = page.files, canonicalize_name(page.name)
        names, yanked_flags, pythons = _columns(files)
        source = files.source if isinstance(files, LazyLinks) else None
        by_version = self._parser.group(names, project)
        versions = []
        for version, found in by_version.items():
            all_yanked = all(yanked_flags[index] for index, *_ in found)
            reasons = [files[index].yanked or "" for index, *_ in found] if all_yanked else []
            usable = [
                (kind, build, priority, yanked_flags[index], pythons[index], _source_of_file(files, index, source))
                for index, kind, build, priority in found
                if priority is not None or kind == "sdist"
            ]
            versions.append(
                (
                    version,
                    marshal.dumps(usable),
                    all_yanked,
                    next((r for r in reasons if r), "") if all_yanked else "",
                    any(priority is not None for _, _, _, priority in found),
                    any(kind == "sdist" for _, kind, _, _ in found),
                    pythons[found[0][0]],
                )
            )
        return marshal.dumps((VIEW_FORMAT, versions))

    def _decode(self, data: bytes) -> dict[Version, _Version] | Literal[False] | None:
        """The groups a view holds; ``None`` for "no such project", ``False`` when it is not a view we wrote."""
        try:
            tag, versions = marshal.loads(data)  # noqa: S302 - our own cache entry, checksummed (client docs)
        except (ValueError, EOFError, TypeError):
            return False
        if tag != VIEW_FORMAT:
            return False
        if versions is None:
            return None
        parse, groups = self._parser.version, {}
        for raw in versions:
            version = parse(raw[0])
            if version is not None:
                groups[version] = _Version._make(raw)
        return groups

    def _all_files(self, name: NormalizedName, version: Version) -> tuple[FileLink, ...]:
        """Every file of ``name`` ``version`` on the page, in page order (the lock's per-version list)."""
        page = self._client.project(name)
        if page is None:
            return ()
        files, wanted = page.files, str(version)
        found = []
        for index in range(len(files)):
            parsed = self._parser.file(_filename(files, index), name)
            if parsed is not None and parsed[0] == wanted:
                found.append(files[index])
        return tuple(found)

    # -- choosing ----------------------------------------------------------------------------------------

    def _best(self, files: Sequence[_File], *, yanked_ok: bool) -> _File | None:
        """The wheel with the best tag priority (then build tag), else the first sdist; ``None`` if neither.

        Files that are yanked (unless ``yanked_ok``) or reject the target Python do not count.
        """
        python_ok = self._target.python_ok
        usable = [f for f in files if (yanked_ok or not f.yanked) and python_ok(f.requires_python)]
        wheels = sorted((f for f in usable if f.priority is not None), key=lambda f: f.build, reverse=True)
        if wheels:
            return min(wheels, key=lambda f: f.priority if f.priority is not None else 0)
        return next((f for f in usable if f.kind == "sdist"), None)

    def _release(self, name: NormalizedName, version: Version, group: _Version) -> Release:
        files = group.files()
        best = self._best(files, yanked_ok=True)
        return Release(
            version=version,
            files=_LazyFiles(lambda: self._all_files(name, version)),
            yanked=group.yank_reason if group.all_yanked else None,
            requires_python=best.requires_python if best is not None else group.first_requires_python,
            has_compatible_wheel=group.has_compatible_wheel,
            has_sdist=group.has_sdist,
            python_ok=any(self._target.python_ok(f.requires_python) for f in files),
        )
