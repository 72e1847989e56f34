"""The candidate source the provider reads, over the index finder and client.

It memoises what it has asked (the resolver asks the same question many times while backtracking) and turns
the provider's hints into background fetches: project pages of new dependencies, and the metadata of the
release each one will most likely pin.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from resolver.index.simple import FileLink
from resolver.resolve.provider import Found

if TYPE_CHECKING:
    from resolver.index.client import IndexClient
    from resolver.index.finder import Candidate, Finder

__all__ = ["IndexSource"]


def _found(candidate: Candidate) -> Found:
    link = candidate.link
    return Found(
        name=candidate.name,
        version=candidate.version,
        handle=link,
        filename=link.filename,
        index_url=candidate.index_url,
        is_wheel=candidate.is_wheel,
    )


@dataclass(slots=True)
class IndexSource:
    """:class:`~resolver.resolve.provider.CandidateSource` over a finder and its client."""

    finder: Finder
    client: IndexClient
    _candidates: dict[tuple[str, str, bool], Sequence[Found]] = field(default_factory=dict)
    _requires: dict[str, tuple[str, ...] | None] = field(default_factory=dict)

    def candidates(self, name: NormalizedName, specifier: SpecifierSet, *, pinned: bool) -> Sequence[Found]:
        """Releases in range usable on the target, newest first (a yanked one only for an exact pin)."""
        key = (name, str(specifier), pinned)
        found = self._candidates.get(key)
        if found is None:
            found = self._candidates[key] = self.finder.lazy_candidates(name, specifier, allow_yanked_pin=pinned).map(
                _found
            )
        return found

    def requires_dist(self, found: Found) -> tuple[str, ...] | None:
        """Requires-Dist of the release's file, ``None`` when only a build could tell."""
        link = found.handle
        assert isinstance(link, FileLink)
        if link.url not in self._requires:
            metadata = self.client.metadata(link)
            self._requires[link.url] = None if metadata is None else tuple(metadata.requires_dist)
        return self._requires[link.url]

    def prefetch(self, names: Iterable[NormalizedName]) -> None:
        """Start reading these projects (their views, see :mod:`resolver.index.finder`)."""
        self.finder.prefetch(names)

    def prefetch_dependencies(self, found: Iterable[Found]) -> None:
        """Start fetching the metadata of these releases."""
        links = [f.handle for f in found if isinstance(f.handle, FileLink)]
        self.client.prefetch_metadata(links)
