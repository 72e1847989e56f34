"""Large inputs: ``relax-pins --check`` on generated files of 10k, 50k and 200k pinned lines, time per line.

Time must grow linearly with the input (docs/guarantees.md): the figure to watch is the time per line, which
stays flat from 10k to 200k lines when it does. A requirements file of N exact pins and a pyproject.toml with N
dependencies are written to a temporary folder, and each is run once through the console script (no index is
asked: ``--check`` relaxes and reports what would change). Before the fix of issue 13, 40k pins took 44.6 s
and 200k would have taken hours (one copy of every entry per changed pin).

    python bench/large.py                 # 10k, 50k, 200k lines; pyproject.toml 10k and 40k
    python bench/large.py --sizes 1000 5000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def requirements(n: int) -> str:
    return "".join(f"pkg{i}=={1 + i % 5}.{i % 50}.{i % 7}\n" for i in range(n))


def pyproject(n: int) -> str:
    deps = "".join(f'  "pkg{i}=={1 + i % 5}.{i % 50}.{i % 7}",\n' for i in range(n))
    return f'[project]\nname = "large"\nversion = "1"\ndependencies = [\n{deps}]\n'


def run(path: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "resolver", "--check", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 1:  # --check exits 1 when files would change
        raise SystemExit(f"{path}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--pyproject-sizes", type=int, nargs="+", default=[10_000, 40_000])
    args = parser.parse_args()
    print(f"{'input':<28} {'lines':>8} {'seconds':>8} {'us/line':>8}")
    with tempfile.TemporaryDirectory(prefix="relax-pins-large-") as tmp:
        cases = [("requirements.txt", n, requirements(n)) for n in args.sizes]
        cases += [("pyproject.toml", n, pyproject(n)) for n in args.pyproject_sizes]
        for name, n, text in cases:
            folder = Path(tmp) / f"{name}-{n}"
            folder.mkdir()
            path = folder / name
            path.write_text(text, encoding="utf-8")
            seconds = run(path)
            print(f"{name:<28} {n:>8} {seconds:>8.2f} {seconds / n * 1e6:>8.1f}")


if __name__ == "__main__":
    main()
