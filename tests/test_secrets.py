"""No credential reaches any output, whatever the URL came from; the files keep theirs byte for byte.

Before this test, the secrets of ``x @ git+https://tok:secret@host/x.git`` and ``y @ https://u:secret@...``
were printed by check in every format and by lock's errors, and ``--diff`` printed an
``--index-url https://user:secret@...`` line of the file as context.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_check import index_server, ml, run

__all__ = ["index_server", "ml"]

SECRET = "s3cr3t-t0ken"


def _file(ml: list[str]) -> str:
    index = ml[ml.index("--index-url") + 1]
    authed = index.replace("http://", f"http://user:{SECRET}@")
    return (
        f"--index-url {authed}\n"
        "lib==1.9.0\n"
        f"x @ git+https://tok:{SECRET}@git.invalid/x.git\n"
        f"y @ https://u:{SECRET}@files.invalid/y-1.0-py3-none-any.whl\n"
        f"z @ git+https://{SECRET}@git.invalid/z.git\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "requirements.txt"],
        ["check", "requirements.txt", "--format", "json"],
        ["check", "requirements.txt", "--format", "github"],
        ["check", "requirements.txt", "--format", "markdown"],
        ["requirements.txt", "--diff"],
        ["requirements.txt", "--check", "--format", "json"],
        ["lock", "requirements.txt", "-o", "pylock.toml"],
        ["layers", "requirements.txt", "-o", "layers"],
    ],
)
def test_no_output_shows_a_credential(ml: list[str], capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    text = _file(ml)
    Path("requirements.txt").write_text(text)
    at = ml.index("--index-url")
    options = [*ml[:at], *ml[at + 2 :]]  # the file's own --index-url, with its credentials, is the index
    code, out, err = run([*argv, *options], capsys)
    assert code in {0, 1, 2, 3}, err
    assert SECRET not in out + err, (out + err)[-2000:]
    if argv[0] == "check" or "--diff" in argv:
        assert "***@" in out + err  # the URLs are shown, masked
    assert Path("requirements.txt").read_text() == text
    for written in Path().rglob("*"):
        if written.is_file() and written.name != "requirements.txt" and "cache" not in written.parts:
            assert SECRET not in written.read_text(errors="replace"), written


@pytest.mark.parametrize("secret", ["tok@en-part", 'quo"te', "back\\slash", "pi|pe", "an<gle>", "it's"])
@pytest.mark.parametrize("fmt", ["text", "json", "github", "markdown"])
def test_a_password_with_odd_characters_is_masked_too(
    ml: list[str], capsys: pytest.CaptureFixture[str], secret: str, fmt: str
) -> None:
    """A raw @, a quote, a backslash, a | (escaped in Markdown) or < in a password showed it whole, or its
    tail, in every format."""
    Path("requirements.txt").write_text(
        f"lib==1.9.0\nx @ git+https://tok:{secret}XYZ@git.invalid/x.git\ny @ https://u:{secret}XYZ@f.invalid/y-1.0-py3-none-any.whl\n"
    )
    code, out, err = run(["check", "requirements.txt", "--format", fmt, *ml], capsys)
    assert code in {0, 1}, err
    shown = out + err
    assert "XYZ" not in shown, shown[-1500:]  # the password ends with XYZ: no part of its end is shown
    assert "***@" in shown


def test_a_raw_hash_sign_in_an_index_password_is_bad_input_not_a_leak(
    ml: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``--index-url http://user:SECRET#x@host/`` reads as host ``user``, port ``SECRET``: httpx's error
    printed the password as the port."""
    Path("requirements.txt").write_text("lib==1.9.0\n")
    at = ml.index("--index-url")
    bad = ml[at + 1].replace("http://", f"http://user:{SECRET}#x@")
    code, out, err = run(["check", "requirements.txt", *ml[:at], "--index-url", bad, *ml[at + 2 :]], capsys)
    assert code == 2
    assert SECRET not in out + err
    assert "percent-encode a '#'" in err
