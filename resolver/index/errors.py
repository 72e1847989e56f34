"""The two errors of the index boundary: what could not be fetched, and what did not match its hash.

Both carry their URL redacted (:func:`resolver.index.urls.redact`), so an error can be shown, logged or passed
back from a worker process (they pickle by fields: :class:`resolver.errors.RelaxPinsError`) without a secret.
Expected absence (a 404 page, no metadata) is not an error: the client answers ``None``.
"""

from __future__ import annotations

from resolver.errors import RelaxPinsError
from resolver.index.urls import redact

__all__ = ["ContentError", "IndexUnreachableError", "IntegrityError", "tried"]


class IndexUnreachableError(RelaxPinsError):
    """An index, page or file could not be fetched. ``url`` is redacted; ``tried`` says how hard we tried."""

    exit_code = 3

    def __init__(self, reason: str, *, url: str, tried: str, hint: str | None = None) -> None:
        self.url = redact(url)
        self.reason = reason
        self.tried = tried
        self.hint = hint
        self.message = f"{self.url}: {reason} ({tried})"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")


class IntegrityError(RelaxPinsError):
    """A file or metadata file whose hash differs from the one the index gives (``expected``/``actual``)."""

    exit_code = 4

    def __init__(self, *, url: str, expected: str, actual: str, what: str = "file") -> None:
        self.url = redact(url)
        self.expected = expected
        self.actual = actual
        self.message = f"{self.url}: the {what} does not match its hash on the index: {expected} != {actual}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ContentError(IntegrityError):
    """A file whose hash holds but whose content contradicts itself or its name: a wheel whose METADATA names
    another project or version than its filename, a zip whose local header names another member than its
    central directory. Exit 4, like a hash that does not hold: the file cannot be trusted."""

    def __init__(self, message: str, *, url: str, expected: str, actual: str) -> None:
        super().__init__(url=url, expected=expected, actual=actual)
        self.message = f"{self.url}: {message}"
        Exception.__init__(self, self.message)


def tried(attempts: int, last: str) -> str:
    """The ``tried`` of an :class:`IndexUnreachableError`: ``"2 attempts, last error: HTTP 503"``."""
    return f"{attempts} attempt{'s' if attempts != 1 else ''}, last error: {last}"
