"""Against the live index pip is configured with. Left out by default; run with `python -m pytest -m network`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from resolver.cli import main

pytestmark = pytest.mark.network
TARGET = ["--python", "3.11", "--platform", "manylinux_2_28_x86_64"]


def check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    req = tmp_path / "requirements.txt"
    req.write_text(text)
    code = main(["check", "--format", "json", "--cache-dir", str(tmp_path / "cache"), str(req), *TARGET])
    return code, json.loads(capsys.readouterr().out)


def test_torch_271_with_torchvision_0221_resolves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = check(tmp_path, "torch>=2.7.1,<2.8.0\ntorchvision>=0.22.1,<0.23.0\n", capsys)
    assert code == 0, doc["findings"]
    highest = doc["environments"][0]["resolution"]["highest"]
    assert highest["torch"].startswith("2.7.")
    assert highest["torchvision"].startswith("0.22.")
    assert "nvidia-cuda-runtime-cu12" in highest  # the default Linux wheel bundles its CUDA runtime
    assert doc["environments"][0]["resolution"]["lowest"]["torch"] == "2.7.1"


def test_torch_201_with_torchvision_0160_does_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = check(tmp_path, "torch==2.0.1\ntorchvision==0.16.0\n", capsys)
    assert code == 1
    (finding,) = [f for f in doc["findings"] if f["code"] == "unresolvable"]
    assert "torchvision 0.16.0 requires torch==2.1.0" in finding["message"]
    assert "requirements.txt:1" in finding["message"]


def test_seed_example_stack_resolves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "torch>=2.7.1,<2.8.0\ntorchaudio>=2.7.1,<2.8.0\ntransformers>=4.52.4,<4.53.0\n"
    code, doc = check(tmp_path, text, capsys)
    assert code == 0, doc["findings"]
    assert doc["environments"][0]["resolution"]["highest"]["transformers"].startswith("4.52.")
