"""Local driver detection with injected runners: what real machines print, and machines without a GPU."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import pytest

from resolver.cuda.hardware import (
    NVIDIA_SMI_QUERY,
    PROC_VERSION,
    DriverInfo,
    GpuInfo,
    NoGpu,
    detect_driver,
    parse_nvidia_smi,
    parse_proc_version,
)

SMI_TWO_GPUS = "570.86.15, NVIDIA GeForce RTX 5090, 12.0\n570.86.15, NVIDIA H100 80GB HBM3, 9.0\n"
PROC_PROPRIETARY = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n"
    "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n"
)
PROC_OPEN = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.124.06  Release Build  (dvs-builder@U16)\n"


def runner(*answers: str | BaseException) -> tuple[list[Sequence[str]], object]:
    calls: list[Sequence[str]] = []
    queue = list(answers)

    def run(args: Sequence[str]) -> str:
        calls.append(tuple(args))
        answer = queue.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return calls, run


def no_file(path: str) -> str:
    raise FileNotFoundError(path)


def test_nvidia_smi_gives_driver_and_gpus() -> None:
    calls, run = runner(SMI_TWO_GPUS)
    found = detect_driver(run=run, read=no_file)  # type: ignore[arg-type]
    assert found == DriverInfo(
        driver="570.86.15",
        gpus=(
            GpuInfo(name="NVIDIA GeForce RTX 5090", compute_cap="12.0"),
            GpuInfo(name="NVIDIA H100 80GB HBM3", compute_cap="9.0"),
        ),
        source="nvidia-smi",
    )
    assert calls == [NVIDIA_SMI_QUERY]
    assert isinstance(found, DriverInfo)
    assert [g.sm for g in found.gpus] == ["sm_120", "sm_90"]


def test_old_driver_without_compute_cap_is_asked_again() -> None:
    refused = subprocess.CalledProcessError(
        2, "nvidia-smi", output='Field "compute_cap" is not a valid field to query.\n'
    )
    calls, run = runner(refused, "470.57.02, Tesla T4\n")
    found = detect_driver(run=run, read=no_file)  # type: ignore[arg-type]
    assert isinstance(found, DriverInfo) and found.driver == "470.57.02"
    assert found.gpus == (GpuInfo(name="Tesla T4", compute_cap=None),)
    assert calls[1] == ("nvidia-smi", "--query-gpu=driver_version,name", "--format=csv,noheader")


@pytest.mark.parametrize("text", [PROC_PROPRIETARY, PROC_OPEN])
def test_proc_file_when_nvidia_smi_is_missing(text: str) -> None:
    _, run = runner(FileNotFoundError("nvidia-smi"))
    found = detect_driver(run=run, read=lambda path: text if path == PROC_VERSION else "")  # type: ignore[arg-type]
    assert isinstance(found, DriverInfo) and found.source == PROC_VERSION
    assert found.driver == ("535.104.05" if text is PROC_PROPRIETARY else "570.124.06")


def test_no_gpu_is_a_value_with_the_reason() -> None:
    _, run = runner(FileNotFoundError("nvidia-smi"))
    found = detect_driver(run=run, read=no_file)  # type: ignore[arg-type]
    assert found == NoGpu(
        reason="no NVIDIA driver found: nvidia-smi is not installed, and /proc/driver/nvidia/version does not exist "
        "(no NVIDIA kernel module is loaded)"
    )


def test_failing_and_hanging_nvidia_smi() -> None:
    failed = subprocess.CalledProcessError(
        9, "nvidia-smi", stderr="NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"
    )
    _, run = runner(failed, failed)
    found = detect_driver(run=run, read=no_file)  # type: ignore[arg-type]
    assert isinstance(found, NoGpu) and "couldn't communicate with the NVIDIA driver" in found.reason
    _, run = runner(subprocess.TimeoutExpired("nvidia-smi", 10))
    found = detect_driver(run=run, read=lambda path: "garbage")  # type: ignore[arg-type]
    assert isinstance(found, NoGpu) and "did not answer" in found.reason and "names no driver version" in found.reason


def test_parsers_ignore_noise() -> None:
    assert parse_nvidia_smi("No devices were found\n") is None
    assert parse_nvidia_smi("535.104.05, A100-SXM4-40GB, [N/A]\n") == DriverInfo(
        driver="535.104.05", gpus=(GpuInfo(name="A100-SXM4-40GB", compute_cap=None),)
    )
    assert parse_proc_version("nothing here") is None


def test_the_real_runner_on_this_machine_returns_a_value() -> None:
    """No GPU is needed: whatever this machine has, the answer is a value, never an exception."""
    assert isinstance(detect_driver(), DriverInfo | NoGpu)
