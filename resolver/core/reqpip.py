"""The requirement forms only pip's requirements files accept, decided as pip's ``parse_req_from_line`` does.

Without touching the file system (pip checks whether paths exist; this module cannot):

- a URL with a scheme pip knows (``http``, ``https``, ``file``, ``ftp``, ``git+https`` and the other VCS
  schemes): the marker follows ``"; "`` (semicolon *and* space, since ``;`` may occur in URLs); the name comes
  from ``#egg=name`` or from a wheel's file name, else it is ``""``; a URL followed by other text is an error
  here (pip fails later, when it fetches it);
- otherwise the marker is cut off at the first ``;`` (an empty marker is no marker, as in pip), then:
  ``name @ url`` is PEP 508 whatever the URL; an archive path (``.whl``, ``.tar.gz``, ``.zip``... as in pip)
  or a path (contains ``/`` or starts with ``.``, as pip decides on POSIX) is a local project, with optional
  ``[extras]``; anything else must be PEP 508 (``reqline``).

``-e``/``--editable`` values (``parse_editable``) are a local path (optionally ``[extras]``), a ``file:`` URL,
a VCS URL with ``#egg=name`` (pip cannot name the project otherwise), or ``name @ vcs-or-file-url``.
A wheel file name gives the project name only when it is a valid wheel name (a build tag starts with a digit).
"""

from __future__ import annotations

import re

from packaging.markers import InvalidMarker, Marker

from resolver.core.reqline import SHAPE_HINT, Parsed, make, parse_pep508, parse_simple
from resolver.core.reqopts import LineSyntaxError

__all__ = ["parse_editable", "parse_pip_requirement"]

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_EGG = re.compile(r"[#&]egg=([^&]*)")
_EGG_VALUE = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\[([^\]]*)\])?")
_EXTRAS_SUFFIX = re.compile(r"(.+?)[ \t]*\[([^\]]+)\]")
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_VCS = ("git", "hg", "svn", "bzr")
_URL_SCHEMES = frozenset(  # pip's is_url: http, https, file, ftp and every VCS scheme
    ["http", "https", "file", "ftp"]
    + [f"git+{s}" for s in ("file", "git", "http", "https", "ssh")]
    + [f"hg+{s}" for s in ("file", "http", "https", "ssh", "static-http")]
    + [f"svn+{s}" for s in ("file", "http", "https", "ssh", "svn")]
    + [f"bzr+{s}" for s in ("file", "ftp", "http", "https", "lp", "sftp", "ssh")]
)
_ARCHIVES: tuple[str, ...] = (
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
)
_ARCHIVES += (".tar.lzma",)  # pip's ARCHIVE_EXTENSIONS


def _marker_after(text: str, sep: int, width: int) -> str | None:
    """The marker after the separator at ``sep`` (``width`` characters long), checked; None if absent."""
    if sep < 0:
        return None
    tail = text[sep + width :]
    marker = tail.strip()
    if not marker:
        return None
    try:
        Marker(marker)
    except (InvalidMarker, RecursionError) as exc:
        pos = sep + width + len(tail) - len(tail.lstrip())
        raise LineSyntaxError(f"invalid environment marker: {exc}", pos, SHAPE_HINT) from None
    return marker


def _url_name(url: str) -> tuple[str, tuple[str, ...]]:
    """The project name pip can tell from a URL or path: ``#egg=`` first, then a wheel's file name."""
    egg = _EGG.search(url)
    if egg:
        value = _EGG_VALUE.fullmatch(egg.group(1))
        if value:
            extras = tuple(e.strip() for e in (value.group(2) or "").split(",") if e.strip())
            return value.group(1), extras
    filename = re.split(r"[/\\]", url.split("#", 1)[0].split("?", 1)[0])[-1]
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        build_ok = len(parts) == 5 or (len(parts) == 6 and parts[2][:1].isdigit())  # build tags start with a digit
        if build_ok and _NAME.fullmatch(parts[0]):
            return parts[0], ()
    return "", ()


def _looks_like_path(text: str) -> bool:
    return "/" in text or text.startswith(".")  # pip on POSIX: os.path.sep, or a leading dot


def _is_url(text: str) -> bool:
    scheme = _SCHEME.match(text)
    return scheme is not None and scheme.group(1).lower() in _URL_SCHEMES


def _path_requirement(text: str, body_end: int, marker: str | None) -> Parsed:
    """A local path (directory or archive), optionally followed by ``[extras]``; spans relative to text."""
    body = text[:body_end].rstrip()
    extras: tuple[str, ...] = ()
    match = _EXTRAS_SUFFIX.fullmatch(body)
    if match and not body.startswith("["):
        body = match.group(1)
        extras = tuple(e.strip() for e in match.group(2).split(",") if e.strip())
    name, _ = _url_name(body)
    end = len(text[:body_end].rstrip())
    return make(name, at=(end, end), extras=extras, marker=marker, url=body)


def parse_pip_requirement(text: str) -> Parsed:
    """Parse the requirement part of a requirements-file line (``text`` is stripped); see the module doc."""
    fast = parse_simple(text)  # a name cannot be a URL or a path; it may still end like an archive (foo===1.zip)
    if fast is not None and not text.split(";", 1)[0].rstrip().lower().endswith(_ARCHIVES):
        return fast
    if _is_url(text):
        sep = text.find("; ")
        url_end = sep if sep >= 0 else len(text)
        marker = _marker_after(text, sep, 2)
        url = text[:url_end].strip()
        space = re.search(r"\s", url)
        if space:
            raise LineSyntaxError(
                "unexpected text after the URL",
                space.end(),
                "a URL requirement is `URL` or `URL ; marker` (pip needs a space after ';' here)",
            )
        name, extras = _url_name(url)
        end = len(url)
        return make(name, at=(end, end), extras=extras, marker=marker, url=url)
    # as pip does: cut the marker off at the first ";", then read the rest
    sep = text.find(";")
    body_end = sep if sep >= 0 else len(text)
    marker = _marker_after(text, sep, 1)
    body = text[:body_end].strip()
    match = _EXTRAS_SUFFIX.fullmatch(body)
    head, at, _ = body.partition("@")
    named = at and not _looks_like_path(head)  # `name @ url`, even when the URL names an archive
    if not named and ((match.group(1) if match else body).lower().endswith(_ARCHIVES) or _looks_like_path(body)):
        return _path_requirement(text, body_end, marker)
    return parse_pep508(text[:body_end])._replace(marker=marker)


def parse_editable(value: str) -> Parsed:
    """Parse the value of ``-e``; spans point at the end of ``value`` (an editable has no specifier)."""
    end = len(value)
    scheme = _SCHEME.match(value)
    if "@" in value and (scheme is None or len(scheme.group(1)) == 1):
        try:
            req = parse_pep508(value)
        except LineSyntaxError:
            req = None
        if req is not None and req.url is not None:
            if not (_is_url(req.url) or req.url.lower().startswith("file:")):
                raise _not_editable(value)
            return make(req.name, at=(end, end), extras=req.extras, marker=req.marker, url=req.url, editable=True)
    if scheme is None or len(scheme.group(1)) == 1:  # no scheme, or a Windows drive letter: a local path
        if not _looks_like_path(value) and re.search(r"===?|~=|!=|<=|>=|[<>]", value):
            raise LineSyntaxError(
                f"-e takes a local project path or a VCS URL, not {value!r}",
                0,
                "drop -e to install a released version, or give a path (-e ./project) or a VCS URL"
                " (-e git+https://host/repo.git#egg=name)",
            )
        req = _path_requirement(value, end, None)
        return make(req.name, at=(end, end), extras=req.extras, url=req.url, editable=True)
    kind = scheme.group(1).lower()
    if kind == "file":
        name, extras = _url_name(value)
        return make(name, at=(end, end), extras=extras, url=value, editable=True)
    if kind not in _URL_SCHEMES - {"http", "https", "ftp"} and kind not in _VCS:
        raise _not_editable(value)
    name, extras = _url_name(value)
    if not name:
        raise LineSyntaxError(
            f"pip cannot tell the project name of the editable {value!r}",
            0,
            "add #egg=name to the URL, or write -e 'name @ URL'",
        )
    return make(name, at=(end, end), extras=extras, url=value, editable=True)


def _not_editable(value: str) -> LineSyntaxError:
    return LineSyntaxError(
        f"{value!r} is not a valid editable requirement",
        0,
        "-e takes a local project path or a VCS URL (git+https://..., hg+..., svn+..., bzr+...)",
    )
