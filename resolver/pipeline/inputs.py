"""Each input text parsed once per run: the requirements, pyproject and Dockerfile models the pipeline reads.

A check asks the same file for its includes, its index options, its requirements, its index URLs and its
target; each used to parse the text again (a two-file check parsed each file five times). The models are
frozen values, so one parse per ``(text, path)`` serves every reader; the only other parse of a requirements
file is of its relaxed text, by the torch-family alignment (tests/test_check.py counts them).
The Dockerfile's model also depends on which build-context files exist, so its key holds the working folder
they are looked for from.

Cost: the last 64 models of each kind stay in memory for the life of the process.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from resolver.core.pyproject import PyProject
from resolver.core.pyproject import parse as parse_pyproject
from resolver.core.reqfile import RequirementsFile, parse_all
from resolver.cuda.matrix import load_matrix
from resolver.errors import InputError

if TYPE_CHECKING:
    from resolver.docker.check import DockerTarget

__all__ = ["dockerfile_target", "pyproject_model", "requirements_model", "requirements_parse"]


@functools.lru_cache(maxsize=64)
def requirements_parse(text: str, display: str) -> tuple[RequirementsFile, tuple[InputError, ...]]:
    """The requirements-file model of ``text`` and every error in it (``parse_all``): what the reading of a
    file with its includes collects, and what :func:`requirements_model` answers from, so one parse serves both."""
    return parse_all(text, path=display)


def requirements_model(text: str, display: str) -> RequirementsFile:
    """The requirements-file model of ``text`` (raises its first :class:`~resolver.errors.InputError`, as
    ``parse`` does)."""
    model, errors = requirements_parse(text, display)
    if errors:
        raise errors[0].with_traceback(None)
    return model


@functools.lru_cache(maxsize=64)
def pyproject_model(text: str, display: str) -> PyProject:
    """The dependency tables of a pyproject.toml ``text``."""
    return parse_pyproject(text, path=display)


@functools.lru_cache(maxsize=64)
def dockerfile_target(text: str, display: str, cwd: Path, build_args: tuple[tuple[str, str], ...] = ()) -> DockerTarget:
    """A Dockerfile read as a target and a requirements source. The ``-r`` files it maps back to the build
    context are named beside ``display`` (``svc/Dockerfile`` -> ``svc/requirements.txt``), so they are looked
    for from the working folder, ``cwd`` (part of the key: the answer depends on it)."""
    # The Dockerfile readers load only when a Dockerfile is read (~60 ms of start-up otherwise).
    from resolver.docker.check import read_dockerfile_target

    return read_dockerfile_target(
        text,
        path=display,
        build_args=dict(build_args),
        matrix=load_matrix(),
        exists=lambda rel: (cwd / rel).is_file(),
    )
