"""``resolve(requirements, source, markers, mode)``: one resolution, or a conflict explained.

resolvelib's exceptions never leave this module: a set without a solution comes back as a
:class:`~resolver.resolve.model.Conflict` value whose message names every requirement involved with its file
and line, and whose ``fix`` proposes ranges that would resolve it where the source can tell.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version
from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from resolver.resolve.model import Conflict, ConflictCause, Mode, Pin, Req, Resolution
from resolver.resolve.provider import CandidateSource, Provider, ResolvedCandidate

__all__ = ["MAX_REJECTIONS", "MAX_ROUNDS", "Outcome", "look_ahead", "resolve"]

#: resolvelib's round limit: enough for torch-scale sets, small enough to fail in seconds, not hours.
MAX_ROUNDS = 20_000
#: How many candidates one search may turn down before it gives up (``resolution-too-complex``). Every
#: resolution of the truth corpus's real files now finishes within 387 (Langchain-Chatchat's, which has no
#: solution). Before the forward check and the preferences for contested and narrow projects (provider.py), five
#: of them ran out here: h2ogpt's, text-generation-inference's (two), InvokeAI's, and ultralytics' ``export``
#: extra, which backtracked through every jax release for over ten CPU minutes unbounded and now needs 239.
MAX_REJECTIONS = 3_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """A resolution, or the conflict that prevents one; ``invalid`` lists unreadable Requires-Dist."""

    resolution: Resolution | None
    conflict: Conflict | None
    invalid: tuple[tuple[str, str], ...] = ()


class _OutOfBudget(Exception):
    """Raised from the reporter when a search has turned down more candidates than it may."""


class _Tally(BaseReporter):  # type: ignore[type-arg]
    """Counts rounds and the candidates resolvelib rejects, per project: what a search that gives up was stuck
    on. With ``limit``, rejecting one more candidate than that stops the search (:class:`_OutOfBudget`).
    ``exhausted`` counts, per project, the rounds in which every candidate tried was turned down and the search
    had to backjump: the provider decides a project that keeps running out first (its preference tuple)."""

    def __init__(self, limit: int | None = None) -> None:
        self.rejected: Counter[str] = Counter()
        self.exhausted: Counter[str] = Counter()
        self.rounds = 0
        self._limit = limit
        self._turned_down: set[str] = set()

    def starting_round(self, index: int) -> None:
        self.rounds = index + 1
        self._turned_down.clear()

    def rejecting_candidate(self, criterion: object, candidate: ResolvedCandidate) -> None:
        self.rejected[candidate.name] += 1
        self._turned_down.add(candidate.name)
        if self._limit is not None and self.rejected.total() > self._limit:
            raise _OutOfBudget

    def resolving_conflicts(self, causes: object) -> None:
        self.exhausted.update(self._turned_down)


def look_ahead(requirements: Sequence[Req], *, source: CandidateSource, markers: Mapping[str, str]) -> None:
    """Start fetching what resolving ``requirements`` at their newest will read (the source walks ahead in
    the background; see :mod:`resolver.resolve.source`), so the resolution that follows waits less."""
    source.look_ahead(requirements, Provider(source=source, markers=markers))


def resolve(
    requirements: Sequence[Req],
    *,
    source: CandidateSource,
    markers: Mapping[str, str],
    mode: Mode = Mode.HIGHEST,
    constraints: Mapping[str, SpecifierSet] | None = None,
    provided: frozenset[str] = frozenset(),
    floors: frozenset[str] | None = None,
    max_rounds: int | None = None,
    max_rejections: int | None = None,
    preferred: Mapping[str, Version] | None = None,
) -> Outcome:
    """Resolve ``requirements`` for the target described by ``markers``, within ``constraints``. In lowest mode,
    ``floors`` are the identifiers tried oldest first (default: every direct one; see :class:`Provider`).
    ``max_rounds`` (default :data:`MAX_ROUNDS`) bounds the search, and ``max_rejections`` (default
    :data:`MAX_REJECTIONS`) the candidates it may turn down (each can cost a metadata request; a round can turn
    down many); running out of either is a ``gave_up`` conflict. ``preferred`` (normalized name -> version) is
    offered first for each project (a lock's pins, kept while they fit)."""
    direct = frozenset(r.identifier for r in requirements)
    tally = _Tally(MAX_REJECTIONS if max_rejections is None else max_rejections)
    provider = Provider(
        source=source,
        markers=markers,
        direct=direct,
        mode=mode,
        constraints=constraints or {},
        provided=provided,
        floors=floors,
        exhausted=tally.exhausted,
        preferred=preferred or {},
    )
    source.look_ahead(requirements, provider)
    resolver: Resolver[Req, ResolvedCandidate, str] = Resolver(provider, tally)
    try:
        rounds = MAX_ROUNDS if max_rounds is None else max_rounds
        result = resolver.resolve(requirements, max_rounds=rounds)
    except ResolutionImpossible as exc:
        causes = provider.forward.explain(
            [
                ConflictCause(requirement=info.requirement, parent=str(info.parent) if info.parent else None)
                for info in exc.causes
            ]
        )
        return Outcome(resolution=None, conflict=explain(causes, mode, source), invalid=tuple(provider.invalid))
    except (ResolutionTooDeep, _OutOfBudget):
        stuck = ", ".join(f"{name} ({count} candidates rejected)" for name, count in tally.rejected.most_common(3))
        conflict = Conflict(
            mode=mode,
            causes=(),
            message=f"gave up after {tally.rounds} rounds of backtracking without deciding whether the set "
            "resolves" + (f"; it was stuck on {stuck}" if stuck else ""),
            fix="narrow the ranges of the packages it was stuck on, then check again",
            direct=tuple(requirements),
            gave_up=True,
        )
        return Outcome(resolution=None, conflict=conflict, invalid=tuple(provider.invalid))
    required_by: dict[str, list[str]] = defaultdict(list)
    for key in result.mapping:
        for parent in result.graph.iter_parents(key):
            if parent is not None:
                required_by[key.split("[", 1)[0]].append(parent.split("[", 1)[0])
    pins = []
    for key, cand in sorted(result.mapping.items()):
        if cand.extras or cand.found.handle is None:
            continue  # the base identifier carries the pin; a direct reference has no pin
        pins.append(
            Pin(
                name=cand.name,
                version=cand.version,
                filename=cand.found.filename,
                index_url=cand.found.index_url,
                is_wheel=cand.found.is_wheel,
                required_by=tuple(sorted(set(required_by.get(key, ())))),
            )
        )
    resolution = Resolution(mode=mode, pins=tuple(pins), dynamic=tuple(sorted(provider.dynamic)))
    return Outcome(resolution=resolution, conflict=None, invalid=tuple(provider.invalid))


def _asked(cause: ConflictCause, mode: Mode) -> str:
    req = cause.requirement
    spec = str(req.specifier) or " (any version)"
    if cause.parent:
        return f"{cause.parent} requires {req.identifier}{spec}"
    if mode is Mode.LOWEST:
        return f"{req.origin} has its lower bound at {req.identifier}{spec}"
    return f"{req.origin} asks for {req.identifier}{spec}"


def explain(causes: Sequence[ConflictCause], mode: Mode, source: CandidateSource) -> Conflict:
    """A message a person can act on, and a fix where one can be found."""
    by_name: dict[str, list[ConflictCause]] = defaultdict(list)
    for cause in causes:
        by_name[cause.requirement.name].append(cause)
    sentences: list[str] = []
    fixes: list[tuple[Req, str]] = []
    for name, group in by_name.items():
        direct = [c for c in group if c.parent is None]
        transitive = [c for c in group if c.parent is not None]
        if direct and transitive:
            sentences.extend(f"{_asked(t, mode)}, but {_asked(direct[0], mode)}" for t in transitive)
            fixes.extend(_fix_for(direct[0], transitive, source, mode))
        elif len(group) > 1:
            sentences.append(", and ".join(_asked(c, mode) for c in group))
        else:
            sentences.append(f"no release of {name} satisfies what {_asked(group[0], mode)}")
    direct_reqs = tuple(c.requirement for c in causes if c.parent is None)
    label = "at the lower bounds" if mode is Mode.LOWEST else "at the newest versions"
    return Conflict(
        mode=mode,
        causes=tuple(causes),
        message=f"no solution {label}: " + "; ".join(dict.fromkeys(sentences)),
        fix="; or ".join(dict.fromkeys(text for _, text in fixes)) or None,
        direct=direct_reqs,
        edits=tuple(dict.fromkeys(fixes)),
    )


def _fix_for(
    direct: ConflictCause, transitive: Sequence[ConflictCause], source: CandidateSource, mode: Mode
) -> list[tuple[Req, str]]:
    """A range for the direct requirement that every transitive requirement accepts and the index has, as the
    rewritten requirement and in words. At the lower bounds, only a floor above the line's own is offered:
    lowering a floor would not clear a lower-bound conflict."""
    combined = SpecifierSet()
    for cause in transitive:
        combined &= cause.requirement.specifier
    req = direct.requirement
    found = source.candidates(req.name, combined, pinned=False)
    newest = next(iter(found), None)
    if newest is None:
        return []
    where = req.origin
    if mode is Mode.LOWEST:
        oldest = next(reversed(found)).version
        floors = [
            Version(s.version) for s in req.specifier if s.operator in {">=", ">", "==", "~="} and "*" not in s.version
        ]
        if floors and oldest <= max(floors):
            return []
        spec = req.specifier & SpecifierSet(f">={oldest}")
        return [(_with(req, spec), f"raise the lower bound at {where} to {req.identifier}>={oldest}")]
    best = newest.version
    release = (*best.release, 0)
    upper = f"{release[0]}.{release[1] + 1}.0"
    spec = SpecifierSet(f">={best.base_version},<{upper}")
    return [(_with(req, spec), f"change {where} to {req.identifier}>={best.base_version},<{upper}")]


def _with(req: Req, specifier: SpecifierSet) -> Req:
    return Req(name=req.name, specifier=specifier, extras=req.extras, origin=req.origin)
