"""Poetry constraints become the PEP 440 sets Poetry means."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet

from resolver.core.poetry import to_pep440


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("2.7.1", "==2.7.1"),
        ("==2.7.1", "==2.7.1"),
        ("^2.7.1", ">=2.7.1,<3.0.0"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^2.4", ">=2.4,<3.0.0"),
        ("~2.7.1", ">=2.7.1,<2.8.0"),
        ("~2.7", ">=2.7,<2.8"),
        ("~2", ">=2,<3"),
        ("2.7.*", "==2.7.*"),
        ("*", ""),
        (">=1.2,<2", ">=1.2,<2"),
        (">=1.2 <2", ">=1.2,<2"),
    ],
)
def test_poetry_constraints(constraint: str, expected: str) -> None:
    assert to_pep440(constraint) == SpecifierSet(expected)


@pytest.mark.parametrize("constraint", ["^1.0 || ^2.0", "^not-a-version", ">>1"])
def test_unsupported_constraints_are_none(constraint: str) -> None:
    assert to_pep440(constraint) is None
