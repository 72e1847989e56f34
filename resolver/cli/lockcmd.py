"""`relax-pins lock` (PEP 751 or hashed requirements) and `relax-pins layers` (Docker install layers)."""

from __future__ import annotations

import enum
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from resolver.cli.app import OutputFormat, app, guard, progress, say
from resolver.cli.exits import EXIT_FINDINGS, EXIT_OK, exit_code
from resolver.cli.options import INDEX, INPUTS, TORCH, Common, shared
from resolver.errors import InputError
from resolver.writers import report
from resolver.writers.github import render_github

if TYPE_CHECKING:
    from resolver.results import LockOutcome

# The lock and layer machinery (and their writers) is imported inside the commands that use it: the other
# commands start ~30 ms sooner without it.

__all__ = ["layers_command", "lock_command"]


#: PEP 751: ``pylock.toml``, or ``pylock.<name>.toml`` where the name holds no dot.
PYLOCK_NAME = re.compile(r"pylock(?:\.[^.]+)?\.toml")


class LockFormat(str, enum.Enum):
    """What the lock file is."""

    PYLOCK = "pylock"
    REQUIREMENTS = "requirements"


def _failure_report(outcome: LockOutcome, fmt: OutputFormat) -> str:
    """Why layers wrote nothing, on stdout in the report's format (text says it on stderr only): JSON with
    ``ok`` false, an ``::error`` per reason and finding, a Markdown heading that does not say passed."""
    reason = outcome.unreachable or outcome.integrity
    if fmt is OutputFormat.JSON:
        doc = {"ok": False, "error": reason, "findings": [report.finding_dict(f) for f in outcome.findings]}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt is OutputFormat.GITHUB:
        text = render_github(outcome.findings)
        return text + (f"::error title=relax-pins layers::{reason}\n" if reason else "")
    if fmt is OutputFormat.MARKDOWN:
        lines = ["## relax-pins layers: no layers written", ""]
        lines += [f"- {reason}"] if reason else []
        lines += [f"- `{f.code}` {f.message}" for f in outcome.findings]
        return "\n".join(lines) + "\n"
    return ""


def _report_failure(outcome: LockOutcome, quiet: bool) -> int:
    lines = report.render_findings(outcome.findings, quiet=quiet)
    if outcome.unreachable or outcome.integrity:
        lines.append(f"relax-pins: error: {outcome.unreachable or outcome.integrity}")
    say("".join(f"{line}\n" for line in lines) + "no files changed", err=True)
    return exit_code(outcome.findings, outcome)


@app.command("lock")
@shared(TORCH, INPUTS, INDEX)
def lock_command(
    *,
    common: Common,
    output: Annotated[Path, typer.Option("--output", "-o", help="The lock file to write.")],
    fmt: Annotated[LockFormat, typer.Option("--format", help="pylock (PEP 751) or requirements.")] = LockFormat.PYLOCK,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the lock is out of date.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing file that relax-pins did not write (never an input).")
    ] = False,
    upgrade: Annotated[
        bool, typer.Option("--upgrade", "-U", help="Lock the newest versions, not the ones the existing lock has.")
    ] = False,
    upgrade_package: Annotated[
        list[str] | None,
        typer.Option("--upgrade-package", "-P", help="Move only this package: NAME, or NAME==VERSION (repeatable)."),
    ] = None,
) -> None:
    """Lock the requirements for one target: exact versions and the sha256 of every file. An existing lock's
    versions are kept while the inputs allow them (--upgrade, --upgrade-package move them)."""
    from resolver.pipeline.lock import LockSettings, lock_status, run_lock
    from resolver.writers.hashed import render_hashed
    from resolver.writers.pylock import render_pylock

    quiet = common.quiet
    settings = LockSettings(torch_index_url=common.torch_index_url)
    with guard():
        if fmt is LockFormat.PYLOCK and not PYLOCK_NAME.fullmatch(output.name):
            raise InputError(
                "is not a PEP 751 lock file name: installers read pylock.toml or pylock.<name>.toml as a lock,"
                " and any other name as a requirements file",
                path=str(output),
                hint="name it pylock.toml or pylock.<name>.toml (e.g. pylock.gpu.toml), or use --format requirements",
            )
        if check:
            _, verdict = lock_status(common.inputs, common.index, settings, output)
            if not quiet:
                say(f"{output}: {'up to date' if verdict.current else 'out of date: ' + (verdict.reason or '')}")
            raise typer.Exit(EXIT_OK if verdict.current else EXIT_FINDINGS)
        render = render_pylock if fmt is LockFormat.PYLOCK else render_hashed
        with progress(not quiet) as on_client:
            run = run_lock(
                common.inputs,
                common.index,
                settings,
                output=output,
                render=lambda lock: render(lock, output=output.name),
                on_client=on_client,
                force=force,
                upgrade=upgrade,
                upgrade_packages=tuple(upgrade_package or ()),
            )
        lock = run.outcome.lock
        if lock is None:
            raise typer.Exit(_report_failure(run.outcome, quiet))
        if not quiet:
            lines = report.render_findings(run.outcome.findings, quiet=quiet)
            lines += [f"{name}: {old} -> {new}" if old else f"{name}: {new} (new)" for name, old, new in run.moved]
            lines.append(f"{'locked' if run.changed else 'unchanged:'} {len(lock.packages)} packages in {output}")
            say("".join(f"{line}\n" for line in lines), nl=False)
        code = exit_code(run.outcome.findings, run.outcome)
    raise typer.Exit(code)


@app.command("layers")
@shared(TORCH, INPUTS, INDEX)
def layers_command(
    *,
    common: Common,
    output: Annotated[Path, typer.Option("--output", "-o", help="The folder for the layer files.")],
    ranges: Annotated[bool, typer.Option("--ranges", help="Write relaxed ranges instead of exact pins.")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Summary: text, json, markdown, github.")] = (
        OutputFormat.TEXT
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Replace files in the folder that layers did not write (never an input).")
    ] = False,
) -> None:
    """Write grouped, ordered install layers and a Dockerfile fragment that caches the heavy ones."""
    from resolver.lock.layers import LayerPlan
    from resolver.pipeline.lock import LockSettings, run_layers
    from resolver.writers.dockerfile import render_dockerfile
    from resolver.writers.layers import (
        render_layer_files,
        render_range_files,
        render_summary_json,
        render_summary_markdown,
        render_summary_text,
    )

    def files(plan: LayerPlan) -> list[tuple[str, str]]:
        layers = render_range_files(plan) if ranges else render_layer_files(plan)
        return [*layers, ("Dockerfile.layers", render_dockerfile(plan, directory=str(output), ranges=ranges))]

    quiet = common.quiet
    settings = LockSettings(torch_index_url=common.torch_index_url, relaxed=ranges)
    with guard(fmt):
        with progress(fmt is OutputFormat.TEXT and not quiet) as on_client:
            run = run_layers(
                common.inputs, common.index, settings, output=output, render=files, on_client=on_client, force=force
            )
        plan = run.outcome.plan
        if plan is None:
            say(_failure_report(run.outcome.outcome, fmt), nl=False)  # stdout in the asked format, too
            raise typer.Exit(_report_failure(run.outcome.outcome, quiet))
        findings = run.outcome.outcome.findings
        if fmt is OutputFormat.GITHUB:
            summary = render_github(findings)
        else:
            render = {OutputFormat.JSON: render_summary_json, OutputFormat.MARKDOWN: render_summary_markdown}
            summary = render.get(fmt, render_summary_text)(plan)
        if not quiet:
            say(summary, nl=False)
            if fmt is OutputFormat.TEXT:
                say("".join(f"{line}\n" for line in report.render_findings(findings, quiet=quiet)), nl=False)
                say(f"wrote {len(run.written)} files to {output}")
        code = exit_code(findings, run.outcome.outcome)
    raise typer.Exit(code)
