"""The target environment: tag lists for --python/--platform, markers, tag priority, Requires-Python."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import Marker, default_environment
from packaging.tags import Tag, parse_tag, sys_tags

from resolver.core.target import Target, make_target
from resolver.errors import InputError


def _platforms(target: Target) -> list[str]:
    return list(dict.fromkeys(tag.platform for tag in target.tags))


def test_default_is_this_interpreter_and_machine() -> None:
    target = make_target()
    assert target.tags == tuple(sys_tags())
    assert target.platform is None
    assert target.python_version == sys.version_info[:2]
    assert dict(target.markers) == {k: str(v) for k, v in default_environment().items()}
    assert target.describe()["platform"] == next(iter(sys_tags())).platform  # a tag, never prose


def test_manylinux_expands_down_with_legacy_aliases_and_no_linux_tag() -> None:
    platforms = _platforms(make_target("3.12", "manylinux_2_28_x86_64"))
    assert platforms[0] == "manylinux_2_28_x86_64"
    assert platforms[-1] == "any"
    for expected in ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"):
        assert expected in platforms
    assert platforms.index("manylinux_2_17_x86_64") < platforms.index("manylinux2014_x86_64")
    assert platforms.index("manylinux2014_x86_64") < platforms.index("manylinux_2_16_x86_64")
    assert "manylinux_2_29_x86_64" not in platforms
    assert "linux_x86_64" not in platforms
    aarch64 = _platforms(make_target("3.12", "manylinux_2_28_aarch64"))
    assert "manylinux2014_aarch64" in aarch64
    assert "manylinux2010_aarch64" not in aarch64  # the 2010 and 1 aliases never existed for aarch64


def test_legacy_manylinux_spelling_is_accepted() -> None:
    platforms = _platforms(make_target("3.11", "manylinux2014_x86_64"))
    assert platforms[:2] == ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]


@given(st.integers(min_value=5, max_value=40))
def test_every_older_glibc_is_included(minor: int) -> None:
    platforms = set(_platforms(make_target("3.11", f"manylinux_2_{minor}_x86_64")))
    assert {f"manylinux_2_{y}_x86_64" for y in range(5, minor + 1)} <= platforms
    assert f"manylinux_2_{minor + 1}_x86_64" not in platforms


def test_musllinux_macos_and_windows() -> None:
    musl = make_target("3.12", "musllinux_1_2_aarch64")
    assert _platforms(musl)[:3] == ["musllinux_1_2_aarch64", "musllinux_1_1_aarch64", "musllinux_1_0_aarch64"]
    assert musl.markers["platform_machine"] == "aarch64"
    mac = make_target("3.12", "macosx_14_0_arm64")
    assert {"macosx_14_0_arm64", "macosx_11_0_arm64", "macosx_14_0_universal2"} <= set(_platforms(mac))
    assert "macosx_10_9_x86_64" not in _platforms(mac)
    assert (mac.markers["sys_platform"], mac.markers["platform_machine"]) == ("darwin", "arm64")
    win = make_target("3.12", "win_amd64")
    assert _platforms(win) == ["win_amd64", "any"]
    expected = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"}
    assert expected.items() <= win.markers.items()
    assert Marker('sys_platform == "win32" and python_version >= "3.12"').evaluate(dict(win.markers))
    assert not Marker('platform_system == "Linux"').evaluate(dict(win.markers))


def test_python_versions_change_the_tags() -> None:
    py310 = make_target("3.10", "manylinux_2_28_x86_64")
    py312 = make_target("3.12.4", "manylinux_2_28_x86_64")
    assert py310.tags[0] == Tag("cp310", "cp310", "manylinux_2_28_x86_64")
    assert py312.tags[0] == Tag("cp312", "cp312", "manylinux_2_28_x86_64")
    assert py310.tag_priority(frozenset(parse_tag("cp312-cp312-manylinux_2_28_x86_64"))) is None
    abi3 = frozenset(parse_tag("cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"))
    assert py310.tag_priority(abi3) is not None
    assert py312.tag_priority(abi3) is not None
    assert (py312.python_full_version, py312.markers["python_full_version"]) == ("3.12.4", "3.12.4")
    assert py312.markers["python_version"] == "3.12"
    assert make_target("311").python_version == (3, 11)
    assert make_target("3.11").python_full_version == "3.11.0"


def test_tag_priority_prefers_the_most_specific_tag() -> None:
    target = make_target("3.12", "manylinux_2_28_x86_64")
    best = target.tag_priority(frozenset(parse_tag("cp312-cp312-manylinux_2_28_x86_64")))
    older = target.tag_priority(frozenset(parse_tag("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64")))
    pure = target.tag_priority(frozenset(parse_tag("py3-none-any")))
    assert best is not None and older is not None and pure is not None
    assert best < older < pure
    assert target.tag_priority(frozenset(parse_tag("cp312-cp312-win_amd64"))) is None
    assert target.tag_priority(frozenset(parse_tag("cp312-cp312-linux_x86_64"))) is None
    both = frozenset(parse_tag("cp312-cp312-win_amd64")) | frozenset(parse_tag("py3-none-any"))
    assert target.tag_priority(both) == pure


def test_python_ok_is_lenient() -> None:
    target = make_target("3.10")
    assert target.python_ok(None)
    assert target.python_ok("")
    assert target.python_ok(">=3.8")
    assert not target.python_ok(">=3.11")
    assert target.python_ok("this is not a specifier")
    assert target.python_ok(">=3.10.0")
    assert not target.python_ok("<3.10")


def test_describe_is_all_strings() -> None:
    described = make_target("3.11", "macosx_14_0_arm64").describe()
    assert described["python"] == "3.11"
    assert described["platform"] == "macosx_14_0_arm64"
    assert described["sys_platform"] == "darwin"
    assert all(isinstance(v, str) for v in described.values())


def test_the_report_names_a_platform_tag_even_for_this_machine() -> None:
    here = make_target("3.11")
    assert here.platform is None
    assert here.describe()["platform"] == here.tags[0].platform != "this machine"
    assert make_target("3.11", "linux_aarch64").describe()["platform"] == "linux_aarch64"


def test_target_is_frozen_and_hashable() -> None:
    target = make_target("3.11", "win_amd64")
    assert target == make_target("3.11", "win_amd64")
    assert hash(target) == hash(make_target("3.11", "win_amd64"))
    with pytest.raises(AttributeError):
        target.platform = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        target.markers["os_name"] = "posix"  # type: ignore[index]


@pytest.mark.parametrize("python", ["three", "2.7", "3", "3.x", "4.0"])
def test_bad_python_is_an_input_error(python: str) -> None:
    with pytest.raises(InputError) as caught:
        make_target(python)
    assert caught.value.hint is not None
    assert "3.11" in caught.value.hint
    assert str(caught.value).startswith(f"--python: {python!r}")


@pytest.mark.parametrize(
    "platform",
    [
        "linux",
        "manylinux_x86_64",
        "macosx_14_0_sparc",
        "freebsd_13_amd64",
        "",
        "linux_x86_64_typo",  # once accepted, then every requires-python looked wrong
        "manylinux_2_28_x86-64",
        "manylinux2014_amd64",
        "musllinux_1_2_arm64",
    ],
)
def test_bad_platform_is_an_input_error(platform: str) -> None:
    with pytest.raises(InputError) as caught:
        make_target("3.12", platform)
    assert caught.value.hint is not None
    assert "manylinux_2_28_x86_64" in caught.value.hint
    assert str(caught.value).startswith("--platform: ")


def test_python_before_3_8_has_the_pymalloc_abi_tag() -> None:
    """torch 1.10.0's wheels are cp37-cp37m-manylinux1_x86_64: without the ``m`` no Python 3.7 wheel fitted, and
    a Dockerfile on Python 3.7 got 'no wheel' errors for torch, torchvision and numpy that pip disproves."""
    old = make_target("3.7", "manylinux_2_27_x86_64")
    assert old.tag_priority(frozenset(parse_tag("cp37-cp37m-manylinux1_x86_64"))) is not None
    assert old.tag_priority(frozenset(parse_tag("cp37-cp37-manylinux1_x86_64"))) is None
    new = make_target("3.11", "manylinux_2_28_x86_64")
    assert new.tag_priority(frozenset(parse_tag("cp311-cp311-manylinux_2_17_x86_64"))) is not None
