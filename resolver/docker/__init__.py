"""The Dockerfile domain, pure: syntax, shell words, pip's command line, pip installs, Python in the image,
image references, the build context, the checks that need no index, and quoting/relaxing words in place."""

from __future__ import annotations

__all__: list[str] = []
