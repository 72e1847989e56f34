"""Where the policy comes from: ``--config FILE``, else the nearest pyproject.toml with ``[tool.relax-pins]``.

The search walks up from the folder of each input file and stops at the first pyproject.toml that has a
``[tool.relax-pins]`` table, or at a repository root (a folder holding ``.git``), whichever comes first; the
default policy applies when none is found. A ``--config`` file is either a pyproject.toml-like file with a
``[tool.relax-pins]`` table or a file whose top level is that table (``bound = ...``, ``keep = [...]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import ParseError

from resolver.core.policy import TARGET_KEYS, Policy, policy_from_table
from resolver.errors import ConfigError
from resolver.fsio import display_path, read_text

__all__ = ["find_config", "load_policy", "load_targets", "read_table"]

_TABLE = ("tool", "relax-pins")


def read_table(path: Path, *, display: str, required: bool) -> tuple[Mapping[str, object] | None, int | None]:
    """The ``[tool.relax-pins]`` table of ``path`` as plain values, and the line of its header."""
    text = read_text(path, display=display).text
    try:
        doc = tomlkit.parse(text).unwrap()
    except ParseError as exc:
        raise ConfigError(
            f"invalid TOML: {exc.args[0] if exc.args else exc}", path=display, line=exc.line, col=exc.col
        ) from None
    table: object = doc
    for key in _TABLE:
        table = table.get(key) if isinstance(table, dict) else None
    if table is None and required and path.name != "pyproject.toml":
        table = doc
    if table is None:
        if required:
            raise ConfigError("no [tool.relax-pins] table", path=display)
        return None, None
    if not isinstance(table, dict):
        raise ConfigError("[tool.relax-pins] must be a table", path=display)
    line = _header_line(text)
    return table, line


def _header_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip().replace(" ", "")
        if stripped.startswith(("[tool.relax-pins]", '[tool."relax-pins"]', "[tool.relax-pins.")):
            return number
    return None


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` whose text has a ``[tool.relax-pins]`` table."""
    folder = start.resolve()
    for candidate_dir in (folder, *folder.parents):
        candidate = candidate_dir / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            if _header_line(text) is not None:
                return candidate
        if (candidate_dir / ".git").exists():
            return None
    return None


def load_policy(config: Path | None, *, start: Path, display: str | None = None) -> Policy:
    """The policy from ``config`` when given, else from the nearest configured pyproject.toml."""
    path = config if config is not None else find_config(start)
    if path is None:
        return Policy()
    shown = display or display_path(path)
    table, line = read_table(path, display=shown, required=config is not None)
    if table is None:
        return Policy()
    try:
        return policy_from_table(table, path=shown)
    except ConfigError as exc:
        exc.line = exc.line or line
        raise


def load_targets(config: Path | None, *, start: Path) -> dict[str, object]:
    """The target and index keys of the configuration ``load_policy`` reads (``python``, ``platform``, ``cuda``,
    ``driver``, ``index-url``, ``extra-index-url``, ``torch-index-url``, ``dockerfile``, ``extras``), as the
    option values they stand for (``dockerfile`` relative to the configuration's folder); a value of the wrong
    type is a :class:`ConfigError` at the table."""
    path = config if config is not None else find_config(start)
    if path is None:
        return {}
    shown = display_path(path)
    table, line = read_table(path, display=shown, required=config is not None)
    if table is None:
        return {}
    out: dict[str, object] = {}
    for key in TARGET_KEYS & set(table):
        value = table[key]
        many = key in ("extra-index-url", "extras")
        if isinstance(value, str) and many:
            value = [value]
        ok = (isinstance(value, list) and all(isinstance(v, str) for v in value)) if many else isinstance(value, str)
        if not ok:
            wanted = "a string or a list of strings" if many else "a string"
            raise ConfigError(f"[tool.relax-pins] {key} must be {wanted}", path=shown, line=line)
        if key == "dockerfile":
            value = str(path.parent / str(value))
        out[key.replace("-", "_")] = value
    return out
