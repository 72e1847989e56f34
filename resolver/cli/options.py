"""Options shared by the commands, declared once (typer needs them as parameters of each command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from resolver.core.policy import Bound
from resolver.pipeline.session import IndexOptions

__all__ = [
    "BoundOpt",
    "CacheDirOpt",
    "ConfigOpt",
    "ExtraIndexOpt",
    "FindLinksOpt",
    "IndexUrlOpt",
    "NoCacheOpt",
    "OfflineOpt",
    "Paths",
    "PlatformOpt",
    "PreOpt",
    "PythonOpt",
    "QuietOpt",
    "RefreshOpt",
    "RetriesOpt",
    "TimeoutOpt",
    "index_options",
]

Paths = Annotated[list[Path], typer.Argument(help="Requirements files (includes are followed) or pyproject.toml.")]
BoundOpt = Annotated[
    Bound | None, typer.Option("--bound", help="Upper bound for relaxed pins (default: minor, or the config's).")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Read [tool.relax-pins] from this file instead of pyproject.toml.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]
IndexUrlOpt = Annotated[str | None, typer.Option("--index-url", "-i", help="The main index (default: pip's).")]
ExtraIndexOpt = Annotated[list[str] | None, typer.Option("--extra-index-url", help="Another index to ask.")]
FindLinksOpt = Annotated[list[str] | None, typer.Option("--find-links", "-f", help="A folder or page of files.")]
PythonOpt = Annotated[str | None, typer.Option("--python", help="Target Python, e.g. 3.11 (default: this one).")]
PlatformOpt = Annotated[
    str | None, typer.Option("--platform", help="Target wheel platform tag, e.g. manylinux_2_28_x86_64.")
]
PreOpt = Annotated[bool, typer.Option("--pre", help="Allow pre-releases everywhere.")]
CacheDirOpt = Annotated[
    Path | None, typer.Option("--cache-dir", envvar="RELAX_PINS_CACHE_DIR", help="Where index answers are cached.")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="Answer from the cache only; open no connection.")]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Ignore what is cached and ask the index again.")]
CudaOpt = Annotated[
    str | None, typer.Option("--cuda", help="Target CUDA: a version (12.8), cpu, or auto (the local driver).")
]
DriverOpt = Annotated[str | None, typer.Option("--driver", help="Target NVIDIA driver version, e.g. 535.104.")]
DockerfileOpt = Annotated[
    list[Path] | None, typer.Option("--dockerfile", help="A Dockerfile: its base image is the target.")
]
TorchIndexOpt = Annotated[
    str | None,
    typer.Option(
        "--torch-index-url",
        envvar="RELAX_PINS_TORCH_INDEX",
        help="The PyTorch wheel index (<base>/whl/cu128): where the torch family is locked from and fixes point.",
    ),
]
BestOpt = Annotated[
    bool,
    typer.Option(
        "--best-across-indexes",
        help="Take each project's best version from any index (default: the first index that has it, "
        "against dependency confusion); the report says which index each version came from.",
    ),
]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for one answer.")]
RetriesOpt = Annotated[int, typer.Option("--retries", min=0, help="Retries of a failed request.")]


def index_options(
    index_url: str | None,
    extra_index_url: list[str] | None,
    find_links: list[str] | None,
    python: str | None,
    platform: str | None,
    pre: bool,
    cache: tuple[Path | None, bool, bool, bool],
    network: tuple[float, int],
    cuda_target: tuple[str | None, str | None, str | None] = (None, None, None),
    best_across_indexes: bool = False,
) -> IndexOptions:
    """The :class:`IndexOptions` for what the shared options said (grouped to keep call sites short)."""
    cache_dir, no_cache, offline, refresh = cache
    timeout, retries = network
    cuda, driver, torch_index = cuda_target
    return IndexOptions(
        index_url=index_url,
        extra_index_urls=tuple(extra_index_url or ()),
        find_links=tuple(find_links or ()),
        python=python,
        platform=platform,
        pre=pre,
        cache_dir=cache_dir,
        no_cache=no_cache,
        cuda=cuda,
        driver=driver,
        torch_index=torch_index,
        best_across_indexes=best_across_indexes,
        offline=offline,
        refresh=refresh,
        timeout=timeout,
        retries=retries,
    )
