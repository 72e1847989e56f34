"""What kind of input a path names, by its name alone: a Dockerfile, a pyproject.toml, or a requirements file.

One definition, used both to read a file (the pipeline) and to word a fix for it (a Dockerfile's fix quotes
``<``/``>`` for the shell). Pure: it looks at the name, never at the disk.

Dockerfiles are named as Docker, Podman and BuildKit users name them: ``Dockerfile``, ``Containerfile``,
those names with a suffix after ``.``, ``-`` or ``_`` (``Dockerfile.gpu``, ``Dockerfile-cuda12``,
``Containerfile_dev``), and ``*.dockerfile`` / ``*.containerfile`` (``gpu.Dockerfile``), in any case. A
``Dockerfile.dockerignore`` is BuildKit's per-Dockerfile ignore list, not a Dockerfile.
"""

from __future__ import annotations

__all__ = ["is_dockerfile", "is_pyproject"]

_STEMS = ("dockerfile", "containerfile")


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1].lower()


def is_dockerfile(path: str | None) -> bool:
    """Whether ``path`` (a path or a display path; ``None`` for no file) names a Dockerfile."""
    if not path:
        return False
    name = _basename(path)
    if name.endswith(".dockerignore"):
        return False
    if name in _STEMS or name.endswith(tuple(f".{stem}" for stem in _STEMS)):
        return True
    return name.startswith(tuple(f"{stem}{sep}" for stem in _STEMS for sep in ".-_"))


def is_pyproject(path: str) -> bool:
    """Whether ``path`` is read as a pyproject.toml (any ``*.toml``) rather than as a requirements file."""
    return _basename(path).endswith(".toml")
