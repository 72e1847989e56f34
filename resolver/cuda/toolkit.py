"""Which packages compile CUDA code when pip builds them from an sdist, and what that means on an image
without nvcc: the ``needs-cuda-toolkit`` finding. PURE.

pip builds a package from its sdist when no wheel fits the target (a ``no-wheel`` warning). For the packages
below, that build compiles CUDA kernels with ``nvcc`` (through ``torch.utils.cpp_extension``), which only a
CUDA toolkit provides: an ``nvidia/cuda`` ``-devel`` image or an NGC image has it; ``-base`` and ``-runtime``
images, python images and PyTorch ``-runtime`` images do not. Some (flash-attn) first try to download a
prebuilt wheel that matches torch, CUDA and Python, and compile only when none does, so the finding is a
warning that says so, not an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolver.core.model import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable

    from resolver.cuda.target import ImageFacts

__all__ = ["NVCC_BUILDS", "toolkit_findings"]

#: Packages whose sdist build compiles CUDA code with nvcc (their setup.py builds CUDAExtension modules).
NVCC_BUILDS = frozenset(
    {
        "flash-attn",
        "xformers",
        "apex",
        "mamba-ssm",
        "causal-conv1d",
        "auto-gptq",
        "exllamav2",
        "torch-scatter",
        "torch-sparse",
        "torch-cluster",
        "torch-spline-conv",
        "flashinfer-python",
    }
)
#: Of those, the ones whose setup.py first looks for a prebuilt wheel to download.
_PREBUILT_FIRST = frozenset({"flash-attn", "mamba-ssm", "causal-conv1d"})


def toolkit_findings(findings: Iterable[Finding], image: ImageFacts | None) -> list[Finding]:
    """``needs-cuda-toolkit`` for each sdist build (a ``no-wheel`` warning) of a package in
    :data:`NVCC_BUILDS` when the target image has no CUDA toolkit."""
    if image is None or image.has_toolkit:
        return []
    out = []
    for f in findings:
        if f.code != "no-wheel" or f.severity is not Severity.WARNING or f.package not in NVCC_BUILDS:
            continue
        first = (
            "; its setup.py first tries to download a prebuilt wheel for this torch, CUDA and Python, and compiles "
            "only when none matches"
            if f.package in _PREBUILT_FIRST
            else ""
        )
        out.append(
            Finding(
                code="needs-cuda-toolkit",
                severity=Severity.WARNING,
                path=f.path,
                line=f.line,
                package=f.package,
                message=f"pip builds {f.package} from its sdist here, which compiles CUDA code with nvcc, but "
                f'{image.described} has no CUDA toolkit: the build fails ("nvcc not found" or CUDA_HOME '
                f"unset){first}",
                fix="build it in a -devel stage (nvidia/cuda:<version>-devel-...) and COPY the wheel into this image, "
                "or install a prebuilt wheel that matches torch, CUDA and Python",
            )
        )
    return out
