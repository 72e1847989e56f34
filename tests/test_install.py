"""relax-pins works when installed, not only from the source tree: from its wheel, and as a pre-commit hook.

Both tests are offline: the dependencies come from a wheelhouse repacked from this environment
(tests/wheelhouse.py), and pip is isolated from this machine's configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.indexserver import fixtures
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.scenario import ML, publish
from tests.wheelhouse import build_wheelhouse

index_server = fixtures.index_server

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _offline_pip_env(wheelhouse: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_CACHE_DIR="1",
    )
    return env


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    roots = ["packaging", "resolvelib", "httpx", "tomli-w", "tomlkit", "typer", "pyyaml", "hatchling"]
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"), roots)


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert isinstance(result, subprocess.CompletedProcess)
    return result


def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path, wheelhouse: Path) -> None:
    env = _offline_pip_env(wheelhouse)
    dist = tmp_path / "dist"
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(ROOT),
        ],
        env=env,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("relax_pins-*.whl")
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    installed = _run([str(python), "-m", "pip", "install", str(wheel)], env=env)
    assert installed.returncode == 0, installed.stderr

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "requirements.txt").write_text("torch==2.7.1\ncertifi==2024.2.2\n")
    cli = target / "bin" / "relax-pins"
    version = _run([str(cli), "--version"], cwd=outside, env=env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("relax-pins 0.")
    relaxed = _run([str(cli), "--no-verify", "requirements.txt"], cwd=outside, env=env)
    assert relaxed.returncode == 0, relaxed.stderr
    assert (outside / "requirements.txt").read_text() == "torch>=2.7.1,<2.8.0\ncertifi>=2024.2.2\n"
    # Imported from the venv, not from the source tree; the matrix data ships inside the wheel.
    where = _run(
        [
            str(python),
            "-c",
            "import resolver, pathlib; p = pathlib.Path(resolver.__file__).parent; "
            "print(p); print((p / 'data' / 'cuda_torch_matrix.yaml').is_file())",
        ],
        cwd=outside,
        env=env,
    )
    folder, has_matrix = where.stdout.split()
    assert Path(folder).is_relative_to(target)
    assert has_matrix == "True"
    module = _run([str(python), "-m", "resolver", "--version"], cwd=outside, env=env)
    assert module.stdout == version.stdout


def _snapshot_of_this_tree(dest: Path, env: dict[str, str]) -> Path:
    """A one-commit git repository holding this working tree as it is now (committed or not)."""
    listed = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT)
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-qm", "snapshot"]):
        assert _run(cmd, cwd=dest, env=env).returncode == 0
    return dest


def test_pre_commit_hook_rewrites_a_file(
    tmp_path: Path, wheelhouse: Path, index_server: IndexServer, wheel_cache: WheelCache
) -> None:
    """The rewriting hook verifies against the index pip is configured with: here, a loopback one."""
    publish(
        index_server,
        wheel_cache,
        {"torch": ML["torch"], "numpy": ML["numpy"], "filelock": ML["filelock"], "triton": ML["triton"]},
    )
    env = _offline_pip_env(wheelhouse)
    # pip (installing the hook's venv) and relax-pins (verifying) read the same configuration: the loopback index,
    # which has none of the hook's build dependencies (pip then finds them in the wheelhouse, still offline).
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {index_server.url}\nfind-links = {wheelhouse}\n")
    del env["PIP_NO_INDEX"], env["PIP_FIND_LINKS"]
    env["PIP_CONFIG_FILE"] = str(config)
    env["RELAX_PINS_CACHE_DIR"] = str(tmp_path / "cache")
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "test"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "test@example.invalid"
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "requirements.txt").write_text("torch==2.7.1\nnumpy>=1.26\n")
    (repo / "notes.txt").write_text("torch==2.7.1\n")  # not a requirements file: the hook must not touch it
    (repo / "MANIFEST.in").write_text("include a b\n")  # matched '*.in' and failed every commit as bad input
    (repo / "requirements").mkdir()
    (repo / "requirements" / "dev.in").write_text("numpy==1.26.4\n")
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-qm", "init"]):
        assert _run(cmd, cwd=repo, env=env).returncode == 0
    hooks_repo = _snapshot_of_this_tree(tmp_path / "relax-pins", env)
    pre_commit = Path(sys.executable).parent / "pre-commit"
    check = _run([str(pre_commit), "try-repo", str(hooks_repo), "relax-pins-check", "--all-files"], cwd=repo, env=env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "would relax 2 pins in 2 files" in check.stdout
    assert "MANIFEST.in" not in check.stdout
    assert (repo / "requirements.txt").read_text() == "torch==2.7.1\nnumpy>=1.26\n"
    fix = _run([str(pre_commit), "try-repo", str(hooks_repo), "relax-pins", "--all-files"], cwd=repo, env=env)
    assert fix.returncode == 1, fix.stdout + fix.stderr  # pre-commit fails a hook that modified files
    assert "files were modified by this hook" in fix.stdout
    assert (repo / "requirements.txt").read_text() == "torch>=2.7.1,<2.8.0\nnumpy>=1.26\n"
    assert (repo / "notes.txt").read_text() == "torch==2.7.1\n"
    assert (repo / "MANIFEST.in").read_text() == "include a b\n"
