"""`relax-pins layers` as a library: grouping (pure), layer files, summary, Dockerfile fragment, ``--ranges``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from resolver.cli.exits import exit_code
from resolver.core.target import make_target
from resolver.errors import ConfigError
from resolver.lock.layers import (
    BUILD_TOOLS,
    LayerPlan,
    default_groups,
    detect_variant,
    merge_groups,
    parse_groups,
    plan_layers,
)
from resolver.lock.model import Lock, LockedFile, LockedPackage, Requested
from resolver.pipeline.lock import LockSettings, layer_files, load_groups
from resolver.writers.dockerfile import render_dockerfile
from resolver.writers.layers import (
    human_size,
    render_layer_files,
    render_range_files,
    render_summary_json,
    render_summary_markdown,
    render_summary_text,
)
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.scenario import Rel, publish
from tests.test_lock import LINUX, options_for, read, stack

__all__ = ["stack"]  # the fixture, imported for pytest

TARGET = make_target("3.11", "manylinux_2_28_x86_64")
MAIN = "http://127.0.0.1:1/simple/"


def package(
    name: str,
    deps: Sequence[str] = (),
    *,
    version: str = "1.0",
    size: int | None = 1000,
    index: str = MAIN,
    requested: bool = False,
) -> LockedPackage:
    """A locked package with one wheel of ``size`` bytes."""
    key = canonicalize_name(name)
    filename = f"{key.replace('-', '_')}-{version}-py3-none-any.whl"
    wheel = LockedFile(filename=filename, url=f"{index}../files/{filename}", sha256=f"{len(name):064x}", size=size)
    return LockedPackage(
        name=key,
        version=Version(version),
        index=index,
        wheels=(wheel,),
        sdist=None,
        chosen=filename,
        dependencies=tuple(sorted(canonicalize_name(d) for d in deps)),
        requested_in=("requirements.txt",) if requested else (),
    )


def lock_of(
    graph: Mapping[str, Sequence[str]],
    *,
    sizes: Mapping[str, int | None] | None = None,
    versions: Mapping[str, str] | None = None,
) -> Lock:
    """A lock of ``graph`` (name -> dependencies); ``required_by`` filled in; every root requested."""
    children = {canonicalize_name(n): deps for n, deps in graph.items()}
    parents: dict[NormalizedName, list[NormalizedName]] = {}
    for name, deps in children.items():
        for dep in deps:
            parents.setdefault(canonicalize_name(dep), []).append(name)
    chosen = {canonicalize_name(k): v for k, v in (versions or {}).items()}
    packages = []
    for name, deps in sorted(children.items()):
        base = package(
            name,
            deps,
            version=chosen.get(name, "1.0"),
            size=(sizes or {}).get(name, 1000),
            requested=name not in parents,
        )
        packages.append(
            LockedPackage(
                name=base.name,
                version=base.version,
                index=base.index,
                wheels=base.wheels,
                sdist=None,
                chosen=base.chosen,
                dependencies=base.dependencies,
                required_by=tuple(sorted(parents.get(name, ()))),
                requested_in=base.requested_in,
            )
        )
    requested = tuple(
        Requested(name=p.name, text=f"{p.name}>={p.version}", path="requirements.txt")
        for p in packages
        if p.requested_in
    )
    return Lock(packages=tuple(packages), target=TARGET, inputs="sha256:" + "0" * 64, requested=requested)


ML_GRAPH: dict[str, list[str]] = {
    "pip": [],
    "setuptools": [],
    "torch": ["filelock", "numpy", "triton", "nvidia-cublas-cu12", "nvidia-cuda-runtime-cu12", "sympy"],
    "triton": [],
    "nvidia-cublas-cu12": [],
    "nvidia-cuda-runtime-cu12": [],
    "sympy": ["mpmath"],
    "mpmath": [],
    "filelock": [],
    "numpy": [],
    "transformers": ["numpy", "tokenizers", "huggingface-hub", "regex", "requests"],
    "tokenizers": ["huggingface-hub"],
    "huggingface-hub": ["filelock", "requests", "pyyaml"],
    "requests": ["certifi", "idna"],
    "certifi": [],
    "idna": [],
    "pyyaml": [],
    "regex": [],
    "scipy": ["numpy"],
    "fastapi": ["starlette", "pydantic"],
    "starlette": ["anyio"],
    "anyio": ["idna"],
    "pydantic": ["pydantic-core"],
    "pydantic-core": [],
    "myapp-utils": ["requests"],
}


def names(plan: LayerPlan) -> dict[str, list[str]]:
    return {layer.filename: [p.name for p in layer.packages] for layer in plan.layers}


# -- grouping ---------------------------------------------------------------------------------------------------


def test_a_package_goes_into_the_earliest_layer_that_needs_it() -> None:
    lock = lock_of(ML_GRAPH, versions={"nvidia-cuda-runtime-cu12": "12.8.57"})
    plan = plan_layers(lock)
    assert names(plan) == {
        "01-build.txt": ["pip", "setuptools"],
        "02-torch-cu128.txt": [
            "filelock",
            "mpmath",
            "numpy",
            "nvidia-cublas-cu12",
            "nvidia-cuda-runtime-cu12",
            "sympy",
            "torch",
            "triton",
        ],
        "03-huggingface.txt": [
            "certifi",
            "huggingface-hub",
            "idna",
            "pyyaml",
            "regex",
            "requests",
            "tokenizers",
            "transformers",
        ],
        "04-scientific.txt": ["scipy"],
        "05-web.txt": ["anyio", "fastapi", "pydantic", "pydantic-core", "starlette"],
        "06-app.txt": ["myapp-utils"],
    }
    torch_layer = plan.layers[1]
    assert torch_layer.pulled_in == ("filelock", "mpmath", "numpy", "sympy")  # numpy: listed under scientific
    assert plan.layer_of("numpy") is torch_layer
    assert plan.layer_of("Requests") is plan.layers[2]


def test_empty_layers_are_dropped_and_the_rest_numbered_in_order() -> None:
    plan = plan_layers(lock_of({"fastapi": ["starlette"], "starlette": [], "certifi": []}))
    assert [layer.filename for layer in plan.layers] == ["01-web.txt", "02-app.txt"]
    assert [layer.position for layer in plan.layers] == [1, 2]


def test_torch_layer_without_a_known_variant() -> None:
    plan = plan_layers(lock_of({"torch": ["numpy"], "numpy": []}))
    assert plan.layers[0].filename == "01-torch.txt"
    assert plan.variant is None


def test_variant_from_settings_local_label_or_cuda_runtime() -> None:
    assert detect_variant(lock_of({"torch": []}, versions={"torch": "2.7.1+cu126"})) == "cu126"
    assert detect_variant(lock_of({"torch": []}, versions={"torch": "2.7.1+rocm6.3"})) == "rocm6.3"
    lock = lock_of(
        {"torch": ["nvidia-cuda-runtime-cu12"], "nvidia-cuda-runtime-cu12": []},
        versions={"nvidia-cuda-runtime-cu12": "12.6.77"},
    )
    assert detect_variant(lock) == "cu126"
    assert detect_variant(lock_of({"numpy": []})) is None
    assert plan_layers(lock_of({"torch": []}), variant="cpu").layers[0].filename == "01-torch-cpu.txt"


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    """Random dependency DAGs over names some groups claim and some no group claims."""
    pool = [
        "pip",
        "wheel",
        "torch",
        "triton",
        "nvidia-nccl-cu12",
        "cuda-python",
        "numpy",
        "scipy",
        "transformers",
        "tokenizers",
        "fastapi",
        "pydantic",
        "flash-attn",
        "a",
        "b",
        "c",
        "d",
        "e",
    ]
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique=True))
    graph: dict[str, list[str]] = {}
    for index, name in enumerate(chosen):
        later = chosen[index + 1 :]
        graph[name] = draw(st.lists(st.sampled_from(later), unique=True, max_size=4)) if later else []
    return graph


@settings(max_examples=150, deadline=None)
@given(graph=graphs())
def test_layers_are_disjoint_complete_and_closed_under_dependencies(graph: dict[str, list[str]]) -> None:
    lock = lock_of(graph)
    plan = plan_layers(lock)
    placed = [p.name for layer in plan.layers for p in layer.packages]
    assert sorted(placed) == sorted(p.name for p in lock.packages)  # every package exactly once
    position = {p.name: layer.position for layer in plan.layers for p in layer.packages}
    for p in lock.packages:
        for dep in p.dependencies:
            assert position[dep] <= position[p.name], (p.name, dep)  # --no-deps layer by layer works
    assert [layer.position for layer in plan.layers] == list(range(1, len(plan.layers) + 1))
    assert plan.layers[-1].group == "app" or all(layer.group != "app" for layer in plan.layers)


# -- groups: shipped and configured ----------------------------------------------------------------------------


def test_default_groups_come_in_install_order() -> None:
    groups = default_groups()
    assert [g.name for g in groups] == ["build", "torch", "kernels", "huggingface", "scientific", "web"]
    assert groups[0].patterns == BUILD_TOOLS
    assert all(g.why for g in groups)
    torch = groups[1]
    assert torch.matches("nvidia-cudnn-cu12")
    assert torch.matches("NVIDIA_CUDNN_CU12")
    assert torch.matches("cuda-bindings")
    assert not torch.matches("numpy")


def test_merge_replaces_adds_and_removes() -> None:
    table = {"huggingface": ["transformers", "my_hf-*"], "vision": ["opencv-python-headless", "Pillow"], "web": []}
    groups = merge_groups(default_groups(), table, path="pyproject.toml")
    assert [g.name for g in groups] == ["build", "torch", "kernels", "huggingface", "scientific", "vision"]
    hf = groups[3]
    assert hf.patterns == ("transformers", "my-hf-*")
    assert hf.matches("my_hf.tools")
    assert hf.why == next(g.why for g in default_groups() if g.name == "huggingface")
    assert groups[-1].matches("pillow")
    assert "[tool.relax-pins.layers]" in groups[-1].why


def test_build_and_torch_stay_first_whatever_the_order() -> None:
    text = (
        "groups:\n"
        "  - {name: web, packages: [fastapi]}\n"
        "  - {name: torch, packages: [torch]}\n"
        "  - {name: build, packages: [pip]}\n"
    )
    assert [g.name for g in parse_groups(text, source="x.yaml")] == ["build", "torch", "web"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"Web Stack": ["x"]}, "not a layer group name"),
        ({"app": ["x"]}, "not a layer group name"),
        ({"web": "fastapi"}, "must be a list"),
        ({"web": [1, 2]}, "must be a list"),
    ],
)
def test_bad_layer_tables_are_config_errors(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        merge_groups(default_groups(), table, path="pyproject.toml")
    assert caught.value.path == "pyproject.toml"


def test_bad_layers_yaml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="groups"):
        parse_groups("nothing: here\n", source="layers.yaml")
    with pytest.raises(ConfigError, match="defined twice"):
        parse_groups("groups:\n  - {name: web, packages: [a]}\n  - {name: web, packages: [b]}\n", source="l.yaml")


def test_load_groups_reads_the_nearest_pyproject(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.relax-pins]\nbound = "minor"\n[tool.relax-pins.layers]\nvision = ["pillow"]\nweb = []\n'
    )
    sub = tmp_path / "svc"
    sub.mkdir()
    groups = load_groups(None, start=sub)
    assert [g.name for g in groups][-1] == "vision"
    assert "web" not in [g.name for g in groups]
    (tmp_path / "pyproject.toml").write_text('[tool.relax-pins]\nbound = "minor"\n')
    assert load_groups(None, start=sub) == default_groups()
    (tmp_path / "pyproject.toml").write_text("[tool.relax-pins]\nlayers = 3\n")
    with pytest.raises(ConfigError, match="must be a table"):
        load_groups(None, start=sub)


# -- files -----------------------------------------------------------------------------------------------------


def test_layer_file_header_says_what_why_size_and_index() -> None:
    sizes = {"torch": 821_000_000, "nvidia-cublas-cu12": 393_000_000, "numpy": 16_800_000}
    plan = plan_layers(
        lock_of({"torch": ["numpy", "nvidia-cublas-cu12"], "numpy": [], "nvidia-cublas-cu12": []}, sizes=sizes)
    )
    ((filename, text),) = render_layer_files(plan)
    assert filename == "01-torch.txt"
    lines = text.splitlines()
    assert lines[0] == "# 01-torch.txt: install layer 1 (torch), generated by relax-pins layers"
    assert lines[1].startswith("# holds: 3 packages, the GPU framework")
    assert "# pulled in as dependencies of this layer: numpy" in lines
    assert "# download: 1.2 GB (largest: torch 821.0 MB, nvidia-cublas-cu12 393.0 MB, numpy 16.8 MB)" in lines
    assert f"# index: {MAIN}" in lines
    assert "# install: pip install --no-deps --require-hashes -r 01-torch.txt" in lines
    assert "torch==1.0 \\" in lines


def test_a_layer_says_what_it_builds_from_source() -> None:
    base = package("flash-attn", requested=True)
    sdist = LockedFile(filename="flash_attn-1.0.tar.gz", url="u", sha256="1" * 64, size=6_000_000)
    only_sdist = LockedPackage(
        name=base.name, version=base.version, index=MAIN, wheels=(), sdist=sdist, chosen=sdist.filename
    )
    plan = plan_layers(Lock(packages=(only_sdist,), target=TARGET, inputs="sha256:" + "0" * 64))
    ((name, text),) = render_layer_files(plan)
    assert name == "01-kernels.txt"
    assert "# builds from source (no wheel for the target): flash-attn; installed with --no-build-isolation" in text
    assert "# download: 6.0 MB (largest: flash-attn 6.0 MB)" in text
    # pip's build isolation would hide the torch of the earlier layers: "No module named 'torch'"
    assert "# install: pip install --no-deps --require-hashes --no-build-isolation -r 01-kernels.txt" in text
    fragment = render_dockerfile(plan)
    assert "--no-build-isolation -r /opt/relax-pins/layers/01-kernels.txt" in fragment


def test_unknown_sizes_show_as_a_lower_bound() -> None:
    plan = plan_layers(lock_of({"a": [], "b": []}, sizes={"a": 2_000, "b": None}))
    assert plan.layers[0].size == 2_000
    assert not plan.sizes_known
    assert "# download: >=2.0 kB" in render_layer_files(plan)[0][1]
    assert "| **>=2.0 kB** |" in render_summary_markdown(plan)


def test_editing_the_app_layer_leaves_earlier_files_alone() -> None:
    before = dict(render_layer_files(plan_layers(lock_of(ML_GRAPH))))
    graph = {**ML_GRAPH, "myapp-utils": ["requests", "numpy"], "rich": ["pygments"], "pygments": []}
    after = dict(render_layer_files(plan_layers(lock_of(graph))))
    assert before.keys() == after.keys()
    app = [name for name in before if name.endswith("-app.txt")]
    assert [name for name in before if before[name] != after[name]] == app
    # numpy is needed by the app too, but the torch layer's file does not say so
    assert "myapp-utils" not in after["02-torch.txt"]


def test_summary_in_three_formats() -> None:
    sizes = {"torch": 821_000_000, "transformers": 10_000_000}
    plan = plan_layers(
        lock_of({"torch": ["numpy"], "numpy": [], "transformers": ["numpy"], "certifi": []}, sizes=sizes)
    )
    text = render_summary_text(plan)
    rows = [line.split() for line in text.splitlines()]
    assert rows[1] == ["layer", "packages", "download", "largest", "index"]
    assert rows[2][:4] == ["01-torch.txt", "2", "821.0", "MB"]
    assert rows[-1] == ["total", "4", "831.0", "MB"]
    doc = json.loads(render_summary_json(plan))
    assert [layer["file"] for layer in doc["layers"]] == ["01-torch.txt", "02-huggingface.txt", "03-app.txt"]
    assert doc["total"] == {"packages": 4, "download_bytes": 831_002_000, "sizes_known": True}
    assert doc["layers"][0]["packages"][1] == {
        "name": "torch",
        "version": "1.0",
        "download_bytes": 821_000_000,
        "index": MAIN,
    }
    markdown = render_summary_markdown(plan)
    assert "| `01-torch.txt` | 2 | 821.0 MB | torch 821.0 MB, numpy 1.0 kB |" in markdown
    assert markdown.rstrip().endswith("| **total** | **4** | **831.0 MB** | | |")


def test_dockerfile_has_one_copy_and_run_per_layer_in_order() -> None:
    plan = plan_layers(lock_of(ML_GRAPH))
    text = render_dockerfile(plan, directory="docker/layers/")
    copies = [line for line in text.splitlines() if line.startswith("COPY ")]
    runs = [line for line in text.splitlines() if line.startswith("RUN ")]
    files = [layer.filename for layer in plan.layers]
    assert copies == [f"COPY docker/layers/{f} /opt/relax-pins/layers/{f}" for f in files]
    assert runs[:-1] == [
        "RUN --mount=type=cache,target=/root/.cache/pip pip install --no-deps --require-hashes "
        f"-r /opt/relax-pins/layers/{f}"
        for f in files
    ]
    assert runs[-1] == "RUN pip check"
    # each layer's COPY comes right before its RUN, so Docker's cache for a layer depends on its file only
    lines = [line for line in text.splitlines() if line.startswith(("COPY", "RUN"))]
    assert all(lines[2 * i].startswith("COPY") and lines[2 * i + 1].startswith("RUN") for i in range(len(files)))


def test_ranges_hold_each_direct_requirement_in_its_layer() -> None:
    plan = plan_layers(lock_of(ML_GRAPH))
    files = dict(render_range_files(plan))
    assert "torch>=1.0" in files["02-torch.txt"].splitlines()
    assert "numpy" not in files["02-torch.txt"]  # transitive: left to pip
    assert "transformers>=1.0" in files["03-huggingface.txt"].splitlines()
    assert files["04-scientific.txt"].splitlines()[-1] == "scipy>=1.0"
    assert "01-build.txt" in files  # pip and setuptools are roots of the graph, so requested
    docker = render_dockerfile(plan, ranges=True)
    assert "--no-deps" not in docker
    assert "RUN pip check" not in docker
    assert all(f"pip install -r /opt/relax-pins/layers/{name}" in docker for name in files)


def test_human_size() -> None:
    assert human_size(999) == "999 B"
    assert human_size(1_000) == "1.0 kB"
    assert human_size(4_321_000_000) == "4.3 GB"
    assert human_size(5, known=False) == ">=5 B"


# -- through the index -------------------------------------------------------------------------------------------


def test_layer_files_through_the_loopback_index(stack: IndexServer, tmp_path: Path) -> None:
    outcome = layer_files(read(), options_for(stack, tmp_path))
    assert exit_code(outcome.outcome.findings, outcome.outcome) == 0
    plan = outcome.plan
    assert plan is not None
    assert names(plan) == {
        "01-build.txt": ["pip", "setuptools", "wheel"],
        "02-torch-cu128.txt": ["filelock", "numpy", "nvidia-cuda-runtime-cu12", "torch", "torchvision", "triton"],
        "03-huggingface.txt": ["huggingface-hub", "safetensors", "tokenizers", "transformers"],
        "04-web.txt": ["anyio", "fastapi", "pydantic", "pydantic-core", "starlette"],
        "05-app.txt": ["certifi"],
    }
    build = dict(render_layer_files(plan))["01-build.txt"]
    assert "    # via (build tools)" in build
    ranges = dict(render_range_files(plan))
    assert ranges["02-torch-cu128.txt"].splitlines()[-3:] == [
        "torch==2.7.1",
        "torchvision==0.22.1",
        'numpy>=1.26 ; python_version < "3.13"',
    ]


def test_torch_layer_installs_from_the_torch_index(stack: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> None:
    server = IndexServer().start()
    torch_url = server.url
    try:
        publish(
            server,
            wheel_cache,
            {"torch": [Rel("2.7.1+cu128", ["filelock", "numpy", f"triton==3.3.1; {LINUX}"])], "triton": [Rel("3.3.1")]},
        )
        outcome = layer_files(
            read("torch==2.7.1\ncertifi==2024.2.2\n"),
            options_for(stack, tmp_path),
            LockSettings(torch_index_url=server.url),
            build_tools=(),
        )
    finally:
        server.stop()
    plan = outcome.plan
    assert plan is not None
    torch_layer = plan.layers[0]
    assert torch_layer.filename == "01-torch-cu128.txt"  # from torch's local label
    assert torch_layer.indexes == (stack.url, torch_url)  # in the order of first use, by package name
    files = dict(render_layer_files(plan))
    text = files["01-torch-cu128.txt"]
    assert f"--extra-index-url {torch_url}" in text.splitlines()
    assert f"--index-url {stack.url}" in text.splitlines()
    assert f"--extra-index-url {torch_url}" not in files["02-app.txt"]
    assert f"{stack.url}, {torch_url}" in render_summary_text(plan)


def test_layer_files_stop_at_a_conflict(stack: IndexServer, tmp_path: Path) -> None:
    outcome = layer_files(read("torch==2.7.0\ntorchvision==0.22.1\n"), options_for(stack, tmp_path))
    assert outcome.plan is None
    assert exit_code(outcome.outcome.findings, outcome.outcome) == 1
