"""A real package index on loopback, with faults a test can switch on.

:class:`IndexServer` runs a stdlib ``ThreadingHTTPServer`` on ``127.0.0.1`` (port 0, so tests never clash)
and answers like a real index:

- ``/simple/`` and ``/simple/<name>/`` negotiated on ``Accept`` (PEP 691 JSON or PEP 503 HTML, 406 when
  nothing acceptable), ``301`` from a non-normalized or slash-less project URL, ``404`` for unknown
  projects, ``ETag``/``Last-Modified`` with ``304`` answers and a settable ``Cache-Control``;
- ``/files/<filename>`` with single byte ranges (``a-b``, ``a-``, ``-n`` -> 206, unsatisfiable -> 416;
  several ranges are ignored and answered whole, as the RFC allows) and ``/files/<filename>.metadata``;
- optional Basic auth (401 with ``WWW-Authenticate`` without it).

Faults match the decoded request path with shell-style globs (``fnmatch``: ``*`` crosses ``/``) and are
bounded: ``times=N`` fires N times then the request is answered normally, ``times=None`` fires forever.
Every request is logged (method, path, headers, status, bytes sent, fault) *before* the answer is written,
so a test that has read the answer always sees its entry.

Cost: one thread per connection (HTTP/1.1 keep-alive, idle connections close after
:attr:`IndexServer.idle_timeout`); :meth:`IndexServer.stop` closes every open connection and joins the
threads with a bounded wait, so no socket or thread outlives the fixture.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import fnmatch
import hashlib
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import canonicalize_name

from tests.indexserver.model import (
    HTML_V1,
    JSON_V1,
    IndexFile,
    Project,
    render_index_html,
    render_index_json,
    render_project_html,
    render_project_json,
)
from tests.indexserver.protocol import (
    MAX_DELAY,
    Fault,
    LoggedRequest,
    Response,
    negotiate,
    not_modified,
    parse_range,
)

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Fault", "IndexServer", "LoggedRequest"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.index.idle_timeout)
        # Headers and body go out in two writes; without this, Nagle plus delayed ACK adds ~40 ms each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self.server.index._serve(self, head=False)

    def do_HEAD(self) -> None:
        self.server.index._serve(self, head=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the structured request log replaces the stderr access log."""


class _HTTPServer(ThreadingHTTPServer):
    """Daemon handler threads that :meth:`close_all` can end: it shuts every open connection down."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, index: IndexServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.index = index
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._handler_threads: list[threading.Thread] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"indexserver-{self.server_address[1]}-connection",
            daemon=True,
        )
        with self._lock:
            self._connections.add(request)
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all(self, timeout: float) -> None:
        with self._lock:
            connections = list(self._connections)
            threads = list(self._handler_threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class IndexServer:
    """The loopback index: projects, faults and a request log, all changeable while it runs.

    ``url`` is the simple index URL (``http://127.0.0.1:PORT/simple/``). Use as a context manager or call
    :meth:`start` / :meth:`stop`; the pytest fixture does that.
    """

    def __init__(
        self,
        *,
        api_version: str = "1.1",
        cache_control: str = "max-age=600",
        absolute_urls: bool = False,
        idle_timeout: float = 5.0,
    ) -> None:
        self.api_version = api_version
        self.cache_control = cache_control
        #: False: pages carry no ETag, Last-Modified or Cache-Control, like some mirrors.
        self.cache_headers = True
        self.absolute_urls = absolute_urls
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._projects: dict[str, Project] = {}
        self._modified: dict[str, float] = {}
        self._files: dict[str, IndexFile] = {}
        self._faults: list[Fault] = []
        self._log: list[LoggedRequest] = []
        self._auth: str | None = None
        self._modes: set[str] = set()
        self._broken_range: str = "bytes"
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------------------

    def start(self) -> IndexServer:
        """Bind ``127.0.0.1:0`` and serve from a daemon thread."""
        self._stopping.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"indexserver-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every open connection, join the threads (bounded by ``timeout``)."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.close_all(timeout)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._httpd = None

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        if self._httpd is None:
            raise RuntimeError("the index server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` with no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The simple index URL, ``http://127.0.0.1:PORT/simple/``."""
        return f"{self.base_url}/simple/"

    def url_with_credentials(self, user: str, password: str) -> str:
        """The simple index URL with ``user:password@`` in it, as pip accepts it."""
        return f"http://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}/simple/"

    def project_url(self, name: str) -> str:
        """The normalized project page URL."""
        return f"{self.url}{canonicalize_name(name)}/"

    def file_url(self, filename: str) -> str:
        """The absolute URL a file is served at."""
        return f"{self.base_url}/files/{quote(filename)}"

    # -- content -----------------------------------------------------------------------------------------

    def add(self, *projects: Project) -> None:
        """Publish projects, replacing any of the same normalized name; each page gets a new Last-Modified."""
        with self._lock:
            for project in projects:
                old = self._projects.get(project.normalized)
                for file in old.files if old else ():
                    self._files.pop(file.filename, None)
                self._projects[project.normalized] = project
                self._modified[project.normalized] = time.time()
                for file in project.files:
                    self._files[file.filename] = file

    def add_files(self, name: str, *files: IndexFile) -> None:
        """Append files to a project, creating it if needed."""
        with self._lock:
            project = self._projects.get(str(canonicalize_name(name)))
        current = list(project.files) if project else []
        self.add(Project(project.name if project else name, [*current, *files]))

    def require_auth(self, user: str, password: str) -> None:
        """Answer 401 to every request without these Basic credentials."""
        self._auth = base64.b64encode(f"{user}:{password}".encode()).decode()

    # -- faults ------------------------------------------------------------------------------------------

    def _add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail(self, pattern: str, status: int = 500, *, times: int | None = None) -> Fault:
        """Answer ``status`` (with a short text body) to matching requests."""
        return self._add_fault(Fault("fail", pattern, times, status=status))

    def rate_limit(self, pattern: str, retry_after: str | None = "2", *, times: int | None = 1) -> Fault:
        """Answer 429 with ``Retry-After`` (seconds or an HTTP date; ``None`` leaves the header out)."""
        return self._add_fault(Fault("rate_limit", pattern, times, status=429, retry_after=retry_after))

    def reset(self, pattern: str, *, times: int | None = 1) -> Fault:
        """Read the request, then reset the connection (RST) without a byte of answer."""
        return self._add_fault(Fault("reset", pattern, times))

    def truncate(self, pattern: str, *, times: int | None = 1) -> Fault:
        """Send the real headers (full Content-Length) and half the body, then close."""
        return self._add_fault(Fault("truncate", pattern, times))

    def slow(self, pattern: str, seconds: float, *, times: int | None = None) -> Fault:
        """Wait ``seconds`` (at most :data:`MAX_DELAY`) before answering matching requests."""
        return self._add_fault(Fault("slow", pattern, times, seconds=min(seconds, MAX_DELAY)))

    def drip(self, pattern: str, seconds: float, *, times: int | None = None) -> Fault:
        """Send the answer one byte every ``seconds`` (headers at once): no single read ever times out, so
        only a deadline on the whole answer ends it. The server stops dripping after ``MAX_DELAY`` seconds."""
        return self._add_fault(Fault("drip", pattern, times, seconds=seconds))

    def no_range(self) -> None:
        """Ignore ``Range``: answer 200 with the whole file, like a server without range support."""
        self._modes.add("no_range")

    def broken_range(self, kind: Literal["bytes", "header"] = "bytes") -> None:
        """Answer ranges with 206 but wrong bytes (``bytes``: shifted by one) or a wrong Content-Range."""
        self._modes.add("broken_range")
        self._broken_range = kind

    def no_metadata_files(self) -> None:
        """404 for every ``.metadata`` file, whatever the pages advertise."""
        self._modes.add("no_metadata_files")

    def html_only(self) -> None:
        """Ignore ``Accept`` and serve ``text/html`` pages, like a PEP 503-only index."""
        self._modes.add("html_only")

    def json_only(self) -> None:
        """Ignore ``Accept`` and serve PEP 691 JSON pages."""
        self._modes.add("json_only")

    def clear_faults(self) -> None:
        """Switch every fault and mode off."""
        with self._lock:
            self._faults.clear()
            self._modes.clear()

    # -- the log -----------------------------------------------------------------------------------------

    @property
    def log(self) -> list[LoggedRequest]:
        """A copy of every request so far, oldest first."""
        with self._lock:
            return list(self._log)

    def requests(self, pattern: str = "*", *, method: str | None = None) -> list[LoggedRequest]:
        """Logged requests whose path matches the glob ``pattern`` (and ``method``, if given)."""
        return [r for r in self.log if fnmatch.fnmatchcase(r.path, pattern) and (method is None or r.method == method)]

    def clear_log(self) -> None:
        """Forget the requests so far."""
        with self._lock:
            self._log.clear()

    # -- serving -----------------------------------------------------------------------------------------

    def _take(self, path: str, kinds: set[str]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(path):
                    fault.fired += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def _serve(self, handler: _Handler, *, head: bool) -> None:
        path = unquote(urlsplit(handler.path).path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        slow = self._take(path, {"slow"})
        if slow is not None and self._stopping.wait(slow.seconds):
            handler.close_connection = True
            return
        fault = self._take(path, {"fail", "rate_limit", "reset", "truncate", "drip"})
        if fault is not None and fault.kind == "reset":
            self._record(handler, path, headers, status=None, bytes_sent=0, fault="reset")
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            handler.close_connection = True
            return
        if fault is not None and fault.kind == "fail":
            response = Response(fault.status, f"injected failure {fault.status}\n".encode())
        elif fault is not None and fault.kind == "rate_limit":
            response = Response(429, b"slow down\n")
            if fault.retry_after is not None:
                response.headers.append(("Retry-After", fault.retry_after))
        elif self._auth is not None and headers.get("authorization") != f"Basic {self._auth}":
            response = Response(401, b"credentials required\n", [("WWW-Authenticate", 'Basic realm="index"')])
        else:
            response = self._route(path, headers)
        body = b"" if head or response.status == 304 else response.body
        if fault is not None and fault.kind == "truncate":
            body = body[: len(body) // 2]
            response.close = True
        fault_kind = fault.kind if fault else None
        self._record(handler, path, headers, status=response.status, bytes_sent=len(body), fault=fault_kind)
        self._send(handler, response, body, drip=fault.seconds if fault is not None and fault.kind == "drip" else 0)

    def _record(self, handler: _Handler, path: str, headers: dict[str, str], **outcome: Any) -> None:
        entry = LoggedRequest(handler.command, path, headers, **outcome)
        with self._lock:
            self._log.append(entry)

    def _send(self, handler: _Handler, response: Response, body: bytes, *, drip: float = 0) -> None:
        try:
            handler.send_response(response.status)
            for name, value in response.headers:
                handler.send_header(name, value)
            if response.status != 304:
                handler.send_header("Content-Length", str(len(response.body)))
            if response.close:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            if not drip:
                handler.wfile.write(body)
                return
            stop = time.monotonic() + MAX_DELAY
            for i in range(len(body)):
                handler.wfile.write(body[i : i + 1])
                handler.wfile.flush()
                if self._stopping.wait(drip) or time.monotonic() > stop:
                    handler.close_connection = True
                    return
        except OSError:
            handler.close_connection = True

    def _route(self, path: str, headers: dict[str, str]) -> Response:
        if path == "/simple":
            return Response(301, headers=[("Location", "/simple/")])
        if path == "/simple/":
            with self._lock:
                projects = sorted(self._projects.values(), key=lambda p: p.normalized)
                modified = max(self._modified.values(), default=0.0)
            return self._page(headers, modified, lambda json: self._render_index(projects, json))
        match = re.fullmatch(r"/simple/([^/]+)(/?)", path)
        if match:
            return self._project_page(match[1], bool(match[2]), headers)
        if path.startswith("/files/"):
            return self._file(path.removeprefix("/files/"), headers)
        return Response(404, b"not found\n")

    def _project_page(self, name: str, slash: bool, headers: dict[str, str]) -> Response:
        normalized = str(canonicalize_name(name))
        with self._lock:
            project = self._projects.get(normalized)
            modified = self._modified.get(normalized, 0.0)
        if project is None:
            return Response(404, b"no such project\n")
        if name != normalized or not slash:
            return Response(301, headers=[("Location", f"/simple/{quote(normalized)}/")])
        return self._page(headers, modified, lambda json: self._render_project(project, json))

    def _render_index(self, projects: list[Project], as_json: bool) -> bytes:
        render = render_index_json if as_json else render_index_html
        return render(projects, api_version=self.api_version)

    def _render_project(self, project: Project, as_json: bool) -> bytes:
        base = f"{self.base_url}/files/" if self.absolute_urls else "../../files/"
        render = render_project_json if as_json else render_project_html
        return render(project, file_base=base, api_version=self.api_version)

    def _page(self, headers: dict[str, str], modified: float, render: Any) -> Response:
        if "html_only" in self._modes:
            content_type: str | None = "text/html"
        elif "json_only" in self._modes:
            content_type = JSON_V1
        else:
            content_type = negotiate(headers.get("accept"))
        if content_type is None:
            return Response(406, b"acceptable: " + f"{JSON_V1}, {HTML_V1}, text/html\n".encode())
        body: bytes = render(content_type == JSON_V1)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        last_modified = email.utils.formatdate(int(modified), usegmt=True)
        meta = [
            ("ETag", etag),
            ("Last-Modified", last_modified),
            ("Cache-Control", self.cache_control),
            ("Vary", "Accept"),
        ]
        if not self.cache_headers:
            meta = [("Vary", "Accept")]
        full_type = content_type + ("; charset=utf-8" if content_type == "text/html" else "")
        if not_modified(headers, etag, int(modified)):
            return Response(304, headers=meta)
        return Response(200, body, [("Content-Type", full_type), *meta])

    def _file(self, filename: str, headers: dict[str, str]) -> Response:
        with self._lock:
            file = self._files.get(filename)
            metadata_of = self._files.get(filename.removesuffix(".metadata"))
        if file is None and filename.endswith(".metadata") and metadata_of is not None:
            if "no_metadata_files" in self._modes or not metadata_of.serve_metadata or metadata_of.metadata is None:
                return Response(404, b"no metadata file\n")
            return self._bytes(metadata_of.metadata, headers)
        if file is None:
            return Response(404, b"no such file\n")
        return self._bytes(file.content, headers)

    def _bytes(self, data: bytes, headers: dict[str, str]) -> Response:
        base = [("Content-Type", "application/octet-stream")]
        spec = headers.get("range")
        if spec is None or "no_range" in self._modes:
            if "no_range" not in self._modes:
                base.append(("Accept-Ranges", "bytes"))
            return Response(200, data, base)
        base.append(("Accept-Ranges", "bytes"))
        span = parse_range(spec, len(data))
        if span is None:
            return Response(200, data, base)
        if span == "unsatisfiable":
            return Response(416, b"", [*base, ("Content-Range", f"bytes */{len(data)}")])
        first, last = span
        body = data[first : last + 1]
        content_range = f"bytes {first}-{last}/{len(data)}"
        if "broken_range" in self._modes:
            if self._broken_range == "bytes":
                body = (data[first + 1 : last + 2] + b"\0")[: len(body)]
            else:
                content_range = f"bytes {first + 1}-{last + 1}/{len(data)}"
        return Response(206, body, [*base, ("Content-Range", content_range)])
