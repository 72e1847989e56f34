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


def _imports(module: str) -> set[str]:
    """Modules imported at run time (imports under ``if TYPE_CHECKING:`` do not count)."""
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    skip: set[int] = set()
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
    return found


def _top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


# Which third-party packages each layer may import; the standard library is always allowed.
ALLOWED_THIRD_PARTY = {
    "resolver.core": {"packaging", "tomlkit"},
    "resolver.writers": {"packaging", "tomli_w"},
    "resolver.index.client": {"packaging", "httpx", "httpcore"},  # httpcore: httpx's transport (shared host lookups)
    "resolver.index": {"packaging"},
    "resolver.index.settings": {"pip"},  # pip's default index is read from pip at run time, never written here
    "resolver.resolve": {"packaging", "resolvelib"},
    "resolver.matrix": {"packaging", "yaml"},
    "resolver.cli": {"typer", "packaging"},  # the package: app, options and one module per command
    "resolver": {"packaging", "tomlkit", "yaml"},
}
FIRST_PARTY_FORBIDDEN = {
    "resolver.core": (
        "resolver.index",
        "resolver.resolve",
        "resolver.pipeline",
        "resolver.cli",
        "resolver.fsio",
        "resolver.sources",
        "resolver.config",
        "resolver.writers",
    ),
    "resolver.writers": ("resolver.index", "resolver.resolve", "resolver.cli", "resolver.fsio"),
    "resolver.index": ("resolver.resolve", "resolver.pipeline", "resolver.cli", "resolver.writers"),
    "resolver.resolve": ("resolver.pipeline", "resolver.cli", "resolver.writers"),
    "resolver": ("resolver.cli",),
}


def _rule(table: Mapping[str, object], module: str) -> str:
    return max((k for k in table if module == k or module.startswith(k + ".")), key=len)


@pytest.mark.parametrize("module", MODULES)
def test_import_directions(module: str) -> None:
    stdlib = sys.stdlib_module_names
    imports = _imports(module)
    allowed = ALLOWED_THIRD_PARTY[_rule(ALLOWED_THIRD_PARTY, module)]
    third = {_top(i) for i in imports if _top(i) not in stdlib and _top(i) != "resolver"}
    assert third <= allowed, f"{module} imports {sorted(third - allowed)}"
    if not module.startswith("resolver.cli"):
        forbidden = FIRST_PARTY_FORBIDDEN[_rule(FIRST_PARTY_FORBIDDEN, module)]
        bad = sorted(i for i in imports if i.startswith(forbidden))
        assert not bad, f"{module} imports {bad}"


def test_only_the_cli_imports_typer_and_only_the_client_imports_httpx() -> None:
    for module in MODULES:
        imports = {_top(i) for i in _imports(module)}
        if "typer" in imports:
            assert module.startswith("resolver.cli")
        if "httpx" in imports:
            assert module == "resolver.index.client"


def test_each_module_imports_alone() -> None:
    """Each module imports in a fresh interpreter without pulling in the CLI or the network stack."""
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "    heavy = {'typer', 'httpx'} & set(sys.modules)\n"
        "    glue = ('resolver.cli', 'resolver.index.client', 'resolver.checking', 'resolver.locking')\n"
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
