"""The truth harness: what `check` says about real files, against what pip and uv say about the same files.

A benchmark of correctness, not a test: it talks to the live index pip is configured with (this machine's
extra indexes and find-links switched off, as in bench/run.py). For every file in tests/truth/verdicts.toml it
runs ``relax-pins check FILE --python P --platform T --format json`` and compares the answer with the verdict
recorded there, which was established with ``uv pip compile`` or ``pip install --dry-run`` for the same
target (the command and what it answered sit beside each verdict). It prints one row per file and the totals:

- found: the file cannot install, and check reports an error that names a package involved;
- found elsewhere: the file cannot install, and check reports errors, none naming a package involved;
- missed: the file cannot install, and check reports no error;
- false claim: the file installs, and check reports an error (each one is listed);
- right: the file installs and check reports no error (or bad input reported as bad input);
- unchecked: check could not tell (exit 3: an index it needs cannot be reached), which it says; an error it
  still reports on a file that installs is a false claim.

Dockerfiles (tests/data/corpus/docker/<name>/Dockerfile, with the files of their build context the corpus
has) are checked for their image (``python = "image"``): no --python or --platform is given.

    python bench/truth.py                    # every file in the table
    python bench/truth.py --only Wav2Lip     # files whose path contains the text
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "truth" / "verdicts.toml"
VERDICTS = ("resolves", "incompatible", "bad-input", "unknown")
#: ``python = "image"``: a Dockerfile checked for its own image's Python and platform (no --python/--platform)
IMAGE = "image"


@dataclass(frozen=True)
class Expected:
    path: str
    python: str
    platform: str
    verdict: str
    packages: tuple[str, ...]
    command: str
    answer: str


@dataclass
class Outcome:
    expected: Expected
    code: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    said: str = ""

    @property
    def kind(self) -> str:
        verdict = self.expected.verdict
        if verdict == "bad-input":
            return "right" if self.code == 2 else "missed"
        if self.code == 3 and verdict == "resolves" and self.errors:  # read without a location, yet an error
            return "false claim"
        if self.code in {2, 3}:  # bad input where the installers read the file, or an index out of reach
            return "false claim" if (self.code, verdict) == (2, "resolves") else "unchecked"
        if verdict in {"unknown", "resolves"}:
            return {"unknown": "unknown", "resolves": "false claim" if self.errors else "right"}[verdict]
        if not self.errors:
            return "missed"
        named = {p.lower() for p in self.expected.packages}
        hits = any(
            (e.get("package") or "").lower() in named or any(p in (e.get("message") or "").lower() for p in named)
            for e in self.errors
        )
        return "found" if hits else "found elsewhere"


def load_table(path: Path = TABLE) -> list[Expected]:
    document = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    rows = []
    for entry in document.get("file", []):
        verdict = entry["verdict"]
        if verdict not in VERDICTS:
            raise SystemExit(f"{path}: {entry['path']}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        rows.append(
            Expected(
                path=entry["path"],
                python=entry.get("python", "3.11"),
                platform=entry.get("platform", "manylinux_2_28_x86_64"),
                verdict=verdict,
                packages=tuple(entry.get("packages", ())),
                command=entry.get("command", ""),
                answer=entry.get("answer", ""),
            )
        )
    return rows


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def run_check(expected: Expected, cache: Path) -> Outcome:
    args = [sys.executable, "-m", "resolver", "check", str(ROOT / expected.path), "--format", "json"]
    if expected.python != IMAGE:  # a Dockerfile's target is its image's
        args += ["--python", expected.python, "--platform", expected.platform]
    args += ["--cache-dir", str(cache)]
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=_env(), cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    outcome = Outcome(expected=expected, code=done.returncode, seconds=seconds)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        outcome.said = (done.stderr.strip().splitlines() or [""])[-1][:160]
        return outcome
    outcome.errors = [f for f in report.get("findings", []) if f.get("severity") == "error"]
    outcome.said = "; ".join(f"{f['code']} {f.get('package') or ''}".strip() for f in outcome.errors)[:160]
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="check only files whose path contains this text")
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args()
    rows = [r for r in load_table(args.table) if args.only in r.path]
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="relax-pins-truth-") as tmp:
        for expected in rows:
            outcome = run_check(expected, Path(tmp) / "cache")
            outcomes.append(outcome)
            name = expected.path.split("corpus/", 1)[-1]
            print(f"{outcome.kind:<15} {expected.verdict:<12} exit {outcome.code}  {outcome.seconds:5.1f} s  {name}")
            if outcome.kind in {"false claim", "missed", "found elsewhere", "unchecked", "unknown"} and outcome.said:
                print(f"{'':<15} relax-pins: {outcome.said}")
            if outcome.kind in {"false claim", "missed"}:
                print(f"{'':<15} {expected.answer}")
    print()
    kinds = ("found", "found elsewhere", "missed", "false claim", "right", "unchecked", "unknown")
    counts = {k: sum(1 for o in outcomes if o.kind == k) for k in kinds}
    incompatible = sum(1 for o in outcomes if o.expected.verdict in {"incompatible", "bad-input"})
    print(f"{len(outcomes)} files, {incompatible} that cannot install as written")
    print("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
