"""``--changed [REF]``: the requirement files a change touched, and the files that install them.

A pull request that edits ``requirements/base.txt`` changes what ``requirements.txt`` (which has ``-r base.txt``)
and a Dockerfile (which installs ``requirements.txt``) install, so those are checked too. What is a requirement
file: ``requirements*.txt``/``.in`` and ``*.txt``/``.in`` under a ``requirements`` folder, ``pyproject.toml``, and
Dockerfiles (the names :func:`resolver.core.kinds.is_dockerfile` knows); a ``-r``/``-c`` target of any of those
counts whatever its name.

The changed files come from git: against ``HEAD`` (the default), what the working tree and the index changed,
plus new files git does not ignore; against another ref (``origin/main``), what changed since the commit this
branch shares with it (``git diff --merge-base``), which is what a pull request changes. Deleted files are left
out: there is nothing to check in them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from resolver.core.kinds import is_dockerfile, is_pyproject
from resolver.errors import InputError

__all__ = ["changed_inputs", "is_requirement_file"]

_REQUIREMENTS = re.compile(r"(?:^|/)(?:requirements[^/]*\.(?:txt|in)|requirements/[^/]+\.(?:txt|in))$")
#: ``-r``/``-c``/``--requirement``/``--constraint`` targets on a requirements line (a cheap scan, not a parse:
#: a file that does not parse is reported when it is checked).
_INCLUDE = re.compile(r"^\s*(?:-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+)?(\S+)", re.MULTILINE)
#: ``-r FILE`` words on a Dockerfile's RUN lines.
_DOCKER_INCLUDE = re.compile(r"(?:^|\s)(?:-r|-c|--requirement|--constraint)(?:=|\s+)([^\s;&|]+)")
#: A Dockerfile's ``COPY``/``ADD`` from the build context (its folder): the sources are every word but the last.
_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+((?:--\S+\s+)*)(.+?)\s*$", re.MULTILINE | re.IGNORECASE)


def is_requirement_file(path: str) -> bool:
    """Whether ``path`` (relative, ``/``-separated) names a file relax-pins reads on its own."""
    return bool(_REQUIREMENTS.search(path)) or is_pyproject(path) or is_dockerfile(path)


def _git(args: list[str], cwd: Path) -> list[str]:
    git = shutil.which("git")
    if git is None:
        raise InputError("--changed needs git, which is not installed", path=str(cwd))
    done = subprocess.run([git, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise InputError(f"--changed: git {' '.join(args[:2])} failed: {reason}", path=str(cwd)) from None
    return [name for name in done.stdout.split("\0") if name]


def changed_inputs(ref: str, cwd: Path | None = None) -> tuple[Path, ...]:
    """The requirement files changed against ``ref`` and the ones that include or install them, relative to
    ``cwd``'s repository top, as paths relative to ``cwd`` (module docstring). Exit 2 outside a repository or
    for a ref git does not know."""
    if ref.startswith("-"):  # never an option to git
        raise InputError(f"--changed takes a git ref, not {ref!r}", path=str(cwd or Path.cwd()))
    here = (cwd or Path.cwd()).resolve()
    top = Path(_git(["rev-parse", "--show-toplevel"], here)[0].strip())
    if ref == "HEAD":
        changed = _git(["diff", "--name-only", "-z", "--diff-filter=d", "HEAD"], top)
        changed += _git(["ls-files", "--others", "--exclude-standard", "-z"], top)
    else:
        changed = _git(["diff", "--name-only", "-z", "--diff-filter=d", "--merge-base", ref], top)
    touched = {name for name in changed if (top / name).is_file()}
    tracked = [name for name in _git(["ls-files", "-z"], top) if is_requirement_file(name)]
    selected = {name for name in touched if is_requirement_file(name)}
    # Files that reach a touched file through -r/-c (or a Dockerfile's -r), to a fixed point: each pass adds
    # the includers of what was added, so a chain of any length is followed.
    frontier = set(touched)
    while frontier:
        added = {name for name in tracked if name not in selected and _reaches(top, name, frontier)}
        selected |= added
        frontier = added
    return tuple(sorted(_relative(top / name, here) for name in selected))


def _reaches(top: Path, name: str, targets: set[str]) -> bool:
    """Whether the file ``name`` names one of ``targets`` as a ``-r``/``-c`` file."""
    path = top / name
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if is_dockerfile(name) and _copies(name, text, targets):
        return True
    pattern = _DOCKER_INCLUDE if is_dockerfile(name) else _INCLUDE
    for match in pattern.finditer(text):
        written = match[1].strip("'\"")
        candidates = {(Path(name).parent / written).as_posix(), Path(written).as_posix().lstrip("/")}
        if any(Path(c).as_posix() in targets or _normal(c) in targets for c in candidates):
            return True
    return False


def _copies(name: str, text: str, targets: set[str]) -> bool:
    """Whether a Dockerfile copies one of ``targets`` into the image (``COPY requirements.txt /app``, or ``COPY .
    .`` of a folder that holds one); a ``--from`` copy comes from another stage, not the context."""
    folder = Path(name).parent.as_posix()
    for match in _COPY.finditer(text):
        if "--from" in match[1]:
            continue
        words = match[2].split()
        for source in words[:-1]:
            full = _normal(f"{folder}/{source}")
            if full in targets or any(t.startswith(f"{full}/") or not full for t in targets):
                return True
    return False


def _normal(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts:
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _relative(path: Path, here: Path) -> Path:
    try:
        return path.relative_to(here)
    except ValueError:
        return path
