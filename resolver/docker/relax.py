"""Relax the ``==`` pins of a Dockerfile's ``RUN pip install`` words in place, quoting what the shell misreads.

PURE. Each requirement word of each pip install (shell form, heredoc body, exec form) is handled alone:

- its ``==`` clause is relaxed by the policy (:func:`resolver.core.relax.relax_specifier`), unless the
  word uses an ARG/ENV (``torch==${TORCH}``: the value is the build's, not the file's), is a URL or path,
  or carries ``# relax-pins: keep`` on its line or on a comment line just above it (Docker drops comment
  lines inside a continued RUN, so the mark can sit there);
- the new word is spelled for where it stands: inside the quotes it had (``"torch==2.1.0"`` stays double-
  quoted), JSON-encoded in an exec-form RUN, and otherwise double-quoted only when needed
  (:func:`resolver.docker.shell.quote_requirement`), which every relaxed range with a ``<`` is;
- a word the shell would misread (an unquoted ``<`` or ``>``, as in ``torch>=2.0.0,<2.1.0``) is quoted
  even when its pin stays.

With a matrix, relaxed torchvision/torchaudio words are kept on torch's lines
(:func:`resolver.cuda.family.align_family`). Nothing else in the file changes: edits replace exactly the
words' spans (:func:`resolver.docker.shell.replace_word`), so the text between them round-trips byte for
byte. Every rewritten word is a :class:`~resolver.core.model.Change` whose ``before``/``after`` are the words
as written in the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from resolver.core.model import Change, Finding
from resolver.core.relax import relax_specifier
from resolver.core.reqopts import LineSyntaxError
from resolver.core.reqpip import parse_pip_requirement
from resolver.core.rewrite import KEEP_MARK, Rewrite
from resolver.cuda.family import COMPANIONS, align_family
from resolver.docker.model import parse_dockerfile
from resolver.docker.pipinstall import pip_installs
from resolver.docker.shell import quote_requirement, replace_word

if TYPE_CHECKING:
    from collections.abc import Mapping

    from resolver.core.policy import Policy
    from resolver.cuda.matrix import Matrix
    from resolver.docker.pipinstall import PipArg, PipInstall

__all__ = ["relax_dockerfile"]


@dataclass(slots=True)
class _Word:
    install: PipInstall
    arg: PipArg
    name: str
    spec: str
    spec_start: int
    spec_end: int
    after: str | None = None


def _kept(lines: list[str], line: int) -> bool:
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    above = lines[line - 2].strip() if 1 < line <= len(lines) + 1 else ""
    return KEEP_MARK in here or (above.startswith("#") and KEEP_MARK in above)


def _spell(arg: PipArg, value: str, *, exec_form: bool) -> str:
    """``value`` written where ``arg`` stood, in the quoting it had."""
    if exec_form:
        return json.dumps(value)
    raw = arg.raw
    plain = len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" and raw[1:-1] == arg.value
    if plain and raw[0] == "'" and "'" not in value:
        return f"'{value}'"
    if plain and raw[0] == '"' and not any(c in value for c in '"$`\\'):
        return f'"{value}"'
    return quote_requirement(value)


def _words(installs: tuple[PipInstall, ...], lines: list[str]) -> list[_Word]:
    out: list[_Word] = []
    for pi in installs:
        for arg in pi.requirements:
            if arg.unresolved or "$" in arg.value or _kept(lines, arg.line):
                continue
            try:
                parsed = parse_pip_requirement(arg.value)
            except LineSyntaxError:
                continue
            if parsed.url is not None or not parsed.name:
                continue
            out.append(_Word(pi, arg, parsed.name, parsed.specifier, parsed.spec_start, parsed.spec_end))
    return out


def relax_dockerfile(
    text: str,
    *,
    path: str,
    policy: Policy,
    build_args: Mapping[str, str] | None = None,
    matrix: Matrix | None = None,
) -> Rewrite:
    """Relax the pins of every ``RUN pip install`` word and quote the words the shell would misread.

    Raises :class:`~resolver.errors.InputError` where the builder would refuse the file (see
    :func:`resolver.docker.model.parse_dockerfile`). ``matrix``: keep the torch family aligned.
    """
    df = parse_dockerfile(text, path=path, build_args=build_args)
    installs = pip_installs(df)
    words = _words(installs, text.split("\n"))
    findings: list[Finding] = []
    for word in words:
        result = relax_specifier(word.spec, package=word.name, bound=policy.bound_for(word.name))
        findings.extend(f.located(path=path, line=word.arg.line) for f in result.findings)
        if result.changed:
            word.after = result.after
    if matrix is not None:
        findings += _align(words, matrix, path)
    edits: dict[int, tuple[int, str, Change]] = {}
    for word in words:
        if word.after is None:
            continue
        value = word.arg.value[: word.spec_start] + word.after + word.arg.value[word.spec_end :]
        new = _spell(word.arg, value, exec_form=word.install.exec_form)
        edits[word.arg.file_start] = (word.arg.file_end, new, _change(path, word.arg, word.name, new))
    for pi in installs:
        for arg in pi.unquoted_redirect:
            if arg.file_start not in edits:
                new = quote_requirement(arg.raw)
                name = arg.raw.split("<", 1)[0].split(">", 1)[0]
                edits[arg.file_start] = (arg.file_end, new, _change(path, arg, name, new))
    out = text
    for start in sorted(edits, reverse=True):
        end, new, _ = edits[start]
        out = replace_word(out, start, end, new)
    changes = tuple(edits[start][2] for start in sorted(edits) if edits[start][2].before != edits[start][2].after)
    return Rewrite(text=out, changes=changes, findings=tuple(findings))


def _change(path: str, arg: PipArg, name: str, new: str) -> Change:
    return Change(path=path, line=arg.line, package=canonicalize_name(name), before=arg.raw, after=new)


def _align(words: list[_Word], matrix: Matrix, path: str) -> list[Finding]:
    """Keep relaxed companions on torch's lines, per RUN (a family is installed together)."""
    findings: list[Finding] = []
    runs: dict[int, list[_Word]] = {}
    for word in words:
        runs.setdefault(word.install.instruction.offset, []).append(word)
    for group in runs.values():
        family: dict[str, _Word] = {}
        for w in group:
            if canonicalize_name(w.name) in ("torch", *COMPANIONS):
                family.setdefault(canonicalize_name(w.name), w)
        if "torch" not in family:
            continue
        specs = {name: (w.after if w.after is not None else w.spec) for name, w in family.items()}
        relaxed = [name for name, w in family.items() if w.after is not None]
        alignment = align_family(specs, matrix=matrix, relaxed=relaxed)
        for name, new in alignment.specifiers:
            family[name].after = new
        for finding in alignment.findings:
            owner = family.get(canonicalize_name(finding.package or ""))
            findings.append(finding.located(path=path, line=owner.arg.line if owner else None))
    return findings
