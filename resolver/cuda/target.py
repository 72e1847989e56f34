"""The CUDA target of a check: which CUDA, driver, Python and base image the requirements must work with.

PURE: option values and facts in, a :class:`CudaTarget` out. Hardware detection (the one piece of I/O) is in
:mod:`resolver.cuda.hardware`, which returns the :class:`DriverInfo` / :class:`NoGpu` values defined here so that
this module, the checks and the writers never import it.

Where each fact comes from, strongest first (``CudaTarget.sources`` records the winner for messages):

- CUDA: ``--cuda 12.8`` (or ``cu128``), ``--cuda cpu``; else the base image (an ``nvidia/cuda`` tag, the CUDA
  of a ``pytorch/pytorch`` tag, the NGC table of the matrix). ``--cuda auto`` names no CUDA: it targets the
  local driver, and the driver decides which CUDA builds run (see :mod:`resolver.cuda.check`).
- driver: ``--driver 535.104``; else the detected one (``--cuda auto``).
- Python: ``--python 3.12``; else the base image (``python:3.12-slim``, the NGC table, or the distribution's
  Python once a RUN installs ``python3``).
- machine: the image's ``--platform`` (``linux/arm64`` is aarch64), else x86_64.

The image facts (:class:`ImageFacts`) are read from a Dockerfile by :mod:`resolver.docker.check`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from resolver.cuda.schema import CudaVersion, VariantError
from resolver.errors import InputError

__all__ = [
    "CudaTarget",
    "DriverInfo",
    "GpuInfo",
    "ImageFacts",
    "NoGpu",
    "parse_driver",
    "parse_python",
    "target_from_options",
]

_DRIVER = re.compile(r"\d+(?:\.\d+){0,2}")
_PYTHON = re.compile(r"(\d+)\.(\d+)(?:\.\d+)?")
_CUDA_HINT = "give a CUDA version (12.8, 12.8.1 or cu128), cpu, or auto (the local driver)"


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuInfo:
    """One GPU as ``nvidia-smi`` names it; ``compute_cap`` is ``8.0`` style, ``None`` when not reported."""

    name: str
    compute_cap: str | None = None

    @property
    def sm(self) -> str | None:
        """The SASS target name of the GPU: ``8.0`` -> ``sm_80``."""
        if self.compute_cap is None or not re.fullmatch(r"\d+\.\d+", self.compute_cap):
            return None
        major, minor = self.compute_cap.split(".")
        return f"sm_{major}{minor}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverInfo:
    """The local NVIDIA driver: its version (``535.104.05``), the GPUs, and how it was found."""

    driver: str
    gpus: tuple[GpuInfo, ...] = ()
    source: str = "nvidia-smi"


@dataclass(frozen=True, slots=True, kw_only=True)
class NoGpu:
    """No usable NVIDIA driver here: ``reason`` says what was tried, for the message."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageFacts:
    """What a base image says about the stack inside it, read from its tag and the matrix.

    ``kind`` is ``cuda`` (nvidia/cuda), ``pytorch`` (pytorch/pytorch), ``ngc-pytorch`` (nvcr.io/nvidia/pytorch),
    ``python`` or ``other``. ``cuda`` is the image's CUDA toolkit (for pytorch/pytorch, the CUDA of the torch
    inside); ``cuda_text`` keeps the precision the tag or table gives (``12.8.0``). ``has_toolkit``: nvcc is
    there (``-devel``, NGC); ``bundles_cuda_libs``: CUDA libraries beyond ``libcudart`` (``-runtime``,
    ``-devel``, ``cudnn``, NGC). ``python`` is one version when it is known; ``python_range`` the span it must
    lie in when only that is known (pytorch/pytorch: what its torch line supports). ``require_cuda`` is the
    ``cuda>=X.Y`` clause of ``NVIDIA_REQUIRE_CUDA`` (set by the nvidia/cuda images themselves, or by an ENV of
    the Dockerfile), which the NVIDIA container runtime checks against the host driver at start-up unless
    ``NVIDIA_DISABLE_REQUIRE`` is set (``require_disabled``). ``path``/``line`` locate the FROM.
    """

    ref: str
    kind: str
    path: str | None = None
    line: int | None = None
    cuda: CudaVersion | None = None
    cuda_text: str | None = None
    flavor: str | None = None
    distro: str | None = None
    python: tuple[int, int] | None = None
    python_range: tuple[tuple[int, int], tuple[int, int]] | None = None
    python_source: str | None = None
    torch: str | None = None
    ships_python: bool | None = None
    machine: str = "x86_64"
    platform: str | None = None
    glibc: str | None = None
    platform_tag: str | None = None
    require_cuda: CudaVersion | None = None
    require_cuda_from: str | None = None
    require_disabled: bool = False
    has_toolkit: bool = False
    bundles_cuda_libs: bool = False

    @property
    def where(self) -> str:
        """``Dockerfile:7`` (or the reference alone when the place is unknown), for messages."""
        if self.path is None:
            return self.ref
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    @property
    def described(self) -> str:
        """``the base image nvidia/cuda:12.8.0-base-ubuntu22.04 at Dockerfile:7``."""
        return f"the base image {self.ref}" + (f" at {self.where}" if self.path is not None else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaTarget:
    """The environment the CUDA checks judge the requirements against; ``None`` means "not known".

    ``cpu``: the target has no GPU on purpose (``--cuda cpu``). ``no_gpu``: ``--cuda auto`` found no driver,
    and why. ``sources`` holds ``(fact, where it came from)`` pairs for ``cuda``, ``driver``, ``python``,
    ``machine``.
    """

    cuda: CudaVersion | None = None
    cpu: bool = False
    driver: str | None = None
    python: tuple[int, int] | None = None
    image: ImageFacts | None = None
    sources: tuple[tuple[str, str], ...] = ()
    machine: str = "x86_64"
    gpus: tuple[GpuInfo, ...] = ()
    no_gpu: str | None = None

    def source_of(self, fact: str) -> str:
        """Where ``fact`` came from, for messages (``"--cuda 12.8"``); ``"?"`` when nothing set it."""
        return dict(self.sources).get(fact, "?")

    @property
    def python_text(self) -> str | None:
        return None if self.python is None else f"{self.python[0]}.{self.python[1]}"


def parse_python(text: str, *, where: str = "--python") -> tuple[int, int]:
    """``3.12``, ``3.12.1`` or ``312`` -> ``(3, 12)``; an :class:`InputError` otherwise."""
    value = text.strip()
    if re.fullmatch(r"3\d{1,2}", value):
        return (3, int(value[1:]))
    match = _PYTHON.fullmatch(value)
    if match is None or match[1] != "3":
        raise InputError(f"{text!r} is not a Python 3 version", path=where, hint="give a version such as 3.12")
    return (3, int(match[2]))


def parse_driver(text: str, *, where: str = "--driver") -> str:
    """A driver version as NVIDIA writes it (``535``, ``535.104``, ``535.104.05``); InputError otherwise."""
    value = text.strip()
    if not _DRIVER.fullmatch(value):
        raise InputError(
            f"{text!r} is not an NVIDIA driver version", path=where, hint="give it as nvidia-smi shows it: 535.104.05"
        )
    return value


def _parse_cuda(text: str) -> CudaVersion:
    try:
        return CudaVersion.parse(text.strip().lower())
    except VariantError:
        raise InputError(f"{text!r} is not a CUDA target", path="--cuda", hint=_CUDA_HINT) from None


def target_from_options(
    *,
    cuda: str | None,
    driver: str | None,
    python: str | None,
    detected: DriverInfo | NoGpu | None = None,
    image: ImageFacts | None = None,
    machine: str | None = None,
) -> CudaTarget:
    """The target for ``--cuda``/``--driver``/``--python``, the detected driver and a base image's facts.

    Options win over the image (see the module docstring). ``--cuda auto`` uses ``detected`` (pass what
    :func:`resolver.cuda.hardware.detect_driver` returned; ``None`` counts as "no GPU found"). Raises
    :class:`InputError` for a ``--cuda``, ``--driver`` or ``--python`` value it cannot read.
    """
    sources: list[tuple[str, str]] = []
    cuda_version: CudaVersion | None = None
    cpu = False
    no_gpu: str | None = None
    gpus: tuple[GpuInfo, ...] = ()
    driver_value = parse_driver(driver) if driver is not None else None
    if driver_value is not None:
        sources.append(("driver", f"--driver {driver_value}"))
    choice = cuda.strip().lower() if cuda is not None else None
    if choice == "cpu":
        cpu = True
        sources.append(("cuda", "--cuda cpu"))
    elif choice == "auto":
        if isinstance(detected, DriverInfo):
            gpus = detected.gpus
            if driver_value is None:
                driver_value = detected.driver
                sources.append(("driver", f"the local driver ({detected.source})"))
        else:
            no_gpu = detected.reason if isinstance(detected, NoGpu) else "no NVIDIA driver was detected"
    elif choice is not None:
        cuda_version = _parse_cuda(choice)
        sources.append(("cuda", f"--cuda {cuda.strip() if cuda else choice}"))
    if cuda_version is None and not cpu and image is not None and image.cuda is not None:
        cuda_version = image.cuda
        sources.append(("cuda", image.described))
    python_value = parse_python(python) if python is not None else None
    if python_value is not None:
        sources.append(("python", f"--python {python.strip() if python else ''}"))
    elif image is not None and image.python is not None:
        python_value = image.python
        sources.append(("python", image.python_source or image.described))
    arch = machine or (image.machine if image is not None else "x86_64")
    sources.append(("machine", f"the image's --platform {image.platform}" if image and image.platform else arch))
    return CudaTarget(
        cuda=cuda_version,
        cpu=cpu,
        driver=driver_value,
        python=python_value,
        image=image,
        sources=tuple(sources),
        machine=arch,
        gpus=gpus,
        no_gpu=no_gpu,
    )
