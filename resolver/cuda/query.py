"""``relax-pins cuda``: which torch lines work with a CUDA, a driver and a Python, and how to install them.

PURE: :func:`answer_cuda_query` takes the matrix and the query and returns a :class:`CudaAnswer`; the writers
in :mod:`resolver.writers.cuda` render it. Each torch line (all of them, or those ``--torch`` names: a line
``2.7``, a release ``2.7.1`` or a range ``>=2.5``) is answered with its companions, its Python span and every
build (the main index's wheel and the PyTorch wheel index's CUDA variants), each judged against the query:

- ``--cuda X.Y``: a build of CUDA major X fits (the wheel brings its own runtime; extensions built with a
  CUDA X.Z toolkit only get a minor-version warning from torch); ``--cuda cpu`` asks for the ``whl/cpu`` build;
- ``--driver``: full support, minor-version compatibility, or too old (:meth:`Matrix.driver_support`);
- ``--python``: inside the line's span.

The recommended build of a usable line is the main index's when it fits (nothing to configure), else the
variant the driver runs best whose CUDA minor is not above the target's. ``install`` is the pip command, with
the index as ``<PyTorch wheel index>/whl/<variant>`` unless ``torch_index`` gives the base URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from resolver.cuda.builds import Build, builds_of, family_ranges, index_for
from resolver.cuda.environment import max_full_cuda
from resolver.cuda.matrix import DriverSupport, Matrix
from resolver.cuda.schema import CudaVersion, TorchLine, VariantError
from resolver.cuda.target import parse_driver, parse_python
from resolver.errors import InputError

__all__ = ["BuildAnswer", "CudaAnswer", "LineAnswer", "answer_cuda_query"]

_RUNS = (DriverSupport.FULL, DriverSupport.MINOR_COMPAT)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildAnswer:
    """One build of a line, judged: ``driver`` is a :class:`DriverSupport` value or None (no driver asked);
    ``fits`` whether its CUDA suits the ``--cuda`` asked (None: none asked); ``index`` where to install it
    from (None: the main index)."""

    variant: str
    cuda: str | None
    main_index: bool
    index: str | None
    fits: bool | None
    driver: str | None
    arch: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return self.fits is not False and self.driver not in (DriverSupport.UNSUPPORTED.value,)


@dataclass(frozen=True, slots=True, kw_only=True)
class LineAnswer:
    """One torch line: companions, Python, builds, and the verdict (``reasons`` say why it does not work)."""

    torch: str
    releases: tuple[str, ...]
    torchvision: str
    torchaudio: str
    python_min: str
    python_max: str
    python_ok: bool | None
    builds: tuple[BuildAnswer, ...]
    recommended: BuildAnswer | None
    install: str | None
    reasons: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.reasons


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaAnswer:
    """The query as understood, what the driver runs, and one :class:`LineAnswer` per torch line asked about."""

    torch: str | None
    cuda: str | None
    driver: str | None
    python: str | None
    driver_full_cuda: str | None  # the newest CUDA the driver runs with every feature
    driver_major: str | None  # the newest CUDA major it runs at all (minor-version compatibility): "12.x"
    lines: tuple[LineAnswer, ...]
    checked: str

    @property
    def usable(self) -> tuple[LineAnswer, ...]:
        return tuple(line for line in self.lines if line.ok)


def _lines(matrix: Matrix, torch: str | None) -> tuple[tuple[TorchLine, ...], Version | None]:
    if torch is None:
        return matrix.torch_lines, None
    text = torch.strip()
    try:
        version = Version(text)
    except InvalidVersion:
        version = None
    if version is not None:
        line = matrix.line_for(text)
        if line is None:
            raise InputError(f"torch {text} is not in the matrix", path="--torch", hint=_known(matrix))
        return (line,), version if len(version.release) > 2 else None
    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        raise InputError(f"{torch!r} is not a torch version or range", path="--torch", hint=_known(matrix)) from None
    lines = matrix.lines_in(spec)
    if not lines:
        raise InputError(f"no torch line of the matrix is in {text}", path="--torch", hint=_known(matrix))
    return lines, None


def _known(matrix: Matrix) -> str:
    return f"the matrix knows torch {matrix.torch_lines[0].torch} to {matrix.newest.torch}; give e.g. 2.7 or 2.7.1"


def _judge(
    build: Build, matrix: Matrix, cuda: CudaVersion | None, cpu: bool, driver: str | None, index: str | None
) -> BuildAnswer:
    fits: bool | None = None
    if cpu:
        fits = build.cuda is None
    elif cuda is not None:
        fits = build.cuda is not None and build.cuda.major == cuda.major
    support = None
    if driver is not None and build.cuda is not None:
        support = matrix.driver_support(driver, build.cuda).value
    return BuildAnswer(
        variant=build.variant,
        cuda=str(build.cuda) if build.cuda else None,
        main_index=build.main_index,
        index=None if build.main_index else index_for(matrix, build.variant, index),
        fits=fits,
        driver=support,
        arch=matrix.arch_for(build.variant, torch=build.line.torch) if build.cuda else (),
    )


def _rank(answer: BuildAnswer, cuda: CudaVersion | None) -> tuple[int, int, int, int]:
    """Sort key, best first: main index, full driver support, CUDA minor not above the target, newest."""
    version = CudaVersion.parse(answer.cuda) if answer.cuda else CudaVersion(major=0, minor=0)
    above = cuda is not None and version.major == cuda.major and version.minor > cuda.minor
    full = answer.driver in (None, DriverSupport.FULL.value)
    return (int(answer.main_index and not above), int(full), int(not above), version.major * 100 + version.minor)


def _install(line: TorchLine, release: Version | None, build: BuildAnswer) -> str:
    if release is not None:
        pair = next((r for r in line.releases if Version(r.torch) == release), None)
        pins = [("torch", f"=={release}")]
        if pair is not None:
            pins += [("torchvision", f"=={pair.torchvision}"), ("torchaudio", f"=={pair.torchaudio}")]
    else:
        pins = list(family_ranges(line))
    words = " ".join(f'"{name}{spec}"' for name, spec in pins)
    # quoted: the placeholder's < and > would be redirections to a shell the line is pasted into
    return f"pip install {words}" + (f' --index-url "{build.index}"' if build.index else "")


def _line(
    matrix: Matrix,
    line: TorchLine,
    *,
    release: Version | None,
    cuda: CudaVersion | None,
    cpu: bool,
    driver: str | None,
    python: tuple[int, int] | None,
    torch_index: str | None,
    machine: str,
) -> LineAnswer:
    builds = list(builds_of(line, machine=machine))
    if cpu:
        builds.append(Build(line=line, variant="cpu", cuda=None, main_index=False))
    answers = tuple(_judge(b, matrix, cuda, cpu, driver, torch_index) for b in builds)
    lo, hi = tuple(int(p) for p in line.python_min.split(".")), tuple(int(p) for p in line.python_max.split("."))
    python_ok = None if python is None else lo <= python <= hi
    reasons: list[str] = []
    if python_ok is False and python is not None:
        reasons.append(f"no wheels for Python {python[0]}.{python[1]} (only {line.python_min}-{line.python_max})")
    fitting = [a for a in answers if a.fits is not False]
    if not fitting:
        unknown = (
            " known (the matrix does not list its PyTorch wheel index variants)" if line.cuda_variants is None else ""
        )
        reasons.append(f"no CUDA {cuda.major if cuda else '?'} build{unknown}")
    usable = [a for a in fitting if a.usable]
    if fitting and not usable:
        reasons.append(f"driver {driver} is too old for every build that fits")
    best = max(usable, key=lambda a: _rank(a, cuda)) if usable else None
    return LineAnswer(
        torch=line.torch,
        releases=tuple(r.torch for r in line.releases),
        torchvision=line.torchvision,
        torchaudio=line.torchaudio,
        python_min=line.python_min,
        python_max=line.python_max,
        python_ok=python_ok,
        builds=answers,
        recommended=best if not reasons else None,
        install=_install(line, release, best) if best is not None and not reasons else None,
        reasons=tuple(reasons),
    )


def answer_cuda_query(
    matrix: Matrix,
    *,
    torch: str | None,
    cuda: str | None,
    driver: str | None,
    python: str | None,
    torch_index: str | None = None,
    machine: str = "x86_64",
) -> CudaAnswer:
    """Answer ``relax-pins cuda [--torch] [--cuda] [--driver] [--python]`` (see the module docstring).

    Raises :class:`InputError` for a value it cannot read or a torch the matrix does not know.
    """
    lines, release = _lines(matrix, torch)
    cpu = cuda is not None and cuda.strip().lower() == "cpu"
    target: CudaVersion | None = None
    if cuda is not None and not cpu:
        try:
            target = CudaVersion.parse(cuda.strip().lower())
        except VariantError:
            raise InputError(f"{cuda!r} is not a CUDA version", path="--cuda", hint="give 12.8, cu128 or cpu") from None
    driver_value = parse_driver(driver) if driver is not None else None
    python_value = parse_python(python) if python is not None else None
    full = max_full_cuda(matrix, driver_value) if driver_value else None
    family = None
    if driver_value is not None:
        runs = [f.major for f in matrix.families if matrix.driver_support(driver_value, f"{f.major}.0") in _RUNS]
        family = f"{max(runs)}.x" if runs else None
    answers = tuple(
        _line(
            matrix,
            line,
            release=release,
            cuda=target,
            cpu=cpu,
            driver=driver_value,
            python=python_value,
            torch_index=torch_index,
            machine=machine,
        )
        for line in lines
    )
    return CudaAnswer(
        torch=torch.strip() if torch else None,
        cuda="cpu" if cpu else (str(target) if target else None),
        driver=driver_value,
        python=f"{python_value[0]}.{python_value[1]}" if python_value else None,
        driver_full_cuda=str(full) if full else None,
        driver_major=family,
        lines=answers,
        checked=matrix.checked,
    )
