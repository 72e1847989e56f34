"""The candidate source the provider reads, over the index finder and client.

It memoises what it has asked (the resolver asks the same question many times while backtracking) and turns
the provider's hints into background fetches: project pages of new dependencies, and the metadata of the
release each one will most likely pin.

Looking ahead. The resolver meets a project only when it pins something that requires it, so left alone it
waits for one page and one metadata file per level of the dependency tree, in turn (a cold ML set: ~30 such
waits in a row). :meth:`IndexSource.look_ahead` walks the tree in the background instead, as far as it can see:
when a requirement's view arrives it asks for the metadata of the release the provider would pick, and when
that arrives it walks that release's requirements. Each requirement identifier is walked once, for the first
requirement met (a direct one before the transitive ones: its range is the one the resolver honours), and
nothing waits for the walk: it is chained on the futures' callbacks, so it holds no thread while a fetch is in
flight, and a wrong guess (the resolver later picks another release) costs fetches, never correctness.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from resolver.index.simple import FileLink
from resolver.resolve.provider import Found

if TYPE_CHECKING:
    from concurrent.futures import Future

    from resolver.index.client import IndexClient
    from resolver.index.finder import Candidate, Finder
    from resolver.index.metadata import CoreMetadata
    from resolver.resolve.model import Req
    from resolver.resolve.provider import LookAhead

log = logging.getLogger(__name__)

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
    walk: bool | None = None  # look ahead past the first views: None = when the client offloads page work
    _walked: set[str] = field(default_factory=set)  # the requirement identifiers the look-ahead reached
    _walk_lock: threading.Lock = field(default_factory=threading.Lock)

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

    def look_ahead(self, requirements: Iterable[Req], guide: LookAhead) -> None:
        """Walk ahead of the resolver from these requirements (module docstring), when pages are decoded in
        worker processes; otherwise only start reading their views. Decoding the walk's pages in this
        process competes with the resolution for the one interpreter lock: measured on a cold ml.txt, the
        walk made an in-process check slower (1.92 s against 1.6 s), and with workers faster."""
        if not (self.client.offloading if self.walk is None else self.walk):
            self.prefetch(r.name for r in requirements)
            return
        for requirement in requirements:
            self._walk(requirement, guide)

    def _walk(self, requirement: Req, guide: LookAhead) -> None:
        with self._walk_lock:
            if requirement.identifier in self._walked:
                return  # the first requirement met for a project (a direct one, first) is the better guess
            self._walked.add(requirement.identifier)
        future = self.finder.prefetch_one(requirement.name)
        if future is not None:
            future.add_done_callback(partial(self._on_view, requirement, guide))

    def _on_view(self, requirement: Req, guide: LookAhead, view: Future[bytes]) -> None:
        if view.exception() is not None:
            return  # the resolver asks again and reports it
        try:
            pinned = any(spec.operator in {"==", "==="} for spec in requirement.specifier)
            found = guide.pick(requirement, self.candidates(requirement.name, requirement.specifier, pinned=pinned))
            if found is None or not isinstance(found.handle, FileLink):
                return
            future = self.client.prefetch_one_metadata(found.handle)
        except Exception:
            log.debug("look-ahead stopped at %s", requirement, exc_info=True)
            return
        if future is not None:
            future.add_done_callback(partial(self._on_metadata, requirement, found, guide))

    def _on_metadata(
        self, requirement: Req, found: Found, guide: LookAhead, metadata: Future[CoreMetadata | None]
    ) -> None:
        if metadata.exception() is not None or metadata.result() is None:
            return
        try:
            result = metadata.result()
            assert result is not None
            self.look_ahead(guide.requirements_of(requirement, found, tuple(result.requires_dist)), guide)
        except Exception:
            log.debug("look-ahead stopped after %s", found, exc_info=True)
