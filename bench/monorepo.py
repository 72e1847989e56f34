"""A monorepo benchmark: 50 requirement files of 20 to 60 pins each, checked one after another, one cache.

A benchmark, not a test: it talks to the live index pip is configured with (this machine's extra indexes and
find-links are switched off). The files are made from the resolution of bench/ml.txt (so every pin exists and
each file is a consistent set), sampled with a fixed seed. For each file it prints the wall time and the
share of index answers served from the cache; the second file onward must cost a fraction of the first.

    python bench/monorepo.py [--files 50] [--seed 7]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = ["--python", "3.11", "--platform", "manylinux_2_28_x86_64"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _check(path: Path, cache: Path) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "resolver", "check", str(path), "--cache-dir", str(cache), "--format", "json", *TARGET],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    elapsed = time.perf_counter() - start
    if not out.stdout.strip():
        raise SystemExit(f"relax-pins check {path} printed no report (exit {out.returncode}):\n{out.stderr}")
    return elapsed, json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    compileall.compile_dir(HERE.parent / "resolver", quiet=1)  # as installed from a wheel (see bench/run.py)
    with tempfile.TemporaryDirectory(prefix="relax-pins-monorepo-") as tmp:
        root = Path(tmp)
        cache = root / "cache"
        _, doc = _check(HERE / "ml.txt", root / "seed-cache")
        environments = doc["environments"]
        assert isinstance(environments, list)
        resolution = environments[0]["resolution"]
        assert isinstance(resolution, dict)
        pins = sorted(resolution["highest"].items())
        rng = random.Random(args.seed)
        files = []
        for i in range(args.files):
            chosen = rng.sample(pins, k=min(len(pins), rng.randint(20, 60)))
            path = root / f"service-{i:02d}" / "requirements.txt"
            path.parent.mkdir()
            path.write_text("".join(f"{name}=={version}\n" for name, version in sorted(chosen)))
            files.append((path, len(chosen)))
        print(f"{len(files)} files, {sum(n for _, n in files)} pins, {len(pins)} distinct packages; one cache")
        times: list[float] = []
        for index, (path, count) in enumerate(files):
            elapsed, report = _check(path, cache)
            stats = report.get("index", {})
            assert isinstance(stats, dict)
            answered = int(stats.get("requests", 0)) + int(stats.get("cache_hits", 0))
            share = int(stats.get("cache_hits", 0)) / answered if answered else 0.0
            times.append(elapsed)
            print(f"  {index + 1:2d} {path.parent.name}: {count:2d} pins  {elapsed:5.2f} s  from cache {share:5.1%}")
        rest = statistics.median(times[1:]) if len(times) > 1 else float("nan")
        print(f"first file {times[0]:.2f} s; median of the rest {rest:.2f} s ({rest / times[0]:.0%} of the first)")
        print(f"total {sum(times):.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
