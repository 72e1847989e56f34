"""The ``pip install`` commands of a Dockerfile, word by word, with exact offsets. Pure; no I/O.

:func:`pip_installs` reads every RUN of every stage: shell form (split into simple commands by
:func:`resolver.docker.shell.split_commands`), exec form (``RUN ["pip", "install", "torch==2.1.0"]``) and the
heredoc bodies the shell runs (``RUN <<EOF``, ``RUN bash <<EOF``; not ``RUN python3 <<EOF`` nor a body with a
non-shell shebang). A command is a pip install when, after ``NAME=value`` assignments, the wrappers ``sudo``,
``env``, ``gosu USER``, ``su-exec USER``, ``nice``, ``nohup``, ``time``, ``exec``, ``command`` and the shell
keywords ``if then else elif do while until ! {``, it is ``pip``/``pip3``/``pip3.11`` (any path),
``python[X.Y] -m pip`` (or ``-mpip``) or ``uv pip``, then pip's global options, then ``install``. Not seen:
pip inside ``sh -c '...'``, ``$(...)``, scripts, ``xargs``, ``conda run``, ``ONBUILD``, and RUNs under a
non-POSIX ``SHELL``.

Each word becomes a :class:`PipArg` with its span in ``Instruction.raw`` and in the file, so that a rewriter
replaces it and nothing else. pip's option grammar is followed: ``--opt value`` and ``--opt=value``,
unambiguous prefixes of pip's long options (``--no-cache`` is ``--no-cache-dir`` to pip; uv takes none),
clustered short options (``-qU``, ``-rreqs.txt``). Words that start with a redirection (``>log``, ``2>&1``,
``>=2.0`` written apart) go to ``redirections``. A requirement with an unquoted ``<`` or ``>`` inside
(``torch>=2.0.0,<2.1.0``) is kept whole, as meant, and listed in ``unquoted_redirect`` too: the shell would
write to a file named ``=2.0.0,`` and read from one named ``2.1.0``.

An unterminated quote or substitution in a RUN that mentions pip raises :class:`~resolver.errors.InputError`
at the quote; other RUNs are not read.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolver.docker.pipoptions import (
    LONG_VALUE,
    REDIRECTION,
    SHELLS,
    SHORT_FLAGS,
    SHORT_VALUE,
    install_start,
    long_name,
    skip_prefix,
)
from resolver.docker.shell import ShellSyntaxError, Word, split_commands
from resolver.docker.syntax import Heredoc, Instruction, Locator, json_array
from resolver.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from resolver.docker.model import Dockerfile, Stage

__all__ = ["PipArg", "PipInstall", "pip_installs"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PipArg:
    """One word of a pip command. ``raw`` is ``Instruction.raw[start:end]`` and ``Dockerfile.text[file_start:
    file_end]``: the word as written, quotes and continuations included. ``value`` has the shell quoting
    removed (``$X`` kept); ``expanded`` substitutes the ARG/ENV values known at that RUN, naming the others in
    ``unresolved``. ``quoted``: some quoting was used. ``redirect``: an unquoted ``<`` or ``>`` is in it.
    ``line``/``col`` (1-based) locate ``raw``."""

    raw: str
    value: str
    expanded: str
    unresolved: tuple[str, ...]
    quoted: bool
    redirect: bool
    start: int
    end: int
    file_start: int
    file_end: int
    line: int
    col: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PipInstall:
    """One ``pip install`` (or ``uv pip install``) command.

    ``line``/``col`` locate its first word; ``command`` is every word up to ``install``. ``flags`` are the
    value-less options, spelled in full (``-U`` is ``--upgrade``); ``options`` are the other value-taking
    options as ``(full name, value)``. ``unquoted_redirect`` are the requirements the shell would split at a
    ``<`` or ``>``.
    """

    stage: int
    stage_name: str | None
    instruction: Instruction
    line: int
    col: int
    tool: str
    command: tuple[PipArg, ...]
    requirements: tuple[PipArg, ...]
    requirement_files: tuple[PipArg, ...]
    constraint_files: tuple[PipArg, ...]
    editables: tuple[PipArg, ...]
    index_url: PipArg | None
    extra_index_urls: tuple[PipArg, ...]
    find_links: tuple[PipArg, ...]
    flags: tuple[str, ...]
    options: tuple[tuple[str, PipArg | None], ...]
    redirections: tuple[PipArg, ...]
    unquoted_redirect: tuple[PipArg, ...]
    exec_form: bool
    in_heredoc: bool

    def has(self, flag: str) -> bool:
        """Whether the value-less option ``flag`` (full spelling, ``--user``) was given."""
        return flag in self.flags

    @property
    def upgrade(self) -> bool:
        """``-U``/``--upgrade``."""
        return self.has("--upgrade")


class _Segment:
    """Shell text cut out of an instruction, with the map from its indexes back to ``raw`` offsets."""

    def __init__(self, text: str, runs: Sequence[tuple[int, int]]) -> None:
        self.text = text
        self._keys = [k for k, _ in runs]
        self._raws = [r for _, r in runs]

    def raw(self, index: int) -> int:
        k = max(bisect.bisect_right(self._keys, index) - 1, 0)
        return self._raws[k] + index - self._keys[k]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return (self.raw(start), self.raw(end - 1) + 1) if end > start else (self.raw(start),) * 2


def _args_segment(ins: Instruction) -> _Segment:
    runs: list[tuple[int, int]] = []
    total = 0
    for a, b in ins.pieces:
        runs.append((total - ins.args_start, a))
        total += b - a
    return _Segment(ins.args, runs)


def _heredoc_segment(ins: Instruction, doc: Heredoc) -> _Segment:
    runs: list[tuple[int, int]] = []
    parts: list[str] = []
    at = doc.start
    size = 0
    for line in ins.raw[doc.start : doc.end].split("\n")[:-1]:
        text = line.rstrip("\r")
        skip = len(text) - len(text.lstrip("\t")) if doc.chomp else 0
        runs.append((size, at + skip))
        parts.append(text[skip:] + "\n")
        size += len(text) - skip + 1
        at += len(line) + 1
    return _Segment("".join(parts), runs or [(0, doc.start)])


class _Reader:
    """Turns words of one instruction into :class:`PipArg` values."""

    def __init__(self, ins: Instruction, segment: _Segment, locator: Locator) -> None:
        self.ins = ins
        self.segment = segment
        self.locator = locator

    def arg(self, word: Word, skip: int = 0) -> PipArg:
        """The word, or (``skip`` > 0) its tail after ``skip`` characters of value, such as ``--opt=``."""
        start, end = self.segment.span(word.start, word.end)
        value, expanded = word.value, word.expanded
        if skip:
            head = value[:skip]
            if self.ins.raw.startswith(head, start):
                start += skip
            value = value[skip:]
            expanded = expanded[skip:] if expanded.startswith(head) else expanded
        line, col = self.locator.position(start)
        return PipArg(
            raw=self.ins.raw[start:end],
            value=value,
            expanded=expanded,
            unresolved=word.unresolved,
            quoted=word.quoted,
            redirect=word.redirect,
            start=start,
            end=end,
            file_start=self.ins.offset + start,
            file_end=self.ins.offset + end,
            line=line,
            col=col,
        )


class _Collector:
    """The parts of one pip install, as its words are read."""

    def __init__(self) -> None:
        self.requirements: list[PipArg] = []
        self.files: list[PipArg] = []
        self.constraints: list[PipArg] = []
        self.editables: list[PipArg] = []
        self.index_url: PipArg | None = None
        self.extra: list[PipArg] = []
        self.links: list[PipArg] = []
        self.flags: list[str] = []
        self.options: list[tuple[str, PipArg | None]] = []
        self.redirections: list[PipArg] = []

    def option(self, name: str, value: PipArg | None) -> None:
        targets = {
            "--requirement": self.files,
            "--constraint": self.constraints,
            "--editable": self.editables,
            "--extra-index-url": self.extra,
            "--find-links": self.links,
        }
        if name in targets and value is not None:
            targets[name].append(value)
        elif name in ("--index-url", "--default-index") and value is not None:
            self.index_url = value
        else:
            self.options.append((name, value))


def _read_install(words: Sequence[Word], k: int, tool: str, reader: _Reader, out: _Collector) -> None:
    """Read pip's install options and requirements from ``words[k:]`` into ``out``."""
    n = len(words)

    def next_value() -> PipArg | None:
        nonlocal k
        k += 1
        return reader.arg(words[k]) if k < n else None

    while k < n:
        word = words[k]
        value = word.value
        written = reader.segment.text[word.start : word.end]
        if word.redirect and REDIRECTION.match(written):
            out.redirections.append(reader.arg(word))
            if REDIRECTION.fullmatch(written) and not written.startswith("<<") and k + 1 < n:
                k += 1
                out.redirections.append(reader.arg(words[k]))
        elif value.startswith("--") and len(value) > 2:
            name, eq, _ = value.partition("=")
            full = long_name(name, tool)
            if full in LONG_VALUE:
                out.option(full, reader.arg(word, len(name) + 1) if eq else next_value())
            elif eq:
                out.options.append((full, reader.arg(word, len(name) + 1)))
            else:
                out.flags.append(full)
        elif value.startswith("-") and len(value) > 1:
            for i, ch in enumerate(value[1:], start=1):
                short = "-" + ch
                if short in SHORT_VALUE:
                    rest = i + 1 < len(value)
                    out.option(SHORT_VALUE[short], reader.arg(word, i + 1) if rest else next_value())
                    break
                out.flags.append(SHORT_FLAGS.get(short, short))
        else:
            out.requirements.append(reader.arg(word))
        k += 1


def _strict_commands(
    df: Dockerfile, ins: Instruction, segment: _Segment, env: Mapping[str, str | None]
) -> tuple[tuple[Word, ...], ...]:
    try:
        return split_commands(segment.text, env=env, strict=True)
    except ShellSyntaxError as exc:
        line, col = Locator(ins).position(segment.raw(exc.pos))
        raise InputError(
            f"{exc.message} in RUN", path=df.path, line=line, col=col, hint="the shell would refuse this line"
        ) from None


def _script_heredocs(ins: Instruction, commands: Sequence[Sequence[Word]], text: str) -> list[Heredoc]:
    """The heredocs of ``ins`` whose body the shell runs as a script."""
    out: list[Heredoc] = []
    for doc in ins.heredocs:
        if doc.body.startswith("#!") and not any(s in doc.body.split("\n", 1)[0] for s in SHELLS):
            continue
        for words in commands:
            at = next((i for i, w in enumerate(words) if text[w.start : w.end] == doc.word), None)
            if at is None:
                continue
            head = [w.value for w in words[skip_prefix(words[:at]) : at] if not w.redirect]
            if not head or (head[0].rsplit("/", 1)[-1] in SHELLS and "-c" not in head):
                out.append(doc)
            break
    return out


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _assignments(commands: Sequence[Sequence[Word]]) -> dict[str, str | None]:
    """The shell variables a RUN sets before its first pip install, with commands that are only assignments
    (``V=x``, ``export V=x``): their values as the shell expands them (``None`` when they use a variable
    without a known value)."""
    out: dict[str, str | None] = {}
    for words in commands:
        if install_start(words):
            break
        rest = words[1:] if words and words[0].value == "export" else words
        pairs = [w.expanded.partition("=") for w in rest]
        if not rest or any(not eq or not _NAME.fullmatch(name) for name, eq, _ in pairs):
            continue
        for word, (name, _, value) in zip(rest, pairs, strict=True):
            # a value with spaces would be split into several words where it is used unquoted, which the
            # expansion here does not model: such a variable counts as unknown, and its use as unchecked
            out[name] = None if word.unresolved or any(c.isspace() for c in value) else value
    return out


def _installs_in(df: Dockerfile, stage: Stage, ins: Instruction, env: Mapping[str, str | None]) -> list[PipInstall]:
    """Every pip install of one RUN."""
    found: list[tuple[_Reader, tuple[Word, ...], str, int, bool]] = []
    locator = Locator(ins)
    if ins.exec_form is not None:
        segment = _args_segment(ins)
        strings = json_array(ins.args) or ()
        words = tuple(
            Word(start=a, end=b, value=s, expanded=s, quoted=True, redirect=False, unresolved=(), dq=s)
            for s, a, b in strings
        )
        hit = install_start(words)
        if hit:
            found.append((_Reader(ins, segment, locator), words, hit[0], hit[1], False))
    elif "pip" in ins.logical or any("pip" in d.body for d in ins.heredocs):
        segment = _args_segment(ins)
        commands = _strict_commands(df, ins, segment, env)
        local = _assignments(commands)
        if local:  # VERSION='torch=='$PYTORCH'.*' && pip install $VERSION: read again with the shell's values
            env = {**env, **local}
            commands = _strict_commands(df, ins, segment, env)
        parts = [(segment, commands, False)]
        for doc in _script_heredocs(ins, commands, segment.text):
            body = _heredoc_segment(ins, doc)
            parts.append((body, _strict_commands(df, ins, body, {} if doc.quoted else env), True))
        for seg, cmds, in_heredoc in parts:
            reader = _Reader(ins, seg, locator)
            for words in cmds:
                hit = install_start(words)
                if hit:
                    found.append((reader, words, hit[0], hit[1], in_heredoc))
    out: list[PipInstall] = []
    for reader, words, tool, k, in_heredoc in found:
        collector = _Collector()
        _read_install(words, k, tool, reader, collector)
        first = reader.arg(words[skip_prefix(words)])
        out.append(
            PipInstall(
                stage=stage.index,
                stage_name=stage.name,
                instruction=ins,
                line=first.line,
                col=first.col,
                tool=tool,
                command=tuple(reader.arg(w) for w in words[skip_prefix(words) : k]),
                requirements=tuple(collector.requirements),
                requirement_files=tuple(collector.files),
                constraint_files=tuple(collector.constraints),
                editables=tuple(collector.editables),
                index_url=collector.index_url,
                extra_index_urls=tuple(collector.extra),
                find_links=tuple(collector.links),
                flags=tuple(collector.flags),
                options=tuple(collector.options),
                redirections=tuple(collector.redirections),
                unquoted_redirect=tuple(r for r in collector.requirements if r.redirect),
                exec_form=ins.exec_form is not None,
                in_heredoc=in_heredoc,
            )
        )
    return out


def _posix(shell: Sequence[str]) -> bool:
    return bool(shell) and shell[0].rsplit("/", 1)[-1] in SHELLS


def pip_installs(df: Dockerfile) -> tuple[PipInstall, ...]:
    """Every pip install in every stage, in file order. Linear in the size of the file."""
    out: list[PipInstall] = []
    for stage in df.stages:
        shell = df.stages[stage.parent].shell if stage.parent is not None else ("/bin/sh", "-c")
        for ins, env in df.scoped(stage):
            if ins.keyword == "SHELL" and ins.exec_form:
                shell = ins.exec_form
            elif ins.keyword == "RUN" and (ins.exec_form is not None or _posix(shell)):
                out.extend(_installs_in(df, stage, ins, env))
    return tuple(out)
