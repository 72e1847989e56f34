"""Index URLs as text: their credentials (stripped, masked, or kept for requests) and the local paths they name.

PURE: text in, text out; no request, no file read. One reader of the ``user:password@`` part (:func:`_userinfo`)
serves the three uses, so that no caller keeps a secret another would have removed, and IPv6 hosts keep the
brackets that make ``[::1]:8080`` a host and a port:

- :func:`split_credentials`: the URL to request and the credentials to send (the index client);
- :func:`strip_credentials`: no userinfo at all, for what is written to a file (lock files);
- :func:`redact`: the password (or a lone token) as ``***``, the user name kept, for what is shown, logged,
  or hashed into a cache key;
- :func:`mask_text`: :func:`redact`'s rule applied to every URL inside any text (a requirement line
  ``x @ git+https://tok@host/x.git``, a diff, an error message): the last guard before anything is printed.

The rules, for every use: a URL without userinfo is returned as it is (a port that does not read as a number
included: there is nothing to hide in it). A URL with userinfo is rebuilt from its parts: the host as
:func:`urllib.parse.urlsplit` reads it (lower case; in brackets when it holds a ``:``), then ``:port`` when
there is a non-zero port; path, query and fragment untouched. Only when that cannot be done (a bracket left
open, a port that is not a number from 0 to 65535) is the URL unparsable, and each use says what it gives then:
``***``, ``<an unparsable URL>``, or the URL unchanged (a request then fails, and its error is redacted).
``token@host`` is a user name with no password; pip and the indexes that issue tokens treat it as the secret,
so :func:`redact` masks it whole. Credentials come back percent-decoded (``p%40ss`` is the password ``p@ss``).

:func:`local_path` tells a ``file:`` URL or a plain path (read from disk) from a remote URL (requested).

Cost: one ``urlsplit`` per call; :func:`redact` is memoised, as it runs for every file link of every page.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

__all__ = ["local_path", "mask_text", "redact", "split_credentials", "strip_credentials"]

#: ``scheme://userinfo@`` anywhere in a text (``git+https://``, ``ssh://`` too). The userinfo runs to the LAST
#: ``@`` before the first ``/`` or space, as URL parsers read an authority: a password may hold a raw ``@``, a
#: quote, a backslash or a ``|`` (escaped as ``\|`` in Markdown), and every one of them stays masked. A match
#: that reaches past the URL masks too much, never too little.
_USERINFO = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://)([^\s/]*)@")


def _userinfo(url: str) -> tuple[SplitResult, str] | None:
    """``url``'s parts and its netloc without userinfo; ``None`` when it has no userinfo.

    Raises ``ValueError`` when a URL with userinfo cannot be rebuilt (an open bracket, an unreadable port).
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return None
    port = parts.port
    host = parts.hostname or ""
    return parts, (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without ``user:password@``, and the (percent-decoded) credentials it carried.

    An unparsable URL comes back unchanged with no credentials: the request made with it fails, and that error
    shows it through :func:`redact`.
    """
    try:
        found = _userinfo(url)
    except ValueError:
        return url, None
    if found is None:
        return url, None
    parts, netloc = found
    credentials = (unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=netloc)), credentials


def strip_credentials(url: str) -> str:
    """``url`` without any ``user:password@`` (not even ``***``): a written URL must carry no secret."""
    try:
        found = _userinfo(url)
    except ValueError:
        return "<an unparsable URL>"
    if found is None:
        return url
    parts, netloc = found
    return urlunsplit(parts._replace(netloc=netloc))


@functools.lru_cache(maxsize=1024)
def redact(url: str) -> str:
    """``url`` with any password or token replaced by ``***`` (the user name is kept when there is one)."""
    try:
        found = _userinfo(url)
    except ValueError:
        return "***"
    if found is None:
        return url
    parts, netloc = found
    user = f"{parts.username}:***@" if parts.password is not None else "***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def mask_text(text: str) -> str:
    """``text`` with the credentials of every URL in it masked as :func:`redact` masks them (``user:***@``, a
    lone token as ``***@``); text without ``://`` comes back as it is, at the cost of one search."""
    if "://" not in text:
        return text

    def masked(match: re.Match[str]) -> str:
        user, colon, _ = match[2].partition(":")
        return f"{match[1]}{user}:***@" if colon else f"{match[1]}***@"

    return _USERINFO.sub(masked, text)


def local_path(location: str) -> Path | None:
    """The path a ``file:`` URL or a plain path names; ``None`` for a remote URL."""
    parts = urlsplit(location)
    if parts.scheme == "file":
        from urllib.request import url2pathname  # lazily: urllib.request loads http.client and ssl

        return Path(url2pathname(parts.path))
    if len(parts.scheme) <= 1:  # no scheme, or a Windows drive letter
        return Path(location).expanduser()
    return None
