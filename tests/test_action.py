"""The GitHub Action: ``action.yml`` and the module it runs (``python -m resolver.cli.action``), run here on a git
repository the test makes, against the loopback index, as a pull request's job would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from resolver.cli.action import base_ref, check_args
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.scenario import ML, publish
from tests.test_check import index_server

__all__ = ["index_server"]

ROOT = Path(__file__).resolve().parents[1]


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def test_the_action_installs_from_its_own_checkout_and_runs_the_module() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert any("actions/cache" in step.get("uses", "") for step in steps)
    install = next(step["run"] for step in steps if "pip install" in step.get("run", ""))
    assert '"$GITHUB_ACTION_PATH"' in install  # the action's own checkout, not a package index
    assert steps[-1]["run"].endswith("-m resolver.cli.action")
    assert set(action["inputs"]) == {"paths", "base", "args", "python"}


def test_the_base_is_the_input_then_the_pull_requests_base_branch() -> None:
    assert base_ref({"INPUT_BASE": "main"}) == "main"
    assert base_ref({"GITHUB_BASE_REF": "develop"}) == "origin/develop"
    assert base_ref({}) == "HEAD~1"
    assert check_args({"INPUT_PATHS": "a.txt b.txt", "INPUT_ARGS": "--python 3.11"}) == [
        "a.txt",
        "b.txt",
        "--python",
        "3.11",
    ]
    assert check_args({"GITHUB_BASE_REF": "main"}) == ["--changed", "origin/main"]


def test_a_pull_request_gets_annotations_and_a_summary(
    tmp_path: Path, index_server: IndexServer, wheel_cache: WheelCache
) -> None:
    publish(index_server, wheel_cache, ML)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("torch==2.7.1\n")
    (repo / "docs.txt").write_text("unrelated\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "init")
    _git(repo, "checkout", "-qb", "feature")
    (repo / "requirements.txt").write_text("torch==2.7.1\ntorchvision==0.15.2\n")  # goes with torch 2.0 only
    _git(repo, "commit", "-qam", "add torchvision")
    summary = tmp_path / "summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "GITHUB_", "INPUT_"))}
    env |= {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": index_server.url,
        "RELAX_PINS_CACHE_DIR": str(tmp_path / "cache"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "INPUT_BASE": "main",
        "INPUT_ARGS": "--python 3.11 --platform manylinux_2_28_x86_64",
    }
    done = subprocess.run(
        [sys.executable, "-m", "resolver.cli.action"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stdout + done.stderr
    annotations = done.stdout.splitlines()
    assert any(
        line.startswith("::error file=requirements.txt,line=2,title=relax-pins torch-family-mismatch::")
        for line in annotations
    ), done.stdout
    assert all(line.startswith("::") for line in annotations)
    text = summary.read_text()
    assert text.startswith("## relax-pins: failed")
    assert "torch-family-mismatch" in text
    # nothing changed against the branch itself: exit 0, and the summary says so
    env["INPUT_BASE"] = "feature"
    done = subprocess.run(
        [sys.executable, "-m", "resolver.cli.action"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "no requirement file changed against feature" in done.stdout
