"""Verification wired for the commands: files in, index settings and target decided, findings out.

``check_files(result, options, relaxed=...)`` takes what :func:`resolver.pipeline.relax.plan_relax` read and
verifies either the ranges as they are (``relax-pins check``) or as the relax command would write them.
An index that cannot be reached is a value here (``unreachable``), not an exception: the command still
reports every finding that did not need the index, writes nothing and exits 3.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from resolver.core.directs import index_options
from resolver.core.model import Finding, Severity
from resolver.core.reqfile import parse
from resolver.core.target import make_target
from resolver.index.cache import Cache, default_cache_dir
from resolver.index.client import IndexClient, IndexUnreachableError, IntegrityError
from resolver.index.finder import Finder
from resolver.index.settings import IndexSettings, redact, resolve_settings
from resolver.pipeline.environment import directs_of, target_facts
from resolver.resolve.source import IndexSource
from resolver.resolve.verify import verify
from resolver.results import CheckOutcome

if TYPE_CHECKING:
    from resolver.results import FileResult, RelaxResult

__all__ = [
    "CheckOutcome",
    "IndexOptions",
    "check_files",
    "exact_pin_findings",
    "index_settings",
    "open_cache",
    "open_client",
]

log = logging.getLogger(__name__)


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
    best_across_indexes: bool = False
    cuda: str | None = None  # "12.8", "cpu" or "auto"
    driver: str | None = None
    torch_index: str | None = None  # the PyTorch wheel index base, for fixes that name where to install from


def index_settings(options: IndexOptions, files: Sequence[FileResult]) -> tuple[IndexSettings, bool]:
    """The indexes to ask (flags, the files' own options, pip's configuration) and whether pre-releases count."""
    from_files = index_options([parse(f.original.text, path=f.display) for f in files if f.kind == "requirements"])
    settings = resolve_settings(
        cli_index_url=options.index_url,
        cli_extra_index_urls=options.extra_index_urls,
        cli_find_links=options.find_links,
        file_index_url=from_files.index_url,
        file_extra_index_urls=from_files.extra_index_urls,
        file_find_links=_local_links(from_files.find_links, files),
        file_no_index=from_files.no_index,
    )
    return settings, options.pre or from_files.pre


def _local_links(links: tuple[str, ...], files: Sequence[FileResult]) -> tuple[str, ...]:
    """A relative ``--find-links`` in a file is relative to that file's folder, as pip reads it."""
    base = files[0].path.parent if files else Path()
    return tuple(link if "://" in link or Path(link).is_absolute() else str(base / link) for link in links)


def open_cache(options: IndexOptions) -> Cache | None:
    """The on-disk cache the options ask for (``None`` with ``--no-cache``)."""
    return None if options.no_cache else Cache(options.cache_dir or default_cache_dir())


def open_client(settings: IndexSettings, options: IndexOptions, cache: Cache | None) -> IndexClient:
    """An index client for ``settings`` with the network options every command shares."""
    return IndexClient(
        settings,
        cache=cache,
        timeout=options.timeout,
        retries=options.retries,
        offline=options.offline,
        refresh=options.refresh,
        best_across_indexes=options.best_across_indexes,
    )


def exact_pin_findings(result: RelaxResult) -> tuple[Finding, ...]:
    """``exact-pin`` warnings for every pin the relax command would change."""
    return tuple(
        Finding(
            code="exact-pin",
            severity=Severity.WARNING,
            path=c.path,
            line=c.line,
            package=c.package,
            message=f"{c.before} is an exact pin",
            fix=f"relax it to {c.after} (run: relax-pins {c.path})",
        )
        for f in result.files
        for c in f.changes
        if "==" in c.before  # a Dockerfile word that is only quoted is a shell-redirect finding, not a pin
    )


def check_files(
    result: RelaxResult,
    options: IndexOptions,
    *,
    relaxed: bool,
    on_client: Callable[[IndexClient], None] | None = None,
) -> CheckOutcome:
    """Verify the files' requirements (as relaxed, or as they are) against the index for the target.

    ``on_client`` receives the index client once it exists, so a caller can show progress from its
    ``stats`` (the CLI does, on a terminal); this module prints nothing.
    """
    facts = target_facts(
        result,
        relaxed=relaxed,
        cuda=options.cuda,
        driver=options.driver,
        python=options.python,
        torch_index=options.torch_index,
    )
    target = make_target(options.python or facts.python, options.platform or facts.platform)
    settings, pre = index_settings(options, result.files)
    indexes = tuple(redact(u) for u in settings.urls)
    directs = directs_of(result.files, relaxed=relaxed)
    cache = open_cache(options)
    try:
        with open_client(settings, options, cache) as client:
            finder = Finder(client, target, allow_prereleases=pre)
            finder.offload_views()  # first: it forks only while this process has one thread
            if on_client is not None:
                on_client(client)
            finder.warm_up()
            source = IndexSource(finder=finder, client=client)
            verification = verify(directs, finder=finder, source=source, target=target, allow_prereleases=pre)
            finder.remember()
            stats = tuple((f.name, int(getattr(client.stats, f.name))) for f in fields(client.stats))
    except IndexUnreachableError as exc:
        return CheckOutcome(
            verification=None, target=target, indexes=indexes, findings=facts.findings, unreachable=str(exc)
        )
    except IntegrityError as exc:
        return CheckOutcome(
            verification=None, target=target, indexes=indexes, findings=facts.findings, integrity=str(exc)
        )
    return CheckOutcome(
        verification=verification,
        target=target,
        indexes=indexes,
        findings=(*facts.findings, *verification.findings),
        stats=stats,
    )
