"""The checks of the environment around a torch build: Python, the driver, the base image. PURE.

Called by :func:`resolver.cuda.check.cuda_findings` once per torch requirement with the build pip would
install (:class:`~resolver.cuda.builds.Build`); see that module for the codes. Facts used:

- Python: a line's ``python`` span is where the main index has its CPython wheels; outside it pip takes an
  older line silently, or finds no torch at all.
- driver: :meth:`~resolver.cuda.matrix.Matrix.driver_support`. Below the family minimum a build cannot run
  (torch says "The NVIDIA driver on your system is too old"); between the family minimum and the toolkit's
  own driver it runs under minor-version compatibility, where PTX newer than the driver cannot be
  JIT-compiled (``CUDA_ERROR_UNSUPPORTED_PTX_VERSION``).
- ``NVIDIA_REQUIRE_CUDA=cuda>=X.Y``: the NVIDIA container runtime compares it with the highest CUDA the host
  driver supports and refuses to start the container ("unsatisfied condition: cuda>=12.8") unless
  ``NVIDIA_DISABLE_REQUIRE`` is set. The ``brand=...,driver>=...`` alternatives the nvidia/cuda images list
  for data-center forward compatibility are not modelled.
- image flavors (NVIDIA's nvidia/cuda image descriptions): ``base`` holds the bare minimum (libcudart),
  ``runtime`` adds all the shared libraries of the CUDA toolkit, ``devel`` adds the compiler toolchain,
  headers and static libraries, ``cudnn`` adds cuDNN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.version import Version

from resolver.core.model import Finding, Severity
from resolver.cuda.builds import (
    Build,
    builds_of,
    family_ranges,
    index_for,
    matching_build,
    newest_release,
    requirement_texts,
)
from resolver.cuda.matrix import DriverSupport
from resolver.cuda.schema import CudaVersion

if TYPE_CHECKING:
    from resolver.core.model import Direct
    from resolver.cuda.matrix import Matrix
    from resolver.cuda.schema import TorchLine
    from resolver.cuda.target import CudaTarget, ImageFacts

__all__ = ["distro_pythons", "driver_findings", "image_findings", "max_full_cuda", "python_findings"]


def _py(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return (int(major), int(minor))


def _py_text(py: tuple[int, int]) -> str:
    return f"{py[0]}.{py[1]}"


def distro_pythons(matrix: Matrix) -> dict[str, str]:
    """``{"ubuntu22.04": "3.10", ...}``: the Python an Ubuntu release installs as ``python3``.

    From the matrix's NGC table, whose containers use the distribution's Python (its comment and sources).
    """
    return {f"ubuntu{image.ubuntu}": image.python for image in matrix.ngc_images}


def _supports(line: TorchLine, py: tuple[int, int]) -> bool:
    return _py(line.python_min) <= py <= _py(line.python_max)


def _image_hint(matrix: Matrix, image: ImageFacts | None, line: TorchLine) -> str:
    """An image whose Python the line supports, in the family of ``image``; "" when none is obvious."""
    if image is None:
        return ""
    if image.kind == "python" and ":" in image.ref:
        tag = image.ref.rsplit(":", 1)[1]
        variant = tag.split("-", 1)[1] if "-" in tag else ""
        return f" (FROM python:{line.python_max}{'-' + variant if variant else ''})"
    if image.kind == "cuda" and image.flavor and image.cuda_text:
        for distro, python in sorted(distro_pythons(matrix).items(), reverse=True):
            if _supports(line, _py(python)):
                return f" (FROM nvidia/cuda:{image.cuda_text}-{image.flavor}-{distro}, whose python3 is {python})"
    return ""


def python_findings(torch: Direct, *, target: CudaTarget, matrix: Matrix) -> list[Finding]:
    """``python-unsupported`` for one torch requirement."""
    lines = matrix.lines_in(torch.specifier)
    if not lines:
        return []
    newest = lines[-1]
    if target.python is not None:
        py, source = target.python, target.source_of("python")
        ok = [line for line in lines if _supports(line, py)]
    elif target.image is not None and target.image.python_range is not None:
        lo, hi = target.image.python_range
        py, source = lo, f"{target.image.described}, whose Python is {_py_text(lo)}-{_py_text(hi)}"
        ok = [line for line in lines if _py(line.python_min) <= hi and lo <= _py(line.python_max)]
        if ok:
            return []
    else:
        return []
    if newest in ok:
        return []
    span = f"{min((line.python_min for line in lines), key=_py)}-{max((line.python_max for line in lines), key=_py)}"
    where = " ".join(f"{line.torch}: {line.python_min}-{line.python_max}" for line in lines[-3:])
    if ok:
        cap = lines[lines.index(ok[-1]) + 1].torch
        return [
            torch.finding(
                "python-unsupported",
                Severity.WARNING,
                f"torch {newest.torch} has no wheels for Python {_py_text(py)} ({source}; Python per torch line: "
                f"{where}): pip silently installs torch {newest_release(ok[-1], torch.specifier)} instead",
                fix=f"use Python {newest.python_min}-{newest.python_max} for torch {newest.torch}"
                f"{_image_hint(matrix, target.image, newest)}, or cap torch below {cap}",
            )
        ]
    supporting = [line for line in matrix.torch_lines if _supports(line, py)]
    fixes = [f"use Python {newest.python_min}-{newest.python_max}{_image_hint(matrix, target.image, newest)}"]
    if supporting:
        at = matrix.torch_lines.index(newest)
        near = min(supporting, key=lambda line: (abs(matrix.torch_lines.index(line) - at), -line.version.minor))
        texts = requirement_texts(family_ranges(near), path=torch.path)
        fixes.append(f"or {texts} (torch {near.torch} has wheels for Python {_py_text(py)})")
    return [
        torch.finding(
            "python-unsupported",
            Severity.ERROR,
            f"{torch.text} allows torch {', '.join(line.torch for line in lines)}, with wheels for Python {span} "
            f"only; the target Python {_py_text(py)} ({source}) has none, so pip stops with "
            "'No matching distribution found for torch'",
            fix=", ".join(fixes),
        )
    ]


def max_full_cuda(matrix: Matrix, driver: str) -> CudaVersion | None:
    """The newest CUDA toolkit of the matrix that ``driver`` runs with the full feature set."""
    full = [t.cuda for t in matrix.toolkits if matrix.driver_support(driver, t.cuda) is DriverSupport.FULL]
    return max(full, key=lambda c: (c.major, c.minor)) if full else None


def _image_driver(target: CudaTarget, matrix: Matrix, driver: str) -> list[Finding]:
    image = target.image
    if image is None or image.require_cuda is None or image.require_disabled:
        return []
    need = matrix.min_driver(image.require_cuda)
    if need is None or need.min_driver is None:
        return []
    if matrix.driver_support(driver, image.require_cuda) is DriverSupport.FULL:
        return []
    best = max_full_cuda(matrix, driver)
    runs = f"runs CUDA {best} at most" if best else "runs none of the CUDA versions the matrix lists"
    fixes = []
    if image.kind == "cuda" and best is not None and image.flavor and image.distro:
        fixes.append(
            f"build FROM nvidia/cuda:{best}.0-{image.flavor}-{image.distro} (the newest CUDA this driver runs)"
        )
    fixes.append(
        "or set ENV NVIDIA_DISABLE_REQUIRE=1 if only the pip wheels use CUDA (they bring their own runtime, which the "
        "driver must still run)"
    )
    fixes.append(f"or upgrade the driver to {need.min_driver} or newer")
    return [
        Finding(
            code="cuda-driver-too-old",
            severity=Severity.ERROR,
            path=image.path,
            line=image.line,
            message=f"{image.ref} requires cuda>={image.require_cuda} ({image.require_cuda_from}), which needs driver "
            f"{need.min_driver} or newer; the target driver {driver} ({target.source_of('driver')}) {runs}: the "
            f"NVIDIA container runtime refuses to start the container (unsatisfied condition: "
            f"cuda>={image.require_cuda}), whatever CUDA torch brings",
            fix=", ".join(fixes),
            data=(("require_cuda", str(image.require_cuda)), ("min_driver", need.min_driver)),
        )
    ]


def _best_for_driver(matrix: Matrix, line: TorchLine, driver: str, machine: str) -> Build | None:
    """The build of ``line`` this driver runs best: fully if possible (newest first), else minor-compatibly."""
    builds = [b for b in builds_of(line, machine=machine) if b.cuda is not None]
    for wanted in (DriverSupport.FULL, DriverSupport.MINOR_COMPAT):
        fitting = [b for b in builds if b.cuda is not None and matrix.driver_support(driver, b.cuda) is wanted]
        if fitting:
            main = [b for b in fitting if b.main_index]
            return main[0] if main else max(fitting, key=lambda b: (b.cuda.major, b.cuda.minor) if b.cuda else (0, 0))
    return None


def driver_findings(
    torch: Direct | None, build: Build | None, *, target: CudaTarget, matrix: Matrix, torch_index: str | None
) -> list[Finding]:
    """``cuda-driver-too-old`` for a torch build, or (``torch`` None) for the image's NVIDIA_REQUIRE_CUDA."""
    driver = target.driver
    if driver is None:
        return []
    if torch is None:
        return _image_driver(target, matrix, driver)
    if build is None or build.cuda is None:
        return []
    support = matrix.driver_support(driver, build.cuda)
    need = matrix.min_driver(build.cuda)
    if support in (DriverSupport.FULL, DriverSupport.UNKNOWN) or need is None:
        return []
    release = newest_release(build.line, torch.specifier)
    source = target.source_of("driver")
    alt = _best_for_driver(matrix, build.line, driver, target.machine)
    fixes = []
    if alt is not None and alt.variant != build.variant:
        where = "the main index" if alt.main_index else index_for(matrix, alt.variant, torch_index)
        how = (
            ""
            if matrix.driver_support(driver, alt.cuda or build.cuda) is DriverSupport.FULL
            else (" under minor-version compatibility")
        )
        fixes.append(f"install torch {build.line.torch} from {where} (CUDA {alt.cuda} runs on driver {driver}{how})")
    if need.min_driver is not None:
        fixes.append(f"{'or ' if fixes else ''}upgrade the driver to {need.min_driver} or newer")
    if support is DriverSupport.UNSUPPORTED:
        floor = need.minor_compat_min or need.min_driver
        return [
            torch.finding(
                "cuda-driver-too-old",
                Severity.ERROR,
                f"torch {release} is built for CUDA {build.cuda} ({build.label}), which needs driver {floor} or newer; "
                f"the target driver {driver} ({source}) is older, so torch.cuda.is_available() is False and CUDA "
                "calls fail with 'The NVIDIA driver on your system is too old'",
                fix=", ".join(fixes) or None,
            )
        ]
    return [
        torch.finding(
            "cuda-driver-too-old",
            Severity.WARNING,
            f"torch {release} is built for CUDA {build.cuda} ({build.label}), whose full feature set needs driver "
            f"{need.min_driver}; the target driver {driver} ({source}) runs it under minor-version compatibility "
            "only: kernels shipped as PTX cannot be JIT-compiled (CUDA_ERROR_UNSUPPORTED_PTX_VERSION), which breaks "
            "GPUs newer than the build's SASS targets, and APIs newer than the driver fail",
            fix=", ".join(fixes) or None,
        )
    ]


def image_findings(
    torch: Direct,
    build: Build,
    *,
    target: CudaTarget,
    release: str,
    built_from_source: bool,
    toolkit: bool,
) -> list[Finding]:
    """``cuda-toolkit-mismatch``, ``image-bloat`` (CUDA libraries twice) and ``image-torch-replaced``."""
    image = target.image
    if image is None:
        return []
    out: list[Finding] = []
    if toolkit and image.cuda is not None and build.cuda is not None and image.cuda.major != build.cuda.major:
        compiles = image.has_toolkit or built_from_source
        why = "a -devel image" if image.has_toolkit else "a requirement is built from source"
        other = matching_build(build.line, image.cuda, target.machine, main_only=False)
        fixes = []
        if other is not None:
            where = "the main index" if other.main_index else f"{other.variant} on the PyTorch wheel index"
            fixes.append(f"install torch {build.line.torch} built for CUDA {other.cuda} ({where})")
        if image.kind == "cuda" and image.flavor and image.distro:
            fixes.append(f"or build FROM nvidia/cuda:{build.cuda}.0-{image.flavor}-{image.distro}")
        effect = (
            f"CUDA extensions (flash-attn, apex, custom ops) compiled here use nvcc {image.cuda} and "
            f"torch.utils.cpp_extension refuses them: 'The detected CUDA version ({image.cuda}) mismatches the "
            f"version that was used to compile PyTorch ({build.cuda})'"
            if compiles
            else "the image's CUDA libraries go unused, and anything later compiled against them will not load "
            "with torch"
        )
        out.append(
            torch.finding(
                "cuda-toolkit-mismatch",
                Severity.ERROR if compiles else Severity.WARNING,
                f"{image.described} has CUDA {image.cuda_text}, but torch {release} is built for CUDA {build.cuda} "
                f"({build.label}){f' and {why}' if compiles else ''}: {effect}",
                fix=", ".join(fixes) or None,
            )
        )
    needed = image.has_toolkit and built_from_source
    if image.kind == "cuda" and image.bundles_cuda_libs and build.cuda is not None and not needed:
        cudnn = "cuDNN and " if "cudnn" in (image.flavor or "") else ""
        carried = "from the nvidia-* wheels" if build.line.version >= Version("1.13") else "inside its wheel"
        base = f"nvidia/cuda:{image.cuda_text}-base-{image.distro}" if image.distro else "an nvidia/cuda -base image"
        out.append(
            Finding(
                code="image-bloat",
                severity=Severity.INFO,
                path=image.path,
                line=image.line,
                package=torch.name,
                message=f"{image.ref} ships {cudnn}every CUDA toolkit library ({image.flavor} flavor), and torch "
                f"{release} brings its own CUDA {build.cuda} libraries {carried}: the image holds the CUDA libraries "
                "twice",
                fix=f"build FROM {base} (libcudart only), or from a python image: the NVIDIA container runtime adds "
                "the driver, and the wheels bring the rest",
            )
        )
    if image.torch is not None and not torch.specifier.contains(image.torch, prereleases=True):
        shipped = image.torch.split("+", 1)[0]
        out.append(
            torch.finding(
                "image-torch-replaced",
                Severity.WARNING,
                f"{image.described} ships torch {image.torch}, which {torch.text} excludes: pip downloads torch "
                f"{release} and installs it over the image's own build",
                fix=f"leave torch out of the requirements, or allow the image's version (torch>={shipped} admits it)",
            )
        )
    return out
