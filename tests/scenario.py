"""Small package universes published on the loopback index, described as data.

``publish(server, wheels, UNIVERSE)`` builds a real wheel (or sdist) for every release and serves it, so tests
read like the situation they check: ``{"torchvision": [Rel("0.16.0", ["torch==2.1.0"])]}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tests.indexserver.model import Project, dist
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache

__all__ = ["ML", "Rel", "publish"]


@dataclass(frozen=True)
class Rel:
    """One release: its version, Requires-Dist, and how it is published."""

    version: str
    requires: Sequence[str] = ()
    requires_python: str | None = None
    yanked: bool | str = False
    sdist_only: bool = False
    dynamic: bool = False
    tags: str = "py3-none-any"
    extras: Sequence[str] = field(default=())


def publish(server: IndexServer, wheels: WheelCache, universe: Mapping[str, Sequence[Rel]]) -> None:
    """Build and serve every release of ``universe``."""
    for name, releases in universe.items():
        files = []
        for rel in releases:
            if rel.sdist_only:
                path = wheels.sdist(
                    name,
                    rel.version,
                    requires_dist=tuple(rel.requires),
                    requires_python=rel.requires_python,
                    dynamic=("Requires-Dist",) if rel.dynamic else (),
                )
            else:
                path = wheels.wheel(
                    name,
                    rel.version,
                    requires_dist=tuple(rel.requires),
                    requires_python=rel.requires_python,
                    tags=rel.tags,
                    extras=tuple(rel.extras),
                )
            files.append(dist(path, yanked=rel.yanked, requires_python=rel.requires_python))
        server.add(Project(name, files))


#: A miniature ML stack with the couplings that break real builds.
ML: dict[str, list[Rel]] = {
    "torch": [
        Rel("2.0.1", ["filelock", "numpy"]),
        Rel("2.1.0", ["filelock", "numpy"]),
        Rel("2.7.0", ["filelock", "numpy", "triton==3.3.0; platform_system == 'Linux'"]),
        Rel("2.7.1", ["filelock", "numpy", "triton==3.3.1; platform_system == 'Linux'"]),
    ],
    "triton": [Rel("3.3.0"), Rel("3.3.1")],
    "filelock": [Rel("3.13.1"), Rel("3.16.1")],
    "torchvision": [
        Rel("0.15.2", ["torch==2.0.1", "numpy"]),
        Rel("0.16.0", ["torch==2.1.0", "numpy"]),
        Rel("0.22.0", ["torch==2.7.0", "numpy"]),
        Rel("0.22.1", ["torch==2.7.1", "numpy"]),
    ],
    "numpy": [Rel("1.26.4"), Rel("2.0.0"), Rel("2.2.6", requires_python=">=3.10")],
    "transformers": [
        Rel("4.36.2", ["numpy>=1.17", "tokenizers>=0.14,<0.19", "torch>=1.10; extra == 'torch'"], extras=["torch"]),
        Rel("4.37.0", ["numpy>=1.17", "tokenizers>=0.14,<0.19", "torch>=1.11; extra == 'torch'"], extras=["torch"]),
    ],
    "tokenizers": [Rel("0.15.0"), Rel("0.15.2"), Rel("0.19.1")],
    "certifi": [Rel("2024.2.2"), Rel("2024.8.30")],
    "pendulum": [Rel("3.0.0", yanked="broken wheel"), Rel("3.0.1")],
    "oldlib": [Rel("1.0.0", requires_python="<3.8"), Rel("1.1.0", requires_python="<3.8")],
    "av": [Rel("11.0.0", sdist_only=True), Rel("12.0.0", tags="cp39-cp39-win_amd64")],
    "dynlib": [Rel("1.0.0", sdist_only=True, dynamic=True, requires=["numpy"])],
    "app": [Rel("1.0.0", ["lib>=1.5"]), Rel("1.1.0", ["lib>=1.5"])],
    "lib": [Rel("1.0.0"), Rel("1.5.0"), Rel("1.9.0")],
    "pip": [Rel("24.0"), Rel("25.1")],
    "setuptools": [Rel("80.9.0")],
    "wheel": [Rel("0.45.1")],
}
