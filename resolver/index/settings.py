"""Which package indexes to ask, decided the way the user's pip would decide it.

Precedence, highest first:

1. ``--index-url`` / ``--extra-index-url`` / ``--find-links`` given to relax-pins; then ``--no-index`` (in a
   file or in pip's configuration), which, as in pip, leaves only the find-links locations;
2. the same options inside the requirements file being checked;
3. pip's configuration as pip reads it: the environment (``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``,
   ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``), then the file named by ``PIP_CONFIG_FILE`` (``os.devnull`` turns
   every file off), then the site file (``<sys.prefix>/pip.conf``), the user files
   (``~/.config/pip/pip.conf``, ``~/.pip/pip.conf``) and the global ones (``$XDG_CONFIG_DIRS/pip/pip.conf``,
   ``/etc/pip.conf``), each file's ``[install]`` section over its ``[global]`` one;
4. with nothing configured, pip's own default index, read at run time from the pip installed here, else from
   the source text of the pip ``ensurepip`` bundles with Python (a venv made by uv has no pip).

No registry host is written in relax-pins: the default comes from pip. Credentials in URLs are kept for the
requests and removed by :func:`redact` (:mod:`resolver.index.urls`) from anything shown, logged, cached or written.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from resolver.errors import RelaxPinsError
from resolver.index.urls import redact  # re-exported: callers redact with the settings they hold

__all__ = ["IndexSettings", "NoIndexError", "pip_config", "pip_default_index", "redact", "resolve_settings"]


class NoIndexError(RelaxPinsError):
    """No index is configured and pip's default cannot be read (pip is not installed)."""

    exit_code = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexSettings:
    """The indexes to ask, in order, and the find-links locations; ``origin`` says where they came from."""

    index_url: str | None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    origin: str = "pip default"
    extras_first: bool = False  # uv's order: the extra indexes are asked before the main one

    @property
    def urls(self) -> tuple[str, ...]:
        """Every index URL in the order they are asked: the main one first (pip), or last (uv)."""
        main = (self.index_url,) if self.index_url else ()
        return self.extra_index_urls + main if self.extras_first else main + self.extra_index_urls


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split() if v)


def _config_files(env: Mapping[str, str]) -> list[Path]:
    """pip's configuration files, lowest precedence first (pip's own order)."""
    if env.get("PIP_CONFIG_FILE") == os.devnull:
        return []
    xdg_dirs = env.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs) if d]
    files.append(Path("/etc/pip.conf"))
    home = Path(env.get("HOME", str(Path.home())))
    files.append(home / ".pip" / "pip.conf")
    files.append(Path(env.get("XDG_CONFIG_HOME", str(home / ".config"))) / "pip" / "pip.conf")
    files.append(Path(sys.prefix) / "pip.conf")
    if env.get("PIP_CONFIG_FILE"):
        files.append(Path(env["PIP_CONFIG_FILE"]))
    return files


def pip_config(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``index-url``, ``extra-index-url``, ``find-links`` and ``no-index`` as ``pip install`` sees them."""
    env = os.environ if env is None else env
    merged: dict[str, str] = {}
    wanted = ("index-url", "extra-index-url", "find-links", "no-index")
    for path in _config_files(env):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for key in wanted:
                    if parser.has_option(section, key):
                        merged[key] = parser.get(section, key)
    for key in wanted:
        value = env.get("PIP_" + key.upper().replace("-", "_"))
        if value is not None:
            merged[key] = value
    return merged


#: Where pip's source names its default index: ``PyPI = PackageIndex("<url>", ...)``.
_PIP_INDEX_SOURCE = "pip/_internal/models/index.py"
_PYPI = re.compile(r"""^PyPI\s*=\s*PackageIndex\(\s*["']([^"']+)["']""", re.MULTILINE)


def pip_default_index() -> str:
    """pip's default index URL, read from pip at run time: the pip this interpreter imports, else the source
    text of a pip it can read without running it (the wheel ``ensurepip`` bundles with every CPython, or the
    base interpreter's pip), so a venv made by uv, which has no pip, gets the same default."""
    try:
        from pip._internal.models.index import PyPI
    except ImportError:
        pass
    else:
        return str(PyPI.simple_url)
    for text in _pip_index_sources():
        found = _PYPI.search(text)
        if found is not None:
            return urljoin(found[1], "simple")  # as PackageIndex.simple_url is made
    raise NoIndexError(
        "no package index is configured, and no pip here (installed, or bundled with Python by ensurepip) says "
        "what its default is; pass --index-url or set PIP_INDEX_URL"
    )


def _pip_index_sources() -> Iterator[str]:
    """The text of pip's ``models/index.py``: from ensurepip's bundled wheels (newest first), then from the
    base interpreter's site-packages. Read as text, never imported or run."""
    import sysconfig
    import zipfile

    bundled = Path(sysconfig.get_paths()["stdlib"]) / "ensurepip" / "_bundled"
    for wheel in sorted(bundled.glob("pip-*.whl"), reverse=True):
        with contextlib.suppress(OSError, KeyError, zipfile.BadZipFile), zipfile.ZipFile(wheel) as archive:
            yield archive.read(_PIP_INDEX_SOURCE).decode("utf-8", "replace")
    base = Path(sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["purelib"])
    with contextlib.suppress(OSError):
        yield (base / _PIP_INDEX_SOURCE).read_text(encoding="utf-8", errors="replace")


def resolve_settings(
    *,
    cli_index_url: str | None = None,
    cli_extra_index_urls: Sequence[str] = (),
    cli_find_links: Sequence[str] = (),
    file_index_url: str | None = None,
    file_extra_index_urls: Sequence[str] = (),
    file_find_links: Sequence[str] = (),
    file_no_index: bool = False,
    env: Mapping[str, str] | None = None,
) -> IndexSettings:
    """Decide the indexes by the precedence in the module docstring."""
    config = pip_config(env)
    no_index = config.get("no-index", "").strip().lower() in {"1", "true", "yes", "on"}
    config_extra = _split(config.get("extra-index-url", ""))
    config_links = _split(config.get("find-links", ""))
    find_links = tuple(dict.fromkeys([*cli_find_links, *file_find_links, *config_links]))
    if cli_index_url:
        main, origin = cli_index_url, "--index-url"
    elif no_index or file_no_index:
        # As in pip, --no-index leaves only the find-links locations; an explicit --index-url above still wins.
        return IndexSettings(index_url=None, find_links=find_links, origin="no-index")
    elif file_index_url:
        main, origin = file_index_url, "requirements file"
    elif config.get("index-url"):
        main, origin = config["index-url"].strip(), "pip configuration"
    else:
        main, origin = pip_default_index(), "pip default"
    extras = tuple(dict.fromkeys([*cli_extra_index_urls, *file_extra_index_urls, *config_extra]))
    return IndexSettings(
        index_url=main,
        extra_index_urls=tuple(u for u in extras if u != main),
        find_links=find_links,
        origin=origin,
    )
