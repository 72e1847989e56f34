"""The relaxation rules, one row per rule in docs/policy.md."""

from __future__ import annotations

import pytest

from resolver.core.policy import Bound, Policy, policy_from_table
from resolver.core.relax import relax_specifier
from resolver.errors import ConfigError

CASES = [
    # (specifier, bound, expected)
    ("==2.7.1", Bound.MINOR, ">=2.7.1,<2.8.0"),
    ("==4.36.2", Bound.MINOR, ">=4.36.2,<4.37.0"),
    ("==2.7.1", Bound.MAJOR, ">=2.7.1,<3.0.0"),
    ("==0.22.1", Bound.MAJOR, ">=0.22.1,<0.23.0"),
    ("==0.0.3", Bound.MAJOR, ">=0.0.3,<0.0.4"),
    ("==0.0.0", Bound.MAJOR, ">=0.0.0,<0.0.1"),
    ("==2.7.1", Bound.PATCH, ">=2.7.1,<2.7.2"),
    ("==2.7.1", Bound.LOWER, ">=2.7.1"),
    ("==0.22.1", Bound.MINOR, ">=0.22.1,<0.23.0"),
    # fewer or more components than three
    ("==1.24", Bound.MINOR, ">=1.24,<1.25"),
    ("==2", Bound.MINOR, ">=2,<2.1"),
    ("==2", Bound.PATCH, ">=2,<2.0.1"),
    ("==1.2.3.4", Bound.MINOR, ">=1.2.3.4,<1.3.0.0"),
    ("==1.10", Bound.MAJOR, ">=1.10,<2.0"),
    # pre, post and dev releases keep their exact lower bound
    ("==1.0.0rc1", Bound.MINOR, ">=1.0.0rc1,<1.1.0"),
    ("==2.5.1.post0", Bound.MINOR, ">=2.5.1.post0,<2.6.0"),
    ("==0.0.23.post1", Bound.MAJOR, ">=0.0.23.post1,<0.0.24"),
    ("==1.0.dev3", Bound.PATCH, ">=1.0.dev3,<1.0.1"),
    ("==0.8.1b0", Bound.MINOR, ">=0.8.1b0,<0.9.0"),
    # local versions drop their label
    ("==2.1.0+cu121", Bound.MINOR, ">=2.1.0,<2.2.0"),
    ("==0.4.22+cuda12.cudnn89", Bound.MINOR, ">=0.4.22,<0.5.0"),
    # epochs are kept on both bounds
    ("==1!2.0.1", Bound.MINOR, ">=1!2.0.1,<1!2.1.0"),
    # calendar versions: lower bound only
    ("==2024.2.2", Bound.MINOR, ">=2024.2.2"),
    ("==2023.3.post1", Bound.MAJOR, ">=2023.3.post1"),
    ("==1990.1", Bound.PATCH, ">=1990.1"),
    ("==1989.1", Bound.MINOR, ">=1989.1,<1989.2"),
    # wildcards become the equivalent range, whatever the bound
    ("==2.7.*", Bound.MINOR, ">=2.7,<2.8"),
    ("==0.21.*", Bound.MAJOR, ">=0.21,<0.22"),
    ("==2.*", Bound.PATCH, ">=2,<3"),
    # spacing as written is kept around the clause
    ("== 2.3.1", Bound.MINOR, ">=2.3.1,<2.4.0"),
    (" == 2.3.1 ", Bound.MINOR, " >=2.3.1,<2.4.0 "),
    ("==2.7.1, !=2.7.0", Bound.MINOR, ">=2.7.1,<2.8.0, !=2.7.0"),
    # left alone
    ("~=2.2.1", Bound.MINOR, "~=2.2.1"),
    (">=2.0", Bound.MINOR, ">=2.0"),
    ("<3", Bound.MINOR, "<3"),
    ("!=1.2.3", Bound.MINOR, "!=1.2.3"),
    ("", Bound.MINOR, ""),
    (">=2.7.1,<2.8.0", Bound.MINOR, ">=2.7.1,<2.8.0"),
    ("==1.0,==1.0", Bound.MINOR, "==1.0,==1.0"),
]


@pytest.mark.parametrize(("spec", "bound", "expected"), CASES)
def test_relax_rules(spec: str, bound: Bound, expected: str) -> None:
    result = relax_specifier(spec, package="pkg", bound=bound)
    assert result.after == expected
    assert result.changed == (spec != expected)


def test_kept_exact_by_policy() -> None:
    result = relax_specifier("==2.7.1", package="torch", bound=None)
    assert not result.changed
    assert result.after == "==2.7.1"
    assert "policy" in result.reason


def test_calver_finding() -> None:
    result = relax_specifier("==2024.2.2", package="certifi", bound=Bound.MINOR)
    assert [f.code for f in result.findings] == ["calver"]
    assert result.findings[0].severity.value == "info"


def test_calver_under_lower_bound_needs_no_finding() -> None:
    result = relax_specifier("==2024.2.2", package="certifi", bound=Bound.LOWER)
    assert result.after == ">=2024.2.2"
    assert result.findings == ()


def test_local_version_records_variant() -> None:
    result = relax_specifier("==2.1.0+cu121", package="torch", bound=Bound.MINOR)
    (finding,) = result.findings
    assert finding.code == "local-version"
    assert finding.get("variant") == "cu121"
    assert finding.get("version") == "2.1.0+cu121"


def test_arbitrary_equality_warns() -> None:
    result = relax_specifier("===1.0-weird", package="odd", bound=Bound.MINOR)
    assert not result.changed
    (finding,) = result.findings
    assert finding.code == "arbitrary-equality"
    assert finding.severity.value == "warning"


def test_unparseable_version_left_alone() -> None:
    result = relax_specifier("==not-a-version", package="odd", bound=Bound.MINOR)
    assert not result.changed


def test_policy_per_package() -> None:
    policy = Policy(default=Bound.MINOR).with_default(Bound.MAJOR)
    assert policy.bound_for("torch") is Bound.MAJOR
    policy = policy_from_table(
        {"bound": "patch", "keep": ["NumPy"], "bounds": {"Transformers": "major"}}, path="pyproject.toml"
    )
    assert policy.default is Bound.PATCH
    assert policy.bound_for("numpy") is None
    assert policy.bound_for("transformers") is Bound.MAJOR
    assert policy.bound_for("torch") is Bound.PATCH


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"bound": "minro"}, "not a bound"),
        ({"keeep": ["x"]}, "unknown key 'keeep'"),
        ({"keep": "numpy"}, "list of package names"),
        ({"bounds": {"torch": "tiny"}}, "bounds.torch"),
        ({"bounds": ["torch"]}, "table of package = bound"),
    ],
)
def test_bad_config_is_a_clear_error(table: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        policy_from_table(table, path="pyproject.toml")
    assert needle in str(info.value)
    assert str(info.value).startswith("pyproject.toml")
