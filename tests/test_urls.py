"""One reader of credentials in URLs, three uses: requested (split), written (stripped), shown (redacted)."""

from __future__ import annotations

import pytest

from resolver.index import settings
from resolver.index.urls import local_path, mask_text, redact, split_credentials, strip_credentials
from resolver.lock import model

# (url, split_credentials, strip_credentials, redact)
CASES = [
    (
        "https://user:pw@[::1]:8080/simple/",
        ("https://[::1]:8080/simple/", ("user", "pw")),
        "https://[::1]:8080/simple/",
        "https://user:***@[::1]:8080/simple/",
    ),
    (
        "https://user:pw@[::1]/simple/",
        ("https://[::1]/simple/", ("user", "pw")),
        "https://[::1]/simple/",
        "https://user:***@[::1]/simple/",
    ),
    (
        "https://u:pw@[fe80::1%25eth0]:81/x",
        ("https://[fe80::1%25eth0]:81/x", ("u", "pw")),
        "https://[fe80::1%25eth0]:81/x",
        "https://u:***@[fe80::1%25eth0]:81/x",
    ),
    ("https://token@host/", ("https://host/", ("token", "")), "https://host/", "https://***@host/"),
    ("https://u:p%40ss@host/", ("https://host/", ("u", "p@ss")), "https://host/", "https://u:***@host/"),
    ("https://u%40x:p%3Ass@host/", ("https://host/", ("u@x", "p:ss")), "https://host/", "https://u%40x:***@host/"),
    ("https://user:@host/", ("https://host/", ("user", "")), "https://host/", "https://user:***@host/"),
    ("https://:pw@host/", ("https://host/", ("", "pw")), "https://host/", "https://:***@host/"),
    (
        "https://u:pw@host:8443/simple/?q=1#f",
        ("https://host:8443/simple/?q=1#f", ("u", "pw")),
        "https://host:8443/simple/?q=1#f",
        "https://u:***@host:8443/simple/?q=1#f",
    ),
    ("https://host:8443/simple/", ("https://host:8443/simple/", None), "https://host:8443/simple/", None),
    ("https://[::1]:8080/simple/", ("https://[::1]:8080/simple/", None), "https://[::1]:8080/simple/", None),
    ("https://host/simple/", ("https://host/simple/", None), "https://host/simple/", None),
    ("file:///srv/index", ("file:///srv/index", None), "file:///srv/index", None),
    ("/srv/wheels", ("/srv/wheels", None), "/srv/wheels", None),
    # Nothing to hide: returned as written, even with a port that does not read as a number.
    ("https://host:abc/simple/", ("https://host:abc/simple/", None), "https://host:abc/simple/", None),
    # Userinfo that cannot be cut out cleanly: each use gives its "unparsable" answer, never the secret.
    ("https://u:pw@host:abc/", ("https://u:pw@host:abc/", None), "<an unparsable URL>", "***"),
    ("https://u:pw@host:99999/", ("https://u:pw@host:99999/", None), "<an unparsable URL>", "***"),
    ("https://u:pw@[::1/", ("https://u:pw@[::1/", None), "<an unparsable URL>", "***"),
]


@pytest.mark.parametrize(("url", "split", "stripped", "shown"), CASES, ids=[case[0] for case in CASES])
def test_the_three_uses_agree(
    url: str, split: tuple[str, tuple[str, str] | None], stripped: str, shown: str | None
) -> None:
    assert split_credentials(url) == split
    assert strip_credentials(url) == stripped
    assert redact(url) == (url if shown is None else shown)
    for secret in ("pw", "p%40ss", "p%3Ass", "token"):
        if secret in url and split[1] is not None:
            assert secret not in strip_credentials(url)
            assert secret not in redact(url)


def test_the_callers_use_the_one_definition() -> None:
    assert settings.redact is redact
    assert model.strip_credentials is strip_credentials


def test_local_paths_and_remote_urls() -> None:
    assert local_path("https://host/simple/") is None
    found = local_path("file:///srv/wheels")
    assert found is not None and found.as_posix() == "/srv/wheels"
    found = local_path("/srv/wheels")
    assert found is not None and found.as_posix() == "/srv/wheels"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("x @ git+https://tok:secret@host/x.git", "x @ git+https://tok:***@host/x.git"),
        ("--index-url https://user:p%40ss@idx.invalid/simple", "--index-url https://user:***@idx.invalid/simple"),
        (
            "z @ git+https://ghp_token@host/z.git ; python_version > '3'",
            "z @ git+https://***@host/z.git ; python_version > '3'",
        ),
        ('"url": "https://a:b@h.invalid/x"', '"url": "https://a:***@h.invalid/x"'),
        ("two https://a:b@h1/ and http://c@h2/", "two https://a:***@h1/ and http://***@h2/"),
        ("git@github.com:org/repo.git and https://h/x@y", "git@github.com:org/repo.git and https://h/x@y"),
        ("no url at all", "no url at all"),
    ],
)
def test_mask_text_masks_the_credentials_of_every_url_in_a_text(text: str, shown: str) -> None:
    assert mask_text(text) == shown
