"""A real package index on loopback for tests: wheel builder, index model, HTTP server and fixtures.

Nothing here talks to the outside: the server binds 127.0.0.1 and the static writer produces a ``file://``
tree. Import the parts from their modules: ``wheels`` (archives), ``model`` (projects, files, page
rendering, ``file://`` trees), ``protocol`` (HTTP rules, faults, the log), ``server`` (:class:`IndexServer`)
and ``fixtures`` (``index_server``, ``wheel_cache``).
"""

from __future__ import annotations

__all__: list[str] = []
