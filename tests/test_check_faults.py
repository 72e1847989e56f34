"""Faults and adversaries at the command line: dependency confusion, tampered metadata, concurrent runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resolver.index import transport
from resolver.index.transport import ANSWER_FACTOR
from tests.indexserver.model import Project, dist
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.installers import pip_installs, uv_compiles
from tests.scenario import Rel, publish
from tests.test_check import TARGET, check_json, index_server, ml, run

__all__ = ["index_server", "ml"]


def test_dependency_confusion_is_predicted_as_pip_does_it_and_named(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """An extra index serving a same-named project with a higher version: pip merges the indexes and installs the
    attacker's 99.0.0, and so does uv, which asks extra indexes before the main one (both asserted below). check
    says so, with an index-shadowing warning that names both indexes; ``--first-index`` takes a project from
    the first index that has it in the order given, the main index first, as a stricter policy than either."""
    publish(index_server, wheel_cache, {"internal-lib": [Rel("1.0.0")]})
    with IndexServer() as attacker:
        publish(attacker, wheel_cache, {"internal-lib": [Rel("99.0.0")]})
        Path("requirements.txt").write_text("internal-lib>=1.0\n")
        args = ["requirements.txt", *ml, "--extra-index-url", attacker.url]
        code, doc = check_json(args, capsys)
        assert code == 0
        assert doc["environments"][0]["resolution"]["highest"]["internal-lib"] == "99.0.0"
        assert doc["environments"][0]["resolution"]["sources"]["internal-lib"] == attacker.url
        (shadow,) = [f for f in doc["findings"] if f["code"] == "index-shadowing"]
        assert shadow["severity"] == "warning" and shadow["line"] == 1
        assert index_server.url in shadow["message"] and attacker.url in shadow["message"]
        assert f"internal-lib>=1.0 allows is 99.0.0, from {attacker.url}" in shadow["message"]
        assert pip_installs(index_server.url, "--extra-index-url", attacker.url) == {"internal-lib": "99.0.0"}
        code, doc = check_json([*args, "--first-index"], capsys)
        assert code == 0
        assert doc["environments"][0]["resolution"]["highest"]["internal-lib"] == "1.0.0"
        assert doc["environments"][0]["resolution"]["sources"]["internal-lib"] == index_server.url
        assert not [f for f in doc["findings"] if f["code"] == "index-shadowing"]
        assert uv_compiles(index_server.url, "--extra-index-url", attacker.url) == {"internal-lib": "99.0.0"}
        code, out, _ = run(["check", *args], capsys)
        assert f"internal-lib 99.0.0: {attacker.url}" in out


def test_tampered_metadata_exits_4_naming_the_file(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    path = wheel_cache.wheel("tampered", "1.0.0", requires_dist=("numpy",))
    index_server.add(Project("tampered", [dist(path, wrong_metadata_hash=True)]))
    Path("requirements.txt").write_text("tampered==1.0.0\n")
    code, _, out = run(["check", "requirements.txt", *ml], capsys)  # the reason is on stderr
    assert code == 4
    assert "tampered-1.0.0-py3-none-any.whl.metadata" in out
    assert "does not match its hash" in out


def test_eight_concurrent_runs_share_one_cache(ml: list[str], index_server: IndexServer, tmp_path: Path) -> None:
    Path("requirements.txt").write_text("torch>=2.7,<2.8\ntransformers[torch]>=4.36,<4.38\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    cache = tmp_path / "shared-cache"
    cmd = [
        sys.executable,
        "-m",
        "resolver",
        "check",
        "--format",
        "json",
        "requirements.txt",
        "--index-url",
        index_server.url,
        "--cache-dir",
        str(cache),
        *TARGET,
    ]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(8)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in results]
    versions = {json.loads(out)["environments"][0]["resolution"]["highest"]["torch"] for out, _ in results}
    assert versions == {"2.7.1"}
    index_server.clear_log()
    offline = subprocess.run([*cmd, "--offline"], capture_output=True, text=True, env=env, check=False)
    assert offline.returncode == 0, offline.stderr  # the cache the eight wrote is complete and readable
    assert index_server.log == []


@pytest.mark.parametrize("fmt", ["text", "json", "github", "markdown"])
def test_exit_3_and_4_are_visible_in_every_format(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """``check --format github`` on exit 3 or 4 printed no annotation and nothing on stderr, and markdown headed
    the failed run "passed". Now: an ::error annotation, a markdown heading that says it could not finish,
    JSON ok false with the error, and the reason on stderr in every format."""
    path = wheel_cache.wheel("tampered", "1.0.0", requires_dist=("numpy",))
    index_server.add(Project("tampered", [dist(path, wrong_metadata_hash=True)]))
    Path("requirements.txt").write_text("tampered==1.0.0\n")
    at = ml.index("--cache-dir")
    offline = [*ml[:at], "--cache-dir", "empty-cache", *ml[at + 2 :], "--offline"]  # nothing cached: exit 3
    for argv, code_wanted in ((["requirements.txt", *ml], 4), (["requirements.txt", *offline], 3)):
        code, out, err = run(["check", "--format", fmt, *argv], capsys)
        assert code == code_wanted, err
        assert "relax-pins: error" in err and "no files changed" in err
        if fmt == "github":
            assert "::error title=relax-pins%3A " in out
        elif fmt == "markdown":
            assert out.startswith("## relax-pins: could not finish")
        elif fmt == "json":
            doc = json.loads(out)
            assert doc["ok"] is False and doc["environments"][0]["error"]


def test_a_dripping_index_cannot_hold_a_check(
    ml: list[str], index_server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """An index that sends one byte every 0.3 s held ``check --timeout 1 --retries 1`` for 75 s (until the
    server stopped). The documented bound of a run is ANSWER_FACTOR x timeout x (retries + 1) plus the
    backoff; here that is 8 s and a little."""
    index_server.drip("/simple/*", 0.3)
    Path("requirements.txt").write_text("torch>=2.7,<2.8\nnumpy>=1.26\n")
    started = time.monotonic()
    code, _, err = run(["check", "requirements.txt", *ml, "--timeout", "1", "--retries", "1"], capsys)
    elapsed = time.monotonic() - started
    assert code == 3, err
    assert "the whole answer took longer than" in err
    assert elapsed < 1 * ANSWER_FACTOR * 2 + 4, elapsed


def test_a_wheel_whose_metadata_names_another_project_is_exit_4(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """``mismatch-1.0.0-py3-none-any.whl`` whose METADATA says ``evilname 9.9.9`` was accepted and its
    ``Requires-Dist: evil-pkg`` resolved and locked. pip refuses such a wheel; so does relax-pins now."""
    metadata = b"Metadata-Version: 2.1\nName: evilname\nVersion: 9.9.9\nRequires-Dist: evil-pkg\n\n"
    path = wheel_cache.wheel("mismatch", "1.0.0", metadata=metadata)
    index_server.add(Project("mismatch", [dist(path)]))
    Path("requirements.txt").write_text("mismatch==1.0.0\n")
    code, out, err = run(["check", "requirements.txt", *ml], capsys)
    assert code == 4, out + err
    assert "its METADATA says 'evilname 9.9.9', its filename 'mismatch 1.0.0'" in err
    code, _, err = run(["lock", "requirements.txt", "-o", "pylock.toml", *ml], capsys)
    assert code == 4 and "evilname" in err
    assert not Path("pylock.toml").exists()


def test_a_wheel_whose_local_header_names_another_member_is_exit_4(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """A zip whose local header names another file than its central directory reads differently to two
    readers (pip installs from the local headers): it was accepted; now it is exit 4 naming both."""
    built = wheel_cache.wheel("twofaced", "1.0.0", requires_dist=("numpy",))
    data = bytearray(built.read_bytes())
    name = b"twofaced-1.0.0.dist-info/METADATA"
    at = data.index(name)  # the first time the name appears is its local header: the central directory is last
    data[at : at + len(name)] = b"twofaced-1.0.0.dist-info/METADATX"
    path = built.parent / "forged" / built.name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(bytes(data))
    index_server.add(Project("twofaced", [dist(path)]))
    index_server.no_metadata_files()
    Path("requirements.txt").write_text("twofaced==1.0.0\n")
    code, out, err = run(["check", "requirements.txt", *ml], capsys)
    assert code == 4, out + err
    assert "the local header names 'twofaced-1.0.0.dist-info/METADATX'" in err


def test_what_the_index_sends_is_capped(
    ml: list[str],
    index_server: IndexServer,
    wheel_cache: WheelCache,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 210 MB page was parsed (33 s, 1.8 GB), a gzip page inflating to 300 MB read whole, 100,000
    Requires-Dist lines took 613 MB. Each is now refused with the URL and the limit. (The page limit is
    lowered here so the test need not serve 64 MiB; it applies to the body as decompressed.)"""
    many = wheel_cache.wheel("many", "1.0.0", requires_dist=tuple(f"dep{i}" for i in range(5_001)))
    index_server.add(Project("many", [dist(many)]))
    Path("requirements.txt").write_text("many==1.0.0\n")
    code, _, err = run(["check", "requirements.txt", *ml], capsys)
    assert code == 4
    assert "core metadata with 5001 Requires-Dist lines, over the limit of 5000" in err
    assert "many-1.0.0-py3-none-any.whl" in err
    monkeypatch.setattr(transport, "PAGE_LIMIT", 300)
    Path("requirements.txt").write_text("numpy>=1.26\n")
    at = ml.index("--cache-dir")
    code, _, err = run(["check", "requirements.txt", *ml[:at], *ml[at + 2 :], "--no-cache"], capsys)
    assert code == 3
    assert "/simple/numpy/: the answer is over the limit of 300 bytes once decompressed; refused" in err


def test_no_line_echoes_a_huge_string(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """A 1 MB name gave a 1 MB error line. Printed lines are cut at 10,000 characters (saying how many more
    there were), and JSON strings too, so the JSON stays valid."""
    name = "a" * 60_000
    Path("requirements.txt").write_text(f"{name}==1.0\n")
    code, out, err = run(["check", "requirements.txt", *ml], capsys)
    assert code == 1
    assert max(len(line) for line in (out + err).splitlines()) < 10_100
    assert "more characters not shown)" in out
    code, out, _ = run(["check", "requirements.txt", "--format", "json", *ml], capsys)
    doc = json.loads(out)
    assert all(len(f["message"]) < 10_100 for f in doc["findings"])
