"""pyproject.toml dependency tables: exact positions, in-place edits that change only the edited strings.

Real files from tests/data/corpus/pyproject/ (sources in its README.md) pin the per-table counts and the
relax round-trip; hand-written documents pin each table form and error; Hypothesis generates documents
with random arrays, quoting, comments and line endings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolver.core.directs import directs_from_pyproject, optional_sets
from resolver.core.pyproject import (
    Dependency,
    DependencyStyle,
    Key,
    apply_edits,
    parse,
    poetry_exact_version,
)
from resolver.errors import ConfigError, InputError, InputErrors

CORPUS = Path(__file__).parent / "data" / "corpus" / "pyproject"

# file -> (dependencies found per table, exact X.Y.Z pins the relax round-trip rewrites)
CORPUS_EXPECTED: dict[str, tuple[dict[str, int], int]] = {
    "Nerogar__OneTrainer__pyproject.toml": (
        {
            "project.dependencies": 41,
            "project.optional-dependencies.cpu": 3,
            "project.optional-dependencies.cuda": 5,
            "project.optional-dependencies.cuda12": 2,
            "project.optional-dependencies.cuda13": 2,
            "project.optional-dependencies.rocm": 4,
        },
        47,
    ),
    "PKU-YuanGroup__Open-Sora-Plan__pyproject.toml": ({"project.dependencies": 39}, 36),
    "RasaHQ__rasa__pyproject.toml": (
        {"tool.poetry.dependencies": 80, "tool.poetry.dev-dependencies": 36},
        4,
    ),
    "VikParuchuri__marker__pyproject.toml": (
        {"tool.poetry.dependencies": 15, "tool.poetry.group.dev.dependencies": 7},
        0,
    ),
    "axolotl-ai-cloud__axolotl__pyproject.toml": ({}, 0),
    "comfyanonymous__ComfyUI__pyproject.toml": ({}, 0),
    "fishaudio__fish-speech__pyproject.toml": (
        {"project.dependencies": 32, "project.optional-dependencies.stable": 2},
        5,
    ),
    "huggingface__text-generation-inference__server__pyproject.toml": (
        {"tool.poetry.dependencies": 30, "tool.poetry.group.dev.dependencies": 2},
        0,
    ),
    "invoke-ai__InvokeAI__pyproject.toml": (
        {
            "project.dependencies": 54,
            "project.optional-dependencies.xformers": 2,
            "project.optional-dependencies.onnx": 1,
            "project.optional-dependencies.onnx-cuda": 1,
            "project.optional-dependencies.onnx-directml": 1,
            "project.optional-dependencies.dist": 3,
            "project.optional-dependencies.docs": 4,
            "project.optional-dependencies.dev": 4,
            "project.optional-dependencies.test": 10,
        },
        21,
    ),
    "nari-labs__dia__pyproject.toml": ({"project.dependencies": 11, "dependency-groups.dev": 2}, 3),
    "open-webui__open-webui__pyproject.toml": (
        {
            "project.dependencies": 93,
            "project.optional-dependencies.postgres": 2,
            "project.optional-dependencies.mariadb": 1,
            "project.optional-dependencies.unstructured": 1,
            "project.optional-dependencies.all": 18,
            "dependency-groups.dev": 2,
        },
        104,
    ),
    "roboflow__supervision__pyproject.toml": (
        {
            "project.dependencies": 9,
            "project.optional-dependencies.metrics": 1,
            "dependency-groups.dev": 7,
            "dependency-groups.docs": 7,
            "dependency-groups.build": 3,
        },
        0,
    ),
    "sgl-project__sglang__python__pyproject.toml": (
        {
            "project.dependencies": 6,
            **{
                f"project.optional-dependencies.{extra}": count
                for extra, count in [
                    ("runtime_common", 37),
                    ("srt", 7),
                    ("blackwell", 7),
                    ("srt_hip", 4),
                    ("srt_cpu", 2),
                    ("srt_npu", 1),
                    ("srt_xpu", 1),
                    ("srt_hpu", 1),
                    ("openai", 2),
                    ("anthropic", 1),
                    ("litellm", 1),
                    ("torch_memory_saver", 1),
                    ("decord", 1),
                    ("test", 9),
                    ("all", 5),
                    ("all_hip", 4),
                    ("all_xpu", 4),
                    ("all_hpu", 4),
                    ("all_cpu", 4),
                    ("all_npu", 4),
                    ("dev", 2),
                    ("dev_hip", 2),
                    ("dev_xpu", 2),
                    ("dev_hpu", 2),
                    ("dev_cpu", 2),
                ]
            },
        },
        18,
    ),
    "ultralytics__ultralytics__pyproject.toml": (
        {
            "project.dependencies": 15,
            "project.optional-dependencies.dev": 11,
            "project.optional-dependencies.export": 5,
            "project.optional-dependencies.explorer": 3,
            "project.optional-dependencies.logging": 3,
            "project.optional-dependencies.extra": 4,
        },
        0,
    ),
    "vllm-project__vllm__pyproject.toml": ({}, 0),
    "zylon-ai__private-gpt__pyproject.toml": (
        {"tool.poetry.dependencies": 45, "tool.poetry.group.dev.dependencies": 8},
        2,
    ),
}

_EXACT = re.compile(r"(?<![=<>!~])==\s*(\d+)\.(\d+)\.(\d+)(?![\w.*+!-])")


def _read(name: str) -> str:
    with (CORPUS / name).open(encoding="utf-8", newline="") as fh:
        return fh.read()


def _offset(text: str, line: int, col: int) -> int:
    return sum(len(part) + 1 for part in text.split("\n")[: line - 1]) + col - 1


def _raw(text: str, key: Key) -> str:
    node: Any = tomlkit.parse(text.removeprefix("\ufeff"))
    for part in key:
        node = node[part]
    raw: str = node.as_string()
    return raw


def _relaxed(dep: Dependency) -> str | None:
    """``==X.Y.Z`` -> ``>=X.Y.Z,<X.(Y+1).0`` (Poetry: a bare or ``==`` X.Y.Z), else None."""
    if dep.style is DependencyStyle.PEP508:
        match = _EXACT.search(dep.text)
        if match is None:
            return None
        major, minor, patch = match.groups()
        new = f">={major}.{minor}.{patch},<{major}.{int(minor) + 1}.0"
        return dep.text[: match.start()] + new + dep.text[match.end() :]
    version = poetry_exact_version(dep.text)
    if version is None or not re.fullmatch(r"\d+\.\d+\.\d+", version):
        return None
    major, minor, _ = version.split(".")
    return f">={version},<{major}.{int(minor) + 1}.0"


def _set(doc: Any, key: Key, value: str) -> None:
    for part in key[:-1]:
        doc = doc[part]
    doc[key[-1]] = value


def _assert_positions(text: str, deps: tuple[Dependency, ...]) -> None:
    lines = text.splitlines()
    for dep in deps:
        raw = _raw(text, dep.key)
        assert lines[dep.line - 1][dep.col - 1 :].startswith(raw.splitlines()[0]), dep
        offset = _offset(text, dep.line, dep.col)
        assert text[offset : offset + len(raw)] == raw, dep


def _strip_strings(text: str, deps: tuple[Dependency, ...], keys: set[Key]) -> str:
    """``text`` with the raw strings at ``keys`` cut out."""
    spans = sorted((_offset(text, d.line, d.col), len(_raw(text, d.key))) for d in deps if d.key in keys)
    out, pos = [], 0
    for start, length in spans:
        out.append(text[pos:start])
        pos = start + length
    return "".join(out) + text[pos:]


# --- the corpus ------------------------------------------------------------------------------------


def test_corpus_table_lists_every_file() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.toml")) == sorted(CORPUS_EXPECTED)


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus_counts_and_positions(name: str) -> None:
    text = _read(name)
    deps = parse(text, path=name).dependencies
    counts: dict[str, int] = {}
    for dep in deps:
        counts[dep.table] = counts.get(dep.table, 0) + 1
    assert counts == CORPUS_EXPECTED[name][0]
    _assert_positions(text, deps)
    assert [(d.line, d.col) for d in deps] == sorted((d.line, d.col) for d in deps)


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus_relax_round_trip(name: str) -> None:
    text = _read(name)
    deps = parse(text, path=name).dependencies
    edits = {d.key: new for d in deps if (new := _relaxed(d)) is not None}
    assert len(edits) == CORPUS_EXPECTED[name][1]
    assert apply_edits(text, {}, path=name) == text
    new_text = apply_edits(text, edits, path=name)

    expected = tomlkit.parse(text).unwrap()
    for key, value in edits.items():
        _set(expected, key, value)
    assert tomlkit.parse(new_text).unwrap() == expected

    old_lines, new_lines = text.splitlines(keepends=True), new_text.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    changed = {i + 1 for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b}
    assert changed == {d.line for d in deps if d.key in edits}

    new_deps = parse(new_text, path=name).dependencies
    assert [d.key for d in new_deps] == [d.key for d in deps]
    assert _strip_strings(text, deps, set(edits)) == _strip_strings(new_text, new_deps, set(edits))


def test_corpus_poetry_forms() -> None:
    rasa = {d.key: d for d in parse(_read("RasaHQ__rasa__pyproject.toml")).dependencies}
    dask = rasa["tool", "poetry", "dependencies", "dask", 1, "version"]
    assert (dask.name, dask.text, dask.line) == ("dask", "2022.10.2", 121)
    numpy = rasa["tool", "poetry", "dependencies", "numpy", 1, "version"]
    assert (numpy.text, numpy.line, numpy.col) == (">=1.19.2,<1.24.0", 139, 11)
    github3 = rasa["tool", "poetry", "dependencies", "github3.py", "version"]
    assert (github3.name, github3.text) == ("github3.py", "~3.2.0")
    assert ("tool", "poetry", "dev-dependencies", "pytest-sanic") not in rasa  # a git dependency
    assert not any(d.name == "python" for d in rasa.values())

    tgi = parse(_read("huggingface__text-generation-inference__server__pyproject.toml")).dependencies
    torch = next(d for d in tgi if d.name == "torch")
    assert torch.key == ("tool", "poetry", "dependencies", "torch", "version")
    assert torch.text == "^2.4.0"
    assert torch.style is DependencyStyle.POETRY

    marker = parse(_read("VikParuchuri__marker__pyproject.toml")).dependencies
    assert {d.name for d in marker}.isdisjoint({"python", "surya-ocr", "tabled-pdf"})


def test_corpus_names_and_quote_styles() -> None:
    text = _read("invoke-ai__InvokeAI__pyproject.toml")
    deps = {d.key: d for d in parse(text).dependencies}
    pyperclip = next(d for d in deps.values() if d.name == "pyperclip")
    new = apply_edits(text, {pyperclip.key: "pyperclip>=1"})
    assert "'pyperclip>=1'," in new
    xformers = deps["project", "optional-dependencies", "xformers", 0]
    assert xformers.table == "project.optional-dependencies.xformers"
    assert xformers.name == "xformers"

    ultralytics = _read("ultralytics__ultralytics__pyproject.toml")  # an emoji in the first line
    assert "\U0001f680" in ultralytics
    _assert_positions(ultralytics, parse(ultralytics).dependencies)


# --- each table form -------------------------------------------------------------------------------

ALL_FORMS = """\
[project]
name = "demo"
description = "torch==2.7.1"
dependencies = ["torch==2.7.1", 'numpy==1.26.4',  # "torch==2.7.1", a comment
    \"\"\"
scipy==1.11.4\"\"\", '''pandas==2.1.0''',
]

[project.optional-dependencies]
gpu = ["torch==2.7.1"]

[dependency-groups]
dev = [{include-group = "test"}, "pytest==8.0.0"]
test = []

[tool.poetry.dependencies]
python = "^3.10"
torch = "2.7.1"
vision = {version = "==0.22.1", source = "x"}
local = {path = "../local"}
multi = [{version = "2.1.0", markers = "sys_platform == 'linux'"}, {git = "https://example.invalid/x"}]

[tool.poetry.group.dev.dependencies]
black = "^24"

[tool.poetry.dev-dependencies]
flake8 = "7.0.0"

[tool.poetry.dependencies.sectioned]
version = "1.2.3"
optional = true

[tool.relax-pins]
bound = "minor"
keep = ["numpy"]
depth = 2
"""


def test_every_form_is_found_with_its_key_and_position() -> None:
    deps = parse(ALL_FORMS).dependencies
    got = [(d.table, d.key, d.line, d.col, d.name, d.text, d.style.value) for d in deps]
    poetry = ("tool", "poetry", "dependencies")
    assert got == [
        ("project.dependencies", ("project", "dependencies", 0), 4, 17, "torch", "torch==2.7.1", "pep508"),
        ("project.dependencies", ("project", "dependencies", 1), 4, 33, "numpy", "numpy==1.26.4", "pep508"),
        ("project.dependencies", ("project", "dependencies", 2), 5, 5, "scipy", "scipy==1.11.4", "pep508"),
        ("project.dependencies", ("project", "dependencies", 3), 6, 19, "pandas", "pandas==2.1.0", "pep508"),
        (
            "project.optional-dependencies.gpu",
            ("project", "optional-dependencies", "gpu", 0),
            10,
            8,
            "torch",
            "torch==2.7.1",
            "pep508",
        ),
        (
            "dependency-groups.dev",
            ("dependency-groups", "dev", 1),
            13,
            34,
            "pytest",
            "pytest==8.0.0",
            "pep508",
        ),
        ("tool.poetry.dependencies", (*poetry, "torch"), 18, 9, "torch", "2.7.1", "poetry"),
        ("tool.poetry.dependencies", (*poetry, "vision", "version"), 19, 21, "vision", "==0.22.1", "poetry"),
        ("tool.poetry.dependencies", (*poetry, "multi", 0, "version"), 21, 21, "multi", "2.1.0", "poetry"),
        (
            "tool.poetry.group.dev.dependencies",
            ("tool", "poetry", "group", "dev", "dependencies", "black"),
            24,
            9,
            "black",
            "^24",
            "poetry",
        ),
        (
            "tool.poetry.dev-dependencies",
            ("tool", "poetry", "dev-dependencies", "flake8"),
            27,
            10,
            "flake8",
            "7.0.0",
            "poetry",
        ),
        (
            "tool.poetry.dependencies",
            (*poetry, "sectioned", "version"),
            30,
            11,
            "sectioned",
            "1.2.3",
            "poetry",
        ),
    ]
    _assert_positions(ALL_FORMS, deps)


def test_relax_config_is_plain_python() -> None:
    config = parse(ALL_FORMS).relax_config
    assert config == {"bound": "minor", "keep": ["numpy"], "depth": 2}
    assert config is not None
    assert type(config) is dict
    assert type(config["keep"]) is list
    assert type(config["bound"]) is str
    assert type(config["depth"]) is int


def test_edit_every_form_changes_only_those_strings() -> None:
    deps = parse(ALL_FORMS).dependencies
    edits = {d.key: new for d in deps if (new := _relaxed(d)) is not None}
    assert len(edits) == 11
    new = apply_edits(ALL_FORMS, edits)
    assert '"torch>=2.7.1,<2.8.0", \'numpy>=1.26.4,<1.27.0\',  # "torch==2.7.1", a comment' in new
    assert "\n    \"\"\"\nscipy>=1.11.4,<1.12.0\"\"\", '''pandas>=2.1.0,<2.2.0''',\n" in new
    assert 'description = "torch==2.7.1"' in new
    assert 'dev = [{include-group = "test"}, "pytest>=8.0.0,<8.1.0"]' in new
    assert 'vision = {version = ">=0.22.1,<0.23.0", source = "x"}' in new
    assert 'multi = [{version = ">=2.1.0,<2.2.0", markers' in new
    assert '[tool.poetry.dependencies.sectioned]\nversion = ">=1.2.3,<1.3.0"\n' in new
    assert _strip_strings(ALL_FORMS, deps, set(edits)) == _strip_strings(new, parse(new).dependencies, set(edits))


def test_no_dependency_tables() -> None:
    result = parse('[tool.black]\nline-length = 88\n[build-system]\nrequires = ["torch==2.0.0"]\n')
    assert result.dependencies == ()
    assert result.relax_config is None
    assert parse("").dependencies == ()
    assert parse('[project]\nname = "x"\ndynamic = ["dependencies"]\n').dependencies == ()


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final", [True, False])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_line_endings_final_newline_and_bom_are_kept(newline: str, final: bool, bom: str) -> None:
    body = newline.join(["[project]", "dependencies = [", '  "a==1.0.0",', "  'b==2.0.0',", "]"])
    text = bom + body + (newline if final else "")
    deps = parse(text).dependencies
    assert [(d.line, d.col) for d in deps] == [(3, 3), (4, 3)]
    _assert_positions(text, deps)
    new = apply_edits(text, {deps[0].key: "a>=1", deps[1].key: "b>=2"})
    assert new == text.replace('"a==1.0.0"', '"a>=1"').replace("'b==2.0.0'", "'b>=2'")


def test_bom_counts_as_a_column_on_the_first_line() -> None:
    text = '\ufeffx = ["a"]\n[project]\ndependencies = ["a"]\n'
    (dep,) = parse(text).dependencies
    assert (dep.line, dep.col) == (3, 17)
    assert parse('\ufeffproject = {dependencies = ["a"]}').dependencies[0].col == 29


# --- apply_edits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "expected"),
    [
        ('"a==1"', "a>=1", '"a>=1"'),
        ("'a==1'", "a>=1", "'a>=1'"),
        ("'a==1'", "a>=1; os_name == 'nt'", "\"a>=1; os_name == 'nt'\""),
        ('"a==1"', 'a>=1; os_name == "nt"', '"a>=1; os_name == \\"nt\\""'),
        ('"""a==1"""', "a>=1", '"""a>=1"""'),
        ('"""\na==1"""', "a>=1", '"""\na>=1"""'),
        ("'''\r\na==1'''", "a>=1", "'''\r\na>=1'''"),
        ("'''a==1'''", "a>=1 ; os_name == '''x'''", "\"\"\"a>=1 ; os_name == '''x'''\"\"\""),
        ('"a\\u003d=1"', "a>=1", '"a>=1"'),
    ],
)
def test_edit_keeps_quote_style(raw: str, value: str, expected: str) -> None:
    text = f"[project]\ndependencies = [{raw}]  # trailing\n"
    new = apply_edits(text, {("project", "dependencies", 0): value})
    assert new == text.replace(raw, expected)
    assert tomlkit.parse(new)["project"]["dependencies"][0] == value


def test_edit_rejects_unknown_keys() -> None:
    text = '[project]\nname = "x"\ndependencies = ["a"]\n'
    for key in [("project", "dependencies", 1), ("project", "dependencies", -1), ("nope",)]:
        with pytest.raises(KeyError):
            apply_edits(text, {key: "b"})
    with pytest.raises(TypeError):
        apply_edits(text, {("project", "dependencies"): "b"})


def test_edit_of_duplicate_strings_touches_only_the_one_asked_for() -> None:
    text = '[project]\ndependencies = ["a==1", "a==1"]\n[project.optional-dependencies]\nx = ["a==1"]\n'
    new = apply_edits(text, {("project", "optional-dependencies", "x", 0): "a>=1"})
    assert new == text[: text.rindex('"a==1"')] + '"a>=1"]\n'
    new = apply_edits(text, {("project", "dependencies", 1): "a>=1"})
    assert new == text.replace('"a==1", "a==1"', '"a==1", "a>=1"')


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "col", "fragment"),
    [
        ('[project]\ndependencies = ["a",\n', 2, 1, "invalid TOML"),
        ('a = "x\n', 1, 7, "invalid TOML"),
        ('[project]\nname = "x"\nname = "y"\n', 3, 1, "invalid TOML"),
        ("x = 1\n<<<<<<< HEAD\ny = 1\n=======\ny = 2\n>>>>>>> b\n", 2, 1, "merge conflict"),
        ('[project]\ndependencies = "torch"\n', 2, 16, "project.dependencies must be an array"),
        ('[project]\ndependencies = ["a", 1]\n', 2, 22, "project.dependencies[1] must be a PEP 508 string"),
        ("[project.dependencies]\na = 1\n", 1, 1, "found a table"),
        ("[project]\noptional-dependencies = 3\n", 2, 25, "must be a table, found an integer"),
        ('[project.optional-dependencies]\ngpu = "x"\n', 2, 7, "optional-dependencies.gpu must be an array"),
        ("[dependency-groups]\ndev = [{foo = 1}]\n", 2, 8, "{include-group = ...}"),
        ('[dependency-groups]\ndev = [{include-group = "tset"}]\ntest = []\n', 2, 8, "'tset', which is no group"),
        ('[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n', 2, 6, "(a cycle)"),
        ('[dependency-groups]\na = ["x", {include-group = "A"}]\n', 2, 11, "includes 'A', which includes 'a'"),
        ("[dependency-groups]\na = [{include-group = 1}]\n", 2, 23, "must be the name of a dependency group"),
        ("project = true\n", 1, 11, "project must be a table, found a boolean"),
        ('[project]\nname = "x"\nversion = 1.0\n', 3, 11, "project.version must be a string, found a float"),
        ("[project]\nname = 3\n", 2, 8, "project.name must be a string, found an integer"),
        ("[tool.poetry.dependencies]\ntorch = 2\n", 2, 9, "torch must be a version string"),
        ("[tool.poetry.dependencies]\ntorch = {version = 2}\n", 2, 20, "torch.version must be"),
        ("[tool.poetry.dependencies]\ntorch = [1.5]\n", 2, 10, "torch[0] must be"),
        ("[tool.poetry.dependencies.torch]\nversion = 2.5\n", 2, 11, "found a float"),
        ('[tool.poetry.group.dev]\ndependencies = "x"\n', 2, 16, "dependencies must be a table"),
        ('[project]\ndependencies = ["torch 2.0"]\n', 2, 17, "not a valid PEP 508 requirement"),
    ],
)
def test_errors_point_at_the_problem(text: str, line: int, col: int, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse(text, path="p/pyproject.toml")
    assert (info.value.line, info.value.col) == (line, col)
    assert fragment in info.value.message
    assert str(info.value).startswith(f"p/pyproject.toml:{line}:{col}: ")


def test_merge_conflict_has_a_hint_and_relax_config_errors_are_config_errors() -> None:
    with pytest.raises(InputError, match="<<<<<<<") as info:
        parse('<<<<<<< ours\n[project]\ndependencies = ["a"]\n')
    assert info.value.hint is not None
    with pytest.raises(ConfigError) as config:
        parse("[tool]\nrelax-pins = 3\n")
    assert (config.value.line, config.value.col) == (2, 14)
    with pytest.raises(InputError, match="invalid TOML"):
        apply_edits("a = \n", {})


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("2.7.1", "2.7.1"),
        ("==2.7.1", "2.7.1"),
        (" 2.7.1 ", "2.7.1"),
        ("== 2.7.1", "2.7.1"),
        ("=2.7.1", "2.7.1"),
        ("2.7", "2.7"),
        ("2.1.2+cu118", "2.1.2+cu118"),
        ("1.0.0rc1", "1.0.0rc1"),
        ("^2.7.1", None),
        ("~2.7", None),
        ("~=2.7", None),
        (">=2", None),
        ("*", None),
        ("2.7.*", None),
        (">=1,<2", None),
        ("0.23.0, <0.23.1", None),
        ("1.0 || 2.0", None),
        ("", None),
        ("latest", None),
    ],
)
def test_poetry_exact_version(constraint: str, expected: str | None) -> None:
    assert poetry_exact_version(constraint) == expected


# --- properties ------------------------------------------------------------------------------------

_names = st.sampled_from(["torch", "numpy", "a", "b-c", "Foo_bar", "x.y", "torchvision"])
_numbers = st.integers(min_value=0, max_value=30)
_words = st.text(alphabet="abz019 =<>.,'\"[]{}#-", max_size=12)


@st.composite
def _requirements(draw: st.DrawFn) -> str:
    op = draw(st.sampled_from(["", "==", ">=", "~=", " == "]))
    version = ".".join(str(draw(_numbers)) for _ in range(draw(st.integers(2, 3))))
    extras = draw(st.sampled_from(["", "[cuda]", "[a,b]"]))
    marker = draw(st.sampled_from(["", "; sys_platform == 'linux'", ' ; python_version < "3.12"']))
    return f"{draw(_names)}{extras}{op}{version if op else ''}{marker}"


_constraints = st.one_of(st.sampled_from(["2.7.1", "^2.7.1", "==1.0.0", ">=1,<2", "2.7.*", "*", "~2.7"]), _words)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _quote(draw: st.DrawFn, value: str, nl: str, *, multiline: bool = True) -> tuple[str, str]:
    """A TOML string for ``value`` in a drawn style: (raw, the value TOML reads back)."""
    styles = ["basic"]
    if "'" not in value:
        styles.append("literal")
    if multiline:
        styles.append("ml-basic")
        if "'''" not in value and not value.endswith("''"):
            styles.append("ml-literal")
    style = draw(st.sampled_from(styles))
    if style == "basic":
        return f'"{_escape(value)}"', value
    if style == "literal":
        return f"'{value}'", value
    lead = draw(st.sampled_from(["", nl]))
    tail = draw(st.sampled_from(["", nl]))
    read = value + ("\n" if tail else "")
    if style == "ml-basic":
        body = _escape(value)
        return f'"""{lead}{body}{tail}"""', read
    return f"'''{lead}{value}{tail}'''", read


def _array(draw: st.DrawFn, raws: list[str], nl: str) -> str:
    multiline = draw(st.booleans())
    out = "["
    after_comment = False
    for index, raw in enumerate(raws):
        if multiline and draw(st.booleans()):
            out += nl + "  # " + draw(st.sampled_from(['"torch==1.2.3",', "'a',", "note"]))
            after_comment = True
        if after_comment or (multiline and draw(st.booleans())):
            out += nl + draw(st.sampled_from(["  ", "    ", "\t"]))
        else:
            out += draw(st.sampled_from(["", " "]))
        out += raw
        after_comment = False
        if index < len(raws) - 1 or draw(st.booleans()):
            out += ","
        if multiline and draw(st.booleans()):
            out += "  # " + draw(st.sampled_from(['"numpy==1.0"', "x", ""]))
            after_comment = True
    if after_comment or multiline:
        out += nl
    return out + "]"


@st.composite
def _documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A pyproject with random dependency tables and formatting, and each dependency's raw string."""
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    lines: list[str] = []
    raws: list[str] = []

    def pep508_array() -> str:
        items = [_quote(draw, req, nl)[0] for req in draw(st.lists(_requirements(), max_size=5))]
        raws.extend(items)
        return _array(draw, items, nl)

    lines += ["[project]", f"name = {_quote(draw, draw(_requirements()), nl)[0]}"]
    if draw(st.booleans()):
        lines.append(f"dependencies = {pep508_array()}")
    if draw(st.booleans()):
        lines += ["", "[project.optional-dependencies]"]
        for extra in draw(st.lists(st.sampled_from(["gpu", "cpu", "all"]), unique=True, max_size=3)):
            lines.append(f"{extra} = {pep508_array()}")
    if draw(st.booleans()):
        lines += ["", "[dependency-groups]"]
        groups = draw(st.lists(st.sampled_from(["dev", "docs"]), unique=True, max_size=2))
        for group in groups:  # dev may include docs (an include names a group there is, never itself: PEP 735)
            includes = group == "dev" and "docs" in groups and draw(st.booleans())
            include = '{include-group = "docs"}, ' if includes else ""
            lines.append(f"{group} = [{include}{pep508_array()[1:]}")
    sections: list[tuple[str, str]] = []
    if draw(st.booleans()):
        lines += ["", "[tool.poetry.dependencies]", 'python = "^3.10"']
        for name in draw(st.lists(_names, unique=True, max_size=4)):
            raw = _quote(draw, draw(_constraints), nl, multiline=False)[0]
            form = draw(st.sampled_from(["string", "inline", "section"]))
            if form == "section":
                sections.append((name, raw))
                continue
            raws.append(raw)
            if form == "string":
                lines.append(f'"{name}" = {raw}' + draw(st.sampled_from(["", "  # c"])))
            else:
                lines.append(f'"{name}" = {{version = {raw}, optional = true}}')
    for name, raw in sections:
        raws.append(raw)
        lines += ["", f'[tool.poetry.dependencies."{name}"]', f"version = {raw}"]
    text = nl.join(lines) + draw(st.sampled_from(["", nl]))
    return text, raws


_settings = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(_documents())
def test_positions_point_at_each_quoted_string(document: tuple[str, list[str]]) -> None:
    text, raws = document
    deps = parse(text).dependencies
    assert len(deps) == len(raws)
    lines = text.splitlines()
    for dep, raw in zip(deps, raws, strict=True):
        assert lines[dep.line - 1][dep.col - 1 :].startswith(raw.splitlines()[0])
        offset = _offset(text, dep.line, dep.col)
        assert text[offset : offset + len(raw)] == raw


@_settings
@given(_documents())
def test_no_edits_change_nothing(document: tuple[str, list[str]]) -> None:
    text, _ = document
    assert apply_edits(text, {}) == text


@_settings
@given(_documents(), st.data())
def test_edits_change_only_the_edited_strings(document: tuple[str, list[str]], data: st.DataObject) -> None:
    text, _ = document
    deps = parse(text).dependencies
    chosen = data.draw(st.lists(st.sampled_from(deps), unique=True) if deps else st.just([]))
    edits: dict[Key, str] = {}
    for dep in chosen:
        pep508 = dep.style is DependencyStyle.PEP508
        edits[dep.key] = data.draw(_requirements() if pep508 else _constraints)
    new = apply_edits(text, edits)
    new_deps = parse(new).dependencies
    assert [d.key for d in new_deps] == [d.key for d in deps]
    for old, fresh in zip(deps, new_deps, strict=True):
        assert fresh.text == edits.get(old.key, old.text)
    assert _strip_strings(text, deps, set(edits)) == _strip_strings(new, new_deps, set(edits))


def test_a_dependency_group_includes_groups_by_normalized_name() -> None:
    """PEP 735: ``{include-group = "..."}`` names another group, compared as normalized names; its
    dependencies are the group's too, through any depth, each group once."""
    text = (
        "[dependency-groups]\n"
        'dev = ["ruff==0.5.0", {include-group = "Test_Tools"}]\n'
        'test-tools = ["pytest==8.0.0", {include-group = "base"}]\n'
        'base = ["attrs==23.1.0"]\n'
        'all = [{include-group = "dev"}, {include-group = "base"}]\n'
    )
    project = parse(text)
    assert project.group_includes == {"dev": ("test-tools",), "test-tools": ("base",), "all": ("dev", "base")}
    assert project.included_groups("all") == ("all", "dev", "base", "test-tools")
    names = [d.name for d in directs_from_pyproject(project, path="p", table="dependency-groups.all")]
    assert names == ["ruff", "pytest", "attrs"]
    assert [str(s) for s in optional_sets(project)] == ["group dev", "group test-tools", "group base", "group all"]


def test_every_bad_entry_of_a_pyproject_is_reported() -> None:
    """A pyproject.toml reported only its first error, where a requirements file reports all of them."""
    text = (
        '[project]\nname = "x"\ndependencies = ["torch 2.0", 3, "numpy>=1"]\n\n'
        '[project.optional-dependencies]\ngpu = ["cuda==="]\n\n'
        '[dependency-groups]\ndev = [{include-group = "nope"}]\n'
    )
    with pytest.raises(InputError) as caught:
        parse(text)
    errors = caught.value.errors if isinstance(caught.value, InputErrors) else (caught.value,)
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [
        (3, "project.dependencies"),
        (3, "project.dependencies[1] must be a PEP 508 string, found an integer"),
        (6, "project.optional-dependencies.gpu"),
        (9, "dependency-groups.dev[0] includes 'nope', which is no group of [dependency-groups]"),
    ]


def test_a_value_of_the_wrong_type_does_not_hide_the_other_errors() -> None:
    """One type error hid the rest: ``version = 1.0`` was reported alone, then ``gpu = "torch==2.0"``, and the
    bad strings only once both were fixed."""
    text = (
        '[project]\nname = "x"\nversion = 1.0\ndependencies = ["torch 2.0"]\n\n'
        '[project.optional-dependencies]\ngpu = "torch==2.0"\ncpu = ["numpy=="]\n\n'
        "[tool.poetry.dependencies]\nrich = 3\n"
    )
    with pytest.raises(InputErrors) as caught:
        parse(text)
    assert [e.line for e in caught.value.errors] == [3, 4, 7, 8, 11]
