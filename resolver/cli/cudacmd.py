"""`relax-pins cuda` (ask the CUDA <-> PyTorch matrix) and `relax-pins matrix --verify` (compare it with the index)."""

from __future__ import annotations

from typing import Annotated

import typer

from resolver.cli.app import OutputFormat, app, guard, progress, say
from resolver.cli.exits import EXIT_FINDINGS, EXIT_OK
from resolver.cli.options import (
    CacheDirOpt,
    DriverOpt,
    IndexUrlOpt,
    NoCacheOpt,
    OfflineOpt,
    PythonOpt,
    RefreshOpt,
    RetriesOpt,
    TimeoutOpt,
    TorchIndexOpt,
)

# What each command needs is imported inside it: the other commands start sooner without it.

__all__ = ["cuda_command", "matrix_command"]


@app.command("cuda")
def cuda_command(
    torch: Annotated[str | None, typer.Option("--torch", help="A torch line or version, e.g. 2.7.")] = None,
    cuda: Annotated[str | None, typer.Option("--cuda", help="A CUDA version, e.g. 12.8, or cpu.")] = None,
    driver: DriverOpt = None,
    python: PythonOpt = None,
    torch_index_url: TorchIndexOpt = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.TEXT,
) -> None:
    """Which torch lines work with this CUDA, driver and Python; their variants, companions and index."""
    from resolver.cuda.matrix import load_matrix
    from resolver.cuda.query import answer_cuda_query
    from resolver.writers.cuda import render_cuda_json, render_cuda_text

    with guard():
        answer = answer_cuda_query(
            load_matrix(), torch=torch, cuda=cuda, driver=driver, python=python, torch_index=torch_index_url
        )
        say(render_cuda_json(answer) if fmt is OutputFormat.JSON else render_cuda_text(answer), nl=False)
    raise typer.Exit(EXIT_OK)


@app.command("matrix")
def matrix_command(
    verify: Annotated[bool, typer.Option("--verify", help="Compare the shipped matrix with the index.")] = False,
    lines: Annotated[
        str | None, typer.Option("--lines", help="Check only these torch lines per release, e.g. 2.14,2.15.")
    ] = None,
    index_url: IndexUrlOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    offline: OfflineOpt = False,
    refresh: RefreshOpt = False,
    timeout: TimeoutOpt = 15.0,
    retries: RetriesOpt = 4,
) -> None:
    """For maintainers: list where data/cuda_torch_matrix.yaml and the index disagree (exit 1 if anywhere)."""
    from resolver.cuda.matrix import load_matrix
    from resolver.index.cache import Cache, default_cache_dir
    from resolver.index.client import IndexClient
    from resolver.index.settings import resolve_settings
    from resolver.pipeline.matrix import verify_matrix

    with guard():
        matrix = load_matrix()
        if not verify:
            newest = matrix.newest
            say(f"the matrix knows torch {matrix.torch_lines[0].torch} to {newest.torch}; --verify compares it")
            raise typer.Exit(EXIT_OK)
        settings = resolve_settings(cli_index_url=index_url)
        cache = None if no_cache else Cache(cache_dir or default_cache_dir())
        wanted = {x.strip() for x in lines.split(",")} if lines else None
        with (
            IndexClient(
                settings, cache=cache, timeout=timeout, retries=retries, offline=offline, refresh=refresh
            ) as client,
            progress(True) as on_client,
        ):
            on_client(client)
            found = verify_matrix(matrix, client, lines=wanted)
        for item in found:
            say(str(item))
        say(f"{len(found)} difference{'s' * (len(found) != 1)} between the matrix and the index")
    raise typer.Exit(EXIT_FINDINGS if found else EXIT_OK)
