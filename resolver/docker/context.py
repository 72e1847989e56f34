"""Map a path inside the image back to the build-context file it was copied from. PURE.

``COPY requirements.txt /tmp/requirements.txt`` then ``RUN pip install -r /tmp/requirements.txt`` reads
``./requirements.txt`` of the build context. :class:`ContextMap` records, per stage chain and in order, what
reaches the image from the context:

- ``COPY``/``ADD`` without ``--from`` (shell or JSON form): ``src... dest``; ``dest`` is a folder when it ends
  in ``/`` or is ``.``, when there are several sources, or when the source is ``.`` or ends in ``/``; a relative
  ``dest`` is under the current ``WORKDIR``. A ``dest`` without a slash may be a folder the image already has
  (``COPY requirements.txt /training``): a RUN that reads ``/training/requirements.txt`` maps to it;
- ``RUN --mount=type=bind,source=S,target=T`` (``bind`` is the default type; ``src``/``dst``/``destination``
  are accepted) without ``from=``: visible to that RUN only;
- ``WORKDIR`` (relative ones join the previous), so ``-r requirements.txt`` after ``WORKDIR /app`` and
  ``COPY . .`` maps to ``requirements.txt``.

Not modelled: globs in sources, ``ADD`` of URLs and archives (never mapped), ``--parents``, ``.dockerignore``.
The build context is taken to be the Dockerfile's folder (``docker build -f`` with another context is the
caller's to say); the mapped path is relative to that folder.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from resolver.docker.syntax import docker_split, docker_word, json_array

if TYPE_CHECKING:
    from collections.abc import Mapping

    from resolver.docker.model import Dockerfile, Stage
    from resolver.docker.syntax import Instruction

__all__ = ["ContextMap", "context_map"]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Copy:
    sources: tuple[str, ...]
    dest: str
    folder: bool
    line: int
    how: str
    only_line: int | None = None  # a RUN --mount: visible to that RUN only


@dataclass(slots=True, kw_only=True)
class ContextMap:
    """What the context put where, for one stage chain; :meth:`source_of` answers the question."""

    copies: list[_Copy] = field(default_factory=list)
    workdirs: list[tuple[int, str]] = field(default_factory=list)

    def workdir_at(self, line: int) -> str:
        """The ``WORKDIR`` in force at ``line`` (``/`` before any)."""
        found = "/"
        for at, path in self.workdirs:
            if at < line:
                found = path
        return found

    def source_of(self, written: str, line: int) -> tuple[str, str] | None:
        """``(context path, how)`` for a path a RUN at ``line`` reads, or None when nothing copied it in."""
        target = posixpath.normpath(posixpath.join(self.workdir_at(line), written))
        for copy in reversed([c for c in self.copies if c.line < line or c.only_line == line]):
            if copy.only_line is not None and copy.only_line != line:
                continue
            found = _match(copy, target)
            if found is not None:
                return posixpath.normpath(found), f"{copy.how} at line {copy.line}"
        return None


def _match(copy: _Copy, target: str) -> str | None:
    dest = posixpath.normpath(copy.dest)
    if not copy.folder:
        # ``COPY a.txt /training`` makes /training/a.txt when /training is a folder already in the image, which
        # the Dockerfile alone cannot tell; a RUN that reads /training/a.txt says it was one.
        inside = posixpath.join(dest, posixpath.basename(copy.sources[-1].rstrip("/")))
        return copy.sources[-1] if target in (dest, inside) else None
    if not target.startswith(dest.rstrip("/") + "/"):
        return None
    rest = target[len(dest.rstrip("/")) + 1 :]
    for src in reversed(copy.sources):
        if src in (".", "./") or src.endswith("/"):
            return posixpath.join(src, rest)
        if posixpath.basename(src.rstrip("/")) == rest:
            return src
        if "/" in rest and rest.split("/", 1)[0] == posixpath.basename(src):
            return posixpath.join(src, rest.split("/", 1)[1])
    return None


def _words(ins: Instruction, env: Mapping[str, str | None], escape: str) -> list[str]:
    array = json_array(ins.args)
    if array is not None:
        return [value for value, _, _ in array]
    return [docker_word(ins.args[a:b], env, escape)[0] for a, b in docker_split(ins.args, escape)]


def _mount(flag: str, line: int, workdir: str) -> _Copy | None:
    options = dict(part.partition("=")[::2] for part in flag.removeprefix("--mount=").split(","))
    if options.get("type", "bind") != "bind" or "from" in options:
        return None
    source = options.get("source") or options.get("src") or "."
    target = options.get("target") or options.get("dst") or options.get("destination")
    if not target:
        return None
    folder = source in (".", "./") or source.endswith("/")
    return _Copy(
        sources=(source,),
        dest=posixpath.join(workdir, target),
        folder=folder,
        line=line,
        how="RUN --mount",
        only_line=line,
    )


def context_map(df: Dockerfile, stage: Stage) -> ContextMap:
    """The copies and WORKDIRs of ``stage`` and the stages it is built FROM, in build order."""
    out = ContextMap()
    workdir = "/"
    for st in reversed(df.chain(stage)):
        for ins, env in df.scoped(st):
            if ins.keyword == "WORKDIR":
                value = docker_word(ins.args.strip(), env, df.escape)[0]
                workdir = posixpath.normpath(posixpath.join(workdir, value))
                out.workdirs.append((ins.line, workdir))
            elif ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and not ins.heredocs:
                words = _words(ins, env, df.escape)
                if len(words) < 2 or any("://" in w for w in words[:-1]):
                    continue
                sources, dest = tuple(words[:-1]), words[-1]
                folder = dest.endswith("/") or len(sources) > 1 or sources[0] in (".", "./")
                folder = folder or sources[0].endswith("/") or posixpath.basename(dest) in (".", "..")
                dest = posixpath.join(workdir, dest)
                out.copies.append(_Copy(sources=sources, dest=dest, folder=folder, line=ins.line, how=ins.keyword))
            elif ins.keyword == "RUN":
                for flag in ins.flags:
                    mount = _mount(flag, ins.line, workdir) if flag.startswith("--mount=") else None
                    if mount is not None:
                        out.copies.append(mount)
    return out
