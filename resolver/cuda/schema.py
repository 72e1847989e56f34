"""The torch table of the CUDA <-> PyTorch matrix: its value types and the validation that builds them.

PURE: :func:`parse_torch_lines` takes the ``torch`` list of the document ``yaml.safe_load`` returned and
gives :class:`TorchLine` values, or raises :class:`MatrixError` naming the entry
(``torch[2.7].cuda_variants[2]: ...``). Keys are checked one by one and an unknown key is an error too, so a
typo cannot silently drop a fact. Beyond types and formats it checks what keeps the table coherent: lines
sorted and unique; every release inside its line and paired with companions of the line's companion minor; the
torch requirement a companion declares accepts the torch it is paired with; every release's CUDA equal to the
line's default CUDA; triton pins inside the line's triton minor; every field cited. The driver, NGC and glibc
tables are read in :mod:`resolver.cuda.matrix`; :func:`check_coverage` ties them to this one.

Variants are ``cuXYZ`` (CUDA X.Y: the first two digits are the major, the rest the minor, so cu118 is 11.8 and
cu1210 would be 12.10), ``rocmX[.Y[.Z]]`` and ``cpu``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, NoReturn

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from resolver.errors import RelaxPinsError

if TYPE_CHECKING:
    from collections.abc import Iterable


_CUDA_VARIANT = re.compile(r"cu(9|\d{2})(\d+)")  # cu92 is CUDA 9.2, cu102 is 10.2, cu130 is 13.0
_ROCM_VARIANT = re.compile(r"rocm(\d+(?:\.\d+)*)")
_CUDA_TEXT = re.compile(r"(\d+)\.(\d+)(?:\.\d+)*")
_LINE = re.compile(r"\d+\.\d+")
_PYTHON = re.compile(r"3\.\d+")
_PLATFORM = re.compile(r"manylinux1|manylinux2010|manylinux2014|manylinux_\d+_\d+")
_SM = re.compile(r"sm_\d+a?")
_LINE_KEYS = (
    *("line", "torchvision", "torchaudio", "triton", "python", "wheel_platform", "default_cuda"),
    *("default_cuda_aarch64", "cuda_variants", "rocm_variants", "releases", "verified", "source"),
)
_RELEASE_KEYS: tuple[str, ...] = ("torch", "torchvision", "vision_requires", "torchaudio", "audio_requires")
_RELEASE_KEYS += ("triton", "cuda", "uploaded")
_LINE_FIELDS = ("releases", "python", "wheel_platform", "default_cuda", "default_cuda_aarch64")
_CITED = ("releases", "python", "wheel_platform", "default_cuda", "cuda_variants", "rocm_variants", "arch")


class MatrixError(RelaxPinsError, ValueError):
    """The matrix document is broken; ``entry`` names the place (``torch[2.7].releases[2.7.1].cuda``)."""

    exit_code = 2

    def __init__(self, message: str, *, entry: str | None = None, source: str = "<builtin>") -> None:
        super().__init__(message)
        self.message = message
        self.entry = entry
        self.source = source

    def __str__(self) -> str:
        where = f"{self.source}: {self.entry}" if self.entry else self.source
        return f"{where}: {self.message}"


class VariantError(RelaxPinsError, ValueError):
    """A build variant (``cu128``, ``rocm6.2``, ``cpu``) or CUDA version that does not parse."""


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class CudaVersion:
    """A CUDA major.minor: ``CudaVersion.parse("12.8.1")``, ``CudaVersion.parse("cu128")``."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str | CudaVersion) -> CudaVersion:
        if isinstance(text, CudaVersion):
            return text
        variant = _CUDA_VARIANT.fullmatch(text.strip())
        if variant:
            return cls(major=int(variant[1]), minor=int(variant[2]))
        match = _CUDA_TEXT.fullmatch(text.strip())
        if not match:
            raise VariantError(f"not a CUDA version: {text!r} (expected 12.8, 12.8.1 or cu128)")
        return cls(major=int(match[1]), minor=int(match[2]))

    @property
    def tag(self) -> str:
        """The variant name on the PyTorch wheel index: ``cu128``."""
        return f"cu{self.major}{self.minor}"

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """A build variant of the PyTorch wheel index: ``kind`` is cuda, rocm or cpu."""

    name: str
    kind: Literal["cuda", "rocm", "cpu"]
    cuda: CudaVersion | None = None
    rocm: tuple[int, ...] = ()


def parse_variant(text: str) -> Variant:
    """``cu128`` -> CUDA 12.8, ``rocm6.2.4`` -> ROCm (6, 2, 4), ``cpu``; anything else is a VariantError."""
    name = text.strip().lower()
    if name == "cpu":
        return Variant(name="cpu", kind="cpu")
    if _CUDA_VARIANT.fullmatch(name):
        return Variant(name=name, kind="cuda", cuda=CudaVersion.parse(name))
    rocm = _ROCM_VARIANT.fullmatch(name)
    if rocm:
        return Variant(name=name, kind="rocm", rocm=tuple(int(p) for p in rocm[1].split(".")))
    raise VariantError(f"not a build variant: {text!r} (expected cuXYZ, rocmX.Y or cpu)")


@dataclass(frozen=True, slots=True, kw_only=True)
class TorchRelease:
    """One torch release on the main index with the companions released the same day.

    ``vision_requires``/``audio_requires`` are the torch requirement that companion declares (None: it
    declares none); ``cuda`` is the CUDA of the default Linux x86_64 wheel; ``triton`` is torch's triton
    requirement.
    """

    torch: str
    torchvision: str
    vision_requires: str | None
    torchaudio: str
    audio_requires: str | None
    triton: str | None
    cuda: str | None
    uploaded: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TorchLine:
    """One torch minor line (``torch="2.7"``); ``None`` variants mean unknown, not absent."""

    torch: str
    torchvision: str
    torchaudio: str
    triton: str | None
    python_min: str
    python_max: str
    python_free_threaded: tuple[str, ...]
    wheel_platform: str
    default_cuda: str | None
    default_cuda_aarch64: str | None
    cuda_variants: tuple[str, ...] | None
    rocm_variants: tuple[str, ...] | None
    arch: tuple[tuple[str, tuple[str, ...]], ...]
    releases: tuple[TorchRelease, ...]
    verified: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]  # (field, citation)
    notes: tuple[str, ...]

    @property
    def version(self) -> Version:
        return Version(self.torch)

    @property
    def source(self) -> str:
        """Every citation of the entry, as one line."""
        return "; ".join(f"{field}: {text}" for field, text in self.sources)

    def source_of(self, field: str) -> str | None:
        return dict(self.sources).get(field)

    def is_verified(self, field: str) -> bool:
        """Whether ``field`` was checked against the live main index (see the document's ``checked``)."""
        return field in self.verified

    @property
    def glibc_min(self) -> str:
        """The glibc the Linux x86_64 wheel tag claims to need (manylinux1: 2.5, manylinux_2_28: 2.28)."""
        legacy = {"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}
        if self.wheel_platform in legacy:
            return legacy[self.wheel_platform]
        _, major, minor = self.wheel_platform.rsplit("_", 2)
        return f"{major}.{minor}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverFamily:
    """Minor-version compatibility: any CUDA ``major``.x runs (limited) on a driver >= ``min_driver``."""

    major: int
    min_driver: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolkitDriver:
    """The Linux driver a CUDA toolkit's GA release needs for its full feature set."""

    cuda: CudaVersion
    min_driver: str
    verified: bool
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NgcImage:
    """``nvcr.io/nvidia/pytorch:<tag>-py3``: NVIDIA's torch build (often an ``a0`` pre-release), its base."""

    tag: str
    torch: str
    cuda: str
    python: str
    ubuntu: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Distro:
    name: str
    aliases: tuple[str, ...]
    glibc: str
    source: str


class Node:
    """A value of the YAML document with its path, so that every error names the entry it is about.

    Shared with :mod:`resolver.cuda.matrix`, which reads the driver, NGC and glibc tables with it.
    """

    __slots__ = ("path", "source", "value")

    def __init__(self, value: object, path: str, source: str) -> None:
        self.value = value
        self.path = path
        self.source = source

    def fail(self, message: str) -> NoReturn:
        raise MatrixError(message, entry=self.path or None, source=self.source)

    def at(self, key: str | int, value: object = None, *, label: str | None = None) -> Node:
        if isinstance(key, int):
            return Node(value, f"{self.path}[{key if label is None else label}]", self.source)
        return Node(value, f"{self.path}.{key}" if self.path else key, self.source)

    def fields(self, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Node]:
        if not isinstance(self.value, dict):
            self.fail(f"expected a mapping, got {type(self.value).__name__}")
        allowed = {*required, *optional}
        for key in self.value:
            if key not in allowed:
                self.fail(f"unknown key {key!r} (expected one of {', '.join(sorted(allowed))})")
        for key in required:
            if key not in self.value:
                self.fail(f"missing required key {key!r}")
        return {str(key): self.at(str(key), value) for key, value in self.value.items()}

    def items(self, label: str | None = None) -> list[Node]:
        if not isinstance(self.value, list):
            self.fail(f"expected a list, got {type(self.value).__name__}")
        named = [v.get(label) if label and isinstance(v, dict) else None for v in self.value]
        return [
            self.at(i, v, label=n if isinstance(n, str) else None)
            for i, (v, n) in enumerate(zip(self.value, named, strict=True))
        ]

    def text(self, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            self.fail(f"expected a non-empty string, got {self.value!r}")
        if pattern is not None and not pattern.fullmatch(self.value):
            self.fail(f"{self.value!r} does not match {pattern.pattern}")
        return self.value

    def optional(self, pattern: re.Pattern[str] | None = None) -> str | None:
        return None if self.value is None else self.text(pattern)

    def texts(self, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
        return tuple(item.text(pattern) for item in self.items())

    def version(self) -> Version:
        try:
            return Version(self.text())
        except InvalidVersion:
            self.fail(f"{self.value!r} is not a PEP 440 version")

    def specifier(self) -> SpecifierSet | None:
        if self.value is None:
            return None
        try:
            return SpecifierSet(self.text())
        except InvalidSpecifier:
            self.fail(f"{self.value!r} is not a PEP 440 specifier")

    def cuda(self) -> CudaVersion | None:
        if self.value is None:
            return None
        try:
            return CudaVersion.parse(self.text())
        except VariantError as exc:
            self.fail(str(exc))


def _minor(version: Version) -> tuple[int, int]:
    return (version.major, version.minor)


def _variants(node: Node, kind: str) -> tuple[str, ...] | None:
    if node.value is None:
        return None
    names: list[str] = []
    keys: list[tuple[int, ...]] = []
    for item in node.items():
        try:
            variant = parse_variant(item.text())
        except VariantError as exc:
            item.fail(str(exc))
        if variant.kind != kind:
            item.fail(f"{item.value!r} is not a {kind} variant")
        key = (variant.cuda.major, variant.cuda.minor) if variant.cuda else variant.rocm
        if keys and key <= keys[-1]:
            item.fail(f"{item.value!r} is out of order or repeated (variants are listed oldest first)")
        keys.append(key)
        names.append(variant.name)
    return tuple(names)


def _release(node: Node, line: TorchLine) -> TorchRelease:
    f = node.fields(_RELEASE_KEYS)
    torch = f["torch"].version()
    if _minor(torch) != _minor(line.version) or torch.local or torch.is_prerelease:
        f["torch"].fail(f"{torch} is not a final release of the {line.torch} line")
    for name, companion in (("torchvision", line.torchvision), ("torchaudio", line.torchaudio)):
        if _minor(f[name].version()) != _minor(Version(companion)):
            f[name].fail(f"{f[name].value} is not in the line's {name} {companion}")
    for name in ("vision_requires", "audio_requires"):
        spec = f[name].specifier()
        if spec is not None and not spec.contains(torch, prereleases=True):
            f[name].fail(f"{spec} does not accept torch {torch}, the release it is paired with")
    triton = f["triton"].specifier()
    if (triton is None) != (line.triton is None):
        f["triton"].fail(f"triton {f['triton'].value} does not agree with the line's triton {line.triton}")
    if triton is not None and line.triton is not None:
        for pin in triton:
            if _minor(Version(pin.version)) != _minor(Version(line.triton)):
                f["triton"].fail(f"{triton} is outside the line's triton {line.triton}")
    cuda = f["cuda"].cuda()
    if (str(cuda) if cuda else None) != line.default_cuda:
        f["cuda"].fail(f"CUDA {cuda} differs from the line's default_cuda {line.default_cuda}")
    return TorchRelease(
        torch=str(torch),
        torchvision=f["torchvision"].text(),
        vision_requires=f["vision_requires"].optional(),
        torchaudio=f["torchaudio"].text(),
        audio_requires=f["audio_requires"].optional(),
        triton=f["triton"].optional(),
        cuda=str(cuda) if cuda else None,
        uploaded=f["uploaded"].text(re.compile(r"\d{4}-\d{2}-\d{2}")),
    )


def _torch_line(node: Node) -> TorchLine:
    f = node.fields(_LINE_KEYS, ("arch", "notes"))
    py = f["python"].fields(("min", "max", "free_threaded"))
    lo, hi = py["min"].text(_PYTHON), py["max"].text(_PYTHON)
    if Version(lo) > Version(hi):
        py["min"].fail(f"python min {lo} is above max {hi}")
    free_threaded = py["free_threaded"].texts(_PYTHON)
    cuda_variants = _variants(f["cuda_variants"], "cuda")
    arch: list[tuple[str, tuple[str, ...]]] = []
    if "arch" in f:
        for name, targets in f["arch"].fields((), cuda_variants or ()).items():
            arch.append((name, targets.texts(_SM)))
    verified = f["verified"].texts()
    for item, name in zip(f["verified"].items(), verified, strict=True):
        if name not in _LINE_FIELDS:
            item.fail(f"unknown field {name!r} (expected one of {', '.join(_LINE_FIELDS)})")
    cited = [field for field in _CITED if field != "arch" or arch]
    sources = f["source"].fields(cited)
    default_cuda = f["default_cuda"].cuda()
    default_aarch64 = f["default_cuda_aarch64"].cuda()
    line = TorchLine(
        torch=f["line"].text(_LINE),
        torchvision=f["torchvision"].text(_LINE),
        torchaudio=f["torchaudio"].text(_LINE),
        triton=f["triton"].optional(_LINE),
        python_min=lo,
        python_max=hi,
        python_free_threaded=free_threaded,
        wheel_platform=f["wheel_platform"].text(_PLATFORM),
        default_cuda=str(default_cuda) if default_cuda else None,
        default_cuda_aarch64=str(default_aarch64) if default_aarch64 else None,
        cuda_variants=cuda_variants,
        rocm_variants=_variants(f["rocm_variants"], "rocm"),
        arch=tuple(arch),
        releases=(),
        verified=verified,
        sources=tuple((k, v.text()) for k, v in sources.items()),
        notes=f["notes"].texts() if "notes" in f else (),
    )
    releases = tuple(_release(item, line) for item in f["releases"].items("torch"))
    if not releases:
        f["releases"].fail("a line lists at least one release")
    for item, before, after in zip(f["releases"].items("torch")[1:], releases, releases[1:], strict=False):
        if Version(after.torch) <= Version(before.torch):
            item.fail(f"{after.torch} is out of order or repeated (releases are listed oldest first)")
    return replace(line, releases=releases)


def parse_torch_lines(node: Node) -> tuple[TorchLine, ...]:
    """The ``torch`` list of the document, validated; lines must be listed oldest first."""
    items = node.items("line")
    lines = tuple(_torch_line(item) for item in items)
    if not lines:
        node.fail("the matrix lists at least one torch line")
    for item, before, after in zip(items[1:], lines, lines[1:], strict=False):
        if after.version <= before.version:
            item.fail(f"line {after.torch} is out of order or repeated (lines are listed oldest first)")
    return lines


def check_coverage(
    root: Node,
    lines: tuple[TorchLine, ...],
    toolkits: tuple[ToolkitDriver, ...],
    families: tuple[DriverFamily, ...],
    images: tuple[NgcImage, ...],
) -> None:
    """Every CUDA version the matrix uses has a driver row, and every toolkit from CUDA 11 on a family."""
    known = {t.cuda for t in toolkits}
    for line in lines:
        for name in filter(None, (line.default_cuda, line.default_cuda_aarch64, *(line.cuda_variants or ()))):
            if CudaVersion.parse(name) not in known:
                root.at("torch").at(0, label=line.torch).fail(
                    f"CUDA {CudaVersion.parse(name)} has no cuda_drivers.toolkits row"
                )
    for image in images:
        if CudaVersion.parse(image.cuda) not in known:
            root.at("ngc").at(0, label=image.tag).fail(f"CUDA {image.cuda} has no cuda_drivers.toolkits row")
    majors = {f.major for f in families}
    for toolkit in toolkits:
        if toolkit.cuda.major >= 11 and toolkit.cuda.major not in majors:
            entry = root.at("cuda_drivers.toolkits").at(0, label=str(toolkit.cuda))
            entry.fail(f"CUDA {toolkit.cuda.major}.x has no cuda_drivers.families row")
