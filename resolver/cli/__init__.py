"""The command line: the only package that imports typer. Options -> settings -> pipeline -> output, exit code.

Each command is a short function in its own module, registered on :data:`resolver.cli.app.app`.
"""

from __future__ import annotations

from resolver.cli import commands, cudacmd, lockcmd
from resolver.cli.app import app, main, run

__all__ = ["app", "commands", "cudacmd", "lockcmd", "main", "run"]
