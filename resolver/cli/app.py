"""The typer application and the pieces every command shares: the only place typer is set up.

``relax-pins PATH...`` is the relax command; the first word picks another command (``relax-pins check ...``).
:func:`main` takes ``argv`` and returns the exit code, so tests call it in-process; :func:`run` is the console
script. :func:`guard` turns the exceptions a command may raise into their exit codes and a one-line message;
what a finished run produced is mapped to its exit code by :mod:`resolver.cli.exits` (the codes are listed
there). On anything but 0 and 1-with-``--force``, no file is written.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

import resolver
from resolver.cli.exits import EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED
from resolver.errors import InputError, InputErrors, RelaxPinsError, Terminated
from resolver.fsio import display_path, take_committed
from resolver.index.urls import mask_text

if TYPE_CHECKING:
    from resolver.index.client import IndexClient

__all__ = [
    "OutputFormat",
    "app",
    "color",
    "emit",
    "guard",
    "main",
    "progress",
    "run",
]


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
        typer.echo(f"relax-pins {resolver.__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """relax-pins: exact pins in, verified compatible ranges out."""


@contextmanager
def guard(fmt: OutputFormat | None = None) -> Iterator[None]:
    """Map every expected failure to its exit code and a one-line message on stderr; no traceback. Bad input
    is also said in the report's own format (``fmt``): an ``::error`` annotation per error for GitHub, a JSON
    object with ``"ok": false`` and the errors, so a CI job that reads stdout sees it too."""
    _guards[0] += 1
    try:
        yield
    except InputError as exc:
        say(str(exc), err=True)  # path:line:col: message, as editors and CI parse it
        if fmt in (OutputFormat.GITHUB, OutputFormat.JSON):
            say(_input_error_report(exc, fmt), nl=False, clip_lines=fmt is not OutputFormat.JSON)
        raise typer.Exit(exc.exit_code) from None
    except RelaxPinsError as exc:
        say(f"relax-pins: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt as exc:
        changed = take_committed()  # what is on disk decides the message, not where the signal landed
        if changed:
            names = ", ".join(display_path(p) for p in changed)
            say(f"relax-pins: interrupted after the rewrite was complete; {len(changed)} changed: {names}", err=True)
        else:
            say("relax-pins: interrupted; no files changed", err=True)
        raise typer.Exit(EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED) from None
    finally:
        _guards[0] -= 1


def _input_error_report(exc: InputError, fmt: OutputFormat) -> str:
    errors = exc.errors if isinstance(exc, InputErrors) else (exc,)
    rows = [(e.path, e.line, e.col, e.message + (f" ({e.hint})" if e.hint else "")) for e in errors]
    if fmt is OutputFormat.GITHUB:
        from resolver.writers.github import render_input_errors

        return render_input_errors(rows)
    import json

    from resolver.writers.report import SCHEMA_VERSION

    doc = {
        "schema": SCHEMA_VERSION,
        "ok": False,
        "input_errors": [{"path": p, "line": line, "col": col, "message": m} for p, line, col, m in rows],
        "files": [],
        "findings": [],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


#: How many guards are active (:func:`guard`): a signal outside every guard has nothing to undo or report.
_guards = [0]


def _on_signal(signum: int, _frame: object) -> None:
    """SIGINT and SIGTERM while :func:`main` runs: inside a command's guard, raised (Ctrl-C as
    KeyboardInterrupt, SIGTERM as :class:`Terminated`) so the guard says what is on disk; outside every guard
    (typer still parsing, or a command done), nothing is in flight, so the process ends here with the
    message and the code, not typer's "Aborted!" or a traceback."""
    terminated = signum == signal.SIGTERM
    if _guards[0] > 0:
        raise Terminated if terminated else KeyboardInterrupt
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    with contextlib.suppress(OSError):
        os.write(2, b"relax-pins: interrupted; no files changed\n")
    os._exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)


def color() -> bool:
    """ANSI colours on a terminal, unless NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[IndexClient], None]]:
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


#: The longest line printed: a 1 MB name from a hostile index made a 1 MB error line (JSON clips its strings
#: to the same length instead, so it stays valid).
MAX_LINE = 10_000


def clip(line: str, limit: int = MAX_LINE) -> str:
    """``line`` cut to ``limit`` characters, saying how many were left out."""
    if len(line) <= limit:
        return line
    return f"{line[:limit]}... ({len(line) - limit} more characters not shown)"


class _Masked(logging.Filter):
    """Log records as they are shown: URL credentials masked, like every other line (:func:`say`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask_text(record.getMessage()), None
        return True


def verbose_logging() -> None:
    """``-v``: relax-pins' own debug log on stderr (each request and its status, each retry, each location read
    without), masked. Once per process: a second call changes nothing."""
    logger = logging.getLogger("resolver")
    if any(isinstance(h, logging.StreamHandler) and getattr(h, "relax_pins", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.relax_pins = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("relax-pins: %(message)s"))
    handler.addFilter(_Masked())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _quiet_logging() -> None:
    logger = logging.getLogger("resolver")
    for handler in [h for h in logger.handlers if getattr(h, "relax_pins", False)]:
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def say(text: str, *, err: bool = False, nl: bool = True, clip_lines: bool = True) -> None:
    """Print ``text`` with every URL's credentials masked (:func:`resolver.index.urls.mask_text`): whatever it
    came from (a requirement URL, an option in a file, a diff, an error), no secret reaches the terminal or
    the CI log. Files keep theirs byte for byte; only what is shown is masked. Each line is cut at
    :data:`MAX_LINE` characters (``clip_lines=False`` for JSON, whose strings are clipped when made)."""
    text = mask_text(text)
    if clip_lines and len(text) > MAX_LINE:
        text = "".join(
            clip(line.rstrip("\n")) + "\n" if line.endswith("\n") else clip(line) for line in text.splitlines(True)
        )
    typer.echo(text, err=err, nl=nl)


def emit(
    fmt: OutputFormat,
    text: Callable[[], str],
    json_text: Callable[[], str],
    github: Callable[[], str],
    markdown: Callable[[], str],
    *,
    clip_text: bool = True,
) -> None:
    """Print the report in ``fmt``: only that one is rendered (a 200,000-line run spent a second on JSON it
    never printed)."""
    render = {
        OutputFormat.TEXT: text,
        OutputFormat.JSON: json_text,
        OutputFormat.GITHUB: github,
        OutputFormat.MARKDOWN: markdown,
    }[fmt]
    # JSON clips its strings itself; a --diff stays a patch that applies
    say(render(), nl=False, clip_lines=clip_text and fmt is not OutputFormat.JSON)


_COMMANDS = ("relax", "check", "lock", "layers", "cuda", "matrix")
_ROOT_FLAGS = ("--version", "--help", "-h")


def _with_default_command(argv: list[str]) -> list[str]:
    """Insert ``relax`` unless the first word names a command or a root flag: ``relax-pins FILE`` works; and
    give ``--changed`` its default ref, ``HEAD``, when no value follows it (the end, ``--``, or another option)."""
    out = []
    for i, word in enumerate(argv):
        out.append(word)
        following = argv[i + 1] if i + 1 < len(argv) else None
        if word == "--changed" and (following is None or following.startswith("-")):
            out.append("HEAD")
    if not out or out[0] in _COMMANDS or out[0] in _ROOT_FLAGS:
        return out
    return ["relax", *out]


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit code. SIGTERM is
    handled like Ctrl-C while it runs (:class:`Terminated`)."""
    args = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    if hasattr(sys, "set_int_max_str_digits"):  # a version part of 5,000 digits is valid PEP 440, not an int bomb:
        sys.set_int_max_str_digits(0)  # lines are capped at 100,000 characters, so converting one stays fast
    take_committed()  # forget an earlier run's commit (tests run main() many times in one process)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
    try:
        app(args=args, prog_name="relax-pins", standalone_mode=True)
    except SystemExit as exc:
        return _code(exc.code)
    except KeyboardInterrupt as exc:  # outside a command's guard: before it, or while typer parses
        say("relax-pins: interrupted; no files changed", err=True)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _quiet_logging()  # -v lasts one run (in-process callers run main() many times)
    return EXIT_OK


def _code(value: object) -> int:
    if value is None:
        return EXIT_OK
    return value if isinstance(value, int) else EXIT_INPUT


def run(entry: Callable[[list[str] | None], int] = main) -> None:
    """The console script: exit with :func:`main`'s code.

    A run lives for a second or so, and two costs of a long-lived interpreter were a tenth of a warm check
    (measured on ml.txt: 0.75 s -> 0.66 s): the cyclic garbage collector walking the objects made at import
    time and the many small ones a resolution makes (so those are frozen and collections are rarer; nothing
    here relies on collecting cycles early), and tearing the interpreter down at exit. Every file this
    program writes is closed (and atomically renamed) before :func:`main` returns, and the index client has
    joined its threads, so after the output streams are flushed the process ends without the teardown.
    :func:`main`, for in-process callers, keeps the interpreter's defaults.
    """
    gc.set_threshold(100_000, 50, 100)
    gc.freeze()
    code = entry(None)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said on it
            stream.flush()
    os._exit(code)
