"""Was Python installed before this line? The fact behind the ``no-python-in-image`` check. Pure.

``nvidia/cuda`` images ship no Python, so a ``RUN pip install`` in one fails unless an earlier step installed
it. :func:`python_installed_before` reads the RUNs (shell form, exec form and heredoc bodies, leniently) of
the stage and of the stages it is built FROM, before the line asked about. What counts as installing Python:

* apt-get, apt, aptitude, apk, yum, dnf, microdnf, tdnf, zypper or pacman installing a ``python*``/``pypy*``
  or ``py3-*`` package (``python3``, ``python3-pip``, ``python3.11-dev``, ``python3=3.10*``, and
  ``python${PYTHON_VERSION}`` once substituted);
* any ``conda``/``mamba`` command, ``micromamba ... python=...``, a Miniconda/Miniforge/Mambaforge installer;
* ``pyenv install``, ``python-build``, ``uv python install``, ``uv venv --python``;
* ``get-pip.py`` (it needs a Python to run), a Python source tarball (``Python-3.11.9.tgz``);
* ``COPY --from=<stage>`` of a path naming python/conda/venv, when that stage installed Python.

A RUN that runs a script (``bash setup.sh``, ``./install.sh``, ``. /env.sh``) might install Python: then the
answer is ``None`` unless something above already said yes. The base image is not looked at here: combine
with :func:`resolver.docker.image.image_ships_python`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from resolver.docker.pipoptions import SHELLS, skip_prefix
from resolver.docker.shell import split_commands
from resolver.docker.syntax import Locator

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from resolver.docker.model import Dockerfile
    from resolver.docker.syntax import Instruction

__all__ = ["python_installed_before"]

_PY_PACKAGE = re.compile(r"(?:python|pypy)(?:\d+(?:\.\d+)?)?(?:-[\w.+-]+)?(?:[=:].*)?|py3-[\w.+-]+")
_PACKAGE_TOOLS = frozenset({"apt-get", "apt", "aptitude", "apk", "yum", "dnf", "microdnf", "tdnf", "zypper"})
_INSTALL_VERBS = frozenset({"install", "add", "in", "-S", "-Sy", "-Syu"})
_CONDA_INSTALLER = re.compile(r"(?:mini|ana)conda|miniforge|mambaforge", re.IGNORECASE)
_PYTHON_SOURCE = re.compile(r"Python-\d+\.\d+(?:\.\d+)?\.(?:tgz|tar\.xz|tar\.gz)")
_COPIED_PYTHON = re.compile(r"python|conda|venv", re.IGNORECASE)


def _package_install(base: str, rest: Sequence[str]) -> bool:
    tools = base in _PACKAGE_TOOLS or base == "pacman"
    return tools and bool(_INSTALL_VERBS & set(rest)) and any(_PY_PACKAGE.fullmatch(v) for v in rest)


def _managed(base: str, rest: Sequence[str]) -> bool:
    if base in ("conda", "mamba", "python-build"):
        return True
    if base == "micromamba":
        return any(re.fullmatch(r"python(?:[=<>!~].*)?", v) for v in rest)
    if base == "pyenv":
        return rest[:1] == ["install"]
    uv_venv = rest[:1] == ["venv"] and any(v == "-p" or v.startswith("--python") for v in rest)
    return base == "uv" and (rest[:2] == ["python", "install"] or uv_venv)


_INSTALLERS: tuple[Callable[[str, Sequence[str]], bool], ...] = (_package_install, _managed)


def _command_verdict(values: Sequence[str]) -> bool | None:
    """True: installs Python; None: runs a script that might; False: neither."""
    if any("get-pip.py" in v or _PYTHON_SOURCE.search(v) for v in values):
        return True
    if not values:
        return False
    base, rest = values[0].rsplit("/", 1)[-1], values[1:]
    if any(installs(base, rest) for installs in _INSTALLERS):
        return True
    script = base if base.endswith(".sh") else (rest[0] if rest and base in (*SHELLS, ".", "source") else "")
    if not script or script.startswith("-"):
        return False
    return True if _CONDA_INSTALLER.search(script) else None


def _texts(ins: Instruction, line: int) -> list[str]:
    """The shell texts of a RUN, cut before ``line`` when the RUN spans it (only earlier lines have run)."""
    if ins.end_line < line:
        return ([ins.args] if ins.exec_form is None else []) + [d.body for d in ins.heredocs]
    loc = Locator(ins)
    logical = "".join(ins.raw[a:b] for a, b in ins.pieces if loc.position(a)[0] < line)
    bodies = [
        "".join(t + "\n" for k, t in enumerate(d.body.split("\n")[:-1]) if d.line + k < line) for d in ins.heredocs
    ]
    return ([logical[ins.args_start :]] if ins.exec_form is None else []) + bodies


def _run_verdict(ins: Instruction, env: Mapping[str, str | None], line: int) -> bool | None:
    commands: list[Sequence[str]] = [list(ins.exec_form)] if ins.exec_form else []
    for text in _texts(ins, line):
        for words in split_commands(text, env=env, strict=False):
            commands.append([w.expanded for w in words[skip_prefix(words) :]])
    verdicts = [_command_verdict(values) for values in commands]
    if True in verdicts:
        return True
    return None if None in verdicts else False


def python_installed_before(df: Dockerfile, line: int) -> bool | None:
    """Whether a RUN before ``line``, in its stage or the stages it is built FROM, installs Python.

    ``None`` when unknown: a script ran that might install it, or ``line`` comes before the first FROM.
    A RUN that spans ``line`` counts with the lines before it only. One forward pass over the stages up to
    ``line``'s; no recursion.
    """
    target = df.stage_at(line)
    if target is None:
        return None
    verdicts: list[bool | None] = []
    named = {s.name.lower(): s for s in df.stages if s.name is not None}
    for stage in df.stages[: target.index + 1]:
        state = verdicts[stage.parent] if stage.parent is not None else False
        for ins, env in df.scoped(stage):
            if stage is target and ins.line >= line:
                break
            if ins.keyword == "RUN":
                v = _run_verdict(ins, env, line if stage is target else ins.end_line + 1)
                state = True if True in (v, state) else (None if v is None else state)
            elif ins.keyword in ("COPY", "ADD") and ins.flag("from"):
                name = ins.flag("from") or ""
                source = df.stages[int(name)] if name.isdigit() and int(name) < stage.index else None
                source = source or named.get(name.lower())
                if source and source.index < stage.index and verdicts[source.index] and _COPIED_PYTHON.search(ins.args):
                    state = True
        verdicts.append(state)
    return verdicts[target.index]
