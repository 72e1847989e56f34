"""The CUDA/PyTorch/Docker checks: requirements and a :class:`~resolver.cuda.target.CudaTarget` in, findings out.

PURE. How the pieces interact, which is what the checks model (details in :mod:`resolver.cuda.builds`):
the torch build pip installs brings its own CUDA runtime, so *that* CUDA is the one that runs; the image's
CUDA toolkit matters for what is compiled in the image (``torch.utils.cpp_extension`` refuses a CUDA
major-version mismatch and only warns about a minor one) and, through ``NVIDIA_REQUIRE_CUDA``, for the driver
the container demands; the host driver must be new enough for the build's CUDA (fully, or with minor-version
compatibility inside a major: :meth:`resolver.cuda.matrix.Matrix.driver_support`).

Findings (each on the requirement's or the FROM line, each with a ``fix``):

==========================  ========  =================================================================
code                        severity  when
==========================  ========  =================================================================
``cuda-no-wheel``           error     the build pip would install for the torch range is not a CUDA
                                      build of the target's major (or the requested variant does not
                                      exist for that torch line)
``torch-family-mismatch``   error     torchvision/torchaudio that cannot go with the torch range
                                      (:mod:`resolver.cuda.family`)
``cuda-driver-too-old``     error     the driver cannot run the build's CUDA, or the image's
                                      ``NVIDIA_REQUIRE_CUDA``; a warning under minor-version compatibility
``cuda-toolkit-mismatch``   error     the image's CUDA major differs from the build's: an error for a
                                      toolkit image (``-devel``, NGC) or a source build, else a warning
``python-unsupported``      error     no torch in the range has wheels for the target Python (a warning
                                      when only the newest lines lack them: pip falls back silently)
``index-variant-mismatch``  error     a ``whl/<variant>`` index or ``+<variant>`` label against the
                                      target, or against each other
``cpu-target-cuda-wheel``   warning   ``--cuda cpu`` but pip would install a CUDA build
``image-bloat``             info      a ``-runtime``/``-devel``/``cudnn`` nvidia/cuda image whose CUDA
                                      libraries the torch build brings again
``image-torch-replaced``    warning   a pytorch/NGC image whose torch the range excludes, so pip
                                      installs another torch over it
``cuda-no-gpu``             info      ``--cuda auto`` found no driver: the driver checks were skipped
==========================  ========  =================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolver.core.model import Finding, Severity
from resolver.cuda.builds import (
    Build,
    VariantRequest,
    arch_names,
    builds_of,
    builds_text,
    bundled_text,
    family_ranges,
    has_text,
    how_text,
    index_for,
    matching_build,
    newest_line,
    newest_release,
    request_for,
    requirement_texts,
    select_build,
    variant_requests,
)
from resolver.cuda.environment import driver_findings, image_findings, python_findings
from resolver.cuda.family import family_findings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from resolver.core.model import Direct
    from resolver.cuda.matrix import Matrix
    from resolver.cuda.schema import CudaVersion, TorchLine
    from resolver.cuda.target import CudaTarget

__all__ = ["cuda_findings", "variant_requests"]  # variant_requests is re-exported from resolver.cuda.builds


def _advice(torches: Sequence[Direct], target: CudaTarget, matrix: Matrix) -> str:
    """Which variant to ask for everywhere: one the torch line has for the target ("" without a target)."""
    if target.cpu:
        return "ask for cpu everywhere (a whl/cpu index, or a +cpu label)"
    if target.cuda is None:
        return ""
    for torch in torches:
        line = newest_line(matrix, torch.specifier)
        found = matching_build(line, target.cuda, target.machine, main_only=False) if line else None
        if found is not None and found.main_index:
            return f"drop the variant: {has_text(found)}"
        if found is not None:
            return f"ask for {found.variant} everywhere (a whl/{found.variant} index, or a +{found.variant} label)"
    return f"ask for one CUDA {target.cuda.major} variant everywhere"


def _variant_findings(
    requests: Sequence[VariantRequest], target: CudaTarget, torches: Sequence[Direct], matrix: Matrix
) -> list[Finding]:
    """``index-variant-mismatch``: each request against the target, then against the first request."""
    out: list[Finding] = []
    first = requests[0] if requests else None
    advice = _advice(torches, target, matrix)
    for request in requests:
        variant = request.variant
        problem = None
        if target.cpu and variant.kind != "cpu":
            problem = f"the target is CPU-only ({target.source_of('cuda')})"
        elif target.cuda is not None and variant.kind != "cuda":
            problem = f"the target is CUDA {target.cuda} ({target.source_of('cuda')}), and {variant.name} has no CUDA"
        elif target.cuda is not None and variant.cuda is not None and variant.cuda.major != target.cuda.major:
            problem = f"the target is CUDA {target.cuda} ({target.source_of('cuda')}), another major version"
        elif first is not None and request is not first and variant.name != first.variant.name:
            problem = f"{first.where} asks for {first.variant.name}, and pip installs only one torch"
        if problem is None:
            continue
        out.append(
            Finding(
                code="index-variant-mismatch",
                severity=Severity.ERROR,
                path=request.path,
                line=request.line,
                message=f"{request.origin} asks for the {variant.name} builds, but {problem}: the CUDA that runs is "
                "the one of the build pip installs",
                fix=advice or f"ask for {first.variant.name if first else variant.name} everywhere",
                data=(("variant", variant.name),),
            )
        )
    return out


def _best_variant(builds: Sequence[Build], cuda: CudaVersion) -> Build | None:
    """The newest of ``builds`` whose CUDA minor is not above ``cuda``'s, else the oldest one."""
    fitting = [b for b in builds if b.cuda is not None and b.cuda.minor <= cuda.minor]
    return fitting[-1] if fitting else (builds[0] if builds else None)


def _nearest(
    matrix: Matrix, line: TorchLine, allowed: Sequence[TorchLine], cuda: CudaVersion, machine: str, *, main: bool
) -> Build | None:
    """The build closest to ``line`` for ``cuda``: newest inside the range, else nearest line (newer on ties)."""
    for main_only in (True, False) if main else (False,):
        inside = [b for tl in reversed(allowed) if (b := matching_build(tl, cuda, machine, main_only=main_only))]
        if inside:
            return inside[0]
        at = matrix.torch_lines.index(line)
        order = sorted(range(len(matrix.torch_lines)), key=lambda i: (abs(i - at), -i))
        for i in order:
            found = matching_build(matrix.torch_lines[i], cuda, machine, main_only=main_only)
            if found is not None:
                return found
    return None


def _image_alternative(target: CudaTarget, build: Build) -> str | None:
    """An nvidia/cuda tag of the same flavor and distribution whose CUDA matches ``build``'s line."""
    image = target.image
    if image is None or image.kind != "cuda" or build.cuda is None or not image.flavor or not image.distro:
        return None
    if target.source_of("cuda") != image.described:
        return None
    same = [
        b.cuda for b in builds_of(build.line, machine=target.machine) if b.cuda and b.cuda.major == build.cuda.major
    ]
    best = max(same, key=lambda c: (c.major, c.minor))
    return f"nvidia/cuda:{best.major}.{best.minor}.0-{image.flavor}-{image.distro}"


def _installed(line: TorchLine, build: Build, release: str, how: str, cuda: CudaVersion, ctx: _Context) -> str:
    """What pip would actually put into the image, and what that costs."""
    target, matrix = ctx.target, ctx.matrix
    if build.cuda is None:
        return f"pip would install torch {release} without CUDA ({build.label}): it runs on the CPU only"
    costs = [
        f"the image's CUDA {target.image.cuda_text} goes unused while CUDA {build.cuda} libraries are added beside it"
        if target.image is not None and target.image.cuda is not None
        else f"CUDA {build.cuda} libraries are installed instead of CUDA {cuda} ones",
        f"CUDA extensions (flash-attn, apex, custom ops) fail to build against a CUDA {cuda.major} toolkit, "
        "because torch.utils.cpp_extension refuses a CUDA major-version mismatch",
    ]
    have = set(matrix.arch_for(build.variant, torch=line.torch))
    missing = [sm for sm in matrix.arch_for(cuda.tag) if sm not in have] if have else []
    if missing:
        costs.append(
            f"the {build.variant} build has no kernels for {arch_names(missing)}, which {cuda.tag} builds have"
        )
    return (
        f"pip would install torch {release} {how}, which brings its own CUDA {build.cuda} runtime "
        f"({bundled_text(build)}): " + "; ".join(costs)
    )


def _no_wheel_fixes(
    torch: Direct, line: TorchLine, has_major: Sequence[Build], request: VariantRequest | None, ctx: _Context
) -> tuple[list[str], list[tuple[str, str]]]:
    """Another build of the same line when it has one of the target's major, else the nearest line's."""
    matrix, target = ctx.matrix, ctx.target
    cuda = target.cuda
    assert cuda is not None  # only asked when the target names a CUDA
    fixes: list[str] = []
    data: list[tuple[str, str]] = []
    if has_major:
        if has_major[0].main_index and request is not None:
            fixes.append(f"stop asking for {request.variant.name} ({request.where}): {has_text(has_major[0])}")
        variant = _best_variant([b for b in has_major if not b.main_index], cuda)
        if variant is not None:
            index = index_for(matrix, variant.variant, ctx.torch_index)
            fixes.append(f"{'or ' if fixes else ''}install torch from {index} ({has_text(variant)})")
            data.append(("suggested_index", index))
    allowed = matrix.lines_in(torch.specifier)
    near = _nearest(matrix, line, allowed, cuda, target.machine, main=request is None)
    if has_major and (near is None or not near.main_index or request is not None):
        return fixes, data  # the same line has a build; another line only helps when it needs no index
    if near is None:
        return [f"no torch line the matrix knows has a CUDA {cuda.major} build for {target.machine}"], data
    pairs = family_ranges(near.line)
    index = index_for(matrix, near.variant, ctx.torch_index)
    source = "" if near.main_index else f" from {index}"
    fixes.append(f"{'or ' if fixes else ''}use {requirement_texts(pairs, path=torch.path)}{source} ({has_text(near)})")
    data += [(f"suggested_{name}", spec) for name, spec in pairs]
    if not near.main_index and not has_major:
        data.append(("suggested_index", index))
    return fixes, data


def _no_wheel(
    torch: Direct, line: TorchLine, build: Build, request: VariantRequest | None, ctx: _Context
) -> Finding | None:
    target = ctx.target
    cuda = target.cuda
    if cuda is None or target.cpu or (build.cuda is not None and build.cuda.major == cuda.major):
        return None
    release = newest_release(line, torch.specifier)
    builds = builds_text(line, target.machine)
    has_major = [b for b in builds_of(line, machine=target.machine) if b.cuda and b.cuda.major == cuda.major]
    if has_major:
        head = f"{torch.text} selects torch {line.torch} (its builds: {builds}), and pip would take {build.label}"
    else:
        no = "no known" if line.cuda_variants is None else "no"
        head = f"{torch.text} selects torch {line.torch}, which has {no} CUDA {cuda.major} build (its builds: {builds})"
    installed = _installed(line, build, release, how_text(build, request), cuda, ctx)
    fixes, data = _no_wheel_fixes(torch, line, has_major, request, ctx)
    image = _image_alternative(target, build)
    if image is not None:
        fixes.append(f"or keep torch {line.torch} and build FROM {image}")
        data.append(("suggested_image", image))
    return Finding(
        code="cuda-no-wheel",
        severity=Severity.ERROR,
        path=torch.path,
        line=torch.line,
        package=torch.name,
        message=f"{head}, but the target is CUDA {cuda} ({target.source_of('cuda')}). {installed}",
        fix="; ".join(fixes),
        data=(("target_cuda", str(cuda)), ("selected", build.variant), *data),
    )


def _no_variant(torch: Direct, line: TorchLine, request: VariantRequest, ctx: _Context) -> Finding:
    """The requested variant does not exist for the line pip would take."""
    matrix = ctx.matrix
    name = request.variant.name
    main = builds_of(line, machine=ctx.target.machine)[0]
    having = [tl for tl in matrix.torch_lines if name in (tl.cuda_variants or ()) or name in (tl.rocm_variants or ())]
    fixes: list[str] = []
    if having:
        near = min(
            having,
            key=lambda tl: (abs(matrix.torch_lines.index(tl) - matrix.torch_lines.index(line)), -tl.version.minor),
        )
        fixes.append(f"use {requirement_texts(family_ranges(near), path=torch.path)} (torch {near.torch} has {name})")
    if request.variant.cuda is not None:
        other = matching_build(line, request.variant.cuda, ctx.target.machine, main_only=False)
        if other is not None and other.variant != name:
            fixes.append(f"or keep torch {line.torch} and use {index_for(matrix, other.variant, ctx.torch_index)}")
    return Finding(
        code="cuda-no-wheel",
        severity=Severity.ERROR,
        path=torch.path,
        line=torch.line,
        package=torch.name,
        message=f"{torch.text} selects torch {line.torch}, which has no {name} build (its builds: "
        f"{builds_text(line, ctx.target.machine)}), but {request.where} asks for {name}: as the --index-url pip "
        f"finds no torch {line.torch} there and stops; as an --extra-index-url it silently takes the main "
        f"index's {main.label.removesuffix(' (main index)')} build",
        fix="; ".join(fixes) or None,
        data=(("requested", name),),
    )


def _outside_matrix(torch: Direct, matrix: Matrix) -> Finding:
    """``unchecked``: the torch range names no line the matrix lists (``torch==1.10.1``), so its CUDA build,
    driver, Python and companions are not judged; said, never skipped."""
    oldest, newest = matrix.torch_lines[0].torch, matrix.torch_lines[-1].torch
    return torch.finding(
        "unchecked",
        Severity.INFO,
        f"{torch.text} names no torch line the CUDA matrix knows ({oldest} to {newest}): which CUDA its wheel is "
        "built for, the driver it needs and the torchvision/torchaudio that go with it are not checked",
        fix=f"move to a torch line from {oldest} on, or check the build by hand: the CUDA of a PyTorch wheel is "
        "in its name on the PyTorch index (+cu113) and in its nvidia-* requirements on the main index",
    )


class _Context:
    """What every per-torch check needs."""

    __slots__ = ("built_from_source", "matrix", "target", "torch_index")

    def __init__(self, target: CudaTarget, matrix: Matrix, torch_index: str | None, built_from_source: bool) -> None:
        self.target = target
        self.matrix = matrix
        self.torch_index = torch_index
        self.built_from_source = built_from_source


def _torch_findings(torch: Direct, ctx: _Context, requests: Sequence[VariantRequest]) -> list[Finding]:
    target, matrix = ctx.target, ctx.matrix
    line = newest_line(matrix, torch.specifier)
    if line is None:
        return [_outside_matrix(torch, matrix)]
    image = target.image
    if image is not None and image.torch is not None and torch.specifier.contains(image.torch, prereleases=True):
        return python_findings(torch, target=target, matrix=matrix)  # pip keeps the image's own torch
    request = request_for(torch, requests)
    build = select_build(line, request, machine=target.machine)
    if build is None and request is not None:
        return [_no_variant(torch, line, request, ctx)]
    assert build is not None  # select_build without a request always answers
    out: list[Finding] = []
    no_wheel = _no_wheel(torch, line, build, request, ctx)
    if no_wheel is not None:
        out.append(no_wheel)
    release = newest_release(line, torch.specifier)
    if target.cpu and build.cuda is not None:
        out.append(
            torch.finding(
                "cpu-target-cuda-wheel",
                Severity.WARNING,
                f"the target is CPU-only ({target.source_of('cuda')}), but pip would install torch {release} built "
                f"for CUDA {build.cuda} ({how_text(build, request)}), with CUDA libraries a CPU never uses",
                fix=f"install torch from {index_for(matrix, 'cpu', ctx.torch_index)}",
            )
        )
    out += python_findings(torch, target=target, matrix=matrix)
    out += driver_findings(torch, build, target=target, matrix=matrix, torch_index=ctx.torch_index)
    image_derived = target.image is not None and target.source_of("cuda") == target.image.described
    out += image_findings(
        torch,
        build,
        target=target,
        release=release,
        built_from_source=ctx.built_from_source,
        toolkit=not (no_wheel is not None and image_derived),
    )
    return out


def cuda_findings(
    requirements: Sequence[Direct],
    *,
    target: CudaTarget,
    matrix: Matrix,
    index_urls: Sequence[tuple[str, str | None, int | None]] = (),
    local_variants: Sequence[tuple[str, str, str, int]] = (),
    built_from_source: bool = False,
    torch_index: str | None = None,
) -> tuple[Finding, ...]:
    """Every CUDA finding for ``requirements`` against ``target`` (see the module docstring for the codes).

    ``index_urls``: ``(url, path, line)`` of each ``--index-url``/``--extra-index-url`` seen;
    ``local_variants``: ``(package, variant, path, line)`` from the relax step's ``local-version`` findings
    (or :attr:`DockerTarget.local_variants`); ``built_from_source``: something is compiled (an sdist-only
    requirement, a VCS URL, ``--no-binary``); ``torch_index``: the PyTorch wheel index base URL for fixes.
    Constraint entries, direct references and unchecked requirements are not judged. Duplicates (the same
    code, place and message) are dropped.
    """
    requests = variant_requests(index_urls, local_variants)
    ctx = _Context(target, matrix, torch_index, built_from_source)
    usable = [d for d in requirements if not d.constraint and d.url is None and d.unchecked is None]
    torches = [d for d in usable if d.name == "torch"]
    out = _variant_findings(requests, target, torches, matrix)
    for torch in torches:
        out += _torch_findings(torch, ctx, requests)
    out += family_findings(requirements, matrix=matrix)
    out += driver_findings(None, None, target=target, matrix=matrix, torch_index=torch_index)
    if target.no_gpu is not None:
        out.append(
            Finding(
                code="cuda-no-gpu",
                severity=Severity.INFO,
                message=f"--cuda auto: {target.no_gpu}; the driver checks were skipped",
                fix="pass --driver (as nvidia-smi shows it on the target machine) or --cuda X.Y to check for another "
                "machine",
            )
        )
    seen: set[tuple[str, str | None, int | None, str]] = set()
    unique = []
    for f in out:
        key = (f.code, f.path, f.line, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return tuple(unique)
