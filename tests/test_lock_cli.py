"""`relax-pins lock` and `relax-pins layers` from the command line, against the loopback index."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from resolver.cli import main
from tests.indexserver.server import IndexServer
from tests.test_check import index_server, ml, run

__all__ = ["index_server", "ml"]


def test_lock_writes_a_stable_pylock_and_checks_it(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torch>=2.7.0,<2.8.0\ntorchvision>=0.22.0,<0.23.0\n")
    code, out, err = run(["lock", "requirements.txt", "-o", "pylock.toml", *ml], capsys)
    assert code == 0, err
    assert "locked" in out and "pylock.toml" in out
    first = Path("pylock.toml").read_bytes()
    assert b'lock-version = "1.0"' in first
    assert b'name = "torch"' in first and b'version = "2.7.1"' in first
    code, out, _ = run(["lock", "requirements.txt", "-o", "pylock.toml", *ml], capsys)
    assert code == 0 and "unchanged:" in out
    assert Path("pylock.toml").read_bytes() == first
    assert run(["lock", "--check", "requirements.txt", "-o", "pylock.toml", *ml], capsys)[0] == 0
    Path("requirements.txt").write_text("torch>=2.7.0,<2.8.0\n")
    code, out, _ = run(["lock", "--check", "requirements.txt", "-o", "pylock.toml", *ml], capsys)
    assert code == 1 and "out of date" in out


def test_lock_hashed_requirements_format(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torch==2.7.1\n")
    assert run(["lock", "--format", "requirements", "requirements.txt", "-o", "requirements.lock", *ml], capsys)[0] == 0
    text = Path("requirements.lock").read_text()
    assert "torch==2.7.1" in text
    assert "--hash=sha256:" in text


def test_output_equal_to_an_input_is_refused(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torch==2.7.1\n")
    code, _, err = run(["lock", "requirements.txt", "-o", "requirements.txt", "--format", "requirements", *ml], capsys)
    assert code == 2
    assert "is one of the input files" in err
    assert Path("requirements.txt").read_text() == "torch==2.7.1\n"


@pytest.mark.parametrize("name", ["lock.toml", "pylock.gpu.cuda.toml", "requirements.txt", "pylock.toml.bak"])
def test_a_pylock_file_gets_a_pep_751_name(ml: list[str], capsys: pytest.CaptureFixture[str], name: str) -> None:
    """``lock -o lock.toml`` wrote a PEP 751 lock that pip then reads as a requirements file: only pylock.toml
    and pylock.<name>.toml are lock files to an installer."""
    Path("requirements.txt").write_text("lib==1.9.0\n")
    code, _, err = run(["lock", "requirements.txt", "-o", name, *ml], capsys)
    assert code == 2 and f"{name}: is not a PEP 751 lock file name" in err
    assert not Path(name).exists() or name == "requirements.txt"
    assert run(["lock", "requirements.txt", "-o", "pylock.gpu.toml", *ml], capsys)[0] == 0


def test_lock_against_an_unreachable_index_writes_nothing(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torch==2.7.1\n")
    dead = ["--index-url", "http://127.0.0.1:9/simple/", "--retries", "0", "--no-cache"]
    code, _, err = run(["lock", "requirements.txt", "-o", "pylock.toml", *dead], capsys)
    assert code == 3
    assert "no files changed" in err
    assert not Path("pylock.toml").exists()


def test_layers_writes_files_fragment_and_summary(
    ml: list[str], capsys: pytest.CaptureFixture[str], index_server: IndexServer
) -> None:
    Path("requirements.txt").write_text("torch==2.7.1\ntransformers==4.36.2\ncertifi==2024.2.2\n")
    code, out, err = run(["layers", "requirements.txt", "-o", "layers", "--format", "json", *ml], capsys)
    assert code == 0, err
    summary = json.loads(out)
    names = sorted(p.name for p in Path("layers").iterdir())
    assert "Dockerfile.layers" in names
    assert any(n.startswith("02-torch") for n in names)
    layer_names = [layer["file"] if "file" in layer else layer.get("filename") for layer in summary["layers"]]
    assert all(name in names for name in layer_names)
    fragment = Path("layers/Dockerfile.layers").read_text()
    assert fragment.count("RUN --mount=type=cache,target=/root/.cache/pip") == len(layer_names)
    torch_layer = next(Path("layers").glob("02-torch*.txt")).read_text()
    assert "torch==2.7.1" in torch_layer and "--hash=sha256:" in torch_layer


def test_lock_with_an_unreachable_extra_index_writes_nothing(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """A check reads on without an extra index it cannot reach (and says what is unchecked); a lock must not:
    versions locked without that index may not be the ones pip installs."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/simple/"
    Path("requirements.txt").write_text(f"--extra-index-url {dead}\nlib>=1.5\n")
    code = main(["lock", "requirements.txt", "-o", "pylock.toml", *ml, "--retries", "0"])
    out = capsys.readouterr()
    assert code == 3, out
    assert dead in out.out + out.err
    assert not Path("pylock.toml").exists()


def test_layers_never_writes_over_an_input_or_a_file_it_did_not_write(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``layers 02-app.txt -o .`` replaced the user's file with a generated layer file, exit 0. Now an input is
    refused (with --force too), and so is a file layers did not write unless --force; nothing is written."""
    Path("out").mkdir()
    Path("requirements.txt").write_text("lib==1.9.0\n")
    code, out, err = run(["layers", "requirements.txt", "-o", "out", "--format", "json", *ml], capsys)
    assert code == 0, err
    name = json.loads(out)["layers"][-1]["file"]  # the application's layer (build tools come first)
    Path(name).write_text(Path("requirements.txt").read_text())  # the user's own file, named like that layer
    before = {p.name: p.read_bytes() for p in Path().iterdir() if p.is_file()}
    for force in ([], ["--force"]):
        code, _, err = run(["layers", name, "-o", ".", *force, *ml], capsys)
        assert code == 2, err
        assert f"{name}: is one of the input files" in err
        assert {p.name: p.read_bytes() for p in Path().iterdir() if p.is_file()} == before
    Path("out/Dockerfile.layers").write_text("FROM mine\n")  # not written by layers
    code, _, err = run(["layers", "requirements.txt", "-o", "out", *ml], capsys)
    assert code == 2 and "out/Dockerfile.layers: exists and was not written by relax-pins layers" in err
    assert Path("out/Dockerfile.layers").read_text() == "FROM mine\n"
    code, _, err = run(["layers", "requirements.txt", "-o", "out", "--force", *ml], capsys)
    assert code == 0, err
    assert "generated by relax-pins layers" in Path("out/Dockerfile.layers").read_text().lower()
    code, _, err = run(["layers", "requirements.txt", "-o", "out", *ml], capsys)  # its own files: replaced
    assert code == 0, err


def test_lock_never_replaces_a_file_another_tool_wrote(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """An existing pylock.toml written by another tool (or by hand) was replaced; now only with --force."""
    Path("requirements.txt").write_text("lib==1.9.0\n")
    Path("pylock.toml").write_text('lock-version = "1.0"\ncreated-by = "another-tool"\n')
    code, _, err = run(["lock", "requirements.txt", "-o", "pylock.toml", *ml], capsys)
    assert code == 2 and "pylock.toml: exists and was not written by relax-pins lock" in err
    assert Path("pylock.toml").read_text() == 'lock-version = "1.0"\ncreated-by = "another-tool"\n'
    assert run(["lock", "requirements.txt", "-o", "pylock.toml", "--force", *ml], capsys)[0] == 0
    assert run(["lock", "requirements.txt", "-o", "pylock.toml", *ml], capsys)[0] == 0  # its own: relocked


@pytest.mark.parametrize("fmt", ["json", "github", "markdown"])
def test_layers_says_why_it_wrote_nothing_in_its_format(
    ml: list[str], capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """layers with --format json, github or markdown printed nothing on stdout on exit 3 or 4."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/simple/"
    Path("requirements.txt").write_text("lib==1.9.0\n")
    at = ml.index("--index-url")
    args = [*ml[:at], "--index-url", dead, *ml[at + 2 :], "--retries", "0"]
    code, out, err = run(["layers", "requirements.txt", "-o", "out", "--format", fmt, *args], capsys)
    assert code == 3 and "no files changed" in err
    if fmt == "json":
        doc = json.loads(out)
        assert doc["ok"] is False and "127.0.0.1" in doc["error"]
    elif fmt == "github":
        assert out.startswith("::error title=relax-pins layers::")
    else:
        assert out.startswith("## relax-pins layers: no layers written")
    assert not Path("out").exists()


def test_the_config_file_a_run_read_is_never_its_output(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """``lock -o pylock.cfg.toml --config pylock.cfg.toml --force`` replaced the configuration it had read."""
    Path("requirements.txt").write_text("lib==1.9.0\n")
    Path("pylock.cfg.toml").write_text('[tool.relax-pins]\nbound = "minor"\n')
    argv = ["lock", "requirements.txt", "-o", "pylock.cfg.toml", "--config", "pylock.cfg.toml", "--force", *ml]
    code, _, err = run(argv, capsys)
    assert code == 2 and "is one of the input files" in err
    assert Path("pylock.cfg.toml").read_text() == '[tool.relax-pins]\nbound = "minor"\n'


@pytest.mark.parametrize("output", ["pylock.toml", "requirements.lock"])
def test_a_relock_keeps_the_pins_that_still_fit(ml: list[str], capsys: pytest.CaptureFixture[str], output: str) -> None:
    """Relocking picked the newest again (an idna==3.6 in the lock came back as 3.20). As pip-compile and uv do,
    a locked version is kept while the inputs allow it; --upgrade-package and --upgrade move it, and the
    output says what moved."""
    fmt = ["--format", "requirements"] if output.endswith(".lock") else []
    lock = ["lock", "requirements.txt", "-o", output, *fmt, *ml]
    Path("requirements.txt").write_text("lib>=1.5,<1.9\n")
    assert run(lock, capsys)[0] == 0
    assert "1.5.0" in Path(output).read_text()
    Path("requirements.txt").write_text("lib>=1.5\n")  # 1.9.0 is allowed now, but 1.5.0 still fits
    code, out, _ = run(lock, capsys)
    assert code == 0 and "lib: " not in out and "1.5.0" in Path(output).read_text()
    code, out, _ = run([*lock, "--upgrade-package", "lib"], capsys)
    assert code == 0 and "lib: 1.5.0 -> 1.9.0" in out
    code, out, _ = run([*lock, "--upgrade-package", "lib==1.5.0"], capsys)
    assert code == 0 and "lib: 1.9.0 -> 1.5.0" in out
    code, out, _ = run([*lock, "--upgrade"], capsys)
    assert code == 0 and "lib: 1.5.0 -> 1.9.0" in out
    Path("requirements.txt").write_text("lib>=1.0,<1.5\n")  # the kept pin no longer fits: it moves
    code, out, _ = run(lock, capsys)
    assert code == 0 and "lib: 1.9.0 -> 1.0.0" in out
    code, _, err = run([*lock, "--upgrade-package", "lib=="], capsys)
    assert code == 2 and "--upgrade-package takes NAME or NAME==VERSION" in err


@pytest.mark.parametrize("output", ["pylock.toml", "requirements.lock"])
def test_lock_check_says_when_it_is_the_target_that_differs(
    ml: list[str], capsys: pytest.CaptureFixture[str], output: str
) -> None:
    """``lock --check`` without the lock's --python said "out of date" without saying what differs."""
    fmt = ["--format", "requirements"] if output.endswith(".lock") else []
    Path("requirements.txt").write_text("lib>=1.5\n")
    assert run(["lock", "requirements.txt", "-o", output, *fmt, *ml], capsys)[0] == 0
    at = ml.index("--python")
    other = [*ml[:at], "--python", "3.12", *ml[at + 2 :]]
    code, out, _ = run(["lock", "requirements.txt", "-o", output, *fmt, "--check", *other], capsys)
    assert code == 1
    assert (
        "the target differs: the lock is for python 3.11, platform manylinux_2_28_x86_64; this run is for python 3.12"
        in out
    )
