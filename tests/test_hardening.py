"""The guarantees of docs/guarantees.md, each held by a test that injects the fault."""

from __future__ import annotations

import builtins
import codecs
import errno
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from resolver import fsio
from resolver.cli import main
from resolver.writers import report
from tests.indexserver.server import IndexServer


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_every_parse_error_of_every_file_is_reported(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "a.txt").write_text("torch==2.7.1\n--frobnicate\nnumpy==\n")
    (work / "b.txt").write_text("ok==1.0\nfoo bar==1\n")
    assert main(["--no-verify", "a.txt", "b.txt"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("  hint:")]
    assert [line.split(":")[0:2] for line in lines] == [["a.txt", "2"], ["a.txt", "3"], ["b.txt", "2"]]
    assert all(len(line.split(":")) >= 4 for line in lines)  # path:line:col: message
    assert "Traceback" not in err
    assert (work / "a.txt").read_text() == "torch==2.7.1\n--frobnicate\nnumpy==\n"


def test_interrupt_restores_every_file_and_exits_130(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (work / "requirements.txt").write_text("-r more.txt\ntorch==2.7.1\n")
    (work / "more.txt").write_text("numpy==1.26.4\n")
    real_replace = os.replace
    calls = {"n": 0}

    def interrupted(src: Any, dst: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    assert main(["--no-verify", "requirements.txt"]) == 130
    monkeypatch.setattr(os, "replace", real_replace)
    assert "interrupted; no files changed" in capsys.readouterr().err
    assert (work / "requirements.txt").read_text() == "-r more.txt\ntorch==2.7.1\n"
    assert (work / "more.txt").read_text() == "numpy==1.26.4\n"
    assert not list(work.glob(".*.tmp"))


def test_a_signal_during_the_commit_waits_for_it_and_the_message_says_what_changed(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT in the middle of the renames of a 201-file rewrite left 200 files old and 1 new with "no files
    changed"; two SIGINTs 20 ms apart, 145 old and 56 new. Signals are now held during the commit: it
    completes, then the interrupt is taken, and the message lists what changed (exit 130)."""
    names = [f"r{i}.txt" for i in range(5)]
    for name in names:
        (work / name).write_text("torch==2.7.1\n")
    real_replace = os.replace
    calls = {"n": 0}

    def signalled(src: Any, dst: Any) -> None:
        calls["n"] += 1
        if calls["n"] in (2, 3):  # two signals, in the middle of the commit
            os.kill(os.getpid(), signal.SIGINT)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", signalled)
    assert main(["--no-verify", *names]) == 130
    monkeypatch.setattr(os, "replace", real_replace)
    err = capsys.readouterr().err
    assert "interrupted after the rewrite was complete; 5 changed: r0.txt, r1.txt, r2.txt, r3.txt, r4.txt" in err
    assert all((work / name).read_text() == "torch>=2.7.1,<2.8.0\n" for name in names)
    assert not list(work.glob(".*.tmp"))


def test_an_interrupt_after_the_commit_does_not_say_no_files_changed(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C after every file was written, before the report, said "no files changed"."""
    (work / "requirements.txt").write_text("torch==2.7.1\n")

    def interrupted(*_args: Any, **_kwargs: Any) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "render_text", interrupted)
    assert main(["--no-verify", "requirements.txt"]) == 130
    assert "interrupted after the rewrite was complete; 1 changed: requirements.txt" in capsys.readouterr().err
    assert (work / "requirements.txt").read_text() == "torch>=2.7.1,<2.8.0\n"


def test_sigterm_while_staging_leaves_no_temporary_file(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM ended the process where it stood, leaving the staged .tmp files; it is now handled like
    Ctrl-C (every finally runs), exit 143, and nothing changed."""
    for name in ("a.txt", "b.txt"):
        (work / name).write_text("torch==2.7.1\n")
    real_stage = fsio._stage
    calls = {"n": 0}

    def terminated(target: Path, data: bytes) -> Path:
        calls["n"] += 1
        staged = real_stage(target, data)
        if calls["n"] == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return staged

    monkeypatch.setattr(fsio, "_stage", terminated)
    assert main(["--no-verify", "a.txt", "b.txt"]) == 143
    assert "interrupted; no files changed" in capsys.readouterr().err
    assert (work / "a.txt").read_text() == (work / "b.txt").read_text() == "torch==2.7.1\n"
    assert not list(work.glob(".*.tmp"))


def test_sigterm_during_the_commit_is_exit_143_and_says_what_changed(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGTERM held during the commit was raised as Ctrl-C (exit 130)."""
    for name in ("a.txt", "b.txt"):
        (work / name).write_text("torch==2.7.1\n")
    real_replace = os.replace

    def signalled(src: Any, dst: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", signalled)
    assert main(["--no-verify", "a.txt", "b.txt"]) == 143
    monkeypatch.setattr(os, "replace", real_replace)
    assert "interrupted after the rewrite was complete; 2 changed: a.txt, b.txt" in capsys.readouterr().err


def test_a_second_ctrl_c_during_the_cleanup_leaves_no_temporary_file(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two SIGINTs 20 ms apart left a .tmp file in 13 to 15 runs of 80: the second one cut the cleanup of
    the first. The cleanup now runs with signals held."""
    for name in ("a.txt", "b.txt", "c.txt"):
        (work / name).write_text("torch==2.7.1\n")
    real_stage, real_clean = fsio._stage, fsio.clean_stray_temps
    calls = {"stage": 0}

    def staged_then_interrupted(target: Path, data: bytes) -> Path:
        calls["stage"] += 1
        temp = real_stage(target, data)
        if calls["stage"] == 2:
            raise KeyboardInterrupt  # the first Ctrl-C, between staging a file and recording it
        return temp

    def cleaning_interrupted(folder: Path, name: str) -> list[Path]:
        os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, in the middle of the cleanup
        return real_clean(folder, name)

    monkeypatch.setattr(fsio, "_stage", staged_then_interrupted)
    monkeypatch.setattr(fsio, "clean_stray_temps", cleaning_interrupted)
    assert main(["--no-verify", "a.txt", "b.txt", "c.txt"]) == 130
    assert "interrupted; no files changed" in capsys.readouterr().err
    assert not list(work.glob(".*.tmp"))
    assert all((work / n).read_text() == "torch==2.7.1\n" for n in ("a.txt", "b.txt", "c.txt"))


@pytest.mark.parametrize(
    ("hook", "code"),
    [
        # Ctrl-C while the command line is still loading (before any handler of relax-pins exists)
        ("builtins.__import__ = lambda n, *a, r=builtins.__import__, **k: (n == 'typer' and os.kill(os.getpid(), "
         "signal.SIGINT), r(n, *a, **k))[1]", 130),
        # SIGTERM while typer parses the arguments, before a command's guard
        ("import typer.main; real = typer.main.Typer.__call__; typer.main.Typer.__call__ = lambda self, *a, **k: "
         "(os.kill(os.getpid(), signal.SIGTERM), real(self, *a, **k))[1]", 143),
    ],
)  # fmt: skip
def test_a_signal_outside_a_command_is_said_without_a_traceback(tmp_path: Path, hook: str, code: int) -> None:
    """Early Ctrl-C printed a KeyboardInterrupt traceback; a SIGTERM before a command's guard printed one
    ending in Terminated, exit 1."""
    (tmp_path / "requirements.txt").write_text("torch==2.7.1\n")
    program = f"import builtins, os, signal\n{hook}\nfrom resolver.__main__ import run\nrun()\n"
    done = subprocess.run(
        [sys.executable, "-c", program, "--check", "requirements.txt"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == code, done.stderr
    assert done.stderr.strip() == "relax-pins: interrupted; no files changed", done.stderr


def test_ctrl_c_does_not_wait_for_a_stalled_request(tmp_path: Path) -> None:
    """SIGINT while a request was stalled waited for the request (45 s): the workers and the connections
    are now ended at once."""
    server = IndexServer().start()
    try:
        server.slow("/simple/*", 25.0)
        (tmp_path / "requirements.txt").write_text("torch>=2.7\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
        command = [sys.executable, "-m", "resolver", "check", "requirements.txt", "--index-url", server.url,
                   "--no-cache", "--timeout", "30"]  # fmt: skip
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            proc = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
            time.sleep(1.5)  # the requests are stalled by now
            sent = time.monotonic()
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
            assert time.monotonic() - sent < 1.0, err
            assert proc.returncode == code, err
            assert "interrupted; no files changed" in err
    finally:
        server.stop()


def test_disk_full_is_a_clear_error_and_changes_nothing(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (work / "requirements.txt").write_text("torch==2.7.1\n")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert main(["--no-verify", "requirements.txt"]) == 2
    err = capsys.readouterr().err
    assert "requirements.txt: cannot write: No space left on device; no file was changed" in err
    assert (work / "requirements.txt").read_text() == "torch==2.7.1\n"
    assert not list(work.glob(".*.tmp"))


def test_refused_replace_is_a_clear_error(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only target (root ignores file modes, so the refusal is injected where it would happen)."""
    (work / "requirements.txt").write_text("torch==2.7.1\n")

    def refused(src: Any, dst: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refused)
    assert main(["--no-verify", "requirements.txt"]) == 2
    assert "Permission denied" in capsys.readouterr().err
    assert (work / "requirements.txt").read_text() == "torch==2.7.1\n"


@pytest.mark.parametrize("mode", ["--check", "--diff"])
def test_check_and_diff_never_open_a_file_for_writing(work: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    (work / "requirements.txt").write_text("torch==2.7.1\n")
    real_open, real_os_open = builtins.open, os.open
    writes: list[str] = []

    def watched_open(file: Any, mode_: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode_ for flag in "wax+") and str(work) in str(Path(str(file)).absolute()):
            writes.append(str(file))
        return real_open(file, mode_, *args, **kwargs)

    def watched_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and str(work) in str(Path(str(path)).absolute()):
            writes.append(str(path))
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watched_open)
    monkeypatch.setattr(os, "open", watched_os_open)
    code = main([mode, "requirements.txt"])
    assert code == (1 if mode == "--check" else 0)
    assert writes == []
    assert (work / "requirements.txt").read_text() == "torch==2.7.1\n"


def test_symlink_inside_is_written_through_outside_is_refused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "real.txt").write_text("torch==2.7.1\n")
    (work / "inside.txt").symlink_to(work / "real.txt")
    assert main(["--no-verify", "inside.txt"]) == 0
    assert (work / "inside.txt").is_symlink()
    assert (work / "real.txt").read_text() == "torch>=2.7.1,<2.8.0\n"

    elsewhere = Path(tempfile.mkdtemp()) / "shared.txt"
    elsewhere.write_text("numpy==1.26.4\n")
    (work / "outside.txt").symlink_to(elsewhere)
    assert main(["--no-verify", "outside.txt"]) == 2
    err = capsys.readouterr().err
    assert "outside.txt: is a symlink to" in err
    assert "--allow-outside-links" in err
    assert elsewhere.read_text() == "numpy==1.26.4\n"
    assert main(["--no-verify", "--allow-outside-links", "outside.txt"]) == 0
    assert elsewhere.read_text() == "numpy>=1.26.4,<1.27.0\n"


def test_the_outside_link_rule_holds_for_a_file_reached_by_an_include(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-r link.txt`` used to be followed to its target's path, so a link leaving the repository was written
    through without a word, though the same link given directly was refused."""
    elsewhere = Path(tempfile.mkdtemp()) / "shared.txt"
    elsewhere.write_text("numpy==1.26.4\n")
    (work / "link.txt").symlink_to(elsewhere)
    (work / "requirements.txt").write_text("-r link.txt\ntorch==2.7.1\n")
    assert main(["--no-verify", "requirements.txt"]) == 2
    assert "link.txt: is a symlink to" in capsys.readouterr().err
    assert elsewhere.read_text() == "numpy==1.26.4\n"
    assert (work / "requirements.txt").read_text() == "-r link.txt\ntorch==2.7.1\n"  # all or none


def test_a_symlinked_folder_that_leaves_the_repository_is_refused(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only a symlinked file was checked: with ``ld -> ../outside``, ``ld/ext.txt`` (given, or reached by
    ``-r``) rewrote the file outside. A plain path outside (``-r ../shared.txt``) names that file and is
    written, as before."""
    outside = Path(tempfile.mkdtemp())
    (outside / "ext.txt").write_text("numpy==1.26.4\n")
    (work / "ld").symlink_to(outside)
    (work / "requirements.txt").write_text("-r ld/ext.txt\n")
    for given in ("ld/ext.txt", "requirements.txt"):
        assert main(["--no-verify", given]) == 2
        assert "ld/ext.txt: leads through a symlinked folder to" in capsys.readouterr().err
        assert (outside / "ext.txt").read_text() == "numpy==1.26.4\n"
    assert main(["--no-verify", "--allow-outside-links", "ld/ext.txt"]) == 0
    assert (outside / "ext.txt").read_text() == "numpy>=1.26.4,<1.27.0\n"


def test_a_read_only_file_is_not_rewritten_unless_forced(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 0444 file was rewritten (rename replaces it whatever its mode). Now it is exit 2 with the reason, and
    --force rewrites it keeping its mode."""
    path = work / "requirements.txt"
    path.write_text("torch==2.7.1\n")
    path.chmod(0o444)
    assert main(["--no-verify", "requirements.txt"]) == 2
    err = capsys.readouterr().err
    assert "requirements.txt: is read-only (mode 0444); no file was changed" in err and "--force" in err
    assert path.read_text() == "torch==2.7.1\n"
    assert main(["--no-verify", "--force", "requirements.txt"]) == 0
    assert path.read_text() == "torch>=2.7.1,<2.8.0\n"
    assert path.stat().st_mode & 0o777 == 0o444


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_a_rewritten_file_keeps_its_owner_and_group(work: Path) -> None:
    """A root run (a CI job, a container) left root:root files in a user's repository."""
    path = work / "requirements.txt"
    path.write_text("torch==2.7.1\n")
    os.chown(path, 1234, 2345)
    assert main(["--no-verify", "requirements.txt"]) == 0
    assert path.read_text() == "torch>=2.7.1,<2.8.0\n"
    assert (path.stat().st_uid, path.stat().st_gid) == (1234, 2345)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            codecs.BOM_UTF16_LE + "torch==2.7.1\r\n".encode("utf-16-le"),
            codecs.BOM_UTF16_LE + "torch>=2.7.1,<2.8.0\r\n".encode("utf-16-le"),
        ),
        (
            b"# -*- coding: latin-1 -*-\ntorch==2.7.1  # d\xe9j\xe0\n",
            b"# -*- coding: latin-1 -*-\ntorch>=2.7.1,<2.8.0  # d\xe9j\xe0\n",
        ),
    ],
)
def test_encodings_are_written_back_as_they_came(work: Path, raw: bytes, expected: bytes) -> None:
    (work / "requirements.txt").write_bytes(raw)
    assert main(["--no-verify", "requirements.txt"]) == 0
    assert (work / "requirements.txt").read_bytes() == expected


def test_undecodable_bytes(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "requirements.txt").write_bytes(b"torch==2.7.1\n\xff\xfe==1\n")
    assert main(["--no-verify", "requirements.txt"]) == 2
    assert capsys.readouterr().err.startswith("requirements.txt:2:1: cannot decode byte 0xff as utf-8")


def test_include_depth_is_limited(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(40):
        (work / f"r{i}.txt").write_text(f"-r r{i + 1}.txt\n")
    (work / "r40.txt").write_text("torch==2.7.1\n")
    assert main(["--no-verify", "r0.txt"]) == 2
    assert "includes nest deeper than 32 files" in capsys.readouterr().err


_KILLED_WRITER = """
import sys, pathlib
from resolver.fsio import write_all
target = pathlib.Path(sys.argv[1])
old = target.read_bytes()
new = b"new-line==1.0\\n" * 2_000_000
while True:
    write_all([(target, new, old)])
    write_all([(target, old, new)])
"""


def test_sigkill_mid_write_leaves_old_or_new_and_the_next_run_cleans_up(work: Path) -> None:
    target = work / "requirements.txt"
    old = b"torch==2.7.1\n"
    target.write_bytes(old)
    new = b"new-line==1.0\n" * 2_000_000
    for delay in (0.15, 0.3, 0.45):
        proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(target)])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        content = target.read_bytes()
        assert content in (old, new), f"cut file after SIGKILL at {delay}s: {len(content)} bytes"
    (work / ".requirements.txt.relax-pins-left0ver.tmp").write_bytes(new[:1000])  # as a kill mid-stage leaves
    target.write_bytes(old)
    assert main(["--no-verify", "requirements.txt"]) == 0
    assert target.read_bytes() == b"torch>=2.7.1,<2.8.0\n"
    assert not list(work.glob(".requirements.txt.relax-pins-*.tmp"))  # the next run cleaned every stray


def test_overlong_lines_and_files_are_refused(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (work / "requirements.txt").write_text("torch==2.7.1\n" + "x" * 100_001 + "\n")
    assert main(["--no-verify", "requirements.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("requirements.txt:2:100001: line is 100001 characters long")
    (work / "requirements.txt").write_text("torch==2.7.1\n" * 100)
    monkeypatch.setattr("resolver.fsio.MAX_FILE_BYTES", 1000)
    assert main(["--no-verify", "requirements.txt"]) == 2
    assert "relax-pins reads files up to 1000 bytes" in capsys.readouterr().err
    assert (work / "requirements.txt").read_text() == "torch==2.7.1\n" * 100
