"""`relax-pins check` and the verifying relax command, against a real index on loopback."""

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
from tests.scenario import ML, Rel, publish

index_server = fixtures.index_server
TARGET = ["--python", "3.11", "--platform", "manylinux_2_28_x86_64"]


@pytest.fixture
def ml(
    index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The ML universe on loopback; pip's configuration on this machine is switched off."""
    publish(index_server, wheel_cache, ML)
    for key in list(os.environ):
        if key.startswith("PIP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.chdir(tmp_path)
    return ["--index-url", index_server.url, "--cache-dir", str(tmp_path / "cache"), *TARGET]


def index_url(args: list[str]) -> str:
    return args[args.index("--index-url") + 1]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def check_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(["check", "--format", "json", *args], capsys)
    return code, json.loads(out)


def codes(doc: dict[str, Any]) -> list[tuple[str, int | None, str]]:
    findings = doc["findings"]
    assert isinstance(findings, list)
    return [(f["code"], f["line"], f["severity"]) for f in findings]


def test_clean_set_resolves_at_newest_and_lowest(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text(
        "torch>=2.7.0,<2.8.0\ntorchvision>=0.22.0,<0.23.0\ntransformers[torch]>=4.36.2,<4.38\n"
    )
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    assert codes(doc) == []
    resolution = doc["environments"][0]["resolution"]
    assert isinstance(resolution, dict)
    assert resolution["highest"]["torch"] == "2.7.1"
    assert resolution["highest"]["torchvision"] == "0.22.1"
    assert resolution["highest"]["triton"] == "3.3.1"  # marker platform_system == 'Linux' holds for the target
    assert resolution["highest"]["tokenizers"] == "0.15.2"  # transformers caps it below 0.19
    assert resolution["lowest"]["torch"] == "2.7.0"
    assert resolution["lowest"]["torchvision"] == "0.22.0"
    assert resolution["lowest"]["transformers"] == "4.36.2"
    assert doc["environments"][0]["target"]["python"] == "3.11"
    rows = doc["environments"][0]["requirements"]
    assert isinstance(rows, list)
    assert [(r["package"], r["newest"], r["lowest"]) for r in rows] == [
        ("torch", "2.7.1", "2.7.0"),
        ("torchvision", "0.22.1", "0.22.0"),
        ("transformers", "4.37.0", "4.36.2"),
    ]


def test_exact_pins_are_reported_and_checked(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torch==2.7.1\nnumpy>=1.26\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0
    assert codes(doc) == [("exact-pin", 1, "warning")]
    assert "torch>=2.7.1,<2.8.0" in doc["findings"][0]["fix"]
    assert Path("requirements.txt").read_text() == "torch==2.7.1\nnumpy>=1.26\n"


def test_conflict_is_explained_with_file_and_line(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("# the seed's mistake\ntorch>=2.0.1,<2.1.0\ntorchvision==0.16.0\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    unresolvable = [f for f in doc["findings"] if f["code"] == "unresolvable"]
    (finding,) = unresolvable
    assert (
        "torchvision 0.16.0 requires torch==2.1.0, but requirements.txt:2 asks for torch<2.1.0,>=2.0.1"
        in (finding["message"])
    )
    assert finding["fix"] == "change requirements.txt:3 to torchvision>=0.15.1,<0.16.0 (torch-family-mismatch)"
    assert finding["line"] in (2, 3)


def test_a_lower_bound_the_set_cannot_reach(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Every app needs lib>=1.5, so lib>=1.0.0 can never be installed at 1.0.0: a warning with a fix, not an error.

    The set installs (pip and uv take app 1.1.0, lib 1.9.0); with lib==1.0.0 added uv finds no solution, and
    ``uv pip compile --resolution lowest-direct`` answers app==1.0.0, lib==1.5.0 (all asserted below, on the
    same loopback index)."""
    Path("requirements.txt").write_text("app>=1.0.0,<2\nlib>=1.0.0,<2\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    (finding,) = [f for f in doc["findings"] if f["code"] == "lower-bound-unreachable"]
    assert finding["severity"] == "warning" and finding["line"] == 2
    assert finding["message"].startswith(
        "lib 1.0.0, the lowest release in lib>=1.0.0,<2, cannot be installed with the rest of the set: "
    ), finding
    assert "app 1.0.0 requires lib>=1.5, but requirements.txt:2 is at 1.0.0" in finding["message"], finding
    assert finding["message"].endswith("; the lowest lib that can is 1.5.0"), finding
    assert finding["fix"] == "raise the lower bound to 1.5.0"
    assert not [f for f in doc["findings"] if f["code"] in {"unresolvable", "lowest-unresolvable"}]
    assert doc["environments"][0]["resolution"]["lowest"] == {"app": "1.0.0", "lib": "1.5.0"}
    assert uv_compiles(index_url(ml), "--resolution", "lowest-direct") == {"app": "1.0.0", "lib": "1.5.0"}
    assert uv_compiles(index_url(ml)) == pip_installs(index_url(ml)) == {"app": "1.1.0", "lib": "1.9.0"}
    Path("requirements.txt").write_text("app>=1.0.0,<2\nlib>=1.0.0,<2\nlib==1.0.0\n")
    assert uv_compiles(index_url(ml)) is None


def test_a_line_without_a_lower_bound_is_not_taken_to_its_first_release(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``lib`` has no lower bound: the lower-bound resolution leaves it at its newest, and claims nothing of it."""
    Path("requirements.txt").write_text("app>=1.0.0,<2\nlib\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    assert [f["code"] for f in doc["findings"] if f["severity"] != "info"] == []
    assert doc["environments"][0]["resolution"]["lowest"] == {"app": "1.0.0", "lib": "1.9.0"}
    rows = {r["package"]: (r["newest"], r["lowest"]) for r in doc["environments"][0]["requirements"]}
    assert rows == {"app": ("1.1.0", "1.0.0"), "lib": ("1.9.0", None)}
    # uv's lowest-direct takes every direct line low, unbounded ones too (lib to 1.5.0, the lowest app allows); a
    # line with no lower bound states no floor, so relax-pins leaves it at its newest and makes no claim about it.
    assert uv_compiles(index_url(ml), "--resolution", "lowest-direct") == {"app": "1.0.0", "lib": "1.5.0"}


def test_each_requirement_degrades_alone(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text(
        "nosuchpackage==1.0\n"  # 1 not-found
        "numpy>=3.0\n"  # 2 empty-range
        "pendulum>=3.0.0,<3.1\n"  # 3 yanked lower bound
        "oldlib>=1.0\n"  # 4 requires-python: every release
        "av==11.0.0\n"  # 5 no-wheel (sdist only)
        "mylib @ git+https://example.invalid/mylib.git\n"  # 6 unchecked
        "torch>=2.7.1,<2.8\n"  # 7 still checked and resolved
        "dynlib==1.0.0\n"  # 8 dynamic metadata
    )
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    found = {(c, line) for c, line, _ in codes(doc)}
    assert {
        ("not-found", 1),
        ("empty-range", 2),
        ("yanked", 3),
        ("requires-python", 4),
        ("no-wheel", 5),
        ("unchecked", 6),
        ("no-wheel", 8),
        ("dynamic-metadata", None),
    } <= found
    assert not any(c in {"unresolvable", "lowest-unresolvable", "lower-bound-unreachable"} for c, _ in found)
    assert doc["environments"][0]["resolution"]["highest"]["torch"] == "2.7.1"
    yanked = next(f for f in doc["findings"] if f["code"] == "yanked")
    assert "broken wheel" in yanked["message"]
    assert yanked["fix"] == "raise the lower bound to 3.0.1"


def test_requires_python_for_the_target(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("numpy>=2.2\n")
    args = ["--index-url", ml[1], "--cache-dir", ml[3], "--python", "3.9", "--platform", "manylinux_2_28_x86_64"]
    code, doc = check_json(["requirements.txt", *args], capsys)
    assert code == 1
    assert ("requires-python", 1, "error") in codes(doc)


def test_relax_verifies_before_writing(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torch==2.7.1\ntorchvision==0.22.1\n")
    code, out, _ = run(["requirements.txt", *ml], capsys)
    assert code == 0, out
    assert Path("requirements.txt").read_text() == "torch>=2.7.1,<2.8.0\ntorchvision>=0.22.1,<0.23.0\n"
    assert "relaxed 2 pins in 1 file" in out


def test_relax_with_errors_writes_nothing_unless_forced(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    text = "torch==2.0.1\ntorchvision==0.16.0\n"
    Path("requirements.txt").write_text(text)
    code, out, err = run(["requirements.txt", *ml], capsys)
    assert code == 1
    assert "error[unresolvable]" in out
    assert "no files changed" in err
    assert Path("requirements.txt").read_text() == text
    code, _, _ = run(["--force", "requirements.txt", *ml], capsys)
    assert code == 1
    assert Path("requirements.txt").read_text() == "torch>=2.0.1,<2.1.0\ntorchvision>=0.16.0,<0.17.0\n"


def test_unreachable_index_exits_3_and_keeps_other_findings(
    ml: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = "certifi==2024.2.2\ntorch==2.7.1\n"
    Path("requirements.txt").write_text(text)
    dead = "http://user:hunter2@127.0.0.1:9/simple/"
    args = ["--index-url", dead, "--cache-dir", str(tmp_path / "c"), "--retries", "0", "--timeout", "1", *TARGET]
    code, out, err = run(["requirements.txt", *args], capsys)
    assert code == 3
    assert Path("requirements.txt").read_text() == text
    assert "info[calver]" in out
    assert "127.0.0.1:9" in err  # why it stopped goes to stderr, in every format
    assert "hunter2" not in out + err
    assert "no files changed" in err
    assert "hint: to rewrite without asking the index, pass --no-verify" in err  # offline pre-commit hooks


def test_offline_with_empty_cache_opens_no_socket(
    ml: list[str], capsys: pytest.CaptureFixture[str], index_server: IndexServer
) -> None:
    Path("requirements.txt").write_text("torch>=2.7,<2.8\n")
    index_server.clear_log()
    code, _, _ = run(["check", "--offline", "requirements.txt", *ml], capsys)
    assert code == 3
    assert index_server.log == []
    # Warm the cache, then the same check works offline with no request at all.
    assert run(["check", "requirements.txt", *ml], capsys)[0] == 0
    index_server.clear_log()
    code, out, _ = run(["check", "--offline", "requirements.txt", *ml], capsys)
    assert code == 0, out
    assert index_server.log == []
    code, doc = check_json(["--offline", "requirements.txt", *ml], capsys)
    assert doc["environments"][0]["index"]["requests"] == 0
    assert doc["environments"][0]["index"]["cache_hits"] > 0


def test_github_and_markdown_formats(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torch>=2.0.1,<2.1.0\ntorchvision==0.16.0\n")
    code, out, _ = run(["check", "--format", "github", "requirements.txt", *ml], capsys)
    assert code == 1
    line = next(x for x in out.splitlines() if "unresolvable" in x)
    assert line.startswith("::error file=requirements.txt,line=")
    assert ",title=relax-pins unresolvable::" in line
    code, out, _ = run(["check", "--format", "markdown", "requirements.txt", *ml], capsys)
    assert out.startswith("## relax-pins: failed")
    assert "| requirement | range | newest | lowest | findings |" in out


def test_text_report_table(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torch>=2.7.0,<2.8.0\n")
    code, out, _ = run(["check", "requirements.txt", *ml], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("target: python 3.11")
    assert lines[1].split() == ["requirement", "range", "newest", "lowest", "findings"]
    assert lines[2].split() == ["requirements.txt:1", "torch", "<2.8.0,>=2.7.0", "2.7.1", "2.7.0", "ok"]
    assert lines[-1] == "checked 1 requirement; 0 errors, 0 warnings"


def test_terminal_gets_colour_and_a_progress_line(ml: list[str], index_server: IndexServer, tmp_path: Path) -> None:
    """On a terminal: a progress line on stderr while the index is slow, colours on the findings; NO_COLOR wins."""
    import pty
    import select
    import subprocess
    import sys

    Path("requirements.txt").write_text("torch==2.7.1\n")
    index_server.slow("/simple/*", 0.4)

    def on_terminal(extra_env: dict[str, str]) -> str:
        master, slave = pty.openpty()
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, **extra_env}
        proc = subprocess.Popen(
            [sys.executable, "-m", "resolver", "check", "requirements.txt", *ml],
            stdout=slave,
            stderr=slave,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=tmp_path,
        )
        os.close(slave)
        chunks: list[bytes] = []
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=30)
        os.close(master)
        return b"".join(chunks).decode()

    screen = on_terminal({})
    assert "asking the index:" in screen
    assert "\x1b[33mwarning[exact-pin]\x1b[0m" in screen
    plain = on_terminal({"NO_COLOR": "1"})
    assert "warning[exact-pin]" in plain
    assert "\x1b[33m" not in plain


def test_pages_without_cache_headers_are_fresh_for_a_while(
    ml: list[str], capsys: pytest.CaptureFixture[str], index_server: IndexServer
) -> None:
    """A mirror that sends no validators: pages are reused for five minutes instead of fetched on every run."""
    index_server.cache_headers = False
    Path("requirements.txt").write_text("torch>=2.7,<2.8\n")
    assert run(["check", "requirements.txt", *ml], capsys)[0] == 0
    index_server.clear_log()
    assert run(["check", "requirements.txt", *ml], capsys)[0] == 0
    assert index_server.requests("/simple/*") == []
    assert run(["check", "--refresh", "requirements.txt", *ml], capsys)[0] == 0
    assert index_server.requests("/simple/*") != []


def test_a_check_parses_each_text_once(
    ml: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One parse per text serves every reader (the include walk, the direct requirements, the index options):
    # base.txt is given and included, so it is reached three ways. The only other parse is of each relaxed text
    # that names torch, by the torch-family alignment, which reads the file as it will be written.
    from resolver.core import reqfile
    from resolver.pipeline import inputs

    inputs.requirements_parse.cache_clear()
    parsed: list[str] = []
    real = reqfile._parse

    def counting(text: str, path: str, *, fail_fast: bool) -> Any:
        parsed.append(text)
        return real(text, path, fail_fast=fail_fast)

    monkeypatch.setattr(reqfile, "_parse", counting)
    base, app = "numpy==2.0.0\n", "-r base.txt\ntorch==2.7.1\n"
    Path("base.txt").write_text(base)
    Path("app.txt").write_text(app)
    code, doc = check_json(["base.txt", "app.txt", *ml], capsys)
    assert code == 0, doc
    relaxed = {"-r base.txt\ntorch>=2.7.1,<2.8.0\n"}  # base.txt names no torch: no family to align
    assert sorted(parsed) == sorted([base, app, *relaxed]), parsed


def test_a_search_that_runs_out_of_rounds_claims_nothing(
    ml: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a budget of two rounds no set settles: a warning that names what it was stuck on, never a claim that
    the set has no solution (this one has: torch 2.7.1, torchvision 0.22.1)."""
    from resolver.resolve import engine

    monkeypatch.setattr(engine, "MAX_ROUNDS", 2)
    Path("requirements.txt").write_text("torch>=2.0\ntorchvision>=0.15\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    (finding,) = [f for f in doc["findings"] if f["severity"] != "info"]
    assert (finding["code"], finding["severity"]) == ("resolution-too-complex", "warning")
    assert finding["message"].startswith("gave up after 2 rounds of backtracking without deciding whether the set")
    assert doc["environments"][0]["resolution"]["highest"] is None


def test_a_floor_proof_over_its_budget_claims_nothing(
    ml: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proof that lib 1.0.0 is unreachable must turn down both app releases; with a budget of one candidate it
    cannot finish, and an unfinished proof is no claim either way."""
    from resolver.resolve import verify

    monkeypatch.setattr(verify, "FLOOR_PROOF_REJECTIONS", 1)
    Path("requirements.txt").write_text("app>=1.0.0,<2\nlib>=1.0.0,<2\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    assert [f["code"] for f in doc["findings"] if f["severity"] != "info"] == []
    assert doc["environments"][0]["resolution"]["lowest"] == {"app": "1.0.0", "lib": "1.5.0"}


def test_a_release_with_wheels_only_for_another_os_is_no_file_not_requires_python(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """av 12.0.0 has one wheel, for Windows: on Linux pip and uv find no matching distribution (asserted below).
    It used to be reported as requires-python, "the newest asks for None"."""
    Path("requirements.txt").write_text("av==12.0.0\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    (finding,) = [f for f in doc["findings"] if f["severity"] == "error"]
    assert (finding["code"], finding["line"]) == ("no-wheel", 1)
    assert "no release of av in av==12.0.0 has a wheel for Python 3.11 on manylinux_2_28_x86_64" in finding["message"]
    assert "(the wheels of 12.0.0 are for cp39-win_amd64)" in finding["message"], finding
    assert finding["fix"] == "install it only there: av==12.0.0; sys_platform == 'win32'"
    assert pip_installs(index_url(ml)) is None
    assert uv_compiles(index_url(ml)) is None
    Path("requirements.txt").write_text("av==12.0.0; sys_platform == 'win32'\n")  # the fix, applied
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc


def test_a_name_not_found_next_to_a_close_spelling_says_so(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """As AUTOMATIC1111's requirements_versions.txt: ``pstuil`` beside ``psutil``; here ``nunpy`` beside numpy."""
    Path("requirements.txt").write_text("numpy>=1.26\nnunpy\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    (finding,) = [f for f in doc["findings"] if f["code"] == "not-found"]
    assert finding["line"] == 2
    assert finding["message"] == (
        "nunpy is not on the index; numpy (requirements.txt:1), a close spelling, is in the same set"
    )
    assert finding["fix"] == (
        "if nunpy is a misspelling of numpy, remove this line: requirements.txt:1 already asks for numpy>=1.26"
    )
    Path("requirements.txt").write_text("numpy>=1.26\n")  # the fix, applied
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc


def test_a_line_whose_marker_excludes_the_target_shows_no_version(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """As pytorch's requirements-ci.txt: one name pinned twice under exclusive markers. On Python 3.11 only the
    first line installs; the second line's row used to show the first line's version."""
    Path("requirements.txt").write_text(
        "numpy==1.26.4 ; python_version < '3.12'\nnumpy==2.2.6 ; python_version >= '3.12'\n"
    )
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    rows = [(r["line"], r["newest"], r["applies"]) for r in doc["environments"][0]["requirements"]]
    assert rows == [(1, "1.26.4", True), (2, None, False)]
    code, out, _ = run(["check", "requirements.txt", *ml], capsys)
    (second,) = [line for line in out.splitlines() if line.startswith("requirements.txt:2 ")]
    assert second.endswith("not for this target"), second  # not "ok": nothing was checked for it


def test_one_name_on_two_lines_is_merged_as_pip_merges_it(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """pip and uv intersect the two ranges (numpy 2.0.0 here, asserted below); check resolves the same and says
    which lines ask for the name, with the one merged line as the fix, applied and checked again."""
    Path("requirements.txt").write_text("numpy>=1.26\ntorch>=2.7,<2.8\nnumpy<2.1\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    assert doc["environments"][0]["resolution"]["highest"]["numpy"] == "2.0.0"
    (finding,) = [f for f in doc["findings"] if f["code"] == "duplicate"]
    assert (finding["line"], finding["severity"]) == (3, "warning")
    assert finding["message"] == (
        "numpy is asked for on 2 lines (requirements.txt:1 numpy>=1.26; requirements.txt:3 numpy<2.1): "
        "pip and uv merge them into numpy<2.1,>=1.26"
    )
    assert finding["fix"] == "keep one line: numpy<2.1,>=1.26"
    assert (pip_installs(index_url(ml)) or {}).get("numpy") == "2.0.0"
    Path("requirements.txt").write_text("numpy<2.1,>=1.26\ntorch>=2.7,<2.8\n")  # the fix, applied
    code, again = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, again
    assert not [f for f in again["findings"] if f["severity"] != "info"]
    assert again["environments"][0]["resolution"]["highest"] == doc["environments"][0]["resolution"]["highest"]
    Path("other.txt").write_text("numpy<2.1\n")  # another file is another pip invocation: nothing is merged
    code, apart = check_json(["requirements.txt", "other.txt", *ml], capsys)
    assert not [f for f in apart["findings"] if f["code"] == "duplicate"], apart


def test_a_python_nothing_names_is_said_to_be_assumed(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """No --python and no Dockerfile: the running interpreter's Python is used, and the report says so."""
    at = ml.index("--python")
    unnamed = ml[:at] + ml[at + 2 :]
    Path("requirements.txt").write_text("numpy>=1.26\n")
    code, doc = check_json(["requirements.txt", *unnamed], capsys)
    assert code == 0, doc
    assert doc["environments"][0]["target"]["python_source"].startswith("assumed: the Python running relax-pins")
    code, out, _ = run(["check", "requirements.txt", *unnamed], capsys)
    assert "\nnote: Python 3." in out and "is assumed: the Python running relax-pins" in out
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert doc["environments"][0]["target"]["python_source"] == "--python"
    code, out, _ = run(["check", "requirements.txt", *ml], capsys)
    assert "is assumed" not in out


def test_a_constraint_in_a_conflict_is_named_and_each_fix_offered_resolves(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``-c constraints.txt`` with ``numpy<2`` against ``numpy>=2.0.0,<2.3``: pip finds no solution (asserted),
    and the finding says which constraint line takes part. Each of the two fixes, applied, makes pip install
    and the check pass: the direct line moved under the constraint, or the constraint widened."""
    Path("constraints.txt").write_text("numpy<2\n")
    Path("requirements.txt").write_text("-c constraints.txt\nnumpy>=2.0.0,<2.3\n")
    assert pip_installs(index_url(ml)) is None
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    (finding,) = [f for f in doc["findings"] if f["code"] == "unresolvable"]
    assert (finding["path"], finding["line"]) == ("requirements.txt", 2)
    assert "constraints.txt:1 constrains numpy to <2" in finding["message"]
    assert finding["fix"] == (
        "change requirements.txt:2 to numpy>=1.26.4,<1.27.0; or change constraints.txt:1 to numpy<2.3,>=2.0.0 "
        "(or drop it)"
    )
    Path("requirements.txt").write_text("-c constraints.txt\nnumpy>=1.26.4,<1.27.0\n")
    assert pip_installs(index_url(ml)) == {"numpy": "1.26.4"}
    assert check_json(["requirements.txt", *ml], capsys)[0] == 0
    Path("requirements.txt").write_text("-c constraints.txt\nnumpy>=2.0.0,<2.3\n")
    Path("constraints.txt").write_text("numpy<2.3,>=2.0.0\n")
    assert pip_installs(index_url(ml)) == {"numpy": "2.2.6"}
    assert check_json(["requirements.txt", *ml], capsys)[0] == 0


def test_a_torch_companion_conflict_has_one_fix_on_the_companion_line(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """torch==2.7.1 with torchvision==0.15.2 (which needs torch 2.0.1): pip finds no solution (asserted). The
    unresolvable finding and the torch-family-mismatch finding give the same fix, on the torchvision line (the
    torch pin stays), and with it applied pip installs and the check passes."""
    Path("requirements.txt").write_text("torch==2.7.1\ntorchvision==0.15.2\n")
    assert pip_installs(index_url(ml)) is None
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    found = {f["code"]: f for f in doc["findings"] if f["severity"] == "error"}
    assert set(found) == {"unresolvable", "torch-family-mismatch"}
    assert found["unresolvable"]["fix"] == "change requirements.txt:2 to torchvision==0.22.1 (torch-family-mismatch)"
    assert (
        found["torch-family-mismatch"]["line"] == 2 and "torchvision==0.22.1" in found["torch-family-mismatch"]["fix"]
    )
    Path("requirements.txt").write_text("torch==2.7.1\ntorchvision==0.22.1\n")
    assert (pip_installs(index_url(ml)) or {}).get("torchvision") == "0.22.1"
    assert check_json(["requirements.txt", *ml], capsys)[0] == 0


def test_an_engine_fix_that_does_not_resolve_the_set_is_not_offered(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """lib-a 2.0 needs base==2.0, which needs numpy>=3 (no such numpy); the engine's first idea, moving the
    base line to base>=2.0,<2.1, does not resolve the set either, so the finding offers no fix."""
    publish(
        index_server,
        wheel_cache,
        {"lib-a": [Rel("2.0", ["base==2.0"])], "base": [Rel("1.0"), Rel("2.0", ["numpy>=3"])]},
    )
    Path("requirements.txt").write_text("lib-a==2.0\nbase==1.0\n")
    assert pip_installs(index_url(ml)) is None
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    (finding,) = [f for f in doc["findings"] if f["code"] == "unresolvable"]
    assert "lib-a 2.0 requires base==2.0" in finding["message"]
    assert finding["fix"] is None
    Path("requirements.txt").write_text("lib-a==2.0\nbase>=2.0,<2.1\n")
    assert pip_installs(index_url(ml)) is None  # the fix the engine would have offered: pip still fails


def test_a_row_never_shows_a_version_outside_its_own_range(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """numpy>=2.3,<2.4 has no release here (an error of its own, so the line is left out of the resolution);
    transformers still brings numpy 2.2.6, which the numpy row used to show as its answer."""
    Path("requirements.txt").write_text("transformers>=4.36\nnumpy>=2.3,<2.4\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    (env,) = doc["environments"]
    assert env["resolution"]["highest"]["numpy"] == "2.2.6"
    rows = {r["package"]: (r["newest"], r["lowest"], r["findings"]) for r in env["requirements"]}
    assert rows["numpy"] == (None, None, ["empty-range"])
    assert rows["transformers"][0] == "4.37.0"


def test_a_finding_that_rests_on_an_assumed_python_is_not_an_error(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """old-only publishes a cp38 wheel. With --python 3.11, pip finds no matching distribution (asserted) and
    the check says no-wheel, an error. With no Python named, the running interpreter's is a guess: the same
    finding is a warning that says it rests on the assumed Python."""
    publish(index_server, wheel_cache, {"old-only": [Rel("1.0.0", tags="cp38-cp38-manylinux_2_17_x86_64")]})
    Path("requirements.txt").write_text("old-only>=1.0\n")
    assert pip_installs(index_url(ml)) is None
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    (named,) = [f for f in doc["findings"] if f["code"] == "no-wheel"]
    assert named["severity"] == "error" and "assumed" not in named["message"]
    at = ml.index("--python")
    code, doc = check_json(["requirements.txt", *ml[:at], *ml[at + 2 :]], capsys)
    assert code == 0
    (guessed,) = [f for f in doc["findings"] if f["code"] == "no-wheel"]
    assert guessed["severity"] == "warning" and "which is assumed: give --python" in guessed["message"]
    assert doc["environments"][0]["requirements"][0]["findings"] == ["no-wheel"]


def test_cuda_and_family_findings_speak_of_the_versions_the_resolution_chose(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """torch>=2.0,<2.8 alone would be torch 2.7 (a CUDA 12 build), but torchvision==0.15.2 holds it at 2.0.1
    (pip, asserted), whose main-index build is CUDA 11.7: on a CUDA 12.8 target that is cuda-no-wheel, said of
    torch 2.0. And torchaudio 2.11.0, whose wheel names no torch, resolves beside torch==2.0.1 without a
    conflict but does not go with it: torch-family-mismatch on the resolved pair."""
    Path("requirements.txt").write_text("torch>=2.0,<2.8\ntorchvision==0.15.2\n")
    assert (pip_installs(index_url(ml)) or {}).get("torch") == "2.0.1"
    code, doc = check_json(["requirements.txt", "--cuda", "12.8", *ml], capsys)
    assert code == 1
    (no_wheel,) = [f for f in doc["findings"] if f["code"] == "cuda-no-wheel"]
    assert no_wheel["line"] == 1 and "torch 2.0" in no_wheel["message"] and "torch 2.7" not in no_wheel["message"]
    rows = {r["package"]: r for r in doc["environments"][0]["requirements"]}
    assert rows["torch"]["newest"] == "2.0.1" and "cuda-no-wheel" in rows["torch"]["findings"]

    publish(index_server, wheel_cache, {"torchaudio": [Rel("2.11.0")]})
    Path("requirements.txt").write_text("torch==2.0.1\ntorchaudio\n")
    assert pip_installs(index_url(ml)) == {"torch": "2.0.1", "torchaudio": "2.11.0", "filelock": "3.16.1",
                                            "numpy": "2.2.6"}  # fmt: skip
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    (family,) = [f for f in doc["findings"] if f["code"] == "torch-family-mismatch"]
    assert family["line"] == 2 and family["severity"] == "error"


def test_a_package_that_pins_torch_moves_to_a_release_for_the_torch_line(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """xformers==0.0.20 requires torch==2.0.1 beside torch==2.7.1: pip finds no solution (asserted). torch is
    the anchor, so the one fix moves xformers to the newest release whose Requires-Dist accepts torch 2.7.1
    (0.0.32 wants a torch 2.8 this index lacks); applied, pip installs it and the check passes."""
    publish(
        index_server,
        wheel_cache,
        {
            "xformers": [
                Rel("0.0.20", ["torch==2.0.1"]),
                Rel("0.0.30", ["torch==2.7.0"]),
                Rel("0.0.31", ["torch==2.7.1"]),
                Rel("0.0.32", ["torch==2.8.0"]),
            ]
        },
    )
    Path("requirements.txt").write_text("torch==2.7.1\nxformers==0.0.20\n")
    assert pip_installs(index_url(ml)) is None
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    (finding,) = [f for f in doc["findings"] if f["code"] == "unresolvable"]
    assert finding["fix"] == "change requirements.txt:2 to xformers==0.0.31"
    Path("requirements.txt").write_text("torch==2.7.1\nxformers==0.0.31\n")
    assert (pip_installs(index_url(ml)) or {}).get("xformers") == "0.0.31"
    assert check_json(["requirements.txt", *ml], capsys)[0] == 0


def test_a_requires_python_that_excludes_only_the_patch_release_says_so(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """scalene 1.5.51 asks for !=3.11.0: pip with --python-version 3.11 (which it takes as 3.11.0) finds no
    release (asserted), and so does the check, which says the exclusion is of the patch release, not of 3.11;
    with the build's patch release named, there is nothing to report."""
    publish(index_server, wheel_cache, {"scalene": [Rel("1.5.51", requires_python="!=3.11.0,>=3.8")]})
    Path("requirements.txt").write_text("scalene==1.5.51\n")
    assert pip_installs(index_url(ml)) is None
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 1
    (finding,) = [f for f in doc["findings"] if f["code"] == "requires-python"]
    assert "excludes Python 3.11.0" in finding["message"] and "a later 3.11.x is allowed" in finding["message"]
    at = ml.index("--python")
    code, doc = check_json(["requirements.txt", *ml[:at], "--python", "3.11.7", *ml[at + 2 :]], capsys)
    assert code == 0 and doc["environments"][0]["target"]["python_full_version"] == "3.11.7"


def test_verbose_says_each_request_and_retry_on_stderr(
    ml: list[str], index_server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """There was no way to see requests and retries; -v logs each (credentials masked) on stderr."""
    index_server.fail("/simple/numpy/", 503, times=1)
    Path("requirements.txt").write_text("numpy>=1.26\n")
    at = ml.index("--index-url")
    authed = ml[at + 1].replace("http://", "http://user:s3cret@")
    code, out, err = run(["check", "requirements.txt", "-v", *ml[:at], "--index-url", authed, *ml[at + 2 :]], capsys)
    assert code == 0, err
    assert "relax-pins: GET http://127.0.0.1" in err  # the URL as requested: its credentials go in a header
    assert "/simple/numpy/ -> 200" in err
    assert "retrying" in err and "HTTP 503" in err
    assert "s3cret" not in out + err
    assert "GET" not in out


def test_check_shows_the_upgrade_horizon(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """``check`` showed the newest release inside a range, never that the range shuts out a newer one
    (``requests<2.33`` and 2.34.2). JSON rows carry ``latest``; a newer minor or major outside the range is an
    ``outdated`` info finding on the line; a newer patch outside it is the bound's own choice and says nothing."""
    Path("requirements.txt").write_text("numpy>=1.26,<2\nlib>=1.5\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    rows = {r["package"]: r for r in doc["environments"][0]["requirements"]}
    assert rows["numpy"]["newest"] == "1.26.4" and rows["numpy"]["latest"] == "2.2.6"
    assert rows["lib"]["latest"] == rows["lib"]["newest"] == "1.9.0"
    (outdated,) = [f for f in doc["findings"] if f["code"] == "outdated"]
    assert outdated["line"] == 1 and outdated["severity"] == "info"
    assert (
        outdated["message"]
        == "numpy>=1.26,<2 excludes numpy 2.2.6, a newer major release (the newest it allows is 1.26.4)"
    )


def test_outdated_compares_with_the_written_floor_and_offers_no_unverified_fix(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``torchvision==0.3.0`` (no answer: an error of its own) beside 0.29.2 was called "a newer major
    release", and every outdated line offered a widened bound no resolution had checked."""
    Path("requirements.txt").write_text("numpy==1.26.4\n")
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    (outdated,) = [f for f in doc["findings"] if f["code"] == "outdated"]
    assert "a newer major release" in outdated["message"] and outdated["fix"] is None
    Path("requirements.txt").write_text("lib==1.0.0\n")  # 1.9.0 exists: same major, newer minor
    code, doc = check_json(["requirements.txt", *ml], capsys)
    assert code == 0, doc
    (outdated,) = [f for f in doc["findings"] if f["code"] == "outdated"]
    assert "excludes lib 1.9.0, a newer minor release" in outdated["message"]
