"""The CUDA and Docker checks from the command line: the seed example, `cuda`, and `matrix --verify`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from resolver.cli import main
from tests.indexserver.server import IndexServer
from tests.test_check import index_server, ml, run

__all__ = ["index_server", "ml"]
SEED = Path(__file__).parent / "data" / "seed"


def test_seed_example_gives_the_three_findings_with_lines(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SEED / "Dockerfile", "Dockerfile")
    shutil.copy(SEED / "requirements.seed-relaxed.txt", "requirements.txt")
    code, out, _ = run(["check", "--format", "json", "Dockerfile", *ml], capsys)
    assert code == 1
    doc = json.loads(out)
    found = {(f["code"], f["path"], f["line"]) for f in doc["findings"]}
    assert ("no-python-in-image", "Dockerfile", 11) in found
    assert {("shell-redirect", "Dockerfile", n) for n in (12, 13, 14, 18, 19, 20)} <= found
    assert ("cuda-no-wheel", "Dockerfile", 18) in found
    assert ("cuda-no-wheel", "requirements.txt", 1) in found  # the -r file the Dockerfile installs
    assert not any(f["code"] == "exact-pin" for f in doc["findings"])  # quoting is not relaxing


def test_relax_quotes_the_dockerfile_in_place(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SEED / "Dockerfile", "Dockerfile")
    shutil.copy(SEED / "requirements.seed-relaxed.txt", "requirements.txt")
    before = Path("Dockerfile").read_text()
    code, _, _ = run(["--force", "Dockerfile", *ml], capsys)
    assert code == 1  # the CUDA errors remain; --force wrote the quoting anyway
    after = Path("Dockerfile").read_text()
    assert '"torch>=2.0.0,<2.1.0" \\' in after
    assert '"setuptools>=68.0.0" \\' in after
    assert after.replace('"', "") == before.replace('"', "")  # nothing but quotes changed


def test_unreachable_index_still_reports_docker_and_matrix_findings(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SEED / "Dockerfile", "Dockerfile")
    shutil.copy(SEED / "requirements.seed-relaxed.txt", "requirements.txt")
    dead = ["--index-url", "http://127.0.0.1:9/simple/", "--retries", "0", "--no-cache"]
    code, out, _ = run(["check", "Dockerfile", *dead], capsys)
    assert code == 3
    assert "error[cuda-no-wheel]" in out and "error[shell-redirect]" in out and "error[no-python-in-image]" in out


def test_cuda_target_option_and_driver(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torch>=2.7.0,<2.8.0\n")
    code, out, _ = run(
        ["check", "--format", "json", "--cuda", "12.8", "--driver", "470.82", "requirements.txt", *ml], capsys
    )
    doc = json.loads(out)
    assert code == 1
    assert "cuda-driver-too-old" in {f["code"] for f in doc["findings"]}
    code, out, _ = run(
        ["check", "--format", "json", "--cuda", "12.8", "--driver", "570.86", "requirements.txt", *ml], capsys
    )
    assert code == 0, out


def test_cuda_query_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cuda", "--torch", "2.7", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    text = json.dumps(doc)
    assert "0.22" in text and "cu128" in text
    assert main(["cuda", "--torch", "9.9"]) == 2
    assert "9.9" in capsys.readouterr().err


def test_matrix_verify_against_the_loopback_index(
    index_server: IndexServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An index without torch at all: the verifier says so, exit 1 (the full comparison is test_matrixverify)."""
    code = main(["matrix", "--verify", "--index-url", index_server.url, "--no-cache", "--retries", "0"])
    out = capsys.readouterr().out
    assert code == 1
    assert "difference" in out
