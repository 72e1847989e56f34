"""`relax-pins lock` (PEP 751 or hashed requirements) and `relax-pins layers` (Docker install layers)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from resolver.cli.app import EXIT_FINDINGS, EXIT_OK, OutputFormat, app, guard, progress
from resolver.cli.exits import exit_code
from resolver.cli.options import (
    BoundOpt,
    CacheDirOpt,
    ConfigOpt,
    ExtraIndexOpt,
    FindLinksOpt,
    IndexUrlOpt,
    NoCacheOpt,
    OfflineOpt,
    Paths,
    PlatformOpt,
    PreOpt,
    PythonOpt,
    QuietOpt,
    RefreshOpt,
    RetriesOpt,
    TimeoutOpt,
    TorchIndexOpt,
    index_options,
)
from resolver.core.model import Finding, Severity
from resolver.errors import InputError
from resolver.fsio import read_text, write_all
from resolver.pipeline import relax as pipeline
from resolver.writers import report

if TYPE_CHECKING:
    from resolver.results import LockOutcome

# The lock and layer machinery (and their writers) is imported inside the commands that use it: the other
# commands start ~30 ms sooner without it.

__all__ = ["layers_command", "lock_command"]


class LockFormat(str, enum.Enum):
    """What the lock file is."""

    PYLOCK = "pylock"
    REQUIREMENTS = "requirements"


def _refuse_inputs(output: Path, result: pipeline.RelaxResult) -> None:
    """An output path equal to an input path would overwrite a source with generated text: refused."""
    inputs = {f.path.resolve() for f in result.files}
    if output.resolve() in inputs:
        raise InputError("is one of the input files; write the lock or layers elsewhere", path=str(output))


def _report_failure(outcome: LockOutcome, quiet: bool) -> int:
    lines = report.render_findings(outcome.findings, quiet=quiet)
    if outcome.unreachable or outcome.integrity:
        lines.append(f"relax-pins: error: {outcome.unreachable or outcome.integrity}")
    typer.echo("".join(f"{line}\n" for line in lines) + "no files changed", err=True)
    return exit_code(outcome.findings, outcome)


@app.command("lock")
def lock_command(
    paths: Paths,
    output: Annotated[Path, typer.Option("--output", "-o", help="The lock file to write.")],
    fmt: Annotated[LockFormat, typer.Option("--format", help="pylock (PEP 751) or requirements.")] = LockFormat.PYLOCK,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the lock is out of date.")] = False,
    torch_index_url: TorchIndexOpt = None,
    bound: BoundOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    index_url: IndexUrlOpt = None,
    extra_index_url: ExtraIndexOpt = None,
    find_links: FindLinksOpt = None,
    python: PythonOpt = None,
    platform: PlatformOpt = None,
    pre: PreOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    offline: OfflineOpt = False,
    refresh: RefreshOpt = False,
    timeout: TimeoutOpt = 15.0,
    retries: RetriesOpt = 4,
) -> None:
    """Lock the requirements for one target: exact versions and the sha256 of every file."""
    from resolver.lock.model import check_lock
    from resolver.pipeline.lock import LockSettings, lock_files, lock_inputs
    from resolver.writers.hashed import render_hashed
    from resolver.writers.pylock import render_pylock

    with guard():
        result = pipeline.plan_relax(pipeline.RelaxSettings(paths=tuple(paths), bound=bound, config=config))
        _refuse_inputs(output, result)
        options = index_options(
            index_url, extra_index_url, find_links, python, platform, pre,
            (cache_dir, no_cache, offline, refresh), (timeout, retries),
        )  # fmt: skip
        settings = LockSettings(torch_index_url=torch_index_url)
        existing = read_text(output).text if output.is_file() else None
        if check:
            verdict = check_lock(existing, inputs=lock_inputs(result, options, settings))
            if not quiet:
                typer.echo(f"{output}: {'up to date' if verdict.current else 'out of date: ' + (verdict.reason or '')}")
            raise typer.Exit(EXIT_OK if verdict.current else EXIT_FINDINGS)
        with progress(not quiet) as on_client:
            outcome = lock_files(result, options, settings, on_client=on_client)
        if outcome.lock is None:
            raise typer.Exit(_report_failure(outcome, quiet))
        render = render_pylock if fmt is LockFormat.PYLOCK else render_hashed
        text = render(outcome.lock, output=output.name)
        if text != existing:
            write_all([(output, text.encode(), output.read_bytes() if output.is_file() else None)])
        if not quiet:
            lines = report.render_findings(outcome.findings, quiet=quiet)
            verb = "locked" if text != existing else "unchanged:"
            lines.append(f"{verb} {len(outcome.lock.packages)} packages in {output}")
            typer.echo("".join(f"{line}\n" for line in lines), nl=False)
        code = EXIT_FINDINGS if any(f.severity is Severity.ERROR for f in outcome.findings) else EXIT_OK
    raise typer.Exit(code)


@app.command("layers")
def layers_command(
    paths: Paths,
    output: Annotated[Path, typer.Option("--output", "-o", help="The folder for the layer files.")],
    ranges: Annotated[bool, typer.Option("--ranges", help="Write relaxed ranges instead of exact pins.")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Summary format: text, json or markdown.")] = (
        OutputFormat.TEXT
    ),
    torch_index_url: TorchIndexOpt = None,
    bound: BoundOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    index_url: IndexUrlOpt = None,
    extra_index_url: ExtraIndexOpt = None,
    find_links: FindLinksOpt = None,
    python: PythonOpt = None,
    platform: PlatformOpt = None,
    pre: PreOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    offline: OfflineOpt = False,
    refresh: RefreshOpt = False,
    timeout: TimeoutOpt = 15.0,
    retries: RetriesOpt = 4,
) -> None:
    """Write grouped, ordered install layers and a Dockerfile fragment that caches the heavy ones."""
    from resolver.pipeline.lock import LockSettings, layer_files, load_groups
    from resolver.writers.dockerfile import render_dockerfile
    from resolver.writers.layers import (
        render_layer_files,
        render_range_files,
        render_summary_json,
        render_summary_markdown,
        render_summary_text,
    )

    with guard():
        result = pipeline.plan_relax(pipeline.RelaxSettings(paths=tuple(paths), bound=bound, config=config))
        _refuse_inputs(output, result)
        options = index_options(
            index_url, extra_index_url, find_links, python, platform, pre,
            (cache_dir, no_cache, offline, refresh), (timeout, retries),
        )  # fmt: skip
        groups = load_groups(config, start=result.files[0].path.parent if result.files else Path())
        settings = LockSettings(torch_index_url=torch_index_url, relaxed=ranges)
        with progress(fmt is OutputFormat.TEXT and not quiet) as on_client:
            outcome = layer_files(result, options, settings, groups=groups, on_client=on_client)
        if outcome.plan is None:
            raise typer.Exit(_report_failure(outcome.outcome, quiet))
        plan = outcome.plan
        files = render_range_files(plan) if ranges else render_layer_files(plan)
        fragment = render_dockerfile(plan, directory=str(output), ranges=ranges)
        writes = [*files, ("Dockerfile.layers", fragment)]
        output.mkdir(parents=True, exist_ok=True)
        payload = []
        for name, text in writes:
            target = output / name
            payload.append((target, text.encode(), target.read_bytes() if target.is_file() else None))
        write_all(payload)
        summary = {
            OutputFormat.JSON: render_summary_json,
            OutputFormat.MARKDOWN: render_summary_markdown,
        }.get(fmt, render_summary_text)(plan)
        findings: list[Finding] = list(outcome.outcome.findings)
        if not quiet:
            typer.echo(summary, nl=False)
            if fmt is OutputFormat.TEXT:
                typer.echo("".join(f"{line}\n" for line in report.render_findings(findings, quiet=quiet)), nl=False)
                typer.echo(f"wrote {len(writes)} files to {output}")
        code = EXIT_FINDINGS if any(f.severity is Severity.ERROR for f in findings) else EXIT_OK
    raise typer.Exit(code)
