"""The forward check (resolver.resolve.forward): releases whose requirements, once read, cannot be met beside
what the search requires are left out, and a conflict found that way is explained as resolvelib would."""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib.structs import IteratorMapping

from resolver.resolve.engine import resolve
from resolver.resolve.model import Req
from resolver.resolve.provider import Found, Provider, ResolvedCandidate
from tests.test_provider import MARKERS, DictSource, req

Universe = dict[str, dict[str, list[str] | None]]

LEAF: Universe = {"leaf": {"1.0": ["base"], "1.1": ["base>=2"], "1.2": ["base>=2"]}, "base": {"1.0": [], "2.0": []}}


def _candidate(name: str, version: str) -> ResolvedCandidate:
    return ResolvedCandidate(
        found=Found(name=canonicalize_name(name), version=Version(version), handle=(name, version))
    )


def _versions(candidates: object) -> list[str]:
    assert not callable(candidates)
    return [str(c.version) for c in candidates]  # type: ignore[attr-defined]


def _find(provider: Provider, identifier: str, **requirements: list[Req]) -> object:
    """``find_matches`` as resolvelib calls it: every criterion's requirements, read afresh on each access."""
    view: IteratorMapping[list[Req], Req, str] = IteratorMapping(requirements, iter)
    return provider.find_matches(identifier, view, {identifier: iter([])})


def test_a_release_read_once_is_left_out_where_its_requirements_cannot_be_met() -> None:
    provider = Provider(source=DictSource(LEAF), markers=MARKERS)
    assert _versions(_find(provider, "leaf", base=[req("base<2")], leaf=[req("leaf")])) == ["1.2", "1.1", "1.0"]
    provider.get_dependencies(_candidate("leaf", "1.2"))  # resolvelib pinned it once, and read it
    assert _versions(_find(provider, "leaf", base=[req("base<2")], leaf=[req("leaf")])) == ["1.1", "1.0"]
    assert _versions(_find(provider, "leaf", base=[req("base")], leaf=[req("leaf")])) == ["1.2", "1.1", "1.0"]
    # Nothing requires base yet: nothing to judge by.
    assert _versions(_find(provider, "leaf", leaf=[req("leaf")])) == ["1.2", "1.1", "1.0"]


def test_a_release_that_pins_a_blocked_release_is_blocked_too() -> None:
    """Lockstep projects pin each other with ``==`` (as the opentelemetry exporters do): the check follows the
    pins, one release at each step, to the requirement that cannot be met."""
    data: Universe = {
        "exporter": {"0.9": ["grpc==0.9"], "1.0": ["grpc==1.0"]},
        "grpc": {"0.9": ["proto==0.9"], "1.0": ["proto==1.0"]},
        "proto": {"0.9": ["protobuf>=6"], "1.0": ["protobuf<5"]},
        "protobuf": {"4.25": [], "6.31": []},
    }
    provider = Provider(source=DictSource(data), markers=MARKERS)
    for name in ("exporter", "grpc", "proto"):
        provider.get_dependencies(_candidate(name, "1.0"))
    capped = _find(provider, "exporter", exporter=[req("exporter")], protobuf=[req("protobuf>=6")])
    assert _versions(capped) == ["0.9"]
    assert _versions(_find(provider, "exporter", exporter=[req("exporter")])) == ["1.0", "0.9"]


def test_a_criterion_whose_every_release_is_blocked_is_empty_yet_still_offers_them_when_walked() -> None:
    """Empty when resolvelib asks (so the release that brought the requirement is turned down at once), but a
    walk offers the blocked releases rather than none: resolvelib then turns them down itself and says why."""
    provider = Provider(source=DictSource(LEAF), markers=MARKERS)
    for version in ("1.2", "1.1"):
        provider.get_dependencies(_candidate("leaf", version))
    matches = _find(provider, "leaf", base=[req("base<2")], leaf=[req("leaf>=1.1")])
    assert not matches
    assert _versions(matches) == ["1.2", "1.1"]


def test_a_conflict_found_by_the_forward_check_is_explained_as_resolvelib_would() -> None:
    """Every top and mid release leads to a leaf that needs base>=2, which cap forbids. After the first mid, the
    forward check turns the others down without pinning a leaf; the message still names the real conflict, the
    same words as before the check existed."""
    data: Universe = {
        "top": {str(i): ["mid"] for i in range(1, 6)},
        "mid": {str(i): ["leaf>=2"] for i in range(1, 6)},
        "leaf": {"1": [], "2": ["base>=2"], "3": ["base>=2"]},
        "base": {"1": [], "2": []},
        "cap": {"1": ["base<2"]},
    }
    outcome = resolve([req("cap"), req("top", line=2)], source=DictSource(data), markers=MARKERS)
    assert outcome.conflict is not None
    assert outcome.conflict.message == (
        "no solution at the newest versions: "
        "cap 1 requires base<2, and leaf 3 requires base>=2, and leaf 2 requires base>=2"
    )


def test_a_direct_line_in_such_a_conflict_keeps_its_fix() -> None:
    data: Universe = {
        "a": {"1.0": ["b>=2"], "1.1": ["b>=2"]},
        "b": {"1.0": [], "2.0": ["c>=3"], "2.1": ["c>=3"]},
        "c": {"2.0": [], "3.0": []},
    }
    outcome = resolve([req("a"), req("c<3", line=2)], source=DictSource(data), markers=MARKERS)
    assert outcome.conflict is not None
    assert outcome.conflict.message == (
        "no solution at the newest versions: b 2.1 requires c>=3, but requirements.txt:2 asks for c<3; "
        "b 2.0 requires c>=3, but requirements.txt:2 asks for c<3"
    )
    assert outcome.conflict.fix == "change requirements.txt:2 to c>=3.0,<3.1.0"
    assert [str(r) for r in outcome.conflict.direct] == ["c<3"]
