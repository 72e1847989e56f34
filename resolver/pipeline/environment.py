"""The CUDA and Docker side of a check: what the Dockerfiles and options say about the target, and the
findings that need no index (Dockerfile mistakes, the torch/CUDA/driver/Python matrix).

Glue, like :mod:`resolver.pipeline.check`: it reads the files the pipeline already read, and the local driver for
``--cuda auto`` (:mod:`resolver.cuda.hardware`). Its findings are reported even when the index cannot be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolver.core.directs import directs_from_pyproject, directs_from_requirements
from resolver.core.model import Direct, Finding
from resolver.core.pyproject import parse as parse_pyproject
from resolver.core.reqfile import EntryKind, parse
from resolver.cuda.check import cuda_findings
from resolver.cuda.hardware import detect_driver
from resolver.cuda.matrix import load_matrix
from resolver.cuda.target import target_from_options

if TYPE_CHECKING:
    from resolver.docker.check import DockerTarget
    from resolver.results import FileResult, RelaxResult

__all__ = ["TargetFacts", "directs_of", "target_facts"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetFacts:
    """The Python and platform the files imply, and the findings that need no index."""

    python: str | None
    platform: str | None
    findings: tuple[Finding, ...]


def _docker(f: FileResult, *, relaxed: bool) -> DockerTarget:
    from resolver.docker.check import read_dockerfile_target

    folder = f.path.parent
    return read_dockerfile_target(
        f.text if relaxed else f.original.text,
        path=f.display,
        matrix=load_matrix(),
        exists=lambda rel: (folder / rel).is_file(),
    )


def directs_of(files: tuple[FileResult, ...], *, relaxed: bool) -> list[Direct]:
    """Every direct requirement of the files, as they are or as the relax command would write them."""
    directs: list[Direct] = []
    for f in files:
        text = f.text if relaxed else f.original.text
        if f.kind == "requirements":
            model = parse(text, path=f.display)
            directs.extend(directs_from_requirements(model, path=f.display, constraint=f.constraint))
        elif f.kind == "dockerfile":
            directs.extend(_docker(f, relaxed=relaxed).requirements)
        else:
            directs.extend(directs_from_pyproject(parse_pyproject(text, path=f.display), path=f.display))
    return directs


def _index_urls(files: tuple[FileResult, ...]) -> list[tuple[str, str | None, int | None]]:
    urls: list[tuple[str, str | None, int | None]] = []
    for f in files:
        if f.kind != "requirements":
            continue
        for entry in parse(f.original.text, path=f.display).entries:
            if entry.kind is EntryKind.OPTION:
                urls.extend(
                    (value, f.display, entry.lineno)
                    for name, value in entry.options
                    if name in ("--index-url", "--extra-index-url") and value
                )
    return urls


def target_facts(
    result: RelaxResult,
    *,
    relaxed: bool,
    cuda: str | None,
    driver: str | None,
    python: str | None,
    torch_index: str | None = None,
) -> TargetFacts:
    """Read the Dockerfiles among the files, build the CUDA target, and run the checks that need no index."""
    dockers = [_docker(f, relaxed=relaxed) for f in result.files if f.kind == "dockerfile"]
    docker = dockers[-1] if dockers else None
    findings: list[Finding] = [f for d in dockers for f in d.findings]
    image = docker.image if docker else None
    directs = directs_of(result.files, relaxed=relaxed)
    torch_named = any(d.name in {"torch", "torchvision", "torchaudio"} for d in directs)
    if cuda is not None or driver is not None or image is not None or torch_named:
        detected = detect_driver() if (cuda or "").strip().lower() == "auto" else None
        target = target_from_options(cuda=cuda, driver=driver, python=python, detected=detected, image=image)
        local_variants = [
            (f.package or "", f.get("variant") or "", f.path or "", f.line or 0)
            for f in result.findings
            if f.code == "local-version" and f.get("variant")
        ]
        for d in dockers:
            local_variants.extend(d.local_variants)
        index_urls = _index_urls(result.files) + [u for d in dockers for u in d.index_urls]
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
    return TargetFacts(
        python=docker.python if docker else None,
        platform=docker.platform_tag if docker else None,
        findings=tuple(findings),
    )
