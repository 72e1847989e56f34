"""The written locks and layers install into fresh venvs from the loopback index, and refuse tampered files.

Installers run as subprocesses with this machine's pip configuration switched off (``PIP_CONFIG_FILE`` is
``os.devnull``, every other ``PIP_*``/``UV_*`` variable dropped) and no cache. pylock.toml is installed with
uv and with the pip of this environment (``pip --python VENV``: pip 25.1+ reads pylock.toml; the pip a venv
gets from ensurepip may be older); layers with the venv's own pip, one ``--no-deps --require-hashes`` install
per layer, then ``pip check``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from resolver.pipeline.lock import layer_files, lock_files
from resolver.writers.hashed import render_hashed
from resolver.writers.layers import render_layer_files
from resolver.writers.pylock import render_pylock
from tests.indexserver.model import Project, dist
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.test_lock import EXPECTED, REQUIREMENTS, locked, options_for, read, stack

__all__ = ["stack"]  # the fixture, imported for pytest

pytestmark = pytest.mark.slow


def clean_env() -> dict[str, str]:
    """The environment without pip's or uv's configuration from this machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["UV_NO_CONFIG"] = "1"
    return env


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120, check=False)


def fresh_venv(path: Path, *, with_pip: bool = False) -> Path:
    """A new venv; its Python."""
    venv.create(path, with_pip=with_pip)
    return path / "bin" / "python"


def outer_pip(python: Path, *args: str) -> list[str]:
    """This environment's pip (new enough for pylock.toml) acting on the venv of ``python``."""
    return [sys.executable, "-m", "pip", "--python", str(python), *args]


def uv() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    assert found, "uv is not installed: pip install uv (it is in the test extra)"
    return found


def installed(python: Path) -> dict[str, str]:
    done = run(outer_pip(python, "list", "--format", "json"), python.parent)
    assert done.returncode == 0, done.stderr
    found = {item["name"].lower().replace("_", "-"): item["version"] for item in json.loads(done.stdout)}
    return {k: v for k, v in found.items() if k not in {"pip", "setuptools", "wheel"}}


def test_pylock_installs_with_uv_and_pip(stack: IndexServer, tmp_path: Path) -> None:
    lock = locked(lock_files(read(), options_for(stack, tmp_path)))
    Path("pylock.toml").write_text(render_pylock(lock))
    python = fresh_venv(tmp_path / "uv-venv")
    done = run(
        [uv(), "pip", "install", "--no-cache", "--python", str(python), "--index-url", stack.url, "-r", "pylock.toml"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert installed(python) == EXPECTED
    check = run(outer_pip(python, "check"), tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr

    other = fresh_venv(tmp_path / "pip-venv")
    done = run(outer_pip(other, "install", "--no-cache-dir", "--index-url", stack.url, "-r", "pylock.toml"), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed(other) == EXPECTED


def test_hashed_requirements_install_with_require_hashes(stack: IndexServer, tmp_path: Path) -> None:
    lock = locked(lock_files(read(), options_for(stack, tmp_path)))
    Path("requirements.lock.txt").write_text(render_hashed(lock))
    python = fresh_venv(tmp_path / "venv")
    args = ["install", "--no-cache-dir", "--require-hashes", "--index-url", stack.url, "-r", "requirements.lock.txt"]
    done = run(outer_pip(python, *args), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed(python) == EXPECTED


def test_layers_install_one_by_one_with_no_deps_then_pip_check(stack: IndexServer, tmp_path: Path) -> None:
    """Each layer with the venv's own pip, in order; nothing re-installed; ``pip check`` passes at the end.

    The build layer holds only ``wheel`` here: the loopback's pip and setuptools are stand-ins that would
    break the venv's real ones.
    """
    outcome = layer_files(read(REQUIREMENTS), options_for(stack, tmp_path), build_tools=("wheel",))
    plan = outcome.plan
    assert plan is not None
    folder = tmp_path / "layers"
    folder.mkdir()
    for name, text in render_layer_files(plan):
        (folder / name).write_text(text)
    python = fresh_venv(tmp_path / "venv", with_pip=True)
    pip = [str(python), "-m", "pip"]
    seen: set[str] = set()
    for layer in plan.layers:
        args = ["install", "--no-deps", "--require-hashes", "--no-cache-dir", "--index-url", stack.url]
        done = run([*pip, *args, "-r", str(folder / layer.filename)], tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Uninstalling" not in done.stdout  # nothing an earlier layer put down is replaced
        now = set(installed(python))
        assert now - seen == {p.name for p in layer.packages} - {"wheel"}
        seen = now
    check = run([*pip, "check"], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert installed(python) == EXPECTED


def test_a_tampered_hash_is_refused_by_the_installers(
    stack: IndexServer, wheel_cache: WheelCache, tmp_path: Path
) -> None:
    """The index advertises a wrong sha256 but serves the metadata, so locking never downloads the wheel: the
    lock records the index's hash, and pip and uv then refuse the file whose bytes do not match it."""
    path = wheel_cache.wheel("badpkg", "1.0")
    stack.add(Project("badpkg", [dist(path, wrong_hash=True)]))
    lock = locked(lock_files(read("badpkg==1.0\n"), options_for(stack, tmp_path)))
    Path("requirements.lock.txt").write_text(render_hashed(lock))
    Path("pylock.toml").write_text(render_pylock(lock))
    python = fresh_venv(tmp_path / "venv")
    args = ["install", "--no-cache-dir", "--require-hashes", "--index-url", stack.url, "-r", "requirements.lock.txt"]
    done = run(outer_pip(python, *args), tmp_path)
    assert done.returncode != 0
    assert "DO NOT MATCH THE HASHES" in done.stdout + done.stderr
    done = run([uv(), "pip", "install", "--no-cache", "--python", str(python), "-r", "pylock.toml"], tmp_path)
    assert done.returncode != 0
    assert "hash" in (done.stdout + done.stderr).lower()
    assert "badpkg" not in installed(python)
