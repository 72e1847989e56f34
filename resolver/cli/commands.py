"""`relax-pins PATH...` (relax, verifying before it writes) and `relax-pins check` (verify, write nothing)."""

from __future__ import annotations

from typing import Annotated

import typer

from resolver.cli.app import EXIT_OK, OutputFormat, app, color, emit, exit_code, guard, progress
from resolver.cli.exits import stopped
from resolver.cli.options import (
    BestOpt,
    BoundOpt,
    CacheDirOpt,
    ConfigOpt,
    CudaOpt,
    DockerfileOpt,
    DriverOpt,
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
from resolver.core.model import Severity
from resolver.pipeline import relax as pipeline
from resolver.pipeline.check import check_files, exact_pin_findings
from resolver.writers import report
from resolver.writers.github import render_github
from resolver.writers.markdown import render_markdown

__all__ = ["check_command", "relax_command"]


@app.command("relax")
def relax_command(
    paths: Paths,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff; write nothing.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if any file would change (for CI and pre-commit).")
    ] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Write without checking the index first.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write even when verification finds errors.")] = False,
    allow_outside_links: Annotated[
        bool, typer.Option("--allow-outside-links", help="Write through symlinks that leave the repository.")
    ] = False,
    bound: BoundOpt = None,
    config: ConfigOpt = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Report format.")] = OutputFormat.TEXT,
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
    cuda: CudaOpt = None,
    driver: DriverOpt = None,
    dockerfile: DockerfileOpt = None,
    torch_index_url: TorchIndexOpt = None,
    best_across_indexes: BestOpt = False,
) -> None:
    """Relax exact pins in place, after checking the ranges against the index (`relax-pins PATH...`)."""
    with guard():
        result = pipeline.plan_relax(
            pipeline.RelaxSettings(paths=(*paths, *(dockerfile or ())), bound=bound, config=config)
        )
        write = not (diff or check)
        outcome = None
        if write and not no_verify and result.changed_files:
            options = index_options(
                index_url,
                extra_index_url,
                find_links,
                python,
                platform,
                pre,
                (cache_dir, no_cache, offline, refresh),
                (timeout, retries),
                (cuda, driver, torch_index_url),
                best_across_indexes,
            )
            with progress(fmt is OutputFormat.TEXT and not quiet) as on_client:
                outcome = check_files(result, options, relaxed=True, on_client=on_client)
        findings = [*result.findings, *(outcome.findings if outcome else ())]
        blocked = outcome is not None and (
            stopped(outcome) is not None or (not force and any(f.severity is Severity.ERROR for f in findings))
        )
        if write and not blocked:
            pipeline.apply(result, allow_outside_links=allow_outside_links)
        pending = bool(result.changed_files) and check
        code = exit_code(findings, outcome, pending=pending)
        wrote = write and not blocked
        emit(
            fmt,
            (report.render_diff(result) + "".join(f"{x}\n" for x in report.render_findings(findings, quiet=quiet)))
            if diff
            else report.render_text(result, wrote=wrote, quiet=quiet, findings=findings, check=outcome, color=color()),
            report.render_json(result, ok=code == EXIT_OK, findings=findings, check=outcome),
            render_github(findings),
            render_markdown(findings, outcome),
        )
        if blocked and not quiet and fmt is OutputFormat.TEXT and outcome and stopped(outcome) is None:
            typer.echo("no files changed: verification found errors (--force writes anyway)", err=True)
    raise typer.Exit(code)


@app.command("check")
def check_command(
    paths: Paths,
    bound: BoundOpt = None,
    config: ConfigOpt = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Report format.")] = OutputFormat.TEXT,
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
    cuda: CudaOpt = None,
    driver: DriverOpt = None,
    dockerfile: DockerfileOpt = None,
    torch_index_url: TorchIndexOpt = None,
    best_across_indexes: BestOpt = False,
) -> None:
    """Verify the ranges against the index and report; write nothing."""
    with guard():
        result = pipeline.plan_relax(
            pipeline.RelaxSettings(paths=(*paths, *(dockerfile or ())), bound=bound, config=config)
        )
        options = index_options(
            index_url,
            extra_index_url,
            find_links,
            python,
            platform,
            pre,
            (cache_dir, no_cache, offline, refresh),
            (timeout, retries),
            (cuda, driver, torch_index_url),
            best_across_indexes,
        )
        with progress(fmt is OutputFormat.TEXT and not quiet) as on_client:
            outcome = check_files(result, options, relaxed=False, on_client=on_client)
        findings = [*exact_pin_findings(result), *result.findings, *outcome.findings]
        code = exit_code(findings, outcome, pending=False)
        emit(
            fmt,
            report.render_text(result, wrote=False, quiet=quiet, findings=findings, check=outcome, color=color()),
            report.render_json(result, ok=code == EXIT_OK, findings=findings, check=outcome),
            render_github(findings),
            render_markdown(findings, outcome),
        )
    raise typer.Exit(code)
