"""`relax-pins PATH...` (relax, verifying before it writes) and `relax-pins check` (verify, write nothing)."""

from __future__ import annotations

from typing import Annotated

import typer

from resolver.cli.app import OutputFormat, app, color, emit, guard, progress, say
from resolver.cli.exits import exit_code
from resolver.cli.options import BEST, CHANGED, EXTRAS, INDEX, INPUTS, TARGET, TORCH, Common, shared
from resolver.pipeline.relax import run_check, run_relax
from resolver.writers import report
from resolver.writers.github import render_github
from resolver.writers.markdown import render_markdown

__all__ = ["check_command", "relax_command"]

FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="Report format.")]


@app.command("relax")
@shared(INPUTS, CHANGED, INDEX, TARGET, TORCH, BEST, EXTRAS)
def relax_command(
    *,
    common: Common,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff; write nothing.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if any file would change (for CI and pre-commit).")
    ] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Write without checking the index first.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Write even when verification finds errors, and files that are read-only.")
    ] = False,
    allow_outside_links: Annotated[
        bool, typer.Option("--allow-outside-links", help="Write through symlinks that leave the repository.")
    ] = False,
    fmt: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Relax exact pins in place, after checking the ranges against the index (`relax-pins PATH...`)."""
    quiet = common.quiet
    with guard(fmt):
        with progress(fmt is OutputFormat.TEXT and not quiet) as on_client:
            run = run_relax(
                common.inputs,
                common.index,
                write=not (diff or check),
                pending_check=check,
                verify=not no_verify,
                force=force,
                allow_outside_links=allow_outside_links,
                on_client=on_client,
            )
        findings = list(run.findings)
        code = exit_code(findings, run.check, pending=run.pending)

        def text() -> str:
            if diff:
                lines = report.render_findings(findings, quiet=quiet)
                return report.render_diff(run.result) + "".join(f"{x}\n" for x in lines)
            return report.render_text(
                run.result, wrote=run.wrote, quiet=quiet, findings=findings, check=run.check, color=color()
            )

        emit(
            fmt,
            text,
            lambda: report.render_json(run.result, ok=code == 0, findings=findings, check=run.check),
            lambda: render_github(findings, run.check),
            lambda: render_markdown(findings, run.check),
            clip_text=not diff,
        )
        say(report.render_stopped(run.check), err=True, nl=False)  # every format: exit 3 and 4 say why
        if run.check is not None and run.check.unreachable:
            say(
                "hint: to rewrite without asking the index, pass --no-verify (in pre-commit: args: [--no-verify],"
                " or the relax-pins-check hook, which needs no network)",
                err=True,
            )
        if run.blocked and not quiet and fmt is OutputFormat.TEXT and run.check and not run.check.stopped:
            say("no files changed: verification found errors (--force writes anyway)", err=True)
    raise typer.Exit(code)


@app.command("check")
@shared(INPUTS, CHANGED, INDEX, TARGET, TORCH, BEST, EXTRAS)
def check_command(*, common: Common, fmt: FormatOpt = OutputFormat.TEXT) -> None:
    """Verify the ranges against the index and report; write nothing."""
    quiet = common.quiet
    with guard(fmt):
        with progress(fmt is OutputFormat.TEXT and not quiet) as on_client:
            run = run_check(common.inputs, common.index, on_client=on_client)
        findings = list(run.findings)
        code = exit_code(findings, run.check)
        emit(
            fmt,
            lambda: report.render_text(
                run.result, wrote=False, quiet=quiet, findings=findings, check=run.check, color=color()
            ),
            lambda: report.render_json(run.result, ok=code == 0, findings=findings, check=run.check),
            lambda: render_github(findings, run.check),
            lambda: render_markdown(findings, run.check),
        )
        say(report.render_stopped(run.check), err=True, nl=False)  # every format: exit 3 and 4 say why
    raise typer.Exit(code)
