"""What a Dockerfile stage's base image means for the CUDA checks: :class:`~resolver.cuda.target.ImageFacts`.

PURE. The tag is read by :func:`resolver.docker.image.recognise`; what the tag implies comes from the matrix:

- ``nvidia/cuda:<X.Y.Z>-<flavor>-<os>``: the CUDA toolkit X.Y; no Python (``ships_python`` False); nvcc only
  in ``-devel``; CUDA libraries beyond libcudart in every flavor but ``-base``; ``NVIDIA_REQUIRE_CUDA=cuda>=X.Y``
  set by the image itself (so derived from the tag, since the ENV lives in the base image, not this file);
  glibc from the os part (``ubuntu22.04`` -> 2.35 -> ``manylinux_2_35_<machine>``);
- ``pytorch/pytorch:<torch>-cuda<X.Y>-cudnn<N>-<flavor>``: torch and its CUDA; its Python is only known to
  lie in what that torch line supports (``python_range``);
- ``nvcr.io/nvidia/pytorch:<yy.mm>-py3``: torch, CUDA, Python and Ubuntu from the matrix's NGC table;
- ``python:<X.Y>[-variant]``: that Python; glibc of the Debian release (``-slim`` follows Debian stable);
- anything else: glibc when the name says the distribution (``ubuntu:22.04``, ``rockylinux:9``).

``ENV NVIDIA_REQUIRE_CUDA`` / ``NVIDIA_DISABLE_REQUIRE`` in the Dockerfile override the image's. The machine
is read from ``FROM --platform`` (``linux/arm64`` -> aarch64); without one, x86_64 (the usual build host).
When the image has no Python, a RUN that installs ``python3`` (apt-get, dnf...) gives the distribution's
Python (:func:`resolver.cuda.environment.distro_pythons`), ``python3.11`` or ``uv python install 3.11`` that version.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from resolver.cuda.environment import distro_pythons
from resolver.cuda.schema import CudaVersion, VariantError
from resolver.cuda.target import ImageFacts
from resolver.docker.image import CudaImage, NgcPytorchImage, PythonImage, PytorchImage, image_ships_python
from resolver.docker.shell import split_commands

if TYPE_CHECKING:
    from resolver.cuda.matrix import Matrix
    from resolver.docker.model import Dockerfile, Stage

__all__ = ["image_facts", "installed_python", "machine_of"]

_ARCH = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64", "arm64/v8": "aarch64"}
_APT = frozenset({"apt-get", "apt", "aptitude", "yum", "dnf", "microdnf", "tdnf", "zypper", "apk"})
_PY3 = re.compile(r"python3(?:\.(\d+))?(?:-[a-z0-9.+-]+)?(?:[=:].*)?")
_UV_PY = re.compile(r"(?:cpython-)?3\.(\d+)(?:\.\d+)?")
_CONDA_PY = re.compile(r"python[=]{1,2}3\.(\d+).*")


def machine_of(platform: str | None) -> str:
    """``linux/arm64`` -> ``aarch64``; x86_64 for ``linux/amd64``, no platform, or one not known."""
    if not platform:
        return "x86_64"
    arch = platform.strip().lower().split("/", 1)[-1]
    return _ARCH.get(arch, _ARCH.get(arch.split("/", 1)[0], "x86_64"))


def _cuda(text: str | None) -> CudaVersion | None:
    if not text:
        return None
    try:
        return CudaVersion.parse(text)
    except VariantError:
        return None


def _require_cuda(value: str) -> CudaVersion | None:
    match = re.search(r"cuda>=(\d+\.\d+)", value)
    return _cuda(match[1]) if match else None


def _env_line(df: Dockerfile, stage: Stage, name: str) -> int | None:
    """The line of the last ENV in ``stage``'s chain that sets ``name``."""
    found: int | None = None
    for st in reversed(df.chain(stage)):
        for ins in st.instructions:
            if ins.keyword == "ENV" and re.search(rf"(?:^|\s){name}[=\s]", ins.args):
                found = ins.line
    return found


def installed_python(
    df: Dockerfile, stage: Stage, distro: str | None, matrix: Matrix
) -> tuple[tuple[int, int], str] | None:
    """The Python a RUN of ``stage``'s chain installs, and where: ``((3, 10), "python3 from ubuntu22.04 ...")``."""
    defaults = distro_pythons(matrix)
    found: tuple[tuple[int, int], str] | None = None
    for st in reversed(df.chain(stage)):
        for ins, env in df.scoped(st):
            if ins.keyword != "RUN" or ins.exec_form is not None:
                continue
            for words in split_commands(ins.args, env=env, strict=False):
                values = [w.expanded for w in words]
                base = values[0].rsplit("/", 1)[-1] if values else ""
                where = f"{df.path}:{ins.line}"
                if base in _APT and "install" in values:
                    for value in values:
                        m = _PY3.fullmatch(value)
                        if m and m[1]:
                            found = ((3, int(m[1])), f"python3.{m[1]} installed at {where}")
                        elif m and distro in defaults:
                            py = defaults[distro]
                            found = ((3, int(py.split(".")[1])), f"python3 of {distro} ({py}) installed at {where}")
                elif base == "uv" and values[1:3] == ["python", "install"]:
                    m = next((_UV_PY.fullmatch(v) for v in values[3:] if _UV_PY.fullmatch(v)), None)
                    if m:
                        found = ((3, int(m[1])), f"Python 3.{m[1]} installed by uv at {where}")
                elif base in ("conda", "mamba", "micromamba"):
                    m = next((_CONDA_PY.fullmatch(v) for v in values if _CONDA_PY.fullmatch(v)), None)
                    if m:
                        found = ((3, int(m[1])), f"Python 3.{m[1]} installed by {base} at {where}")
    return found


def _py(text: str | None) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(match[1]), int(match[2])) if match else None


def image_facts(df: Dockerfile, stage: Stage, *, matrix: Matrix) -> ImageFacts:
    """The facts of ``stage``'s base image (followed through ``FROM <stage>`` to the real image)."""
    root = df.root_stage(stage)
    image = root.image
    platform = stage.platform or root.platform
    ref = str(root.base)
    described = f"the base image {ref} at {df.path}:{root.line}"
    facts = ImageFacts(
        ref=ref,
        kind=image.kind,
        path=df.path,
        line=root.line,
        ships_python=image_ships_python(image),
        machine=machine_of(platform),
        platform=platform,
    )
    if isinstance(image, CudaImage):
        cuda, flavor = _cuda(image.cuda), image.flavor or ""
        facts = replace(
            facts,
            cuda=cuda,
            cuda_text=image.cuda,
            flavor=image.flavor,
            distro=image.os,
            has_toolkit=flavor.endswith("devel"),
            bundles_cuda_libs=bool(flavor) and not flavor.endswith("base"),
            require_cuda=cuda,
            require_cuda_from=f"NVIDIA_REQUIRE_CUDA, set by the {ref} image" if cuda else None,
        )
    elif isinstance(image, PytorchImage):
        line = matrix.line_for(image.torch) if image.torch else None
        lo, hi = (_py(line.python_min), _py(line.python_max)) if line else (None, None)
        facts = replace(
            facts,
            cuda=_cuda(image.cuda),
            cuda_text=image.cuda,
            flavor=image.flavor,
            torch=image.torch,
            has_toolkit=image.flavor == "devel",
            bundles_cuda_libs=True,
            python_range=(lo, hi) if lo and hi else None,
        )
    elif isinstance(image, NgcPytorchImage):
        ngc = matrix.ngc(image.tag) if image.tag else None
        facts = replace(facts, has_toolkit=True, bundles_cuda_libs=True)
        if ngc is not None:
            facts = replace(
                facts,
                cuda=_cuda(ngc.cuda),
                cuda_text=ngc.cuda,
                torch=ngc.torch,
                distro=f"ubuntu{ngc.ubuntu}",
                python=_py(ngc.python),
                python_source=f"{described}, NGC {ngc.tag}",
            )
    elif isinstance(image, PythonImage):
        facts = replace(facts, python=_py(image.python), python_source=described)
    glibc = matrix.glibc_for(facts.distro or f"{root.base.name}:{root.base.tag or ''}")
    if glibc is not None:
        facts = replace(
            facts, distro=glibc.distro, glibc=glibc.glibc, platform_tag=f"{glibc.manylinux}_{facts.machine}"
        )
    if facts.python is None and facts.ships_python is not True:
        found = installed_python(df, stage, facts.distro, matrix)
        if found is not None:
            facts = replace(facts, python=found[0], python_source=found[1])
    require = df.env_value(stage, "NVIDIA_REQUIRE_CUDA")
    if require is not None:
        where = f"ENV NVIDIA_REQUIRE_CUDA at {df.path}:{_env_line(df, stage, 'NVIDIA_REQUIRE_CUDA')}"
        facts = replace(facts, require_cuda=_require_cuda(require), require_cuda_from=where)
    disabled = (df.env_value(stage, "NVIDIA_DISABLE_REQUIRE") or "").strip().lower() not in ("", "0", "false")
    return replace(facts, require_disabled=disabled)
