"""Poetry version constraints in PEP 440 terms, so Poetry dependencies can be verified like any other.

Supported: exact (``2.7.1``, ``==2.7.1``), caret (``^2.7.1`` -> ``>=2.7.1,<3.0.0``; ``^0.2.3`` -> ``<0.3.0``;
``^0.0.3`` -> ``<0.0.4``), tilde (``~2.7.1`` -> ``>=2.7.1,<2.8.0``; ``~2`` -> ``<3``), wildcards (``2.7.*``),
``*`` (any), and comma- or space-separated comparisons (``>=1.2,<2``). Not supported: ``||`` alternatives,
which PEP 440 cannot say in one specifier set; :func:`to_pep440` returns ``None`` for them and the caller
reports the dependency as unchecked.
"""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["to_pep440"]

# Clauses are separated by commas, or by spaces before the next operator (">=1.2 <2").
_SEPARATOR = re.compile(r"\s*,\s*|\s+(?=[<>=!^~])")
_OP = re.compile(r"^(===|==|~=|!=|<=|>=|<|>|=)?\s*(.+)$")


def _caret(version: Version) -> str:
    release = list(version.release) + [0] * (3 - len(version.release))
    index = next((i for i, part in enumerate(release) if part), len(version.release) - 1)
    upper = release[: index + 1]
    upper[index] += 1
    return f">={version},<{'.'.join(map(str, upper + [0] * (len(release) - index - 1)))}"


def _tilde(version: Version) -> str:
    release = list(version.release)
    index = 0 if len(release) == 1 else 1
    upper = release[: index + 1]
    upper[index] += 1
    return f">={version},<{'.'.join(map(str, upper + [0] * max(0, len(release) - index - 1)))}"


def _clause(text: str) -> str | None:
    text = text.strip()
    if text in {"", "*"}:
        return ""
    try:
        if text.startswith("^"):
            return _caret(Version(text[1:].strip()))
        if text.startswith("~") and not text.startswith("~="):
            return _tilde(Version(text[1:].strip()))
    except InvalidVersion:
        return None
    match = _OP.match(text)
    if match is None:
        return None
    op, version = match.group(1) or "==", match.group(2).strip()
    return f"{'==' if op == '=' else op}{version}"


def to_pep440(constraint: str) -> SpecifierSet | None:
    """The PEP 440 specifier set equal to a Poetry constraint, or ``None`` when there is none."""
    if "||" in constraint or "|" in constraint:
        return None
    clauses = [_clause(p) for p in _SEPARATOR.split(constraint.strip())]
    if any(c is None for c in clauses):
        return None
    try:
        return SpecifierSet(",".join(c for c in clauses if c))
    except InvalidSpecifier:
        return None
