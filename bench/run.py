"""Time relax-pins against `uv pip compile` and `pip-compile` on the same inputs, in one run, and print ratios.

A benchmark, not a test: it talks to the live index pip is configured with (read from pip at run time; this
machine's extra indexes and find-links are switched off so every tool asks the same index), and it installs
uv and pip-tools into bench/.venv-tools on first use.

    python bench/run.py                      # 5 runs each of relax-pins and uv, cold and warm; 1 of pip-compile
    python bench/run.py --runs 3 --pip-compile-runs 0 --inputs bench/ml.txt

Cold: an empty cache folder for every run. Warm: the same folder, filled by one unmeasured run. relax-pins
and uv take turns, run by run. Peak memory is the largest process's maximum resident set size (``wait4``),
and the most all of a run's processes held together (relax-pins forks two workers): their proportional set
sizes summed, sampled every 10 ms from /proc (a page the forked processes share counts once). A run more
than 4 s slower than the tool's fastest is reported as stalled (a DNS retry here), with the median of the
other runs beside the median of all.
relax-pins runs from this source tree, byte-compiled first as pip compiles an installed wheel (with
PYTHONDONTWRITEBYTECODE set, as on the workplace machine, an editable tree would otherwise be compiled from
source on every run: ~60 ms of each).
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
    peak_mb: float  # the largest single process (wait4's ru_maxrss covers the child and its reaped children)
    tree_mb: float  # the most the process and its children held together (PSS), sampled every 10 ms
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


def _tree_pss_kb(pid: int) -> int:
    """The proportional set size of ``pid`` and its descendants (Linux /proc; 0 elsewhere): a page shared by
    forked processes counts once in total, split between them, so the sum is what they hold together."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
        todo.extend(int(c) for c in children)
    return total


def _measure(cmd: list[str], env: dict[str, str]) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    tree = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        tree = max(tree, _tree_pss_kb(proc.pid))
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024
    return Sample(seconds=elapsed, peak_mb=peak, tree_mb=tree / 1024, code=proc.returncode)


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


def _interleaved(
    tools: list[str], path: Path, runs: int, *, warm: bool, index: str, bins: Path
) -> dict[str, list[Sample]]:
    """``runs`` samples per tool, the tools taking turns, so a slow minute of the network hits each alike.

    Cold: an empty cache folder before every run. Warm: each tool's folder filled by one unmeasured run.
    """
    samples: dict[str, list[Sample]] = {tool: [] for tool in tools}
    env = _env()
    with tempfile.TemporaryDirectory(prefix="relax-pins-bench-") as tmp:
        out = Path(tmp) / "out.txt"
        caches = {tool: Path(tmp) / f"cache-{tool}" for tool in tools}
        if warm:
            for tool in tools:
                _measure(_commands(tool, path, caches[tool], index, bins, out), env)
        for _ in range(runs):
            for tool in tools:
                if not warm:
                    shutil.rmtree(caches[tool], ignore_errors=True)
                samples[tool].append(_measure(_commands(tool, path, caches[tool], index, bins, out), env))
    return samples


#: A run this much slower than the tool's fastest waited on something outside it: on this machine, the DNS
#: server drops a packet now and then and glibc retries after 5 s (see docs/benchmarks.md).
STALL = 4.0


@dataclass
class Summary:
    median: float
    steady: float  # the median of the runs that did not stall
    stalls: int
    peak_mb: float
    tree_mb: float
    codes: set[int]

    def line(self, tool: str, label: str) -> str:
        stalled = f"   ({self.stalls} stalled; median of the rest {self.steady:.2f} s)" if self.stalls else ""
        return (
            f"  {tool:<12} {label}: {self.median:7.2f} s   peak {self.peak_mb:4.0f} MB"
            f" (all processes {self.tree_mb:4.0f} MB)   exit {sorted(self.codes)}{stalled}"
        )


def _summary(samples: list[Sample]) -> Summary:
    fastest = min(s.seconds for s in samples)
    steady = [s.seconds for s in samples if s.seconds <= fastest + STALL]
    return Summary(
        median=statistics.median(s.seconds for s in samples),
        steady=statistics.median(steady),
        stalls=len(samples) - len(steady),
        peak_mb=max(s.peak_mb for s in samples),
        tree_mb=max(s.tree_mb for s in samples),
        codes={s.code for s in samples},
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
    print(f"index: pip's default; target: Python {PYTHON}, {PLATFORM}; median of {args.runs} runs, interleaved")
    for path in args.inputs:
        print(f"\n{path.name}")
        results: dict[tuple[str, bool], Summary] = {}
        for warm in (False, True):
            for tool, samples in _interleaved(
                ["relax-pins", "uv"], path, args.runs, warm=warm, index=index, bins=bins
            ).items():
                results[(tool, warm)] = _summary(samples)
                print(results[(tool, warm)].line(tool, "warm" if warm else "cold"))
        if args.pip_compile_runs > 0:
            slow = _interleaved(["pip-compile"], path, args.pip_compile_runs, warm=False, index=index, bins=bins)
            results[("pip-compile", False)] = _summary(slow["pip-compile"])
            print(results[("pip-compile", False)].line("pip-compile", "cold"))
        for warm, target in ((False, 2), (True, 1)):
            ours, uv = results[("relax-pins", warm)], results[("uv", warm)]
            label = "warm" if warm else "cold"
            print(
                f"  {label} vs uv: {ours.median / uv.median:5.2f}x medians of all runs,"
                f" {ours.steady / uv.steady:5.2f}x without stalled runs (target <= {target})"
            )
        if ("pip-compile", False) in results:
            ratio = results[("pip-compile", False)].median / results[("relax-pins", False)].median
            print(f"  pip-compile / relax-pins cold: {ratio:5.1f}x (target >= 10)")
        peak = max(results[("relax-pins", w)].peak_mb for w in (False, True))
        tree = max(results[("relax-pins", w)].tree_mb for w in (False, True))
        print(f"  relax-pins peak memory: {peak:.0f} MB per process, {tree:.0f} MB all processes (target < 200)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
