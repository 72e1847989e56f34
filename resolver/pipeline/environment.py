"""Environments: where a set of input files installs. An :class:`Environment` is a value: the target
(Python, platform, and the CUDA side the Dockerfiles and options imply), the indexes and find-links that
serve it, the files that install into it and their direct requirements, and the findings that need no
index (Dockerfile mistakes, the torch/CUDA/driver/Python matrix; reported even when the index cannot be
reached).

Today every file given to one command installs into one environment (:func:`environments` returns one), as
before environments were values; the seam is here so that files can be grouped by where they install
(a Dockerfile's image and indexes for the files it installs, the options for the rest) without touching
the session, the resolution or the writers.

Glue: it reads the files the pipeline already read, and the local driver for ``--cuda auto``
(:mod:`resolver.cuda.hardware`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from resolver.core.directs import OptionalSet, directs_from_pyproject, directs_from_requirements, optional_sets
from resolver.core.model import Direct, Finding
from resolver.core.reqfile import EntryKind
from resolver.core.target import Target, make_target
from resolver.cuda.check import cuda_findings
from resolver.cuda.family import COMPANIONS
from resolver.cuda.hardware import detect_driver
from resolver.cuda.matrix import load_matrix
from resolver.cuda.target import target_from_options
from resolver.errors import InputError
from resolver.index.settings import IndexSettings, redact
from resolver.pipeline.inputs import dockerfile_target, pyproject_model, requirements_model
from resolver.pipeline.session import IndexOptions, index_settings
from resolver.results import ASSUMED_PYTHON

if TYPE_CHECKING:
    from resolver.cuda.target import ImageFacts
    from resolver.docker.check import DockerTarget
    from resolver.docker.indexes import DockerIndexes
    from resolver.results import FileResult, RelaxResult

TORCH_FAMILY = frozenset({"torch", *COMPANIONS})

__all__ = ["Environment", "TargetFacts", "directs_of", "environments", "lock_environment", "target_facts"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """One place files install into, and what serves it.

    ``files`` install into ``target`` from ``index`` (pre-releases allowed when ``pre``); ``directs`` are
    their direct requirements (as written, or as the relax command would write them when ``relaxed``);
    ``findings`` are what was found without the index.
    """

    files: tuple[FileResult, ...]
    relaxed: bool
    target: Target
    index: IndexSettings
    pre: bool
    directs: tuple[Direct, ...]
    findings: tuple[Finding, ...] = ()
    python_source: str = "--python"  # where the target's Python came from (results.ASSUMED_PYTHON: nowhere)
    name: str = ""  # for people: the files, or "pyproject.toml with extra gpu"
    focus: frozenset[tuple[str, int]] | None = None  # the lines this environment reports rows for (None: all)
    # the index-free findings again, for these direct requirements (the torch family narrowed to what resolved)
    recheck: Callable[[Sequence[Direct]], tuple[Finding, ...]] | None = None
    image: ImageFacts | None = None  # the Dockerfile's final image, when the files install into one

    def resolved_findings(self, versions: Mapping[str, Version]) -> tuple[Finding, ...]:
        """The index-free findings computed on the torch family's resolved versions: each torch, torchvision
        and torchaudio line narrowed to the version the resolution chose (its own text kept), so a CUDA or
        family finding speaks of what pip installs, not of the range's newest line."""
        narrowed = [
            replace(d, specifier=SpecifierSet(f"=={versions[d.name]}"))
            if d.name in TORCH_FAMILY
            and d.name in versions
            and not d.constraint
            and d.url is None
            and d.specifier.contains(versions[d.name], prereleases=True)
            else d
            for d in self.directs
        ]
        if self.recheck is None or narrowed == list(self.directs):
            return self.findings
        return self.recheck(narrowed)

    @property
    def indexes(self) -> tuple[str, ...]:
        """The index URLs asked, credentials redacted: what a report may show."""
        return tuple(redact(u) for u in self.index.urls)

    @property
    def find_links(self) -> tuple[str, ...]:
        """The find-links locations asked, credentials redacted."""
        return tuple(redact(u) for u in self.index.find_links)


def environments(result: RelaxResult, options: IndexOptions, *, relaxed: bool) -> tuple[Environment, ...]:
    """The environments of a check: one per input and the files it installs (:func:`groups`), and one more per
    optional set of a pyproject.toml among them (its main dependencies with that extra or group, as
    ``pip install .[gpu]`` installs them; ``options.extras`` picks which: all by default).

    Each has its own target (the options' Python and platform, else its Dockerfile image's), its own
    indexes (the options, its files' own options, its Dockerfile's RUN options) and its own findings (the
    Dockerfile's and the CUDA matrix's, :func:`target_facts`).
    """
    _check_extras(result.files, options.extras, relaxed=relaxed)
    out: list[Environment] = []
    for name, files in groups(result.files):
        out.append(_environment(files, result, options, relaxed=relaxed, name=name))
        for f, optional in _optional_sets(files, options.extras, relaxed=relaxed):
            out.append(_environment(files, result, options, relaxed=relaxed, name=name, optional=(f, optional)))
    return tuple(out)


def _check_extras(files: tuple[FileResult, ...], wanted: tuple[str, ...] | None, *, relaxed: bool) -> None:
    """``--extra`` names that no pyproject.toml of the run has are a typo (bad input); one of several files may
    lack a name another has."""
    pyprojects = [f for f in files if f.kind == "pyproject"]
    if not wanted or not pyprojects:
        return
    sets = [
        s for f in pyprojects for s in optional_sets(pyproject_model(f.text if relaxed else f.original.text, f.display))
    ]
    unknown = {canonicalize_name(n) for n in wanted} - {canonicalize_name(s.name) for s in sets}
    if unknown:
        have = ", ".join(dict.fromkeys(str(s) for s in sets)) or "none"
        raise InputError(
            f"--extra {', '.join(sorted(unknown))}: no such extra or dependency group (it has: {have})",
            path=pyprojects[0].display,
        )


def _optional_sets(
    files: tuple[FileResult, ...], wanted: tuple[str, ...] | None, *, relaxed: bool
) -> list[tuple[FileResult, OptionalSet]]:
    """The optional sets of the pyproject files among ``files`` that ``wanted`` names (``None``: all)."""
    out: list[tuple[FileResult, OptionalSet]] = []
    names = {canonicalize_name(n) for n in wanted} if wanted is not None else None
    for f in files:
        if f.kind == "pyproject":
            sets = optional_sets(pyproject_model(f.text if relaxed else f.original.text, f.display))
            out.extend((f, s) for s in sets if names is None or canonicalize_name(s.name) in names)
    return out


def groups(files: tuple[FileResult, ...]) -> list[tuple[str, tuple[FileResult, ...]]]:
    """The files grouped by the inputs whose environments they install into (``FileResult.origins``; a file
    included by two inputs is in both), in the order the inputs were given."""
    grouped: dict[str, list[FileResult]] = {}
    for f in files:
        for origin in f.origins or (f.display,):
            grouped.setdefault(origin, []).append(f)
    return [(origin, tuple(group)) for origin, group in grouped.items()]


def _environment(
    files: tuple[FileResult, ...],
    result: RelaxResult,
    options: IndexOptions,
    *,
    relaxed: bool,
    name: str,
    optional: tuple[FileResult, OptionalSet] | None = None,
) -> Environment:
    shown = {f.display for f in files}
    directs = directs_of(files, relaxed=relaxed)
    focus = None
    if optional is not None:
        f, chosen = optional
        text = f.text if relaxed else f.original.text
        extra = directs_from_pyproject(pyproject_model(text, f.display), path=f.display, table=chosen.table)
        directs += extra
        focus = frozenset((d.path, d.line) for d in extra)
    facts_of = partial(
        target_facts,
        files,
        tuple(f for f in result.findings if f.path in shown),
        relaxed=relaxed,
        cuda=options.cuda,
        driver=options.driver,
        python=options.python,
        torch_index=options.torch_index,
    )
    facts = facts_of(directs=directs)
    index, pre = index_settings(options, files, facts.indexes)
    return Environment(
        files=files,
        relaxed=relaxed,
        target=make_target(options.python or facts.python, options.platform or facts.platform),
        index=index,
        pre=pre,
        directs=tuple(directs),
        findings=facts.findings,
        python_source="--python" if options.python else facts.python_source or ASSUMED_PYTHON,
        name=f"{optional[0].display} with {optional[1]}" if optional else name,
        focus=focus,
        recheck=lambda narrowed: facts_of(directs=list(narrowed)).findings,
        image=facts.image,
    )


def lock_environment(result: RelaxResult, options: IndexOptions, *, relaxed: bool) -> Environment:
    """The one environment a lock is made for: the options' Python and platform (a lock names its target
    exactly; it does not take one from a Dockerfile), every file, no index-free findings."""
    index, pre = index_settings(options, result.files)
    return Environment(
        files=result.files,
        relaxed=relaxed,
        target=make_target(options.python, options.platform),
        index=index,
        pre=pre,
        directs=tuple(directs_of(result.files, relaxed=relaxed)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetFacts:
    """The Python and platform the files imply, and the findings that need no index."""

    python: str | None
    platform: str | None
    findings: tuple[Finding, ...]
    python_source: str | None = None  # where ``python`` was read, e.g. "python:3.10-slim" or an apt install
    indexes: tuple[DockerIndexes, ...] = ()  # the index sets the Dockerfiles' installs name
    image: ImageFacts | None = None  # the final image of the last Dockerfile, when there is one


def _docker(f: FileResult, *, relaxed: bool) -> DockerTarget:
    return dockerfile_target(f.text if relaxed else f.original.text, f.display, Path.cwd(), f.build_args)


def directs_of(files: tuple[FileResult, ...], *, relaxed: bool) -> list[Direct]:
    """Every direct requirement of the files, as they are or as the relax command would write them."""
    directs: list[Direct] = []
    for f in files:
        text = f.text if relaxed else f.original.text
        if f.kind == "requirements":
            model = requirements_model(text, f.display)
            directs.extend(directs_from_requirements(model, path=f.display, constraint=f.constraint))
        elif f.kind == "dockerfile":
            directs.extend(_docker(f, relaxed=relaxed).requirements)
        else:
            directs.extend(directs_from_pyproject(pyproject_model(text, f.display), path=f.display))
    return directs


def _index_urls(files: tuple[FileResult, ...]) -> list[tuple[str, str | None, int | None]]:
    urls: list[tuple[str, str | None, int | None]] = []
    for f in files:
        if f.kind != "requirements":
            continue
        for entry in requirements_model(f.original.text, f.display).entries:
            if entry.kind is EntryKind.OPTION:
                urls.extend(
                    (value, f.display, entry.lineno)
                    for name, value in entry.options
                    if name in ("--index-url", "--extra-index-url", "--find-links") and value
                )
    return urls


def target_facts(
    files: tuple[FileResult, ...],
    relax_findings: tuple[Finding, ...],
    *,
    relaxed: bool,
    cuda: str | None,
    driver: str | None,
    python: str | None,
    torch_index: str | None = None,
    directs: list[Direct] | None = None,
) -> TargetFacts:
    """Read the Dockerfiles among the files, build the CUDA target, and run the checks that need no index
    (on ``directs``, by default every direct requirement of the files)."""
    dockers = [_docker(f, relaxed=relaxed) for f in files if f.kind == "dockerfile"]
    docker = dockers[-1] if dockers else None
    findings: list[Finding] = [f for d in dockers for f in d.findings]
    image = docker.image if docker else None
    directs = directs if directs is not None else directs_of(files, relaxed=relaxed)
    torch_named = any(d.name in {"torch", "torchvision", "torchaudio"} for d in directs)
    if cuda is not None or driver is not None or image is not None or torch_named:
        detected = detect_driver() if (cuda or "").strip().lower() == "auto" else None
        target = target_from_options(cuda=cuda, driver=driver, python=python, detected=detected, image=image)
        local_variants = [
            (f.package or "", f.get("variant") or "", f.path or "", f.line or 0)
            for f in relax_findings
            if f.code == "local-version" and f.get("variant")
        ]
        for d in dockers:
            local_variants.extend(d.local_variants)
        index_urls = _index_urls(files) + [u for d in dockers for u in d.index_urls]
        findings.extend(
            cuda_findings(
                directs,
                target=target,
                matrix=load_matrix(),
                index_urls=index_urls,
                local_variants=local_variants,
                built_from_source=any(d.built_from_source for d in dockers),
                torch_index=torch_index,
            )
        )
    python, python_source = None, None
    if docker is not None and docker.python:
        python, python_source = docker.python, docker.image.python_source
    elif docker is not None and docker.image.python_range is not None:
        python, python_source = _python_in(docker.image)
    return TargetFacts(
        python=python,
        platform=docker.platform_tag if docker else None,
        findings=tuple(findings),
        python_source=python_source,
        indexes=tuple(d.indexes for d in dockers),
        image=docker.image if docker else None,
    )


def _python_in(image: ImageFacts) -> tuple[str, str]:
    """The Python assumed for an image known only to ship one in ``python_range`` (``pytorch/pytorch`` tags
    name torch, not Python): the running interpreter's when it is in the range, else the range's newest, and
    a ``python_source`` that says it is assumed."""
    assert image.python_range is not None
    (lo, hi), here = image.python_range, sys.version_info[:2]
    chosen = here if lo <= here <= hi else hi
    span = f"{lo[0]}.{lo[1]}-{hi[0]}.{hi[1]}"
    return f"{chosen[0]}.{chosen[1]}", (
        f"assumed: {image.described} ships a Python in {span} (what its torch supports), and nothing says which;"
        " give --python"
    )
