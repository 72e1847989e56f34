"""Time relax-pins against `uv pip compile` and `pip-compile` on the same inputs, in one run, and print ratios.

A benchmark, not a test: it talks to the live index pip is configured with (read from pip at run time; this
machine's extra indexes and find-links are switched off so every tool asks the same index), and it installs
uv and pip-tools into bench/.venv-tools on first use.

    python bench/run.py                      # 5 runs each of relax-pins and uv, cold and warm; 1 of pip-compile
    python bench/run.py --runs 3 --pip-compile-runs 0 --inputs bench/ml.txt

Cold: an empty cache folder for every run. Warm: the same folder, filled by one unmeasured run. Peak memory
is the child's maximum resident set size (``wait4``). relax-pins runs from this source tree, byte-compiled
first as pip compiles an installed wheel (with PYTHONDONTWRITEBYTECODE set, as on the workplace machine, an
editable tree would otherwise be compiled from source on every run: ~60 ms of each).
Targets (issue 3): cold <= 2x uv, warm <= uv, >= 10x faster than pip-compile, peak memory < 200 MB.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOLS = HERE / ".venv-tools"
PYTHON, PLATFORM = "3.11", "manylinux_2_28_x86_64"


@dataclass
class Sample:
    seconds: float
    peak_mb: float
    code: int


def _pip_default_index() -> str:
    from pip._internal.models.index import PyPI

    return str(PyPI.simple_url)


def _env() -> dict[str, str]:
    """The environment every tool runs in: pip's machine configuration off, nothing else changed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["UV_NO_CONFIG"] = "1"
    return env


def _tools() -> Path:
    """A venv with uv and pip-tools, made once."""
    bin_dir = TOOLS / "bin"
    if not (bin_dir / "uv").exists() or not (bin_dir / "pip-compile").exists():
        venv.create(TOOLS, with_pip=True)
        subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "-q", "uv", "pip-tools"], check=True, env=_env()
        )
    return bin_dir


def _measure(cmd: list[str], env: dict[str, str]) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    return Sample(seconds=elapsed, peak_mb=usage.ru_maxrss / 1024, code=os.waitstatus_to_exitcode(status))


def _commands(tool: str, path: Path, cache: Path, index: str, bins: Path, out: Path) -> list[str]:
    if tool == "relax-pins":
        return [
            sys.executable,
            "-m",
            "resolver",
            "check",
            str(path),
            "--index-url",
            index,
            "--cache-dir",
            str(cache),
            "--python",
            PYTHON,
            "--platform",
            PLATFORM,
            "--format",
            "json",
        ]
    if tool == "uv":
        return [
            str(bins / "uv"),
            "pip",
            "compile",
            str(path),
            "--index-url",
            index,
            "--cache-dir",
            str(cache),
            "--python-version",
            PYTHON,
            "--python-platform",
            "x86_64-manylinux_2_28",
            "-o",
            str(out),
            "-q",
        ]
    return [
        str(bins / "pip-compile"),
        str(path),
        "--index-url",
        index,
        "--cache-dir",
        str(cache),
        "-o",
        str(out),
        "--quiet",
        "--no-header",
        "--no-strip-extras",
    ]


def _series(tool: str, path: Path, runs: int, *, warm: bool, index: str, bins: Path) -> list[Sample]:
    samples: list[Sample] = []
    env = _env()
    with tempfile.TemporaryDirectory(prefix="relax-pins-bench-") as tmp:
        out = Path(tmp) / "out.txt"
        cache = Path(tmp) / "cache"
        if warm:
            _measure(_commands(tool, path, cache, index, bins, out), env)
        for _ in range(runs):
            if not warm:
                shutil.rmtree(cache, ignore_errors=True)
            samples.append(_measure(_commands(tool, path, cache, index, bins, out), env))
    return samples


def _median(samples: list[Sample]) -> tuple[float, float, set[int]]:
    return (
        statistics.median(s.seconds for s in samples),
        max(s.peak_mb for s in samples),
        {s.code for s in samples},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pip-compile-runs", type=int, default=1)
    parser.add_argument("--inputs", nargs="*", type=Path, default=[HERE / "ml.txt", HERE / "ml-relaxed.txt"])
    args = parser.parse_args()
    bins = _tools()
    compileall.compile_dir(HERE.parent / "resolver", quiet=1)  # as installed from a wheel (module docstring)
    index = _pip_default_index()
    print(f"index: pip's default; target: Python {PYTHON}, {PLATFORM}; median of {args.runs} runs")
    for path in args.inputs:
        print(f"\n{path.name}")
        results: dict[tuple[str, bool], tuple[float, float, set[int]]] = {}
        for tool, runs in (("relax-pins", args.runs), ("uv", args.runs), ("pip-compile", args.pip_compile_runs)):
            for warm in (False, True):
                if runs <= 0 or (tool == "pip-compile" and warm):
                    continue
                results[(tool, warm)] = _median(_series(tool, path, runs, warm=warm, index=index, bins=bins))
                seconds, peak, codes = results[(tool, warm)]
                label = "warm" if warm else "cold"
                print(f"  {tool:<12} {label}: {seconds:7.2f} s   peak {peak:6.0f} MB   exit {sorted(codes)}")
        ours_cold, ours_warm = results[("relax-pins", False)][0], results[("relax-pins", True)][0]
        uv_cold, uv_warm = results[("uv", False)][0], results[("uv", True)][0]
        print(f"  cold vs uv: {ours_cold / uv_cold:5.2f}x (target <= 2)")
        print(f"  warm vs uv: {ours_warm / uv_warm:5.2f}x (target <= 1)")
        if ("pip-compile", False) in results:
            ratio = results[("pip-compile", False)][0] / ours_cold
            print(f"  pip-compile / relax-pins cold: {ratio:5.1f}x (target >= 10)")
        peak = max(results[("relax-pins", w)][1] for w in (False, True))
        print(f"  relax-pins peak memory: {peak:.0f} MB (target < 200)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
