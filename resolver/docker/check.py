"""A Dockerfile as a CUDA target and a requirements source, its own findings, and relaxing it in place. PURE.

:func:`read_dockerfile_target` reads every stage (``FROM --platform``, ARG defaults and ``build_args``,
``FROM <stage>`` chains) and gives a :class:`DockerTarget`:

- ``image``: the facts of the final stage's base image (:mod:`resolver.docker.facts`), which the CUDA checks
  take as their target (``target_from_options(..., image=docker.image)``); ``stages``: every stage's;
- ``requirements``: the requirement words of every ``RUN pip install`` as :class:`~resolver.core.model.Direct`
  values placed on their Dockerfile line, so they are verified like a requirements file's; a word that uses
  an ARG/ENV without a value is ``unchecked``;
- ``requirement_files``: each ``-r``/``-c`` file, mapped back through COPY/``--mount`` to the build context
  (:mod:`resolver.docker.context`); ``indexes``: the index set its installs ask (:mod:`resolver.docker.indexes`);
  ``index_urls`` and ``local_variants`` (``+cu121`` labels, uv's
  ``--torch-backend``) for :func:`resolver.cuda.check.cuda_findings`; ``built_from_source``: why something
  is compiled (a VCS URL, ``--no-binary``, ``--no-build-isolation``);
- ``findings`` that need only the Dockerfile: ``shell-redirect`` (error: an unquoted ``<``/``>`` in a
  requirement word), ``no-python-in-image`` (error: ``pip`` in an image without Python before anything
  installs it), ``image-bloat`` (info: a ``-devel`` final image in which nothing is compiled).

:func:`relax_dockerfile` (:mod:`resolver.docker.relax`) rewrites the requirement words in place.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from resolver.core.model import Direct, Finding, Severity
from resolver.core.reqopts import LineSyntaxError
from resolver.core.reqpip import parse_editable, parse_pip_requirement
from resolver.cuda.schema import VariantError, parse_variant
from resolver.docker.context import ContextMap, context_map
from resolver.docker.facts import image_facts
from resolver.docker.image import image_ships_python
from resolver.docker.indexes import DockerIndexes, docker_indexes
from resolver.docker.model import parse_dockerfile
from resolver.docker.pipinstall import pip_installs
from resolver.docker.python import python_installed_before
from resolver.docker.relax import relax_dockerfile
from resolver.docker.shell import quote_requirement
from resolver.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from resolver.cuda.matrix import Matrix
    from resolver.cuda.target import ImageFacts
    from resolver.docker.model import Dockerfile
    from resolver.docker.pipinstall import PipArg, PipInstall

__all__ = ["DockerTarget", "RequirementFileRef", "read_dockerfile_target", "relax_dockerfile"]

_VCS = re.compile(r"(?:git|hg|svn|bzr)\+")
_COMPILES = re.compile(
    r"\b(?:nvcc|cmake|make|ninja|gcc|g\+\+|clang|cargo|setup\.py|bdist_wheel|build_ext|TORCH_CUDA_ARCH_LIST)\b"
    r"|--no-build-isolation|--no-binary|\bpip3? wheel\b|-m build\b"
)
_PEP668 = ("ubuntu24.04", "debian12", "debian13")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequirementFileRef:
    """A ``-r``/``-c`` file of a RUN: ``written`` as in the RUN, ``candidate`` the build-context file it was
    copied from, named beside the Dockerfile's ``path`` (``svc/Dockerfile`` -> ``svc/requirements.txt``),
    ``path`` the same when it exists (``None`` when it does
    not, or when no ``exists`` check was given and nothing copied it), ``via`` the COPY that brought it."""

    written: str
    line: int
    candidate: str | None
    path: str | None
    via: str | None
    constraint: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DockerTarget:
    """Everything :func:`read_dockerfile_target` learned (see the module docstring)."""

    path: str
    image: ImageFacts
    stages: tuple[ImageFacts, ...]
    requirements: tuple[Direct, ...]
    requirement_files: tuple[RequirementFileRef, ...]
    index_urls: tuple[tuple[str, str | None, int | None], ...]
    indexes: DockerIndexes
    local_variants: tuple[tuple[str, str, str, int], ...]
    built_from_source: tuple[str, ...]
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]

    @property
    def platform_tag(self) -> str | None:
        """``manylinux_2_35_x86_64`` for the index verification, when the image's glibc is known."""
        return self.image.platform_tag

    @property
    def python(self) -> str | None:
        """The final image's Python (``3.10``), when known."""
        return None if self.image.python is None else f"{self.image.python[0]}.{self.image.python[1]}"


def _local_variant(specifier: str) -> str | None:
    for part in specifier.split(","):
        clause = part.strip()
        if clause.startswith("==") and "+" in clause:
            try:
                local = Version(clause.lstrip("=").strip()).local
            except InvalidVersion:
                return None
            return local
    return None


def _direct(
    arg: PipArg, *, path: str, editable: bool, names: frozenset[str] = frozenset()
) -> tuple[Direct | None, str | None]:
    """The Direct of one requirement word, and the variant of its local version label (``cu121``). ``names``
    are the Dockerfile's ARG and ENV names: a word pip cannot read that holds one bare is bad input."""
    value = arg.expanded
    try:
        parsed = parse_editable(value) if editable else parse_pip_requirement(value)
    except LineSyntaxError as exc:
        mistake = _unreadable(arg, value, exc.message, path=path, names=names)
        if mistake is not None:
            raise mistake from None
        parsed = None
    if parsed is None or arg.unresolved:
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", value)
        if name is None:
            return None, None
        missing = ", ".join(n if n.startswith("$") else f"${n}" for n in arg.unresolved) or "text pip cannot read"
        direct = Direct(
            name=canonicalize_name(name.group()),
            text=value,
            specifier=SpecifierSet(),
            path=path,
            line=arg.line,
            unchecked=f"{arg.raw} uses {missing} with no value in the Dockerfile (give it with --build-arg NAME=VALUE)",
        )
        return direct, None
    try:
        specifier = SpecifierSet(parsed.specifier)
    except InvalidSpecifier:
        specifier = SpecifierSet()
    extras = f"[{','.join(parsed.extras)}]" if parsed.extras else ""
    text = parsed.url if parsed.url and not parsed.name else f"{parsed.name}{extras}{''.join(parsed.specifier.split())}"
    direct = Direct(
        name=canonicalize_name(parsed.name or (parsed.url or value)),
        text=f"-e {value}" if editable else text,
        specifier=specifier,
        path=path,
        line=arg.line,
        extras=frozenset(canonicalize_name(e) for e in parsed.extras),
        url=parsed.url,
    )
    return direct, _local_variant(parsed.specifier)


def _unreadable(arg: PipArg, value: str, why: str, *, path: str, names: frozenset[str]) -> InputError | None:
    """A requirement word pip cannot read that is a shell mistake, not a version pip once took: a variable
    whose ``$`` is missing (``'torch=='TORCH'.*'``: an ARG or ENV name, bare) or a ``$`` inside single quotes,
    which the shell never expands. pip stops the build at either. Other unreadable words (``==latest+cu101``,
    which pip before 24.1 accepted) stay unchecked."""
    if arg.unresolved:
        return None
    bare = [n for n in re.findall(r"(?<![$A-Za-z0-9_{])[A-Za-z_][A-Za-z0-9_]*", value) if n in names]
    if bare:
        hint = f"is a $ missing before {bare[0]}? pip gets the text {value!r}"
    elif "$" in value and "'" in arg.raw:
        hint = "the shell does not expand $ inside single quotes: use double quotes"
    else:
        return None
    return InputError(
        f"pip cannot read {value!r} as a requirement: {why}", path=path, line=arg.line, col=arg.col, hint=hint
    )


def _unnamed(arg: PipArg, *, path: str) -> Finding:
    """``unchecked`` for a requirement word with no name relax-pins can read (``$VERSION``, built in the shell
    from something it cannot evaluate): said, never skipped."""
    missing = ", ".join(n if n.startswith("$") else f"${n}" for n in arg.unresolved)
    return Finding(
        code="unchecked",
        severity=Severity.INFO,
        path=path,
        line=arg.line,
        message=f"{arg.raw}: not checked: the requirement is built in the shell"
        + (f" from {missing}, which has no value relax-pins can read" if missing else ""),
        fix="give the value with --build-arg NAME=VALUE, or write the requirement in the RUN line",
    )


def _redirect_effect(raw: str) -> tuple[str, list[str], list[str]]:
    """What the shell makes of an unquoted word: the argument pip gets, files written, files read."""
    parts = re.split(r"(>>|>|<)", raw)
    head, writes, reads = parts[0], list[str](), list[str]()
    for op, target in zip(parts[1::2], parts[2::2], strict=False):
        (reads if op == "<" else writes).append(target)
    return head, writes, reads


def _shell_redirect(df: Dockerfile, pi: PipInstall, arg: PipArg) -> Finding:
    head, writes, reads = _redirect_effect(arg.raw)
    effects = [f"its output goes to a file named {w!r}" for w in writes if w]
    effects += [f"its input is read from a file named {r!r}" for r in reads if r]
    outcome = (
        f"the RUN fails because no file {reads[0]!r} exists"
        if reads and reads[0]
        else f"the version bound is silently dropped and pip installs any {head}"
    )
    quoted = quote_requirement(arg.raw)
    ops = " and ".join(f"'{c}'" for c in "<>" if c in arg.raw)
    kind = "a redirection" if len(writes + reads) == 1 else "redirections"
    return Finding(
        code="shell-redirect",
        severity=Severity.ERROR,
        path=df.path,
        line=arg.line,
        package=canonicalize_name(head) if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", head) else None,
        message=f"{arg.raw} is not quoted, so the shell reads {ops} as {kind}: pip gets {head!r} "
        f"({'; '.join(effects)}), so {outcome}",
        fix=f"quote it: {quoted}",
        data=(("quoted", quoted), ("column", str(arg.col))),
    )


def _python_fix(image: ImageFacts) -> tuple[str, str]:
    """The RUN that installs Python on this distribution, and a note for PEP 668 distributions."""
    distro = image.distro or ""
    if distro.startswith(("rockylinux", "ubi", "rhel", "almalinux", "centos")):
        return "RUN dnf install -y python3 python3-pip && dnf clean all", ""
    if distro in _PEP668:
        run = (
            "RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip python3-venv "
            "&& rm -rf /var/lib/apt/lists/*"
        )
        note = (
            f" ({distro} marks its Python externally managed (PEP 668), so pip refuses to install into it: add "
            "RUN python3 -m venv /opt/venv and ENV PATH=/opt/venv/bin:$PATH after it)"
        )
        return run, note
    return (
        "RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip "
        "&& rm -rf /var/lib/apt/lists/*",
        "",
    )


def _no_python(df: Dockerfile, installs: tuple[PipInstall, ...], stages: tuple[ImageFacts, ...]) -> list[Finding]:
    out: list[Finding] = []
    seen: set[int] = set()
    for pi in installs:
        if pi.stage in seen:
            continue
        seen.add(pi.stage)
        stage = df.stages[pi.stage]
        if (
            image_ships_python(df.root_stage(stage).image) is not False
            or python_installed_before(df, pi.line) is not False
        ):
            continue
        image = stages[pi.stage]
        command = pi.command[0].value if pi.command else "pip"
        run, note = _python_fix(image)
        out.append(
            Finding(
                code="no-python-in-image",
                severity=Severity.ERROR,
                path=df.path,
                line=pi.line,
                message=f"{image.ref} ({image.where}) has no Python, and nothing before line {pi.line} installs it: "
                f"{command} is not found, so this RUN fails with exit code 127",
                fix=f"add {run} before line {pi.line}{note}, or build FROM a python or pytorch image",
                data=(("insert_before_line", str(pi.line)), ("instruction", run)),
            )
        )
    return out


def _compiles(df: Dockerfile, installs: tuple[PipInstall, ...], stage_index: int) -> bool:
    chain = {s.index for s in df.chain(df.stages[stage_index])}
    for st in chain:
        for ins in df.stages[st].instructions:
            bodies = [ins.logical] + [d.body for d in ins.heredocs]
            if ins.keyword == "RUN" and any(_COMPILES.search(b) for b in bodies):
                return True
    return any(
        pi.stage in chain and (pi.editables or any(a.value.startswith(("/", ".")) for a in pi.requirements))
        for pi in installs
    )


def _devel_bloat(df: Dockerfile, installs: tuple[PipInstall, ...], image: ImageFacts) -> list[Finding]:
    if not image.has_toolkit or image.kind not in ("cuda", "pytorch"):
        return []
    if _compiles(df, installs, df.final_stage.index):
        return []
    lighter = (image.ref.replace("devel", "runtime")) if "devel" in image.ref else "a -runtime image"
    return [
        Finding(
            code="image-bloat",
            severity=Severity.INFO,
            path=image.path,
            line=image.line,
            message=f"{image.ref} is a -devel image (nvcc, headers and static libraries on top of the runtime), but "
            "nothing in the final image is compiled: no source builds, no nvcc, cmake or make",
            fix=f"build FROM {lighter}; compile in a -devel builder stage and COPY --from it when something must be "
            "built",
        )
    ]


def _file_refs(
    df: Dockerfile, installs: tuple[PipInstall, ...], exists: Callable[[str], bool] | None
) -> list[RequirementFileRef]:
    folder = posixpath.dirname(df.path.replace("\\", "/"))
    out: list[RequirementFileRef] = []
    maps: dict[int, ContextMap] = {}
    for pi in installs:
        cmap = maps.setdefault(pi.stage, context_map(df, df.stages[pi.stage]))
        for arg, constraint in [(a, False) for a in pi.requirement_files] + [(a, True) for a in pi.constraint_files]:
            found = cmap.source_of(arg.expanded, pi.line)
            candidate = posixpath.normpath(posixpath.join(folder, found[0])) if found else None
            path = candidate if candidate is not None and (exists is None or exists(candidate)) else None
            out.append(
                RequirementFileRef(
                    written=arg.expanded,
                    line=arg.line,
                    candidate=candidate,
                    path=path,
                    via=found[1] if found else None,
                    constraint=constraint,
                )
            )
    return out


def _index_urls(df: Dockerfile, installs: tuple[PipInstall, ...]) -> list[tuple[str, str | None, int | None]]:
    """Every index URL: ``ENV PIP_INDEX_URL``/``PIP_EXTRA_INDEX_URL`` (and uv's), then the pip options (find-links
    pages too: one of a single variant's builds decides the build, :func:`resolver.cuda.builds.variant_of_links`)."""
    out: list[tuple[str, str | None, int | None]] = []
    names = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX")
    for stage in df.stages:
        env = dict(stage.env)
        for ins in stage.instructions:
            for name in names:
                if ins.keyword == "ENV" and re.search(rf"(?:^|\s){name}[=\s]", ins.args):
                    out.extend((url, df.path, ins.line) for url in env.get(name, "").split())
    for pi in installs:
        for arg in ([pi.index_url] if pi.index_url else []) + list(pi.extra_index_urls) + list(pi.find_links):
            out.append((arg.expanded, df.path, arg.line))
    return list(dict.fromkeys(out))


def read_dockerfile_target(
    text: str,
    *,
    path: str,
    build_args: Mapping[str, str] | None = None,
    matrix: Matrix,
    exists: Callable[[str], bool] | None = None,
) -> DockerTarget:
    """Read a Dockerfile as a target and a requirements source (see the module docstring).

    ``exists`` (optional) tells whether a build-context file exists; it is the caller's I/O, and without it
    every mapped ``-r`` file counts as present. Raises :class:`~resolver.errors.InputError` where the
    builder would refuse the file.
    """
    df = parse_dockerfile(text, path=path, build_args=build_args)
    installs = pip_installs(df)
    stages = tuple(image_facts(df, stage, matrix=matrix) for stage in df.stages)
    requirements: list[Direct] = []
    names = frozenset(n for st in df.stages for n in (*st.args, *(k for k, _ in st.env)))
    local: list[tuple[str, str, str, int]] = []
    built: list[str] = []
    findings: list[Finding] = []
    for pi in installs:
        for arg, editable in [(a, False) for a in pi.requirements] + [(a, True) for a in pi.editables]:
            direct, variant = _direct(arg, path=path, editable=editable, names=names)
            if direct is None:
                findings.append(_unnamed(arg, path=path))
            if direct is not None:
                requirements.append(direct)
                if direct.url and _VCS.match(direct.url):
                    built.append(f"{direct.url} is built from source ({path}:{arg.line})")
            if direct is not None and variant is not None:
                local.append((direct.name, variant, path, arg.line))
        for name, value in pi.options:
            if name == "--no-binary" and value is not None:
                built.append(f"--no-binary {value.expanded} ({path}:{value.line})")
            if name == "--torch-backend" and value is not None:
                with contextlib.suppress(VariantError):
                    local.append(("torch", parse_variant(value.expanded).name, path, value.line))
        if pi.has("--no-build-isolation"):
            built.append(f"--no-build-isolation ({path}:{pi.line}): something is compiled against torch")
        findings += [_shell_redirect(df, pi, arg) for arg in pi.unquoted_redirect]
    findings += _no_python(df, installs, stages)
    findings += _devel_bloat(df, installs, stages[-1])
    findings.sort(key=lambda f: (f.line or 0, f.code))
    return DockerTarget(
        path=path,
        image=stages[-1],
        stages=stages,
        requirements=tuple(requirements),
        requirement_files=tuple(_file_refs(df, installs, exists)),
        index_urls=tuple(_index_urls(df, installs)),
        indexes=docker_indexes(df, installs),
        local_variants=tuple(dict.fromkeys(local)),
        built_from_source=tuple(dict.fromkeys(built)),
        findings=tuple(findings),
        warnings=tuple(f"{path}:{w.line}: {w.message}" if w.line else f"{path}: {w.message}" for w in df.warnings),
    )
