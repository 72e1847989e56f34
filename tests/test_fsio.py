"""Reading keeps encoding, BOM and line endings; writing is atomic and all or nothing."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

import pytest

from resolver.errors import InputError, WriteError
from resolver.fsio import clean_stray_temps, read_text, write_all


@pytest.mark.parametrize(
    ("raw", "encoding", "bom", "text"),
    [
        (b"torch==2.7.1\r\n", "utf-8", b"", "torch==2.7.1\r\n"),
        (codecs.BOM_UTF8 + b"torch==2.7.1\n", "utf-8", codecs.BOM_UTF8, "torch==2.7.1\n"),
        (
            codecs.BOM_UTF16_LE + "torch==2.7.1\n".encode("utf-16-le"),
            "utf-16-le",
            codecs.BOM_UTF16_LE,
            "torch==2.7.1\n",
        ),
        (codecs.BOM_UTF16_BE + "a==1\r".encode("utf-16-be"), "utf-16-be", codecs.BOM_UTF16_BE, "a==1\r"),
        (
            b"# -*- coding: latin-1 -*-\nna\xefve==1.0\n",
            "iso8859-1",
            b"",
            "# -*- coding: latin-1 -*-\nna\u00efve==1.0\n",
        ),
        (b"no-final-newline==1", "utf-8", b"", "no-final-newline==1"),
    ],
)
def test_read_and_write_back_byte_for_byte(tmp_path: Path, raw: bytes, encoding: str, bom: bytes, text: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(raw)
    file = read_text(path)
    assert (file.encoding, file.bom, file.text) == (encoding, bom, text)
    assert file.encode(file.text) == raw


def test_undecodable_bytes_point_at_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"torch==2.7.1\nnumpy\xff==1.0\n")
    with pytest.raises(InputError) as info:
        read_text(path, display="requirements.txt")
    assert str(info.value).startswith("requirements.txt:2:6: cannot decode byte 0xff as utf-8")


def test_unknown_coding_line(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes(b"# coding: klingon\nx==1\n")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read_text(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_text(tmp_path / "absent.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_text(tmp_path)


def test_write_keeps_mode_and_goes_through_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_bytes(b"old\n")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_all([(link, b"new\n", b"old\n")])
    assert link.is_symlink()
    assert real.read_bytes() == b"new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


def test_all_or_nothing_when_a_later_file_cannot_be_staged(tmp_path: Path) -> None:
    first = tmp_path / "a.txt"
    first.write_bytes(b"a-old\n")
    locked_dir = tmp_path / "locked"
    locked_dir.mkdir()
    second = locked_dir / "b.txt"
    second.write_bytes(b"b-old\n")
    locked_dir.chmod(0o500)
    try:
        if os.access(locked_dir, os.W_OK):  # root ignores directory modes: make staging fail another way
            locked_dir.chmod(0o700)
            second.unlink()
            second.mkdir()  # a directory where the temp file's rename would go
        with pytest.raises(WriteError):
            write_all([(first, b"a-new\n", b"a-old\n"), (second, b"b-new\n", b"b-old\n")])
    finally:
        locked_dir.chmod(0o700)
    assert first.read_bytes() == b"a-old\n"
    leftovers = [p.name for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []


def test_interrupt_during_replace_restores_replaced_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [tmp_path / f"{n}.txt" for n in "abc"]
    for f in files:
        f.write_bytes(b"old " + f.name.encode())
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the second file's rename is interrupted (Ctrl-C)
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(KeyboardInterrupt):
        write_all([(f, b"new", b"old " + f.name.encode()) for f in files])
    monkeypatch.setattr(os, "replace", real_replace)
    assert [f.read_bytes() for f in files] == [b"old " + f.name.encode() for f in files]
    assert list(tmp_path.glob(".*.tmp")) == []


def test_stray_temps_are_cleaned(tmp_path: Path) -> None:
    stray = tmp_path / ".requirements.txt.relax-pins-abc123.tmp"
    stray.write_bytes(b"half")
    other = tmp_path / ".other.txt.relax-pins-abc.tmp"
    other.write_bytes(b"x")
    assert clean_stray_temps(tmp_path, "requirements.txt") == [stray]
    assert not stray.exists()
    assert other.exists()
