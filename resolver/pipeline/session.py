"""The index session every verifying command opens: the options that reach the index, the indexes a run
asks (flags, the files' own ``--index-url``/``--extra-index-url``/``--find-links``, pip's configuration),
the on-disk cache and the client.

Cost: nothing until :func:`open_client` is entered; the client loads httpx with its first request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from resolver.core.directs import index_options
from resolver.index.cache import Cache, default_cache_dir
from resolver.index.client import IndexClient
from resolver.index.settings import IndexSettings, resolve_settings
from resolver.pipeline.inputs import requirements_model

if TYPE_CHECKING:
    from resolver.docker.indexes import DockerIndexes
    from resolver.results import FileResult

__all__ = ["IndexOptions", "first_index", "index_settings", "open_cache", "open_client"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexOptions:
    """How to reach the index and what to verify for: the options every verifying command shares."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    python: str | None = None
    platform: str | None = None
    pre: bool = False
    cache_dir: Path | None = None
    no_cache: bool = False
    offline: bool = False
    refresh: bool = False
    timeout: float = 15.0
    retries: int = 4
    best_across_indexes: bool = True  # as pip: every index's versions merged (False: the first index, as uv)
    cuda: str | None = None  # "12.8", "cpu" or "auto"
    driver: str | None = None
    torch_index: str | None = None  # the PyTorch wheel index base, for fixes that name where to install from
    extras: tuple[str, ...] | None = None  # the optional sets of pyproject files to check (None: all)


def index_settings(
    options: IndexOptions, files: Sequence[FileResult], dockers: Sequence[DockerIndexes] = ()
) -> tuple[IndexSettings, bool]:
    """The indexes to ask (flags, the files' own options, the Dockerfiles' ENV and RUN options, pip's
    configuration) and whether pre-releases count. A Dockerfile's main index comes before a requirements
    file's: its ENV and RUN options are what pip is given when it installs that file in the image. When
    every install of the Dockerfiles is ``uv pip install``, the indexes are asked in uv's order (extras
    first; with :func:`first_index`, the first that has a project serves it)."""
    from_files = index_options(
        [requirements_model(f.original.text, f.display) for f in files if f.kind == "requirements"]
    )
    docker_main = next((d.index_url for d in dockers if d.index_url), None)
    settings = resolve_settings(
        cli_index_url=options.index_url,
        cli_extra_index_urls=options.extra_index_urls,
        cli_find_links=options.find_links,
        file_index_url=docker_main or from_files.index_url,
        file_extra_index_urls=(
            *(u for d in dockers for u in d.extra_index_urls),
            *((from_files.index_url,) if docker_main and from_files.index_url else ()),
            *from_files.extra_index_urls,
        ),
        file_find_links=(*(u for d in dockers for u in d.find_links), *_local_links(from_files.find_links, files)),
        file_no_index=from_files.no_index,
    )
    if dockers and all(d.uv for d in dockers):
        settings = replace(settings, extras_first=True)
    return settings, options.pre or from_files.pre or any(d.pre for d in dockers)


def first_index(settings: IndexSettings, options: IndexOptions) -> bool:
    """Whether a project is taken from the first index that has it (uv's strategy, or ``--first-index``)
    instead of the best version across all of them (pip's)."""
    return settings.extras_first or not options.best_across_indexes


def _local_links(links: tuple[str, ...], files: Sequence[FileResult]) -> tuple[str, ...]:
    """A relative ``--find-links`` in a file is relative to that file's folder, as pip reads it."""
    base = files[0].path.parent if files else Path()
    return tuple(link if "://" in link or Path(link).is_absolute() else str(base / link) for link in links)


def open_cache(options: IndexOptions) -> Cache | None:
    """The on-disk cache the options ask for (``None`` with ``--no-cache``)."""
    return None if options.no_cache else Cache(options.cache_dir or default_cache_dir())


def open_client(
    settings: IndexSettings, options: IndexOptions, cache: Cache | None, *, partial: bool = False
) -> IndexClient:
    """An index client for ``settings`` with the network options every command shares. ``partial``: an extra
    index or find-links page that cannot be reached is read without (the check; a lock never is)."""
    return IndexClient(
        settings,
        cache=cache,
        timeout=options.timeout,
        retries=options.retries,
        offline=options.offline,
        refresh=options.refresh,
        best_across_indexes=not first_index(settings, options),
        partial=partial,
    )
