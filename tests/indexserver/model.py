"""An index described by data, and the pages (PEP 503 HTML, PEP 691/700 JSON) it renders to.

A test says what the index holds - projects, their files, which are yanked, which carry a PEP 658
``.metadata`` file and whether the page advertises it, hashes right or wrong - and both the HTTP server and
the ``file://`` tree writer render pages from that description with the same functions, so the two stay
alike. Rendering is pure and cheap (string building); the only I/O here is :func:`write_static_index` and
:func:`write_find_links`.

File URLs are relative (``../../files/<quoted filename>``) unless an absolute prefix is given, as devpi and
many mirrors do; filenames are percent-quoted (``+`` becomes ``%2B``), as the PyTorch indexes serve them.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from packaging.version import Version

__all__ = [
    "HTML_V1",
    "JSON_V1",
    "IndexFile",
    "Project",
    "dist",
    "render_index_html",
    "render_index_json",
    "render_project_html",
    "render_project_json",
    "write_find_links",
    "write_static_index",
]

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"


@dataclass(frozen=True, kw_only=True)
class IndexFile:
    """One distribution file on the index and how the index presents it.

    ``yanked``: ``False``, ``True`` (no reason) or a reason string. ``metadata`` is the PEP 658 body
    (taken from the wheel by :func:`dist`); ``serve_metadata`` says whether ``<file>.metadata`` answers,
    ``advertise_metadata`` whether pages say so - the two are independent, as on real indexes that
    advertise what they fail to serve or serve what they do not advertise. ``wrong_metadata_hash`` and
    ``wrong_hash`` advertise a sha256 that does not match, for integrity tests.
    """

    filename: str
    content: bytes
    yanked: bool | str = False
    requires_python: str | None = None
    metadata: bytes | None = None
    serve_metadata: bool = True
    advertise_metadata: bool = True
    wrong_metadata_hash: bool = False
    wrong_hash: bool = False
    advertise_hash: bool = True
    upload_time: str | None = None

    @property
    def sha256(self) -> str:
        """The sha256 of the content, as pages advertise it (wrong on purpose if ``wrong_hash``)."""
        if self.wrong_hash:
            return hashlib.sha256(self.content + b"tampered").hexdigest()
        return hashlib.sha256(self.content).hexdigest()

    @property
    def metadata_sha256(self) -> str | None:
        """The sha256 of the ``.metadata`` body as advertised, ``None`` when there is no body."""
        if self.metadata is None:
            return None
        if self.wrong_metadata_hash:
            return hashlib.sha256(self.metadata + b"tampered").hexdigest()
        return hashlib.sha256(self.metadata).hexdigest()

    @property
    def version(self) -> Version | None:
        """The version the filename carries, ``None`` when the filename does not parse."""
        try:
            if self.filename.endswith(".whl"):
                return parse_wheel_filename(self.filename)[1]
            return parse_sdist_filename(self.filename)[1]
        except (InvalidWheelFilename, InvalidSdistFilename):
            return None


def _wheel_metadata(content: bytes) -> bytes | None:
    """The METADATA member of a wheel's top-level ``.dist-info`` directory, if there is exactly one."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            return archive.read(names[0]) if len(names) == 1 else None
    except zipfile.BadZipFile:
        return None


def dist(
    path: Path,
    *,
    yanked: bool | str = False,
    requires_python: str | None = None,
    metadata: bytes | None = None,
    serve_metadata: bool = True,
    advertise_metadata: bool = True,
    wrong_metadata_hash: bool = False,
    wrong_hash: bool = False,
    advertise_hash: bool = True,
    upload_time: str | None = "2024-01-01T00:00:00.000000Z",
    filename: str | None = None,
) -> IndexFile:
    """An :class:`IndexFile` for an archive on disk; a wheel's METADATA becomes its ``.metadata`` body.

    ``metadata`` overrides that body (to serve metadata that disagrees with the wheel); ``filename``
    publishes the bytes under another name (for invalid-filename tests).
    """
    content = path.read_bytes()
    name = filename or path.name
    if metadata is None and name.endswith(".whl"):
        metadata = _wheel_metadata(content)
    return IndexFile(
        filename=name,
        content=content,
        yanked=yanked,
        requires_python=requires_python,
        metadata=metadata,
        serve_metadata=serve_metadata,
        advertise_metadata=advertise_metadata,
        wrong_metadata_hash=wrong_metadata_hash,
        wrong_hash=wrong_hash,
        advertise_hash=advertise_hash,
        upload_time=upload_time,
    )


@dataclass(frozen=True)
class Project:
    """A project page: its files and, optionally, the PEP 700 ``versions`` list (else derived from files)."""

    name: str
    files: Sequence[IndexFile] = field(default=())
    versions: Sequence[str] | None = None

    @property
    def normalized(self) -> str:
        """The PEP 503 normalized name the project is served under."""
        return str(canonicalize_name(self.name))

    def all_versions(self) -> list[str]:
        """``versions`` if given, else the distinct parseable versions of the files, oldest first."""
        if self.versions is not None:
            return list(self.versions)
        found = {v for v in (f.version for f in self.files) if v is not None}
        return [str(v) for v in sorted(found)]


def _file_href(file: IndexFile, file_base: str) -> str:
    return file_base + quote(file.filename)


def render_project_html(project: Project, *, file_base: str = "../../files/", api_version: str = "1.1") -> bytes:
    """The PEP 503 page: one anchor per file with hash fragment and the ``data-*`` attributes, escaped."""
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        f'    <meta name="pypi:repository-version" content="{api_version}">',
        f"    <title>Links for {html.escape(project.normalized)}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>Links for {html.escape(project.normalized)}</h1>",
    ]
    for file in project.files:
        href = _file_href(file, file_base)
        if file.advertise_hash:
            href += f"#sha256={file.sha256}"
        attrs = [f'href="{html.escape(href)}"']
        if file.requires_python is not None:
            attrs.append(f'data-requires-python="{html.escape(file.requires_python)}"')
        if file.yanked is not False:
            reason = "" if file.yanked is True else file.yanked
            attrs.append(f'data-yanked="{html.escape(reason)}"')
        if file.advertise_metadata and file.metadata is not None:
            value = f"sha256={file.metadata_sha256}"
            attrs += [f'data-core-metadata="{value}"', f'data-dist-info-metadata="{value}"']
        lines.append(f"    <a {' '.join(attrs)}>{html.escape(file.filename)}</a><br/>")
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines).encode()


def render_project_json(project: Project, *, file_base: str = "../../files/", api_version: str = "1.1") -> bytes:
    """The PEP 691 page with the PEP 700 additions (``versions``, ``size``, ``upload-time``)."""
    files: list[dict[str, object]] = []
    for file in project.files:
        entry: dict[str, object] = {
            "filename": file.filename,
            "url": _file_href(file, file_base),
            "hashes": {"sha256": file.sha256} if file.advertise_hash else {},
            "yanked": file.yanked,
            "size": len(file.content),
        }
        if file.requires_python is not None:
            entry["requires-python"] = file.requires_python
        if file.upload_time is not None:
            entry["upload-time"] = file.upload_time
        metadata: object = False
        if file.advertise_metadata and file.metadata is not None:
            metadata = {"sha256": file.metadata_sha256}
        entry["core-metadata"] = metadata
        entry["data-dist-info-metadata"] = metadata
        files.append(entry)
    page = {
        "meta": {"api-version": api_version},
        "name": project.normalized,
        "versions": project.all_versions(),
        "files": files,
    }
    return json.dumps(page, indent=1).encode()


def render_index_html(projects: Iterable[Project], *, api_version: str = "1.1") -> bytes:
    """The PEP 503 root page: one anchor per project, relative to ``/simple/``."""
    anchors = [f'<a href="{quote(p.normalized)}/">{html.escape(p.name)}</a><br/>' for p in projects]
    head = f'<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="{api_version}">'
    return (head + "<title>Simple index</title></head><body>\n" + "\n".join(anchors) + "\n</body></html>\n").encode()


def render_index_json(projects: Iterable[Project], *, api_version: str = "1.1") -> bytes:
    """The PEP 691 root page."""
    page = {"meta": {"api-version": api_version}, "projects": [{"name": p.name} for p in projects]}
    return json.dumps(page).encode()


def write_static_index(directory: Path, projects: Iterable[Project]) -> Path:
    """Write a PEP 503 tree (``simple/<name>/index.html``, ``files/``) and return the ``simple`` folder.

    ``.metadata`` files are written where ``serve_metadata`` is set. Use ``path.as_uri()`` as a ``file://``
    index URL; pip reads ``index.html`` of a folder URL itself. Cost: one file per page and per archive.
    """
    simple = directory / "simple"
    files_dir = directory / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    projects = list(projects)
    simple.mkdir(parents=True, exist_ok=True)
    (simple / "index.html").write_bytes(render_index_html(projects))
    for project in projects:
        page_dir = simple / project.normalized
        page_dir.mkdir(exist_ok=True)
        (page_dir / "index.html").write_bytes(render_project_html(project))
        for file in project.files:
            (files_dir / file.filename).write_bytes(file.content)
            if file.serve_metadata and file.metadata is not None:
                (files_dir / f"{file.filename}.metadata").write_bytes(file.metadata)
    return simple


def write_find_links(directory: Path, files: Iterable[IndexFile]) -> Path:
    """Write a flat find-links folder of archives plus an ``index.html`` page linking them; return the folder.

    Point ``--find-links`` at the folder (pip lists it) or at ``folder/index.html`` (pip parses the page).
    """
    directory.mkdir(parents=True, exist_ok=True)
    anchors = []
    for file in files:
        (directory / file.filename).write_bytes(file.content)
        href = html.escape(f"{quote(file.filename)}#sha256={file.sha256}")
        anchors.append(f'<a href="{href}">{html.escape(file.filename)}</a><br/>')
    page = "<!DOCTYPE html>\n<html><body>\n" + "\n".join(anchors) + "\n</body></html>\n"
    (directory / "index.html").write_text(page)
    return directory
