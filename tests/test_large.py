"""Time grows linearly with the input: relaxing 4x the pins takes about 4x the time, not 16x.

Ratios, not absolute times, so a slow or busy machine does not fail them: each size is timed twice and the
faster run kept. On the main branch before this test, 20,000 pins took 9.5x the time of 5,000 (every changed
pin copied every entry; 40,000 took 44.6 s). The pyproject.toml case guards the other quadratic term fixed with
it (each string's line was counted from the top of the file), which only dominates from about 40,000
dependencies (10.5 s before, under 5 s after): at these sizes tomlkit's parse hides it. bench/large.py prints
the absolute figures (200,000 pins: about 9 s here).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from resolver.core.policy import Policy
from resolver.core.pyproject import parse as parse_pyproject
from resolver.core.reqfile import parse as parse_requirements
from resolver.core.rewrite import Rewrite, relax_pyproject, relax_requirements

SMALL, LARGE = 5_000, 20_000
#: linear is 4; quadratic would be 16
LIMIT = 8.0


def _requirements(n: int) -> str:
    return "".join(f"pkg{i}=={1 + i % 5}.{i % 50}.{i % 7}\n" for i in range(n))


def _pyproject(n: int) -> str:
    deps = "".join(f'  "pkg{i}=={1 + i % 5}.{i % 50}.{i % 7}",\n' for i in range(n))
    return f'[project]\nname = "large"\nversion = "1"\ndependencies = [\n{deps}]\n'


def _best_of_two(work: Callable[[], object]) -> float:
    times = []
    for _ in range(2):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def _relax_requirements(text: str) -> Callable[[], Rewrite]:
    return lambda: relax_requirements(parse_requirements(text), Policy(), path="r.txt")


def _relax_pyproject(text: str) -> Callable[[], Rewrite]:
    return lambda: relax_pyproject(text, parse_pyproject(text), Policy(), path="pyproject.toml")


def test_relaxing_a_requirements_file_is_linear() -> None:
    small = _best_of_two(_relax_requirements(_requirements(SMALL)))
    large = _best_of_two(_relax_requirements(_requirements(LARGE)))
    rewrite = _relax_requirements(_requirements(LARGE))()
    assert len(rewrite.changes) == LARGE
    assert large / small < LIMIT, f"{SMALL} pins: {small:.2f} s, {LARGE}: {large:.2f} s"


def test_reading_and_relaxing_a_pyproject_is_linear() -> None:
    small = _best_of_two(_relax_pyproject(_pyproject(SMALL)))
    large = _best_of_two(_relax_pyproject(_pyproject(LARGE)))
    assert len(_relax_pyproject(_pyproject(LARGE))().changes) == LARGE
    assert large / small < LIMIT, f"{SMALL} dependencies: {small:.2f} s, {LARGE}: {large:.2f} s"
