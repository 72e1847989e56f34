"""Against the live index pip is configured with: the seed's stack locks to what uv resolves for the same input.

Left out by default; run with ``python -m pytest -m network tests/test_lock_network.py``. uv must be installed
(it is in the test extra): the comparison is the point of the test, so a missing uv fails it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.pylock import Pylock

from resolver.pipeline.lock import layer_files, lock_files
from resolver.pipeline.relax import RelaxSettings, plan_relax
from resolver.pipeline.session import IndexOptions
from resolver.writers.pylock import render_pylock
from tests.test_lock import isolate_pip, load_toml

pytestmark = pytest.mark.network

SEED = "torch==2.7.1\ntorchvision==0.22.1\ntorchaudio==2.7.1\ntransformers==4.52.4\n"


def find_uv() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("uv is not installed (neither on PATH nor in this venv): pip install uv, it is in the test extra")
    return found


def uv_compile(requirements: Path) -> dict[str, str]:
    """``name -> version`` as ``uv pip compile`` resolves the file for Python 3.11 on manylinux_2_28 x86_64."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["UV_NO_CONFIG"] = "1"
    args = [
        find_uv(),
        "pip",
        "compile",
        str(requirements),
        "--python-version",
        "3.11",
        "--python-platform",
        "x86_64-manylinux_2_28",
        "--no-header",
        "--no-annotate",
        "--quiet",
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    pins = {}
    for raw in done.stdout.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.split(";", 1)[0].strip()
    return pins


def test_seed_stack_locks_like_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_pip(monkeypatch)
    monkeypatch.chdir(tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(SEED)
    result = plan_relax(RelaxSettings(paths=(requirements,)))
    options = IndexOptions(python="3.11", platform="manylinux_2_28_x86_64", cache_dir=tmp_path / "cache")
    outcome = lock_files(result, options)
    assert outcome.lock is not None, (outcome.findings, outcome.unreachable, outcome.integrity)
    ours = {p.name: str(p.version) for p in outcome.lock.packages}
    assert ours == uv_compile(requirements)
    text = render_pylock(outcome.lock)
    Pylock.from_dict(load_toml(text)).validate()
    torch = outcome.lock.get("torch")
    assert torch is not None
    assert torch.size is not None
    assert torch.size > 100_000_000  # the main index's Linux torch wheel is hundreds of megabytes


def test_seed_stack_layers_put_the_gigabytes_in_the_torch_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_pip(monkeypatch)
    monkeypatch.chdir(tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(SEED)
    result = plan_relax(RelaxSettings(paths=(requirements,)))
    options = IndexOptions(python="3.11", platform="manylinux_2_28_x86_64", cache_dir=tmp_path / "cache")
    plan = layer_files(result, options).plan
    assert plan is not None
    files = [layer.filename for layer in plan.layers]
    assert files[:3] == ["01-build.txt", "02-torch-cu126.txt", "03-huggingface.txt"]
    torch_layer = plan.layers[1]
    assert torch_layer.size > plan.size * 0.9
    assert any(p.name.startswith("nvidia-") for p in torch_layer.packages)
