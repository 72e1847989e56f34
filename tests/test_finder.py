"""The finder over the loopback index: best wheel per target, yanked, Requires-Python, pre-releases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from resolver.core.target import make_target
from resolver.index.client import IndexClient
from resolver.index.finder import Finder
from resolver.index.settings import IndexSettings
from tests.indexserver import fixtures
from tests.indexserver.model import Project, dist

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.indexserver.server import IndexServer
    from tests.indexserver.wheels import WheelCache

index_server = fixtures.index_server
wheel_cache = fixtures.wheel_cache

WHEEL_TAGS = [
    "cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp312-cp312-manylinux_2_28_x86_64",
    "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp312-cp312-macosx_14_0_arm64",
    "cp312-cp312-macosx_11_0_arm64",
    "cp312-cp312-win_amd64",
    "cp310-cp310-win_amd64",
    "py3-none-any",
]


@pytest.fixture
def client(index_server: IndexServer) -> Iterator[IndexClient]:
    settings = IndexSettings(index_url=index_server.url)
    with IndexClient(settings, retries=1, backoff=0.01, netrc=False) as index_client:
        yield index_client


def _finder(
    client: IndexClient, python: str = "3.12", platform: str | None = "manylinux_2_28_x86_64", **options: Any
) -> Finder:
    return Finder(client, make_target(python, platform), **options)


@pytest.mark.parametrize(
    ("python", "platform", "expected"),
    [
        ("3.12", "manylinux_2_28_x86_64", "cp312-cp312-manylinux_2_28_x86_64"),
        ("3.12", "manylinux_2_17_x86_64", "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"),
        ("3.10", "manylinux_2_28_x86_64", "cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64"),
        ("3.12", "macosx_14_0_arm64", "cp312-cp312-macosx_14_0_arm64"),
        ("3.12", "macosx_12_0_arm64", "cp312-cp312-macosx_11_0_arm64"),
        ("3.12", "win_amd64", "cp312-cp312-win_amd64"),
        ("3.10", "win_amd64", "cp310-cp310-win_amd64"),
        ("3.11", "win_amd64", "py3-none-any"),
        ("3.11", "manylinux_2_28_aarch64", "py3-none-any"),
    ],
)
def test_best_wheel_for_the_target(
    index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient, python: str, platform: str, expected: str
) -> None:
    files = [dist(wheel_cache.wheel("fast", "1.0", tags=tags)) for tags in WHEEL_TAGS]
    index_server.add(Project("fast", [*files, dist(wheel_cache.sdist("fast", "1.0"))]))
    [candidate] = _finder(client, python, platform).candidates("fast", SpecifierSet())
    assert candidate.is_wheel
    assert candidate.link.filename == f"fast-1.0-{expected}.whl"
    assert candidate.index_url == index_server.url


def test_sdist_when_no_wheel_fits_and_nothing_when_there_is_no_sdist(
    index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient
) -> None:
    index_server.add(
        Project(
            "native",
            [
                dist(wheel_cache.wheel("native", "1.0", tags="cp312-cp312-win_amd64")),
                dist(wheel_cache.sdist("native", "1.0")),
            ],
        ),
        Project("winonly", [dist(wheel_cache.wheel("winonly", "1.0", tags="cp312-cp312-win_amd64"))]),
    )
    finder = _finder(client)
    [candidate] = finder.candidates("native", SpecifierSet())
    assert not candidate.is_wheel
    assert candidate.link.filename == "native-1.0.tar.gz"
    assert finder.candidates("winonly", SpecifierSet()) == ()
    [release] = finder.releases("winonly") or ()
    assert (release.has_compatible_wheel, release.has_sdist) == (False, False)


def test_higher_build_tag_wins_a_tie(index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient) -> None:
    index_server.add(Project("built", [dist(wheel_cache.wheel("built", "1.0", build_tag=b)) for b in ("1", "3", "2")]))
    [candidate] = _finder(client).candidates("built", SpecifierSet())
    assert candidate.link.filename == "built-1.0-3-py3-none-any.whl"


def _versions(finder: Finder, name: str, spec: str = "", **options: Any) -> list[str]:
    return [str(c.version) for c in finder.candidates(name, SpecifierSet(spec), **options)]


def test_yanked_releases_and_files(index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient) -> None:
    index_server.add(
        Project(
            "lib",
            [
                dist(wheel_cache.wheel("lib", "1.0")),
                dist(wheel_cache.wheel("lib", "2.0"), yanked="broken build"),
                dist(wheel_cache.sdist("lib", "2.0"), yanked=True),
                dist(wheel_cache.wheel("lib", "3.0"), yanked="bad wheel"),
                dist(wheel_cache.sdist("lib", "3.0")),
            ],
        )
    )
    finder = _finder(client)
    releases = {str(r.version): r for r in finder.releases("lib") or ()}
    assert releases["2.0"].yanked == "broken build"
    assert releases["3.0"].yanked is None  # one file is still there
    assert releases["1.0"].yanked is None
    assert _versions(finder, "lib") == ["3.0", "1.0"]
    [three] = finder.candidates("lib", SpecifierSet("==3.0"))
    assert (three.is_wheel, three.yanked) == (False, None)  # the yanked wheel is skipped, the sdist remains
    assert _versions(finder, "lib", "==2.0") == []
    [pinned] = finder.candidates("lib", SpecifierSet("==2.0"), allow_yanked_pin=True)
    assert (pinned.link.filename, pinned.yanked) == ("lib-2.0-py3-none-any.whl", "broken build")
    assert _versions(finder, "lib", ">=2.0", allow_yanked_pin=True) == ["3.0"]
    assert _versions(finder, "lib", "==2.*", allow_yanked_pin=True) == []


def test_requires_python_filters_per_file(
    index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient
) -> None:
    index_server.add(
        Project(
            "modern",
            [
                dist(wheel_cache.wheel("modern", "1.0"), requires_python=">=3.8"),
                dist(wheel_cache.wheel("modern", "2.0"), requires_python=">=3.11"),
                dist(wheel_cache.wheel("modern", "3.0"), requires_python="not a specifier"),
            ],
        )
    )
    old = _finder(client, "3.10")
    new = _finder(client, "3.12")
    assert _versions(old, "modern") == ["3.0", "1.0"]
    assert _versions(new, "modern") == ["3.0", "2.0", "1.0"]
    releases = {str(r.version): r for r in old.releases("modern") or ()}
    assert (releases["2.0"].python_ok, releases["2.0"].requires_python) == (False, ">=3.11")
    assert releases["3.0"].python_ok
    [candidate] = new.candidates("modern", SpecifierSet("==2.0"))
    assert candidate.requires_python == ">=3.11"


def test_prereleases_only_when_asked(index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient) -> None:
    index_server.add(Project("pre", [dist(wheel_cache.wheel("pre", v)) for v in ("1.0", "2.0b1", "2.0rc1.dev3")]))
    assert _versions(_finder(client), "pre") == ["1.0"]
    assert _versions(_finder(client), "pre", ">=2.0b1") == ["2.0rc1.dev3", "2.0b1"]
    assert _versions(_finder(client, allow_prereleases=True), "pre") == ["2.0rc1.dev3", "2.0b1", "1.0"]
    assert _versions(_finder(client), "pre", "<2") == ["1.0"]


def test_releases_newest_first_with_their_files(
    index_server: IndexServer, wheel_cache: WheelCache, client: IndexClient
) -> None:
    index_server.add(
        Project(
            "many",
            [
                dist(wheel_cache.wheel("many", "1.10")),
                dist(wheel_cache.wheel("many", "1.9")),
                dist(wheel_cache.sdist("many", "1.9")),
                dist(wheel_cache.wheel("other", "5.0")),  # a stray file of another project is ignored
                dist(wheel_cache.wheel("many", "1.0", tags="cp312-cp312-win_amd64")),
            ],
        )
    )
    finder = _finder(client)
    releases = finder.releases("MANY")
    assert releases is not None
    assert [r.version for r in releases] == [Version("1.10"), Version("1.9"), Version("1.0")]
    assert [len(r.files) for r in releases] == [1, 2, 1]
    assert [(r.has_compatible_wheel, r.has_sdist) for r in releases] == [(True, False), (True, True), (False, False)]
    assert finder.releases("absent") is None
    assert finder.candidates("absent", SpecifierSet()) == ()
    assert len(index_server.requests("/simple/many/")) == 1  # asked once, then memoized
