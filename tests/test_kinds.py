"""One definition of what a path is (Dockerfile, pyproject) and of the variant a wheel index URL serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolver.cli import main
from resolver.core.kinds import is_dockerfile, is_pyproject
from resolver.cuda.builds import requirement_texts, variant_of_url


@pytest.mark.parametrize(
    "name",
    [
        "Dockerfile",
        "dockerfile",
        "docker/Dockerfile.gpu",
        "Dockerfile-cuda12",
        "Dockerfile_dev",
        "gpu.Dockerfile",
        "Containerfile",
        "Containerfile.cpu",
        "build\\Containerfile",
        "x.containerfile",
    ],
)
def test_dockerfile_names(name: str) -> None:
    assert is_dockerfile(name)


@pytest.mark.parametrize(
    "name",
    [None, "", "requirements.txt", "Dockerfile.dockerignore", "dockerfiles.txt", "my-dockerfile-notes.md", "docker"],
)
def test_not_dockerfile_names(name: str | None) -> None:
    assert not is_dockerfile(name)


def test_pyproject_names() -> None:
    assert is_pyproject("pyproject.toml")
    assert is_pyproject("sub/relax.toml")
    assert not is_pyproject("requirements.txt")
    assert not is_pyproject("toml.txt")


def test_a_fix_for_a_containerfile_is_quoted_as_for_a_dockerfile() -> None:
    pairs = [("torch", ">=2.1.0,<2.2.0")]
    assert requirement_texts(pairs, path="Containerfile") == '"torch>=2.1.0,<2.2.0"'
    assert requirement_texts(pairs, path="requirements.txt") == "torch>=2.1.0,<2.2.0"


def test_a_containerfile_is_read_as_a_dockerfile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before one definition, a Containerfile was quoted as a Dockerfile but read as a requirements file."""
    path = tmp_path / "Containerfile"
    path.write_text("FROM python:3.11-slim\nRUN pip install torch==2.1.0\n", encoding="utf-8")
    assert main(["--diff", str(path)]) == 0
    out = capsys.readouterr().out
    assert '+RUN pip install "torch>=2.1.0,<2.2.0"' in out


@pytest.mark.parametrize(
    ("url", "variant"),
    [
        ("https://mirror.example/whl/cu128", "cu128"),
        ("https://mirror.example/whl/nightly/cu128", "cu128"),
        ("https://mirror.example/whl/test/cu126/", "cu126"),
        ("https://mirror.example/whl/CU121", "cu121"),
        ("https://u:secret@mirror.example/whl/cu118?x=1", "cu118"),
        ("https://mirror.example/whl/rocm6.2.4", "rocm6.2.4"),
        ("https://mirror.example/whl/cpu/", "cpu"),
        ("https://mirror.example/whl/cu113/torch_stable.html", None),
        ("https://mirror.example/simple/", None),
        ("https://mirror.example/whl/", None),
        ("", None),
        (None, None),
    ],
)
def test_variant_of_url(url: str | None, variant: str | None) -> None:
    assert variant_of_url(url) == variant
