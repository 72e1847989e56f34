"""The HTTP rules of the loopback index, apart from sockets: ranges, negotiation, caching, faults, the log.

Pure functions and small records, so the server module only wires them to ``http.server``. Range and
conditional-request handling follow RFC 9110 for the single-range case; negotiation follows PEP 691.
"""

from __future__ import annotations

import email.utils
import fnmatch
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from tests.indexserver.model import HTML_V1, JSON_V1

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "MAX_DELAY",
    "Fault",
    "FaultKind",
    "LoggedRequest",
    "Response",
    "negotiate",
    "not_modified",
    "parse_range",
]

FaultKind = Literal["fail", "rate_limit", "reset", "truncate", "slow", "drip"]

#: Longest a ``slow`` fault may stall one request, so a mistaken test cannot hang the suite.
MAX_DELAY = 30.0


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it; ``status`` is ``None`` when the connection was reset unanswered."""

    method: str
    path: str
    headers: Mapping[str, str]
    status: int | None
    bytes_sent: int
    fault: str | None = None

    @property
    def range(self) -> str | None:
        """The ``Range`` header, if the client sent one."""
        return self.headers.get("range")


@dataclass
class Fault:
    """A switched-on fault; ``fired`` counts how often it acted, ``remaining`` ``None`` means forever."""

    kind: FaultKind
    pattern: str
    remaining: int | None
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0
    fired: int = 0

    def matches(self, path: str) -> bool:
        """Whether the fault applies to ``path`` and still has tries left."""
        return (self.remaining is None or self.remaining > 0) and fnmatch.fnmatchcase(path, self.pattern)


@dataclass
class Response:
    """An answer before it is written: tests and faults can still change it."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False


def parse_range(spec: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """``(first, last)`` inclusive for one ``bytes=`` range, ``None`` to ignore the header."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", spec)
    if not match or (not match[1] and not match[2]):
        return None
    if not match[1]:
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    first = int(match[1])
    if match[2] and int(match[2]) < first:
        return None
    if first >= size:
        return "unsatisfiable"
    last = int(match[2]) if match[2] else size - 1
    return first, min(last, size - 1)


def negotiate(accept: str | None) -> str | None:
    """The content type to answer with for ``accept``; ``None`` when nothing offered is acceptable."""
    if not accept:
        return "text/html"
    aliases = {
        JSON_V1: JSON_V1,
        "application/vnd.pypi.simple.latest+json": JSON_V1,
        HTML_V1: HTML_V1,
        "application/vnd.pypi.simple.latest+html": HTML_V1,
        "text/html": "text/html",
        "text/*": "text/html",
        "*/*": "text/html",
    }
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        answer = aliases.get(media.lower())
        if answer and quality > 0 and (best is None or (quality, -position) > best[:2]):
            best = (quality, -position, answer)
    return best[2] if best else None


def not_modified(headers: dict[str, str], etag: str, modified: int) -> bool:
    """Whether a page with this ETag and modification time answers 304 (If-None-Match wins)."""
    if "if-none-match" in headers:
        tags = {t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")}
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since:
        try:
            return modified <= int(email.utils.parsedate_to_datetime(since).timestamp())
        except (TypeError, ValueError):
            return False
    return False
