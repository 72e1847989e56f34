"""Pre-releases as the installers take them, checked against pip and uv on the same loopback index.

pip lets a pre-release in when the range names one, or when no final release in the range can be installed
(packaging's ``SpecifierSet.filter(prereleases=None)`` over the candidates it found); uv 0.13's default
(``if-necessary-or-explicit``) answered the same on every case here. Each expectation below is what these
commands answered on the fixtures (run by the tests themselves, so a change of either installer shows):

    pip install --dry-run --ignore-installed --report - --index-url URL \
        --python-version 3.11 --platform manylinux_2_28_x86_64 --only-binary=:all: -r requirements.txt
    uv pip compile requirements.txt --index-url URL --python-version 3.11 \
        --python-platform x86_64-manylinux_2_28 --no-cache
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from resolver.cli import main
from tests.indexserver import fixtures
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.installers import pip_installs, uv_compiles
from tests.scenario import Rel, publish

index_server = fixtures.index_server

UNIVERSE = {
    # Only pre-releases, as tb-nightly: pip and uv both install the newest.
    "nightly": [Rel("2.21.0a20251023"), Rel("2.21.0a20251024")],
    # A final release that needs the pre-release-only project.
    "board": [Rel("1.0.0", ["nightly"])],
    # Finals below the range, a release candidate in it: pip and uv install the candidate.
    "later": [Rel("1.0.0"), Rel("1.1.0"), Rel("2.0.0rc1")],
    # Finals that cannot install on the target and a pre-release that can: pip and uv take the latter.
    "winonly": [Rel("1.0.0", tags="py3-none-win_amd64"), Rel("1.1.0b1")],
    "newpython": [Rel("1.0.0", requires_python=">=3.12"), Rel("1.1.0rc1")],
}


@pytest.fixture
def prerelease_index(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> IndexServer:
    publish(index_server, wheel_cache, UNIVERSE)
    for key in list(os.environ):
        if key.startswith(("PIP_", "UV_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.chdir(tmp_path)
    return index_server


def check(index: IndexServer, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    Path("requirements.txt").write_text(text)
    args = ["check", "requirements.txt", "--format", "json", "--index-url", index.url, "--cache-dir", "cache"]
    code = main([*args, "--python", "3.11", "--platform", "manylinux_2_28_x86_64"])
    return code, json.loads(capsys.readouterr().out)


def highest(doc: dict[str, Any]) -> dict[str, str]:
    resolution = doc["environments"][0]["resolution"]
    assert isinstance(resolution, dict), doc
    found = resolution["highest"]
    assert isinstance(found, dict)
    return found


def finding_codes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["code"], f["severity"]) for f in doc["findings"]]


def test_a_project_with_only_prereleases_installs_its_newest(
    prerelease_index: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # pip: {"nightly": "2.21.0a20251024"}; uv: nightly==2.21.0a20251024.
    code, doc = check(prerelease_index, "nightly\n", capsys)
    assert code == 0, doc
    assert highest(doc)["nightly"] == "2.21.0a20251024"
    assert ("empty-range", "error") not in finding_codes(doc)
    assert ("prerelease", "info") in finding_codes(doc)
    assert pip_installs(prerelease_index.url) == {"nightly": "2.21.0a20251024"}
    assert uv_compiles(prerelease_index.url) == {"nightly": "2.21.0a20251024"}


def test_a_dependency_with_only_prereleases_does_not_make_the_set_unresolvable(
    prerelease_index: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # pip: board 1.0.0 and nightly 2.21.0a20251024; uv the same.
    code, doc = check(prerelease_index, "board==1.0.0\n", capsys)
    assert code == 0, doc
    assert highest(doc) == {"board": "1.0.0", "nightly": "2.21.0a20251024"}
    assert (
        doc["environments"][0]["resolution"]["lowest"]["nightly"] == "2.21.0a20251024"
    )  # the floor of direct lines only
    assert pip_installs(prerelease_index.url) == {"board": "1.0.0", "nightly": "2.21.0a20251024"}
    assert uv_compiles(prerelease_index.url) == {"board": "1.0.0", "nightly": "2.21.0a20251024"}


def test_a_range_only_a_release_candidate_meets_installs_it(
    prerelease_index: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # pip: later 2.0.0rc1; uv: later==2.0.0rc1 (no final release is in the range).
    # (Not ``later>=2``: 2.0.0rc1 sorts before 2, so no installer takes it for that range.)
    code, doc = check(prerelease_index, "later>1.1\n", capsys)
    assert code == 0, doc
    assert highest(doc)["later"] == "2.0.0rc1"
    notes = [f for f in doc["findings"] if f["code"] == "prerelease"]
    assert len(notes) == 1 and "2.0.0rc1" in notes[0]["message"], notes
    assert pip_installs(prerelease_index.url) == {"later": "2.0.0rc1"}
    assert uv_compiles(prerelease_index.url) == {"later": "2.0.0rc1"}


def test_final_releases_in_range_keep_prereleases_out(
    prerelease_index: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # pip: later 1.1.0; uv: later==1.1.0.
    code, doc = check(prerelease_index, "later>=1.0\n", capsys)
    assert code == 0, doc
    assert highest(doc)["later"] == "1.1.0"
    assert "prerelease" not in [c for c, _ in finding_codes(doc)]
    assert pip_installs(prerelease_index.url) == {"later": "1.1.0"}
    assert uv_compiles(prerelease_index.url) == {"later": "1.1.0"}


def test_a_range_that_names_a_prerelease_lets_prereleases_in(
    prerelease_index: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # pip: later 2.0.0rc1; uv: later==2.0.0rc1 (the range names a pre-release).
    code, doc = check(prerelease_index, "later>=2.0.0rc1\n", capsys)
    assert code == 0, doc
    assert highest(doc)["later"] == "2.0.0rc1"
    assert pip_installs(prerelease_index.url) == {"later": "2.0.0rc1"}
    assert uv_compiles(prerelease_index.url) == {"later": "2.0.0rc1"}


def test_when_no_final_release_installs_on_the_target_pip_and_uv_take_a_prerelease(
    prerelease_index: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # pip: winonly 1.1.0b1 (1.0.0 has only a Windows wheel); uv: winonly==1.1.0b1.
    code, doc = check(prerelease_index, "winonly\n", capsys)
    assert code == 0, doc
    assert highest(doc)["winonly"] == "1.1.0b1"
    assert pip_installs(prerelease_index.url) == {"winonly": "1.1.0b1"}
    assert uv_compiles(prerelease_index.url) == {"winonly": "1.1.0b1"}
    # pip: newpython 1.1.0rc1 (1.0.0 requires Python >=3.12); uv: newpython==1.1.0rc1.
    # (An upper bound such as ``<3.8`` would not do: uv ignores upper bounds of Requires-Python and took 1.0.0.)
    code, doc = check(prerelease_index, "newpython\n", capsys)
    assert code == 0, doc
    assert highest(doc)["newpython"] == "1.1.0rc1"
    assert pip_installs(prerelease_index.url) == {"newpython": "1.1.0rc1"}
    assert uv_compiles(prerelease_index.url) == {"newpython": "1.1.0rc1"}
