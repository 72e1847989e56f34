"""The maintainer's check: compare ``data/cuda_torch_matrix.yaml`` with what an index publishes.

:func:`verify_matrix` reads, through an index client (:class:`resolver.index.client.IndexClient`, or any object
with its ``project``/``metadata`` methods; this module opens no socket itself), the project pages of torch,
torchvision and torchaudio and the core metadata of one Linux wheel per release, and lists each
:class:`Discrepancy`:

==================  =====================================================================================
field               compared with
==================  =====================================================================================
``release``         torch releases on the index (final, not yanked) against the matrix's, both ways
``line``            a torch line on the index newer than the matrix's newest
``cuda``            the CUDA runtime pin of the Linux x86_64 wheel (``nvidia-cuda-runtime-cuNN==X.Y.Z`` or
                    ``cuda-toolkit[...]==X.Y.Z``, markers evaluated for Linux x86_64 and the line's oldest
                    Python) against the release's ``cuda``; no pin at all (1.12 bundles CUDA) is not judged
``cuda_aarch64``    the same for a Linux aarch64 wheel, when the index has one, against ``default_cuda_aarch64``
``triton``          torch's triton requirement against the release's ``triton``
``python``          the CPython tags of the line's Linux x86_64 wheels against ``python`` min/max, and
                    Requires-Python when it refuses the line's oldest Python
``wheel_platform``  the manylinux tag of those wheels against ``wheel_platform``
``vision_requires`` the ``torch`` requirement of each torchvision/torchaudio release against the matrix's
``audio_requires``  pairing, and companions pinning a listed torch that the matrix pairs differently
==================  =====================================================================================

A missing release or a new line comes with ``suggestion``: the YAML row to add, built from the index's
facts (companion chosen by its torch requirement and the closest upload date), so that the next torch
release is a one-line update; a new line also needs its line-level fields (variants, arch) from their sources.
Cost: one page per project and one metadata file per release (about 30 torch and 70 companion releases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from resolver.index.simple import parse_filename

if TYPE_CHECKING:
    from collections.abc import Collection

    from resolver.cuda.matrix import Matrix
    from resolver.cuda.schema import TorchLine, TorchRelease
    from resolver.index.metadata import CoreMetadata
    from resolver.index.simple import FileLink, ProjectPage

__all__ = ["Discrepancy", "IndexReader", "verify_matrix"]

_CUDA_PIN = re.compile(r"nvidia-cuda-runtime(?:-cu\d+)?|cuda-toolkit")
_TRITON = ("triton", "pytorch-triton")


class IndexReader(Protocol):
    """What :func:`verify_matrix` needs of an index client (``IndexClient`` has it)."""

    def project(self, name: str) -> ProjectPage | None: ...

    def metadata(self, link: FileLink) -> CoreMetadata | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Discrepancy:
    """One place where the matrix and the index disagree: ``matrix``/``index`` are the two values as text."""

    subject: str
    field: str
    matrix: str | None
    index: str | None
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        text = f"{self.subject}: {self.message}"
        return text + (f"\n  add: {self.suggestion}" if self.suggestion else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Release:
    """One final release on the index: its wheels (yanked ones dropped) and the earliest upload date."""

    version: Version
    wheels: tuple[FileLink, ...]
    uploaded: str | None


def _releases(page: ProjectPage | None) -> dict[Version, _Release]:
    grouped: dict[Version, list[FileLink]] = {}
    for link in page.files if page else ():
        parsed = parse_filename(link.filename)
        if parsed is None or parsed.kind != "wheel" or link.is_yanked:
            continue
        v = parsed.version
        if v.is_prerelease or v.is_devrelease or v.local:
            continue
        grouped.setdefault(v, []).append(link)
    out = {}
    for v, links in grouped.items():
        times = sorted(t[:10] for t in (link.upload_time for link in links) if t)
        out[v] = _Release(version=v, wheels=tuple(links), uploaded=times[0] if times else None)
    return out


def _cpython(link: FileLink, machine: str) -> list[tuple[int, int]]:
    parsed = parse_filename(link.filename)
    out = []
    for tag in (parsed.tags or frozenset()) if parsed is not None else frozenset():
        linux = "linux" in tag.platform and tag.platform.endswith(machine)
        if linux and re.fullmatch(r"cp3\d+", tag.interpreter) and not tag.abi.endswith("t"):
            out.append((3, int(tag.interpreter[3:])))
    return out


def _platforms(link: FileLink, machine: str) -> set[str]:
    parsed = parse_filename(link.filename)
    tags = (parsed.tags or frozenset()) if parsed is not None else frozenset()
    return {t.platform.removesuffix(f"_{machine}") for t in tags if t.platform.endswith(machine)}


def _wheel_for(release: _Release, machine: str) -> FileLink | None:
    """A Linux wheel for ``machine`` (regular CPython, newest first), else a ``py3-none-<linux>`` one (torchvision
    0.29 ships only those), else a pure-Python one."""
    linux = [link for link in release.wheels if _cpython(link, machine)]
    if linux:
        return max(linux, key=lambda link: max(_cpython(link, machine)))
    generic = [link for link in release.wheels if "-py3-none-" in link.filename and _platforms(link, machine)]
    if generic:
        return generic[0]
    return next((link for link in release.wheels if link.filename.endswith("-none-any.whl")), None)


def _requires(md: CoreMetadata | None, machine: str, python: tuple[int, int]) -> list[Requirement]:
    env = {"platform_system": "Linux", "sys_platform": "linux", "platform_machine": machine, "os_name": "posix"}
    env |= {"python_version": f"{python[0]}.{python[1]}", "python_full_version": f"{python[0]}.{python[1]}.0"}
    env |= {"implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
    out = []
    for text in md.requires_dist if md else ():
        try:
            req = Requirement(text)
            if req.marker is None or Marker(str(req.marker)).evaluate(env):
                out.append(req)
        except (InvalidRequirement, InvalidMarker):
            continue
    return out


def _cuda_of(reqs: list[Requirement]) -> str | None:
    for req in reqs:
        if _CUDA_PIN.fullmatch(req.name.lower()):
            pins = [s.version for s in req.specifier if s.operator == "=="]
            if pins:
                return ".".join(pins[0].split(".")[:2])
    return None


def _spec(text: str | None) -> SpecifierSet | None:
    try:
        return SpecifierSet(text) if text is not None else None
    except InvalidSpecifier:
        return None


class _Verifier:
    """One run: the pages, a metadata cache, and the discrepancies found."""

    def __init__(self, matrix: Matrix, client: IndexReader) -> None:
        self.matrix = matrix
        self.client = client
        self.found: list[Discrepancy] = []
        self.pages = {name: _releases(client.project(name)) for name in ("torch", "torchvision", "torchaudio")}
        self._torch_pins: dict[tuple[str, Version], SpecifierSet | None] = {}

    def add(self, subject: str, field: str, matrix: str | None, index: str | None, message: str, **kw: str) -> None:
        self.found.append(Discrepancy(subject=subject, field=field, matrix=matrix, index=index, message=message, **kw))

    def torch_pin(self, name: str, release: _Release) -> SpecifierSet | None:
        """The ``torch`` requirement a companion release declares (None: none)."""
        key = (name, release.version)
        if key not in self._torch_pins:
            link = _wheel_for(release, "x86_64")
            md = self.client.metadata(link) if link else None
            reqs = [r for r in _requires(md, "x86_64", (3, 12)) if r.name.lower() == "torch"]
            self._torch_pins[key] = reqs[0].specifier if reqs else None
        return self._torch_pins[key]

    def companion_for(self, name: str, torch: _Release) -> _Release | None:
        """The companion release whose torch requirement accepts ``torch``, closest in upload date."""
        fits = [
            r for r in self.pages[name].values() if (p := self.torch_pin(name, r)) is None or p.contains(torch.version)
        ]
        pinned = [r for r in fits if self.torch_pin(name, r) is not None] or fits
        if not pinned:
            return None
        day = torch.uploaded or ""
        return min(pinned, key=lambda r: (abs(_days(r.uploaded) - _days(day)), -r.version.micro, r.version))

    def suggestion(self, torch: _Release) -> str:
        x86 = _wheel_for(torch, "x86_64")
        reqs = _requires(self.client.metadata(x86) if x86 else None, "x86_64", (3, 12))
        triton = next((str(r.specifier) for r in reqs if r.name.lower() in _TRITON), None)
        vision, audio = self.companion_for("torchvision", torch), self.companion_for("torchaudio", torch)

        def q(value: object) -> str:
            return "null" if value is None else f'"{value}"'

        vreq = self.torch_pin("torchvision", vision) if vision else None
        areq = self.torch_pin("torchaudio", audio) if audio else None
        return (
            f"- {{torch: {q(torch.version)}, torchvision: {q(vision.version if vision else None)}, "
            f"vision_requires: {q(vreq)}, torchaudio: {q(audio.version if audio else None)}, "
            f"audio_requires: {q(areq)}, triton: {q(triton)}, cuda: {q(_cuda_of(reqs))}, "
            f"uploaded: {q(torch.uploaded)}}}"
        )


def _days(date: str | None) -> int:
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", date or "")
    if match is None:
        return 0
    return int(match[1]) * 372 + int(match[2]) * 31 + int(match[3])


def _check_release(v: _Verifier, line: TorchLine, row: TorchRelease, release: _Release) -> None:
    subject = f"torch {row.torch}"
    python = (3, int(line.python_min.split(".")[1]))
    x86 = _wheel_for(release, "x86_64")
    reqs = _requires(v.client.metadata(x86) if x86 else None, "x86_64", python)
    cuda = _cuda_of(reqs)
    if cuda is not None and cuda != row.cuda:
        v.add(subject, "cuda", row.cuda, cuda, f"the matrix says CUDA {row.cuda}, the x86_64 wheel pins CUDA {cuda}")
    triton = next((r.specifier for r in reqs if r.name.lower() in _TRITON), None)
    if x86 is not None and triton != _spec(row.triton):
        v.add(
            subject,
            "triton",
            row.triton,
            str(triton) if triton else None,
            f"triton {row.triton} in the matrix, {triton or 'none'} on the index",
        )
    arm = next((link for link in release.wheels if _cpython(link, "aarch64")), None)
    if arm is not None:
        arm_cuda = _cuda_of(_requires(v.client.metadata(arm), "aarch64", python))
        if arm_cuda != line.default_cuda_aarch64:
            v.add(
                subject,
                "cuda_aarch64",
                line.default_cuda_aarch64,
                arm_cuda,
                f"the aarch64 wheel is {'CUDA ' + arm_cuda if arm_cuda else 'CPU-only'}, the matrix says "
                f"{'CUDA ' + line.default_cuda_aarch64 if line.default_cuda_aarch64 else 'CPU-only'}",
            )
    for link in release.wheels:
        requires = _spec(link.requires_python)
        if requires is not None and not requires.contains(f"{line.python_min}.0"):
            v.add(
                subject,
                "python",
                line.python_min,
                link.requires_python,
                f"Requires-Python {link.requires_python} refuses Python {line.python_min}, the line's minimum",
            )
            break


def _check_line(v: _Verifier, line: TorchLine, present: list[_Release]) -> None:
    pythons = sorted({py for r in present for link in r.wheels for py in _cpython(link, "x86_64")})
    if pythons:
        lo, hi = f"{pythons[0][0]}.{pythons[0][1]}", f"{pythons[-1][0]}.{pythons[-1][1]}"
        if (lo, hi) != (line.python_min, line.python_max):
            v.add(
                f"torch {line.torch}",
                "python",
                f"{line.python_min}-{line.python_max}",
                f"{lo}-{hi}",
                f"the Linux x86_64 wheels are for CPython {lo}-{hi}, the matrix says "
                f"{line.python_min}-{line.python_max}",
            )
    newest = present[-1] if present else None
    tags = set().union(*(_platforms(link, "x86_64") for link in newest.wheels)) if newest else set()
    if tags and line.wheel_platform not in tags:
        v.add(
            f"torch {line.torch}",
            "wheel_platform",
            line.wheel_platform,
            ", ".join(sorted(tags)),
            f"torch {newest.version if newest else ''} is tagged {', '.join(sorted(tags))}, the matrix says "
            f"{line.wheel_platform}",
        )


def _check_companions(v: _Verifier) -> None:
    for name in ("torchvision", "torchaudio"):
        rows: dict[Version, tuple[str | None, str]] = {}
        for line in v.matrix.torch_lines:
            for row in line.releases:
                version = Version(row.torchvision if name == "torchvision" else row.torchaudio)
                requires = row.vision_requires if name == "torchvision" else row.audio_requires
                rows.setdefault(version, (requires, row.torch))
        oldest = min(rows) if rows else None
        field = "vision_requires" if name == "torchvision" else "audio_requires"
        for version, release in sorted(v.pages[name].items()):
            if oldest is None or version < oldest:
                continue
            pin = v.torch_pin(name, release)
            if version in rows:
                want = rows[version][0]
                if _spec(want) != pin:
                    v.add(
                        f"{name} {version}",
                        field,
                        want,
                        str(pin) if pin else None,
                        f"requires torch{pin or ' (nothing)'} on the index, torch{want or ' (nothing)'} in the matrix",
                    )
                continue
            exact = [s.version for s in pin or () if s.operator == "=="]
            pair = v.matrix.release_for(exact[0]) if exact else None
            if pair is not None:
                paired = pair.torchvision if name == "torchvision" else pair.torchaudio
                v.add(
                    f"{name} {version}",
                    name,
                    paired,
                    str(version),
                    f"pins torch=={exact[0]}, which the matrix pairs with {name} {paired}",
                )


def verify_matrix(matrix: Matrix, client: IndexReader, *, lines: Collection[str] | None = None) -> list[Discrepancy]:
    """Every :class:`Discrepancy` between ``matrix`` and the index ``client`` reads (see the module docstring).

    ``lines`` limits the per-release checks to those torch lines (``{"2.14", "2.15"}``) to save requests; the
    release lists are always compared in full.
    """
    v = _Verifier(matrix, client)
    torch = v.pages["torch"]
    if not torch:
        v.add("torch", "release", None, None, "the index has no torch releases at all")
        return v.found
    first = matrix.torch_lines[0].version
    listed = {Version(r.torch): (line, r) for line in matrix.torch_lines for r in line.releases}
    for version, release in sorted(torch.items()):
        if version < first or version in listed:
            continue
        line = matrix.line_for(str(version))
        if line is None and version > matrix.newest.version:
            v.add(
                f"torch {version}",
                "line",
                matrix.newest.torch,
                f"{version.major}.{version.minor}",
                f"the index has torch {version}, a line newer than the matrix's newest ({matrix.newest.torch}); add "
                "a line entry (companions, python, variants with their sources) and this release row",
                suggestion=v.suggestion(release),
            )
        else:
            v.add(
                f"torch {version}",
                "release",
                None,
                str(version),
                f"torch {version} is on the index but not in the matrix's {line.torch if line else '?'} line",
                suggestion=v.suggestion(release),
            )
    for version in sorted(listed):
        if version not in torch:
            v.add(
                f"torch {version}", "release", str(version), None, "listed in the matrix, not on the index (or yanked)"
            )
    for line in matrix.torch_lines:
        if lines is not None and line.torch not in lines:
            continue
        present = [torch[Version(r.torch)] for r in line.releases if Version(r.torch) in torch]
        for row in line.releases:
            if Version(row.torch) in torch:
                _check_release(v, line, row, torch[Version(row.torch)])
        _check_line(v, line, present)
    _check_companions(v)
    return v.found
