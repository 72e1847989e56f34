"""Where a Dockerfile's installs look for packages: the indexes and find-links its ``ENV`` and its ``RUN pip
install`` options name, as one set for the image's environment. PURE.

pip reads ``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS`` and ``PIP_PRE`` from the
environment of every later RUN, and ``--index-url``/``--extra-index-url``/``--find-links``/``--pre`` from its
own command line. A check resolves the image's installs together, so they are read as one set:

- the main index is ``ENV PIP_INDEX_URL`` (uv: ``UV_INDEX_URL``/``UV_DEFAULT_INDEX``) of the final stage, or
  the ``--index-url`` every install names when all of them name the same one; otherwise the configured index
  serves the installs that name none, and each ``--index-url`` is asked as one more index (it serves the
  install that names it);
- every ``--extra-index-url``, ``ENV PIP_EXTRA_INDEX_URL`` (uv: ``UV_EXTRA_INDEX_URL``, ``UV_INDEX``) and
  ``--find-links``/``PIP_FIND_LINKS`` URL is asked too, as pip merges them;
- a value that uses an ARG/ENV without a value, or a find-links folder inside the image (which the check
  cannot read), is in ``unread`` with its line, so the report can say what it did not ask;
- ``uv``: every install is ``uv pip install``, which takes each project from the first index that has it,
  the extra indexes before the main one (uv's ``first-index`` strategy), instead of merging them as pip does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resolver.docker.model import Dockerfile
    from resolver.docker.pipinstall import PipArg, PipInstall

__all__ = ["DockerIndexes", "docker_indexes"]

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True, kw_only=True)
class DockerIndexes:
    """The index set of a Dockerfile's installs (module docstring); URLs as written, credentials kept."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    pre: bool = False
    unread: tuple[tuple[str, int], ...] = ()  # (value as written, line) of what could not be asked
    uv: bool = False  # every install is ``uv pip install``: uv's index strategy, not pip's


def _usable(arg: PipArg, unread: list[tuple[str, int]], *, link: bool = False) -> str | None:
    value = arg.expanded.strip()
    if arg.unresolved or not value or (link and "://" not in value):
        unread.append((arg.value, arg.line))
        return None
    return value


def docker_indexes(df: Dockerfile, installs: tuple[PipInstall, ...]) -> DockerIndexes:
    """Read the index set of ``df``'s installs (module docstring)."""
    final = dict(df.stages[-1].env) if df.stages else {}
    unread: list[tuple[str, int]] = []
    main = final.get("PIP_INDEX_URL") or final.get("UV_INDEX_URL") or final.get("UV_DEFAULT_INDEX")
    extras: list[str] = []
    for name in ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX"):
        extras.extend(final.get(name, "").split())
    links = [u for u in final.get("PIP_FIND_LINKS", "").split() if "://" in u]
    pre = final.get("PIP_PRE", "").strip().lower() in _TRUE
    named: list[str | None] = []
    for pi in installs:
        named.append(_usable(pi.index_url, unread) if pi.index_url else None)
        extras.extend(u for u in (_usable(a, unread) for a in pi.extra_index_urls) if u)
        links.extend(u for u in (_usable(a, unread, link=True) for a in pi.find_links) if u)
        pre = pre or pi.has("--pre")
    if main is None and named and len(set(named)) == 1 and named[0] is not None:
        main = named[0]
    else:
        extras.extend(u for u in named if u is not None)
    return DockerIndexes(
        index_url=main.strip() if main else None,
        extra_index_urls=tuple(dict.fromkeys(u for u in extras if u != main)),
        find_links=tuple(dict.fromkeys(links)),
        pre=pre,
        unread=tuple(dict.fromkeys(unread)),
        uv=bool(installs) and all(pi.tool == "uv" for pi in installs),
    )
