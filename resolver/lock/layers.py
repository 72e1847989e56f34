"""Split a lock into Docker install layers: heavy, slow-changing groups first, the application last.

PURE apart from reading the shipped ``data/layers.yaml`` once. The order is fixed at both ends: ``build``
(pip, setuptools, wheel) first, ``torch`` (the GPU framework and its ``nvidia-*``/``cuda-*`` runtime wheels)
second, then the further groups in the order configured (shipped: kernels, huggingface, scientific, web), and
``app``, everything no group claims, last.

The rule that keeps layers installable with ``pip install --no-deps``: a package goes into the EARLIEST layer
that needs it. Walking the layers in order, a layer takes the unassigned packages its patterns match and then,
transitively, every unassigned dependency of those. So numpy, needed by torch, lands in the torch layer even
though the scientific group lists it; every layer's dependencies are in it or before it; each package is in
exactly one layer, so no layer re-installs, upgrades or downgrades what an earlier one put down; after the last
layer ``pip check`` passes. Empty layers are dropped and the rest numbered ``01``, ``02``... in order.

User groups come from ``[tool.relax-pins.layers]`` (a mapping ``name -> [names or globs]``) merged over the
shipped ones: a known name replaces that group's list, a new name adds a group after the shipped ones, an empty
list removes a group. Cost: linear in packages times patterns (a few hundred by a few dozen).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from packaging.utils import canonicalize_name

from resolver.errors import ConfigError
from resolver.yamlio import safe_load, shipped_file

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from resolver.lock.model import Lock, LockedPackage

__all__ = [
    "APP",
    "BUILD",
    "BUILD_TOOLS",
    "LAYERS_FILE",
    "TORCH",
    "Group",
    "Layer",
    "LayerPlan",
    "default_groups",
    "detect_variant",
    "merge_groups",
    "parse_groups",
    "plan_layers",
]

BUILD = "build"
TORCH = "torch"
APP = "app"
#: What the build layer holds by default, and what ``relax-pins layers`` adds to the resolution for it.
BUILD_TOOLS: tuple[str, ...] = ("pip", "setuptools", "wheel")
LAYERS_FILE = "layers.yaml"

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_VARIANT = re.compile(r"cu\d{3,}|rocm\d+(?:\.\d+)*|cpu")
_CUDA_RUNTIME = re.compile(r"nvidia-cuda-runtime-cu\d+")
_APP_WHY = "the application's own dependencies, everything no earlier group claims; changed most often"


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """A named set of package names or globs, and why it gets a layer of its own."""

    name: str
    patterns: tuple[str, ...]
    why: str = ""

    def matches(self, name: str) -> bool:
        """Whether ``name`` (any spelling) is one of the group's names or matches one of its globs."""
        key = canonicalize_name(name)
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.patterns)


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    """One install layer: its file name, what it holds and why; ``pulled_in`` came as dependencies."""

    position: int
    group: str
    filename: str
    why: str
    packages: tuple[LockedPackage, ...]
    pulled_in: tuple[NormalizedName, ...] = ()

    @property
    def size(self) -> int:
        """Bytes pip downloads for this layer (files whose size the index does not give count 0)."""
        return sum(p.size or 0 for p in self.packages)

    @property
    def sizes_known(self) -> bool:
        """Whether the index gave the size of every file of the layer."""
        return all(p.size is not None for p in self.packages)

    @property
    def indexes(self) -> tuple[str, ...]:
        """The indexes the layer installs from, in order of first use."""
        return tuple(dict.fromkeys(p.index for p in self.packages if p.index))


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerPlan:
    """The layers of a lock, in install order."""

    layers: tuple[Layer, ...]
    lock: Lock
    variant: str | None = None

    @property
    def size(self) -> int:
        """Bytes pip downloads for every layer."""
        return sum(layer.size for layer in self.layers)

    @property
    def sizes_known(self) -> bool:
        """Whether every file's size is known."""
        return all(layer.sizes_known for layer in self.layers)

    def layer_of(self, name: str) -> Layer | None:
        """The layer holding ``name``, if any."""
        key = canonicalize_name(name)
        return next((layer for layer in self.layers if any(p.name == key for p in layer.packages)), None)


def _pattern(text: str) -> str:
    """A name or glob in PEP 503 form: lower case, runs of ``-_.`` as one ``-`` (glob characters kept)."""
    return re.sub(r"[-_.]+", "-", text.strip().lower())


def _group(name: object, patterns: object, why: object, *, where: str) -> Group:
    if not isinstance(name, str) or not _SLUG.fullmatch(name) or name == APP:
        raise ConfigError(
            f"{where}: {name!r} is not a layer group name",
            hint=f"use lower-case letters, digits and '-'; {APP!r} is the implicit last layer",
        )
    if not isinstance(patterns, Sequence) or isinstance(patterns, str) or not all(isinstance(p, str) for p in patterns):
        raise ConfigError(f"{where}.{name} must be a list of package names or glob patterns")
    if not isinstance(why, str):
        raise ConfigError(f"{where}.{name}.why must be a string")
    return Group(name=name, patterns=tuple(_pattern(p) for p in patterns if p.strip()), why=why)


def _ordered(groups: Sequence[Group]) -> tuple[Group, ...]:
    """``build`` and ``torch`` first, the rest in the given order; empty groups dropped."""
    fixed = [g for name in (BUILD, TORCH) for g in groups if g.name == name]
    rest = [g for g in groups if g.name not in (BUILD, TORCH)]
    return tuple(g for g in (*fixed, *rest) if g.patterns)


def parse_groups(text: str, *, source: str) -> tuple[Group, ...]:
    """The groups of a layers YAML document (the shipped file's shape); :class:`ConfigError` when malformed."""
    try:
        document = safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=source) from None
    items = document.get("groups") if isinstance(document, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError("expected a top-level 'groups' list of {name, why, packages}", path=source)
    try:
        groups = [_group(i.get("name"), i.get("packages", []), i.get("why", ""), where="groups") for i in items]
    except ConfigError as exc:
        exc.path = source
        raise
    names = [g.name for g in groups]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigError(f"group {duplicate!r} is defined twice", path=source)
    return _ordered(groups)


def builtin_path() -> Path:
    """The shipped layers file: beside this module in a wheel, under ``data/`` at the top of a source tree."""
    found = shipped_file(LAYERS_FILE)
    if found is None:
        raise ConfigError(
            f"the built-in {LAYERS_FILE} is missing from this installation", path=str(Path(__file__).resolve())
        )
    return found


@functools.cache
def default_groups() -> tuple[Group, ...]:
    """The shipped groups, read once per process."""
    path = builtin_path()
    return parse_groups(path.read_text(encoding="utf-8"), source=str(path))


def merge_groups(defaults: Sequence[Group], table: Mapping[str, object], *, path: str) -> tuple[Group, ...]:
    """``[tool.relax-pins.layers]`` over ``defaults``: replace by name, add new names, drop empty lists."""
    where = "[tool.relax-pins.layers]"
    try:
        mine = {str(name): _group(name, value, "", where=where) for name, value in table.items()}
    except ConfigError as exc:
        exc.path = path
        raise
    merged = [Group(name=g.name, patterns=mine[g.name].patterns, why=g.why) if g.name in mine else g for g in defaults]
    known = {g.name for g in defaults}
    merged += [
        Group(name=g.name, patterns=g.patterns, why=f"configured in {where}")
        for g in mine.values()
        if g.name not in known
    ]
    return _ordered(merged)


def detect_variant(lock: Lock) -> str | None:
    """The build variant of the lock's torch: as configured, else torch's local label (``2.7.1+cu128``), else
    the CUDA of the ``nvidia-cuda-runtime-cuXX`` wheel the main index's torch depends on (12.8.x -> cu128)."""
    if lock.variant:
        return lock.variant
    torch = lock.get("torch")
    if torch is None:
        return None
    local = torch.version.local
    if local and _VARIANT.fullmatch(local):
        return local
    runtime = next((p for p in lock.packages if _CUDA_RUNTIME.fullmatch(p.name)), None)
    if runtime is not None and len(runtime.version.release) >= 2:
        major, minor = runtime.version.release[:2]
        if runtime.name.endswith(f"-cu{major}"):  # the version's major agrees with the name's
            return f"cu{major}{minor}"
    return None


def plan_layers(lock: Lock, groups: Sequence[Group] | None = None, *, variant: str | None = None) -> LayerPlan:
    """The lock's packages in layers (module docstring); ``groups`` default to the shipped ones."""
    chosen = _ordered(list(default_groups() if groups is None else groups))
    variant = variant or detect_variant(lock)
    by_name: dict[str, LockedPackage] = {p.name: p for p in lock.packages}
    assigned: dict[str, int] = {}
    seeds: dict[int, set[str]] = {}
    everything = (*chosen, Group(name=APP, patterns=("*",), why=_APP_WHY))
    for index, group in enumerate(everything):
        seeds[index] = {n for n in by_name if n not in assigned and group.matches(n)}
        stack = sorted(seeds[index], reverse=True)
        while stack:
            name = stack.pop()
            if name in assigned:
                continue
            assigned[name] = index
            stack.extend(d for d in by_name[name].dependencies if d in by_name and d not in assigned)
    layers: list[Layer] = []
    for index, group in enumerate(everything):
        members = sorted((by_name[n] for n, i in assigned.items() if i == index), key=lambda p: p.name)
        if not members:
            continue
        position = len(layers) + 1
        slug = f"{group.name}-{variant}" if group.name == TORCH and variant else group.name
        layers.append(
            Layer(
                position=position,
                group=group.name,
                filename=f"{position:02d}-{slug}.txt",
                why=group.why,
                packages=tuple(members),
                pulled_in=tuple(p.name for p in members if p.name not in seeds[index]),
            )
        )
    return LayerPlan(layers=tuple(layers), lock=lock, variant=variant)
