"""``python -m resolver`` runs the same command as ``relax-pins``."""

from __future__ import annotations

from resolver.cli import run

if __name__ == "__main__":
    run()
