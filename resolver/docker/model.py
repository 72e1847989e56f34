"""The Dockerfile model: its stages, base images and ARG/ENV values. Pure; no I/O.

The Dockerfile API, each name imported from the module that owns it::

    df = parse_dockerfile(text, path="Dockerfile", build_args={"CUDA": "12.1"})  # this module
    df.stages                         # Stage(index, name, base: ImageRef, base_raw, platform, line, ...)
    df.final_stage                    # the last stage; df.root_stage(s) / df.chain(s) follow FROM <stage>
    recognise(df.final_stage.base)    # docker.image: CudaImage | PytorchImage | NgcPytorchImage | PythonImage | ...
    df.env_value(stage, "NVIDIA_REQUIRE_CUDA")
    pip_installs(df)                  # docker.pipinstall: every pip/uv pip install, with exact word offsets
    python_installed_before(df, line) # docker.python: True / False / None (unknown), for no-python-in-image
    quote_requirement("torch>=2.0.0,<2.1.0") == '"torch>=2.0.0,<2.1.0"'        # docker.shell
    replace_word(df.text, arg.file_start, arg.file_end, new)   # docker.shell: the rewriter's one primitive

The model imports none of the modules that read it (pip installs, Python in the image, the build context),
so the package has no import cycle: they take a :class:`Dockerfile` and the model knows nothing of them.

The work is split by concern, one module each: :mod:`resolver.docker.syntax` turns lines into instructions
(parser directives, the escape character, continuations and the comment lines inside them, heredocs, flags,
exec form) and reads the words of FROM/ARG/ENV; :mod:`resolver.docker.shell` splits shell text into words
with offsets; :mod:`resolver.docker.image` reads image references and recognises CUDA/PyTorch/Python images;
:mod:`resolver.docker.pipinstall` finds pip installs, with pip's command line in :mod:`resolver.docker.pipoptions`;
:mod:`resolver.docker.python` tells whether Python was installed. This module builds the stages.

Stages: ``FROM [--platform=P] image [AS name]``. Global ``ARG`` before the first FROM (defaults, overridden
by ``build_args``) is substituted into FROM; in a stage, ``ARG X`` without a default brings the global value
in, ``ENV`` values are inherited from a parent stage and win over ARGs of the same name, and ``ENV a=1 b=$a``
sees the old ``a``. ``$X``, ``${X}``, ``${X:-d}``, ``${X-d}``, ``${X:+w}``, ``${X+w}``, ``${X:?m}`` are
substituted; a variable without a value is kept as written, named in ``Stage.unresolved`` and reported as a
:class:`DockerWarning` (BuildKit's own ``BUILDPLATFORM``/``TARGETARCH``... are expected, so not reported).

Not modelled: the environment an image brings with it, ``ONBUILD`` triggers (kept, never run), BuildKit's
``${X%y}``/``${X#y}``/``${X/y/z}`` (kept unresolved), ``# check=`` semantics, shells other than POSIX ones.

Errors: only what the builder itself would refuse raises :class:`~resolver.errors.InputError` with a 1-based
line and column: no FROM at all, FROM without an image or with a malformed ``AS``, a duplicate stage name, an
instruction other than ARG before the first FROM, a bad parser directive, an unterminated heredoc, a
malformed ENV or ARG, and (from :func:`pip_installs`) an unterminated quote in a RUN that runs pip. Unknown
instructions are warnings.
"""

from __future__ import annotations

import bisect
import re
from collections import ChainMap
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from resolver.docker.image import ImageRef, RecognisedImage, parse_image_ref, recognise
from resolver.docker.syntax import (
    Instruction,
    Locator,
    docker_split,
    docker_word,
    read_directives,
    read_instructions,
    split_lines,
)
from resolver.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["DockerWarning", "Dockerfile", "Stage", "parse_dockerfile"]

_KEYWORDS = "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL"
KEYWORDS = frozenset((_KEYWORDS + " STOPSIGNAL USER VOLUME WORKDIR").split())
#: Arguments BuildKit defines itself: FROM uses them unresolved on purpose (``--platform=$BUILDPLATFORM``).
AUTOMATIC_ARGS = frozenset(f"{p}{s}" for p in ("BUILD", "TARGET") for s in ("PLATFORM", "OS", "ARCH", "VARIANT"))
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class DockerWarning:
    """Something odd that did not stop the reading (``line``/``col`` 1-based when known)."""

    message: str
    line: int | None
    col: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    """One build stage: its FROM line and the instructions up to the next FROM.

    ``base_raw`` is the image as written; ``base_text`` after ARG substitution (unresolved references kept as
    written, their names in ``unresolved``). When FROM names an earlier stage, ``from_stage`` is that name,
    ``parent`` its index, and ``base`` the image the chain finally starts from; otherwise ``base`` is this
    FROM's image. ``platform`` is ``--platform`` after substitution. ``args`` (``None``: declared without a
    value) and ``env`` (parent's values included) are as they stand at the end of the stage; ``shell`` is the
    last ``SHELL``. ``instructions`` exclude the FROM itself.
    """

    index: int
    name: str | None
    base: ImageRef
    base_raw: str
    base_text: str
    unresolved: tuple[str, ...]
    platform: str | None
    line: int
    end_line: int
    from_stage: str | None
    parent: int | None
    args: Mapping[str, str | None]
    env: tuple[tuple[str, str], ...]
    shell: tuple[str, ...]
    instructions: tuple[Instruction, ...]

    @property
    def image(self) -> RecognisedImage:
        """What :func:`recognise` makes of ``base``."""
        return recognise(self.base)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dockerfile:
    """A parsed Dockerfile. ``instructions`` holds all of them, the global ARGs before the first FROM too."""

    path: str
    text: str
    directives: Mapping[str, str]
    escape: str
    global_args: Mapping[str, str | None]
    build_args: Mapping[str, str]
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    warnings: tuple[DockerWarning, ...]

    @property
    def final_stage(self) -> Stage:
        """The last stage: what ``docker build`` produces without ``--target``."""
        return self.stages[-1]

    def stage_named(self, name: str) -> Stage | None:
        """The stage called ``name`` (case-insensitive, as in BuildKit)."""
        return next((s for s in self.stages if s.name is not None and s.name.lower() == name.lower()), None)

    def chain(self, stage: Stage) -> tuple[Stage, ...]:
        """``stage``, the stage it is built FROM, and so on to the one that names a real image."""
        out = [stage]
        while out[-1].parent is not None:
            out.append(self.stages[out[-1].parent])  # a parent always comes earlier, so this ends
        return tuple(out)

    def root_stage(self, stage: Stage) -> Stage:
        """The stage at the end of ``stage``'s FROM chain: its ``base`` is the real image."""
        return self.chain(stage)[-1]

    def stage_at(self, line: int) -> Stage | None:
        """The stage whose lines include ``line`` (``None`` before the first FROM)."""
        k = bisect.bisect_right([s.line for s in self.stages], line) - 1
        return self.stages[k] if k >= 0 else None

    def env_value(self, stage: Stage, name: str) -> str | None:
        """The value ``ENV`` gives ``name`` at the end of ``stage``, parent stages included."""
        return dict(stage.env).get(name)

    def scoped(self, stage: Stage) -> Iterator[tuple[Instruction, Mapping[str, str | None]]]:
        """Each instruction of ``stage`` with the variables in scope when it runs (ENV over ARG).

        The mapping is live: it changes once the next instruction is asked for.
        """
        scope = _Scope(self, self.stages[stage.parent] if stage.parent is not None else None)
        for ins in stage.instructions:
            yield ins, scope.view
            scope.apply(ins)


class _Scope:
    """ARG/ENV/SHELL state while walking one stage."""

    def __init__(self, df: Dockerfile, parent: Stage | None) -> None:
        self.df = df
        self.args: dict[str, str | None] = {}
        self.env: dict[str, str | None] = dict(parent.env) if parent else {}
        self.shell: tuple[str, ...] = parent.shell if parent else ("/bin/sh", "-c")
        self.view: ChainMap[str, str | None] = ChainMap(self.env, self.args)

    def apply(self, ins: Instruction) -> None:
        if ins.keyword == "ARG":
            _declare_args(self.df, ins, self.args, self.view, self.df.global_args)
        elif ins.keyword == "ENV":
            self.env.update(_env_pairs(self.df, ins, self.view))
        elif ins.keyword == "SHELL" and ins.exec_form:
            self.shell = ins.exec_form


def _declare_args(
    df: Dockerfile,
    ins: Instruction,
    target: dict[str, str | None],
    view: Mapping[str, str | None],
    inherited: Mapping[str, str | None],
) -> None:
    """Declare the ARGs of ``ins``: a build arg wins, then the written default, then the global value."""
    if not ins.args:
        raise Locator(ins).error("ARG needs a name", df.path, ins.args_start)
    for a, b in docker_split(ins.args, df.escape):
        name, eq, default = ins.args[a:b].partition("=")
        if not _NAME.fullmatch(name):
            raise Locator(ins).error(f"invalid ARG name {name!r}", df.path, ins.args_start + a)
        if name in df.build_args:
            target[name] = df.build_args[name]
        elif eq:
            target[name] = docker_word(default, view, df.escape)[0]
        else:
            target[name] = inherited.get(name)


def _env_pairs(df: Dockerfile, ins: Instruction, view: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs one ENV sets, all substituted with the values from before it."""
    spans = docker_split(ins.args, df.escape)
    if not spans:
        raise Locator(ins).error("ENV needs a name and a value", df.path, ins.args_start)
    a0, b0 = spans[0]
    if "=" not in ins.args[a0:b0]:  # the legacy form: ENV name value with blanks
        rest = ins.args[b0:].strip()
        if not rest:
            raise Locator(ins).error("ENV needs a value", df.path, ins.args_start + b0)
        return [(ins.args[a0:b0], docker_word(rest, view, df.escape)[0])]
    pairs: list[tuple[str, str]] = []
    for a, b in spans:
        name, eq, value = ins.args[a:b].partition("=")
        if not eq or not name:
            raise Locator(ins).error(f"ENV expects name=value, found {ins.args[a:b]!r}", df.path, ins.args_start + a)
        pairs.append((name, docker_word(value, view, df.escape)[0]))
    return pairs


class _StageBuilder:
    """Collects one stage while the instructions are walked."""

    def __init__(self, df: Dockerfile, index: int, ins: Instruction, names: dict[str, Stage]) -> None:
        self.ins = ins
        self.body: list[Instruction] = []
        loc = Locator(ins)
        spans = docker_split(ins.args, df.escape)
        words = [ins.args[a:b] for a, b in spans]
        if not words:
            raise loc.error("FROM needs an image", df.path, len(ins.logical.rstrip()), hint="FROM image[:tag]")
        if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
            raise loc.error(
                "FROM takes an image and, optionally, AS <name>",
                df.path,
                ins.args_start + spans[1][0],
                hint="FROM [--platform=<platform>] <image> [AS <name>]",
            )
        self.name = words[2] if len(words) == 3 else None
        if self.name is not None:
            where = ins.args_start + spans[2][0]
            if not _STAGE_NAME.fullmatch(self.name):
                raise loc.error(f"invalid stage name {self.name!r}", df.path, where)
            if self.name.lower() in names:
                raise loc.error(f"duplicate stage name {self.name!r}", df.path, where)
        self.base_raw = words[0]
        self.base_text, unresolved = docker_word(words[0], df.global_args, df.escape)
        self.unresolved = tuple(dict.fromkeys(n for n in unresolved if n not in AUTOMATIC_ARGS))
        self.warnings = [
            DockerWarning(
                message=f"FROM uses ${name}, which has no value here; the image is kept as written "
                "(give the ARG a default before the first FROM, or pass it as a build arg)",
                line=ins.line,
                col=loc.position(loc.raw_index(ins.args_start))[1],
            )
            for name in self.unresolved
        ]
        if not self.base_text.strip():
            raise loc.error("FROM image is blank after ARG substitution", df.path, ins.args_start)
        platform = ins.flag("platform")
        self.platform = None if platform is None else docker_word(platform, df.global_args, df.escape)[0]
        self.warnings += [
            DockerWarning(message=f"unknown FROM flag {f}", line=ins.line)
            for f in ins.flags
            if not f.startswith("--platform=")
        ]
        self.parent = names.get(self.base_text.lower())
        self.base = self.parent.base if self.parent else parse_image_ref(self.base_text)
        self.index = index

    def finish(self, df: Dockerfile) -> Stage:
        scope = _Scope(df, self.parent)
        for ins in self.body:
            scope.apply(ins)
        return Stage(
            index=self.index,
            name=self.name,
            base=self.base,
            base_raw=self.base_raw,
            base_text=self.base_text,
            unresolved=self.unresolved,
            platform=self.platform,
            line=self.ins.line,
            end_line=self.body[-1].end_line if self.body else self.ins.end_line,
            from_stage=self.parent.name if self.parent else None,
            parent=self.parent.index if self.parent else None,
            args=MappingProxyType(dict(scope.args)),
            env=tuple((k, v) for k, v in scope.env.items() if v is not None),
            shell=scope.shell,
            instructions=tuple(self.body),
        )


def parse_dockerfile(text: str, *, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """Read a Dockerfile; ``build_args`` plays ``docker build --build-arg``. Linear in the size of ``text``.

    Raises :class:`InputError` on what the builder would refuse (see the module docstring).
    """
    lines = split_lines(text)
    directives = read_directives(lines, path)
    escape = directives.get("escape", "\\")
    instructions = tuple(read_instructions(text, lines, escape, path))
    global_args: dict[str, str | None] = {}
    df = Dockerfile(
        path=path,
        text=text,
        directives=MappingProxyType(directives),
        escape=escape,
        global_args=global_args,
        build_args=MappingProxyType(dict(build_args or {})),
        instructions=instructions,
        stages=(),
        warnings=(),
    )
    stages: list[Stage] = []
    names: dict[str, Stage] = {}  # lower-cased stage name -> stage, for FROM <stage> and duplicates
    warnings: list[DockerWarning] = []
    current: _StageBuilder | None = None
    for ins in instructions:
        if ins.keyword not in KEYWORDS:
            warnings.append(DockerWarning(message=f"unknown instruction {ins.keyword}", line=ins.line, col=1))
        if ins.keyword == "FROM":
            if current is not None:
                stages.append(current.finish(df))
                if current.name is not None:
                    names[current.name.lower()] = stages[-1]
            current = _StageBuilder(df, len(stages), ins, names)
            warnings += current.warnings
        elif current is not None:
            current.body.append(ins)
        elif ins.keyword == "ARG":
            _declare_args(df, ins, global_args, global_args, {})
        elif ins.keyword in KEYWORDS:
            raise InputError(
                f"{ins.keyword} before the first FROM",
                path=path,
                line=ins.line,
                col=1,
                hint="only ARG, comments and parser directives may come before FROM",
            )
    if current is None:
        raise InputError("no FROM instruction", path=path, hint="a Dockerfile starts its first stage with FROM")
    stages.append(current.finish(df))
    return Dockerfile(
        path=path,
        text=text,
        directives=df.directives,
        escape=escape,
        global_args=MappingProxyType(global_args),
        build_args=df.build_args,
        instructions=instructions,
        stages=tuple(stages),
        warnings=tuple(warnings),
    )
