"""What the GitHub Action (``action.yml`` at the repository root) runs: ``python -m resolver.cli.action``.

It checks the requirement files a pull request changed (``check --changed <base>``, so a changed include brings
the files that include or install it), or the paths the workflow gives, and:

- prints the findings as annotations (``--format github``) on the pull request's lines;
- appends the Markdown report to the job summary (``$GITHUB_STEP_SUMMARY``), from the cache the first run
  filled (``--offline``: no second round of requests);
- exits with ``check``'s code (0 clean, 1 error findings, 2 bad input, 3 index unreachable, 4 hash mismatch).

Inputs arrive as the environment GitHub Actions sets for a composite action's step (``action.yml`` passes them):
``INPUT_PATHS`` (space-separated; empty: the changed files), ``INPUT_BASE`` (the ref to compare with; empty: the
pull request's base branch ``origin/$GITHUB_BASE_REF``, else ``HEAD~1``, the last commit of a push) and
``INPUT_ARGS`` (more options for ``check``, split like a shell would). Thin on purpose: every decision about
the files is ``check``'s own.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["base_ref", "check_args", "main"]


def base_ref(env: Mapping[str, str]) -> str:
    """The ref a pull request is compared with (module docstring)."""
    if env.get("INPUT_BASE", "").strip():
        return env["INPUT_BASE"].strip()
    if env.get("GITHUB_BASE_REF", "").strip():
        return f"origin/{env['GITHUB_BASE_REF'].strip()}"
    return "HEAD~1"


def check_args(env: Mapping[str, str]) -> list[str]:
    """The ``relax-pins check`` arguments, without ``--format``: the paths given, else ``--changed <base>``."""
    paths = env.get("INPUT_PATHS", "").split()
    chosen = paths if paths else ["--changed", base_ref(env)]
    return [*chosen, *shlex.split(env.get("INPUT_ARGS", ""))]


def _check(args: Sequence[str], *, stdout: int | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "resolver", "check", *args]
    return subprocess.run(command, text=True, stdout=stdout, check=False)


def main(env: Mapping[str, str] | None = None) -> int:
    """Annotations on stdout, the summary appended to ``$GITHUB_STEP_SUMMARY``; ``check``'s exit code."""
    env = os.environ if env is None else env
    args = check_args(env)
    code = _check([*args, "--format", "github"]).returncode
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        if code in (0, 1):  # the report, from the cache the first run filled
            text = _check([*args, "--format", "markdown", "--offline"], stdout=subprocess.PIPE).stdout
        else:
            reason = {2: "bad input", 3: "the index could not be reached", 4: "a hash did not hold"}.get(code, "")
            text = f"## relax-pins: could not finish (exit {code}: {reason})\n\nThe annotations and the log say why.\n"
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
