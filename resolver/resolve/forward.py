"""Forward checking: a release whose requirements, already read, cannot be met beside what the search requires
is never offered again.

Why. resolvelib checks a release only by pinning it: it reads the release's requirements and sees whether each
still has a candidate. It remembers nothing of that across backtracking, so a chain such as "every new flax
needs a jax newer than 0.4.38; every such jax needs numpy>=1.25; tensorflow 2.13.1 caps numpy at 1.24.3" (the
``export`` extra of ultralytics' pyproject.toml) tried the same jax releases (up to twenty) again for each of
sixty flax and orbax-checkpoint releases, turning down thousands of candidates without learning anything.

What. :class:`ForwardCheck` keeps the requirements of every release the provider has read (the cache of what
failed: a release turned down once is known by its requirements, not by its verdict, so it is judged again in
each new situation) and judges a release *blocked* when one of its requirements, joined with every requirement
the search already has on that project (and any ``-c`` constraint), leaves no release on the index. That is the
test resolvelib would make by pinning it, one level deep, made before pinning and without reading anything new.
A requirement that pins one release with ``==`` is followed to that release when it was read (up to
:data:`EXACT_DEPTH` steps): lockstep projects such as the opentelemetry exporters pin each other that way, and
the release they end at may be the blocked one. :class:`Candidates` is what ``find_matches`` returns: newest
first, with blocked releases left out.

- Asked whether a criterion has any candidate (resolvelib asks when a requirement arrives and when it patches a
  state after backjumping), it answers no if every release is blocked, so the release that brought the
  requirement is turned down at once (flax 0.12.8, because no jax it accepts can be installed), instead of being
  pinned and found out one jax release later, for each jax release.
- Walked (resolvelib tries the candidates in order), it leaves blocked releases out; if all are blocked it offers
  them anyway, so resolvelib turns them down itself and a criterion never runs empty mid-round.

Correctness. A blocked release would fail resolvelib's own check in any state that holds the same requirements,
and a state only gains requirements (resolvelib drops the requirements of a pin it replaces, but keeps the
candidates computed with them: the same approximation resolvelib already makes). Nothing new is fetched: only
releases whose requirements were read are judged; the rest are offered as before.

Explaining. When a criterion is found empty this way, :meth:`ForwardCheck.explain` puts back what resolvelib would
have said had it tried each release: the release's requirement and the requirements it conflicts with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, overload

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from resolver.resolve.model import ConflictCause, Req

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

__all__ = ["Candidates", "ForwardCheck", "Release", "Releases"]


class Release(Protocol):
    """What the check needs of a candidate (the provider's ``ResolvedCandidate``)."""

    @property
    def identifier(self) -> str: ...

    @property
    def version(self) -> Version: ...


class Releases(Protocol):
    """What the check needs of the candidate source: whether a range leaves any release."""

    def candidates(self, name: NormalizedName, specifier: SpecifierSet, *, pinned: bool) -> Sequence[object]: ...


C = TypeVar("C", bound=Release)

#: How many ``==`` requirements in a row the check follows: a release that pins another (opentelemetry-exporter-otlp
#: 1.45.2 pins opentelemetry-exporter-otlp-proto-grpc 1.45.2, which pins opentelemetry-proto 1.45.2) is blocked when
#: the release it pins is, and the chain has one release at each step, so following it is cheap.
EXACT_DEPTH = 3


def _exact(specifier: SpecifierSet) -> Version | None:
    """The one version ``specifier`` pins with ``==`` (no wildcard), or ``None``."""
    if len(specifier) != 1:
        return None
    (spec,) = specifier
    if spec.operator != "==" or "*" in spec.version:
        return None
    try:
        return Version(spec.version)
    except InvalidVersion:
        return None


Blocked = tuple[ConflictCause, ...]  # why a release is blocked: what the search requires of a project, then its own


@dataclass(slots=True)
class ForwardCheck:
    """The requirements read so far, and the one-level test of a release against the search's requirements."""

    source: Releases
    constraints: Mapping[str, SpecifierSet] = field(default_factory=dict)
    provided: frozenset[str] = frozenset()
    # (identifier, version) -> its requirements on the target, as get_dependencies returned them, each with the
    # one version it pins with ``==`` (or None)
    _read: dict[tuple[str, Version], tuple[tuple[Req, Version | None], ...]] = field(default_factory=dict)
    # (name, ids of the specifier sets joined) -> (the sets, kept alive so no id is reused; any release left?)
    _left: dict[tuple[object, ...], tuple[tuple[SpecifierSet, ...], bool]] = field(default_factory=dict)
    # identifier -> ids of the requirements of a criterion found empty -> why each of its releases was blocked
    # (every Req the search meets stays alive in _read or in resolvelib's criteria, so no id is reused)
    _emptied: dict[str, dict[frozenset[int], Blocked]] = field(default_factory=dict)
    _identifiers: set[str] = field(default_factory=set)  # those with a release in _read

    def learn(self, candidate: Release, requirements: Sequence[Req]) -> None:
        """Remember what ``candidate`` requires (the provider calls this from ``get_dependencies``)."""
        self._read[(candidate.identifier, candidate.version)] = tuple((r, _exact(r.specifier)) for r in requirements)
        self._identifiers.add(candidate.identifier)

    def blocked(self, candidate: Release, requirements: Mapping[str, Iterator[Req]]) -> Blocked | None:
        """Why ``candidate`` cannot be pinned beside ``requirements`` (resolvelib's view of every criterion), or
        ``None`` when it may be (including when its requirements were never read)."""
        return self._why(candidate.identifier, candidate.version, requirements, EXACT_DEPTH)

    def _why(
        self, identifier: str, version: Version, requirements: Mapping[str, Iterator[Req]], depth: int
    ) -> Blocked | None:
        read = self._read.get((identifier, version))
        if not read:
            return None
        for dep, exact in read:
            if dep.identifier == identifier or dep.name in self.provided:
                continue  # a release that requires itself, or a direct reference (present, version unknown)
            others = list(requirements[dep.identifier]) if dep.identifier in requirements else []
            if others and not self._any_left(dep, others):
                # In the order resolvelib would list them: the requirements it had, then the one that broke it.
                had = (ConflictCause(requirement=o, parent=o.origin.parent) for o in others)
                return (*had, ConflictCause(requirement=dep, parent=f"{identifier} {version}"))  # as str(candidate)
            if exact is not None and depth > 0:
                why = self._why(dep.identifier, exact, requirements, depth - 1)
                if why is not None:
                    return why
        return None

    def _any_left(self, dep: Req, others: Sequence[Req]) -> bool:
        sets = (dep.specifier, *(o.specifier for o in others))
        key = (dep.name, *sorted(id(s) for s in sets))
        known = self._left.get(key)
        if known is None:
            joined = self.constraints.get(dep.name, SpecifierSet())
            for specifier in sets:
                joined &= specifier
            pinned = any(s.operator in {"==", "==="} for s in joined)
            known = self._left[key] = (sets, bool(self.source.candidates(dep.name, joined, pinned=pinned)))
        return known[1]

    def candidates(
        self, identifier: str, releases: Callable[[], Iterator[C]], requirements: Mapping[str, Iterator[Req]]
    ) -> Candidates[C]:
        """The candidates ``find_matches`` returns for ``identifier`` (module docstring)."""
        return Candidates(self, identifier, releases, requirements)

    def knows(self, identifier: str) -> bool:
        """Whether any release of ``identifier`` was read (if none was, none can be blocked)."""
        return identifier in self._identifiers

    def emptied(self, identifier: str, requirements: Mapping[str, Iterator[Req]], why: Blocked) -> None:
        """Remember why the criterion of ``identifier`` over ``requirements`` was found empty."""
        own = frozenset(id(r) for r in requirements[identifier])
        self._emptied.setdefault(identifier, {})[own] = why

    def explain(self, causes: Sequence[ConflictCause]) -> tuple[ConflictCause, ...]:
        """``causes`` of a ``ResolutionImpossible``, with the requirements on a project whose criteria this check
        emptied replaced by why every release was blocked: the conflict resolvelib would have reported had it tried
        them. A project is replaced only when these criteria account for all its requirements among the causes."""
        ids: dict[str, set[int]] = {}
        for cause in causes:
            ids.setdefault(cause.requirement.identifier, set()).add(id(cause.requirement))
        replaced: dict[str, list[ConflictCause]] = {}
        for identifier, wanted in ids.items():
            found = [(own, why) for own, why in self._emptied.get(identifier, {}).items() if own <= wanted]
            if found and frozenset().union(*(own for own, _ in found)) == wanted:
                replaced[identifier] = [cause for _, why in found for cause in why]
        if not replaced:
            return tuple(causes)
        kept = [c for c in causes if c.requirement.identifier not in replaced]
        for why in replaced.values():
            kept.extend(why)
        return tuple(dict.fromkeys(kept))


class Candidates(Sequence[C], Generic[C]):
    """A criterion's candidates, newest first, blocked releases left out (see the module docstring for when).

    A sequence, not an iterator factory, so that resolvelib walks it afresh each time (a factory's items are
    cached on first use, and a release read later would never be left out)."""

    __slots__ = ("_check", "_identifier", "_releases", "_requirements")

    def __init__(
        self,
        check: ForwardCheck,
        identifier: str,
        releases: Callable[[], Iterator[C]],
        requirements: Mapping[str, Iterator[Req]],
    ) -> None:
        self._check = check
        self._identifier = identifier
        self._releases = releases
        self._requirements = requirements

    def __bool__(self) -> bool:
        if not self._check.knows(self._identifier):
            return next(self._releases(), None) is not None
        why: list[ConflictCause] = []
        for candidate in self._releases():
            blocked = self._check.blocked(candidate, self._requirements)
            if blocked is None:
                return True
            why.extend(blocked)
        if why:
            self._check.emptied(self._identifier, self._requirements, tuple(dict.fromkeys(why)))
        return False

    def __iter__(self) -> Iterator[C]:
        if not self._check.knows(self._identifier):
            yield from self._releases()
            return
        held: list[C] = []
        offered = False
        for candidate in self._releases():
            if self._check.blocked(candidate, self._requirements) is None:
                offered = True
                yield candidate
            elif not offered:
                held.append(candidate)
        if not offered:
            yield from held  # every one blocked: resolvelib turns them down itself and says why

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @overload
    def __getitem__(self, index: int) -> C: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[C]: ...

    def __getitem__(self, index: int | slice) -> C | Sequence[C]:
        return list(self)[index]
