"""The search on a chain that used to explode, against the loopback index.

The shape of the ``export`` extra of ultralytics' pyproject.toml, made small. ``cap`` (tensorflow 2.13.1) caps
``base`` (numpy) below 2. ``top`` (tensorflowjs) requires ``mid`` (flax) and ``leaf`` (jax). Every ``leaf`` but the
oldest needs base>=2, and so does every ``kid`` (treescope); the newest ``mid`` releases need a newer ``leaf``, or
a ``kid``, and only mid 1.0 needs neither. ``bystander`` (tensorstore) has many releases, depends on base, and
sorts before kid.

Before forward checking and the preferences for contested and narrow projects (resolver.resolve.forward and
provider), resolvelib turned down the same leaf releases again for each mid release, and when a kid failed it
backjumped to the bystander (it shares base with kid), trying every bystander release in turn: it gave up after
3,000 turned-down candidates. Now it finds mid 1.0 having turned down a few dozen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from resolver.core.target import make_target
from resolver.index.client import IndexClient
from resolver.index.finder import Finder
from resolver.index.settings import IndexSettings
from resolver.resolve.engine import resolve
from resolver.resolve.model import Origin, Req
from resolver.resolve.source import IndexSource
from tests.indexserver import fixtures
from tests.scenario import Rel, publish

if TYPE_CHECKING:
    from tests.indexserver.server import IndexServer
    from tests.indexserver.wheels import WheelCache

index_server = fixtures.index_server
wheel_cache = fixtures.wheel_cache

TARGET = make_target("3.11", "manylinux_2_28_x86_64")

CHAIN: dict[str, list[Rel]] = {
    "cap": [Rel("1.0", ["base<2"])],
    "base": [Rel("1.0"), Rel("2.0")],
    "top": [Rel("1.0", ["mid", "leaf>=1.0"])],
    "leaf": [Rel("1.0", ["base"])] + [Rel(f"1.{i}", ["base>=2"]) for i in range(1, 8)],
    "mid": [Rel("1.0", ["leaf>=1.0", "bystander"])]
    + [Rel(f"1.{i}", ["leaf>=1.1", "bystander"]) for i in range(1, 20)]
    + [Rel(f"2.{i}", ["leaf>=1.0", "kid", "bystander"]) for i in range(3)],
    "kid": [Rel(f"0.{i}", ["base>=2"]) for i in range(12)],  # more than the preference counts (CHOICES_COUNTED)
    "bystander": [Rel(f"3.{i}", ["base"]) for i in range(25)],
}

#: What the search may turn down here: it needs 64 (the order before needed more than 3,000).
BUDGET = 80


def test_a_chain_that_used_to_exhaust_the_budget_resolves_having_turned_down_few(
    index_server: IndexServer, wheel_cache: WheelCache
) -> None:
    publish(index_server, wheel_cache, CHAIN)
    requested = [
        Req(name=canonicalize_name(name), origin=Origin(path="requirements.txt", line=line))
        for line, name in enumerate(("cap", "top"), start=1)
    ]
    with IndexClient(IndexSettings(index_url=index_server.url), retries=1, timeout=5.0, netrc=False) as client:
        source = IndexSource(finder=Finder(client, TARGET), client=client)
        outcome = resolve(requested, source=source, markers=TARGET.markers, max_rejections=BUDGET)
    assert outcome.conflict is None, outcome.conflict.message
    assert outcome.resolution is not None
    pins = {pin.name: str(pin.version) for pin in outcome.resolution.pins}
    assert pins == {"cap": "1.0", "base": "1.0", "top": "1.0", "mid": "1.0", "leaf": "1.0", "bystander": "3.24"}
