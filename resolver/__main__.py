"""``python -m resolver`` runs the same command as ``relax-pins``, whose entry :func:`run` is too.

The command line is loaded behind a Ctrl-C guard: loading it takes a tenth of a second (typer, the writers),
and a Ctrl-C in that time raised a ``KeyboardInterrupt`` traceback before any of relax-pins' own handling
existed. Nothing is read or written yet, so the truthful answer is short. Nothing else is imported here.
"""

from __future__ import annotations

import os

__all__ = ["run"]


def run() -> None:
    """Load :func:`resolver.cli.run` and run it; a Ctrl-C while loading ends the process with exit 130."""
    try:
        from resolver.cli import run as command_line
    except KeyboardInterrupt:
        os.write(2, b"relax-pins: interrupted; no files changed\n")
        os._exit(130)
    command_line()


if __name__ == "__main__":
    run()
