"""One check, several environments: each input with the files it installs is checked against its own target
and its own indexes, and an index that cannot be reached stops only its own environment."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.installers import pip_installs, uv_compiles
from tests.scenario import Rel, publish
from tests.test_check import check_json, index_server, index_url, ml, run

__all__ = ["index_server", "ml"]


def _closed_port_url() -> str:
    """A loopback URL nothing listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple/"


def _no_target(ml: list[str]) -> list[str]:
    """The ml options without --python/--platform: each environment's target comes from its own inputs."""
    return ml[: ml.index("--python")]


def test_a_requirements_file_and_a_dockerfile_are_checked_against_their_own_targets(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    Path("a").mkdir()
    Path("b").mkdir()
    Path("a/requirements.txt").write_text("lib>=1.5\n")
    Path("b/Dockerfile").write_text("FROM python:3.12-slim\nRUN pip install app==1.1.0\n")
    code, doc = check_json(["a/requirements.txt", "b/Dockerfile", *_no_target(ml)], capsys)
    assert code == 0, doc
    first, second = doc["environments"]
    assert first["files"] == ["a/requirements.txt"]
    assert first["target"]["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert first["target"]["python_source"].startswith("assumed:")
    assert [r["package"] for r in first["requirements"]] == ["lib"]
    assert second["files"] == ["b/Dockerfile"]
    assert second["target"]["python"] == "3.12"
    assert "python:3.12-slim" in second["target"]["python_source"]
    assert [r["package"] for r in second["requirements"]] == ["app"]
    assert second["resolution"]["highest"] == {"app": "1.1.0", "lib": "1.9.0"}
    code, out, _ = run(["check", "a/requirements.txt", "b/Dockerfile", *_no_target(ml)], capsys)
    assert "environment 1 of 2: a/requirements.txt\n" in out
    assert "environment 2 of 2: b/Dockerfile\n" in out
    assert out.count("target: python 3.12") == 1


def test_a_file_the_dockerfile_installs_is_checked_in_the_image(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    Path("requirements.txt").write_text("lib>=1.5\n")
    Path("Dockerfile").write_text(
        "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    )
    code, doc = check_json(["requirements.txt", "Dockerfile", *_no_target(ml)], capsys)
    assert code == 0, doc
    (env,) = doc["environments"]
    assert sorted(env["files"]) == ["Dockerfile", "requirements.txt"]
    assert env["target"]["python"] == "3.12"


def test_an_unreachable_index_stops_only_its_own_environment(
    ml: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The main index of one environment (its RUN line's --index-url, which beats pip's configuration) refuses
    connections: that environment is unchecked (exit 3), while the other file's typo is still looked up on
    its own index and named with the close name."""
    Path("a").mkdir()
    Path("b").mkdir()
    Path("a/requirements.txt").write_text("tokenizers>=0.15\ntokenziers>=0.15\n")
    dead = _closed_port_url()
    Path("b/Dockerfile").write_text(f"FROM python:3.11-slim\nRUN pip install --index-url {dead} app==1.1.0\n")
    at = ml.index("--index-url")
    monkeypatch.setenv("PIP_INDEX_URL", ml[at + 1])
    args = ["a/requirements.txt", "b/Dockerfile", *ml[:at], *ml[at + 2 :], "--retries", "0"]
    code, doc = check_json(args, capsys)
    assert code == 3
    first, second = doc["environments"]
    assert first["error"] is None
    (typo,) = [f for f in first["findings"] if f["code"] == "not-found"]
    assert typo["package"] == "tokenziers" and "a misspelling of tokenizers" in typo["fix"]
    assert second["error"] is not None and "127.0.0.1" in second["error"]
    assert second["indexes"] == [dead]
    assert second["requirements"] == [] and second["resolution"]["highest"] is None
    code, _, out = run(["check", *args], capsys)  # the reason is on stderr
    assert code == 3
    assert "relax-pins: error (b/Dockerfile): " in out
    assert out.count("relax-pins: error") == 1


def test_an_unreachable_extra_index_leaves_the_rest_checked(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """An extra index that refuses connections does not stop its environment: pip reads the other indexes when
    one cannot be fetched, and so does the check. What the lost index might serve is unknown, so a claim that
    something is missing becomes unchecked, naming it (exit 3), and what resolved is reported as resolved."""
    dead = _closed_port_url()
    Path("requirements.txt").write_text(f"--extra-index-url {dead}\napp==1.1.0\ntorch==2.4.0+cu124\n")
    # pip: installs app 1.1.0 without the dead index, and cannot find torch 2.4.0+cu124 on the others
    Path("requirements.txt").write_text(f"--extra-index-url {dead}\napp==1.1.0\n")
    assert pip_installs(index_url(ml), "--retries", "0") is not None
    Path("requirements.txt").write_text(f"--extra-index-url {dead}\napp==1.1.0\ntorch==2.4.0+cu124\n")
    args = ["requirements.txt", *ml, "--retries", "0"]
    code, doc = check_json(args, capsys)
    assert code == 3, doc
    (env,) = doc["environments"]
    assert env["indexes"] == [index_url(ml), dead]
    assert env["error"] is not None and dead in env["error"] and "unchecked" in env["error"]
    rows = {r["package"]: r for r in env["requirements"]}
    assert rows["app"]["findings"] == [] and rows["app"]["newest"] == "1.1.0"
    assert rows["torch"]["findings"] == ["unchecked"]
    (torch,) = [f for f in env["findings"] if f["package"] == "torch" and "not confirmed" in f["message"]]
    assert torch["code"] == "unchecked" and torch["severity"] == "warning"
    assert dead in torch["message"] and "no release" in torch["message"]
    assert torch["fix"] == f"check again where {dead} can be reached"  # never a move off the +cu124 build
    assert not [f for f in doc["findings"] if f["severity"] == "error"]
    code, _, out = run(["check", *args], capsys)  # the reason is on stderr
    assert code == 3
    assert f"relax-pins: error: {dead}: " in out and "what it serves is unchecked" in out
    assert out.count("relax-pins: error") == 1


def _links_server(wheel_cache: WheelCache) -> IndexServer:
    """A second loopback server whose torch page, served as HTML, is a find-links page with a CUDA build."""
    links = IndexServer().start()
    publish(links, wheel_cache, {"torch": [Rel("1.10.1+cu113", ["numpy"])]})
    links.html_only()
    return links


def test_a_dockerfile_find_links_page_is_asked_as_pip_asks_it(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """pip (asserted below) installs torch 1.10.1+cu113 from the find-links page the RUN line names; so does the
    check, which says where it came from, instead of looking for it on the main index alone."""
    links = _links_server(wheel_cache)
    try:
        page = f"{links.url}torch/"
        Path("Dockerfile").write_text(f"FROM python:3.11-slim\nRUN pip install torch==1.10.1+cu113 -f {page}\n")
        code, doc = check_json(["Dockerfile", *ml], capsys)
        assert code != 3, doc
        (env,) = doc["environments"]
        assert env["find_links"] == [page]
        assert env["resolution"]["highest"]["torch"] == "1.10.1+cu113"
        assert env["resolution"]["sources"]["torch"] == page
        assert not [f for f in doc["findings"] if f["code"] in {"empty-range", "not-found"}]
        Path("requirements.txt").write_text("torch==1.10.1+cu113\n")
        assert (pip_installs(index_server.url, "-f", page) or {}).get("torch") == "1.10.1+cu113"
    finally:
        links.stop()


@pytest.mark.parametrize("kind", ["dockerfile", "requirements"])
def test_an_index_the_file_names_that_cannot_be_reached_is_exit_3_not_empty_range(
    ml: list[str], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = _closed_port_url()
    if kind == "dockerfile":
        Path("Dockerfile").write_text(f"FROM python:3.11-slim\nRUN pip install torch==2.4.0+cu124 -f {dead}torch/\n")
        name = "Dockerfile"
    else:
        Path("requirements.txt").write_text(f"--extra-index-url {dead}\ntorch==2.4.0+cu124\n")
        name = "requirements.txt"
    code, doc = check_json([name, *ml, "--retries", "0"], capsys)
    assert code == 3
    (env,) = doc["environments"]
    assert env["error"] is not None and "127.0.0.1" in env["error"]
    assert not [f for f in doc["findings"] if f["code"] in {"empty-range", "not-found"}]
    (torch,) = [f for f in env["findings"] if f.get("was") == "empty-range"]
    assert torch["code"] == "unchecked" and dead in torch["message"]
    assert [r["findings"] for r in env["requirements"]] == [["unchecked"]]


@pytest.mark.parametrize(
    ("copy", "install"),
    [
        ("COPY requirements.txt .", "-r requirements.txt"),
        ("COPY requirements.txt /training", "-r /training/requirements.txt"),  # a folder the image has
        ("COPY requirements.txt /training/", "-r /training/requirements.txt"),
        ("WORKDIR /app\nCOPY . .", "-r requirements.txt"),
    ],
)
def test_a_dockerfile_in_a_subfolder_reads_the_files_it_copies_in(
    ml: list[str], copy: str, install: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run from the repository root, as CI does: the -r file sits beside the Dockerfile, not in the working
    folder. It used to say "checked 0 requirements" and exit 0."""
    Path("svc").mkdir()
    Path("svc/requirements.txt").write_text("lib>=1.5\nnot-there-at-all>=1\n")
    Path("svc/Dockerfile").write_text(f"FROM python:3.11-slim\n{copy}\nRUN pip install {install}\n")
    code, doc = check_json(["svc/Dockerfile", *ml], capsys)
    assert code == 1
    (env,) = doc["environments"]
    assert env["files"] == ["svc/Dockerfile", "svc/requirements.txt"]
    assert [(r["path"], r["package"]) for r in env["requirements"]] == [
        ("svc/requirements.txt", "lib"),
        ("svc/requirements.txt", "not-there-at-all"),
    ]
    assert [(f["code"], f["path"], f["line"]) for f in doc["findings"]] == [("not-found", "svc/requirements.txt", 2)]


def test_dockerfile_option_names_the_image_the_other_inputs_install_into(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``--dockerfile`` reads a file of any name as a Dockerfile, and its image is the target of the inputs no
    Dockerfile installs; a Dockerfile given as a path stays an environment of its own."""
    Path("docker").mkdir()
    Path("requirements.txt").write_text("lib>=1.5\n")
    Path("docker/train.docker").write_text("FROM python:3.12-slim\nRUN pip install app==1.1.0\n")
    Path("Dockerfile").write_text("FROM python:3.10-slim\nRUN pip install lib==1.9.0\n")
    args = ["requirements.txt", "Dockerfile", "--dockerfile", "docker/train.docker", *_no_target(ml)]
    code, doc = check_json(args, capsys)
    assert code == 0, doc
    assert [(e["files"], e["target"]["python"]) for e in doc["environments"]] == [
        (["requirements.txt", "docker/train.docker"], "3.12"),
        (["Dockerfile"], "3.10"),
    ]
    code, out, _ = run(["check", "--dockerfile", "docker/train.docker", *_no_target(ml)], capsys)
    assert code == 0 and "docker/train.docker:2 app" in out
    code, _, err = run(["check", *_no_target(ml)], capsys)
    assert code == 2 and "give at least one file" in err


_PYPROJECT = """[project]
name = "demo"
version = "0.1"
dependencies = ["lib>=1.5"]

[project.optional-dependencies]
cpu = ["numpy>=1.26,<2"]
gpu = ["numpy>=2.0,<2.3"]

[dependency-groups]
dev = ["app>=1.0", "not-there-at-all>=1"]
"""


def test_each_optional_set_of_a_pyproject_is_checked_with_the_main_dependencies(
    ml: list[str], index_server: IndexServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Extras and dependency groups used to be relaxed but never checked. Each is checked with the main
    dependencies, as ``pip install .[gpu]`` installs them, and not with the other extras: cpu and gpu exclude
    each other here, and each installs alone (pip, asserted for gpu)."""
    Path("pyproject.toml").write_text(_PYPROJECT)
    code, doc = check_json(["pyproject.toml", *ml], capsys)
    assert code == 1
    assert [e["name"] for e in doc["environments"]] == [
        "pyproject.toml",
        "pyproject.toml with extra cpu",
        "pyproject.toml with extra gpu",
        "pyproject.toml with group dev",
    ]
    main, cpu, gpu, dev = doc["environments"]
    assert [r["package"] for r in dev["requirements"]] == ["app", "not-there-at-all"]
    assert [r["package"] for r in main["requirements"]] == ["lib"]
    assert [(r["package"], r["newest"]) for r in cpu["requirements"]] == [("numpy", "1.26.4")]
    assert [(r["package"], r["newest"]) for r in gpu["requirements"]] == [("numpy", "2.2.6")]
    assert gpu["resolution"]["highest"] == {"lib": "1.9.0", "numpy": "2.2.6"}
    assert [(f["code"], f["line"]) for f in doc["findings"] if f["code"] != "outdated"] == [("not-found", 11)]
    Path("requirements.txt").write_text("lib>=1.5\nnumpy>=2.0,<2.3\n")
    assert pip_installs(index_server.url) == {"lib": "1.9.0", "numpy": "2.2.6"}
    code, doc = check_json(["pyproject.toml", "--extra", "gpu", *ml], capsys)
    assert code == 0
    assert [e["name"] for e in doc["environments"]] == ["pyproject.toml", "pyproject.toml with extra gpu"]
    code, doc = check_json(["pyproject.toml", "--no-extras", *ml], capsys)
    assert code == 0 and len(doc["environments"]) == 1
    code, _, err = run(["check", "pyproject.toml", "--extra", "tpu", *ml], capsys)
    assert code == 2 and "no such extra or dependency group" in err and "extra cpu, extra gpu, group dev" in err


def test_build_arg_gives_an_arg_its_value(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("Dockerfile").write_text("FROM python:3.11-slim\nARG LIB\nRUN pip install lib==${LIB}\n")
    code, doc = check_json(["Dockerfile", *ml], capsys)
    assert code == 0
    assert [f["code"] for f in doc["findings"]] == ["unchecked"]
    code, doc = check_json(["Dockerfile", "--build-arg", "LIB=1.5.0", *ml], capsys)
    assert code == 0 and doc["environments"][0]["resolution"]["highest"] == {"lib": "1.5.0"}
    code, _, err = run(["check", "Dockerfile", "--build-arg", "LIB", *ml], capsys)
    assert code == 2 and "is not NAME=VALUE" in err


@pytest.mark.parametrize(("flavor", "warned"), [("runtime", True), ("base", True), ("devel", False)])
def test_an_sdist_that_compiles_cuda_code_on_an_image_without_nvcc(
    ml: list[str],
    index_server: IndexServer,
    wheel_cache: WheelCache,
    flavor: str,
    warned: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """flash-attn has only an sdist here: pip builds it, which needs nvcc; a -runtime or -base image has none."""
    publish(index_server, wheel_cache, {"flash-attn": [Rel("2.5.8", sdist_only=True)]})
    Path("Dockerfile").write_text(
        f"FROM nvidia/cuda:12.1.1-{flavor}-ubuntu22.04\n"
        "RUN apt-get update && apt-get install -y python3-pip\nRUN pip install flash-attn==2.5.8\n"
    )
    code, doc = check_json(["Dockerfile", *ml], capsys)
    assert code == 0, doc
    found = {f["code"]: f for f in doc["findings"] if f["package"] == "flash-attn"}
    assert "no-wheel" in found
    assert ("needs-cuda-toolkit" in found) is warned
    if warned:
        toolkit = found["needs-cuda-toolkit"]
        assert toolkit["severity"] == "warning" and toolkit["line"] == 3
        assert f"-{flavor}-" in toolkit["message"] and "prebuilt wheel" in toolkit["message"]
        (row,) = doc["environments"][0]["requirements"]
        assert "needs-cuda-toolkit" in row["findings"]


@pytest.mark.parametrize("tool", ["pip", "uv pip"])
def test_a_dockerfile_is_resolved_with_the_index_strategy_of_its_installer(
    ml: list[str], index_server: IndexServer, wheel_cache: WheelCache, tool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The main index has shared-lib 2.0.0, an extra index 1.0.0. pip merges them and installs 2.0.0; uv asks the
    extra index first and takes 1.0.0 from it (both asserted). The check follows the RUN line's installer."""
    publish(index_server, wheel_cache, {"shared-lib": [Rel("2.0.0")]})
    with IndexServer() as extra:
        publish(extra, wheel_cache, {"shared-lib": [Rel("1.0.0")]})
        Path("requirements.txt").write_text("shared-lib>=1.0\n")
        expected = {"pip": "2.0.0", "uv pip": "1.0.0"}[tool]
        if tool == "pip":
            assert pip_installs(index_server.url, "--extra-index-url", extra.url) == {"shared-lib": expected}
        else:
            assert uv_compiles(index_server.url, "--extra-index-url", extra.url) == {"shared-lib": expected}
        Path("Dockerfile").write_text(
            f"FROM python:3.11-slim\nRUN {tool} install --system --extra-index-url {extra.url} 'shared-lib>=1.0'\n"
            if tool == "uv pip"
            else f"FROM python:3.11-slim\nRUN pip install --extra-index-url {extra.url} 'shared-lib>=1.0'\n"
        )
        code, doc = check_json(["Dockerfile", *ml], capsys)
        assert code == 0, doc
        (env,) = doc["environments"]
        assert env["resolution"]["highest"] == {"shared-lib": expected}
        assert env["resolution"]["sources"]["shared-lib"] == (index_server.url if tool == "pip" else extra.url)
        assert env["indexes"] == ([index_server.url, extra.url] if tool == "pip" else [extra.url, index_server.url])


def test_an_extra_that_names_the_project_itself_stands_for_those_extras(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``all = ["demo[gpu]"]`` in demo's own pyproject is no package to look up on the index (it was a false
    not-found): pip and uv read it as the gpu extra's dependencies."""
    Path("pyproject.toml").write_text(
        _PYPROJECT.replace('gpu = ["numpy>=2.0,<2.3"]', 'gpu = ["numpy>=2.0,<2.3"]\nall = ["Demo[gpu]"]')
    )
    code, doc = check_json(["pyproject.toml", "--extra", "all", *ml], capsys)
    assert code == 0, doc
    main, everything = doc["environments"]
    assert main["name"] == "pyproject.toml"
    assert everything["name"] == "pyproject.toml with extra all"
    assert [(r["package"], r["newest"]) for r in everything["requirements"]] == [("numpy", "2.2.6")]
    assert everything["resolution"]["highest"] == {"lib": "1.9.0", "numpy": "2.2.6"}


def test_one_unreachable_index_shared_by_environments_is_said_once(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A pyproject's main set and its extras share the index: when it cannot be reached, the reason is one
    line naming every environment it stopped, not one line each."""
    Path("pyproject.toml").write_text(_PYPROJECT)
    at = ml.index("--index-url")
    args = [*ml[:at], "--index-url", _closed_port_url(), *ml[at + 2 :], "--retries", "0"]
    code, _, err = run(["check", "pyproject.toml", *args], capsys)
    assert code == 3
    (line,) = [x for x in err.splitlines() if x.startswith("relax-pins: error")]
    assert "(pyproject.toml; pyproject.toml with extra cpu; pyproject.toml with extra gpu;" in line


@pytest.mark.parametrize("order", [("requirements.txt", "dev.txt"), ("dev.txt", "requirements.txt")])
def test_each_environment_holds_every_file_its_input_reaches(
    ml: list[str], order: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """dev.txt includes requirements.txt: its environment holds both, whichever is given first (it used to lose
    the include when requirements.txt came first, and call a conflicting set ok)."""
    Path("requirements.txt").write_text("torchvision==0.22.1\n")
    Path("dev.txt").write_text("-r requirements.txt\ntorch==2.0.1\n")
    code, doc = check_json([*order, *ml], capsys)
    assert code == 1
    envs = {e["name"]: e for e in doc["environments"]}
    assert envs["requirements.txt"]["error"] is None and envs["requirements.txt"]["resolution"]["highest"]
    assert sorted(envs["dev.txt"]["files"]) == ["dev.txt", "requirements.txt"]
    errors = {f["code"] for f in envs["dev.txt"]["findings"] if f["severity"] == "error"}
    assert errors == {"unresolvable", "torch-family-mismatch"}
    assert not [f for f in envs["requirements.txt"]["findings"] if f["severity"] == "error"]


def test_two_dockerfiles_that_install_one_file_both_hold_it(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    Path("requirements.txt").write_text("torchvision==0.22.1\n")
    base = "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt"
    Path("Dockerfile").write_text(base + "\n")
    Path("Dockerfile.gpu").write_text(base + " torch==2.0.1\n")
    code, doc = check_json(["Dockerfile", "Dockerfile.gpu", *ml], capsys)
    assert code == 1
    first, second = doc["environments"]
    assert first["files"] == ["Dockerfile", "requirements.txt"] and first["error"] is None
    assert sorted(second["files"]) == ["Dockerfile.gpu", "requirements.txt"]
    assert any(f["code"] == "unresolvable" for f in second["findings"])


def test_a_fix_on_a_line_of_several_words_goes_to_its_own_word(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    Path("Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install torch==2.7.1 torchvision==0.15.2\n")
    code, doc = check_json(["Dockerfile", *ml], capsys)
    assert code == 1
    (finding,) = [f for f in doc["findings"] if f["code"] == "unresolvable"]
    assert finding["fix"] == "change Dockerfile:2 to torchvision==0.22.1 (torch-family-mismatch)"


def test_extra_needs_only_one_pyproject_of_several_to_have_it(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    Path("a").mkdir()
    Path("b").mkdir()
    Path("a/pyproject.toml").write_text(_PYPROJECT)
    Path("b/pyproject.toml").write_text('[project]\nname = "b"\nversion = "1"\ndependencies = ["lib>=1.5"]\n')
    code, doc = check_json(["a/pyproject.toml", "b/pyproject.toml", "--extra", "gpu", *ml], capsys)
    assert code == 0, doc
    assert [e["name"] for e in doc["environments"]] == [
        "a/pyproject.toml",
        "a/pyproject.toml with extra gpu",
        "b/pyproject.toml",
    ]


def test_a_word_built_in_the_shell_does_not_mark_the_other_words_of_its_line(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``pip install lib==1.9.0 $EXTRA`` (no value) and ``PKGS="lib app" && pip install $PKGS`` (a value the
    shell splits into two words, which is not modelled): what cannot be read is said unchecked, and lib's own
    row stays its own."""
    Path("Dockerfile").write_text(
        'FROM python:3.11-slim\nARG EXTRA\nRUN pip install lib==1.9.0 $EXTRA\nRUN PKGS="lib app" && pip install $PKGS\n'
    )
    code, doc = check_json(["Dockerfile", *ml], capsys)
    assert code == 0, doc
    (row,) = doc["environments"][0]["requirements"]
    assert (row["package"], row["findings"]) == ("lib", [])
    assert [(f["code"], f["line"]) for f in doc["findings"] if f["code"] != "exact-pin"] == [
        ("unchecked", 3),
        ("unchecked", 4),
    ]


def test_a_dependency_group_is_checked_with_the_groups_it_includes(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``{include-group = "..."}`` (PEP 735) used to be skipped: a group made only of includes was not checked
    at all, and a conflict between a group and what it includes went unseen."""
    Path("pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["lib>=1.5"]\n\n'
        '[dependency-groups]\nlint = ["numpy>=2.0,<2.3"]\ntest = ["numpy<2", {include-group = "lint"}]\n'
        'ci = [{include-group = "Lint"}]\n'
    )
    code, doc = check_json(["pyproject.toml", *ml], capsys)
    names = [e["name"] for e in doc["environments"]]
    assert names == [
        "pyproject.toml",
        "pyproject.toml with group lint",
        "pyproject.toml with group test",
        "pyproject.toml with group ci",
    ]
    _, lint, test, ci = doc["environments"]
    assert ci["resolution"]["highest"] == lint["resolution"]["highest"] == {"lib": "1.9.0", "numpy": "2.2.6"}
    assert test["resolution"]["highest"] is None
    codes = [f["code"] for f in test["findings"] if f["code"] != "outdated"]  # numpy<2 and 2.2.6: info
    assert codes == ["duplicate", "unresolvable"]  # numpy on lines 7 and 8
    assert code == 1


def test_a_requirements_file_the_build_context_lacks_is_said_unchecked(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A Dockerfile that copies and installs a file not beside it used to be "checked 0 requirements", exit 0."""
    Path("Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY ./requirements-gpu.txt .\nRUN pip install -r requirements-gpu.txt\n"
        "RUN pip install -r /made/in/image.txt app==1.1.0\n"
    )
    code, doc = check_json(["Dockerfile", *ml], capsys)
    assert code == 0
    missing = [(f["line"], f["message"]) for f in doc["findings"] if f["code"] == "unchecked"]
    assert missing == [
        (3, "-r requirements-gpu.txt: its requirements are not checked: requirements-gpu.txt is not there (copied by "
            "COPY at line 2)"),
        (4, "-r /made/in/image.txt: its requirements are not checked: no COPY or --mount brings it from the build "
            "context (made in the image, or from another stage?)"),
    ]  # fmt: skip
    assert [f["severity"] for f in doc["findings"] if f["code"] == "unchecked"] == ["warning", "warning"]


def test_a_pytorch_image_is_assumed_to_have_a_python_its_torch_supports(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """pytorch/pytorch tags name torch, not Python: the Python assumed lies in what that torch line's wheels
    support (1.12: 3.7-3.10), so a host Python outside it is not taken for the image's, and the report says
    it is assumed."""
    Path("Dockerfile").write_text("FROM pytorch/pytorch:1.12.1-cuda11.3-cudnn8-runtime\nRUN pip install app==1.1.0\n")
    code, doc = check_json(["Dockerfile", *_no_target(ml)], capsys)
    assert code == 0, doc
    (env,) = doc["environments"]
    here = sys.version_info[:2]
    expected = f"{here[0]}.{here[1]}" if (3, 7) <= here <= (3, 10) else "3.10"
    assert env["target"]["python"] == expected
    assert env["target"]["python_source"].startswith("assumed: the base image pytorch/pytorch:1.12.1")
    assert "ships a Python in 3.7-3.10" in env["target"]["python_source"]
    code, out, _ = run(["check", "Dockerfile", *_no_target(ml)], capsys)
    assert f"note: Python {expected} is assumed: the base image pytorch/pytorch:1.12.1" in out


def test_targets_come_from_the_configuration(ml: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Every command repeated --python/--platform/--index-url: ``[tool.relax-pins]`` now holds them (the
    command line still wins), so ``check``, ``lock`` and ``lock --check`` agree without retyping."""
    at = ml.index("--index-url")
    Path("pyproject.toml").write_text(
        f'[tool.relax-pins]\npython = "3.12"\nplatform = "manylinux_2_28_x86_64"\nindex-url = "{ml[at + 1]}"\n'
    )
    Path("requirements.txt").write_text("lib>=1.5\n")
    cache = ml[ml.index("--cache-dir") : ml.index("--cache-dir") + 2]
    code, doc = check_json(["requirements.txt", *cache], capsys)
    assert code == 0, doc
    (env,) = doc["environments"]
    assert env["target"]["python"] == "3.12" and env["target"]["platform"] == "manylinux_2_28_x86_64"
    assert env["indexes"] == [ml[at + 1]]
    code, doc = check_json(["requirements.txt", *cache, "--python", "3.11"], capsys)
    assert doc["environments"][0]["target"]["python"] == "3.11"  # the command line wins
    assert run(["lock", "requirements.txt", "-o", "pylock.toml", *cache], capsys)[0] == 0
    code, out, _ = run(["lock", "requirements.txt", "-o", "pylock.toml", "--check", *cache], capsys)
    assert code == 0 and "up to date" in out
    Path("pyproject.toml").write_text("[tool.relax-pins]\npython = 3.12\n")
    code, _, err = run(["check", "requirements.txt", *cache], capsys)
    assert code == 2 and "[tool.relax-pins] python must be a string" in err
