"""The CUDA <-> PyTorch compatibility matrix: load it once, ask it questions.

PURE apart from reading the shipped data file: no network, and no hardware detection (that lives elsewhere).
The data is ``data/cuda_torch_matrix.yaml``, every row citing its source. The value types and the torch
table's validation are in :mod:`resolver.cuda.schema`; the driver, NGC and glibc tables are read here.

API::

    load_matrix(text=None, *, source="<builtin>") -> Matrix   # None: the shipped file, loaded once (cached)
    parse_variant("cu128") -> Variant(kind="cuda", cuda=CudaVersion(12, 8)); "rocm6.2" and "cpu" too
    m.torch_lines                       every torch minor line, oldest first (TorchLine); m.newest
    m.line_for("2.7.1+cu126")           the 2.7 line, or None; m.release_for("2.7.1") the TorchRelease
    m.lines_in(">=2.0,<2.1")            the lines a range can select (SpecifierSet or str)
    m.companions("2.7.1")               Companions(torchvision="==0.22.1", torchaudio="==2.7.1", exact=True);
                                        for a TorchLine or an unlisted patch, the line's ranges (exact=False)
    m.variants_for(line, "12.4")        the line's cuXYZ builds of the target's major with minor <= 4
    m.index_path("cu128")               "whl/cu128", relative to the PyTorch wheel index base the caller has
    m.min_driver("12.8")                DriverRequirement(min_driver="570.26", minor_compat_min="525.60.13")
    m.driver_support("535.104", "12.8") DriverSupport.MINOR_COMPAT; m.driver_supports(...) -> bool
    m.arch_for("cu128", torch="2.7")    ("sm_75", ..., "sm_120") where known, else ()
    m.ngc("24.05")                      NgcImage(torch="2.4.0a0+07cecf4168", cuda="12.4.1", ...) or None
    m.glibc_for("ubuntu22.04")          DistroGlibc(glibc="2.35", manylinux="manylinux_2_35") or None; also
                                        "ubuntu:22.04", "jammy", "python:3.12-slim", "rockylinux:9", "ubi9"

The driver rule (NVIDIA "CUDA Compatibility"): a driver at least the toolkit's GA driver runs it fully
(``FULL``). From CUDA 11 on, a driver of at least the family minimum (11.x: 450.80.02, 12.x: 525.60.13, 13.x:
580) runs any toolkit of that major with a limited feature set (``MINOR_COMPAT``): JIT compilation of PTX made
by a newer toolkit fails (CUDA_ERROR_UNSUPPORTED_PTX_VERSION), which matters for PyTorch builds that ship new
architectures as PTX only, and so do APIs newer than the driver. Newer drivers always run older toolkits.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from resolver.cuda.schema import (
    CudaVersion,
    Distro,
    DriverFamily,
    MatrixError,
    NgcImage,
    Node,
    ToolkitDriver,
    TorchLine,
    TorchRelease,
    Variant,
    VariantError,
    check_coverage,
    parse_torch_lines,
    parse_variant,
)
from resolver.yamlio import safe_load, shipped_file

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "MATRIX_FILE",
    "Companions",
    "CudaVersion",
    "Distro",
    "DistroGlibc",
    "DriverFamily",
    "DriverRequirement",
    "DriverSupport",
    "Matrix",
    "MatrixError",
    "NgcImage",
    "ToolkitDriver",
    "TorchLine",
    "TorchRelease",
    "Variant",
    "VariantError",
    "builtin_path",
    "load_matrix",
    "parse_variant",
]

MATRIX_FILE = "cuda_torch_matrix.yaml"
_DRIVER = re.compile(r"\d+(?:\.\d+){0,2}")
_TAG = re.compile(r"\d{2}\.\d{2}")  # NGC tags and Ubuntu releases: yy.mm
_PROBE_PATCHES = 100  # lines_in tries X.Y.0 ... X.Y.99 besides the listed releases and the range's own bounds


@dataclass(frozen=True, slots=True, kw_only=True)
class DistroGlibc:
    """What a base image's C library accepts: wheels tagged ``manylinux`` or any older manylinux tag."""

    distro: str
    glibc: str
    manylinux: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverRequirement:
    """``min_driver``: full feature set (None if the toolkit is not in the table); ``minor_compat_min``: the
    family floor under minor-version compatibility (None before CUDA 11)."""

    cuda: CudaVersion
    min_driver: str | None
    minor_compat_min: str | None
    verified: bool
    source: str


class DriverSupport(enum.Enum):
    FULL = "full"
    MINOR_COMPAT = "minor-compat"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Companions:
    """torchvision/torchaudio specifiers that go with a torch; ``exact`` when the release pair is listed."""

    torch: str
    torchvision: str
    torchaudio: str
    exact: bool


def _driver_key(text: str) -> tuple[int, ...]:
    if not _DRIVER.fullmatch(text.strip()):
        raise ValueError(f"not an NVIDIA driver version: {text!r} (expected e.g. 535.104.05)")
    return tuple(int(part) for part in text.strip().split("."))


def _range(versions: Iterable[str]) -> str:
    low = min(Version(v) for v in versions)
    shown = f"{low.major}.{low.minor}" if low.micro == 0 else str(low)
    return f">={shown},<{low.major}.{low.minor + 1}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Matrix:
    """The validated matrix. Build it with :func:`load_matrix`; all lookups are pure."""

    checked: str
    torch_lines: tuple[TorchLine, ...]
    families: tuple[DriverFamily, ...]
    toolkits: tuple[ToolkitDriver, ...]
    ngc_images: tuple[NgcImage, ...]
    distros: tuple[Distro, ...]
    python_image_codename: str
    python_image_source: str
    wheel_index_path: str
    wheel_index_source: str

    @property
    def newest(self) -> TorchLine:
        return self.torch_lines[-1]

    def line_for(self, torch_version: str) -> TorchLine | None:
        """The minor line of a version (``2.7.1``, ``2.7.1+cu126``, ``2.8.0a0+5228986c39``), or None."""
        try:
            version = Version(torch_version)
        except InvalidVersion:
            return None
        return next((line for line in self.torch_lines if line.version.release[:2] == version.release[:2]), None)

    def lines_in(self, spec: SpecifierSet | str) -> tuple[TorchLine, ...]:
        """The lines from which some release could satisfy ``spec``, listed releases or not.

        Each line is probed with its listed releases, X.Y.0 to X.Y.99, and the versions the specifiers name
        (local labels and pre-release parts kept), so ``==2.7.1+cu126`` and ``>=2.0.0,<2.1.0`` both work.
        """
        spec = SpecifierSet(spec) if isinstance(spec, str) else spec
        named = [Version(item.version.removesuffix(".*")) for item in spec if item.operator != "==="]
        out = []
        for line in self.torch_lines:
            major, minor = line.version.major, line.version.minor
            probes = [Version(r.torch) for r in line.releases]
            probes += [Version(f"{major}.{minor}.{patch}") for patch in range(_PROBE_PATCHES)]
            for v in named:
                if v.release[:2] == (major, minor):
                    probes += [v, Version(f"{major}.{minor}.{v.micro + 1}")]
            if any(spec.contains(v, prereleases=True) for v in probes):
                out.append(line)
        return tuple(out)

    def release_for(self, torch_version: str) -> TorchRelease | None:
        line = self.line_for(torch_version)
        if line is None:
            return None
        public = Version(Version(torch_version).public)
        return next((r for r in line.releases if Version(r.torch) == public), None)

    def companions(self, torch: str | TorchLine) -> Companions | None:
        """torchvision/torchaudio specifiers for a torch version (the exact pair when listed) or a line."""
        line = torch if isinstance(torch, TorchLine) else self.line_for(torch)
        release = None if isinstance(torch, TorchLine) else self.release_for(torch)
        if line is None:
            return None
        if release is not None:
            return Companions(
                torch=release.torch,
                torchvision=f"=={release.torchvision}",
                torchaudio=f"=={release.torchaudio}",
                exact=True,
            )
        return Companions(
            torch=line.torch,
            torchvision=_range(r.torchvision for r in line.releases),
            torchaudio=_range(r.torchaudio for r in line.releases),
            exact=False,
        )

    def variants_for(self, line: TorchLine | str, cuda: CudaVersion | str) -> tuple[str, ...]:
        """The line's CUDA variants of the target's major with a minor at most the target's, oldest first.

        A variant with a newer minor may still run under minor-version compatibility; ask
        :meth:`driver_support` about the driver. Unknown variants (None) give ().
        """
        found = self.line_for(line) if isinstance(line, str) else line
        target = CudaVersion.parse(cuda)
        out = []
        for name in (found.cuda_variants or ()) if found is not None else ():
            have = CudaVersion.parse(name)
            if have.major == target.major and have.minor <= target.minor:
                out.append(name)
        return tuple(out)

    def index_path(self, variant: str) -> str:
        """Where the PyTorch wheel index serves ``variant``, relative to its base URL: ``whl/cu128``."""
        return self.wheel_index_path.format(variant=parse_variant(variant).name)

    def min_driver(self, cuda: CudaVersion | str) -> DriverRequirement | None:
        version = CudaVersion.parse(cuda)
        row = next((t for t in self.toolkits if t.cuda == version), None)
        family = next((f for f in self.families if f.major == version.major), None)
        if row is None and family is None:
            return None
        return DriverRequirement(
            cuda=version,
            min_driver=row.min_driver if row else None,
            minor_compat_min=family.min_driver if family else None,
            verified=row.verified if row else False,
            source="; ".join(x.source for x in (row, family) if x is not None),
        )

    def driver_support(self, driver: str, cuda: CudaVersion | str) -> DriverSupport:
        """How a host driver runs a CUDA toolkit's binaries (see the module docstring for the rule)."""
        have = _driver_key(driver)
        need = self.min_driver(cuda)
        if need is None:
            return DriverSupport.UNKNOWN
        if need.min_driver is not None and have >= _driver_key(need.min_driver):
            return DriverSupport.FULL
        if need.minor_compat_min is not None and have >= _driver_key(need.minor_compat_min):
            return DriverSupport.MINOR_COMPAT
        return DriverSupport.UNSUPPORTED

    def driver_supports(self, driver: str, cuda: CudaVersion | str) -> bool:
        return self.driver_support(driver, cuda) in {DriverSupport.FULL, DriverSupport.MINOR_COMPAT}

    def arch_for(self, variant: str, *, torch: str | None = None) -> tuple[str, ...]:
        """SASS targets of a CUDA variant: of the given torch line, else of the newest line listing them."""
        name = parse_variant(variant).name
        lines = [self.line_for(torch)] if torch is not None else list(reversed(self.torch_lines))
        for line in lines:
            targets = dict(line.arch).get(name) if line else None
            if targets:
                return targets
        return ()

    def ngc(self, tag: str) -> NgcImage | None:
        """An NGC PyTorch image by tag: ``24.05``, ``24.05-py3`` or ``nvcr.io/nvidia/pytorch:24.05-py3``."""
        short = tag.strip().rsplit(":", 1)[-1].split("-", 1)[0]
        return next((image for image in self.ngc_images if image.tag == short), None)

    def glibc_for(self, distro: str) -> DistroGlibc | None:
        """The glibc of a distribution or base image name; None when unknown (or musl, as in alpine)."""
        for name in _distro_keys(distro.strip().lower(), self.python_image_codename):
            for row in self.distros:
                if name == row.name or name in row.aliases:
                    major, minor = row.glibc.split(".")
                    return DistroGlibc(
                        distro=row.name,
                        glibc=row.glibc,
                        manylinux=f"manylinux_{major}_{minor}",
                        source=row.source,
                    )
        return None


def _distro_keys(text: str, python_default: str) -> list[str]:
    """Names to look up for ``ubuntu:22.04``, ``debian:bookworm-slim``, ``python:3.12-slim``, ``ubi9``..."""
    name, _, tag = text.partition(":")
    base = name.rsplit("/", 1)[-1]
    parts = [p for p in tag.split("-") if p]
    if base == "python":
        if "alpine" in parts or "windowsservercore" in parts:
            return []
        codenames = [p for p in parts if p.isalpha() and p != "slim"]
        return codenames[-1:] or [python_default]
    keys = [text.replace(":", ""), base + (parts[0] if parts else ""), base, base.split("-")[0], *parts]
    return [k for k in keys if k]


def _records(node: Node, label: str, keys: tuple[str, ...]) -> list[dict[str, Node]]:
    return [item.fields(keys) for item in node.items(label)]


def _drivers(node: Node) -> tuple[tuple[DriverFamily, ...], tuple[ToolkitDriver, ...]]:
    f = node.fields(("families", "toolkits"))
    families: list[DriverFamily] = []
    for g in _records(f["families"], "major", ("major", "min_driver", "source")):
        major = g["major"].value
        if not isinstance(major, int) or any(x.major == major for x in families):
            g["major"].fail(f"expected a CUDA major not listed before, got {major!r}")
        driver, source = g["min_driver"].text(_DRIVER), g["source"].text()
        families.append(DriverFamily(major=major, min_driver=driver, source=source))
    toolkits: list[ToolkitDriver] = []
    for g in _records(f["toolkits"], "cuda", ("cuda", "min_driver", "verified", "source")):
        cuda, verified = g["cuda"].cuda(), g["verified"].value
        if cuda is None or (toolkits and cuda <= toolkits[-1].cuda):
            g["cuda"].fail(f"{g['cuda'].value!r} is missing, out of order or repeated (oldest first)")
        if not isinstance(verified, bool):
            g["verified"].fail(f"expected true or false, got {verified!r}")
        driver, source = g["min_driver"].text(_DRIVER), g["source"].text()
        toolkits.append(ToolkitDriver(cuda=cuda, min_driver=driver, verified=verified, source=source))
    return tuple(families), tuple(toolkits)


def _ngc(node: Node) -> tuple[NgcImage, ...]:
    images: list[NgcImage] = []
    for g in _records(node, "tag", ("tag", "torch", "cuda", "python", "ubuntu", "source")):
        tag, _, _ = g["tag"].text(_TAG), g["torch"].version(), g["cuda"].cuda()
        if images and tag <= images[-1].tag:
            g["tag"].fail(f"{tag} is out of order or repeated (tags are listed oldest first)")
        python, ubuntu = g["python"].text(re.compile(r"3\.\d+")), g["ubuntu"].text(_TAG)
        torch, cuda, source = g["torch"].text(), g["cuda"].text(), g["source"].text()
        images.append(NgcImage(tag=tag, torch=torch, cuda=cuda, python=python, ubuntu=ubuntu, source=source))
    return tuple(images)


def _glibc(node: Node) -> tuple[tuple[Distro, ...], str, str]:
    f = node.fields(("distros", "python_image_default"))
    distros: list[Distro] = []
    seen: set[str] = set()
    for g in _records(f["distros"], "name", ("name", "aliases", "glibc", "source")):
        names = (g["name"].text(), *g["aliases"].texts())
        if seen & set(names):
            g["name"].fail(f"{sorted(seen & set(names))} already name another distribution")
        seen |= set(names)
        glibc = g["glibc"].text(re.compile(r"2\.\d+"))
        distros.append(Distro(name=names[0], aliases=names[1:], glibc=glibc, source=g["source"].text()))
    default = f["python_image_default"].fields(("codename", "source"))
    if default["codename"].text() not in seen:
        default["codename"].fail(f"{default['codename'].value!r} is not a distribution under glibc.distros")
    return tuple(distros), default["codename"].text(), default["source"].text()


def _parse_matrix(document: object, source: str) -> Matrix:
    root = Node(document, "", source)
    keys = ("schema", "checked", "wheel_index", "torch", "cuda_drivers", "ngc", "glibc")
    top = root.fields(keys, ("sources",))
    if top["schema"].value != 1:
        top["schema"].fail(f"unsupported schema {top['schema'].value!r} (this relax-pins reads schema 1)")
    if "sources" in top:
        legend = top["sources"].value
        for entry in top["sources"].fields((), legend if isinstance(legend, dict) else ()).values():
            entry.text()
    index = top["wheel_index"].fields(("path", "source"))
    path = index["path"].text()
    if "{variant}" not in path or re.match(r"/|\w+://", path):
        index["path"].fail(f"{path!r} must be a relative path containing {{variant}}")
    families, toolkits = _drivers(top["cuda_drivers"])
    distros, codename, codename_source = _glibc(top["glibc"])
    matrix = Matrix(
        checked=top["checked"].text(re.compile(r"\d{4}-\d{2}-\d{2}")),
        torch_lines=parse_torch_lines(top["torch"]),
        families=families,
        toolkits=toolkits,
        ngc_images=_ngc(top["ngc"]),
        distros=distros,
        python_image_codename=codename,
        python_image_source=codename_source,
        wheel_index_path=path,
        wheel_index_source=index["source"].text(),
    )
    check_coverage(root, matrix.torch_lines, toolkits, families, matrix.ngc_images)
    return matrix


def builtin_path() -> Path:
    """The shipped data file: beside this module in a wheel, under ``data/`` at the top of a source tree."""
    found = shipped_file(MATRIX_FILE)
    if found is None:
        raise MatrixError(
            f"the built-in {MATRIX_FILE} is missing from this installation", source=str(Path(__file__).resolve())
        )
    return found


@functools.cache
def _builtin() -> Matrix:
    path = builtin_path()
    return load_matrix(path.read_text(encoding="utf-8"), source=str(path))


def load_matrix(text: str | None = None, *, source: str = "<builtin>") -> Matrix:
    """Parse and validate a matrix document; ``None`` loads the shipped one, once per process."""
    if text is None:
        return _builtin()
    try:
        document = safe_load(text)
    except yaml.YAMLError as exc:
        raise MatrixError(f"not valid YAML: {exc}", source=source) from exc
    return _parse_matrix(document, source)
