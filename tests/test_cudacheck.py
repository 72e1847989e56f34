"""The CUDA findings engine: targets, each finding code on its exact line, fixes that work, family alignment.

Requirements are written as requirements files (line numbers are the file's) or as Dockerfiles; the matrix
is the shipped one, so every expectation below is a fact it cites.
"""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet

from resolver.core.directs import directs_from_requirements
from resolver.core.model import Direct, Finding, Severity
from resolver.core.policy import Bound, Policy
from resolver.core.reqfile import parse
from resolver.core.rewrite import relax_requirements
from resolver.cuda.check import cuda_findings, variant_requests
from resolver.cuda.family import align_family, align_requirements, compatible
from resolver.cuda.matrix import load_matrix
from resolver.cuda.target import CudaTarget, DriverInfo, GpuInfo, NoGpu, target_from_options
from resolver.docker.check import read_dockerfile_target
from resolver.errors import InputError

MATRIX = load_matrix()
IDX = "https://torch.invalid"


def reqs(text: str, path: str = "requirements.txt") -> list[Direct]:
    return directs_from_requirements(parse(text, path=path), path=path)


def run(
    text: str,
    *,
    cuda: str | None = None,
    driver: str | None = None,
    python: str | None = None,
    dockerfile: str | None = None,
    index_urls: tuple[tuple[str, str | None, int | None], ...] = (),
    local: tuple[tuple[str, str, str, int], ...] = (),
    built: bool = False,
    torch_index: str | None = None,
) -> list[Finding]:
    image = read_dockerfile_target(dockerfile, path="Dockerfile", matrix=MATRIX).image if dockerfile else None
    target = target_from_options(cuda=cuda, driver=driver, python=python, image=image)
    found = cuda_findings(
        reqs(text),
        target=target,
        matrix=MATRIX,
        index_urls=index_urls,
        local_variants=local,
        built_from_source=built,
        torch_index=torch_index,
    )
    return list(found)


def where(findings: list[Finding]) -> list[tuple[str, str | None, int | None, Severity]]:
    return [(f.code, f.path, f.line, f.severity) for f in findings]


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


# --- targets -------------------------------------------------------------------------------------------------


def test_target_from_options_and_sources() -> None:
    target = target_from_options(cuda="cu128", driver="570.86.15", python="312", detected=None)
    assert (str(target.cuda), target.driver, target.python, target.cpu) == ("12.8", "570.86.15", (3, 12), False)
    assert target.source_of("cuda") == "--cuda cu128"
    assert target_from_options(cuda="cpu", driver=None, python=None).cpu
    found = DriverInfo(driver="535.104.05", gpus=(GpuInfo(name="A100", compute_cap="8.0"),))
    auto = target_from_options(cuda="auto", driver=None, python=None, detected=found)
    assert (auto.cuda, auto.driver, auto.gpus[0].sm) == (None, "535.104.05", "sm_80")
    assert auto.source_of("driver") == "the local driver (nvidia-smi)"
    none = target_from_options(
        cuda="auto", driver=None, python=None, detected=NoGpu(reason="nvidia-smi is not installed")
    )
    assert none.no_gpu == "nvidia-smi is not installed"


@pytest.mark.parametrize(
    ("cuda", "driver", "python"),
    [("12", None, None), ("cuda12", None, None), (None, "latest", None), (None, None, "2.7")],
)
def test_bad_options_are_input_errors(cuda: str | None, driver: str | None, python: str | None) -> None:
    with pytest.raises(InputError):
        target_from_options(cuda=cuda, driver=driver, python=python)


def test_options_win_over_the_image() -> None:
    image = read_dockerfile_target("FROM python:3.9-slim\n", path="Dockerfile", matrix=MATRIX).image
    target = target_from_options(cuda="12.4", driver=None, python="3.12", image=image)
    assert target.python == (3, 12) and target.source_of("python") == "--python 3.12"
    assert target_from_options(cuda=None, driver=None, python=None, image=image).python == (3, 9)


def test_no_gpu_is_a_value_and_an_info() -> None:
    target = target_from_options(cuda="auto", driver=None, python=None, detected=NoGpu(reason="no NVIDIA driver found"))
    found = cuda_findings(reqs("torch==2.7.1\n"), target=target, matrix=MATRIX)
    assert where(list(found)) == [("cuda-no-gpu", None, None, Severity.INFO)]


# --- cuda-no-wheel -------------------------------------------------------------------------------------------


def test_no_cuda_12_build_for_torch_2_0() -> None:
    found = run("numpy\ntorch>=2.0.0,<2.1.0\n", cuda="12.8")
    assert where(found) == [("cuda-no-wheel", "requirements.txt", 2, Severity.ERROR)]
    (f,) = found
    assert f.fix == (
        "use torch>=2.1.0,<2.2.0 torchvision>=0.16.0,<0.17.0 torchaudio>=2.1.0,<2.2.0 "
        "(torch 2.1's wheel on the main index is CUDA 12.1)"
    )
    assert "CUDA 11.7 libraries are installed instead of CUDA 12.8 ones" in f.message
    fixed = f"torch{f.get('suggested_torch')}\n"
    assert run(fixed, cuda="12.8") == []


def test_main_index_cuda_13_on_a_cuda_12_image_names_the_variant_index() -> None:
    found = run("torch>=2.11.0,<2.12.0\n", dockerfile="FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04\n", torch_index=IDX)
    f = next(x for x in found if x.code == "cuda-no-wheel")
    assert f.line == 1
    assert f.fix is not None and f.fix.startswith(f"install torch from {IDX}/whl/cu128 (torch 2.11 has a cu128 build)")
    assert "or use torch>=2.10.0,<2.11.0" in f.fix
    assert "cuda-toolkit-mismatch" not in codes(found)  # the same fact, said once
    index = (f"{IDX}/whl/cu128", "requirements.txt", 3)
    after = run(
        "torch>=2.11.0,<2.12.0\n", dockerfile="FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04\n", index_urls=(index,)
    )
    assert "cuda-no-wheel" not in codes(after)


def test_requested_variant_missing_for_the_line() -> None:
    index = (f"{IDX}/whl/cu121", "requirements.txt", 1)
    found = run("--extra-index-url https://torch.invalid/whl/cu121\ntorch==2.0.1\n", index_urls=(index,))
    assert where(found) == [("cuda-no-wheel", "requirements.txt", 2, Severity.ERROR)]
    assert "has no cu121 build" in found[0].message and "silently takes the main index's CUDA 11.7" in found[0].message
    assert found[0].fix is not None and found[0].fix.startswith("use torch>=2.1.0,<2.2.0")


def test_aarch64_main_index_wheel_is_cpu_only_before_2_11() -> None:
    arm = "FROM --platform=linux/arm64 nvidia/cuda:12.4.1-runtime-ubuntu22.04\n"
    found = run("torch>=2.7.0,<2.8.0\n", dockerfile=arm)
    f = next(x for x in found if x.code == "cuda-no-wheel")
    assert "without CUDA (CPU-only (main index)): it runs on the CPU only" in f.message


# --- torch-family-mismatch -----------------------------------------------------------------------------------


def test_family_mismatch_and_its_fix() -> None:
    found = run("torch>=2.0.0,<2.1.0\ntorchvision>=0.16.0,<0.17.0\ntorchaudio>=2.0.1,<2.1.0\n")
    assert where(found) == [("torch-family-mismatch", "requirements.txt", 2, Severity.ERROR)]
    assert found[0].fix == "use torchvision>=0.15.1,<0.16.0, which goes with torch 2.0"
    assert "goes with torch 2.1" in found[0].message
    assert run("torch>=2.0.0,<2.1.0\ntorchvision>=0.15.1,<0.16.0\n") == []


def test_family_mismatch_of_exact_pins() -> None:
    found = run("torch==2.7.0\ntorchvision==0.22.1\n")
    assert [f.fix for f in found] == ["use torchvision==0.22.0, which goes with torch 2.7"]


def test_family_after_the_exact_pins_ended() -> None:
    assert run("torch>=2.13.0,<2.14.0\ntorchaudio>=2.11.0,<2.12.0\ntorchvision>=0.28.0,<0.29.0\n") == []
    assert compatible(MATRIX, "torchvision", SpecifierSet(">=2.15"), SpecifierSet(">=0.29.2")) is True
    assert compatible(MATRIX, "torchvision", SpecifierSet("==2.7.0"), SpecifierSet("==0.22.1")) is False


def test_align_family_keeps_the_issue_example_as_is() -> None:
    before = parse("torch==2.7.1\ntorchvision==0.22.1\n", path="r.txt")
    rewrite = relax_requirements(before, Policy(), path="r.txt")
    assert rewrite.text == "torch>=2.7.1,<2.8.0\ntorchvision>=0.22.1,<0.23.0\n"
    assert align_requirements(rewrite, matrix=MATRIX, path="r.txt") == rewrite
    assert run(rewrite.text) == []


def test_align_family_narrows_a_major_bound() -> None:
    policy = Policy(default=Bound.MAJOR, bounds=(("torch", Bound.MINOR),))  # type: ignore[arg-type]
    rewrite = relax_requirements(parse("torch==2.7.1\ntorchaudio==2.7.1\n", path="r.txt"), policy, path="r.txt")
    assert rewrite.text == "torch>=2.7.1,<2.8.0\ntorchaudio>=2.7.1,<3.0.0\n"
    aligned = align_requirements(rewrite, matrix=MATRIX, path="r.txt")
    assert aligned.text == "torch>=2.7.1,<2.8.0\ntorchaudio>=2.7.1,<2.8.0\n"
    assert [c.after for c in aligned.changes] == ["torch>=2.7.1,<2.8.0", "torchaudio>=2.7.1,<2.8.0"]
    (finding,) = aligned.findings
    assert (finding.code, finding.line, finding.severity) == ("torch-family-narrowed", 2, Severity.INFO)
    assert "torchaudio 2.8, 2.9, 2.10, 2.11" in finding.message


def test_align_family_reports_a_companion_holding_torch() -> None:
    alignment = align_family(
        {"torch": ">=2.7.1,<3.0.0", "torchvision": ">=0.22.1,<0.23.0"}, matrix=MATRIX, relaxed={"torch", "torchvision"}
    )
    assert alignment.specifiers == ()
    (finding,) = alignment.findings
    assert finding.code == "torch-family-held" and finding.fix is not None and ">=0.22.1,<0.30.0" in finding.fix


def test_align_family_leaves_ranges_the_user_wrote() -> None:
    alignment = align_family({"torch": ">=2.7.1,<2.8.0", "torchaudio": ">=2.0"}, matrix=MATRIX, relaxed={"torch"})
    assert alignment.specifiers == ()


# --- cuda-driver-too-old -------------------------------------------------------------------------------------


def test_driver_below_the_family_minimum() -> None:
    found = run("torch>=2.1.0,<2.2.0\n", driver="470.57.02", torch_index=IDX)
    assert where(found) == [("cuda-driver-too-old", "requirements.txt", 1, Severity.ERROR)]
    assert "needs driver 525.60.13 or newer" in found[0].message
    assert found[0].fix == (
        f"install torch 2.1 from {IDX}/whl/cu118 (CUDA 11.8 runs on driver 470.57.02 under minor-version "
        "compatibility), or upgrade the driver to 530.30.02 or newer"
    )
    fixed = run("torch>=2.1.0,<2.2.0\n", driver="470.57.02", index_urls=((f"{IDX}/whl/cu118", "r", 1),))
    assert [(f.code, f.severity) for f in fixed] == [("cuda-driver-too-old", Severity.WARNING)]


def test_driver_under_minor_version_compatibility_is_a_warning() -> None:
    found = run("torch>=2.7.0,<2.8.0\n", driver="535.104.05")
    assert where(found) == [("cuda-driver-too-old", "requirements.txt", 1, Severity.WARNING)]
    assert "minor-version compatibility" in found[0].message


def test_cuda_13_default_wheel_needs_driver_580() -> None:
    found = run("torch>=2.11.0,<2.12.0\n", driver="570.86.15")
    assert where(found) == [("cuda-driver-too-old", "requirements.txt", 1, Severity.ERROR)]
    assert found[0].fix is not None and "whl/cu128" in found[0].fix


def test_image_nvidia_require_cuda_against_the_driver() -> None:
    dockerfile = "FROM nvidia/cuda:12.8.0-base-ubuntu22.04\n"
    found = run("numpy\n", driver="535.104.05", dockerfile=dockerfile)
    assert where(found) == [("cuda-driver-too-old", "Dockerfile", 1, Severity.ERROR)]
    f = found[0]
    assert (
        "requires cuda>=12.8 (NVIDIA_REQUIRE_CUDA, set by the nvidia/cuda:12.8.0-base-ubuntu22.04 image)" in f.message
    )
    assert "needs driver 570.26 or newer" in f.message and "runs CUDA 12.2 at most" in f.message
    assert f.fix is not None and f.fix.startswith("build FROM nvidia/cuda:12.2.0-base-ubuntu22.04")
    assert run("numpy\n", driver="535.104.05", dockerfile="FROM nvidia/cuda:12.2.0-base-ubuntu22.04\n") == []
    disabled = dockerfile + "ENV NVIDIA_DISABLE_REQUIRE=1\n"
    assert run("numpy\n", driver="535.104.05", dockerfile=disabled) == []


# --- cuda-toolkit-mismatch -----------------------------------------------------------------------------------


def test_toolkit_major_mismatch_in_a_devel_image_is_an_error() -> None:
    devel = "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
    index = ((f"{IDX}/whl/cu118", "requirements.txt", 1),)
    text = "--index-url https://torch.invalid/whl/cu118\ntorch>=2.1.0,<2.2.0\n"
    found = run(text, dockerfile=devel, index_urls=index, cuda="11.8")
    mismatch = next(f for f in found if f.code == "cuda-toolkit-mismatch")
    assert (mismatch.line, mismatch.severity) == (2, Severity.ERROR)
    assert (
        "The detected CUDA version (12.4) mismatches the version that was used to compile PyTorch (11.8)"
        in mismatch.message
    )
    runtime = "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n"
    warn = next(
        f for f in run(text, dockerfile=runtime, index_urls=index, cuda="11.8") if f.code == "cuda-toolkit-mismatch"
    )
    assert warn.severity is Severity.WARNING
    built = next(
        f
        for f in run(text, dockerfile=runtime, index_urls=index, cuda="11.8", built=True)
        if f.code == "cuda-toolkit-mismatch"
    )
    assert built.severity is Severity.ERROR


# --- python-unsupported --------------------------------------------------------------------------------------


def test_python_outside_every_line_is_an_error() -> None:
    found = run("torch>=2.0.0,<2.1.0\n", python="3.12")
    assert where(found) == [("python-unsupported", "requirements.txt", 1, Severity.ERROR)]
    assert found[0].fix == (
        "use Python 3.8-3.11, or torch>=2.2.0,<2.3.0 torchvision>=0.17.0,<0.18.0 torchaudio>=2.2.0,<2.3.0 "
        "(torch 2.2 has wheels for Python 3.12)"
    )


def test_python_of_the_image_with_a_silent_fallback() -> None:
    found = run("torch>=2.4.0,<2.6.0\n", dockerfile="FROM python:3.8-slim\n")
    assert where(found) == [("python-unsupported", "requirements.txt", 1, Severity.WARNING)]
    assert "pip silently installs torch 2.4.1 instead" in found[0].message
    assert found[0].fix is not None and "(FROM python:3.13-slim)" in found[0].fix


def test_python_of_a_cuda_image_after_apt_install() -> None:
    dockerfile = (
        "FROM nvidia/cuda:12.8.0-runtime-ubuntu22.04\nRUN apt-get update && apt-get install -y python3-pip python3\n"
    )
    found = run("torch>=2.15.0,<2.16.0\n", dockerfile=dockerfile)
    f = next(x for x in found if x.code == "python-unsupported")
    assert "the target Python 3.10 (python3 of ubuntu22.04 (3.10) installed at Dockerfile:2)" in f.message
    assert f.fix is not None and "nvidia/cuda:12.8.0-runtime-ubuntu24.04, whose python3 is 3.12" in f.fix


# --- index-variant-mismatch ----------------------------------------------------------------------------------


def test_index_variant_against_the_target_and_each_other() -> None:
    found = run("torch==2.1.0\n", cuda="12.8", index_urls=((f"{IDX}/whl/cu118", "requirements.txt", 4),))
    assert ("index-variant-mismatch", "requirements.txt", 4, Severity.ERROR) in where(found)
    local = (("torch", "cu118", "requirements.txt", 2),)
    both = run("torch==2.1.0\n", index_urls=((f"{IDX}/whl/cu121", "requirements.txt", 1),), local=local)
    assert ("index-variant-mismatch", "requirements.txt", 2, Severity.ERROR) in where(both)
    cpu = run("torch==2.1.0\n", cuda="cpu", index_urls=((f"{IDX}/whl/cu121", "requirements.txt", 1),))
    assert ("index-variant-mismatch", "requirements.txt", 1, Severity.ERROR) in where(cpu)


def test_variant_requests_read_paths_not_hosts() -> None:
    requests = variant_requests(
        (
            ("https://a.invalid/whl/cu121", None, None),
            ("https://b.invalid/simple", None, None),
            ("https://c.invalid/whl/nightly/cu128/", None, None),
        ),
        (("torch", "rocm6.2", "r", 1), ("torch", "cpu", "r", 2)),
    )
    assert [r.variant.name for r in requests] == ["cu121", "cu128", "rocm6.2", "cpu"]


# --- cpu target, image bloat, image torch --------------------------------------------------------------------


def test_cpu_target_with_a_cuda_wheel() -> None:
    found = run("torch>=2.7.0,<2.8.0\n", cuda="cpu", torch_index=IDX)
    assert where(found) == [("cpu-target-cuda-wheel", "requirements.txt", 1, Severity.WARNING)]
    assert found[0].fix == f"install torch from {IDX}/whl/cpu"
    assert run("torch>=2.7.0,<2.8.0\n", cuda="cpu", index_urls=((f"{IDX}/whl/cpu", None, None),)) == []


def test_cuda_libraries_twice() -> None:
    found = run("torch>=2.5.0,<2.6.0\n", dockerfile="FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04\n")
    assert where(found) == [("image-bloat", "Dockerfile", 1, Severity.INFO)]
    assert "ships cuDNN and every CUDA toolkit library" in found[0].message
    assert found[0].fix is not None and "nvidia/cuda:12.4.1-base-ubuntu22.04" in found[0].fix


def test_image_torch_replaced() -> None:
    found = run("torch>=2.4.0,<2.5.0\n", dockerfile="FROM nvcr.io/nvidia/pytorch:24.05-py3\n")
    assert where(found) == [("image-torch-replaced", "requirements.txt", 1, Severity.WARNING)]
    assert "ships torch 2.4.0a0+07cecf4168" in found[0].message
    assert run("torch>=2.4.0a0,<2.5.0\n", dockerfile="FROM nvcr.io/nvidia/pytorch:24.05-py3\n") == []


def test_constraints_and_urls_are_not_judged() -> None:
    target = CudaTarget(cuda=None)
    directs = reqs("torch @ https://x.invalid/torch-2.0.1-cp310-none-any.whl\n")
    assert cuda_findings(directs, target=target, matrix=MATRIX) == ()


def test_a_variant_index_of_the_wrong_major_on_a_line_that_has_the_right_one() -> None:
    dockerfile = "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n"
    index = ((f"{IDX}/whl/cu118", "requirements.txt", 1),)
    found = run(
        "--index-url https://torch.invalid/whl/cu118\ntorch>=2.1.0,<2.2.0\n", dockerfile=dockerfile, index_urls=index
    )
    mismatch = next(f for f in found if f.code == "index-variant-mismatch")
    assert (mismatch.line, mismatch.fix) == (1, "drop the variant: torch 2.1's wheel on the main index is CUDA 12.1")
    wheel = next(f for f in found if f.code == "cuda-no-wheel")
    assert wheel.line == 2 and "and pip would take cu118 (PyTorch wheel index)" in wheel.message
    assert wheel.fix == (
        f"stop asking for cu118 (the index {IDX}/whl/cu118 (requirements.txt:1)): torch 2.1's wheel on the main "
        "index is CUDA 12.1; or install torch from <PyTorch wheel index>/whl/cu121 (torch 2.1 has a cu121 build); or "
        "keep torch 2.1 and build FROM nvidia/cuda:11.8.0-runtime-ubuntu22.04"
    )
    assert codes(run("torch>=2.1.0,<2.2.0\n", dockerfile=dockerfile)) == {"image-bloat"}  # runtime libs twice
    fixed = run("torch>=2.1.0,<2.2.0\n", dockerfile=dockerfile, index_urls=((f"{IDX}/whl/cu121", "r", 1),))
    assert {"cuda-no-wheel", "index-variant-mismatch"}.isdisjoint(codes(fixed))


def test_an_unpinned_torch_on_a_cuda_12_image_and_on_a_torch_image() -> None:
    found = run("torch\n", dockerfile="FROM nvidia/cuda:12.1.1-base-ubuntu22.04\n")
    (f,) = found
    assert f.code == "cuda-no-wheel"
    assert "torch selects torch 2.15, which has no known CUDA 12 build" in f.message
    assert "CUDA 13.2 on the main index; its PyTorch wheel index variants are not known" in f.message
    assert f.fix is not None and f.fix.startswith("use torch>=2.10.0,<2.11.0")
    assert run("torch\n", dockerfile="FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime\n") == []  # pip keeps it


def test_a_torch_line_outside_the_matrix_is_said_unchecked() -> None:
    """torch 1.3 is older than every line the matrix lists: nothing about its CUDA build is claimed, and the
    report says so instead of saying nothing."""
    found = run("torch==1.3.1\ntorchvision==0.4.2\n", cuda="10.1")
    assert where(found) == [("unchecked", "requirements.txt", 1, Severity.INFO)]
    (finding,) = found
    oldest = MATRIX.torch_lines[0].torch
    assert f"torch==1.3.1 names no torch line the CUDA matrix knows ({oldest} to" in finding.message
    assert run("torch==2.7.1\n", cuda="12.8") == []  # a known line on a matching target: nothing to say


def test_torch_1_10_from_the_main_index_on_a_cuda_11_3_image_is_a_silent_downgrade() -> None:
    """The main index's torch 1.10.1 wheel is the CUDA 10.2 build (torch/version.py in the wheel; the matrix
    row cites it): on a CUDA 11.3 image pip installs it without a word, and the fix is the cu113 build."""
    (found,) = run("torch==1.10.1\n", cuda="11.3")
    assert found.code == "cuda-no-wheel" and found.severity is Severity.ERROR
    assert "pip would take CUDA 10.2 (main index)" in found.message
    assert found.fix is not None and "/whl/cu113 (torch 1.10 has a cu113 build)" in found.fix


def test_a_find_links_page_of_one_variant_decides_the_build() -> None:
    """detectron2's Dockerfile: ``torch==1.10 -f <base>/whl/cu111/torch_stable.html`` on a CUDA 11.1 image. pip
    merges the page's files with the index's, and 1.10.0+cu111 sorts above 1.10.0, so the cu111 build is
    installed: no finding, where the main index's CUDA 10.2 build alone would be a downgrade. An all-variant
    page decides no build."""
    image = "FROM nvidia/cuda:11.1.1-cudnn8-devel-ubuntu18.04\n"
    page = ((f"{IDX}/whl/cu111/torch_stable.html", "Dockerfile", 2),)
    assert "cuda-no-wheel" not in codes(run("torch==1.10\n", dockerfile=image, python="3.7", index_urls=page))
    assert "cuda-no-wheel" in codes(run("torch==1.10\n", dockerfile=image, python="3.7"))
    every = ((f"{IDX}/whl/torch_stable.html", "Dockerfile", 2),)
    assert "cuda-no-wheel" in codes(run("torch==1.10\n", dockerfile=image, python="3.7", index_urls=every))
