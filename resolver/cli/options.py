"""The options the commands share, declared once, and the one call that turns them into settings.

typer reads a command's options from its function's parameters. A command here declares only its own
(``--diff``, ``--output``...) and names the groups it shares with :func:`shared`; the decorator shows typer
the group's parameters too and hands the command one :class:`Common` value built from them. So each option
is written once, each command body starts from one settings object, and no function takes dozens of
parameters.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from resolver.core.policy import Bound
from resolver.pipeline.relax import RelaxSettings
from resolver.pipeline.session import IndexOptions

__all__ = [
    "BEST",
    "CHANGED",
    "EXTRAS",
    "INDEX",
    "INPUTS",
    "TARGET",
    "TORCH",
    "CacheDirOpt",
    "Common",
    "DriverOpt",
    "IndexUrlOpt",
    "NoCacheOpt",
    "OfflineOpt",
    "PythonOpt",
    "RefreshOpt",
    "RetriesOpt",
    "TimeoutOpt",
    "TorchIndexOpt",
    "shared",
]

F = TypeVar("F", bound=Callable[..., Any])


def _option(name: str, annotation: object, default: object = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


Paths = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Requirements files (includes are followed), pyproject.toml files or Dockerfiles.", show_default=False
    ),
]
BoundOpt = Annotated[
    Bound | None, typer.Option("--bound", help="Upper bound for relaxed pins (default: minor, or the config's).")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Read [tool.relax-pins] from this file instead of pyproject.toml.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say each request, answer and retry on stderr (URLs masked).")
]
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
CudaOpt = Annotated[
    str | None, typer.Option("--cuda", help="Target CUDA: a version (12.8), cpu, or auto (the local driver).")
]
DriverOpt = Annotated[str | None, typer.Option("--driver", help="Target NVIDIA driver version, e.g. 535.104.")]
DockerfileOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--dockerfile",
        help="A Dockerfile (any name): its image is the target of the other inputs that no Dockerfile installs.",
    ),
]
BuildArgOpt = Annotated[
    list[str] | None,
    typer.Option("--build-arg", help="A Dockerfile ARG's value, NAME=VALUE, as `docker build --build-arg` gives it."),
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
        "--best-across-indexes/--first-index",
        help="Merge every index's versions of a project, as pip does (the default; a project on more than one "
        "index is an index-shadowing warning), or take it from the first index that has it, main index first.",
    ),
]

ExtraOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--extra",
        help="Check this extra or dependency group of a pyproject.toml with its main dependencies (repeatable; "
        "default: each of them).",
    ),
]
NoExtrasOpt = Annotated[
    bool, typer.Option("--no-extras", help="Check only a pyproject.toml's main dependencies, no extra or group.")
]

ChangedOpt = Annotated[
    str | None,
    typer.Option(
        "--changed",
        metavar="[REF]",  # without a value it is HEAD: resolver.cli.app fills it in before parsing
        help="Read the requirement files changed against REF (default HEAD: what is not committed; in a pull "
        "request, the base branch, e.g. origin/main), and the files that include or install them.",
    ),
]

# The groups a command takes with @shared(...), in the order --help lists them.
INPUTS = (
    _option("paths", Paths, None),
    _option("bound", BoundOpt, None),
    _option("config", ConfigOpt, None),
    _option("quiet", QuietOpt, False),
    _option("verbose", VerboseOpt, False),
)
INDEX = (
    _option("index_url", IndexUrlOpt, None),
    _option("extra_index_url", ExtraIndexOpt, None),
    _option("find_links", FindLinksOpt, None),
    _option("python", PythonOpt, None),
    _option("platform", PlatformOpt, None),
    _option("pre", PreOpt, False),
    _option("cache_dir", CacheDirOpt, None),
    _option("no_cache", NoCacheOpt, False),
    _option("offline", OfflineOpt, False),
    _option("refresh", RefreshOpt, False),
    _option("timeout", TimeoutOpt, 15.0),
    _option("retries", RetriesOpt, 4),
)
TARGET = (
    _option("cuda", CudaOpt, None),
    _option("driver", DriverOpt, None),
    _option("dockerfile", DockerfileOpt, None),
    _option("build_arg", BuildArgOpt, None),
)
TORCH = (_option("torch_index_url", TorchIndexOpt, None),)
EXTRAS = (_option("extra", ExtraOpt, None), _option("no_extras", NoExtrasOpt, False))
BEST = (_option("best_across_indexes", BestOpt, True),)
CHANGED = (_option("changed", ChangedOpt, None),)


@dataclass(frozen=True, slots=True, kw_only=True)
class Common:
    """What the shared options said: the inputs to read, how to reach the index and for which target."""

    inputs: RelaxSettings
    index: IndexOptions
    quiet: bool
    torch_index_url: str | None


def _common(values: dict[str, Any]) -> Common:
    """The one call that builds the settings; an option a command does not take keeps its default."""
    if values.get("verbose"):
        from resolver.cli.app import verbose_logging

        verbose_logging()
    values = _with_configured_targets(values)
    paths = tuple(values.get("paths") or ())
    ref = values.get("changed")
    if ref is not None:
        from resolver.cli.app import say  # the CLI's printer, masked like every other line
        from resolver.pipeline.changed import changed_inputs

        found = changed_inputs(ref)
        paths = tuple(dict.fromkeys([*paths, *found]))
        if not paths and not values.get("dockerfile"):
            if not values.get("quiet"):
                say(f"relax-pins: no requirement file changed against {ref}; nothing to check")
            raise typer.Exit(0)
    elif not paths and not values.get("dockerfile"):
        raise typer.BadParameter("give at least one file to read (or --dockerfile PATH)", param_hint="PATHS...")
    return Common(
        inputs=RelaxSettings(
            paths=paths,
            dockerfiles=tuple(values.get("dockerfile") or ()),
            build_args=_build_args(values.get("build_arg") or ()),
            bound=values.get("bound"),
            config=values.get("config"),
        ),
        index=IndexOptions(
            index_url=values.get("index_url"),
            extra_index_urls=tuple(values.get("extra_index_url") or ()),
            find_links=tuple(values.get("find_links") or ()),
            python=values.get("python"),
            platform=values.get("platform"),
            pre=values.get("pre", False),
            cache_dir=values.get("cache_dir"),
            no_cache=values.get("no_cache", False),
            offline=values.get("offline", False),
            refresh=values.get("refresh", False),
            timeout=values.get("timeout", 15.0),
            retries=values.get("retries", 4),
            best_across_indexes=values.get("best_across_indexes", True),
            cuda=values.get("cuda"),
            driver=values.get("driver"),
            torch_index=values.get("torch_index_url"),
            extras=() if values.get("no_extras") else (tuple(values["extra"]) if values.get("extra") else None),
        ),
        quiet=values.get("quiet", False),
        torch_index_url=values.get("torch_index_url"),
    )


#: Option values ``[tool.relax-pins]`` may give (python, platform, ...): an option on the command line wins.
_CONFIGURED = (
    "python",
    "platform",
    "cuda",
    "driver",
    "index_url",
    "extra_index_url",
    "torch_index_url",
    "dockerfile",
    "extra",
)


def _with_configured_targets(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the targets of the nearest configuration filled in where the command line said nothing
    (only for the options this command takes: ``values`` holds exactly those)."""
    from resolver.pipeline.config import load_targets

    first = next(iter(values.get("paths") or ()), None)
    start = Path(first).parent if first is not None else Path.cwd()
    configured = load_targets(values.get("config"), start=start)
    if "extras" in configured:
        configured["extra"] = configured.pop("extras")
    out = dict(values)
    for key in _CONFIGURED:
        if key in configured and key in values and not values[key]:
            value = configured[key]
            out[key] = [Path(str(value))] if key == "dockerfile" else value
    return out


def _build_args(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``NAME=VALUE`` words as pairs; a word without ``=`` is a usage error, as docker build makes it."""
    pairs = []
    for value in values:
        name, eq, rest = value.partition("=")
        if not eq or not name:
            raise typer.BadParameter(f"{value!r} is not NAME=VALUE", param_hint="--build-arg")
        pairs.append((name, rest))
    return tuple(pairs)


def shared(*groups: tuple[inspect.Parameter, ...]) -> Callable[[F], F]:
    """Give a command the options of ``groups``: typer sees them as its parameters (after the command's own,
    the arguments first), and the command receives them as one ``common: Common`` keyword argument."""
    extra = [p for group in groups for p in group]

    def decorate(func: F) -> F:
        own = [p for name, p in inspect.signature(func, eval_str=True).parameters.items() if name != "common"]
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in (*own, *extra)]
        params.sort(key=lambda p: p.default is not inspect.Parameter.empty)  # required arguments first (stable)
        names = {p.name for p in extra}

        @functools.wraps(func)
        def command(**values: Any) -> Any:  # noqa: ANN401 - typer passes each option's value through
            from resolver.cli.app import OutputFormat, guard  # bad input in the options: exit 2, no traceback

            fmt = values.get("fmt")
            with guard(fmt if isinstance(fmt, OutputFormat) else None):
                common = _common({k: v for k, v in values.items() if k in names})
            return func(common=common, **{k: v for k, v in values.items() if k not in names})

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command  # type: ignore[return-value]

    return decorate
