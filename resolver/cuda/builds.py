"""Which torch build pip would install, and how to name a better one. PURE; shared by the CUDA checks.

The model (the data is the matrix's, :mod:`resolver.cuda.matrix`):

- every torch wheel for Linux carries its own CUDA runtime, inside the wheel (1.12) or as the ``nvidia-*`` /
  ``cuda-toolkit`` wheels it requires (1.13 on), so the CUDA that runs is the build's, whatever the image
  has. The image's toolkit matters only to what is compiled in it, and through ``NVIDIA_REQUIRE_CUDA`` to
  the driver the container demands;
- without a PyTorch wheel index, pip installs the main index's wheel: ``default_cuda`` of the line on
  x86_64, ``default_cuda_aarch64`` on aarch64 (``None`` there: a CPU-only wheel);
- an index whose path ends in ``whl/<variant>`` (``/whl/cu121``, ``/whl/cpu``, ``/whl/rocm6.2``,
  ``/whl/nightly/cu128``), or a local version label ``+cu121``, selects that variant. A local version sorts
  above the bare one, so pip prefers it from an ``--extra-index-url`` too. The matrix's variant lists are
  facts about the x86_64 builds: on aarch64 a requested variant is taken on trust;
- pip takes the newest line a range allows (:func:`newest_line`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolver.core.kinds import is_dockerfile
from resolver.cuda.schema import CudaVersion, Variant, VariantError, parse_variant

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from resolver.core.model import Direct
    from resolver.cuda.matrix import Matrix
    from resolver.cuda.schema import TorchLine

__all__ = [
    "INDEX_PLACEHOLDER",
    "Build",
    "VariantRequest",
    "arch_names",
    "builds_of",
    "builds_text",
    "bundled_text",
    "family_ranges",
    "has_text",
    "how_text",
    "index_for",
    "line_range",
    "matching_build",
    "newest_line",
    "newest_release",
    "request_for",
    "requirement_texts",
    "select_build",
    "variant_of_url",
    "variant_requests",
]

#: How a fix names the PyTorch wheel index when the caller configured no base URL.
INDEX_PLACEHOLDER = "<PyTorch wheel index>"
_WHL = re.compile(r"(?:^|/)whl/(?:nightly/|test/)?(cu\d{2,4}|cpu|rocm\d+(?:\.\d+)*)/?$", re.IGNORECASE)
#: a find-links page of one variant's builds: ``.../whl/cu111/torch_stable.html``
_WHL_LINKS = re.compile(r"(?:^|/)whl/(?:nightly/|test/)?(cu\d{2,4}|cpu|rocm\d+(?:\.\d+)*)/torch_stable\.html$", re.I)
_SM_NAMES = {
    "sm_35": "Kepler",
    "sm_37": "Kepler",
    "sm_50": "Maxwell",
    "sm_60": "Pascal",
    "sm_61": "Pascal",
    "sm_70": "Volta",
    "sm_75": "Turing",
    "sm_80": "Ampere",
    "sm_86": "Ampere",
    "sm_89": "Ada",
    "sm_90": "Hopper",
    "sm_90a": "Hopper",
    "sm_100": "Blackwell",
    "sm_120": "Blackwell",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Build:
    """One torch build of a line: ``variant`` ``cu126``/``cpu``/``rocm6.3``; ``main_index`` for pip's default."""

    line: TorchLine
    variant: str
    cuda: CudaVersion | None
    main_index: bool

    @property
    def label(self) -> str:
        """``CUDA 12.6 (main index)``, ``cu128 (PyTorch wheel index)``, ``CPU-only (main index)``."""
        kind = f"CUDA {self.cuda}" if self.cuda else ("CPU-only" if self.variant == "cpu" else self.variant)
        if self.main_index:
            return f"{kind} (main index)"
        return f"{self.variant} (PyTorch wheel index)"


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantRequest:
    """A variant that something asked for: an index path or a local version label, with its place."""

    variant: Variant
    origin: str
    path: str | None = None
    line: int | None = None

    @property
    def where(self) -> str:
        if self.path is None:
            return self.origin
        at = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{self.origin} ({at})"


def variant_of_url(url: str | None) -> str | None:
    """The variant a PyTorch wheel index URL serves, by its path: ``.../whl/cu128``, ``.../whl/nightly/cu128``
    and ``.../whl/test/cu128`` -> ``cu128`` (any case, trailing slash, query or credentials aside); ``None``
    for other shapes (a find-links page such as ``.../whl/cu113/torch_stable.html`` included) and for a
    variant name that is not one (``cu1``)."""
    return _variant_in(_WHL, url)


def variant_of_links(url: str | None) -> str | None:
    """The variant a find-links page of one variant's builds lists (``.../whl/cu111/torch_stable.html`` ->
    ``cu111``): pip merges its files with the index's, and a local label (``1.10.0+cu111``) sorts above the
    unlabelled release, so ``torch==1.10`` takes that build. ``None`` for other pages (the all-variant
    ``.../whl/torch_stable.html`` names no one build)."""
    return _variant_in(_WHL_LINKS, url)


def _variant_in(pattern: re.Pattern[str], url: str | None) -> str | None:
    """The variant ``pattern`` finds in ``url``'s path, when it names one."""
    match = pattern.search(urlsplit(url.strip()).path) if url else None
    if match is None:
        return None
    try:
        return parse_variant(match[1]).name
    except VariantError:
        return None


def builds_of(line: TorchLine, *, machine: str = "x86_64") -> tuple[Build, ...]:
    """The main index's build, then the PyTorch wheel index's CUDA variants (x86_64 facts), oldest first."""
    default = line.default_cuda if machine == "x86_64" else line.default_cuda_aarch64
    cuda = CudaVersion.parse(default) if default else None
    out = [Build(line=line, variant=cuda.tag if cuda else "cpu", cuda=cuda, main_index=True)]
    if machine == "x86_64":
        for name in line.cuda_variants or ():
            out.append(Build(line=line, variant=name, cuda=CudaVersion.parse(name), main_index=False))
    return tuple(out)


def select_build(line: TorchLine, request: VariantRequest | None, *, machine: str = "x86_64") -> Build | None:
    """The build pip installs for ``line``: the main index's, or the requested variant (``None``: the line
    has no such build). A variant the matrix cannot confirm (unknown lists, aarch64) is taken on trust."""
    if request is None:
        return builds_of(line, machine=machine)[0]
    variant = request.variant
    if variant.kind == "cpu":
        return Build(line=line, variant="cpu", cuda=None, main_index=False)
    known = line.cuda_variants if variant.kind == "cuda" else line.rocm_variants
    trusted = known is None or machine != "x86_64"
    if not trusted and variant.name not in (known or ()):
        return None
    return Build(line=line, variant=variant.name, cuda=variant.cuda, main_index=False)


def matching_build(line: TorchLine, cuda: CudaVersion, machine: str, *, main_only: bool) -> Build | None:
    """The build of ``line`` to suggest for ``cuda``: the main index's if its CUDA major matches, else
    (unless ``main_only``) the newest variant of that major not newer than ``cuda``, else the oldest one."""
    builds = [b for b in builds_of(line, machine=machine) if b.cuda is not None and b.cuda.major == cuda.major]
    if builds and builds[0].main_index:
        return builds[0]
    if main_only or not builds:
        return None
    fitting = [b for b in builds if b.cuda is not None and b.cuda.minor <= cuda.minor]
    return fitting[-1] if fitting else builds[0]


def newest_line(matrix: Matrix, spec: SpecifierSet) -> TorchLine | None:
    """The line pip would take its torch from: the newest the range allows (``None``: none known)."""
    lines = matrix.lines_in(spec)
    return lines[-1] if lines else None


def newest_release(line: TorchLine, spec: SpecifierSet) -> str:
    """The newest listed release of ``line`` that ``spec`` allows, else the line (``2.0.1`` or ``2.0``)."""
    allowed = [r.torch for r in line.releases if spec.contains(r.torch, prereleases=True)]
    return max(allowed, key=Version) if allowed else line.torch


def _first(versions: Iterable[str]) -> str:
    return min(versions, key=Version)


def _next_minor(version: str) -> str:
    v = Version(version)
    return f"{v.major}.{v.minor + 1}.0"


def line_range(line: TorchLine, package: str = "torch") -> str:
    """``>=2.1.0,<2.2.0``: a companion's or torch's range on ``line``, from its first listed release."""
    if package == "torch":
        first = _first(r.torch for r in line.releases)
    elif package == "torchvision":
        first = _first(r.torchvision for r in line.releases)
    else:
        first = _first(r.torchaudio for r in line.releases)
    return f">={first},<{_next_minor(first)}"


def family_ranges(line: TorchLine) -> tuple[tuple[str, str], ...]:
    """``(("torch", ">=2.1.0,<2.2.0"), ("torchvision", ...), ("torchaudio", ...))`` for one line."""
    return tuple((name, line_range(line, name)) for name in ("torch", "torchvision", "torchaudio"))


def requirement_texts(pairs: Iterable[tuple[str, str]], *, path: str | None) -> str:
    """``torch>=2.1.0,<2.2.0 torchvision...``; each one double-quoted when the fix goes into a Dockerfile."""
    quote = '"' if is_dockerfile(path) else ""
    return " ".join(f"{quote}{name}{spec}{quote}" for name, spec in pairs)


#: What may follow the base of a PyTorch wheel index URL a user gives: ``/whl``, ``/whl/cu128``,
#: ``/whl/nightly/cu128``; the base is what is left (``.../whl/cu128`` was printed as ``.../whl/cu128/whl/cu128``).
_WHL_TAIL = re.compile(r"(?:/whl(?:/(?:nightly|test))?(?:/(?:cu\d{2,4}|cpu|rocm[\d.]+))?)?/*$", re.IGNORECASE)


def index_base(torch_index: str) -> str:
    """The base URL of a PyTorch wheel index given as the base, ``<base>/whl`` or ``<base>/whl/cu128``."""
    return _WHL_TAIL.sub("", torch_index.strip())


def index_for(matrix: Matrix, variant: str, torch_index: str | None) -> str:
    """``<PyTorch wheel index>/whl/cu128``, or under the base URL the user configured (any of its forms)."""
    base = index_base(torch_index) if torch_index else INDEX_PLACEHOLDER
    return f"{base}/{matrix.index_path(variant)}"


def arch_names(targets: Iterable[str]) -> str:
    """``sm_90 (Hopper), sm_100 and sm_120 (Blackwell)``: SASS targets with their architecture names."""
    groups: dict[str, list[str]] = {}
    for sm in targets:
        groups.setdefault(_SM_NAMES.get(sm, ""), []).append(sm)
    parts = []
    for name, sms in groups.items():
        listed = sms[0] if len(sms) == 1 else ", ".join(sms[:-1]) + " and " + sms[-1]
        parts.append(f"{listed} ({name})" if name else listed)
    return ", ".join(parts)


def variant_requests(
    index_urls: Sequence[tuple[str, str | None, int | None]],
    local_variants: Sequence[tuple[str, str, str, int]],
) -> tuple[VariantRequest, ...]:
    """The variants asked for: ``whl/<variant>`` index paths (and find-links pages of one variant, which
    ``index_urls`` may hold too), then ``+<variant>`` local version labels."""
    out: list[VariantRequest] = []
    for url, path, line in index_urls:
        name = variant_of_url(url)
        if name is not None:
            out.append(VariantRequest(variant=parse_variant(name), origin=f"the index {url}", path=path, line=line))
        elif (links := variant_of_links(url)) is not None:
            origin = f"the find-links page {url}"
            out.append(VariantRequest(variant=parse_variant(links), origin=origin, path=path, line=line))
    for package, label, path, line in local_variants:
        try:
            variant = parse_variant(label)
        except VariantError:
            continue
        out.append(VariantRequest(variant=variant, origin=f"{package} +{label}", path=path, line=line))
    return tuple(out)


def request_for(torch: Direct, requests: Sequence[VariantRequest]) -> VariantRequest | None:
    """The request that decides this torch's build: its own ``+variant`` label, then any torch label, then an
    index path."""
    mine = [r for r in requests if r.origin.startswith("torch +")]
    here = [r for r in mine if r.path == torch.path and r.line == torch.line]
    indexes = [r for r in requests if r.origin.startswith(("the index ", "the find-links page "))]
    found = here or mine or indexes
    return found[0] if found else None


def builds_text(line: TorchLine, machine: str) -> str:
    """``CUDA 11.7 on the main index, cu117 and cu118 on the PyTorch wheel index``."""
    main, *variants = builds_of(line, machine=machine)
    text = f"{main.label.removesuffix(' (main index)')} on the main index"
    if variants:
        names = [b.variant for b in variants]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        text += f", {listed} on the PyTorch wheel index"
    elif line.cuda_variants is None:
        text += "; its PyTorch wheel index variants are not known"
    return text


def bundled_text(build: Build) -> str:
    """Where the build's CUDA runtime comes from."""
    if build.line.version < Version("1.13"):
        return "inside the torch wheel"
    return "the nvidia-* CUDA wheels it requires"


def has_text(build: Build) -> str:
    """``torch 2.1's wheel on the main index is CUDA 12.1`` / ``torch 2.7 has a cu128 build``."""
    if build.main_index:
        kind = f"CUDA {build.cuda}" if build.cuda else "CPU-only"
        return f"torch {build.line.torch}'s wheel on the main index is {kind}"
    return f"torch {build.line.torch} has a {build.variant} build"


def how_text(build: Build, request: VariantRequest | None) -> str:
    """``from the main index`` or ``from the index .../whl/cu118 (Dockerfile:3)``."""
    return "from the main index" if build.main_index or request is None else f"from {request.where}"
