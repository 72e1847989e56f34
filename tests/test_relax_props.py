"""Properties of the relax policy that must hold for every version; Hypothesis looks for a counterexample."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolver.core.policy import Bound
from resolver.core.relax import relax_specifier

releases = st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=5)
pre = st.one_of(
    st.just(""),
    st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 20)).map(lambda t: f"{t[0]}{t[1]}"),
)
post = st.one_of(st.just(""), st.integers(0, 9).map(lambda n: f".post{n}"))
dev = st.one_of(st.just(""), st.integers(0, 9).map(lambda n: f".dev{n}"))
local = st.one_of(st.just(""), st.sampled_from(["+cu121", "+cpu", "+rocm6.1", "+cu118.torch2"]))
epoch = st.one_of(st.just(""), st.integers(1, 3).map(lambda n: f"{n}!"))


@st.composite
def versions(draw: st.DrawFn) -> str:
    rel = ".".join(str(p) for p in draw(releases))
    return f"{draw(epoch)}{rel}{draw(pre)}{draw(post)}{draw(dev)}{draw(local)}"


bounds = st.sampled_from(list(Bound))


@settings(max_examples=500)
@given(versions(), bounds)
def test_relaxed_range_admits_the_pinned_version(version: str, bound: Bound) -> None:
    result = relax_specifier(f"=={version}", package="pkg", bound=bound)
    assert result.changed
    spec = SpecifierSet(result.after)
    assert spec.contains(Version(version), prereleases=True)


@settings(max_examples=500)
@given(versions(), bounds)
def test_relaxing_is_idempotent(version: str, bound: Bound) -> None:
    once = relax_specifier(f"=={version}", package="pkg", bound=bound)
    twice = relax_specifier(once.after, package="pkg", bound=bound)
    assert not twice.changed
    assert twice.after == once.after


@settings(max_examples=300)
@given(versions(), bounds)
def test_relaxed_range_is_valid_and_has_no_local_label(version: str, bound: Bound) -> None:
    result = relax_specifier(f"=={version}", package="pkg", bound=bound)
    assert "+" not in result.after
    SpecifierSet(result.after)  # raises InvalidSpecifier if the text is not a valid specifier set


@settings(max_examples=300)
@given(releases, bounds)
def test_upper_bound_excludes_the_next_step(release: list[int], bound: Bound) -> None:
    """The upper bound is tight: the next minor (major, patch) release is outside the range."""
    version = ".".join(str(p) for p in release)
    result = relax_specifier(f"=={version}", package="pkg", bound=bound)
    spec = SpecifierSet(result.after)
    if bound is Bound.LOWER or release[0] >= 1990:
        assert "<" not in result.after
        return
    parts = [*release, 0, 0, 0]
    if bound is Bound.MINOR:
        nxt = [parts[0], parts[1] + 1]
    elif bound is Bound.PATCH:
        nxt = [parts[0], parts[1], parts[2] + 1]
    else:
        first = next((i for i, p in enumerate(release) if p), len(release) - 1)
        nxt = [*parts[:first], parts[first] + 1]
    assert not spec.contains(Version(".".join(map(str, nxt))))


@settings(max_examples=200)
@given(releases.filter(lambda r: len(r) >= 1), st.integers(1, 3))
def test_wildcard_range_matches_the_wildcard(release: list[int], n: int) -> None:
    prefix = ".".join(str(p) for p in release[:n])
    result = relax_specifier(f"=={prefix}.*", package="pkg", bound=Bound.MINOR)
    relaxed, wildcard = SpecifierSet(result.after), SpecifierSet(f"=={prefix}.*")
    for probe in (release, [*release, 9], [*release[:n], 0], [release[0] + 1]):
        v = Version(".".join(map(str, probe)))
        assert relaxed.contains(v) == wildcard.contains(v), (prefix, v)
