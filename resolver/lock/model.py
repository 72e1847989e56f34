"""The Lock value: every package of a resolution with its version, index and the files a target may install.

PURE: a :class:`~resolver.resolve.model.Resolution` and the index's release lists in, a :class:`Lock` out. The
network work (resolving, reading pages) happened before; this module only chooses and checks files:

- **which files**: every wheel of the pinned release whose tags fit the target and whose ``Requires-Python``
  accepts the target Python, plus the release's sdist (one; ``.tar.gz`` preferred). Yanked files count only
  when the resolver chose a yanked release (an exact pin on it); legacy sdist names (``.tar.bz2``) only when
  the resolver chose one. The file the resolver chose (the one pip will download) is ``chosen``; its size is
  the package's download size.
- **which hashes**: the sha256 the index publishes. A file without one (md5 only, or no hash) is refused with
  :class:`HashUnavailableError` naming it: md5 proves nothing against a tampering mirror, and a hash computed
  here from a download would only say what this machine saw once. No lock is written then.
- **no credentials**: index and file URLs lose any ``user:password@`` part; installers bring their own auth.

A lock is for one target (one Python, one platform): the writers record it as the lock's environment, so
markers inside it are only the user's own, kept where a package is requested by that line alone.

Cost: linear in the number of files of the pinned releases (a torch release lists ~30); no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from resolver.errors import RelaxPinsError
from resolver.index.urls import strip_credentials  # re-exported: the pipeline strips what it records with it

if TYPE_CHECKING:
    from packaging.version import Version

    from resolver.core.target import Target
    from resolver.index.finder import Release
    from resolver.index.simple import FileLink
    from resolver.resolve.model import Resolution

__all__ = [
    "CREATED_BY",
    "HashUnavailableError",
    "Lock",
    "LockCheck",
    "LockError",
    "LockedFile",
    "LockedPackage",
    "Requested",
    "build_lock",
    "check_lock",
    "environment_marker",
    "inputs_digest",
    "recorded_inputs",
    "strip_credentials",
]

#: The ``created-by`` of every lock: the tool name only, so upgrading relax-pins does not churn lock files.
CREATED_BY = "relax-pins"

_SDIST_PREFERENCE = (".tar.gz", ".zip")
_RECORDED = re.compile(r"""^(?:#\s*inputs:\s*|inputs\s*=\s*")(sha256:[0-9a-f]{64})""", re.MULTILINE)


class LockError(RelaxPinsError):
    """The resolution and the index disagree (a pinned release is gone from the page): nothing is written."""

    exit_code = 2


class HashUnavailableError(RelaxPinsError):
    """A file to lock has no sha256 on the index (md5 only, or no hash at all): nothing is written.

    ``filename`` and ``url`` (without credentials) name the file; ``offered`` lists the hash names the index gave.
    """

    exit_code = 4

    def __init__(self, *, filename: str, url: str, offered: tuple[str, ...]) -> None:
        self.filename = filename
        self.url = strip_credentials(url)
        self.offered = offered
        what = f"only {', '.join(offered)}" if offered else "no hash"
        self.message = (
            f"{filename}: the index offers {what} for this file, not sha256; a lock needs sha256 ({self.url})"
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message + "\n  hint: lock from an index that publishes sha256 hashes (PEP 503 #sha256= or JSON)"


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedFile:
    """One installable file: where it is (no credentials), its sha256, and what the index says about it."""

    filename: str
    url: str
    sha256: str
    size: int | None = None
    upload_time: str | None = None
    requires_python: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Requested:
    """A direct requirement as the user wrote it (``text`` carries its marker), and where.

    ``path`` is the file's display path, or a reason in parentheses (``(build tools)``) for a requirement
    relax-pins added itself.
    """

    name: NormalizedName
    text: str
    path: str
    line: int | None = None
    marker: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedPackage:
    """One package of the lock.

    ``dependencies`` are the locked packages it requires; ``required_by`` the locked packages requiring it;
    ``requested_in`` the files (display paths) that ask for it directly. ``marker`` is the user's own marker,
    kept only when that line is the package's sole reason to be here.
    """

    name: NormalizedName
    version: Version
    index: str | None
    wheels: tuple[LockedFile, ...]
    sdist: LockedFile | None
    chosen: str
    dependencies: tuple[NormalizedName, ...] = ()
    required_by: tuple[NormalizedName, ...] = ()
    requested_in: tuple[str, ...] = ()
    marker: str | None = None
    requires_python: str | None = None

    @property
    def files(self) -> tuple[LockedFile, ...]:
        """Every locked file: the fitting wheels, then the sdist."""
        return self.wheels + ((self.sdist,) if self.sdist else ())

    @property
    def download(self) -> LockedFile:
        """The file pip downloads for the target (the resolver's choice)."""
        return next((f for f in self.files if f.filename == self.chosen), self.files[0])

    @property
    def size(self) -> int | None:
        """Bytes pip downloads for this package; ``None`` when the index does not say (HTML pages)."""
        return self.download.size


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """A complete, hashed set of pins for one target, and what it was made from.

    ``inputs`` is the digest of the sources, target and indexes (:func:`inputs_digest`), so ``--check`` can
    tell a changed source without the network. ``index_url`` is ``None`` when the main index is pip's
    default (the writers then name none, as pip-compile does); ``extra_index_urls`` holds the others, the
    PyTorch wheel index among them.
    """

    packages: tuple[LockedPackage, ...]
    target: Target
    inputs: str
    sources: tuple[str, ...] = ()
    requested: tuple[Requested, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    variant: str | None = None
    dynamic: tuple[NormalizedName, ...] = ()

    def get(self, name: str) -> LockedPackage | None:
        """The package named ``name`` (any spelling), if locked."""
        key = canonicalize_name(name)
        return next((p for p in self.packages if p.name == key), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class LockCheck:
    """Whether a lock file is current; ``reason`` says why not."""

    current: bool
    reason: str | None = None


def inputs_digest(parts: Iterable[str]) -> str:
    """``sha256:<hex>`` of the parts in order: what a lock was made from, comparable without the network."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", errors="surrogateescape"))
        digest.update(b"\0")
    return f"sha256:{digest.hexdigest()}"


def environment_marker(target: Target) -> str:
    """The PEP 508 marker of the one environment a lock is for (single quotes read well inside TOML)."""
    markers = target.markers
    keys = ("sys_platform", "platform_machine", "implementation_name")
    clauses = [f"python_version == '{target.python_version[0]}.{target.python_version[1]}'"]
    clauses += [f"{key} == '{markers[key]}'" for key in keys if markers.get(key)]
    return " and ".join(clauses)


def recorded_inputs(text: str) -> str | None:
    """The inputs digest a lock file records (pylock ``inputs = "..."`` or a ``# inputs:`` header line)."""
    match = _RECORDED.search(text)
    return match[1] if match else None


_RECORDED_TARGET = (
    re.compile(r'^\[tool\.relax-pins\.target\]\s*python\s*=\s*"([^"]+)"\s*platform\s*=\s*"([^"]+)"', re.MULTILINE),
    re.compile(r"^# target: python (\S+), platform (\S+)", re.MULTILINE),
)


def recorded_target(text: str) -> tuple[str, str] | None:
    """``(python, platform)`` a lock file records (pylock ``[tool.relax-pins.target]``, or the hashed header)."""
    for pattern in _RECORDED_TARGET:
        match = pattern.search(text)
        if match:
            return match[1], match[2]
    return None


def check_lock(
    existing: str | None, *, inputs: str, rendered: str | None = None, target: tuple[str, str] | None = None
) -> LockCheck:
    """Compare a lock file with its sources: offline by the recorded digest, fully when ``rendered`` is given.

    ``rendered`` is the text a fresh lock would have; comparing it also catches newer releases on the index
    within the ranges, which the digest alone cannot see. ``target`` (python, platform) of this run names the
    difference when it is the target that changed (a ``lock --check`` without the lock's ``--python``).
    """
    if existing is None:
        return LockCheck(current=False, reason="the lock file does not exist")
    recorded = recorded_inputs(existing)
    if recorded is None:
        return LockCheck(current=False, reason="the lock file records no inputs digest (not written by relax-pins)")
    if recorded != inputs:
        was = recorded_target(existing)
        if target is not None and was is not None and was != target:
            reason = (
                f"the target differs: the lock is for python {was[0]}, platform {was[1]}; this run is for python "
                f"{target[0]}, platform {target[1]} (give the lock's --python and --platform, or put them in "
                "[tool.relax-pins])"
            )
            return LockCheck(current=False, reason=reason)
        return LockCheck(current=False, reason="the sources, target or indexes changed since the lock was written")
    if rendered is not None and rendered != existing:
        return LockCheck(current=False, reason="locking again gives other pins or files (the index changed)")
    return LockCheck(current=True)


class _Files:
    """Choose and check the files of one release for the target."""

    def __init__(self, target: Target) -> None:
        self._target = target

    def fits(self, filename: str) -> bool:
        parts = filename[:-4].split("-")
        return len(parts) in (5, 6) and self._target.priority_of(parts[-3], parts[-2], parts[-1]) is not None

    def locked(self, link: FileLink) -> LockedFile:
        digest = link.hash("sha256")
        if not digest:
            raise HashUnavailableError(
                filename=link.filename, url=link.url, offered=tuple(sorted({name for name, _ in link.hashes}))
            )
        return LockedFile(
            filename=link.filename,
            url=strip_credentials(link.url),
            sha256=digest,
            size=link.size,
            upload_time=link.upload_time,
            requires_python=link.requires_python,
        )

    def choose(self, release: Release, chosen: str) -> tuple[tuple[FileLink, ...], FileLink | None]:
        picked = next((f for f in release.files if f.filename == chosen), None)
        allow_yanked = picked is not None and picked.is_yanked
        unique = {f.filename: f for f in reversed(release.files)}  # an index listed twice: its first entry
        usable = [
            f
            for f in unique.values()
            if (allow_yanked or not f.is_yanked) and self._target.python_ok(f.requires_python)
        ]
        wheels = sorted((f for f in usable if f.filename.endswith(".whl") and self.fits(f.filename)), key=_by_name)
        sdists = sorted(
            (f for f in usable if f.filename.lower().endswith(_SDIST_PREFERENCE)), key=_sdist_rank
        )  # PEP 625 forms only: PEP 751 readers reject a legacy .tar.bz2 name
        sdist = sdists[0] if sdists else None
        if picked is not None and picked not in wheels and picked is not sdist:
            if picked.filename.endswith(".whl"):
                wheels = sorted([*wheels, picked], key=_by_name)
            else:
                sdist = picked
        return tuple(wheels), sdist


def _by_name(link: FileLink) -> str:
    return link.filename


def _sdist_rank(link: FileLink) -> tuple[bool, str]:
    return not link.filename.lower().endswith(_SDIST_PREFERENCE[0]), link.filename


def _marker(name: NormalizedName, requested: Sequence[Requested], has_parents: bool) -> str | None:
    """The user's marker, when every line asking for ``name`` has one and nothing else requires it."""
    mine = [r for r in requested if r.name == name]
    if has_parents or not mine or any(r.marker is None for r in mine):
        return None
    markers = list(dict.fromkeys(r.marker for r in mine if r.marker))
    return markers[0] if len(markers) == 1 else " or ".join(f"({m})" for m in markers)


def build_lock(
    resolution: Resolution,
    *,
    releases: Callable[[str], Sequence[Release] | None],
    index_of: Callable[[FileLink], str],
    target: Target,
    inputs: str,
    requested: Sequence[Requested] = (),
    indexes: Iterable[str] = (),
    sources: Sequence[str] = (),
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
    find_links: Sequence[str] = (),
    variant: str | None = None,
) -> Lock:
    """The lock of ``resolution``: each pin's files from ``releases(name)``, each file's index from ``index_of``.

    ``indexes`` are the (redacted) index URLs, so that a file from a find-links location gets no ``index``.
    Raises :class:`HashUnavailableError` for a file without sha256, :class:`LockError` for a pin whose
    release the index no longer lists.
    """
    known = {strip_credentials(u).rstrip("/") for u in indexes}
    files = _Files(target)
    children: dict[str, set[NormalizedName]] = defaultdict(set)
    for pin in resolution.pins:
        for parent in pin.required_by:
            children[parent].add(pin.name)
    locked_names = {pin.name for pin in resolution.pins}
    packages: list[LockedPackage] = []
    for pin in sorted(resolution.pins, key=lambda p: p.name):
        release = next((r for r in releases(pin.name) or () if r.version == pin.version), None)
        link = next((f for f in release.files if f.filename == pin.filename), None) if release else None
        if release is None or link is None or pin.filename is None:
            raise LockError(f"{pin.name} {pin.version} was resolved but its file is not on the index page")
        wheels, sdist = files.choose(release, pin.filename)
        listed = index_of(link)
        index = strip_credentials(listed) if listed else None
        if index is not None and index.rstrip("/") not in known:
            index = None  # a find-links location is not an index
        parents = tuple(sorted({canonicalize_name(p) for p in pin.required_by} & locked_names - {pin.name}))
        packages.append(
            LockedPackage(
                name=pin.name,
                version=pin.version,
                index=index,
                wheels=tuple(files.locked(w) for w in wheels),
                sdist=files.locked(sdist) if sdist is not None else None,
                chosen=pin.filename,
                dependencies=tuple(sorted(c for c in children.get(pin.name, ()) if c != pin.name)),
                required_by=parents,
                requested_in=tuple(dict.fromkeys(r.path for r in requested if r.name == pin.name)),
                marker=_marker(pin.name, requested, bool(parents)),
                requires_python=link.requires_python,
            )
        )
    return Lock(
        packages=tuple(packages),
        target=target,
        inputs=inputs,
        sources=tuple(sources),
        requested=tuple(requested),
        index_url=strip_credentials(index_url) if index_url else None,
        extra_index_urls=tuple(strip_credentials(u) for u in extra_index_urls),
        find_links=tuple(strip_credentials(u) for u in find_links),
        variant=variant,
        dynamic=resolution.dynamic,
    )
