"""The relaxation policy: which upper bound each package gets, and which packages stay exact.

A policy is data. It comes from, in order of precedence: the command line (``--bound``), then a
``[tool.relax-pins]`` table (in the nearest pyproject.toml or a ``--config`` file), then the default
(``minor``). The table's shape::

    [tool.relax-pins]
    bound = "minor"                  # major | minor | patch | lower
    keep = ["numpy", "torch"]        # left exact
    [tool.relax-pins.bounds]
    transformers = "patch"           # per-package bound

An inline ``# relax-pins: keep`` comment on a requirement line keeps that line exact; the parsers record it
and the pipeline asks :func:`Policy.bound_for` only for lines without it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from resolver.errors import ConfigError

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

__all__ = ["Bound", "Policy", "policy_from_table"]


class Bound(str, enum.Enum):
    """Where the upper bound of a relaxed pin goes.

    ``MAJOR``: below the next major (for 0.x, the first non-zero component is the major one);
    ``MINOR``: below the next minor; ``PATCH``: below the next patch; ``LOWER``: no upper bound.
    """

    MAJOR = "major"
    MINOR = "minor"
    PATCH = "patch"
    LOWER = "lower"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: object, *, where: str = "bound") -> Bound:
        """The bound named by ``value``; a ``ValueError`` naming the choices otherwise."""
        if isinstance(value, Bound):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        choices = ", ".join(b.value for b in cls)
        raise ValueError(f"{where}: {value!r} is not a bound (choose one of {choices})")


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """The bound for every package: a default, per-package bounds, and packages kept exact."""

    default: Bound = Bound.MINOR
    keep: frozenset[NormalizedName] = field(default=frozenset())
    bounds: tuple[tuple[NormalizedName, Bound], ...] = ()

    def bound_for(self, name: str) -> Bound | None:
        """The bound for ``name``, or ``None`` when the policy keeps it exact."""
        key = canonicalize_name(name)
        if key in self.keep:
            return None
        for pkg, bound in self.bounds:
            if pkg == key:
                return bound
        return self.default

    def with_default(self, bound: Bound) -> Policy:
        """The same policy with another default bound (``--bound`` on the command line)."""
        return Policy(default=bound, keep=self.keep, bounds=self.bounds)


#: The target and index keys of ``[tool.relax-pins]``, read by the commands (resolver.pipeline.config), not by
#: the policy; each is the long option of the same name.
TARGET_KEYS = frozenset(
    {"python", "platform", "cuda", "driver", "index-url", "extra-index-url", "torch-index-url", "dockerfile", "extras"}
)


def policy_from_table(table: Mapping[str, object], *, path: str) -> Policy:
    """Build a policy from a ``[tool.relax-pins]`` table, rejecting what it does not understand.

    Unknown keys are errors rather than silently ignored, because a misspelt ``keep`` would otherwise
    relax a pin the user asked to keep.
    """
    known = {"bound", "keep", "bounds", "layers", *TARGET_KEYS}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"[tool.relax-pins]: unknown key {unknown[0]!r}",
            path=path,
            hint=f"known keys: {', '.join(sorted(known))}",
        )
    default = Bound.MINOR
    if "bound" in table:
        try:
            default = Bound.parse(table["bound"], where="[tool.relax-pins].bound")
        except ValueError as exc:
            raise ConfigError(str(exc), path=path) from None
    keep_raw = table.get("keep", [])
    if not isinstance(keep_raw, list) or not all(isinstance(k, str) for k in keep_raw):
        raise ConfigError("[tool.relax-pins].keep must be a list of package names", path=path)
    bounds_raw = table.get("bounds", {})
    if not isinstance(bounds_raw, Mapping):
        raise ConfigError("[tool.relax-pins.bounds] must be a table of package = bound", path=path)
    bounds: list[tuple[NormalizedName, Bound]] = []
    for name, value in bounds_raw.items():
        try:
            bounds.append((canonicalize_name(str(name)), Bound.parse(value, where=f"bounds.{name}")))
        except ValueError as exc:
            raise ConfigError(f"[tool.relax-pins.{exc}", path=path) from None
    return Policy(
        default=default,
        keep=frozenset(canonicalize_name(k) for k in keep_raw),
        bounds=tuple(bounds),
    )
