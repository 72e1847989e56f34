"""Dockerfiles as CUDA targets and requirement sources: the seed example, Dockerfile-only findings, relaxing.

The seed example (tests/data/seed, README there) must give cuda-no-wheel, shell-redirect and
no-python-in-image on their exact lines, and each fix, applied, must make its finding go away.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from resolver.core.model import Finding, Severity
from resolver.core.policy import Bound, Policy
from resolver.cuda.check import cuda_findings
from resolver.cuda.matrix import load_matrix
from resolver.cuda.target import target_from_options
from resolver.docker.check import DockerTarget, read_dockerfile_target, relax_dockerfile
from resolver.docker.model import parse_dockerfile
from resolver.docker.pipinstall import pip_installs
from resolver.errors import InputError

SEED = Path(__file__).parent / "data" / "seed"
MATRIX = load_matrix()
KEEP_ALL = Policy(
    keep=frozenset(canonicalize_name(n) for n in ("torch", "torchvision", "torchaudio", "setuptools", "wheel", "pip"))
)


def seed_text() -> str:
    return (SEED / "Dockerfile").read_text(encoding="utf-8")


def check(
    text: str, *, path: str = "Dockerfile", cuda: str | None = None, driver: str | None = None
) -> tuple[DockerTarget, list[Finding]]:
    docker = read_dockerfile_target(text, path=path, matrix=MATRIX)
    target = target_from_options(cuda=cuda, driver=driver, python=None, image=docker.image)
    found = cuda_findings(
        docker.requirements,
        target=target,
        matrix=MATRIX,
        index_urls=docker.index_urls,
        local_variants=docker.local_variants,
        built_from_source=bool(docker.built_from_source),
    )
    return docker, [*docker.findings, *found]


def codes(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return sorted((f.code, f.line) for f in findings)


def only(findings: list[Finding], code: str) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, hits
    return hits[0]


# --- the seed example ---------------------------------------------------------------------------------------


def test_seed_gives_the_three_findings_on_their_lines() -> None:
    _, findings = check(seed_text())
    assert codes(findings) == [
        ("cuda-no-wheel", 18),
        ("no-python-in-image", 11),
        ("shell-redirect", 12),
        ("shell-redirect", 13),
        ("shell-redirect", 14),
        ("shell-redirect", 18),
        ("shell-redirect", 19),
        ("shell-redirect", 20),
    ]
    assert all(f.severity is Severity.ERROR and f.path == "Dockerfile" and f.fix for f in findings)


def test_seed_cuda_no_wheel_says_what_would_be_installed_and_what_it_costs() -> None:
    finding = only(check(seed_text())[1], "cuda-no-wheel")
    assert finding.package == "torch"
    for part in (
        "torch>=2.0.0,<2.1.0 selects torch 2.0, which has no CUDA 12 build",
        "CUDA 11.7 on the main index, cu117 and cu118 on the PyTorch wheel index",
        "the target is CUDA 12.8 (the base image nvidia/cuda:12.8.0-base-ubuntu22.04 at Dockerfile:7)",
        "pip would install torch 2.0.1 from the main index, which brings its own CUDA 11.7 runtime",
        "the image's CUDA 12.8.0 goes unused",
        "flash-attn, apex, custom ops",
        "sm_90 (Hopper), sm_100 and sm_120 (Blackwell)",
    ):
        assert part in finding.message
    assert finding.fix == (
        'use "torch>=2.1.0,<2.2.0" "torchvision>=0.16.0,<0.17.0" "torchaudio>=2.1.0,<2.2.0" '
        "(torch 2.1's wheel on the main index is CUDA 12.1); or keep torch 2.0 and build FROM "
        "nvidia/cuda:11.8.0-base-ubuntu22.04"
    )


def test_seed_shell_redirect_explains_the_shell() -> None:
    findings = check(seed_text())[1]
    torch = next(f for f in findings if f.code == "shell-redirect" and f.line == 18)
    assert torch.message == (
        "torch>=2.0.0,<2.1.0 is not quoted, so the shell reads '<' and '>' as redirections: pip gets 'torch' "
        "(its output goes to a file named '=2.0.0,'; its input is read from a file named '2.1.0'), so the RUN "
        "fails because no file '2.1.0' exists"
    )
    assert torch.fix == 'quote it: "torch>=2.0.0,<2.1.0"'
    setuptools = next(f for f in findings if f.code == "shell-redirect" and f.line == 12)
    assert "the version bound is silently dropped and pip installs any setuptools" in setuptools.message


def test_seed_no_python_names_the_fix() -> None:
    finding = only(check(seed_text())[1], "no-python-in-image")
    assert finding.message == (
        "nvidia/cuda:12.8.0-base-ubuntu22.04 (Dockerfile:7) has no Python, and nothing before line 11 installs "
        "it: pip is not found, so this RUN fails with exit code 127"
    )
    assert finding.get("instruction") == (
        "RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip "
        "&& rm -rf /var/lib/apt/lists/*"
    )
    assert finding.get("insert_before_line") == "11"


def _apply_python_fix(text: str, finding: Finding) -> str:
    lines = text.split("\n")
    at = int(finding.get("insert_before_line") or 0)
    return "\n".join([*lines[: at - 1], finding.get("instruction") or "", *lines[at - 1 :]])


def test_seed_quoting_fix_works() -> None:
    fixed = relax_dockerfile(seed_text(), path="Dockerfile", policy=KEEP_ALL).text
    _, findings = check(fixed)
    assert "shell-redirect" not in {f.code for f in findings}
    assert '    "torch>=2.0.0,<2.1.0" \\\n' in fixed


def test_seed_torch_range_fix_works() -> None:
    finding = only(check(seed_text())[1], "cuda-no-wheel")
    text = seed_text()
    for name, old in (
        ("torch", ">=2.0.0,<2.1.0"),
        ("torchvision", ">=0.15.0,<0.16.0"),
        ("torchaudio", ">=2.0.0,<2.1.0"),
    ):
        text = text.replace(f"    {name}{old}", f'    "{name}{finding.get("suggested_" + name)}"')
    _, findings = check(text)
    assert {"cuda-no-wheel", "torch-family-mismatch"}.isdisjoint(f.code for f in findings)


def test_seed_base_image_fix_works() -> None:
    finding = only(check(seed_text())[1], "cuda-no-wheel")
    image = finding.get("suggested_image")
    assert image == "nvidia/cuda:11.8.0-base-ubuntu22.04"
    text = seed_text().replace("nvidia/cuda:12.8.0-base-ubuntu22.04", image)
    _, findings = check(text)
    assert "cuda-no-wheel" not in {f.code for f in findings}


def test_seed_python_fix_works() -> None:
    finding = only(check(seed_text())[1], "no-python-in-image")
    docker, findings = check(_apply_python_fix(seed_text(), finding))
    assert "no-python-in-image" not in {f.code for f in findings}
    assert docker.python == "3.10"  # the python3 of ubuntu22.04


def test_seed_all_fixes_together_leave_no_error() -> None:
    text = seed_text()
    findings = check(text)[1]
    text = _apply_python_fix(text, only(findings, "no-python-in-image"))
    wheel = only(findings, "cuda-no-wheel")
    for name, old in (
        ("torch", ">=2.0.0,<2.1.0"),
        ("torchvision", ">=0.15.0,<0.16.0"),
        ("torchaudio", ">=2.0.0,<2.1.0"),
    ):
        text = text.replace(f"{name}{old}", f"{name}{wheel.get('suggested_' + name)}")
    text = relax_dockerfile(text, path="Dockerfile", policy=KEEP_ALL).text
    _, after = check(text)
    assert [f for f in after if f.severity is Severity.ERROR] == []


def test_seed_requirements_files_against_the_seed_image() -> None:
    from resolver.core.directs import directs_from_requirements
    from resolver.core.reqfile import parse
    from resolver.core.rewrite import relax_requirements

    image = read_dockerfile_target(seed_text(), path="Dockerfile", matrix=MATRIX).image
    target = target_from_options(cuda=None, driver=None, python=None, image=image)
    name = "requirements.seed-relaxed.txt"
    model = parse((SEED / name).read_text(encoding="utf-8"), path=name)
    found = cuda_findings(directs_from_requirements(model, path=name), target=target, matrix=MATRIX)
    assert [(f.code, f.path, f.line) for f in found] == [("cuda-no-wheel", name, 1)]
    # relaxing the original pins around the pinned versions keeps torch on a CUDA 12 line
    name = "requirements.before.txt"
    rewrite = relax_requirements(parse((SEED / name).read_text(encoding="utf-8"), path=name), Policy(), path=name)
    assert rewrite.text == "torch>=2.7.1,<2.8.0\ntransformers>=4.36.2,<4.37.0\n"
    relaxed = directs_from_requirements(parse(rewrite.text, path=name), path=name)
    assert cuda_findings(relaxed, target=target, matrix=MATRIX) == ()


def test_seed_target_facts() -> None:
    docker = read_dockerfile_target(seed_text(), path="Dockerfile", matrix=MATRIX)
    assert docker.platform_tag == "manylinux_2_35_x86_64"
    assert [s.line for s in docker.stages] == [3, 7]
    assert docker.image.require_cuda is not None and str(docker.image.require_cuda) == "12.8"
    assert [(d.name, d.line, str(d.specifier)) for d in docker.requirements][3] == ("torch", 18, "<2.1.0,>=2.0.0")
    (ref,) = docker.requirement_files
    assert (ref.written, ref.line, ref.candidate, ref.via) == (
        "/tmp/requirements.txt",
        24,
        "requirements.txt",
        "COPY at line 23",
    )
    absent = read_dockerfile_target(seed_text(), path="seed/Dockerfile", matrix=MATRIX, exists=lambda p: False)
    assert absent.requirement_files[0].candidate == "seed/requirements.txt"
    assert absent.requirement_files[0].path is None


# --- Dockerfile-only findings --------------------------------------------------------------------------------

PY = "RUN apt-get update && apt-get install -y python3-pip\n"


def test_shell_redirect_only_for_unquoted_words() -> None:
    text = "FROM python:3.11-slim\nRUN pip install \"torch>=2.1,<2.2\" numpy>=1.26 'scipy<2' pandas==2.2.0\n"
    findings = check(text)[1]
    assert [(f.code, f.line, f.package) for f in findings if f.code == "shell-redirect"] == [
        ("shell-redirect", 2, "numpy")
    ]


def test_no_python_not_reported_when_installed_or_shipped() -> None:
    installed = f"FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n{PY}RUN pip install numpy\n"
    assert "no-python-in-image" not in {f.code for f in check(installed)[1]}
    assert "no-python-in-image" not in {f.code for f in check("FROM python:3.11\nRUN pip install numpy\n")[1]}
    script = "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nRUN ./setup.sh\nRUN pip install numpy\n"
    assert "no-python-in-image" not in {f.code for f in check(script)[1]}  # unknown: the script may install it


def test_no_python_per_stage_and_distribution() -> None:
    text = (
        "FROM nvidia/cuda:12.4.1-devel-rockylinux9 AS build\nRUN pip3 install numpy\n"
        "FROM nvidia/cuda:12.6.3-runtime-ubuntu24.04\nRUN python3 -m pip install numpy\n"
    )
    found = [f for f in check(text)[1] if f.code == "no-python-in-image"]
    assert [f.line for f in found] == [2, 4]
    assert found[0].get("instruction") == "RUN dnf install -y python3 python3-pip && dnf clean all"
    assert "pip3 is not found" in found[0].message
    assert "python3 is not found" in found[1].message
    assert "PEP 668" in (found[1].fix or "")


def test_devel_image_where_nothing_compiles() -> None:
    text = f"FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n{PY}RUN pip install torch==2.5.1\n"
    bloat = [f for f in check(text)[1] if f.code == "image-bloat"]
    assert [(f.line, f.severity) for f in bloat] == [(1, Severity.INFO), (1, Severity.INFO)]
    assert "nothing in the final image is compiled" in bloat[0].message + bloat[1].message
    assert any("nvidia/cuda:12.4.1-runtime-ubuntu22.04" in (f.fix or "") for f in bloat)
    compiled = text + "RUN pip install flash-attn --no-build-isolation\n"
    docker, findings = check(compiled)
    assert not any("nothing in the final image" in f.message for f in findings)
    assert docker.built_from_source


def test_image_facts_of_platforms_args_and_families() -> None:
    arm = read_dockerfile_target(
        "FROM --platform=linux/arm64 nvidia/cuda:12.4.1-runtime-ubuntu22.04\n", path="Dockerfile", matrix=MATRIX
    )
    assert (arm.image.machine, arm.platform_tag) == ("aarch64", "manylinux_2_35_aarch64")
    text = "ARG CUDA=12.1.1\nFROM nvidia/cuda:${CUDA}-cudnn8-runtime-ubuntu20.04\n"
    assert str(read_dockerfile_target(text, path="D", matrix=MATRIX).image.cuda) == "12.1"
    other = read_dockerfile_target(text, path="D", matrix=MATRIX, build_args={"CUDA": "11.8.0"})
    assert (str(other.image.cuda), other.image.flavor, other.platform_tag) == (
        "11.8",
        "cudnn8-runtime",
        "manylinux_2_31_x86_64",
    )
    ngc = read_dockerfile_target("FROM nvcr.io/nvidia/pytorch:24.05-py3\n", path="D", matrix=MATRIX).image
    assert (ngc.torch, str(ngc.cuda), ngc.python, ngc.distro) == ("2.4.0a0+07cecf4168", "12.4", (3, 10), "ubuntu22.04")
    py = read_dockerfile_target("FROM python:3.12-slim-bookworm\n", path="D", matrix=MATRIX)
    assert (py.python, py.platform_tag) == ("3.12", "manylinux_2_36_x86_64")
    pt = read_dockerfile_target("FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime\n", path="D", matrix=MATRIX)
    assert (pt.image.torch, pt.image.python_range) == ("2.1.0", ((3, 8), (3, 11)))


def test_requirement_words_index_urls_and_variants() -> None:
    text = (
        "FROM python:3.11\n"
        "ENV PIP_EXTRA_INDEX_URL=https://mirror.invalid/whl/cu121\n"
        "ARG TORCH\n"
        "RUN pip install --index-url https://wheels.invalid/whl/cu118 torch==2.1.0+cu118 \\\n"
        "    torchvision==${TORCH} git+https://example.invalid/apex.git --no-binary=:all:\n"
    )
    docker = read_dockerfile_target(text, path="Dockerfile", matrix=MATRIX)
    assert docker.index_urls == (
        ("https://mirror.invalid/whl/cu121", "Dockerfile", 2),
        ("https://wheels.invalid/whl/cu118", "Dockerfile", 4),
    )
    assert docker.local_variants == (("torch", "cu118", "Dockerfile", 4),)
    vision = next(d for d in docker.requirements if d.name == "torchvision")
    assert vision.line == 5 and vision.unchecked is not None and "${TORCH}" in vision.unchecked
    assert len(docker.built_from_source) == 2
    resolved = read_dockerfile_target(text, path="Dockerfile", matrix=MATRIX, build_args={"TORCH": "0.16.0"})
    assert str(next(d for d in resolved.requirements if d.name == "torchvision").specifier) == "==0.16.0"


def test_requirement_files_through_workdir_and_mounts() -> None:
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r reqs/base.txt\n"
        "RUN --mount=type=bind,source=extra.txt,target=/tmp/x.txt pip install -r /tmp/x.txt -c /etc/c.txt\n"
    )
    refs = read_dockerfile_target(text, path="svc/Dockerfile", matrix=MATRIX).requirement_files
    assert [(r.written, r.candidate, r.via, r.constraint) for r in refs] == [
        ("reqs/base.txt", "svc/reqs/base.txt", "COPY at line 3", False),
        ("/tmp/x.txt", "svc/extra.txt", "RUN --mount at line 5", False),
        ("/etc/c.txt", None, None, True),
    ]


def test_broken_dockerfile_is_an_input_error() -> None:
    with pytest.raises(InputError):
        read_dockerfile_target("RUN pip install x\n", path="Dockerfile", matrix=MATRIX)


# --- relax_dockerfile ----------------------------------------------------------------------------------------


def test_relax_in_place_with_the_family_on_its_lines() -> None:
    text = "FROM python:3.11\n# torch\nRUN pip install --no-cache-dir torch==2.7.1 torchvision==0.22.1  # pinned\n"
    rewrite = relax_dockerfile(text, path="Dockerfile", policy=Policy(), matrix=MATRIX)
    assert rewrite.text == (
        'FROM python:3.11\n# torch\nRUN pip install --no-cache-dir "torch>=2.7.1,<2.8.0" "torchvision>=0.22.1,<0.23.0"'
        "  # pinned\n"
    )
    assert [(c.line, c.package, c.before, c.after) for c in rewrite.changes] == [
        (3, "torch", "torch==2.7.1", '"torch>=2.7.1,<2.8.0"'),
        (3, "torchvision", "torchvision==0.22.1", '"torchvision>=0.22.1,<0.23.0"'),
    ]
    assert rewrite.findings == ()


def test_relax_keeps_quotes_exec_form_and_marks() -> None:
    text = (
        "FROM python:3.11\n"
        "RUN pip install 'numpy==1.26.4' \\\n"
        "    # relax-pins: keep\n"
        "    scipy==1.13.1 \\\n"
        "    pandas==${PANDAS}\n"
        'RUN ["pip", "install", "requests==2.32.3"]\n'
    )
    rewrite = relax_dockerfile(text, path="Dockerfile", policy=Policy())
    assert rewrite.text == text.replace("'numpy==1.26.4'", "'numpy>=1.26.4,<1.27.0'").replace(
        '"requests==2.32.3"', '"requests>=2.32.3,<2.33.0"'
    )


def test_relax_local_label_is_recorded() -> None:
    text = "FROM python:3.11\nRUN pip install torch==2.1.0+cu121 --extra-index-url https://x.invalid/whl/cu121\n"
    rewrite = relax_dockerfile(text, path="Dockerfile", policy=Policy())
    assert '"torch>=2.1.0,<2.2.0"' in rewrite.text
    (finding,) = rewrite.findings
    assert (finding.code, finding.line, finding.get("variant")) == ("local-version", 2, "cu121")


def test_relax_narrows_a_wandering_companion() -> None:
    policy = Policy(default=Bound.MAJOR, bounds=(("torch", Bound.MINOR),))  # type: ignore[arg-type]
    text = "FROM python:3.11\nRUN pip install torch==2.7.1 \\\n    torchaudio==2.7.1\n"
    rewrite = relax_dockerfile(text, path="Dockerfile", policy=policy, matrix=MATRIX)
    assert '"torchaudio>=2.7.1,<2.8.0"' in rewrite.text
    (finding,) = rewrite.findings
    assert (finding.code, finding.line, finding.package) == ("torch-family-narrowed", 3, "torchaudio")


CORPUS = sorted(p for p in (Path(__file__).parent / "data" / "docker").iterdir() if p.name != "README.md")


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name[:40])
def test_real_dockerfiles_read_and_relax_without_touching_anything_else(path: Path) -> None:
    text = path.read_bytes().decode("utf-8")
    docker = read_dockerfile_target(text, path=path.name, matrix=MATRIX)
    assert docker.image.line is not None
    rewrite = relax_dockerfile(text, path=path.name, policy=Policy(), matrix=MATRIX)
    assert _gaps(rewrite.text) == _gaps(text)
    assert relax_dockerfile(rewrite.text, path=path.name, policy=Policy(), matrix=MATRIX).text == rewrite.text


_NAMES = st.sampled_from(["torch", "numpy", "scipy", "my-lib", "a.b_c"])
_VERSIONS = st.builds(lambda a, b, c: f"{a}.{b}.{c}", st.integers(0, 30), st.integers(0, 30), st.integers(0, 9))
_WORDS = st.one_of(
    st.builds(lambda n, v: f"{n}=={v}", _NAMES, _VERSIONS),
    st.builds(lambda n, v: f"'{n}=={v}'", _NAMES, _VERSIONS),
    st.builds(lambda n, v: f'"{n}=={v}"', _NAMES, _VERSIONS),
    st.builds(lambda n, v, w: f"{n}>={v},<{w}", _NAMES, _VERSIONS, _VERSIONS),
    st.builds(lambda n, v: f"{n}>{v}", _NAMES, _VERSIONS),
    st.builds(lambda n: n, _NAMES),
    st.just("--no-cache-dir"),
)


def _gaps(text: str) -> list[str]:
    """The text of a Dockerfile with every pip requirement word cut out: what must never change."""
    df = parse_dockerfile(text, path="D")
    spans = sorted((a.file_start, a.file_end) for pi in pip_installs(df) for a in pi.requirements)
    out, at = [], 0
    for start, end in spans:
        out.append(text[at:start])
        at = end
    return [*out, text[at:]]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_WORDS, min_size=1, max_size=4), min_size=1, max_size=3), st.sampled_from(list(Bound)))
def test_relax_round_trips_everything_but_the_words(runs: list[list[str]], bound: Bound) -> None:
    text = "FROM python:3.11\n" + "".join("RUN pip install " + " \\\n    ".join(words) + "\n" for words in runs)
    rewrite = relax_dockerfile(text, path="D", policy=Policy(default=bound))
    assert _gaps(rewrite.text) == _gaps(text)
    assert relax_dockerfile(rewrite.text, path="D", policy=Policy(default=bound)).text == rewrite.text
    after = parse_dockerfile(rewrite.text, path="D")
    assert not any(pi.unquoted_redirect for pi in pip_installs(after))
    before_words = [a.value for pi in pip_installs(parse_dockerfile(text, path="D")) for a in pi.requirements]
    after_words = [a.value for pi in pip_installs(after) for a in pi.requirements]
    for old, new in zip(before_words, after_words, strict=True):
        pinned = re.fullmatch(r"([\w.-]+)==([\d.]+)", old)
        if pinned:
            assert SpecifierSet(new[len(pinned[1]) :]).contains(pinned[2])
    keep = frozenset(canonicalize_name(n) for n in ("torch", "numpy", "scipy", "my-lib", "a.b_c"))
    kept = relax_dockerfile(text, path="D", policy=Policy(keep=keep))
    if not any(pi.unquoted_redirect for pi in pip_installs(parse_dockerfile(text, path="D"))):
        assert kept.text == text


# --- words built in the shell --------------------------------------------------------------------------------


def test_a_word_built_from_a_shell_assignment_is_evaluated() -> None:
    text = (
        "FROM python:3.11-slim\nARG PYTORCH=2.1.0\n"
        "RUN VERSION='torch=='$PYTORCH'.*' && export VISION=torchvision==0.16.0; pip install $VERSION $VISION\n"
    )
    docker = read_dockerfile_target(text, path="Dockerfile", matrix=MATRIX)
    assert [(d.name, str(d.specifier), d.line, d.unchecked) for d in docker.requirements] == [
        ("torch", "==2.1.0.*", 3, None),
        ("torchvision", "==0.16.0", 3, None),
    ]
    # relaxing never rewrites a word that is a variable: the file's text is not the requirement
    assert relax_dockerfile(text, path="Dockerfile", policy=Policy(), matrix=MATRIX).text == text


def test_a_word_built_from_what_relax_pins_cannot_read_is_said_unchecked() -> None:
    text = (
        "FROM python:3.11-slim\nARG NUMPY\n"
        'RUN pip install $EXTRA_PKGS "numpy==${NUMPY}" mmcv-full==latest+torch1.6.0+cu101\n'
    )
    docker = read_dockerfile_target(text, path="Dockerfile", matrix=MATRIX)
    (unnamed,) = [f for f in docker.findings if f.code == "unchecked"]
    assert (unnamed.line, unnamed.severity) == (3, Severity.INFO)
    assert "$EXTRA_PKGS" in unnamed.message and "--build-arg" in (unnamed.fix or "")
    numpy, mmcv = docker.requirements
    assert numpy.unchecked is not None and "${NUMPY}" in numpy.unchecked
    assert mmcv.unchecked is not None and "text pip cannot read" in mmcv.unchecked  # pip before 24.1 took it
    given_args = read_dockerfile_target(text, path="Dockerfile", matrix=MATRIX, build_args={"NUMPY": "1.26.4"})
    assert [(d.name, str(d.specifier)) for d in given_args.requirements if d.unchecked is None] == [
        ("numpy", "==1.26.4")
    ]


def test_a_word_pip_cannot_read_with_every_value_known_is_bad_input() -> None:
    """``'torchvision=='TORCH_VISION'.*'``: the ``$`` is missing, so pip gets ``torchvision==TORCH_VISION.*`` and
    stops the build with "Invalid requirement"."""
    text = "FROM python:3.11-slim\nARG TORCH_VISION=0.16.0\nRUN pip install 'torchvision=='TORCH_VISION'.*'\n"
    with pytest.raises(InputError) as caught:
        read_dockerfile_target(text, path="Dockerfile", matrix=MATRIX)
    error = caught.value
    assert (error.path, error.line, error.col) == ("Dockerfile", 3, 17)
    assert "torchvision==TORCH_VISION.*" in str(error)
    assert "a $ missing before TORCH_VISION" in (error.hint or "")
    quoted = "FROM python:3.11-slim\nARG V=0.16.0\nRUN pip install 'torchvision==$V'\n"
    with pytest.raises(InputError, match=r"torchvision==\$V") as caught:
        read_dockerfile_target(quoted, path="Dockerfile", matrix=MATRIX)
    assert "does not expand $ inside single quotes" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("distro", "package", "python"),
    [
        ("ubuntu20.04", "python3-pip", "3.8"),
        ("ubuntu22.04", "python3-dev", "3.10"),
        ("ubuntu24.04", "python3", "3.12"),
        ("ubuntu22.04", "python3.11-venv", "3.11"),
    ],
)
def test_the_python_an_apt_package_brings_is_the_target(distro: str, package: str, python: str) -> None:
    """An nvidia/cuda image has no Python; python3-pip (or -dev, -venv) pulls the distribution's python3."""
    text = (
        f"FROM nvidia/cuda:12.1.1-runtime-{distro}\n"
        f"RUN apt-get update && apt-get install -y {package}\nRUN pip install numpy\n"
    )
    docker = read_dockerfile_target(text, path="Dockerfile", matrix=MATRIX)
    assert docker.python == python
    assert docker.image.python_source is not None and "Dockerfile:2" in docker.image.python_source
