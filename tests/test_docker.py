"""The Dockerfile reader: grammar, stages, image recognition, pip installs, Python detection.

Real Dockerfiles live in tests/data/docker (README.md there names each source); the rest are small texts
written to pin one rule of the Dockerfile reference each.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resolver.docker.image import (
    CudaImage,
    NgcPytorchImage,
    OtherImage,
    PythonImage,
    PytorchImage,
    image_ships_python,
    parse_image_ref,
    recognise,
)
from resolver.docker.model import Dockerfile, parse_dockerfile
from resolver.docker.pipinstall import PipInstall, pip_installs
from resolver.docker.python import python_installed_before
from resolver.docker.shell import quote_requirement, replace_word, split_commands, split_words
from resolver.errors import InputError

DATA = Path(__file__).parent / "data" / "docker"
TORCH_INDEX = "https://torch-wheels.invalid/whl/cu121"


def load(name: str) -> Dockerfile:
    text = (DATA / name).read_bytes().decode("utf-8")
    return parse_dockerfile(text, path=name)


def one_word(text: str) -> str:
    words = split_words(text)
    assert len(words) == 1, words
    return words[0].value


def col_of(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``, counted independently of the code under test."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_spans(df: Dockerfile, installs: tuple[PipInstall, ...]) -> None:
    """Every word's offsets slice the file and its instruction exactly, and line/col agree with them."""
    for pi in installs:
        ins = pi.instruction
        assert df.text[ins.offset : ins.offset + len(ins.raw)] == ins.raw
        args = [*pi.command, *pi.requirements, *pi.requirement_files, *pi.constraint_files, *pi.editables]
        args += [*pi.extra_index_urls, *pi.find_links, *pi.redirections]
        args += [a for a in (pi.index_url,) if a is not None]
        for arg in args:
            assert df.text[arg.file_start : arg.file_end] == arg.raw
            assert ins.raw[arg.start : arg.end] == arg.raw
            assert (arg.line, arg.col) == col_of(df.text, arg.file_start)


# --- the seed example --------------------------------------------------------------------------------


def test_seed_stages_and_base_image() -> None:
    df = load("seed-example__Dockerfile")
    assert [s.name for s in df.stages] == ["builder", None]
    for stage in df.stages:
        assert str(stage.base) == "nvidia/cuda:12.8.0-base-ubuntu22.04"
        assert stage.from_stage is None
        image = recognise(stage.base)
        assert isinstance(image, CudaImage)
        assert (image.cuda, image.flavor, image.os) == ("12.8.0", "base", "ubuntu22.04")
    assert df.final_stage is df.stages[1]
    assert df.final_stage.line == 7
    assert image_ships_python(df.final_stage.image) is False


def test_seed_pip_installs_and_unquoted_redirects() -> None:
    df = load("seed-example__Dockerfile")
    installs = pip_installs(df)
    assert [(p.line, p.col, p.stage) for p in installs] == [(11, 5, 1), (17, 5, 1), (24, 5, 1)]
    assert [r.value for r in installs[0].requirements] == ["setuptools>=68.0.0", "wheel>=0.42.0", "pip>=23.0.0"]
    assert [r.value for r in installs[1].requirements] == [
        "torch>=2.0.0,<2.1.0",
        "torchvision>=0.15.0,<0.16.0",
        "torchaudio>=2.0.0,<2.1.0",
    ]
    flagged = [(r.raw, r.line, r.col) for p in installs for r in p.unquoted_redirect]
    assert flagged == [
        ("setuptools>=68.0.0", 12, 5),
        ("wheel>=0.42.0", 13, 5),
        ("pip>=23.0.0", 14, 5),
        ("torch>=2.0.0,<2.1.0", 18, 5),
        ("torchvision>=0.15.0,<0.16.0", 19, 5),
        ("torchaudio>=2.0.0,<2.1.0", 20, 5),
    ]
    assert all(p.flags == ("--no-cache-dir",) for p in installs)
    files = installs[2].requirement_files
    assert [(f.value, f.line, f.col) for f in files] == [("/tmp/requirements.txt", 24, 35)]
    assert installs[2].requirements == ()
    check_spans(df, installs)


def test_seed_has_no_python_before_the_first_pip() -> None:
    df = load("seed-example__Dockerfile")
    first = pip_installs(df)[0]
    assert python_installed_before(df, first.line) is False
    assert python_installed_before(df, 1) is None  # before the first FROM


def test_seed_rewrite_quotes_exactly_the_flagged_words() -> None:
    df = load("seed-example__Dockerfile")
    text = df.text
    flagged = [r for p in pip_installs(df) for r in p.unquoted_redirect]
    for arg in sorted(flagged, key=lambda a: a.file_start, reverse=True):
        text = replace_word(text, arg.file_start, arg.file_end, quote_requirement(arg.raw))
    assert '    "torch>=2.0.0,<2.1.0" \\\n' in text
    again = parse_dockerfile(text)
    installs = pip_installs(again)
    assert [r for p in installs for r in p.unquoted_redirect] == []
    assert [r.value for p in installs for r in p.requirements] == [r.value for r in flagged]
    assert len(text) == len(df.text) + 2 * len(flagged)


# --- the corpus --------------------------------------------------------------------------------------

CORPUS = {
    # file: (stages, kind of the final stage's base, pip installs)
    "AbdBarho__stable-diffusion-webui-docker__services__AUTOMATIC1111__Dockerfile": (3, "python", 7),
    "AbdBarho__stable-diffusion-webui-docker__services__comfy__Dockerfile": (1, "other", 1),
    "Actor-ai__llk__Dockerfile": (1, "ngc-pytorch", 1),
    "HemingwayLee__pytorch-tensorboard-showcase__docker__pt.dockerfile": (1, "pytorch", 1),
    "TakanariShimbo__sample_whisper__Dockerfile": (1, "cuda", 3),
    "aoirint__sd-scripts-docker__Dockerfile": (2, "cuda", 2),
    "axolotl-ai-cloud__axolotl__docker__Dockerfile-base": (5, "cuda", 8),
    "ceo21ckim__AXCF-Pytorch__Dockerfile": (1, "pytorch", 6),
    "facebookresearch__detectron2__docker__Dockerfile": (1, "cuda", 5),
    "hiyouga__LLaMA-Factory__docker__docker-cuda__Dockerfile": (1, "other", 4),
    "huggingface__text-generation-inference__Dockerfile": (17, "cuda", 4),
    "open-mmlab__mmcv__docker__release__Dockerfile": (1, "pytorch", 2),
    "open-mmlab__mmdetection3d__docker__Dockerfile": (1, "pytorch", 5),
    "open-mmlab__mmdetection__docker__Dockerfile": (1, "pytorch", 3),
    "seed-example__Dockerfile": (2, "cuda", 3),
    "vllm-project__vllm__Dockerfile": (7, "cuda", 10),
}


def test_corpus_table_covers_every_file_and_the_readme_names_them() -> None:
    files = {p.name for p in DATA.iterdir() if p.name != "README.md"}
    assert files == set(CORPUS)
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for name in files:
        assert f"`{name}`" in readme


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_file_parses(name: str) -> None:
    df = load(name)
    stages, kind, count = CORPUS[name]
    installs = pip_installs(df)
    assert (len(df.stages), df.final_stage.image.kind, len(installs)) == (stages, kind, count)
    assert df.warnings == ()
    check_spans(df, installs)
    for pi in installs:
        for req in pi.requirements:
            assert one_word(quote_requirement(req.raw)) == req.value


def test_no_registry_host_in_the_test_data() -> None:
    hosts = ("pypi" + ".org", "python" + "hosted", "download." + "pytorch", "pyg" + ".org", "anaconda" + ".com")
    for path in DATA.iterdir():
        text = path.read_text(encoding="utf-8").lower()
        assert not [h for h in hosts if h in text], path.name


# --- FROM, ARG, ENV ----------------------------------------------------------------------------------


def test_mmdetection_arg_templated_from() -> None:
    df = load("open-mmlab__mmdetection__docker__Dockerfile")
    stage = df.final_stage
    assert stage.base_raw == "pytorch/pytorch:${PYTORCH}-cuda${CUDA}-cudnn${CUDNN}-devel"
    assert str(stage.base) == "pytorch/pytorch:1.6.0-cuda10.1-cudnn7-devel"
    image = stage.image
    assert isinstance(image, PytorchImage)
    assert (image.torch, image.cuda, image.cudnn, image.flavor) == ("1.6.0", "10.1", "7", "devel")
    assert df.global_args == {"PYTORCH": "1.6.0", "CUDA": "10.1", "CUDNN": "7"}
    # ENV does not run command substitutions: the text stays as written.
    assert df.env_value(stage, "CMAKE_PREFIX_PATH") == "$(dirname $(which conda))/../"
    assert df.env_value(stage, "FORCE_CUDA") == "1"
    rebuilt = parse_dockerfile(df.text, build_args={"PYTORCH": "1.9.0", "CUDA": "11.1", "CUDNN": "8"})
    assert str(rebuilt.final_stage.base) == "pytorch/pytorch:1.9.0-cuda11.1-cudnn8-devel"


def test_digest_pinned_from_with_trailing_space() -> None:
    df = load("HemingwayLee__pytorch-tensorboard-showcase__docker__pt.dockerfile")
    base = df.final_stage.base
    assert base.repository == "pytorch/pytorch"
    assert base.tag == "1.12.0-cuda11.3-cudnn8-runtime"
    assert base.digest == "sha256:1ef1f61b13738de8086ae7e1ce57c89f154e075dae0b165f7590b9405efeb6fe"
    image = recognise(base)
    assert isinstance(image, PytorchImage)
    assert image.torch == "1.12.0"


def test_unbraced_variables_in_from_and_stage_chains() -> None:
    df = load("axolotl-ai-cloud__axolotl__docker__Dockerfile-base")
    assert str(df.stages[0].base) == "nvidia/cuda:11.8.0-cudnn8-devel-ubuntu22.04"
    assert isinstance(df.stages[0].image, CudaImage)
    assert df.stages[0].image.flavor == "cudnn8-devel"
    final = df.final_stage
    assert (final.name, final.from_stage, final.parent) == (None, "base-builder", 0)
    assert df.root_stage(final) is df.stages[0]
    assert final.base == df.stages[0].base
    assert df.env_value(final, "PYTHON_VERSION") == "3.9"
    assert df.env_value(final, "PATH") == "/root/miniconda3/envs/py3.9/bin:/root/miniconda3/bin:${PATH}"


def test_vllm_stages_args_and_env() -> None:
    df = load("vllm-project__vllm__Dockerfile")
    assert [s.name for s in df.stages] == ["base", "build", "dev", "mamba-builder", "vllm-base", "test", "vllm-openai"]
    final = df.final_stage
    assert [s.name for s in df.chain(final)] == ["vllm-openai", "vllm-base"]
    assert str(final.base) == "nvidia/cuda:12.4.1-base-ubuntu22.04"
    build = df.stage_named("BUILD")
    assert build is not None
    assert build.args["max_jobs"] == "2"
    assert build.args["buildkite_commit"] is None
    assert df.env_value(build, "MAX_JOBS") == "2"
    assert df.env_value(build, "NVCC_THREADS") == "8"
    assert df.env_value(build, "BUILDKITE_COMMIT") == "${buildkite_commit}"
    assert df.env_value(build, "TORCH_CUDA_ARCH_LIST") == "7.0 7.5 8.0 8.6 8.9 9.0+PTX"  # from the parent stage
    assert df.env_value(final, "VLLM_USAGE_SOURCE") == "production-docker-image"  # legacy ENV form
    rebuilt = parse_dockerfile(df.text, build_args={"CUDA_VERSION": "12.1.0"})
    assert str(rebuilt.stages[0].base) == "nvidia/cuda:12.1.0-devel-ubuntu22.04"


def test_legacy_env_keeps_unknown_references() -> None:
    df = load("huggingface__text-generation-inference__Dockerfile")
    install = df.stage_named("pytorch-install")
    assert install is not None
    assert df.env_value(install, "PATH") == "/opt/conda/bin:$PATH"
    final = df.final_stage
    assert (final.from_stage, str(final.base)) == ("base", "nvidia/cuda:12.1.0-base-ubuntu20.04")
    assert df.env_value(final, "CONDA_PREFIX") == "/opt/conda"


def test_from_a_whole_image_in_an_arg_and_quoted_env() -> None:
    df = load("hiyouga__LLaMA-Factory__docker__docker-cuda__Dockerfile")
    assert df.final_stage.base_raw == "${BASE_IMAGE}"
    assert str(df.final_stage.base) == "hiyouga/pytorch:th2.6.0-cu124-flashattn2.7.4-cxx11abi0-devel"
    assert isinstance(df.final_stage.image, OtherImage)
    assert df.final_stage.shell == ("/bin/bash", "-c")
    assert df.env_value(df.final_stage, "http_proxy") == ""


def test_unknown_arg_in_from_is_a_warning_not_a_crash() -> None:
    df = parse_dockerfile("ARG BASE\nFROM ${BASE} AS app\nRUN echo hi\n")
    stage = df.final_stage
    assert (stage.base_raw, stage.base_text, stage.unresolved) == ("${BASE}", "${BASE}", ("BASE",))
    assert isinstance(stage.image, OtherImage)
    assert [(w.line, w.col) for w in df.warnings] == [(2, 6)]
    assert "BASE" in df.warnings[0].message
    df = parse_dockerfile("FROM nvidia/cuda:${CUDA}-base-ubuntu22.04\n")
    image = df.final_stage.image
    assert isinstance(image, CudaImage)
    assert image.cuda is None
    assert df.final_stage.base.tag == "${CUDA}-base-ubuntu22.04"


def test_substitution_operators_in_from() -> None:
    text = "ARG TAG\nARG SET=x\nFROM python:${TAG:-3.11}-slim${SUFFIX:+-nope}${SET:+-bookworm} AS py\n"
    df = parse_dockerfile(text)
    assert str(df.final_stage.base) == "python:3.11-slim-bookworm"
    image = df.final_stage.image
    assert isinstance(image, PythonImage)
    assert (image.python, image.variant) == ("3.11", "slim-bookworm")
    assert df.warnings == ()


def test_platform_flag_with_automatic_args() -> None:
    text = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=linux/amd64 python:3.12\n"
    df = parse_dockerfile(text)
    assert [s.platform for s in df.stages] == ["$BUILDPLATFORM", "linux/amd64"]
    assert df.stages[0].unresolved == ()
    assert df.warnings == ()


def test_env_in_one_instruction_sees_the_old_values_and_wins_over_arg() -> None:
    text = (
        "FROM nvidia/cuda:12.1.1-runtime-ubuntu22.04\n"
        "ARG V=arg\nENV A=1\nENV A=2 B=$A C=${V}\n"
        'ENV NVIDIA_REQUIRE_CUDA="cuda>=12.1 brand=tesla,driver>=470,driver<471"\n'
        "ENV V=env\nRUN pip install x==$V\n"
    )
    df = parse_dockerfile(text)
    stage = df.final_stage
    assert [df.env_value(stage, k) for k in "ABC"] == ["2", "1", "arg"]
    assert df.env_value(stage, "NVIDIA_REQUIRE_CUDA") == "cuda>=12.1 brand=tesla,driver>=470,driver<471"
    (install,) = pip_installs(df)
    assert (install.requirements[0].value, install.requirements[0].expanded) == ("x==$V", "x==env")


def test_keywords_and_stage_names_are_case_insensitive() -> None:
    text = "from python:3.11 as Builder\nrun pip install x\nFrom BUILDER\nRun pip install y\n"
    df = parse_dockerfile(text)
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "FROM", "RUN"]
    assert df.final_stage.from_stage == "Builder"
    assert [p.stage for p in pip_installs(df)] == [0, 1]


# --- lines: continuations, comments, escape, heredocs --------------------------------------------------


def test_tab_indented_continuations_and_trailing_comment_block() -> None:
    df = load("facebookresearch__detectron2__docker__Dockerfile")
    run = next(i for i in df.instructions if i.line == 24)
    assert (run.keyword, run.end_line) == ("RUN", 26)
    assert run.args == "wget https://get-pip.invalid/pip/get-pip.py && \tpython3.7 get-pip.py --user && \trm get-pip.py"
    assert df.instructions[-1].keyword == "WORKDIR"  # the tab-indented comment lines at the end are comments
    assert python_installed_before(df, 29) is True


def test_backslash_then_trailing_space_continues() -> None:
    df = load("ceo21ckim__AXCF-Pytorch__Dockerfile")
    run = df.final_stage.instructions[0]
    assert (run.line, run.end_line) == (3, 5)
    installs = pip_installs(df)
    assert [(p.line, p.col, [r.value for r in p.requirements]) for p in installs][:3] == [
        (3, 5, ["torch"]),
        (4, 8, ["transformers==4.24.0"]),
        (4, 44, ["matplotlib"]),
    ]
    assert installs[0].find_links[0].value == "https://pyg-wheels.invalid/whl/torch.1.10.0+cu113.html"


def test_comment_lines_inside_a_continued_run_are_dropped() -> None:
    text = (
        "FROM python:3.11\nRUN pip install \\\n# a comment\n    torch==2.1.0 \\\n"
        "  # indented \\\n\n    numpy\nUSER app\n"
    )
    df = parse_dockerfile(text)
    run = df.instructions[1]
    assert (run.line, run.end_line) == (2, 7)
    assert run.logical == "RUN pip install     torch==2.1.0     numpy"
    (install,) = pip_installs(df)
    assert [(r.value, r.line, r.col) for r in install.requirements] == [("torch==2.1.0", 4, 5), ("numpy", 7, 5)]
    assert df.instructions[2].keyword == "USER"
    corpus = load("AbdBarho__stable-diffusion-webui-docker__services__comfy__Dockerfile")
    (install,) = pip_installs(corpus)
    assert (install.line, install.requirement_files[0].value) == (14, "requirements.txt")


def test_escaped_escape_character_does_not_continue() -> None:
    df = parse_dockerfile("FROM python:3.11\nRUN echo a\\\\\nUSER root\n")
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "USER"]


def test_backtick_escape_directive() -> None:
    text = (
        "# escape=`\n"
        "FROM python:3.11-slim\n"
        "RUN pip install `\n"
        '    "torch>=2.0" `\n'
        "    numpy\n"
        "COPY testfile.txt c:\\\n"
        "RUN dir c:\\\n"
    )
    df = parse_dockerfile(text)
    assert df.directives == {"escape": "`"}
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "COPY", "RUN"]
    (install,) = pip_installs(df)
    torch = install.requirements[0]
    assert (torch.raw, torch.value, torch.quoted, torch.redirect) == ('"torch>=2.0"', "torch>=2.0", True, False)
    assert (torch.line, torch.col) == (4, 5)
    assert install.unquoted_redirect == ()


def test_syntax_directive_and_heredoc_bodies_from_a_real_file() -> None:
    df = load("aoirint__sd-scripts-docker__Dockerfile")
    assert df.directives == {"syntax": "docker/dockerfile:1.4"}
    assert [str(s.base) for s in df.stages] == ["ubuntu:22.04", "nvidia/cuda:11.8.0-cudnn8-devel-ubuntu22.04"]
    installs = pip_installs(df)
    assert [(p.line, p.col, p.in_heredoc, p.requirement_files[0].value) for p in installs] == [
        (104, 15, True, "./requirements-torch.txt"),
        (105, 15, True, "./requirements.txt"),
    ]
    last = df.instructions[-2]
    assert (last.keyword, last.heredocs[0].name) == ("RUN", "EOF")
    assert "use_cpu: false\nEOT\n" in last.heredocs[0].body  # the nested shell heredoc stays in the body
    assert python_installed_before(df, 104) is True  # Python built in one stage and copied into this one


def test_heredocs_are_kept_and_shell_bodies_read() -> None:
    text = (
        "FROM nvidia/cuda:12.1.1-runtime-ubuntu22.04\n"
        "RUN <<EOF\n"
        "apt-get update && apt-get install -y python3-pip\n"
        'pip install "torch==2.1.0" numpy>=1.24\n'
        "EOF\n"
        "RUN <<-EOT bash\n"
        "\tpip3 install --no-deps xformers\n"
        "\tEOT\n"
        "COPY <<EOF /app/requirements.txt\n"
        "torch==2.1.0\n"
        "FROM scratch\n"
        "EOF\n"
        "RUN python3 <<'PY'\n"
        "import subprocess\n"
        'subprocess.run(["pip", "install", "x"])\n'
        "PY\n"
    )
    df = parse_dockerfile(text)
    assert len(df.stages) == 1
    assert [(i.keyword, i.line, i.end_line) for i in df.instructions] == [
        ("FROM", 1, 1),
        ("RUN", 2, 5),
        ("RUN", 6, 8),
        ("COPY", 9, 12),
        ("RUN", 13, 16),
    ]
    copy = df.instructions[3].heredocs[0]
    assert (copy.body, copy.line, copy.end_line) == ("torch==2.1.0\nFROM scratch\n", 10, 12)
    assert df.instructions[4].heredocs[0].quoted
    installs = pip_installs(df)
    assert [(p.line, p.col, p.in_heredoc) for p in installs] == [(4, 1, True), (7, 2, True)]
    assert [(r.raw, r.line, r.col) for r in installs[0].unquoted_redirect] == [("numpy>=1.24", 4, 28)]
    assert [(r.value, r.col) for r in installs[1].requirements] == [("xformers", 25)]
    assert installs[1].has("--no-deps")
    assert python_installed_before(df, 3) is False
    assert python_installed_before(df, 4) is True  # line 3 of the same RUN installed it
    check_spans(df, installs)


def test_python_install_counts_only_lines_already_run() -> None:
    text = (
        "FROM nvidia/cuda:12.8.0-base-ubuntu22.04\n"
        "RUN pip install x \\\n"
        " && apt-get update && apt-get install -y --no-install-recommends python3-pip \\\n"
        " && pip install y\n"
        "RUN ./install-deps.sh\n"
        "RUN pip install z\n"
        "FROM nvidia/cuda:12.8.0-base-ubuntu22.04\n"
        "RUN bash /opt/setup.sh\n"
        "RUN pip install w\n"
    )
    df = parse_dockerfile(text)
    assert [python_installed_before(df, p.line) for p in pip_installs(df)] == [False, True, True, None]
    assert python_installed_before(df, 5) is True
    assert image_ships_python(df.final_stage.image) is False


def test_crlf_line_endings() -> None:
    df = load("TakanariShimbo__sample_whisper__Dockerfile")
    assert "\r\n" in df.text
    installs = pip_installs(df)
    assert [(p.line, [r.value for r in p.requirements]) for p in installs] == [
        (8, ["pip", "setuptools"]),
        (9, ["torch", "torchvision", "torchaudio"]),
        (12, ["openai-whisper"]),
    ]
    assert df.instructions[1].raw.endswith("python3-pip ffmpeg")
    check_spans(df, installs)
    assert python_installed_before(df, 8) is True


# --- pip command lines -------------------------------------------------------------------------------


def installs_of(run: str) -> tuple[PipInstall, ...]:
    return pip_installs(parse_dockerfile(f"FROM python:3.11\nRUN {run}\n"))


def test_exec_form_run() -> None:
    df = parse_dockerfile('FROM python:3.11\nRUN ["pip", "install", "torch==2.1.0"]\n')
    (install,) = pip_installs(df)
    assert install.exec_form
    (req,) = install.requirements
    assert (req.raw, req.value, req.line, req.col) == ('"torch==2.1.0"', "torch==2.1.0", 2, 24)
    assert df.instructions[1].exec_form == ("pip", "install", "torch==2.1.0")
    check_spans(df, (install,))


def test_options_flags_files_indexes_and_redirections() -> None:
    run = (
        "pip install -U --pre -qr req.txt --index-url=" + TORCH_INDEX + " --extra-index-url "
        "https://torch-wheels.invalid/whl/nightly/cu128 -f ./wheels -c constraints.txt --user --no-cache "
        '--target=/opt/lib torch "numpy<2" -e ./pkg > /dev/null 2>&1'
    )
    (install,) = installs_of(run)
    assert install.flags == ("--upgrade", "--pre", "--quiet", "--user", "--no-cache-dir")
    assert install.upgrade and install.has("--user")
    assert [f.value for f in install.requirement_files] == ["req.txt"]
    assert install.index_url is not None
    assert (install.index_url.raw, install.index_url.value) == (TORCH_INDEX, TORCH_INDEX)
    assert [u.value for u in install.extra_index_urls] == ["https://torch-wheels.invalid/whl/nightly/cu128"]
    assert [f.value for f in install.find_links] == ["./wheels"]
    assert [c.value for c in install.constraint_files] == ["constraints.txt"]
    assert [e.value for e in install.editables] == ["./pkg"]
    assert [(n, v.value if v else None) for n, v in install.options] == [("--target", "/opt/lib")]
    assert [r.value for r in install.requirements] == ["torch", "numpy<2"]
    assert install.unquoted_redirect == ()
    assert [r.raw for r in install.redirections] == [">", "/dev/null", "2>&1"]


@pytest.mark.parametrize(
    ("run", "tool", "values"),
    [
        ("python3.11 -m pip install -U torch", "pip", ["torch"]),
        ("python -mpip install torch", "pip", ["torch"]),
        ("/usr/bin/python3 -u -m pip install torch", "pip", ["torch"]),
        ("/opt/conda/bin/pip install torch", "pip", ["torch"]),
        ("pip3.10 install torch", "pip", ["torch"]),
        ("pip --no-cache-dir --timeout 60 install torch", "pip", ["torch"]),
        ("uv pip install --system --torch-backend cu121 torch", "uv", ["torch"]),
        ("sudo -H -u app pip3 install torch", "pip", ["torch"]),
        ("gosu user pip3 install torch", "pip", ["torch"]),
        ("env PIP_NO_CACHE_DIR=1 MAX_JOBS=4 pip install torch", "pip", ["torch"]),
        ('if [ "$X" = 1 ]; then pip install torch; fi', "pip", ["torch"]),
        ("pip install torch | tee log && echo done", "pip", ["torch"]),
    ],
)
def test_pip_command_shapes(run: str, tool: str, values: list[str]) -> None:
    (install,) = installs_of(run)
    assert install.tool == tool
    assert [r.value for r in install.requirements] == values


@pytest.mark.parametrize(
    "run",
    [
        "pip wheel -r requirements.txt",
        "pip download torch",
        "python3 -m pip --version",
        "python3 setup.py install",
        "echo pip install torch",
        "pip config set global.index-url https://mirror.invalid/simple",
        "sh -c 'pip install torch'",
        "mim install mmcv",
    ],
)
def test_not_pip_installs(run: str) -> None:
    assert installs_of(run) == ()


def test_shell_comment_ends_the_command() -> None:
    df = load("facebookresearch__detectron2__docker__Dockerfile")
    install = next(p for p in pip_installs(df) if p.line == 33)
    assert [r.value for r in install.requirements] == ["tensorboard", "cmake"]


def test_a_non_posix_shell_is_not_read() -> None:
    text = 'FROM python:3.11\nSHELL ["powershell", "-Command"]\nRUN pip install torch\n'
    assert pip_installs(parse_dockerfile(text)) == ()


# --- quoting -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "quoted"),
    [
        ("torch>=2.0.0,<2.1.0", '"torch>=2.0.0,<2.1.0"'),
        ("torch==2.1.0", "torch==2.1.0"),
        ('"torch<2"', '"torch<2"'),
        ("'torch<2'", "'torch<2'"),
        ("torch[cuda]>=2", '"torch[cuda]>=2"'),
        ("torch==${TORCH}", "torch==${TORCH}"),
        ("torch>=$MIN", '"torch>=$MIN"'),
        ("'a$b'<3", '"a\\$b<3"'),
        ("torch\\>=2", "torch\\>=2"),
        ("modelscope!=1.15.0", "modelscope!=1.15.0"),
        ("torch~=2.1", "torch~=2.1"),
        ("~/wheels/x.whl", "~/wheels/x.whl"),
        ("dist/*.whl", "dist/*.whl"),
        ("torch[cuda]==2.1.*", '"torch[cuda]==2.1.*"'),
    ],
)
def test_quote_requirement(raw: str, quoted: str) -> None:
    assert quote_requirement(raw) == quoted
    assert one_word(quoted) == one_word(raw)
    assert not split_words(quoted)[0].redirect


def test_replace_word_is_an_exact_slice_replacement() -> None:
    assert replace_word("abc def", 4, 7, "xyz") == "abc xyz"
    assert replace_word("abc", 3, 3, "!") == "abc!"
    with pytest.raises(ValueError, match="outside"):
        replace_word("abc", 2, 5, "x")


def test_tokenizer_offsets_and_expansion() -> None:
    text = "A=1 pip install 'x y' \"${T:-2.1}\" $U a\\ b $(echo ')') && b"
    (first, second) = split_commands(text, env={"U": "u"})
    assert [(w.value, text[w.start : w.end]) for w in first][:3] == [
        ("A=1", "A=1"),
        ("pip", "pip"),
        ("install", "install"),
    ]
    assert [w.expanded for w in first[3:]] == ["x y", "2.1", "u", "a b", "$(echo ')')"]
    assert first[-1].unresolved == ("$(echo ')')",)
    assert [w.value for w in second] == ["b"]


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ('FROM python:3.11\nRUN pip install "torch==2.1.0\n', 2, 17, "unterminated double quote"),
        ("FROM python:3.11\nRUN pip install \\\n    'torch>=2\n", 3, 5, "unterminated single quote"),
        ("FROM\n", 1, 5, "FROM needs an image"),
        ("FROM --platform=linux/amd64\n", 1, 28, "FROM needs an image"),
        ("FROM a b\n", 1, 8, "FROM takes an image"),
        ("FROM a AS x\nFROM b AS X\n", 2, 11, "duplicate stage name"),
        ("RUN echo hi\nFROM a\n", 1, 1, "RUN before the first FROM"),
        ("FROM a\nRUN <<EOF\necho\n", 2, None, "unterminated heredoc"),
        ("# escape=x\nFROM a\n", 1, 1, "invalid escape token"),
        ("FROM a\nENV A\n", 2, 6, "ENV needs a value"),
    ],
)
def test_input_errors_point_at_the_place(text: str, line: int, col: int | None, message: str) -> None:
    with pytest.raises(InputError) as info:
        pip_installs(parse_dockerfile(text, path="Dockerfile.test"))
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.path, err.line, err.col) == ("Dockerfile.test", line, col)
    assert message in err.message
    assert str(err).startswith(f"Dockerfile.test:{line}")


@pytest.mark.parametrize("text", ["", "# just a comment\n", "ARG X=1\n"])
def test_no_from_at_all(text: str) -> None:
    with pytest.raises(InputError, match="no FROM instruction"):
        parse_dockerfile(text)


def test_unterminated_quote_outside_pip_lines_is_not_an_error() -> None:
    df = parse_dockerfile("FROM python:3.11\nRUN echo 'oops\nRUN pip install x\n")
    assert [r.value for p in pip_installs(df) for r in p.requirements] == ["x"]


def test_unknown_instruction_is_a_warning() -> None:
    df = parse_dockerfile("FROM a\nRUN echo a\n&& echo b\n")
    assert [(w.message, w.line) for w in df.warnings] == [("unknown instruction &&", 3)]


# --- image references --------------------------------------------------------------------------------


def test_image_refs_and_recognition() -> None:
    ref = parse_image_ref("localhost:5000/team/app:1.0@sha256:abc")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == ("localhost:5000", "team/app", "1.0", "sha256:abc")
    assert str(ref) == "localhost:5000/team/app:1.0@sha256:abc"
    python = recognise("docker.io/library/python:3.11-slim-bookworm")
    assert isinstance(python, PythonImage)
    assert (python.python, python.variant) == ("3.11", "slim-bookworm")
    ngc = recognise("nvcr.io/nvidia/pytorch:24.05-py3")
    assert isinstance(ngc, NgcPytorchImage)
    assert (ngc.tag, ngc.suffix) == ("24.05", "py3")
    latest = recognise("pytorch/pytorch:latest")
    assert isinstance(latest, PytorchImage)
    assert (latest.torch, latest.cuda, latest.cudnn, latest.flavor) == (None, None, None, None)
    for tag, flavor in [
        ("12.4.1-cudnn-devel-ubuntu22.04", "cudnn-devel"),
        ("12.3.2-cudnn9-runtime-ubuntu22.04", "cudnn9-runtime"),
    ]:
        cuda = recognise(f"nvidia/cuda:{tag}")
        assert isinstance(cuda, CudaImage)
        assert cuda.flavor == flavor
    assert isinstance(recognise("rocm/pytorch:rocm6.1_ubuntu22.04_py3.10_pytorch_2.1.2"), OtherImage)
    assert isinstance(recognise("mirror.invalid/nvidia/cuda:12.1.0-base-ubuntu22.04"), OtherImage)
    bare = recognise("python")
    assert isinstance(bare, PythonImage)
    assert (bare.python, bare.variant) == (None, None)
    assert [
        image_ships_python(recognise(r)) for r in ("python:3.12", "nvidia/cuda:12.1.0-base-ubuntu22.04", "alpine")
    ] == [
        True,
        False,
        None,
    ]
    with pytest.raises(ValueError, match="empty"):
        parse_image_ref("  ")


# --- properties --------------------------------------------------------------------------------------

NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,8}", fullmatch=True)
SPECS = st.from_regex(
    r"((==|>=|<=|~=|!=|<|>)[0-9]{1,2}(\.[0-9]{1,2}){0,2}(,(<|>|<=|>=|!=)[0-9]{1,2}(\.[0-9]){0,2})?)?", fullmatch=True
)
EXTRAS = st.from_regex(r"(\[[a-z]{1,5}(,[a-z]{1,5})?\])?", fullmatch=True)
REQUIREMENTS = st.builds(lambda n, e, s: n + e + s, NAMES, EXTRAS, SPECS)
SEPARATORS = st.sampled_from([" ", "\t", "   ", " \\\n    ", " \\ \n\t", " \\\n# comment \\\n  ", " \\\n\n  "])
STYLES = st.sampled_from(["bare", "double", "single", "quoted"])


def written(requirement: str, style: str) -> str:
    if style == "double":
        return f'"{requirement}"'
    if style == "single":
        return f"'{requirement}'"
    if style == "quoted":
        return quote_requirement(requirement)
    return requirement


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(st.tuples(REQUIREMENTS, STYLES, SEPARATORS), min_size=1, max_size=6),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_property_requirements_survive_spacing_continuations_and_quoting(
    items: list[tuple[str, str, str]], newline: str
) -> None:
    body = "RUN pip install" + "".join(sep + written(req, style) for req, style, sep in items)
    text = ("FROM python:3.11\n" + body + "\nUSER app\n").replace("\n", newline)
    df = parse_dockerfile(text)
    (install,) = pip_installs(df)
    assert [r.value for r in install.requirements] == [req for req, _, _ in items]
    bare = [req for req, style, _ in items if style == "bare" and ("<" in req or ">" in req)]
    assert [r.value for r in install.unquoted_redirect] == bare
    check_spans(df, (install,))
    for arg, (req, style, _) in zip(install.requirements, items, strict=True):
        assert arg.raw.replace("\r", "") == written(req, style)
        assert one_word(quote_requirement(arg.raw)) == req
    assert df.instructions[-1].keyword == "USER"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab<>=,.'\"$\\ |;&()#`{}*~![]\n\t"), max_size=24))
@example(raw='<"\\')  # an unterminated double quote ending in a backslash: requoted as \\, never \"
def test_property_quote_requirement_keeps_the_value_of_any_word(raw: str) -> None:
    words = split_words(raw, strict=False)
    if len(words) != 1 or words[0].start != 0 or words[0].end != len(raw) or words[0].unresolved:
        return
    quoted = quote_requirement(raw)
    again = split_words(quoted, strict=False)
    assert len(again) == 1
    assert again[0].value == words[0].value
    assert not again[0].redirect
    assert quote_requirement(quoted) == quoted


@given(st.text(max_size=200))
def test_property_parsing_never_crashes(text: str) -> None:
    try:
        df = parse_dockerfile(text)
        pip_installs(df)
        for stage in df.stages:
            python_installed_before(df, stage.line + 1)
    except InputError:
        pass


def test_large_file_parses_in_linear_time() -> None:
    block = "RUN pip install \\\n" + "".join(f"    pkg{i}>=1.{i},<2 \\\n" for i in range(50)) + "    last\n"
    text = "ARG CUDA=12.1.0\nFROM nvidia/cuda:${CUDA}-base-ubuntu22.04\n" + block * 400
    start = time.perf_counter()
    installs = pip_installs(parse_dockerfile(text))
    elapsed = time.perf_counter() - start
    assert len(installs) == 400
    assert sum(len(p.unquoted_redirect) for p in installs) == 400 * 50
    assert elapsed < 20
    long_line = "FROM a\nRUN pip install " + " ".join(f"'p{i}'" for i in range(20000)) + "\n"
    (install,) = pip_installs(parse_dockerfile(long_line))
    assert len(install.requirements) == 20000
