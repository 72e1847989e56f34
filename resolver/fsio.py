"""Reading and writing the user's files: the one module that touches them.

Reading keeps what a faithful rewrite needs: the encoding (UTF-8, UTF-8 with BOM, UTF-16 with BOM, or a
PEP 263 ``coding:`` line, as pip's own ``auto_decode`` reads requirements files), the BOM bytes, and the file
mode. Line endings are never translated: the text holds ``\\r\\n`` where the file does.

Writing is atomic and all-or-nothing across files. :func:`write_all` first writes every new content to a
temporary file beside its target (``.NAME.relax-pins-XXXX.tmp``, flushed and fsynced, with the target's mode),
and only when all of them exist renames them over their targets. If a rename fails or the process is
interrupted (Ctrl-C) part-way, the targets already replaced get their original bytes back. A crash mid-way can
leave a stray temporary file but never an empty or cut target; :func:`clean_stray_temps` removes strays on the
next run. Symlinks are written through: the link stays, its target gets the new bytes.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from resolver.errors import InputError, Terminated, WriteError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LINE_CHARS",
    "TextFile",
    "clean_stray_temps",
    "display_path",
    "read_text",
    "take_committed",
    "write_all",
]

#: Files larger than this are refused: no requirements or pyproject file is anywhere near it.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Physical lines longer than this are refused: a real requirement line is a few hundred characters, and a
#: hash-locked one continues over several lines; a longer line is a generated or binary file read by mistake.
MAX_LINE_CHARS = 100_000

_TEMP_SUFFIX = ".tmp"
_TEMP_MARK = ".relax-pins-"
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TextFile:
    """A file's text and what it takes to write it back the same way."""

    path: Path
    text: str
    encoding: str
    bom: bytes
    raw: bytes

    def encode(self, text: str) -> bytes:
        """``text`` in this file's encoding, with its BOM; raises ``InputError`` if it cannot be encoded."""
        try:
            return self.bom + text.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise InputError(
                f"the new text cannot be written in the file's encoding {self.encoding}: {exc.reason}",
                path=str(self.path),
            ) from None


def display_path(path: Path) -> str:
    """``path`` as a person would type it here: relative to the working folder when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def read_text(path: Path, *, display: str | None = None) -> TextFile:
    """Read and decode ``path``; ``InputError`` (``path:line:col: cannot decode ...``) when it cannot."""
    shown = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is {size} bytes; relax-pins reads files up to {MAX_FILE_BYTES} bytes", path=shown)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", path=shown) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=shown) from None
    except PermissionError:
        raise InputError("permission denied", path=shown) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=shown) from None
    return decode(raw, path=path, display=shown)


def decode(raw: bytes, *, path: Path, display: str | None = None) -> TextFile:
    """Decode bytes the way pip reads requirements files: BOM, then a PEP 263 line, then UTF-8."""
    shown = display or str(path)
    bom, encoding = b"", "utf-8"
    for mark, name in _BOMS:
        if raw.startswith(mark):
            bom, encoding = mark, name
            break
    else:
        for first_lines in raw.split(b"\n", 2)[:2]:
            match = _CODING.match(first_lines)
            if match:
                name = match.group(1).decode("ascii")
                try:
                    encoding = codecs.lookup(name).name
                except LookupError:
                    lineno = raw[: raw.find(first_lines)].count(b"\n") + 1
                    raise InputError(f"unknown encoding {name!r}", path=shown, line=lineno) from None
                break
    body = raw[len(bom) :]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        before = body[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        bad = body[exc.start : exc.start + 1].hex()
        raise InputError(
            f"cannot decode byte 0x{bad} as {encoding}",
            path=shown,
            line=line,
            col=col,
            hint="save the file as UTF-8, or declare its encoding in a '# -*- coding: NAME -*-' first line",
        ) from None
    _check_line_lengths(text, shown)
    return TextFile(path=path, text=text, encoding=encoding, bom=bom, raw=raw)


def _check_line_lengths(text: str, shown: str) -> None:
    if len(text) <= MAX_LINE_CHARS:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise InputError(
                f"line is {len(line)} characters long; relax-pins reads lines of up to {MAX_LINE_CHARS}",
                path=shown,
                line=number,
                col=MAX_LINE_CHARS + 1,
                hint="is this a requirements file? a generated or binary file may have been passed by mistake",
            )


def _target(path: Path) -> Path:
    """The file that actually receives the bytes: a symlink is written through to what it points at."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _stage(target: Path, data: bytes) -> Path:
    """Write ``data`` to a fsynced temporary file beside ``target`` with ``target``'s mode, owner and group.

    The new file replaces the old one by rename, so it must carry the old one's owner: a root run (a CI job, a
    container) would otherwise leave root:root files in a user's repository. When the owner cannot be kept (a
    user writing a file another user owns, through group rights), that is an error before any file changes.
    """
    owner: tuple[int, int] | None = None
    try:
        found = target.stat()
        mode = stat.S_IMODE(found.st_mode)
        owner = (found.st_uid, found.st_gid)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, name = tempfile.mkstemp(prefix=f".{target.name}{_TEMP_MARK}", suffix=_TEMP_SUFFIX, dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if owner is not None and hasattr(os, "chown"):
            made = temp.stat()
            if (made.st_uid, made.st_gid) != owner:
                try:
                    os.chown(temp, *owner)
                except PermissionError:
                    raise PermissionError(
                        errno.EPERM, f"it is owned by uid {owner[0]} gid {owner[1]}, which this user cannot keep"
                    ) from None
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return temp


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


#: The files the last :func:`write_all` of this process committed (all renamed into place), for a caller that
#: is interrupted after the commit and must not say "no files changed" (:func:`take_committed`).
_committed: list[Path] = []


def take_committed() -> tuple[Path, ...]:
    """The files the last completed :func:`write_all` replaced, once (then forgotten)."""
    found = tuple(_committed)
    _committed.clear()
    return found


@contextlib.contextmanager
def _signals_held() -> Iterator[list[int]]:
    """SIGINT and SIGTERM arriving inside are held until it ends (then raised as KeyboardInterrupt), so the
    renames of a commit, or the restore of a failed one, are never cut half-way. Only the main thread can
    change handlers; elsewhere nothing is held."""
    import signal  # lazily: only a write needs it
    import threading

    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def hold(signum: int, _frame: object) -> None:
        held.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield held
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def write_all(items: Sequence[tuple[Path, bytes, bytes | None]]) -> None:
    """Replace each ``(path, new_bytes, old_bytes)`` atomically, all or none.

    ``old_bytes`` is what the file held when it was read (``None`` for a new file); it is what a failed or
    interrupted run puts back. Raises :class:`WriteError` naming the file when anything fails; by then no
    target differs from before. The commit (every rename, or the restore after a failed one) runs with
    SIGINT and SIGTERM held: a Ctrl-C there takes effect once every file is new (it is then raised as
    :class:`KeyboardInterrupt`, and :func:`take_committed` says which files changed), never with some
    files old and some new.
    """
    _committed.clear()
    staged: list[tuple[Path, Path, bytes | None]] = []
    targets: list[Path] = []
    try:
        for path, data, old in items:
            target = _target(path)
            targets.append(target)
            try:
                staged.append((target, _stage(target, data), old))
            except OSError as exc:
                raise WriteError(f"cannot write: {exc.strerror or exc}; no file was changed", path=str(path)) from None
        with _signals_held() as held:
            _commit(staged)
        if held:
            raise _interrupt(held)
    except BaseException:
        # A signal can land between a file being staged and its being recorded: clear by name too, with
        # signals held, so a second Ctrl-C cannot leave a temporary file behind.
        with _signals_held() as again:
            for target in targets:
                clean_stray_temps(target.parent, target.name)
            _unlink(staged)
        if again:
            raise _interrupt(again) from None
        raise
    _unlink(staged)


def _unlink(staged: Sequence[tuple[Path, Path, bytes | None]]) -> None:
    for _, temp, _ in staged:
        with contextlib.suppress(OSError):
            temp.unlink()


def _interrupt(held: Sequence[int]) -> KeyboardInterrupt:
    """The exception for the first signal held: SIGTERM is :class:`Terminated` (exit 143), SIGINT Ctrl-C."""
    import signal

    return Terminated() if held[0] == signal.SIGTERM else KeyboardInterrupt()


def _commit(staged: Sequence[tuple[Path, Path, bytes | None]]) -> None:
    """Rename every staged file over its target; on a failure, put back the ones already replaced."""
    done: list[tuple[Path, bytes | None]] = []
    target = staged[0][0] if staged else Path()
    try:
        for target, temp, old in staged:
            os.replace(temp, target)
            done.append((target, old))
            _fsync_dir(target.parent)
    except BaseException as exc:
        _restore(done)
        if isinstance(exc, OSError):
            raise WriteError(
                f"cannot replace: {exc.strerror or exc}; every file was restored", path=str(target)
            ) from None
        raise
    _committed[:] = [t for t, _ in done]


def _restore(done: Sequence[tuple[Path, bytes | None]]) -> None:
    """Put back the original bytes of files already replaced (best effort, each atomically)."""
    for target, old in reversed(done):
        with contextlib.suppress(OSError):
            if old is None:
                target.unlink()
            else:
                os.replace(_stage(target, old), target)


def clean_stray_temps(folder: Path, name: str) -> list[Path]:
    """Remove temporary files a killed run left beside ``folder/name``; return what was removed."""
    removed: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if entry.name.startswith(f".{name}{_TEMP_MARK}") and entry.name.endswith(_TEMP_SUFFIX):
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
    return removed
