"""``--changed [REF]``: the requirement files a change touched, plus the files that include or install them, in
a real git repository the test makes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from resolver.cli import main
from resolver.pipeline.changed import changed_inputs, is_requirement_file


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements.txt").write_text("-r requirements/base.txt\ntorch==2.7.1\n")
    (tmp_path / "requirements" / "base.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "requirements" / "dev.txt").write_text("pytest==8.0.0\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY requirements.txt /app/\nRUN pip install -r /app/requirements.txt\n"
    )
    (tmp_path / "MANIFEST.in").write_text("include a\n")
    (tmp_path / "notes.txt").write_text("torch==2.7.1\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "init")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_which_names_are_requirement_files() -> None:
    assert all(map(is_requirement_file, ["requirements.txt", "a/requirements-dev.in", "requirements/gpu.txt"]))
    assert all(map(is_requirement_file, ["pyproject.toml", "docker/Dockerfile", "train.Dockerfile"]))
    assert not any(map(is_requirement_file, ["MANIFEST.in", "notes.txt", "docs/requirements.md", "setup.cfg"]))


def test_a_changed_include_brings_the_files_that_include_and_install_it(repo: Path) -> None:
    assert changed_inputs("HEAD") == ()
    (repo / "requirements" / "base.txt").write_text("numpy==1.26.3\n")
    (repo / "notes.txt").write_text("torch==2.7.0\n")  # changed, but no requirement file
    (repo / "MANIFEST.in").write_text("include b\n")
    found = [p.as_posix() for p in changed_inputs("HEAD")]
    # base.txt changed; requirements.txt includes it; the Dockerfile copies and installs requirements.txt
    assert found == ["Dockerfile", "requirements/base.txt", "requirements.txt"]


def test_against_a_branch_it_is_what_the_branch_changed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _git(repo, "checkout", "-qb", "feature")
    (repo / "requirements" / "dev.txt").write_text("pytest==8.1.0\n")
    (repo / "new-requirements.txt").write_text("rich==13.0.0\n")  # not committed: not in the branch's diff
    _git(repo, "commit", "-qam", "dev")
    assert [p.as_posix() for p in changed_inputs("main")] == ["requirements/dev.txt"]
    assert main(["--check", "--changed", "main"]) == 1
    out = capsys.readouterr().out
    assert "requirements/dev.txt:1: pytest==8.1.0 -> pytest>=8.1.0,<8.2.0" in out
    assert "torch" not in out and "rich" not in out


def test_nothing_changed_is_exit_0_with_a_clear_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--changed"]) == 0
    assert capsys.readouterr().out == "relax-pins: no requirement file changed against HEAD; nothing to check\n"
    assert main(["--changed", "--check"]) == 0  # no value: HEAD, and --check stays an option


def test_a_bad_ref_or_no_repository_is_bad_input(
    repo: Path,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["--check", "--changed", "no-such-branch"]) == 2
    err = capsys.readouterr().err
    assert "--changed: git diff --name-only failed" in err and "Traceback" not in err
    assert main(["--check", "--changed=--output=x"]) == 2
    assert "--changed takes a git ref, not '--output=x'" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path_factory.mktemp("not-a-repo"))
    assert main(["--check", "--changed"]) == 2
    assert "not a git repository" in capsys.readouterr().err
