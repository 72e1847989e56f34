"""Relax and check, the library API: settings in, a result out; prints nothing, decides no exit code.

``plan_relax(settings)`` reads every input (following includes), applies the policy and returns what would
change, touching no file. ``apply(result)`` writes the changed files, all or none. ``run_relax`` and
``run_check`` are the two commands: plan, verify (:mod:`resolver.pipeline.check`), decide whether to write,
and return a :mod:`resolver.results` value that the CLI renders and maps to an exit code. Other tools (a
pre-commit wrapper, a notebook) can call them the same way.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from resolver.core.kinds import is_dockerfile, is_pyproject
from resolver.core.model import Finding, Severity
from resolver.core.policy import Bound, Policy
from resolver.core.rewrite import Rewrite, relax_pyproject, relax_requirements
from resolver.cuda.family import align_requirements
from resolver.cuda.matrix import load_matrix
from resolver.errors import InputError, InputErrors
from resolver.fsio import TextFile, clean_stray_temps, display_path, read_text, write_all
from resolver.pipeline.check import check_files, exact_pin_findings
from resolver.pipeline.config import load_policy
from resolver.pipeline.inputs import pyproject_model
from resolver.pipeline.session import IndexOptions
from resolver.pipeline.sources import load_requirements
from resolver.results import CheckRun, FileResult, RelaxResult, RelaxRun

if TYPE_CHECKING:
    from resolver.docker.check import RequirementFileRef
    from resolver.index.client import IndexClient

__all__ = ["RelaxSettings", "apply", "plan_relax", "run_check", "run_relax"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RelaxSettings:
    """What the relax command was asked to do."""

    paths: tuple[Path, ...]
    bound: Bound | None = None
    config: Path | None = None
    build_args: tuple[tuple[str, str], ...] = ()  # --build-arg NAME=VALUE, for every Dockerfile read
    dockerfiles: tuple[Path, ...] = ()  # --dockerfile: read as Dockerfiles whatever their name; the last one's
    # image is where the other inputs install (those no Dockerfile installs)


def plan_relax(settings: RelaxSettings) -> RelaxResult:
    """Read every input and compute the relaxed text of each file; write nothing.

    Raises :class:`~resolver.errors.InputError` (and its subclasses) for input it cannot use.
    """
    policies: dict[Path, Policy] = {}

    def policy_for(path: Path) -> Policy:
        folder = path.resolve().parent
        if folder not in policies:
            policy = load_policy(settings.config, start=folder)
            policies[folder] = policy.with_default(settings.bound) if settings.bound else policy
        return policies[folder]

    seen: set[Path] = set()
    files: list[FileResult] = []
    findings: list[Finding] = []
    errors: list[InputError] = []
    reached: list[tuple[Path, bool, list[Path]]] = []
    for path, docker in [(p, False) for p in settings.paths] + [(p, True) for p in settings.dockerfiles]:
        try:
            if docker:
                keys = _plan_dockerfile(path, policy_for, seen, files, findings, settings.build_args)
            else:
                keys = _plan_one(path, policy_for, seen, files, findings, settings.build_args)
            reached.append((path, docker or is_dockerfile(str(path)), keys))
        except InputErrors as exc:
            errors.extend(exc.errors)
        except InputError as exc:
            errors.append(exc)
    if errors:
        # Every file is read before anything is reported, so one run shows every mistake; nothing is written.
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
    target = settings.dockerfiles[-1] if settings.dockerfiles else None
    return RelaxResult(files=_with_origins(files, reached, target), findings=tuple(findings))


def _with_origins(
    files: list[FileResult], reached: list[tuple[Path, bool, list[Path]]], target: Path | None
) -> tuple[FileResult, ...]:
    """Each file's ``origins``: the inputs whose environments it installs into, each with every file it reaches.
    A Dockerfile's environment holds the files it installs; an input a Dockerfile installs has no environment
    of its own (it is checked in the image); an input no Dockerfile installs is its own environment, or, with
    ``--dockerfile``, part of that image's (``target``)."""
    installed = {key for _, docker, keys in reached if docker for key in keys}
    origins: dict[Path, list[Path]] = {}
    for root, docker, keys in reached:
        if not docker and root.resolve() in installed:
            continue
        env = target if target is not None and not docker else root
        for key in keys:
            if env not in origins.setdefault(key, []):
                origins[key].append(env)
    return tuple(
        replace(f, origins=tuple(display_path(o) for o in origins.get(f.path.resolve(), [f.path]))) for f in files
    )


def _plan_one(
    path: Path,
    policy_for: Callable[[Path], Policy],
    seen: set[Path],
    files: list[FileResult],
    findings: list[Finding],
    build_args: tuple[tuple[str, str], ...] = (),
) -> list[Path]:
    """Read one input (a pyproject.toml, or a requirements file with its includes) into ``files``; return
    every file it reaches (resolved), those read before included."""
    if is_dockerfile(str(path)):
        return _plan_dockerfile(path, policy_for, seen, files, findings, build_args)
    if is_pyproject(str(path)):
        key = path.resolve()
        if key in seen:
            return [key]
        seen.add(key)
        display = display_path(path)
        original = read_text(path, display=display)
        rewrite = relax_pyproject(
            original.text, pyproject_model(original.text, display), policy_for(path), path=display
        )
        files.append(_result(path, display, "pyproject", original, rewrite))
        findings.extend(rewrite.findings)
        return [key]
    reached: list[Path] = []
    for source in load_requirements(path):
        key = source.path.resolve()
        reached.append(key)
        if key in seen:
            continue
        seen.add(key)
        rewrite = relax_requirements(source.model, policy_for(source.path), path=source.display)
        # When the run relaxes torch, its companions stay on the matching lines (the CUDA matrix says which).
        rewrite = align_requirements(rewrite, matrix=load_matrix(), path=source.display)
        files.append(
            _result(source.path, source.display, "requirements", source.file, rewrite, constraint=source.constraint)
        )
        findings.extend(rewrite.findings)
    return reached


def _repository_root(folder: Path) -> Path:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return Path.cwd().resolve()


def _check_link(f: FileResult) -> None:
    """A file whose path, as given, is inside the repository but which a symlink (the file itself, or a
    folder on its way: ``ld -> ../outside``, then ``ld/ext.txt``) carries outside it is refused. A path that
    is outside without a link (``-r ../shared/base.txt``) names that file plainly, and is written."""
    written = Path(os.path.normpath(f.path.absolute()))
    root = _repository_root(written.parent)
    if not written.is_relative_to(root):
        return
    target = f.path.resolve()
    if not target.is_relative_to(root.resolve()):
        how = "is a symlink to" if f.path.is_symlink() else "leads through a symlinked folder to"
        raise InputError(
            f"{how} {target}, outside the repository {root}; no file was changed",
            path=f.display,
            hint="pass --allow-outside-links to write through it",
        )


def _plan_dockerfile(
    path: Path,
    policy_for: Callable[[Path], Policy],
    seen: set[Path],
    files: list[FileResult],
    findings: list[Finding],
    build_args: tuple[tuple[str, str], ...] = (),
) -> list[Path]:
    """A Dockerfile: its RUN pip install words relaxed and quoted in place, and the -r files it installs."""
    key = path.resolve()
    if key in seen:
        return [key]
    seen.add(key)
    # The Dockerfile readers load only when a Dockerfile is planned (~60 ms of start-up otherwise).
    from resolver.docker.check import read_dockerfile_target
    from resolver.docker.relax import relax_dockerfile

    display = display_path(path)
    original = read_text(path, display=display)
    matrix = load_matrix()
    rewrite = relax_dockerfile(original.text, path=display, policy=policy_for(path), matrix=matrix)
    files.append(replace(_result(path, display, "dockerfile", original, rewrite), build_args=build_args))
    findings.extend(rewrite.findings)
    # The -r files are named beside the Dockerfile as displayed (svc/Dockerfile -> svc/requirements.txt).
    target = read_dockerfile_target(
        original.text, path=display, build_args=dict(build_args), matrix=matrix, exists=lambda rel: Path(rel).is_file()
    )
    reached = [key]
    for ref in target.requirement_files:
        if ref.path is not None:
            reached.extend(_plan_one(Path(ref.path), policy_for, seen, files, findings, build_args))
        else:
            findings.append(_missing_file(ref, display))
    return reached


def _missing_file(ref: RequirementFileRef, dockerfile: str) -> Finding:
    """``unchecked`` for a ``-r``/``-c`` file of a RUN line that is not in the build context: never silence
    (a Dockerfile whose only install is such a file was "checked 0 requirements", exit 0)."""
    option = "-c" if ref.constraint else "-r"
    if ref.candidate is not None:
        why = f"{ref.candidate} is not there (copied by {ref.via})" if ref.via else f"{ref.candidate} is not there"
        fix = f"check the Dockerfile in its build context, where {ref.candidate} is"
    else:
        why = "no COPY or --mount brings it from the build context (made in the image, or from another stage?)"
        fix = "check that file on its own, with --dockerfile naming this Dockerfile as its image"
    return Finding(
        code="unchecked",
        severity=Severity.WARNING,
        path=dockerfile,
        line=ref.line,
        message=f"{option} {ref.written}: its requirements are not checked: {why}",
        fix=fix,
    )


def _result(
    path: Path, display: str, kind: str, original: TextFile, rewrite: Rewrite, *, constraint: bool = False
) -> FileResult:
    return FileResult(
        path=path,
        display=display,
        kind=kind,
        original=original,
        text=rewrite.text,
        changes=rewrite.changes,
        constraint=constraint,
    )


def _check_writable(f: FileResult) -> None:
    """A file its owner made read-only (no write bit, or no write access for this user) is not rewritten
    unless ``--force``: a read-only file is often generated or vendored on purpose."""
    target = f.path.resolve()
    mode = stat.S_IMODE(target.stat().st_mode)
    if not mode & 0o222 or not os.access(target, os.W_OK):
        raise InputError(
            f"is read-only (mode {mode:04o}); no file was changed",
            path=f.display,
            hint="make it writable, or pass --force to rewrite it anyway",
        )


def apply(result: RelaxResult, *, allow_outside_links: bool = False, force: bool = False) -> tuple[FileResult, ...]:
    """Write every changed file, all or none; return the files written.

    Encoding problems and refused symlinks surface before any file is touched: every new content is encoded
    and every target checked first. A symlink is written through when its target stays inside the
    repository (the nearest folder above it holding ``.git``, else the working folder); one that points
    outside is refused unless ``allow_outside_links``, so a relax run cannot rewrite a file elsewhere on disk.
    """
    changed = result.changed_files
    if not allow_outside_links:
        for f in changed:
            _check_link(f)
    if not force:
        for f in changed:
            _check_writable(f)
    payload = [(f.path, f.new_bytes(), f.original.raw) for f in changed]
    for f in changed:
        clean_stray_temps(f.path.parent, f.path.name)
    write_all(payload)
    return changed


def run_relax(
    settings: RelaxSettings,
    options: IndexOptions,
    *,
    write: bool,
    pending_check: bool = False,
    verify: bool = True,
    force: bool = False,
    allow_outside_links: bool = False,
    on_client: Callable[[IndexClient], None] | None = None,
) -> RelaxRun:
    """The relax command: plan, verify the relaxed ranges when writing (unless ``verify`` is off), write
    unless verification stopped it, and say what happened. ``write=False`` is ``--diff``/``--check``
    (``pending_check``: report files that would change as pending). Writes all files or none."""
    result = plan_relax(settings)
    outcome = None
    if write and verify and result.changed_files:
        outcome = check_files(result, options, relaxed=True, on_client=on_client)
    findings = (*result.findings, *(outcome.findings if outcome else ()))
    blocked = outcome is not None and (
        outcome.stopped or (not force and any(f.severity is Severity.ERROR for f in findings))
    )
    if write and not blocked:
        apply(result, allow_outside_links=allow_outside_links, force=force)
    return RelaxRun(
        result=result,
        check=outcome,
        findings=findings,
        wrote=write and not blocked,
        blocked=blocked,
        pending=bool(result.changed_files) and pending_check,
    )


def run_check(
    settings: RelaxSettings, options: IndexOptions, *, on_client: Callable[[IndexClient], None] | None = None
) -> CheckRun:
    """The check command: read the files, verify their ranges as written, and collect every finding (the
    exact pins first, then what reading and verifying found). Writes nothing."""
    result = plan_relax(settings)
    outcome = check_files(result, options, relaxed=False, on_client=on_client)
    return CheckRun(
        result=result,
        check=outcome,
        findings=(*exact_pin_findings(result), *result.findings, *outcome.findings),
    )
