"""Locking wired for the commands: files in, one resolution for the target, a hashed :class:`Lock` out.

``lock_files(result, options, settings)`` takes what :func:`resolver.pipeline.relax.plan_relax` read, resolves the
files' requirements at their newest for the target (one resolution, not the two of ``check``) and builds the
lock from the index's release lists. ``layer_files`` does the same with the build tools added and splits the
lock into install layers. Like :mod:`resolver.pipeline.check`, an index that cannot be reached is a value here
(``unreachable``, exit 3), and so is a hash that does not hold (``integrity``, exit 4: a downloaded file that
differs from its sha256 on the index, or a file the index offers only an md5 for); no lock comes back then.

The torch family (:data:`TORCH_FAMILY`) is read from the PyTorch wheel index of the target's variant when a
``torch_index_url`` is given (``<base>/whl/cu128``): a second client and finder serve those names, the main
index everything else (the ``nvidia-*`` runtime wheels included). A name the PyTorch index does not list
falls back to the main index. Without a ``torch_index_url`` everything comes from the main index.

Cost: one resolution's page and metadata requests (cached on disk like ``check``), one page per extra
client. The inputs digest (:func:`lock_inputs`) needs no network at all, so ``--check`` can say offline that
a source changed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from resolver.core.model import Direct, Finding, Severity
from resolver.core.target import Target, make_target
from resolver.cuda.builds import variant_of_url
from resolver.errors import ConfigError, InputError
from resolver.fsio import display_path, read_text, write_all
from resolver.index.finder import Finder
from resolver.index.settings import IndexSettings, redact
from resolver.lock.layers import BUILD_TOOLS, Group, default_groups, merge_groups, plan_layers
from resolver.lock.model import (
    HashUnavailableError,
    LockCheck,
    Requested,
    build_lock,
    check_lock,
    inputs_digest,
    strip_credentials,
)
from resolver.pipeline.config import find_config, read_table
from resolver.pipeline.environment import lock_environment
from resolver.pipeline.relax import RelaxSettings, plan_relax
from resolver.pipeline.session import index_settings, open_cache, open_client
from resolver.resolve.engine import resolve
from resolver.resolve.model import Conflict, Mode, Origin, Req
from resolver.resolve.source import IndexSource
from resolver.results import LayersOutcome, LayersRun, LockOutcome, LockRun

if TYPE_CHECKING:
    from resolver.index.client import IndexClient
    from resolver.index.finder import Release
    from resolver.index.simple import FileLink
    from resolver.lock.layers import LayerPlan
    from resolver.lock.model import Lock
    from resolver.pipeline.session import IndexOptions
    from resolver.resolve.provider import Found, LookAhead
    from resolver.results import RelaxResult

__all__ = [
    "TORCH_FAMILY",
    "LockSettings",
    "layer_files",
    "load_groups",
    "lock_files",
    "lock_inputs",
    "lock_status",
    "refuse_inputs",
    "run_layers",
    "run_lock",
]

#: The names read from the PyTorch wheel index when one is given.
TORCH_FAMILY: frozenset[str] = frozenset({"torch", "torchvision", "torchaudio", "triton"})
_BUILD_TOOLS_REASON = "(build tools)"


@dataclass(frozen=True, slots=True, kw_only=True)
class LockSettings:
    """What to lock beyond the index options: the PyTorch wheel index, the variant, relaxed or as written.

    ``relaxed`` locks the ranges the relax command would write instead of the files as they are.
    ``variant`` (``cu128``) names the torch layer; when unset it comes from ``torch_index_url``'s path.
    """

    torch_index_url: str | None = None
    variant: str | None = None
    relaxed: bool = False
    #: normalized name -> version to keep while the inputs allow it (an existing lock's pins; see run_lock)
    keep: Mapping[str, Version] = field(default_factory=dict)


@dataclass(slots=True)
class _Routed:
    """A candidate and release source over the main index, and the PyTorch wheel index for the torch family."""

    main: IndexSource
    torch: IndexSource | None
    names: frozenset[str] = TORCH_FAMILY
    _picked: dict[str, IndexSource] = field(default_factory=dict)

    def source_for(self, name: str) -> IndexSource:
        if name not in self._picked:
            routed = self.torch is not None and name in self.names and self.torch.finder.releases(name) is not None
            self._picked[name] = self.torch if routed and self.torch is not None else self.main
        return self._picked[name]

    def candidates(self, name: NormalizedName, specifier: SpecifierSet, *, pinned: bool) -> Sequence[Found]:
        return self.source_for(name).candidates(name, specifier, pinned=pinned)

    def requires_dist(self, found: Found) -> tuple[str, ...] | None:
        return self.source_for(found.name).requires_dist(found)

    def prefetch(self, names: Iterable[NormalizedName]) -> None:
        wanted = list(names)
        if self.torch is not None:
            self.torch.prefetch(n for n in wanted if n in self.names)
        self.main.prefetch(n for n in wanted if self.torch is None or n not in self.names)

    def prefetch_dependencies(self, found: Iterable[Found]) -> None:
        for item in found:
            self.source_for(item.name).prefetch_dependencies([item])

    def look_ahead(self, requirements: Iterable[Req], guide: LookAhead) -> None:
        for requirement in requirements:
            self.source_for(requirement.name).look_ahead([requirement], guide)

    def releases(self, name: str) -> Sequence[Release] | None:
        return self.source_for(canonicalize_name(name)).finder.releases(name)

    def index_of(self, link: FileLink) -> str:
        return self.main.client.index_of(link)


def lock_inputs(
    result: RelaxResult, options: IndexOptions, settings: LockSettings, *, build_tools: Sequence[str] = ()
) -> str:
    """The inputs digest of a lock: file texts, target, indexes, PyTorch index, variant. No network."""
    index, pre = index_settings(options, result.files)
    target = make_target(options.python, options.platform)
    parts = ["relax-pins lock inputs 1"]
    parts += [f"{f.display}\n{f.text if settings.relaxed else f.original.text}" for f in result.files]
    parts += [f"{key}={value}" for key, value in sorted(target.describe().items())]
    parts += [f"index={strip_credentials(u)}" for u in index.urls]
    parts += [f"find-links={strip_credentials(u)}" for u in index.find_links]
    parts += [
        f"torch-index={strip_credentials(settings.torch_index_url or '')}",
        f"variant={settings.variant or ''}",
        f"pre={pre}",
        f"build-tools={','.join(build_tools)}",
    ]
    return inputs_digest(parts)


def _requests(
    directs: Sequence[Direct], target: Target, build_tools: Sequence[str]
) -> tuple[list[Req], dict[str, SpecifierSet], list[Requested], list[Finding]]:
    """The resolver's requests, the ``-c`` constraints, what the user asked for, and what cannot be locked."""
    env = {**target.markers, "extra": ""}
    reqs: list[Req] = []
    constraints: dict[str, SpecifierSet] = {}
    requested: list[Requested] = []
    refused: list[Finding] = []
    for d in directs:
        if d.marker is not None and not d.marker.evaluate(env):
            continue
        if d.url is not None or d.unchecked is not None:
            why = d.unchecked or "a direct reference has no index hash to lock"
            refused.append(d.finding("unlockable", Severity.ERROR, f"{d.text}: cannot be locked: {why}"))
            continue
        if d.constraint:
            constraints[d.name] = constraints.get(d.name, SpecifierSet()) & d.specifier
            continue
        reqs.append(Req(name=d.name, specifier=d.specifier, extras=d.extras, origin=Origin(path=d.path, line=d.line)))
        marker = str(d.marker) if d.marker is not None else None
        text = f"{d.text} ; {marker}" if marker else d.text
        requested.append(Requested(name=d.name, text=text, path=d.path, line=d.line, marker=marker))
    asked = {r.name for r in reqs}
    for tool in build_tools:
        name = canonicalize_name(tool)
        reqs.append(Req(name=name, origin=Origin(path=_BUILD_TOOLS_REASON)))
        if name not in asked:
            requested.append(Requested(name=name, text=name, path=_BUILD_TOOLS_REASON))
    return reqs, constraints, requested, refused


def _conflict_finding(conflict: Conflict) -> Finding:
    place = next(iter(conflict.direct), None)
    return Finding(
        code="unresolvable",
        severity=Severity.ERROR,
        message=conflict.message,
        path=place.origin.path if place else None,
        line=place.origin.line if place else None,
        package=place.name if place else None,
        fix=conflict.fix,
    )


def _dynamic_finding(name: str) -> Finding:
    return Finding(
        code="dynamic-metadata",
        severity=Severity.WARNING,
        package=name,
        message=f"the dependencies of {name} could not be read without building it; the lock holds {name} but "
        "not what it needs",
        fix=f"use a release of {name} that publishes a wheel, or list its dependencies yourself",
    )


def _lock(
    result: RelaxResult,
    options: IndexOptions,
    settings: LockSettings,
    *,
    build_tools: Sequence[str],
    on_client: Callable[[IndexClient], None] | None,
) -> LockOutcome:
    from resolver.index.client import IndexUnreachableError, IntegrityError

    env = lock_environment(result, options, relaxed=settings.relaxed)
    target, index, pre = env.target, env.index, env.pre
    torch_url = settings.torch_index_url
    indexes = tuple(redact(u) for u in (*index.urls, *((torch_url,) if torch_url else ())))
    inputs = lock_inputs(result, options, settings, build_tools=build_tools)
    reqs, constraints, requested, refused = _requests(env.directs, target, build_tools)
    if refused:
        return LockOutcome(lock=None, target=target, indexes=indexes, inputs=inputs, findings=tuple(refused))
    cache = open_cache(options)
    try:
        with contextlib.ExitStack() as stack:
            sources: list[IndexSource] = []
            for where in (
                index,
                *((IndexSettings(index_url=torch_url, origin="torch index"),) if torch_url else ()),
            ):
                client = stack.enter_context(open_client(where, options, cache))
                if on_client is not None:
                    on_client(client)
                sources.append(IndexSource(finder=Finder(client, target, allow_prereleases=pre), client=client))
            routed = _Routed(main=sources[0], torch=sources[1] if torch_url else None)
            outcome = resolve(
                reqs,
                source=routed,
                markers=target.markers,
                mode=Mode.HIGHEST,
                constraints=constraints,
                preferred=settings.keep,
            )
            if outcome.resolution is None:
                assert outcome.conflict is not None  # resolve returns one or the other
                finding = _conflict_finding(outcome.conflict)
                return LockOutcome(lock=None, target=target, indexes=indexes, inputs=inputs, findings=(finding,))
            lock = build_lock(
                outcome.resolution,
                releases=routed.releases,
                index_of=routed.index_of,
                target=target,
                inputs=inputs,
                requested=requested,
                indexes=indexes,
                sources=[f.display for f in result.files],
                index_url=index.index_url if index.origin != "pip default" else None,
                extra_index_urls=[*index.extra_index_urls, *((torch_url,) if torch_url else ())],
                find_links=index.find_links,
                variant=settings.variant or variant_of_url(torch_url),
            )
    except IndexUnreachableError as exc:
        return LockOutcome(lock=None, target=target, indexes=indexes, inputs=inputs, unreachable=str(exc))
    except (IntegrityError, HashUnavailableError) as exc:
        return LockOutcome(lock=None, target=target, indexes=indexes, inputs=inputs, integrity=str(exc))
    findings = tuple(_dynamic_finding(name) for name in lock.dynamic)
    return LockOutcome(lock=lock, target=target, indexes=indexes, inputs=inputs, findings=findings)


def lock_files(
    result: RelaxResult,
    options: IndexOptions,
    settings: LockSettings | None = None,
    *,
    on_client: Callable[[IndexClient], None] | None = None,
) -> LockOutcome:
    """Lock the files' requirements for the target (module docstring); prints nothing, writes nothing."""
    return _lock(result, options, settings or LockSettings(), build_tools=(), on_client=on_client)


def layer_files(
    result: RelaxResult,
    options: IndexOptions,
    settings: LockSettings | None = None,
    *,
    groups: Sequence[Group] | None = None,
    build_tools: Sequence[str] = BUILD_TOOLS,
    on_client: Callable[[IndexClient], None] | None = None,
) -> LayersOutcome:
    """Lock the files with ``build_tools`` added (newest, unless the files say otherwise) and split into layers.

    ``groups`` default to :func:`load_groups` for the first file's folder.
    """
    chosen = settings or LockSettings()
    outcome = _lock(result, options, chosen, build_tools=tuple(build_tools), on_client=on_client)
    if outcome.lock is None:
        return LayersOutcome(outcome=outcome, plan=None)
    if groups is None:
        groups = load_groups(None, start=result.files[0].path.parent if result.files else Path())
    return LayersOutcome(outcome=outcome, plan=plan_layers(outcome.lock, groups, variant=chosen.variant))


def load_groups(config: Path | None, *, start: Path) -> tuple[Group, ...]:
    """The shipped groups with ``[tool.relax-pins.layers]`` of ``config`` (else the nearest configured
    pyproject.toml above ``start``) merged over them."""
    path = config if config is not None else find_config(start)
    if path is None:
        return default_groups()
    shown = display_path(path)
    table, line = read_table(path, display=shown, required=config is not None)
    layers = table.get("layers") if table is not None else None
    if layers is None:
        return default_groups()
    if not isinstance(layers, dict):
        raise ConfigError(
            "[tool.relax-pins.layers] must be a table of group = [package names or globs]", path=shown, line=line
        )
    return merge_groups(default_groups(), layers, path=shown)


def refuse_inputs(output: Path, result: RelaxResult, config: Path | None = None) -> None:
    """An output path equal to an input path (or to the ``--config`` file the run read) would overwrite a
    source with generated text: refused."""
    inputs = {f.path.resolve() for f in result.files} | ({config.resolve()} if config is not None else set())
    if output.resolve() in inputs:
        raise InputError("is one of the input files; write the lock or layers elsewhere", path=str(output))


#: What the first lines of a file ``layers`` wrote say (layer files, ranges files and the Dockerfile fragment).
_OURS = "generated by relax-pins layers"


def _refuse_foreign(targets: Sequence[Path], result: RelaxResult, *, force: bool, config: Path | None) -> None:
    """Before anything is written: a layer file that is one of the inputs is refused (``--force`` or not: the
    source would be lost), and so is an existing file that ``layers`` did not write, unless ``force``."""
    inputs = {f.path.resolve() for f in result.files} | ({config.resolve()} if config is not None else set())
    for target in targets:
        if target.resolve() in inputs:
            raise InputError(
                "is one of the input files, and layers would write a layer file over it; give -o another folder",
                path=str(target),
            )
        if not force and target.is_file():
            _refuse_unknown(target, "relax-pins layers", marker=_OURS)


def _refuse_unknown(path: Path, writer: str, *, marker: str) -> None:
    """An existing file whose first lines do not carry ``marker`` was not written by ``writer``: refused
    (``--force`` replaces it), so a hand-written file or another tool's lock is never lost."""
    with path.open("rb") as handle:
        head = handle.read(1024).decode("utf-8", "replace").lower()
    if marker not in head:
        raise InputError(
            f"exists and was not written by {writer}; move it, or give --force to replace it", path=str(path)
        )


def lock_status(
    inputs: RelaxSettings, options: IndexOptions, settings: LockSettings, output: Path
) -> tuple[RelaxResult, LockCheck]:
    """``lock --check``: whether the lock file at ``output`` records the inputs digest of these sources,
    target and indexes. No network."""
    result = plan_relax(inputs)
    refuse_inputs(output, result)
    existing = read_text(output).text if output.is_file() else None
    described = make_target(options.python, options.platform).describe()
    target = (str(described["python"]), str(described["platform"]))
    return result, check_lock(existing, inputs=lock_inputs(result, options, settings), target=target)


def locked_versions(text: str) -> dict[str, Version]:
    """The versions a lock file pins (normalized name -> version): a pylock.toml's ``[[packages]]``, or the
    ``name==version`` lines of a hashed requirements file; ``{}`` for anything else."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    out: dict[str, Version] = {}
    try:
        packages = tomlkit.parse(text).unwrap().get("packages", [])
    except TOMLKitError:
        packages = None
    if isinstance(packages, list):
        for package in packages:
            if isinstance(package, dict) and isinstance(package.get("name"), str):
                with contextlib.suppress(InvalidVersion, TypeError):
                    out[canonicalize_name(package["name"])] = Version(str(package.get("version")))
        return out
    for match in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", text, re.MULTILINE):
        with contextlib.suppress(InvalidVersion):
            out[canonicalize_name(match[1])] = Version(match[2])
    return out


def kept_pins(existing: str | None, *, upgrade: bool, upgrade_packages: Sequence[str]) -> dict[str, Version]:
    """What a new lock should keep of ``existing``: every pin, unless ``upgrade``; ``upgrade_packages`` (``NAME``
    or ``NAME==VERSION``) free a name, or ask for that version. A bad word is :class:`InputError`."""
    keep = {} if upgrade or existing is None else locked_versions(existing)
    for word in upgrade_packages:
        name, eq, version = word.partition("==")
        if not name.strip() or (eq and not version.strip()):
            raise InputError(f"--upgrade-package takes NAME or NAME==VERSION, not {word!r}", path="--upgrade-package")
        key = canonicalize_name(name.strip())
        keep.pop(key, None)
        if eq:
            try:
                keep[key] = Version(version.strip())
            except InvalidVersion:
                raise InputError(f"--upgrade-package {word!r}: not a version", path="--upgrade-package") from None
    return keep


def moved_pins(before: Mapping[str, Version], lock: Lock) -> tuple[tuple[str, str, str], ...]:
    """``(name, old, new)`` for every package an earlier lock pinned at another version (or added: old ``""``)."""
    out = []
    for package in sorted(lock.packages, key=lambda p: p.name):
        old = before.get(canonicalize_name(package.name))
        if old is None or old != Version(str(package.version)):
            out.append((package.name, str(old) if old is not None else "", str(package.version)))
    return tuple(out)


def run_lock(
    inputs: RelaxSettings,
    options: IndexOptions,
    settings: LockSettings,
    *,
    output: Path,
    render: Callable[[Lock], str],
    on_client: Callable[[IndexClient], None] | None = None,
    force: bool = False,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
) -> LockRun:
    """The lock command: lock the sources and write ``render(lock)`` to ``output`` when its text changed
    (atomically; an input is never overwritten). No lock, no write."""
    result = plan_relax(inputs)
    refuse_inputs(output, result, inputs.config)
    if not force and output.is_file():
        _refuse_unknown(output, "relax-pins lock", marker="generated by relax-pins")
    existing = read_text(output).text if output.is_file() else None
    keep = kept_pins(existing, upgrade=upgrade, upgrade_packages=upgrade_packages)
    outcome = lock_files(result, options, replace(settings, keep=keep), on_client=on_client)
    if outcome.lock is None:
        return LockRun(outcome=outcome)
    text = render(outcome.lock)
    if text != existing:
        write_all([(output, text.encode(), output.read_bytes() if output.is_file() else None)])
    before = locked_versions(existing) if existing is not None else {}
    moved = moved_pins(before, outcome.lock) if existing is not None else ()
    return LockRun(outcome=outcome, text=text, changed=text != existing, moved=moved)


def run_layers(
    inputs: RelaxSettings,
    options: IndexOptions,
    settings: LockSettings,
    *,
    output: Path,
    render: Callable[[LayerPlan], Sequence[tuple[str, str]]],
    on_client: Callable[[IndexClient], None] | None = None,
    force: bool = False,
) -> LayersRun:
    """The layers command: lock with the build tools, split into layers, and write the files ``render``
    makes of the plan (``(name, text)`` pairs) into the folder ``output``, all or none. An input is never
    written over; an existing file that layers did not write only with ``force``."""
    result = plan_relax(inputs)
    refuse_inputs(output, result)
    groups = load_groups(inputs.config, start=result.files[0].path.parent if result.files else Path())
    outcome = layer_files(result, options, settings, groups=groups, on_client=on_client)
    if outcome.plan is None:
        return LayersRun(outcome=outcome)
    writes = render(outcome.plan)
    targets = [output / name for name, _ in writes]
    _refuse_foreign(targets, result, force=force, config=inputs.config)
    output.mkdir(parents=True, exist_ok=True)
    payload = []
    for target, (_, text) in zip(targets, writes, strict=True):
        payload.append((target, text.encode(), target.read_bytes() if target.is_file() else None))
    write_all(payload)
    return LayersRun(outcome=outcome, written=tuple(name for name, _ in writes))
