"""The environment a resolution is for: Python version, platform tags and the PEP 508 marker environment.

PURE: values in, values out. The only things read from the running process are the defaults for an unset
``--python`` / ``--platform`` (``packaging.tags.sys_tags``, ``packaging.markers.default_environment``), so
``make_target()`` with no arguments answers exactly as pip on this machine would.

What ``--platform`` accepts, as a wheel platform tag (the forms ``pip download --platform`` takes):

- ``manylinux_2_X_<arch>`` expands to every ``manylinux_2_Y_<arch>`` for ``Y <= X`` (down to glibc 2.5)
  plus the legacy aliases ``manylinux2014`` (2.17), ``manylinux2010`` (2.12) and ``manylinux1`` (2.5)
  where the architecture has them, in packaging's order; ``manylinux2014_<arch>`` and friends are accepted
  as their ``manylinux_2_Y`` spelling. ``linux_<arch>`` is never added (PyPI-style indexes do not take it,
  and it says nothing about glibc); give ``linux_<arch>`` explicitly to target only that tag.
- ``musllinux_1_X_<arch>`` expands to ``musllinux_1_Y_<arch>`` for ``Y <= X``.
- ``macosx_<major>_<minor>_<arch>`` expands through ``packaging.tags.mac_platforms``.
- ``win_amd64``, ``win32``, ``win_arm64`` and ``linux_<arch>`` stand alone.

Not supported: other interpreters than CPython for an explicit ``--python`` (PyPy tags differ per
release), iOS/Android tags, free-threaded (``cp313t``) targets. Cost: a target holds a few hundred tags;
:meth:`Target.tag_priority` is one dictionary lookup per wheel tag.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from packaging.markers import default_environment
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms, platform_tags, sys_tags

from resolver.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Target", "make_target"]

_PYTHON_HINT = "give a CPython version such as 3.11 or 3.11.4 (or 311)"
_PLATFORM_HINT = (
    "give a wheel platform tag such as manylinux_2_28_x86_64, musllinux_1_2_aarch64, macosx_14_0_arm64, "
    "win_amd64 or linux_x86_64"
)
#: manylinux architectures that also have the legacy alias names (PEP 599, PEP 571, PEP 513).
_LEGACY_ALIASES: dict[int, tuple[str, frozenset[str]]] = {
    17: ("manylinux2014", frozenset({"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"})),
    12: ("manylinux2010", frozenset({"x86_64", "i686"})),
    5: ("manylinux1", frozenset({"x86_64", "i686"})),
}
_LEGACY_GLIBC = {name: minor for minor, (name, _) in _LEGACY_ALIASES.items()}
_MAC_ARCHES = frozenset({"arm64", "x86_64", "universal2", "intel", "universal", "i386"})
#: Linux architectures wheels are built for (PEP 599/600/656 and what the index holds); a typo is refused.
_LINUX_ARCHES = frozenset(
    {"x86_64", "i686", "aarch64", "armv7l", "armv6l", "ppc64le", "ppc64", "s390x", "riscv64", "loongarch64"}
)
_WINDOWS_MACHINE = {"win_amd64": "AMD64", "win32": "x86", "win_arm64": "ARM64"}


@functools.lru_cache(maxsize=4096)
def _python_ok(requires_python: str, python_full_version: str) -> bool:
    """Cached: an ML resolution asks about the same few hundred Requires-Python strings ~100,000 times."""
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True
    return spec.contains(python_full_version, prereleases=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The environment to resolve for. Build it with :func:`make_target`.

    ``tags`` are most preferred first, as pip orders them; ``markers`` is a read-only PEP 508 marker
    environment. ``platform`` is the ``--platform`` tag as given, ``None`` for this machine.
    """

    python_version: tuple[int, int]
    python_full_version: str
    platform: str | None
    tags: tuple[Tag, ...]
    markers: Mapping[str, str] = field(hash=False)
    _rank: Mapping[Tag, int] = field(init=False, repr=False, compare=False, hash=False)
    _text_rank: Mapping[str, int] = field(init=False, repr=False, compare=False, hash=False)
    _seen: dict[tuple[str, str, str], int | None] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        rank: dict[Tag, int] = {}
        for index, tag in enumerate(self.tags):
            rank.setdefault(tag, index)
        object.__setattr__(self, "_rank", MappingProxyType(rank))
        object.__setattr__(self, "_text_rank", MappingProxyType({str(tag): i for tag, i in rank.items()}))
        object.__setattr__(self, "_seen", {})
        object.__setattr__(self, "markers", MappingProxyType(dict(self.markers)))

    def priority_of(self, python: str, abi: str, platform: str) -> int | None:
        """:meth:`tag_priority` for the three tag fields of a wheel filename (compressed sets allowed).

        The finder calls this for every wheel of every project it reads (tens of thousands for an ML set),
        so it works on strings and skips building :class:`Tag` objects.
        """
        key = (python, abi, platform)
        if key in self._seen:
            return self._seen[key]
        rank = self._text_rank
        best: int | None = None
        for py in python.lower().split("."):
            for ab in abi.lower().split("."):
                for plat in platform.lower().split("."):
                    found = rank.get(f"{py}-{ab}-{plat}")
                    if found is not None and (best is None or found < best):
                        best = found
        self._seen[key] = best  # a few hundred distinct tag triples stand for ~100,000 files
        return best

    def tag_priority(self, tags: frozenset[Tag]) -> int | None:
        """The index in :attr:`tags` of the best of a wheel's ``tags`` (lower is better); ``None`` if none fits."""
        found = [self._rank[tag] for tag in tags if tag in self._rank]
        return min(found) if found else None

    def python_ok(self, requires_python: str | None) -> bool:
        """Whether the target Python satisfies ``requires_python``.

        Lenient like pip: no value, an empty one or an invalid specifier counts as satisfied, since real
        indexes serve broken ``Requires-Python`` strings and refusing them would hide releases.
        """
        if not requires_python or not requires_python.strip():
            return True
        return _python_ok(requires_python, self.python_full_version)

    @property
    def platform_tag(self) -> str:
        """The ``--platform`` given, else this machine's most specific platform tag (its first wheel tag's)."""
        return self.platform or (self.tags[0].platform if self.tags else "any")

    def describe(self) -> dict[str, str]:
        """The target for the JSON report: every value a string; the platform is always a tag."""
        return {
            "python": f"{self.python_version[0]}.{self.python_version[1]}",
            "python_full_version": self.python_full_version,
            "platform": self.platform_tag,
            "sys_platform": self.markers.get("sys_platform", ""),
            "platform_machine": self.markers.get("platform_machine", ""),
            "implementation": self.markers.get("implementation_name", ""),
        }


def _parse_python(text: str) -> tuple[tuple[int, int], str]:
    value = text.strip()
    if re.fullmatch(r"3\d{1,2}", value):
        major, minor, micro = 3, int(value[1:]), 0
    else:
        match = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+))?", value)
        if match is None:
            raise InputError(f"{text!r} is not a Python version", path="--python", hint=_PYTHON_HINT)
        major, minor, micro = int(match[1]), int(match[2]), int(match[3] or 0)
    if major != 3:
        raise InputError(f"{text!r}: relax-pins targets Python 3", path="--python", hint=_PYTHON_HINT)
    return (major, minor), f"{major}.{minor}.{micro}"


def _manylinux(glibc_minor: int, arch: str) -> Iterator[str]:
    for minor in range(glibc_minor, 4, -1):
        yield f"manylinux_2_{minor}_{arch}"
        legacy = _LEGACY_ALIASES.get(minor)
        if legacy is not None and arch in legacy[1]:
            yield f"{legacy[0]}_{arch}"


def _linux_arch(tag: str, arch: str) -> str:
    if arch not in _LINUX_ARCHES:
        known = ", ".join(sorted(_LINUX_ARCHES))
        raise InputError(
            f"{tag!r}: unknown Linux architecture {arch!r} (known: {known})", path="--platform", hint=_PLATFORM_HINT
        )
    return arch


def _platforms(tag: str) -> tuple[list[str], dict[str, str]]:
    """The platform tags a ``--platform`` value stands for, and its marker values."""
    linux = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
    if match := re.fullmatch(r"manylinux_2_(\d+)_([a-z0-9_]+)", tag):
        arch = _linux_arch(tag, match[2])
        return list(_manylinux(int(match[1]), arch)), {**linux, "platform_machine": arch}
    if match := re.fullmatch(r"(manylinux2014|manylinux2010|manylinux1)_([a-z0-9_]+)", tag):
        arch = _linux_arch(tag, match[2])
        return list(_manylinux(_LEGACY_GLIBC[match[1]], arch)), {**linux, "platform_machine": arch}
    if match := re.fullmatch(r"musllinux_1_(\d+)_([a-z0-9_]+)", tag):
        arch = _linux_arch(tag, match[2])
        found = [f"musllinux_1_{minor}_{arch}" for minor in range(int(match[1]), -1, -1)]
        return found, {**linux, "platform_machine": arch}
    if match := re.fullmatch(r"linux_([a-z0-9_]+)", tag):
        return [tag], {**linux, "platform_machine": _linux_arch(tag, match[1])}
    if match := re.fullmatch(r"macosx_(\d+)_(\d+)_([a-z0-9_]+)", tag):
        version, arch = (int(match[1]), int(match[2])), match[3]
        found = list(mac_platforms(version, arch)) if arch in _MAC_ARCHES else []
        if not found:
            raise InputError(f"{tag!r}: unknown macOS architecture {arch!r}", path="--platform", hint=_PLATFORM_HINT)
        machine = "x86_64" if arch in {"x86_64", "intel", "universal", "universal2"} else arch
        darwin = {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"}
        return found, {**darwin, "platform_machine": machine}
    if tag in _WINDOWS_MACHINE:
        windows = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}
        return [tag], {**windows, "platform_machine": _WINDOWS_MACHINE[tag]}
    raise InputError(f"{tag!r} is not a wheel platform tag relax-pins knows", path="--platform", hint=_PLATFORM_HINT)


def _tags_for(version: tuple[int, int], platforms: list[str]) -> tuple[Tag, ...]:
    # Before 3.8, CPython's default build (pymalloc) has the ABI tag cp3Xm: torch 1.10.0 is cp37-cp37m-...
    abi = f"cp{version[0]}{version[1]}" + ("m" if version < (3, 8) else "")
    tags = [*cpython_tags(version, [abi], platforms), *compatible_tags(version, abi, platforms)]
    return tuple(dict.fromkeys(tags))


def make_target(python: str | None = None, platform: str | None = None) -> Target:
    """The target for ``--python`` / ``--platform``; ``None`` for either means this interpreter / machine.

    Raises :class:`~resolver.errors.InputError` (with a hint) for a value that is not a Python version or
    a platform tag of a known form. Cost: generating the tag list, well under a millisecond.
    """
    markers: dict[str, str] = {key: str(value) for key, value in default_environment().items()}
    if python is None:
        version = (sys.version_info[0], sys.version_info[1])
        full = markers["python_full_version"]
    else:
        version, full = _parse_python(python)
        implementation = {"implementation_name": "cpython", "platform_python_implementation": "CPython"}
        markers.update(implementation, implementation_version=full)
    markers.update(python_version=f"{version[0]}.{version[1]}", python_full_version=full)
    if platform is None:
        tags = tuple(sys_tags()) if python is None else _tags_for(version, list(platform_tags()))
    else:
        platforms, platform_markers = _platforms(platform.strip())
        markers.update(platform_markers, platform_release="", platform_version="")
        tags = _tags_for(version, platforms)
    return Target(python_version=version, python_full_version=full, platform=platform, tags=tags, markers=markers)
