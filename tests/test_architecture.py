"""The shape of the package (STYLE.md): dependencies point one way, each module imports alone, no hosts."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "resolver"
MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for p in PACKAGE.rglob("*.py")
    if p.name != "__main__.py"
)


def _source(module: str) -> Path:
    path = ROOT / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _imports(module: str, *, type_checking: bool = False) -> set[str]:
    """Modules ``module`` imports: at run time (anywhere in the file, function bodies included), and with
    ``type_checking`` also those under ``if TYPE_CHECKING:``."""
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    found: set[str] = set()
    skip: set[int] = set()
    if not type_checking:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skip.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from resolver.x import y`` may name a module y: count it as an import of resolver.x.y
            found.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES)
    return found


def _first_party(module: str) -> set[str]:
    """The project's modules that ``module`` imports in any way (``TYPE_CHECKING`` included), as module names."""
    return {i for i in _imports(module, type_checking=True) if i in MODULES and i != module}


def _top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


# Which third-party packages each layer may import; the standard library is always allowed.
ALLOWED_THIRD_PARTY = {
    "resolver.core": {"packaging", "tomlkit"},
    "resolver.writers": {"packaging", "tomli_w"},
    # The transport boundary: the client facade and the transport it drives. httpcore: httpx's transport (shared
    # host lookups, resolver.index.transport._look_up_once).
    "resolver.index.client": {"packaging", "httpx", "httpcore"},
    "resolver.index.transport": {"httpx", "httpcore"},
    "resolver.index": {"packaging"},
    "resolver.index.settings": {"pip"},  # pip's default index is read from pip at run time, never written here
    "resolver.resolve": {"packaging", "resolvelib"},
    "resolver.cuda": {"packaging", "yaml"},
    "resolver.docker": {"packaging"},
    "resolver.lock": {"packaging", "yaml"},
    "resolver.results": {"packaging"},
    "resolver.pipeline": {"packaging", "tomlkit", "yaml"},
    "resolver.cli": {"typer", "packaging"},  # the package: app, options and one module per command
    "resolver": {"packaging", "yaml"},  # yamlio reads the shipped data with PyYAML
}


def _rule(table: Mapping[str, object], module: str) -> str:
    return max((k for k in table if module == k or module.startswith(k + ".")), key=len)


# The layers, bottom first: a module imports only from its own layer or below, TYPE_CHECKING imports included.
# The data path reads top to bottom: files -> models -> environments -> index -> resolution -> results ->
# writers -> CLI (docs/architecture.md says why each seam is where it is).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("resolver", "resolver.errors", "resolver.yamlio", "resolver.fsio"),
    ("resolver.core",),
    ("resolver.cuda",),
    ("resolver.docker",),
    ("resolver.index",),
    ("resolver.resolve",),
    ("resolver.lock",),
    ("resolver.results",),
    ("resolver.writers",),
    ("resolver.pipeline",),
    ("resolver.cli",),
)
# Pure layers read no files and open no sockets: they may not import the file or network modules.
PURE = ("resolver.core", "resolver.cuda", "resolver.docker", "resolver.writers", "resolver.results")
IMPURE_EXCEPTIONS = {"resolver.cuda.hardware"}  # reads the local driver (nvidia-smi, /proc): the one CUDA I/O
IO_MODULES = (
    "resolver.fsio",
    "resolver.index.client",
    "resolver.index.transport",
    "resolver.index.pages",
    "resolver.index.metadata_chain",
    "resolver.index.offload",
    "resolver.index.cache",
)


def _layer(module: str) -> int:
    best = max(
        (
            (i, prefix)
            for i, row in enumerate(LAYERS)
            for prefix in row
            if module == prefix or module.startswith(prefix + ".")
        ),
        key=lambda pair: len(pair[1]),
        default=None,
    )
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS"
    return best[0]


@pytest.mark.parametrize("module", MODULES)
def test_import_directions(module: str) -> None:
    stdlib = sys.stdlib_module_names
    imports = _imports(module)
    allowed = ALLOWED_THIRD_PARTY[_rule(ALLOWED_THIRD_PARTY, module)]
    third = {_top(i) for i in imports if _top(i) not in stdlib and _top(i) != "resolver"}
    assert third <= allowed, f"{module} imports {sorted(third - allowed)}"
    mine = _layer(module)
    upward = sorted(i for i in _first_party(module) if _layer(i) > mine)
    assert not upward, f"{module} (layer {mine}) imports from a higher layer: {upward}"
    if module.startswith(PURE) and module not in IMPURE_EXCEPTIONS:
        # run-time imports only: naming a type of an I/O module (fsio.TextFile) for annotations does no I/O
        impure = sorted(i for i in _imports(module) if i.startswith(IO_MODULES))
        assert not impure, f"{module} is pure but imports {impure}"


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_no_import_cycle() -> None:
    """No cycle among the modules, counting every import (TYPE_CHECKING too); a package's ``__init__`` is
    a module like any other."""
    graph = {m: _first_party(m) for m in MODULES}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in MODULES:
        if module not in state:
            visit(module)


def test_no_module_is_left_flat() -> None:
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    assert flat <= {"__init__", "__main__", "errors", "fsio", "yamlio", "results"}, sorted(flat)


@pytest.mark.parametrize("module", MODULES)
def test_modules_stay_small(module: str) -> None:
    lines = len(_source(module).read_text(encoding="utf-8").splitlines())
    assert lines <= 700, f"{module} has {lines} lines"


HTTP_BOUNDARY = ("resolver.index.client", "resolver.index.transport")


def test_only_the_cli_imports_typer_and_only_the_transport_boundary_imports_httpx() -> None:
    for module in MODULES:
        imports = {_top(i) for i in _imports(module, type_checking=True)}
        if "typer" in imports:
            assert module.startswith("resolver.cli")
        if imports & {"httpx", "httpcore"}:
            assert module in HTTP_BOUNDARY, f"{module} imports httpx or httpcore"


def test_each_module_imports_alone() -> None:
    """Each module imports in a fresh interpreter without pulling in the CLI or the network stack."""
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "    heavy = {'typer', 'httpx'} & set(sys.modules)\n"
        "    glue = ('resolver.cli', 'resolver.pipeline.check', 'resolver.pipeline.lock')\n"
        "    light = not name.startswith(glue)\n"
        "    if light:\n"
        "        assert not heavy, (name, heavy)\n"
        "    for m in [m for m in sys.modules if m.startswith(('resolver', 'typer', 'httpx'))]:\n"
        "        del sys.modules[m]\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *MODULES], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr


# Registry hosts the project must never name (assembled from parts so this file does not name them either).
_FORBIDDEN_HOSTS = tuple(
    ".".join(parts)
    for parts in (
        ("pypi", "org"),
        ("pythonhosted", "org"),
        ("download", "pytorch", "org"),
        ("pypi", "python", "org"),
        ("pypi", "nvidia", "com"),
        ("pypi", "ngc", "nvidia", "com"),
    )
)


def test_no_registry_host_is_written_anywhere() -> None:
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            capture_output=True,
            cwd=ROOT,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    offenders: list[str] = []
    for name in filter(None, listed):
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace").lower()
        offenders.extend(f"{name}: {host}" for host in _FORBIDDEN_HOSTS if host in text)
    assert offenders == []
