"""The resolvelib provider: it adapts, delegates, and has no network code of its own.

Everything it knows about packages comes from a :class:`CandidateSource` (the engine passes one over the
index finder and client). Candidates are lazy: dependencies are read (metadata fetched) only when resolvelib
asks ``get_dependencies``, and the provider tells the source what it will probably ask next so the source can
fetch it in the background (project pages of new dependencies, the metadata of their newest candidate).

Extras follow resolvelib's own pattern: ``torch[opt]`` is its own identifier, whose candidate depends on
``torch==<same version>`` plus the extra's requirements, so the base and the extra can never disagree.

``get_preference`` returns this tuple, lowest first (``tests/test_provider.py`` pins each element):

1. ``not backtrack_cause``: work on what just failed first; it is where the conflict is.
2. ``not pinned``: an ``==`` requirement has one candidate; deciding it early prunes the most.
3. ``not contested``: a project whose every candidate has been turned down :data:`CONTESTED` times in this
   search (the engine's reporter counts; pip and uv promote such packages too). Decided before the rest, its
   constraints apply before other packages choose, and when it fails again the backjump lands on the release
   that brought it, not on an unrelated package pinned in between that merely shares a dependency with it.
4. ``not framework``: torch and its family constrain half an ML stack (torchvision, torchaudio, xformers,
   flash-attn all pin torch); settling them first avoids long backtracking through their dependants.
5. ``not direct``: the user's own requirements before transitive ones.
6. ``choices``: how many releases the ranges leave, counted up to :data:`CHOICES_COUNTED`: the most constrained
   first, so a requirement that cannot be met fails right after the pin that brought it (treescope, whose every
   release needs a numpy that tensorflow caps, tried right after the flax that requires it). Counting further
   would choose a file for every release of numpy-sized projects and tell the order nothing more.
7. ``not upper_bounded``: a range with an upper bound has fewer candidates than an open one.
8. the identifier, for a stable order.

``find_matches`` leaves out releases whose requirements, already read, cannot be met beside what the search
requires (:mod:`resolver.resolve.forward`): resolvelib would otherwise pin and turn them down again after
every backjump.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider

from resolver.resolve.forward import ForwardCheck
from resolver.resolve.model import Mode, Origin, Req

if TYPE_CHECKING:
    from resolvelib.providers import Preference
    from resolvelib.structs import Matches, RequirementInformation

__all__ = [
    "CHOICES_COUNTED",
    "CONTESTED",
    "FRAMEWORK",
    "CandidateSource",
    "Found",
    "LookAhead",
    "Provider",
    "ResolvedCandidate",
]

log = logging.getLogger(__name__)

#: The GPU framework family, resolved first (see the preference tuple).
FRAMEWORK: frozenset[str] = frozenset(
    {"torch", "torchvision", "torchaudio", "triton", "xformers", "flash-attn", "jax", "jaxlib", "tensorflow"}
)
#: How many times every candidate of a project must have been turned down before it is decided first: once is
#: ordinary backtracking, twice is a project the search keeps tripping over.
CONTESTED = 2
#: How far the releases a criterion leaves are counted for the preference (``choices``).
CHOICES_COUNTED = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """A release the source offers for a name: its version and an opaque handle to read its dependencies."""

    name: NormalizedName
    version: Version
    handle: object  # whatever the source needs to read this release's metadata (its best file)
    filename: str | None = None
    index_url: str | None = None
    is_wheel: bool = True


class CandidateSource(Protocol):
    """Where candidates and their dependencies come from (the index, in production)."""

    def candidates(self, name: NormalizedName, specifier: SpecifierSet, *, pinned: bool) -> Sequence[Found]:
        """Releases of ``name`` in ``specifier`` usable on the target, newest first (read from the front, or
        from the back with ``reversed``: the sequence may make its items only as they are read)."""

    def requires_dist(self, found: Found) -> tuple[str, ...] | None:
        """The release's Requires-Dist strings; ``None`` when they cannot be known without a build."""

    def prefetch(self, names: Iterable[NormalizedName]) -> None:
        """Hint: these projects will be asked for soon."""

    def prefetch_dependencies(self, found: Iterable[Found]) -> None:
        """Hint: the dependencies of these releases will be asked for soon."""

    def look_ahead(self, requirements: Iterable[Req], guide: LookAhead) -> None:
        """Hint: these requirements will be resolved; fetch ahead along the releases ``guide`` would pick."""


class LookAhead(Protocol):
    """What a source needs to fetch ahead of the resolver: the provider's choices, without its side effects."""

    def pick(self, requirement: Req, found: Sequence[Found]) -> Found | None:
        """The release the resolver would most likely pin for ``requirement`` among ``found``."""

    def requirements_of(self, requirement: Req, found: Found, requires_dist: Sequence[str]) -> list[Req]:
        """What pinning ``found`` for ``requirement`` would require on the target."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedCandidate:
    """A candidate for one identifier: a release, and the extras it stands for."""

    found: Found
    extras: frozenset[str] = frozenset()

    @property
    def name(self) -> NormalizedName:
        """The project name."""
        return self.found.name

    @property
    def version(self) -> Version:
        """The release's version."""
        return self.found.version

    @property
    def identifier(self) -> str:
        """Matches :attr:`Req.identifier`."""
        return f"{self.name}[{','.join(sorted(self.extras))}]" if self.extras else self.name

    def __str__(self) -> str:
        return f"{self.identifier} {self.version}"


@functools.lru_cache(maxsize=16384)
def _requirement(text: str) -> Requirement | None:
    """A Requires-Dist string parsed once per process (both resolutions and every candidate share them)."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


#: A Requires-Dist whose whole marker is ``extra == "<name>"``. Most of an ML set's Requires-Dist strings are
#: of this form (1,218 of 1,414 for bench/ml.txt: transformers alone lists hundreds), and a candidate that
#: stands for no extra can skip them without parsing (packaging's parser takes ~50 us a string).
_EXTRA_ONLY = re.compile(r";\s*extra\s*==\s*(?:\"[^\"]+\"|'[^']+')\s*$")  # a named extra: `extra == ""` holds

#: Marker results per target environment, shared by every provider of the process (see _marker_holds).
_MARKER_RESULTS: dict[tuple[tuple[str, str], ...], dict[tuple[str, str], bool]] = {}


@dataclass(slots=True)
class Provider(AbstractProvider[Req, ResolvedCandidate, str]):
    """resolvelib's delegate over a :class:`CandidateSource` for one target environment."""

    source: CandidateSource
    markers: Mapping[str, str]
    direct: frozenset[str] = frozenset()
    mode: Mode = Mode.HIGHEST
    constraints: Mapping[str, SpecifierSet] = field(default_factory=dict)  # -c files: limit, never request
    provided: frozenset[str] = frozenset()  # names of unchecked direct references: present, version unknown
    # In lowest mode, the identifiers offered oldest first (``None``: every direct one). Others are newest first,
    # so a line without a lower bound is not taken down to the first release ever published.
    floors: frozenset[str] | None = None
    dynamic: set[NormalizedName] = field(default_factory=set)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (candidate, Requires-Dist it could not parse)
    # resolvelib asks is_satisfied_by ~40,000 times for an ML set, about a few hundred (range, version) pairs;
    # keyed by the specifier's id, which the value keeps alive so the id cannot be reused.
    _satisfied: dict[tuple[int, Version], tuple[SpecifierSet, bool]] = field(default_factory=dict)
    _applies: dict[tuple[str, str], bool] = field(default_factory=dict)  # (Requires-Dist, extra) -> marker holds
    # How often every candidate of each project was turned down in this search (the engine's reporter counts).
    exhausted: Mapping[str, int] = field(default_factory=dict)
    # The releases each requirement set leaves, keyed by the requirements' ids (the value keeps them alive):
    # find_matches and get_preference ask about the same sets, and joining specifier sets is not free.
    _ranges: dict[tuple[int, ...], tuple[tuple[Req, ...], Sequence[Found]]] = field(default_factory=dict)
    _preferences: dict[tuple[object, ...], tuple[list[Req], tuple[bool, bool, bool, int, bool]]] = field(
        default_factory=dict
    )
    forward: ForwardCheck = field(init=False)  # what was read, and the releases it rules out
    # A version to offer first for a project (an existing lock's pin, kept while the inputs allow it); every
    # other release follows in the usual order, so a pin that no longer fits is simply passed over.
    preferred: Mapping[str, Version] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.forward = ForwardCheck(source=self.source, constraints=self.constraints, provided=self.provided)

    def identify(self, requirement_or_candidate: Req | ResolvedCandidate) -> str:
        """``name`` or ``name[extras]``."""
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, ResolvedCandidate],
        candidates: Mapping[str, Iterator[ResolvedCandidate]],
        information: Mapping[str, Iterator[RequirementInformation[Req, ResolvedCandidate]]],
        backtrack_causes: Sequence[RequirementInformation[Req, ResolvedCandidate]],
    ) -> Preference:
        """The documented preference tuple (module docstring)."""
        reqs = [info.requirement for info in information[identifier]]
        key = (identifier, *map(id, reqs))
        known = self._preferences.get(key)
        if known is None:  # resolvelib asks every round, about the same requirement sets: their part is memoised
            known = self._preferences[key] = (reqs, self._by_requirements(identifier, reqs))
        cause = any(c.requirement.identifier == identifier for c in backtrack_causes)
        contested = self.exhausted.get(identifier.split("[", 1)[0], 0) >= CONTESTED
        pinned, framework, direct, choices, upper = known[1]
        return (not cause, not pinned, not contested, not framework, not direct, choices, not upper, identifier)

    def _by_requirements(self, identifier: str, reqs: Sequence[Req]) -> tuple[bool, bool, bool, int, bool]:
        """(pinned, framework, direct, choices, upper-bounded) of the preference tuple."""
        operators = [spec.operator for req in reqs for spec in req.specifier]
        pinned = any(op in {"==", "==="} for op in operators)
        upper = any(op in {"<", "<=", "~="} for op in operators)
        framework = identifier.split("[", 1)[0] in FRAMEWORK
        # How many releases the ranges leave, up to CHOICES_COUNTED; with no requirement left (resolvelib dropped
        # those of a replaced pin) there is nothing to count.
        choices = sum(1 for _ in itertools.islice(self._in_range(reqs), CHOICES_COUNTED)) if reqs else CHOICES_COUNTED
        return pinned, framework, identifier in self.direct, choices, upper

    def _in_range(self, reqs: Sequence[Req]) -> Sequence[Found]:
        """The releases of ``reqs``' project in all their ranges and its ``-c`` constraint."""
        key = tuple(id(r) for r in reqs)
        known = self._ranges.get(key)
        if known is None:
            name = reqs[0].name
            specifier = self.constraints.get(name, SpecifierSet())
            for req in reqs:
                specifier &= req.specifier
            pinned = any(spec.operator in {"==", "==="} for spec in specifier)
            known = self._ranges[key] = (tuple(reqs), self.source.candidates(name, specifier, pinned=pinned))
        return known[1]

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[ResolvedCandidate]],
    ) -> Matches[ResolvedCandidate]:
        """Releases satisfying every requirement on ``identifier``, best first (oldest first for a direct
        requirement in lowest mode), without those the forward check rules out."""
        reqs = list(requirements[identifier])
        if not reqs:
            return []
        name = reqs[0].name
        extras = frozenset().union(*(r.extras for r in reqs))
        if name in self.provided:
            return [ResolvedCandidate(found=Found(name=name, version=Version("0"), handle=None), extras=extras)]
        bad = {c.version for c in incompatibilities[identifier]}
        found = self._in_range(reqs)
        oldest_first = self._oldest_first(identifier)

        kept = self.preferred.get(name)
        first_kept = [f for f in found if f.version == kept] if kept is not None and kept not in bad else []

        def releases() -> Iterator[ResolvedCandidate]:
            # Lazy: resolvelib reads the first candidate or few, and a source may make each only when read.
            yield from (ResolvedCandidate(found=f, extras=extras) for f in first_kept)
            for f in reversed(found) if oldest_first else found:
                if f.version not in bad and f.version != kept:
                    yield ResolvedCandidate(found=f, extras=extras)

        first = next(releases(), None)
        if first is None:
            return []
        self.source.prefetch_dependencies([first.found])
        return self.forward.candidates(identifier, releases, requirements)

    def _oldest_first(self, identifier: str) -> bool:
        return self.mode is Mode.LOWEST and identifier in (self.direct if self.floors is None else self.floors)

    def pick(self, requirement: Req, found: Sequence[Found]) -> Found | None:
        """:class:`LookAhead`: the first candidate :meth:`find_matches` would offer (no state is touched)."""
        if requirement.name in self.provided:
            return None
        kept = self.preferred.get(requirement.name)
        if kept is not None and (mine := next((f for f in found if f.version == kept), None)) is not None:
            return mine
        return next(reversed(found) if self._oldest_first(requirement.identifier) else iter(found), None)

    def requirements_of(self, requirement: Req, found: Found, requires_dist: Sequence[str]) -> list[Req]:
        """:class:`LookAhead`: what :meth:`get_dependencies` would return for ``found`` with the requirement's
        extras, without recording invalid strings or prefetching."""
        candidate = ResolvedCandidate(found=found, extras=requirement.extras)
        return self._requirements(candidate, requires_dist, invalid=None)

    def is_satisfied_by(self, requirement: Req, candidate: ResolvedCandidate) -> bool:
        """Whether the candidate's version is in the requirement's range (pre-releases allowed once chosen).

        A direct reference's stand-in (no handle) satisfies every range: its version is unknown.
        """
        if candidate.found.handle is None:
            return True
        specifier, version = requirement.specifier, candidate.version
        key = (id(specifier), version)
        known = self._satisfied.get(key)
        if known is None:
            known = self._satisfied[key] = (specifier, specifier.contains(version, prereleases=True))
        return known[1]

    def _marker_holds(self, parsed: Requirement, text: str, extra: str) -> bool:
        """The requirement's marker evaluated for the target with ``extra``, once per (text, extra) and target:
        the newest and floor resolutions (two providers) ask about the same strings."""
        if not self._applies:
            self._applies = _MARKER_RESULTS.setdefault(tuple(sorted(self.markers.items())), {})
        key = (text, extra)
        found = self._applies.get(key)
        if found is None:
            assert parsed.marker is not None
            found = self._applies[key] = parsed.marker.evaluate({**self.markers, "extra": extra})
        return found

    def get_dependencies(self, candidate: ResolvedCandidate) -> Iterable[Req]:
        """The candidate's requirements for this target; an extras candidate also requires its base."""
        if candidate.found.handle is None:
            return []
        raw = self.source.requires_dist(candidate.found)
        if raw is None:
            self.dynamic.add(candidate.name)
            raw = ()
        deps = self._requirements(candidate, raw, invalid=self.invalid)
        self.forward.learn(candidate, deps)
        self.source.look_ahead(deps, self)
        return deps

    def _requirements(
        self, candidate: ResolvedCandidate, raw: Sequence[str], *, invalid: list[tuple[str, str]] | None
    ) -> list[Req]:
        """The Requires-Dist strings that apply to the candidate on the target, as requirements; strings that
        do not parse are added to ``invalid`` (when given)."""
        parent = f"{candidate.name} {candidate.version}"
        deps: list[Req] = []
        if candidate.extras:
            deps.append(
                Req(
                    name=candidate.name,
                    specifier=SpecifierSet(f"=={candidate.version}"),
                    origin=Origin(parent=parent),
                )
            )
        extras = sorted(candidate.extras) or [""]
        for text in raw:
            if not candidate.extras and _EXTRA_ONLY.search(text):
                continue  # `...; extra == "x"` and no extra was asked for: its marker is false, whatever else
            parsed = _requirement(text)
            if parsed is None:
                if invalid is not None:
                    invalid.append((parent, text))
                continue
            if parsed.marker is not None and not any(self._marker_holds(parsed, text, e) for e in extras):
                continue
            if candidate.extras and parsed.marker is None:
                continue  # the base candidate (a dependency above) already carries unconditional requirements
            deps.append(
                Req(
                    name=canonicalize_name(parsed.name),
                    specifier=parsed.specifier,
                    extras=frozenset(parsed.extras),
                    origin=Origin(parent=parent),
                )
            )
        return deps
