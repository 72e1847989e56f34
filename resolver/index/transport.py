"""HTTP for the index client: the one module, with :mod:`resolver.index.client`, that may import httpx.

httpx is imported with the first request, not with this module: a warm run that answers everything from the
cache never loads the network stack (~0.1 s of start-up). The rest of the index package sees a
:class:`Response` (status, headers, body, final URL), never an httpx type, and :class:`IndexUnreachableError`
for every way a request can fail.

Retries: 429 (``Retry-After`` in seconds or as an HTTP date, over ``retry_cap`` -> give up), 5xx, resets,
truncated bodies and timeouts, with exponential backoff and full jitter, within ``retries`` and a wall-time
budget of ``timeout * (retries + 1) + retry_cap`` seconds per request, and of :attr:`Transport.run_budget`
(``timeout * ANSWER_FACTOR * (retries + 1) + retry_cap``) for all of a client's requests together.
``timeout`` bounds each wait for the network (to connect, for the next bytes); a whole answer must also
arrive within :data:`ANSWER_FACTOR` x ``timeout`` (and within the budget), so a server that drips a byte at a
time cannot hold a run: the body is read in chunks against that deadline. 401/403 fail at once; any other
status the caller did not list as ``ok`` fails at once too (404 means "not here" to the callers that list it).

Credentials in index URLs are sent as Basic auth to that URL's host only (:meth:`Transport.register` strips
them from the URL before any request, log or parse); ``~/.netrc`` (or ``$NETRC``) applies per host; httpx
drops both on a redirect to another host. Passwords are scrubbed from the text of transport errors.

Connections: HTTP/1.1 on up to ``max_connections`` (why not HTTP/2: :meth:`Transport._make_client`); each
host is looked up once per client, not once per connection (:func:`_look_up_once`).
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from resolver.errors import InputError
from resolver.index.errors import IndexUnreachableError, tried
from resolver.index.urls import redact, split_credentials

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Mapping

    import httpx

    from resolver.index.loads import Loads

__all__ = ["ANSWER_FACTOR", "MAX_REDIRECTS", "PAGE_LIMIT", "Response", "Transport"]

logger = logging.getLogger(__name__)

#: A whole answer (headers and body) must arrive within this many ``timeout``s: 60 s at the default 15 s,
#: enough for a 7 MB project page at 120 KB/s; a drip of one byte per second never finishes in it.
ANSWER_FACTOR = 4
#: Redirect hops followed for one request (pip's session stops at 10 too; httpx would follow 20).
MAX_REDIRECTS = 10
#: The most an answer may hold once decompressed, unless the caller gives its own ``limit``: the largest
#: project pages of the main index are a few MB of JSON (numpy's about 7 MB); a page of 210 MB took 33 s and
#: 1.8 GB to parse, and a gzip page that inflates to 300 MB was read whole. Whole wheels (the metadata
#: fallback when ranges fail) pass their own, larger limit.
PAGE_LIMIT = 64 * 1024 * 1024


class _Answer:
    """A response read whole under the answer deadline: what :class:`Response` asks for."""

    __slots__ = ("content", "headers", "status_code", "url")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes, url: httpx.URL) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url


class _TooSlow(Exception):
    """The whole answer did not arrive within its deadline."""


class Response(Protocol):
    """What the index package reads of an answer (an ``httpx.Response`` is one): the status, the headers
    (case-insensitive), the whole body, and the URL after redirects."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    @property
    def url(self) -> object: ...


class Transport:
    """GETs with retries and per-host credentials over one lazily made ``httpx.Client``.

    Thread-safe (``loads.lock`` guards the client); counts its attempts, bytes and retries into ``loads``.
    ``backoff`` is the first retry's upper bound in seconds (tests make it tiny).
    """

    def __init__(
        self,
        loads: Loads,
        *,
        timeout: float,
        retries: int,
        retry_cap: float,
        backoff: float,
        max_connections: int,
        netrc: bool,
    ) -> None:
        self._loads = loads
        self._lock = loads.lock
        self._timeout = timeout
        self._retries = retries
        self._retry_cap = retry_cap
        self._backoff = backoff
        self._max_connections = max_connections
        self._use_netrc = netrc
        self._credentials: dict[tuple[str, int], tuple[str, str]] = {}
        self._addresses: dict[tuple[str, int], tuple[str, ...]] = {}  # host lookups (_look_up_once)
        self._http: httpx.Client | None = None
        self._closed = False
        self._run_deadline: float | None = None  # set by the first request (see run_budget)

    @property
    def run_budget(self) -> float:
        """The most one client (one environment's check, one lock) spends on the network, first request on:
        every request's every attempt whole (ANSWER_FACTOR x timeout), plus the retry cap. An index that
        answers each page slowly, or drips only first attempts, cannot hold a run longer."""
        return self._timeout * ANSWER_FACTOR * (self._retries + 1) + self._retry_cap

    @property
    def opened(self) -> bool:
        """Whether the HTTP client (and the network stack) has been made."""
        return self._http is not None

    def register(self, url: str) -> str:
        """``url`` without its credentials, which are kept to be sent to its host. A URL whose port cannot be
        read is bad input, said without the URL: it is most often a password with a raw ``#``, ``?`` or
        ``/`` (which end the authority), and httpx's own error would print that password as the port."""
        try:
            _ = urlsplit(url.strip()).port  # raises ValueError when the port is not a number
        except ValueError:
            raise InputError(
                "an index or find-links URL cannot be read: what follows its host's ':' is not a port number",
                path="the index settings",
                hint="percent-encode a '#', '?', '/' or '@' in a user name or password (%23, %3F, %2F, %40)",
            ) from None
        clean, credentials = split_credentials(url.strip())
        if credentials is not None:
            parts = urlsplit(clean)
            self._credentials[_host_key(parts.scheme, parts.hostname or "", parts.port)] = credentials
        return clean

    def client(self) -> httpx.Client:
        """The HTTP client, made (and httpx loaded) on the first call; ``RuntimeError`` once closed."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the index client is closed")
            if self._http is None:
                self._http = self._make_client()
            return self._http

    def close(self) -> None:
        """Close the connections; no client is made after this."""
        with self._lock:
            self._closed = True
            http, self._http = self._http, None
        if http is not None:
            http.close()

    def get(
        self, url: str, *, ok: tuple[int, ...], headers: dict[str, str] | None = None, limit: int | None = None
    ) -> Response:
        """GET ``url`` with retries until the status is in ``ok``; :class:`IndexUnreachableError` else, also
        for an answer over ``limit`` bytes once decompressed (default :data:`PAGE_LIMIT`; not retried: it
        would be as large again)."""
        limit = PAGE_LIMIT if limit is None else limit
        now = time.monotonic()
        with self._lock:
            if self._run_deadline is None:
                self._run_deadline = now + self.run_budget
            run_deadline = self._run_deadline
        if now > run_deadline:
            raise IndexUnreachableError(
                f"the run's time budget of {self.run_budget:.0f} s is spent (--timeout x 4 x (--retries + 1) + "
                f"{self._retry_cap:g} s); the index answers too slowly",
                url=url,
                tried="0 attempts (out of time)",
            )
        deadline = min(run_deadline, now + self._timeout * (self._retries + 1) + self._retry_cap)
        attempts = 0
        while True:
            attempts += 1
            outcome = self._attempt(url, headers, ok, attempts, deadline, limit)
            if not isinstance(outcome, tuple):
                return outcome
            reason, wait = outcome
            if attempts > self._retries:
                raise IndexUnreachableError(f"gave up after {reason}", url=url, tried=tried(attempts, reason))
            ceiling = min(self._retry_cap, self._backoff * 2 ** (attempts - 1))
            import random  # lazily: only retries need it

            delay = wait if wait is not None else random.uniform(0, ceiling)  # noqa: S311 - jitter, not secrets
            if time.monotonic() + delay > deadline:
                budget = (
                    f"the run's time budget of {self.run_budget:.0f} s is spent"
                    if deadline == run_deadline
                    else "the time budget is spent"
                )
                raise IndexUnreachableError(f"gave up after {reason}: {budget}", url=url, tried=tried(attempts, reason))
            self._loads.count(retries=1)
            logger.debug("retrying %s in %.2f s after %s", redact(url), delay, reason)
            time.sleep(delay)

    def _make_client(self) -> httpx.Client:
        import httpx  # lazily: loads with the first request (module docstring)

        auth = _host_auth(self._credentials, _netrc_auth() if self._use_netrc else None)
        limits = httpx.Limits(max_connections=self._max_connections, max_keepalive_connections=self._max_connections)
        timeout = httpx.Timeout(self._timeout)
        headers = {"User-Agent": "relax-pins"}
        # HTTP/1.1 on up to max_connections connections, not HTTP/2: httpx's HTTP/2 is not safe to share
        # between threads (hpack's tables are mutated without a lock: "deque mutated during iteration", seen
        # here in a cold check; encode/httpx#3566), and its pure-Python framing was the slower of the two here
        # (the ~100 pages of an ML set: 0.41 s on 16 HTTP/1.1 connections, 0.61 s multiplexed over HTTP/2).
        # At most MAX_REDIRECTS hops, as pip allows (httpx's own default is 20).
        client = httpx.Client(
            auth=auth,
            limits=limits,
            timeout=timeout,
            headers=headers,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
        )
        _look_up_once(client, self._addresses)
        return client

    def _network_failure(self, exc: Exception, url: str, attempts: int) -> str:
        """Why to retry after a failed connection; :class:`IndexUnreachableError` at once when a retry cannot
        help: an untrusted certificate (the same one comes back), or a host name that did not resolve twice
        (one retry covers a dropped DNS packet; five cost 6.4 s)."""
        import socket  # lazily, as httpx is
        import ssl

        reason = self._scrub(f"connection failed ({type(exc).__name__}: {exc})")
        cause = _root_cause(exc)
        if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            raise IndexUnreachableError(
                reason,
                url=url,
                tried=tried(attempts, "certificate not trusted"),
                hint="if the index uses a private CA, point SSL_CERT_FILE at a bundle that holds it",
            ) from None
        if isinstance(cause, socket.gaierror) and attempts >= 2:
            raise IndexUnreachableError(
                reason,
                url=url,
                tried=tried(attempts, "host name not resolved"),
                hint="check the host name in the index URL, and that this machine can reach a DNS server",
            ) from None
        return reason

    def _scrub(self, text: str) -> str:
        for _, password in self._credentials.values():
            if password:
                text = text.replace(password, "***").replace(quote(password, safe=""), "***")
        return text

    def _attempt(
        self,
        url: str,
        headers: dict[str, str] | None,
        ok: tuple[int, ...],
        attempts: int,
        deadline: float,
        limit: int,
    ) -> Response | tuple[str, float | None]:
        """One GET: the response when its status is in ``ok``, else why to retry and how long to wait."""
        import httpx  # lazily: client() loaded it by now

        self._loads.count(requests=1)
        started = time.monotonic()
        until = min(deadline, started + self._timeout * ANSWER_FACTOR)
        try:
            with self.client().stream("GET", url, headers=headers) as streamed:
                chunks, size = [], 0
                for chunk in streamed.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        raise IndexUnreachableError(
                            f"the answer is over the limit of {_size(limit)} once decompressed; refused",
                            url=url,
                            tried=tried(attempts, "too large"),
                        )
                    if time.monotonic() > until:
                        raise _TooSlow
                response = _Answer(streamed.status_code, streamed.headers, b"".join(chunks), streamed.url)
        except _TooSlow:
            return f"timed out (the whole answer took longer than {until - started:.0f} s)", None
        except httpx.TimeoutException as exc:
            return f"timed out ({type(exc).__name__})", None
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.DecodingError) as exc:
            return self._network_failure(exc, url, attempts), None
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            reason = self._scrub(f"the request failed ({type(exc).__name__}: {exc})")
            raise IndexUnreachableError(reason, url=url, tried=tried(attempts, type(exc).__name__)) from None
        status = response.status_code
        self._loads.count(bytes_received=len(response.content))
        logger.debug("GET %s -> %d", redact(url), status)
        if status in ok:
            return response
        if status in (401, 403):
            host = _host_key(response.url.scheme, response.url.host, response.url.port)
            sent = " (the index URL's credentials were sent)" if host in self._credentials else ""
            raise IndexUnreachableError(
                f"HTTP {status}: credentials are missing or were refused{sent}",
                url=url,
                tried=tried(attempts, f"HTTP {status}"),
                hint="put user:password in the index URL, or add the host to ~/.netrc",
            )
        if status != 429 and status < 500:
            raise IndexUnreachableError(f"unexpected HTTP {status}", url=url, tried=tried(attempts, str(status)))
        wait = _retry_after(response)
        if wait is not None and wait > self._retry_cap:
            raise IndexUnreachableError(
                f"the server asked to wait {wait:.0f} s, more than the {self._retry_cap:g} s retry cap",
                url=url,
                tried=tried(attempts, f"HTTP {status}"),
            )
        return f"HTTP {status}", wait


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception in ``exc``'s chain (httpx wraps httpcore's, which wraps the socket's)."""
    seen = {id(exc)}
    while (inner := exc.__cause__ or exc.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        exc = inner
    return exc


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"


def _host_key(scheme: str, host: str, port: int | None) -> tuple[str, int]:
    return host.lower(), port or (443 if scheme == "https" else 80)


def _host_auth(by_host: dict[tuple[str, int], tuple[str, str]], netrc: httpx.Auth | None) -> httpx.Auth:
    """Basic credentials per host: from the index URLs, else from netrc; httpx drops them on cross-host redirects."""
    import httpx  # lazily: loads with the first request (module docstring)

    class HostAuth(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            found = by_host.get(_host_key(request.url.scheme, request.url.host, request.url.port))
            if found is not None:
                token = base64.b64encode(f"{found[0]}:{found[1]}".encode()).decode()
                request.headers["Authorization"] = f"Basic {token}"
            elif netrc is not None:
                yield from netrc.auth_flow(request)
                return
            yield request

    return HostAuth()


def _netrc_auth() -> httpx.Auth | None:
    import netrc  # lazily, as are the other modules only some runs need: start-up is part of every run's time

    path = Path(os.environ["NETRC"]) if os.environ.get("NETRC") else Path.home() / ".netrc"
    if not path.is_file():
        return None
    import httpx  # lazily: loads with the first request (module docstring)

    try:
        return httpx.NetRCAuth(str(path))
    except (netrc.NetrcParseError, OSError):
        logger.warning("ignoring %s: it cannot be read as a netrc file", path)
        return None


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    import email.utils  # lazily

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _resolve_host(
    addresses: dict[tuple[str, int], tuple[str, ...]], lock: threading.Lock, host: str, port: int
) -> tuple[str, ...]:
    """The IP addresses of ``host`` (``getaddrinfo`` order), looked up once per client and shared by every
    connection (and a forked worker); ``()`` when the lookup fails (not kept: the connection then fails with
    the resolver's own error)."""
    import socket  # lazily, with the network stack

    key = (host, port)
    with lock:  # one lookup per host, not one per connection: eight connections wait for the same answer
        found = addresses.get(key)
        if found is None:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError:
                return ()
            found = addresses[key] = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
        return found


def _look_up_once(client: httpx.Client, addresses: dict[tuple[str, int], tuple[str, ...]]) -> None:
    """Make ``client``'s connections share host lookups (:func:`_resolve_host`).

    Why: httpcore looks the host up for every new connection, and a run opens ~20. Where a DNS server drops
    a packet now and then, each lookup risks the resolver's 5 s retry: measured here, a cold check stalled
    5 s in 3 to 5 runs of 5 with 12 to 24 connections, in none with one lookup per host. TLS still names the
    host (SNI and certificate checks use the URL's host, not the address connected to).
    """
    import httpcore  # lazily, with httpx

    lock = threading.Lock()

    class _SharedLookups(httpcore.SyncBackend):
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            failure: httpcore.ConnectError | None = None
            for address in _resolve_host(addresses, lock, host, port):
                try:
                    return super().connect_tcp(address, port, timeout, local_address, socket_options)
                except httpcore.ConnectError as exc:  # the next address, as socket.create_connection does
                    failure = exc
            if failure is not None:
                raise failure
            return super().connect_tcp(host, port, timeout, local_address, socket_options)

    backend = _SharedLookups()
    for transport in (client._transport, *client._mounts.values()):
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = backend
