"""The relax command end to end, in process: files in, files out, exit codes and reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from resolver.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_bytes(data.encode())
    else:
        path.write_bytes(data)
    return path


def test_relaxes_in_place_keeping_every_other_byte(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    req = write(
        work / "requirements.txt",
        "# ML service\r\n"
        "torch==2.7.1\r\n"
        "Transformers[torch] == 4.36.2 ; python_version >= '3.9'  # HF\r\n"
        "certifi==2024.2.2\r\n"
        "numpy>=1.26\r\n"
        "flash-attn==2.7.4.post1  # relax-pins: keep\r\n"
        "torchvision==0.22.1+cu126",
    )
    assert main(["--no-verify", "requirements.txt"]) == 0
    assert req.read_bytes() == (
        b"# ML service\r\n"
        b"torch>=2.7.1,<2.8.0\r\n"
        b"Transformers[torch] >=4.36.2,<4.37.0 ; python_version >= '3.9'  # HF\r\n"
        b"certifi>=2024.2.2\r\n"
        b"numpy>=1.26\r\n"
        b"flash-attn==2.7.4.post1  # relax-pins: keep\r\n"
        b"torchvision>=0.22.1,<0.23.0"
    )
    out = capsys.readouterr().out
    assert "requirements.txt:2: torch==2.7.1 -> torch>=2.7.1,<2.8.0" in out
    assert "requirements.txt:3: Transformers[torch]==4.36.2 -> Transformers[torch]>=4.36.2,<4.37.0" in out
    assert "info[calver]" in out
    assert "info[local-version]" in out
    assert "relaxed 4 pins in 1 file" in out
    # A second run changes nothing: relaxing is idempotent.
    assert main(["--no-verify", "requirements.txt"]) == 0
    assert "nothing to relax" in capsys.readouterr().out


def test_bom_and_mode_survive(work: Path) -> None:
    req = write(work / "requirements.txt", b"\xef\xbb\xbftorch==2.7.1\n")
    req.chmod(0o600)
    assert main(["--no-verify", "requirements.txt"]) == 0
    assert req.read_bytes() == b"\xef\xbb\xbftorch>=2.7.1,<2.8.0\n"
    assert req.stat().st_mode & 0o777 == 0o600


def test_includes_are_followed_and_each_file_rewritten(work: Path) -> None:
    write(work / "requirements.txt", "-r base/common.txt\n-c constraints.txt\ntorch==2.7.1\n")
    write(work / "base/common.txt", "numpy==1.26.4\n")
    write(work / "constraints.txt", "pandas==2.2.3\n")
    assert main(["--no-verify", "requirements.txt"]) == 0
    assert (work / "base/common.txt").read_text() == "numpy>=1.26.4,<1.27.0\n"
    assert (work / "constraints.txt").read_text() == "pandas>=2.2.3,<2.3.0\n"
    assert (work / "requirements.txt").read_text() == "-r base/common.txt\n-c constraints.txt\ntorch>=2.7.1,<2.8.0\n"


def test_include_cycle_is_an_error_and_nothing_is_written(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "a.txt", "torch==2.7.1\n-r b.txt\n")
    write(work / "b.txt", "numpy==1.26.4\n-r a.txt\n")
    assert main(["a.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("b.txt:2:4: include cycle: a.txt -> b.txt -> a.txt")
    assert "Traceback" not in err
    assert (work / "a.txt").read_text() == "torch==2.7.1\n-r b.txt\n"


def test_missing_include(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "requirements.txt", "torch==2.7.1\n-r missing.txt\n")
    assert main(["requirements.txt"]) == 2
    assert capsys.readouterr().err.startswith("requirements.txt:2:4: included file not found: missing.txt")
    assert (work / "requirements.txt").read_text() == "torch==2.7.1\n-r missing.txt\n"


def test_parse_error_exit_2_and_no_file_touched(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(work / "good.txt", "torch==2.7.1\n")
    bad = write(work / "bad.txt", "numpy==1.26.4\nfoo===\n")
    assert main(["good.txt", "bad.txt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bad.txt:2:")
    assert "Traceback" not in err
    assert good.read_text() == "torch==2.7.1\n"
    assert bad.read_text() == "numpy==1.26.4\nfoo===\n"


def test_missing_file_is_exit_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nope.txt"]) == 2
    assert capsys.readouterr().err.strip() == "nope.txt: no such file"


def test_bad_option_is_exit_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "r.txt", "torch==2.7.1\n")
    assert main(["--bound", "tiny", "r.txt"]) == 2
    assert "tiny" in capsys.readouterr().err
    assert (work / "r.txt").read_text() == "torch==2.7.1\n"


def test_check_writes_nothing_and_exits_1_when_pending(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    req = write(work / "requirements.txt", "torch==2.7.1\n")
    before = req.stat().st_mtime_ns
    assert main(["--check", "requirements.txt"]) == 1
    assert req.read_text() == "torch==2.7.1\n"
    assert req.stat().st_mtime_ns == before
    assert "would relax 1 pin in 1 file" in capsys.readouterr().out
    write(work / "relaxed.txt", "torch>=2.7.1,<2.8.0\n")
    assert main(["--check", "relaxed.txt"]) == 0


def test_diff_prints_unified_diff_and_writes_nothing(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    req = write(work / "requirements.txt", "torch==2.7.1\nnumpy==1.26.4")
    assert main(["--diff", "requirements.txt"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "--- a/requirements.txt\n"
        "+++ b/requirements.txt\n"
        "@@ -1,2 +1,2 @@\n"
        "-torch==2.7.1\n"
        "-numpy==1.26.4\n"
        "\\ No newline at end of file\n"
        "+torch>=2.7.1,<2.8.0\n"
        "+numpy>=1.26.4,<1.27.0\n"
        "\\ No newline at end of file\n"
    )
    assert req.read_text() == "torch==2.7.1\nnumpy==1.26.4"


@pytest.mark.parametrize(
    ("bound", "expected"),
    [("major", "torch>=2.7.1,<3.0.0"), ("patch", "torch>=2.7.1,<2.7.2"), ("lower", "torch>=2.7.1")],
)
def test_bound_option(work: Path, bound: str, expected: str) -> None:
    write(work / "r.txt", "torch==2.7.1\n")
    assert main(["--no-verify", "--bound", bound, "r.txt"]) == 0
    assert (work / "r.txt").read_text() == expected + "\n"


def test_config_from_nearest_pyproject(work: Path) -> None:
    (work / ".git").mkdir()
    write(
        work / "pyproject.toml",
        '[project]\nname = "svc"\nversion = "1"\n\n[tool.relax-pins]\nbound = "major"\nkeep = ["numpy"]\n'
        '[tool.relax-pins.bounds]\ntransformers = "patch"\n',
    )
    write(work / "deps/requirements.txt", "torch==2.7.1\nnumpy==1.26.4\ntransformers==4.36.2\n")
    assert main(["--no-verify", "deps/requirements.txt"]) == 0
    assert (work / "deps/requirements.txt").read_text() == (
        "torch>=2.7.1,<3.0.0\nnumpy==1.26.4\ntransformers>=4.36.2,<4.36.3\n"
    )


def test_explicit_config_and_bound_override(work: Path) -> None:
    write(work / "relax.toml", 'bound = "patch"\nkeep = ["numpy"]\n')
    write(work / "r.txt", "torch==2.7.1\nnumpy==1.26.4\n")
    assert main(["--no-verify", "--config", "relax.toml", "--bound", "minor", "r.txt"]) == 0
    assert (work / "r.txt").read_text() == "torch>=2.7.1,<2.8.0\nnumpy==1.26.4\n"


def test_bad_config_is_exit_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / ".git").mkdir()
    write(work / "pyproject.toml", '[tool.relax-pins]\nbound = "sometimes"\n')
    write(work / "r.txt", "torch==2.7.1\n")
    assert main(["r.txt"]) == 2
    assert capsys.readouterr().err.startswith("pyproject.toml:1: [tool.relax-pins].bound: 'sometimes' is not a bound")
    assert (work / "r.txt").read_text() == "torch==2.7.1\n"


def test_lock_file_is_skipped(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "torch==2.7.1 \\\n    --hash=sha256:" + "a" * 64 + "\n"
    write(work / "requirements.lock", text)
    assert main(["--no-verify", "--format", "json", "requirements.lock"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in doc["findings"]] == ["lock-file-skipped"]
    assert "relax the source file" in doc["findings"][0]["fix"]
    assert (work / "requirements.lock").read_text() == text


def test_json_report_schema(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "requirements.txt", "torch==2.7.1\ncertifi==2024.2.2\n")
    assert main(["--check", "--format", "json", "requirements.txt"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == 2
    assert doc["ok"] is False
    assert doc["files"] == [
        {
            "path": "requirements.txt",
            "changed": True,
            "changes": [
                {"line": 1, "package": "torch", "before": "torch==2.7.1", "after": "torch>=2.7.1,<2.8.0"},
                {
                    "line": 2,
                    "package": "certifi",
                    "before": "certifi==2024.2.2",
                    "after": "certifi>=2024.2.2",
                },
            ],
        }
    ]
    (finding,) = doc["findings"]
    assert set(finding) == {"code", "severity", "path", "line", "package", "message", "fix"}
    assert (finding["code"], finding["severity"], finding["path"], finding["line"]) == (
        "calver",
        "info",
        "requirements.txt",
        2,
    )


def test_pyproject_tables(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "[project]\n"
        'name = "svc"\n'
        "dependencies = [\n"
        "    'torch==2.7.1',  # the framework\n"
        '    "numpy>=1.26",\n'
        "]\n"
        "[project.optional-dependencies]\n"
        'gpu = ["triton==3.3.1"]\n'
        "[dependency-groups]\n"
        'dev = ["pytest==8.3.5", {include-group = "lint"}]\n'
        'lint = ["ruff==0.11.0"]  # relax-pins: keep\n'
        "[tool.poetry.dependencies]\n"
        'python = "^3.10"\n'
        'transformers = "4.36.2"\n'
        'accelerate = {version = "==1.7.0", optional = true}\n'
        'peft = "^0.10.0"\n'
    )
    write(work / "pyproject.toml", text)
    assert main(["--no-verify", "pyproject.toml"]) == 0
    new = (work / "pyproject.toml").read_text()
    assert new == (
        text.replace("'torch==2.7.1'", "'torch>=2.7.1,<2.8.0'")
        .replace('"triton==3.3.1"', '"triton>=3.3.1,<3.4.0"')
        .replace('"pytest==8.3.5"', '"pytest>=8.3.5,<8.4.0"')
        .replace('"4.36.2"', '">=4.36.2,<4.37.0"')
        .replace('"==1.7.0"', '">=1.7.0,<1.8.0"')
    )
    out = capsys.readouterr().out
    assert "pyproject.toml:4: torch==2.7.1 -> torch>=2.7.1,<2.8.0" in out
    assert 'pyproject.toml:14: transformers = "4.36.2" -> transformers = ">=4.36.2,<4.37.0"' in out


def test_quiet_prints_nothing_on_success(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work / "r.txt", "torch==2.7.1\n")
    assert main(["--no-verify", "-q", "r.txt"]) == 0
    assert capsys.readouterr().out == ""


def test_version_and_module_entry(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("relax-pins ")


def test_example_file_relaxes(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for example in EXAMPLES.iterdir():
        write(work / example.name, example.read_bytes())
    assert main(["--no-verify", "requirements.txt"]) == 0
    text = (work / "requirements.txt").read_text()
    assert "torch>=2.7.1,<2.8.0" in text
    assert "flash-attn==2.7.4.post1  # relax-pins: keep" in text
    assert "fastapi>=0.115.12,<0.116.0" in (work / "requirements-web.txt").read_text()


# -- the console script (resolver.cli.app.run): exit codes and output survive the fast exit ----------------


def _console(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | {"PIP_CONFIG_FILE": os.devnull}
    return subprocess.run(
        [sys.executable, "-m", "resolver", *args], capture_output=True, text=True, cwd=cwd, env=env, check=False
    )


def test_the_console_script_flushes_all_its_output_and_keeps_the_exit_code(tmp_path: Path) -> None:
    done = _console("cuda", "--cuda", "12.8", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["lines"]  # the whole document arrived, not a prefix of it
    bad = _console("relax", "missing.txt", "--no-verify", cwd=tmp_path)
    assert bad.returncode == 2
    assert "missing.txt" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_the_console_script_writes_its_files_before_it_exits(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("torch==2.7.1\r\nnumpy==2.2.6  # pinned\r\n", encoding="utf-8")
    done = _console("requirements.txt", "--no-verify", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "requirements.txt").read_bytes() == b"torch>=2.7.1,<2.8.0\r\nnumpy>=2.2.6,<2.3.0  # pinned\r\n"


@pytest.mark.parametrize("fmt", ["github", "json"])
def test_bad_input_is_visible_in_the_report_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """Bad input (exit 2) printed only to stderr: a CI job reading annotations or JSON saw nothing. Now an
    ::error annotation per error (file, line, col), or JSON with ok false and the errors."""
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text("torch==2.7.1\n--frobnicate\nnumpy==\n")
    code = main(["check", "requirements.txt", "--format", fmt, "--offline"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "requirements.txt:2:1: unknown option --frobnicate" in err
    if fmt == "github":
        lines = out.splitlines()
        assert len(lines) == 2
        assert lines[0].startswith("::error file=requirements.txt,line=2,col=1,title=relax-pins%3A bad input::")
        assert lines[1].startswith("::error file=requirements.txt,line=3,")
    else:
        doc = json.loads(out)
        assert doc["ok"] is False
        assert [(e["path"], e["line"]) for e in doc["input_errors"]] == [
            ("requirements.txt", 2),
            ("requirements.txt", 3),
        ]


def test_a_version_of_thousands_of_digits_is_no_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``lib==1.<5000 nines>`` (valid PEP 440) crashed with Python's int-conversion limit, a traceback."""
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text("lib==1." + "9" * 5000 + "\n")
    assert main(["--check", "requirements.txt"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "would relax 1 pin" in out
