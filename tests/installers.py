"""The installers relax-pins predicts, run on the loopback index: what they answer is a test's expected verdict.

Both run from the current folder on ``requirements.txt``, with this machine's pip and uv configuration
switched off, for Python 3.11 on manylinux_2_28_x86_64.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

_PIP = (
    "install --dry-run --ignore-installed --report - --quiet --python-version 3.11 --platform manylinux_2_28_x86_64"
    " --only-binary=:all: -r requirements.txt"
)
_UV = "pip compile requirements.txt --python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-cache"


def _run(command: list[str], **settings: str) -> subprocess.CompletedProcess[str]:
    """``command`` with no PIP_/UV_ variable of this machine, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    return subprocess.run(command, capture_output=True, text=True, env={**env, **settings}, check=False)


def pip_installs(index_url: str, *options: str) -> dict[str, str] | None:
    """What pip would install for requirements.txt on the target, or ``None`` when it finds no solution."""
    done = _run(
        [sys.executable, "-m", "pip", *_PIP.split(), "--index-url", index_url, *options],
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_CACHE_DIR="1",
    )
    if done.returncode != 0:
        assert "No matching distribution" in done.stderr or "ResolutionImpossible" in done.stderr, done.stderr
        return None
    report = json.loads(done.stdout)
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in report["install"]}


def uv_compiles(index_url: str, *options: str) -> dict[str, str] | None:
    """What ``uv pip compile`` pins for requirements.txt on the target, or ``None`` when it finds no solution."""
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    assert found, "uv is not installed: pip install uv (it is in the test extra)"
    done = _run([found, *_UV.split(), "--no-header", "--quiet", "--index-url", index_url, *options], UV_NO_CONFIG="1")
    if done.returncode != 0:
        assert "No solution found" in done.stderr, done.stderr
        return None
    pins = [line.split("==") for line in done.stdout.splitlines() if "==" in line and not line.startswith(" ")]
    return {name.strip(): version.strip() for name, version in pins}
