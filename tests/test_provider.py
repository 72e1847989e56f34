"""The provider's documented preference tuple and its adaptation rules, over an in-memory candidate source."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib.structs import RequirementInformation

from resolver.resolve.engine import resolve
from resolver.resolve.model import Mode, Origin, Req
from resolver.resolve.provider import CHOICES_COUNTED, Found, LookAhead, Provider, ResolvedCandidate


@dataclass
class DictSource:
    """Releases and their Requires-Dist as plain data; records what it was asked, to check laziness."""

    data: dict[str, dict[str, list[str] | None]]
    asked_dependencies: list[str] = field(default_factory=list)
    prefetched: list[str] = field(default_factory=list)

    def candidates(self, name: NormalizedName, specifier: SpecifierSet, *, pinned: bool) -> Sequence[Found]:
        versions = sorted((Version(v) for v in self.data.get(name, {})), reverse=True)
        return [Found(name=name, version=v, handle=(name, str(v))) for v in versions if specifier.contains(v)]

    def requires_dist(self, found: Found) -> tuple[str, ...] | None:
        self.asked_dependencies.append(f"{found.name} {found.version}")
        deps = self.data[found.name][str(found.version)]
        return None if deps is None else tuple(deps)

    def prefetch(self, names: Iterable[NormalizedName]) -> None:
        self.prefetched.extend(names)

    def prefetch_dependencies(self, found: Iterable[Found]) -> None:
        pass

    def look_ahead(self, requirements: Iterable[Req], guide: LookAhead) -> None:
        self.prefetch(r.name for r in requirements)


def req(text: str, path: str = "requirements.txt", line: int = 1) -> Req:
    from packaging.requirements import Requirement

    parsed = Requirement(text)
    return Req(
        name=canonicalize_name(parsed.name),
        specifier=parsed.specifier,
        extras=frozenset(parsed.extras),
        origin=Origin(path=path, line=line),
    )


MARKERS = {"python_version": "3.11", "sys_platform": "linux", "platform_system": "Linux"}


def preference(provider: Provider, identifier: str, *reqs: Req, cause: bool = False) -> tuple[object, ...]:
    info = {identifier: iter([RequirementInformation(r, None) for r in reqs])}
    causes = [RequirementInformation(reqs[0], None)] if cause else []
    result = provider.get_preference(identifier, {}, {}, info, causes)
    assert isinstance(result, tuple)
    return result


def test_preference_tuple_elements() -> None:
    source = DictSource({"numpy": {v: [] for v in ("1.26.4", "2.0.0", "2.2.6")}, "requests": {"2.32.3": []}})
    provider = Provider(source=source, markers=MARKERS, direct=frozenset({"numpy", "torch"}), exhausted={"six": 2})
    assert preference(provider, "numpy", req("numpy>=1.26")) == (True, True, True, True, False, 3, True, "numpy")
    assert preference(provider, "numpy", req("numpy>=1"), cause=True)[0] is False  # backtrack cause first
    assert preference(provider, "numpy", req("numpy==1.26.4"))[1] is False  # pinned first
    assert preference(provider, "six", req("six>=1"))[2] is False  # every candidate turned down twice: first
    assert preference(provider, "requests", req("requests>=2"))[2] is True
    assert preference(provider, "torch", req("torch>=2.7"))[3] is False  # the framework first
    assert preference(provider, "requests", req("requests>=2"))[4] is True  # transitive after direct
    assert preference(provider, "numpy", req("numpy>=2"))[5] == 2  # fewest releases left first
    assert preference(provider, "requests", req("requests>=2"))[5] == 1
    assert preference(provider, "numpy", req("numpy<2"))[6] is False  # upper-bounded first


def test_choices_are_counted_only_as_far_as_they_can_matter() -> None:
    versions = [f"1.{i}" for i in range(CHOICES_COUNTED + 5)]
    provider = Provider(source=DictSource({"many": {v: [] for v in versions}}), markers=MARKERS)
    assert preference(provider, "many", req("many>=1"))[5] == CHOICES_COUNTED
    assert preference(provider, "many", req("many>=1.12"))[5] == 3
    assert preference(provider, "absent", req("absent>=1"))[5] == 0  # nothing to choose: fails at once


def test_preferences_sort_torch_before_the_rest() -> None:
    provider = Provider(source=DictSource({}), markers=MARKERS, direct=frozenset({"numpy", "torch", "fastapi"}))
    order = sorted(
        ["fastapi", "numpy", "torch"],
        key=lambda name: preference(provider, name, req(f"{name}>=1")),
    )
    assert order == ["torch", "fastapi", "numpy"]


def test_extras_resolve_through_their_base_and_markers_apply() -> None:
    source = DictSource(
        {
            "transformers": {"4.36.2": ["numpy", "torch>=1.10; extra == 'torch'", "pywin; sys_platform == 'win32'"]},
            "torch": {"2.7.1": ["numpy"]},
            "numpy": {"1.26.4": [], "2.0.0": []},
            "pywin": {"1.0": []},
        }
    )
    outcome = resolve([req("transformers[torch]>=4.36")], source=source, markers=MARKERS)
    assert outcome.resolution is not None
    pins = {p.name: str(p.version) for p in outcome.resolution.pins}
    assert pins == {"transformers": "4.36.2", "torch": "2.7.1", "numpy": "2.0.0"}
    torch = next(p for p in outcome.resolution.pins if p.name == "torch")
    assert torch.required_by == ("transformers",)


def test_requirements_of_an_extra_apply_only_when_it_is_asked_for() -> None:
    source = DictSource(
        {
            "app": {"1.0": ["dev-tool; extra == 'dev'", 'docs-tool ; extra=="docs"', 'always; extra == ""']},
            "dev-tool": {"1.0": []},
            "docs-tool": {"1.0": []},
            "always": {"1.0": []},
        }
    )
    plain = resolve([req("app")], source=source, markers=MARKERS)
    assert plain.resolution is not None
    assert {p.name for p in plain.resolution.pins} == {"app", "always"}  # `extra == ""` holds without extras
    dev = resolve([req("app[dev]")], source=source, markers=MARKERS)
    assert dev.resolution is not None
    assert {p.name for p in dev.resolution.pins} == {"app", "always", "dev-tool"}


def test_lowest_mode_takes_direct_floors_and_newest_transitives() -> None:
    source = DictSource({"app": {"1.0": ["lib>=1"], "1.5": ["lib>=1"]}, "lib": {"1.0": [], "2.0": []}})
    outcome = resolve([req("app>=1.0,<2")], source=source, markers=MARKERS, mode=Mode.LOWEST)
    assert outcome.resolution is not None
    assert {p.name: str(p.version) for p in outcome.resolution.pins} == {"app": "1.0", "lib": "2.0"}


def test_conflict_names_file_and_line_and_proposes_a_fix() -> None:
    source = DictSource({"torch": {"2.0.1": [], "2.1.0": []}, "torchvision": {"0.16.0": ["torch==2.1.0"]}})
    outcome = resolve(
        [req("torch>=2.0.1,<2.1.0", line=3), req("torchvision==0.16.0", line=4)], source=source, markers=MARKERS
    )
    assert outcome.resolution is None
    assert outcome.conflict is not None
    assert (
        "torchvision 0.16.0 requires torch==2.1.0, but requirements.txt:3 asks for torch<2.1.0,>=2.0.1"
        in outcome.conflict.message
    )
    assert outcome.conflict.fix == "change requirements.txt:3 to torch>=2.1.0,<2.2.0"


def test_dependencies_are_read_only_when_asked_and_dynamic_is_recorded() -> None:
    source = DictSource({"a": {"1.0": ["b"], "0.9": ["c"]}, "b": {"1.0": None}, "c": {"1.0": []}})
    outcome = resolve([req("a")], source=source, markers=MARKERS)
    assert outcome.resolution is not None
    assert source.asked_dependencies == ["a 1.0", "b 1.0"]  # a 0.9 and c were never needed
    assert outcome.resolution.dynamic == ("b",)
    assert "b" in source.prefetched


def test_provided_names_satisfy_any_requirement() -> None:
    source = DictSource({"app": {"1.0": ["mylib>=3"]}})
    provider_outcome = resolve([req("app")], source=source, markers=MARKERS, provided=frozenset({"mylib"}))
    assert provider_outcome.resolution is not None
    assert [p.name for p in provider_outcome.resolution.pins] == ["app"]


def test_is_satisfied_by_allows_a_chosen_prerelease() -> None:
    provider = Provider(source=DictSource({}), markers=MARKERS)
    cand = ResolvedCandidate(found=Found(name=canonicalize_name("x"), version=Version("2.0rc1"), handle=1))
    assert provider.is_satisfied_by(req("x>=1"), cand)
    assert not provider.is_satisfied_by(req("x<2"), cand)


# -- the look-ahead guide: the provider's choices without its side effects -----------------------------------


def test_pick_is_what_find_matches_offers_first() -> None:
    source = DictSource({"app": {"1.0": [], "1.5": [], "2.0": []}})
    found = source.candidates(canonicalize_name("app"), SpecifierSet(">=1"), pinned=False)
    newest = Provider(source=source, markers=MARKERS, direct=frozenset({"app"}))
    lowest = Provider(source=source, markers=MARKERS, direct=frozenset({"app"}), mode=Mode.LOWEST)
    transitive = Provider(source=source, markers=MARKERS, mode=Mode.LOWEST)
    for provider in (newest, lowest, transitive):
        matches = provider.find_matches("app", {"app": iter([req("app>=1")])}, {"app": iter([])})
        first = next(iter(matches() if callable(matches) else matches))
        picked = provider.pick(req("app>=1"), found)
        assert picked is not None and picked.version == first.version
    assert [str(p.pick(req("app>=1"), found).version) for p in (newest, lowest, transitive)] == ["2.0", "1.0", "2.0"]  # type: ignore[union-attr]
    assert newest.pick(req("app>=1"), []) is None
    provided = Provider(source=source, markers=MARKERS, provided=frozenset({"app"}))
    assert provided.pick(req("app>=1"), found) is None  # a direct reference: nothing to fetch


def test_requirements_of_applies_markers_and_extras_and_records_nothing() -> None:
    source = DictSource({})
    provider = Provider(source=source, markers=MARKERS)
    raw = ["numpy>=1.26", 'pywin32; sys_platform == "win32"', 'accelerate>=0.26; extra == "torch"', "not a req!!"]
    found = Found(name=canonicalize_name("transformers"), version=Version("4.37.2"), handle=("transformers", "4.37.2"))
    plain = provider.requirements_of(req("transformers"), found, raw)
    assert [str(r) for r in plain] == ["numpy>=1.26"]
    extra = provider.requirements_of(req("transformers[torch]"), found, raw)
    assert [str(r) for r in extra] == ["transformers==4.37.2", "accelerate>=0.26"]
    assert provider.invalid == [] and provider.dynamic == set() and source.asked_dependencies == []


def test_a_lower_bound_conflict_never_offers_a_floor_below_the_line_own() -> None:
    """torch>=2.7.1 beside a torchvision that needs torch 2.6.0: "raise the lower bound to torch>=2.6.0" would
    move the floor down, which clears nothing; no fix is offered for that line (the message still says why)."""
    source = DictSource({"torch": {"2.6.0": [], "2.7.1": []}, "torchvision": {"0.21.0": ["torch==2.6.0"]}})
    reqs = [req("torch>=2.7.1", line=1), req("torchvision==0.21.0", line=2)]
    outcome = resolve(reqs, source=source, markers=MARKERS, mode=Mode.LOWEST)
    assert outcome.conflict is not None
    assert "torchvision 0.21.0 requires torch==2.6.0" in outcome.conflict.message
    assert outcome.conflict.fix is None and outcome.conflict.edits == ()
