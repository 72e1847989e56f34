"""Find the local NVIDIA driver for ``--cuda auto``: the ONLY module of the CUDA checks that does I/O.

:func:`detect_driver` asks, in order:

1. ``nvidia-smi --query-gpu=driver_version,name,compute_cap --format=csv,noheader`` (one line per GPU:
   ``570.86.15, NVIDIA GeForce RTX 5090, 12.0``). Drivers older than about R510 do not know the
   ``compute_cap`` field and exit non-zero; the query is then repeated without it.
2. ``/proc/driver/nvidia/version`` (``NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  ...``),
   which exists whenever the kernel module is loaded, even without ``nvidia-smi`` (a slim container).

No driver is a value, :class:`~resolver.cuda.target.NoGpu` with the reason, never an exception: a laptop or a
CI runner without a GPU is an expected place to run relax-pins. The runner and the file reader are
parameters so that tests inject the outputs of real machines instead of needing one.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from resolver.cuda.target import DriverInfo, GpuInfo, NoGpu

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "NVIDIA_SMI_QUERY",
    "PROC_VERSION",
    "DriverInfo",
    "GpuInfo",
    "NoGpu",
    "detect_driver",
    "parse_nvidia_smi",
    "parse_proc_version",
]

#: The query asked first; without ``compute_cap`` on old drivers.
NVIDIA_SMI_QUERY = ("nvidia-smi", "--query-gpu=driver_version,name,compute_cap", "--format=csv,noheader")
PROC_VERSION = "/proc/driver/nvidia/version"
_TIMEOUT = 10.0
_DRIVER = re.compile(r"\d+\.\d+(?:\.\d+)?")
_PROC = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)")


def _run(args: Sequence[str]) -> str:
    """Run a command, return its stdout; raises OSError / CalledProcessError / TimeoutExpired."""
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=_TIMEOUT, check=True)
    return done.stdout


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8", errors="replace")


def parse_nvidia_smi(output: str) -> DriverInfo | None:
    """The driver and GPUs of ``--query-gpu=driver_version,name[,compute_cap] --format=csv,noheader``."""
    driver: str | None = None
    gpus: list[GpuInfo] = []
    for line in output.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if not fields or not _DRIVER.fullmatch(fields[0]):
            continue
        driver = driver or fields[0]
        name = fields[1] if len(fields) > 1 else "GPU"
        cap = fields[2] if len(fields) > 2 and re.fullmatch(r"\d+\.\d+", fields[2]) else None
        gpus.append(GpuInfo(name=name, compute_cap=cap))
    return None if driver is None else DriverInfo(driver=driver, gpus=tuple(gpus), source="nvidia-smi")


def parse_proc_version(text: str) -> DriverInfo | None:
    """The driver version in ``/proc/driver/nvidia/version`` (proprietary and open kernel modules)."""
    match = _PROC.search(text)
    return None if match is None else DriverInfo(driver=match[1], source=PROC_VERSION)


def _smi(run: Callable[[Sequence[str]], str]) -> DriverInfo | str:
    """The driver from nvidia-smi, or why not."""
    queries = (NVIDIA_SMI_QUERY, (NVIDIA_SMI_QUERY[0], "--query-gpu=driver_version,name", NVIDIA_SMI_QUERY[2]))
    why = "nvidia-smi gave no driver version"
    for query in queries:
        try:
            found = parse_nvidia_smi(run(query))
        except FileNotFoundError:
            return "nvidia-smi is not installed"
        except subprocess.TimeoutExpired:
            return f"nvidia-smi did not answer within {_TIMEOUT:g} s"
        except subprocess.CalledProcessError as exc:
            detail = (exc.stdout or exc.stderr or "").strip().splitlines()
            why = f"nvidia-smi failed ({detail[0] if detail else f'exit status {exc.returncode}'})"
            continue
        except OSError as exc:
            return f"nvidia-smi could not run ({exc.strerror or exc})"
        if found is not None:
            return found
    return why


def detect_driver(
    *,
    run: Callable[[Sequence[str]], str] | None = None,
    read: Callable[[str], str] | None = None,
) -> DriverInfo | NoGpu:
    """The local NVIDIA driver, or :class:`NoGpu` saying what was tried (see the module docstring).

    ``run`` takes an argument list and returns stdout, raising as :func:`subprocess.run` with ``check=True``
    does; ``read`` takes a path and returns the text, raising ``OSError``. Cost: one or two process starts.
    """
    found = _smi(run or _run)
    if isinstance(found, DriverInfo):
        return found
    try:
        proc = parse_proc_version((read or _read)(PROC_VERSION))
    except OSError:
        proc = None
        proc_why = f"{PROC_VERSION} does not exist (no NVIDIA kernel module is loaded)"
    else:
        proc_why = f"{PROC_VERSION} names no driver version"
    if proc is not None:
        return proc
    return NoGpu(reason=f"no NVIDIA driver found: {found}, and {proc_why}")
