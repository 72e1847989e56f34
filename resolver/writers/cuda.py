"""The answer of ``relax-pins cuda`` as text for people or JSON for machines. PURE: value in, string out.

Text: a header with the query and what the driver runs, then one block per torch line: companions, Python,
each build with its verdict (``*`` marks the recommended one), and the pip command; a line that does not work
says why in one line. JSON (``schema`` 1; keys are only ever added): ``query``, ``driver``, ``matrix_checked``
and ``lines``, each line with ``ok``, ``reasons``, ``builds`` and ``install``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resolver.cuda.query import BuildAnswer, CudaAnswer, LineAnswer

__all__ = ["SCHEMA_VERSION", "render_cuda_json", "render_cuda_text"]

SCHEMA_VERSION = 1
_DRIVER_WORDS = {
    "full": "driver: full",
    "minor-compat": "driver: minor-version compat",
    "unsupported": "driver: too old",
}


def _build_text(build: BuildAnswer, recommended: BuildAnswer | None) -> str:
    name = f"main index (CUDA {build.cuda})" if build.main_index and build.cuda else build.variant
    if build.main_index and not build.cuda:
        name = "main index (CPU-only)"
    notes = []
    if build.fits is False:
        notes.append("does not fit")
    if build.driver is not None:
        notes.append(_DRIVER_WORDS.get(build.driver, f"driver: {build.driver}"))
    mark = " *" if build is recommended else ""
    return f"{name}{mark}" + (f" [{', '.join(notes)}]" if notes else "")


def _line_text(line: LineAnswer) -> list[str]:
    head = (
        f"torch {line.torch} ({', '.join(line.releases)}): torchvision {line.torchvision}, torchaudio "
        f"{line.torchaudio}, Python {line.python_min}-{line.python_max}"
    )
    if not line.ok:
        return [f"  {head}", f"    no: {'; '.join(line.reasons)}"]
    out = [f"  {head}", f"    builds: {'; '.join(_build_text(b, line.recommended) for b in line.builds)}"]
    if line.install:
        out.append(f"    install: {line.install}")
    return out


def render_cuda_text(answer: CudaAnswer) -> str:
    """The answer for a terminal; ends with a newline."""
    asked = [
        f"torch {answer.torch}" if answer.torch else "every torch line",
        f"CUDA {answer.cuda}" if answer.cuda and answer.cuda != "cpu" else ("CPU" if answer.cuda else ""),
        f"driver {answer.driver}" if answer.driver else "",
        f"Python {answer.python}" if answer.python else "",
    ]
    out = [f"relax-pins cuda: {', '.join(a for a in asked if a)} (matrix checked {answer.checked})"]
    if answer.driver:
        if answer.driver_major:
            full = f"CUDA {answer.driver_full_cuda} and older fully" if answer.driver_full_cuda else "no toolkit fully"
            out.append(
                f"driver {answer.driver} runs {full}, and CUDA {answer.driver_major} under minor-version compatibility"
            )
        else:
            out.append(f"driver {answer.driver} is older than every CUDA family minimum in the matrix")
    usable = answer.usable
    out.append(f"{len(usable)} of {len(answer.lines)} torch lines work" + (":" if answer.lines else ""))
    for line in (*usable, *(x for x in answer.lines if not x.ok)):
        out += _line_text(line)
    return "\n".join(out) + "\n"


def _build_dict(build: BuildAnswer, recommended: BuildAnswer | None) -> dict[str, object]:
    return {
        "variant": build.variant,
        "cuda": build.cuda,
        "main_index": build.main_index,
        "index": build.index,
        "fits": build.fits,
        "driver": build.driver,
        "usable": build.usable,
        "recommended": build is recommended,
        "arch": list(build.arch),
    }


def render_cuda_json(answer: CudaAnswer) -> str:
    """The answer as one JSON object; ends with a newline."""
    doc = {
        "schema": SCHEMA_VERSION,
        "query": {"torch": answer.torch, "cuda": answer.cuda, "driver": answer.driver, "python": answer.python},
        "driver": {"full_cuda": answer.driver_full_cuda, "runs_major": answer.driver_major},
        "matrix_checked": answer.checked,
        "lines": [
            {
                "torch": line.torch,
                "releases": list(line.releases),
                "torchvision": line.torchvision,
                "torchaudio": line.torchaudio,
                "python": {"min": line.python_min, "max": line.python_max, "ok": line.python_ok},
                "ok": line.ok,
                "reasons": list(line.reasons),
                "builds": [_build_dict(b, line.recommended) for b in line.builds],
                "install": line.install,
            }
            for line in answer.lines
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
