"""Golden outputs of the command line: what a user sees, byte for byte, pinned in ``tests/golden/``.

Each case runs ``resolver.cli.main(argv)`` in-process (a few also run ``python -m resolver`` in a child process
and must print the same thing: in-process the tool never forks its index worker, as the server's threads are
running, while the child forks it unless ``RELAX_PINS_WORKER=0``) in a fresh folder, against the loopback index
serving a small universe built here. The golden file holds the redacted argv, the exit code, stdout, stderr and
every file the command created or changed. Only volatile parts are redacted, in :func:`redact`.

These tests import nothing from the package but :func:`resolver.cli.main`, so they survive moving modules
around and prove that such a move changes nothing a user sees.

Regenerate with ``RELAX_PINS_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and review the diff. A missing
golden file fails the test.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from resolver.cli import main
from tests.indexserver.model import Project, dist
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).parent / "data"
UPDATE = os.environ.get("RELAX_PINS_UPDATE_GOLDEN") == "1"

#: Placeholder in a case's argv for the loopback index URL.
INDEX_URL = "{index}"
#: The target and index options every index-backed case passes: nothing depends on this machine.
TARGET = ("--python", "3.11", "--platform", "manylinux_2_28_x86_64")
INDEX = ("--index-url", INDEX_URL, *TARGET, "--no-cache")
#: An index nothing listens on: connection refused at once, no retries.
DEAD = ("--index-url", "http://127.0.0.1:9/simple/", *TARGET, "--no-cache", "--retries", "0", "--timeout", "1")


@dataclass(frozen=True)
class Rel:
    """One release on the loopback index."""

    version: str
    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    yanked: bool | str = False
    extras: tuple[str, ...] = ()


#: The universe every index-backed case sees: a small ML stack with the couplings that break real builds.
UNIVERSE: dict[str, tuple[Rel, ...]] = {
    "torch": (
        Rel("2.0.1", ("filelock", "numpy")),
        Rel("2.1.0", ("filelock", "numpy")),
        Rel("2.7.0", ("filelock", "numpy", "triton==3.3.0; platform_system == 'Linux'")),
        Rel("2.7.1", ("filelock", "numpy", "triton==3.3.1; platform_system == 'Linux'")),
    ),
    "triton": (Rel("3.3.0"), Rel("3.3.1")),
    "filelock": (Rel("3.13.1"), Rel("3.16.1")),
    "torchvision": (
        Rel("0.15.2", ("torch==2.0.1", "numpy")),
        Rel("0.16.0", ("torch==2.1.0", "numpy")),
        Rel("0.22.0", ("torch==2.7.0", "numpy")),
        Rel("0.22.1", ("torch==2.7.1", "numpy")),
    ),
    "torchaudio": (Rel("2.7.0", ("torch==2.7.0",)), Rel("2.7.1", ("torch==2.7.1",))),
    "numpy": (Rel("1.26.4"), Rel("2.0.0"), Rel("2.2.6", requires_python=">=3.10")),
    "transformers": (
        Rel("4.36.2", ("numpy>=1.17", "tokenizers>=0.14,<0.19", "torch>=1.10; extra == 'torch'"), extras=("torch",)),
        Rel("4.37.0", ("numpy>=1.17", "tokenizers>=0.14,<0.19", "torch>=1.11; extra == 'torch'"), extras=("torch",)),
    ),
    "tokenizers": (Rel("0.15.0"), Rel("0.15.2"), Rel("0.19.1")),
    "certifi": (Rel("2024.2.2"), Rel("2024.8.30")),
    "idna": (Rel("3.7"), Rel("3.10")),
    "requests": (
        Rel("2.31.0", ("certifi>=2017.4.17", "idna>=2.5,<4")),
        Rel("2.32.3", ("certifi>=2017.4.17", "idna>=2.5,<4")),
    ),
    "pendulum": (Rel("3.0.0", yanked="broken wheel"), Rel("3.0.1")),
    "oldlib": (Rel("1.0.0", requires_python="<3.8"), Rel("1.1.0", requires_python="<3.8")),
    "tqdm": (Rel("4.64.1"), Rel("4.66.4")),
    "pip": (Rel("24.0"), Rel("25.1")),
    "setuptools": (Rel("68.2.2"), Rel("80.9.0")),
    "wheel": (Rel("0.42.0"), Rel("0.45.1")),
}


def publish(server: IndexServer, wheels: WheelCache) -> None:
    """Build (once per session) and serve every release of :data:`UNIVERSE`."""
    for name, releases in UNIVERSE.items():
        files = [
            dist(
                wheels.wheel(
                    name,
                    rel.version,
                    requires_dist=rel.requires,
                    requires_python=rel.requires_python,
                    extras=rel.extras,
                ),
                yanked=rel.yanked,
                requires_python=rel.requires_python,
            )
            for rel in releases
        ]
        server.add(Project(name, files))


@dataclass(frozen=True)
class Case:
    """One command line and the folder it runs in.

    ``files`` are written (text) and ``copies`` copied (from ``tests/data``) into the folder first; ``setup``
    runs before ``argv`` and must exit 0 (its output is not recorded); ``edits`` are then written over the
    folder. ``golden`` names another case whose golden file this one must match; ``subprocess`` runs
    ``python -m resolver`` instead of calling :func:`main`.
    """

    name: str
    argv: tuple[str, ...]
    files: Mapping[str, str] = field(default_factory=dict)
    copies: Mapping[str, str] = field(default_factory=dict)
    setup: tuple[str, ...] = ()
    edits: Mapping[str, str] = field(default_factory=dict)
    golden: str | None = None
    subprocess: bool = False

    @property
    def needs_index(self) -> bool:
        return INDEX_URL in self.argv + self.setup


MIXED = (
    "# one line of each kind of finding\n"
    "torch>=2.0.1,<2.1.0\n"  # conflicts with torchvision 0.16.0 (it needs torch==2.1.0)
    "torchvision==0.16.0\n"  # exact pin
    "numpy>=3.0\n"  # no release in the range
    "nosuchpackage==1.0\n"  # not on the index
    "pendulum>=3.0.0,<3.1\n"  # the lower bound is yanked
    "oldlib>=1.0\n"  # no release for Python 3.11
    "certifi>=2024.2.2\n"  # fine
    "requests>=2.31,<3  # fine, with dependencies\n"
)
CLEAN = (
    "torch>=2.7.0,<2.8.0\n"
    "torchvision>=0.22.0,<0.23.0\n"
    "transformers[torch]>=4.36.2,<4.38\n"
    "requests==2.31.0\n"
    "tqdm>=4.64\n"
)
PINNED = (
    "# service requirements\n"
    "torch==2.7.1\n"
    "Transformers[torch] == 4.36.2 ; python_version >= '3.9'  # HF\n"
    "certifi==2024.2.2\n"
    "numpy>=1.26\n"
    "flash-attn==2.7.4.post1  # relax-pins: keep\n"
    "torchvision==0.22.1+cu126\n"
    "requests==2.31.0\n"
    "tqdm===4.66.4\n"
)
PYPROJECT = (
    "[project]\n"
    'name = "demo"\n'
    'version = "0.1.0"\n'
    'requires-python = ">=3.10"\n'
    "dependencies = [\n"
    '    "torch==2.7.1",\n'
    '    "transformers[torch]==4.36.2",  # HF\n'
    "    'certifi==2024.2.2',\n"
    '    "numpy>=1.26",\n'
    "]\n"
    "\n"
    "[project.optional-dependencies]\n"
    'vision = ["torchvision==0.22.1", "requests == 2.31.0"]\n'
    "\n"
    "[dependency-groups]\n"
    'dev = ["tqdm==4.66.4"]\n'
)
DOCKERFILE = (
    "FROM python:3.11-slim\n"
    "WORKDIR /app\n"
    "RUN pip install --no-cache-dir torch==2.7.1 torchvision==0.22.1 \\\n"
    "    requests==2.31.0\n"
    "COPY requirements.txt .\n"
    "RUN pip install --no-cache-dir -r requirements.txt\n"
    'CMD ["python", "-m", "app"]\n'
)
DOCKER_REQS = "certifi==2024.2.2\ntqdm>=4.64\n"
LOCKED = "torch>=2.7.0,<2.8.0\ntorchvision>=0.22.0,<0.23.0\nrequests>=2.31\n"
LAYERED = "torch==2.7.1\ntransformers==4.36.2\ncertifi==2024.2.2\nrequests==2.31.0\ntqdm==4.66.4\n"
CORPUS = "corpus/requirements/"

CASES: tuple[Case, ...] = (
    # check: every kind of finding, in each report format
    *(
        Case(f"check-mixed-{fmt}", ("check", "--format", fmt, "requirements.txt", *INDEX), {"requirements.txt": MIXED})
        for fmt in ("text", "json", "github", "markdown")
    ),
    Case("check-clean-text", ("check", "requirements.txt", *INDEX), {"requirements.txt": CLEAN}),
    Case("check-clean-json", ("check", "--format", "json", "requirements.txt", *INDEX), {"requirements.txt": CLEAN}),
    Case("check-pyproject", ("check", "pyproject.toml", *INDEX), {"pyproject.toml": PYPROJECT}),
    Case(
        "check-dockerfile", ("check", "Dockerfile", *INDEX), {"Dockerfile": DOCKERFILE, "requirements.txt": DOCKER_REQS}
    ),
    Case(
        "check-cache-dir",
        ("check", "requirements.txt", "--index-url", INDEX_URL, *TARGET, "--cache-dir", "../cache"),
        {"requirements.txt": CLEAN},
        setup=("check", "requirements.txt", "--index-url", INDEX_URL, *TARGET, "--cache-dir", "../cache"),
    ),
    Case("check-unreachable", ("check", "requirements.txt", *DEAD), {"requirements.txt": MIXED}),
    Case("check-parse-error", ("check", "requirements.txt", *INDEX), {"requirements.txt": "numpy==1.26.4\nfoo===\n"}),
    Case("check-missing-file", ("check", "nope.txt", *INDEX)),
    # the same runs in a child process, where the index worker is forked: the output must not change
    Case(
        "check-mixed-text-subprocess",
        ("check", "--format", "text", "requirements.txt", *INDEX),
        {"requirements.txt": MIXED},
        golden="check-mixed-text",
        subprocess=True,
    ),
    Case(
        "check-clean-json-subprocess",
        ("check", "--format", "json", "requirements.txt", *INDEX),
        {"requirements.txt": CLEAN},
        golden="check-clean-json",
        subprocess=True,
    ),
    # relax: --diff, --check and writing, on each kind of file
    Case("relax-diff-requirements", ("--diff", "requirements.txt"), {"requirements.txt": PINNED}),
    Case("relax-check-requirements", ("--check", "requirements.txt"), {"requirements.txt": PINNED}),
    Case("relax-write-requirements", ("--no-verify", "requirements.txt"), {"requirements.txt": PINNED}),
    Case("relax-diff-pyproject", ("--diff", "pyproject.toml"), {"pyproject.toml": PYPROJECT}),
    Case("relax-check-pyproject", ("--check", "pyproject.toml"), {"pyproject.toml": PYPROJECT}),
    Case("relax-write-pyproject", ("--no-verify", "pyproject.toml"), {"pyproject.toml": PYPROJECT}),
    Case(
        "relax-diff-dockerfile", ("--diff", "Dockerfile"), {"Dockerfile": DOCKERFILE, "requirements.txt": DOCKER_REQS}
    ),
    Case(
        "relax-check-dockerfile", ("--check", "Dockerfile"), {"Dockerfile": DOCKERFILE, "requirements.txt": DOCKER_REQS}
    ),
    Case(
        "relax-write-dockerfile",
        ("--no-verify", "Dockerfile"),
        {"Dockerfile": DOCKERFILE, "requirements.txt": DOCKER_REQS},
    ),
    Case(
        "relax-verified-write",
        ("requirements.txt", *INDEX),
        {"requirements.txt": "torch==2.7.1\ntorchvision==0.22.1\nrequests==2.31.0\n"},
    ),
    Case(
        "relax-verified-blocked",
        ("requirements.txt", *INDEX),
        {"requirements.txt": "torch==2.0.1\ntorchvision==0.16.0\n"},
    ),
    Case("relax-nothing-to-do", ("--no-verify", "requirements.txt"), {"requirements.txt": LOCKED}),
    # lock
    Case(
        "lock-pylock",
        ("lock", "requirements.txt", "-o", "pylock.toml", "--format", "pylock", *INDEX),
        {"requirements.txt": LOCKED},
    ),
    Case(
        "lock-requirements",
        ("lock", "requirements.txt", "-o", "requirements.lock", "--format", "requirements", *INDEX),
        {"requirements.txt": LOCKED},
    ),
    Case(
        "lock-check-current",
        ("lock", "--check", "requirements.txt", "-o", "pylock.toml", *INDEX),
        {"requirements.txt": LOCKED},
        setup=("lock", "requirements.txt", "-o", "pylock.toml", *INDEX),
    ),
    Case(
        "lock-check-stale",
        ("lock", "--check", "requirements.txt", "-o", "pylock.toml", *INDEX),
        {"requirements.txt": LOCKED},
        setup=("lock", "requirements.txt", "-o", "pylock.toml", *INDEX),
        edits={"requirements.txt": "torch>=2.7.0,<2.8.0\ntqdm>=4.64\n"},
    ),
    Case("lock-unreachable", ("lock", "requirements.txt", "-o", "pylock.toml", *DEAD), {"requirements.txt": LOCKED}),
    # layers
    Case("layers-text", ("layers", "requirements.txt", "-o", "layers", *INDEX), {"requirements.txt": LAYERED}),
    Case(
        "layers-json-ranges",
        ("layers", "requirements.txt", "-o", "layers", "--format", "json", "--ranges", *INDEX),
        {"requirements.txt": LAYERED},
    ),
    # cuda: the matrix only, no index
    Case("cuda-torch-2.7", ("cuda", "--torch", "2.7", "--python", "3.11")),
    Case("cuda-12.8", ("cuda", "--cuda", "12.8", "--python", "3.11")),
    Case("cuda-12.8-json", ("cuda", "--cuda", "12.8", "--python", "3.11", "--format", "json")),
    Case("cuda-bad-cuda", ("cuda", "--cuda", "banana", "--python", "3.11")),
    Case("cuda-unknown-torch", ("cuda", "--torch", "9.9", "--python", "3.11")),
    # the seed example and real-world files, against the loopback index (most names are not found there)
    Case(
        "seed-requirements",
        ("check", "requirements.txt", *INDEX),
        copies={"requirements.txt": "seed/requirements.before.txt"},
    ),
    Case(
        "seed-dockerfile",
        ("check", "Dockerfile", *INDEX),
        copies={"Dockerfile": "seed/Dockerfile", "requirements.txt": "seed/requirements.before.txt"},
    ),
    Case(
        "corpus-whisper",
        ("check", "requirements.txt", *INDEX),
        copies={"requirements.txt": CORPUS + "openai__whisper__requirements.txt"},
    ),
    Case(
        "corpus-lightning",
        ("check", "--format", "json", "requirements.txt", *INDEX),
        copies={"requirements.txt": CORPUS + "Lightning-AI__pytorch-lightning__requirements__pytorch__base.txt"},
    ),
    Case(
        "corpus-vllm-cuda",
        ("check", "requirements-cuda.txt", *INDEX),
        copies={
            "requirements-cuda.txt": CORPUS + "vllm-project__vllm__requirements-cuda.txt",
            "requirements-common.txt": CORPUS + "vllm-project__vllm__requirements-common.txt",
        },
    ),
    Case(
        "corpus-fish-speech-pyproject",
        ("check", "pyproject.toml", *INDEX),
        copies={"pyproject.toml": "corpus/pyproject/fishaudio__fish-speech__pyproject.toml"},
    ),
)

#: The JSON report's ``"index"`` block: how many requests, bytes, cache hits and worker answers a run took. They
#: depend on the cache, on how far the look-ahead got before the resolver finished and on whether a worker was
#: forked, so only their names are pinned.
_INDEX_STATS = re.compile(r'"index": \{[^{}]*"requests": [^{}]*\}')
_COUNTER = re.compile(r'("[a-z_]+": )\d+')
#: A lock's inputs digest (``inputs = "sha256:..."`` in pylock.toml, ``# inputs: sha256:...`` in a requirements
#: lock) hashes the index URL, port included; ``lock --check`` cases pin what it is for.
_INPUTS = re.compile(r"^((?:# )?inputs(?: =|:) \"?)sha256:[0-9a-f]{64}", re.MULTILINE)


def redact(text: str, *, port: int | None, tmp: Path) -> str:
    """``text`` with what changes from run to run replaced: the loopback port, the temporary folder, the index
    traffic counters, and a lock's inputs digest, which hashes the port.

    Nothing else varies: no command prints a timing (the progress line goes only to a terminal), the wheels the
    index serves are built byte for byte the same (so their sha256 and sizes are pinned), and ``--no-cache``
    or a cache folder inside the temporary folder keeps this machine's cache out.
    """
    if port is not None:
        text = text.replace(f"127.0.0.1:{port}", "INDEX")
    for folder in sorted({str(tmp.resolve()), str(tmp)}, key=len, reverse=True):
        text = text.replace(folder, "TMP")
    text = _INPUTS.sub(r"\1sha256:<INPUTS>", text)
    return _INDEX_STATS.sub(lambda m: _COUNTER.sub(r'\1"<N>"', m.group(0)), text)


def section(title: str, body: str) -> str:
    """A titled block; a body without a final newline is marked, so the golden file keeps that byte exact."""
    if body and not body.endswith("\n"):
        body += "\n<no newline at end>\n"
    return f"--- {title} ---\n{body}"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as the working directory, with pip's and relax-pins' configuration of this machine off."""
    for key in list(os.environ):
        if key.startswith("PIP_") or (key.startswith("RELAX_PINS_") and key not in {"RELAX_PINS_WORKER"}):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(home / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def run(argv: list[str], *, child: bool, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    if child:
        done = subprocess.run(
            [sys.executable, "-m", "resolver", *argv], capture_output=True, text=True, timeout=120, check=False
        )
        return done.returncode, done.stdout, done.stderr
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(
    case: Case,
    work: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port: int | None = None
    url = ""
    if case.needs_index:
        server: IndexServer = request.getfixturevalue("index_server")
        publish(server, request.getfixturevalue("wheel_cache"))
        port, url = server.port, server.url
    for name, text in case.files.items():
        (work / name).write_text(text, encoding="utf-8")
    for name, source in case.copies.items():
        shutil.copyfile(DATA / source, work / name)
    if case.setup:
        code, out, err = run([a.replace(INDEX_URL, url) for a in case.setup], child=False, capsys=capsys)
        assert code == 0, out + err
    for name, text in case.edits.items():
        (work / name).write_text(text, encoding="utf-8")
    before = snapshot(work)
    argv = [a.replace(INDEX_URL, url) for a in case.argv]
    code, out, err = run(argv, child=case.subprocess, capsys=capsys)
    after = snapshot(work)
    parts = [f"argv: {' '.join(argv)}\n", f"exit: {code}\n", section("stdout", out), section("stderr", err)]
    for name, content in after.items():
        if before.get(name) != content:
            parts.append(section(f"file {name}", content.decode("utf-8", errors="backslashreplace")))
    parts += [f"--- removed {name} ---\n" for name in before if name not in after]
    actual = redact("".join(parts), port=port, tmp=work.parent)
    if case.golden is not None and UPDATE:
        pytest.skip(f"checked against {case.golden}.txt, which its own case writes")
    compare(case.golden or case.name, actual)


def compare(name: str, actual: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    if not path.is_file():
        pytest.fail(f"no golden file {path.relative_to(ROOT)}; write it with RELAX_PINS_UPDATE_GOLDEN=1 and review it")
    expected = path.read_bytes().decode("utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"golden/{name}.txt",
            tofile="actual",
        )
        pytest.fail("output differs from the golden file:\n" + "".join(diff), pytrace=False)
