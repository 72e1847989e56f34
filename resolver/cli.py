"""The command line: the only module that imports typer. Options -> settings -> pipeline -> output, exit code.

``relax-pins PATH...`` is the relax command; the first word picks another command (``relax-pins check ...``).
:func:`main` takes ``argv`` and returns the exit code, so tests call it in-process; :func:`run` is the console
script. One place, :func:`_guard`, maps exceptions to exit codes:

- 0: success; 1: error findings, or changes pending under ``--check``; 2: bad input (missing file, parse
  error as ``path:line:col: message``, bad option); 3: the index cannot be reached; 4: a download failed its
  hash check; 130: interrupted (no file changed). On anything but 0 and 1-with-``--force``, no file is written.
"""

from __future__ import annotations

import enum
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from resolver import __version__, pipeline
from resolver.checking import CheckOutcome, IndexOptions, check_files, exact_pin_findings
from resolver.core.model import Finding, Severity
from resolver.core.policy import Bound
from resolver.errors import InputError, RelaxPinsError
from resolver.writers import report
from resolver.writers.github import render_github
from resolver.writers.markdown import render_markdown

if TYPE_CHECKING:
    from resolver.index.client import IndexClient

__all__ = ["app", "main", "run"]

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class OutputFormat(str, enum.Enum):
    """How the report is printed."""

    TEXT = "text"
    JSON = "json"
    GITHUB = "github"
    MARKDOWN = "markdown"


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Turn exact pins into compatible ranges, by policy, keeping every other byte of your files.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"relax-pins {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """relax-pins: exact pins in, verified compatible ranges out."""


@contextmanager
def _guard() -> Iterator[None]:
    """Map every expected failure to its exit code and a one-line message on stderr; no traceback."""
    try:
        yield
    except InputError as exc:
        typer.echo(str(exc), err=True)  # path:line:col: message, as editors and CI parse it
        raise typer.Exit(exc.exit_code) from None
    except RelaxPinsError as exc:
        typer.echo(f"relax-pins: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("relax-pins: interrupted; no files changed", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


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
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for one answer.")]
RetriesOpt = Annotated[int, typer.Option("--retries", min=0, help="Retries of a failed request.")]


def _index_options(
    index_url: str | None,
    extra_index_url: list[str] | None,
    find_links: list[str] | None,
    python: str | None,
    platform: str | None,
    pre: bool,
    cache: tuple[Path | None, bool, bool, bool],
    network: tuple[float, int],
) -> IndexOptions:
    cache_dir, no_cache, offline, refresh = cache
    timeout, retries = network
    return IndexOptions(
        index_url=index_url,
        extra_index_urls=tuple(extra_index_url or ()),
        find_links=tuple(find_links or ()),
        python=python,
        platform=platform,
        pre=pre,
        cache_dir=cache_dir,
        no_cache=no_cache,
        offline=offline,
        refresh=refresh,
        timeout=timeout,
        retries=retries,
    )


def _color() -> bool:
    """ANSI colours on a terminal, unless NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[IndexClient], None]]:
    """A one-line progress display on stderr while the index is asked, on a terminal and after 0.5 s."""
    clients: list[IndexClient] = []
    if not enabled or not sys.stderr.isatty():
        yield clients.append
        return
    stop = threading.Event()

    def show() -> None:
        started, shown = time.monotonic(), False
        while not stop.wait(0.2):
            if not clients or time.monotonic() - started < 0.5:
                continue
            stats = clients[0].stats
            sys.stderr.write(
                f"\r\x1b[2Kasking the index: {stats.requests} requests, {stats.bytes_received / 1e6:.1f} MB, "
                f"{stats.cache_hits} answered from cache"
            )
            sys.stderr.flush()
            shown = True
        if shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()

    thread = threading.Thread(target=show, name="relax-pins-progress", daemon=True)
    thread.start()
    try:
        yield clients.append
    finally:
        stop.set()
        thread.join(timeout=1)


def _emit(fmt: OutputFormat, text: str, json_text: str, github: str, markdown: str) -> None:
    typer.echo(
        {
            OutputFormat.TEXT: text,
            OutputFormat.JSON: json_text,
            OutputFormat.GITHUB: github,
            OutputFormat.MARKDOWN: markdown,
        }[fmt],
        nl=False,
    )


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
) -> None:
    """Relax exact pins in place, after checking the ranges against the index (`relax-pins PATH...`)."""
    with _guard():
        result = pipeline.plan_relax(pipeline.RelaxSettings(paths=tuple(paths), bound=bound, config=config))
        write = not (diff or check)
        outcome = None
        if write and not no_verify and result.changed_files:
            options = _index_options(
                index_url,
                extra_index_url,
                find_links,
                python,
                platform,
                pre,
                (cache_dir, no_cache, offline, refresh),
                (timeout, retries),
            )
            with _progress(fmt is OutputFormat.TEXT and not quiet) as on_client:
                outcome = check_files(result, options, relaxed=True, on_client=on_client)
        findings = [*result.findings, *(outcome.findings if outcome else ())]
        blocked = outcome is not None and (
            outcome.exit_code is not None or (not force and any(f.severity is Severity.ERROR for f in findings))
        )
        if write and not blocked:
            pipeline.apply(result, allow_outside_links=allow_outside_links)
        pending = bool(result.changed_files) and check
        code = _exit_code(findings, outcome, pending=pending)
        wrote = write and not blocked
        _emit(
            fmt,
            (report.render_diff(result) + "".join(f"{x}\n" for x in report.render_findings(findings, quiet=quiet)))
            if diff
            else report.render_text(result, wrote=wrote, quiet=quiet, findings=findings, check=outcome, color=_color()),
            report.render_json(result, ok=code == EXIT_OK, findings=findings, check=outcome),
            render_github(findings),
            render_markdown(findings, outcome),
        )
        if blocked and not quiet and fmt is OutputFormat.TEXT and outcome and outcome.exit_code is None:
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
) -> None:
    """Verify the ranges against the index and report; write nothing."""
    with _guard():
        result = pipeline.plan_relax(pipeline.RelaxSettings(paths=tuple(paths), bound=bound, config=config))
        options = _index_options(
            index_url,
            extra_index_url,
            find_links,
            python,
            platform,
            pre,
            (cache_dir, no_cache, offline, refresh),
            (timeout, retries),
        )
        with _progress(fmt is OutputFormat.TEXT and not quiet) as on_client:
            outcome = check_files(result, options, relaxed=False, on_client=on_client)
        findings = [*exact_pin_findings(result), *result.findings, *outcome.findings]
        code = _exit_code(findings, outcome, pending=False)
        _emit(
            fmt,
            report.render_text(result, wrote=False, quiet=quiet, findings=findings, check=outcome, color=_color()),
            report.render_json(result, ok=code == EXIT_OK, findings=findings, check=outcome),
            render_github(findings),
            render_markdown(findings, outcome),
        )
    raise typer.Exit(code)


def _exit_code(findings: list[Finding], outcome: CheckOutcome | None, *, pending: bool) -> int:
    if outcome is not None and outcome.exit_code is not None:
        return outcome.exit_code
    if pending or any(f.severity is Severity.ERROR for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK


_COMMANDS = ("relax", "check")
_ROOT_FLAGS = ("--version", "--help", "-h")


def _with_default_command(argv: list[str]) -> list[str]:
    """Insert ``relax`` unless the first word names a command or a root flag: ``relax-pins FILE`` works."""
    if not argv or argv[0] in _COMMANDS or argv[0] in _ROOT_FLAGS:
        return argv
    return ["relax", *argv]


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    args = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    try:
        app(args=args, prog_name="relax-pins", standalone_mode=True)
    except SystemExit as exc:
        return _code(exc.code)
    return EXIT_OK


def _code(value: object) -> int:
    if value is None:
        return EXIT_OK
    return value if isinstance(value, int) else EXIT_INPUT


def run(entry: Callable[[list[str] | None], int] = main) -> None:
    """The console script: exit with :func:`main`'s code."""
    sys.exit(entry(None))
