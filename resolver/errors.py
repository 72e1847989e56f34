"""The exceptions relax-pins raises, under one base class.

Every error carries structured fields rather than a pre-rendered string, and ``__str__`` renders them.
Input errors (a file that cannot be parsed, a bad option, a missing include) subclass ``ValueError`` and
render as ``path:line:col: message`` so editors and CI annotate the right place. Third-party exceptions are
translated into these at the module that calls the third-party code; nothing else leaks to the CLI.

Expected absence (no wheel, no metadata, an exact pin the policy keeps) is a finding, not an exception.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "IncludeError",
    "InputError",
    "InputErrors",
    "RelaxPinsError",
    "Terminated",
    "WriteError",
]


class RelaxPinsError(Exception):
    """Base class of every error relax-pins raises on purpose."""

    #: The process exit code the CLI maps this error to.
    exit_code: int = 2

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle by fields, not by ``__init__`` arguments (the subclasses' keyword-only fields would be lost):
        an error raised in the index worker process is raised again, whole, in the parent."""
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[RelaxPinsError], args: tuple[object, ...], state: dict[str, object]) -> RelaxPinsError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InputError(RelaxPinsError, ValueError):
    """Input that relax-pins cannot use: it points at the place and says what is wrong.

    ``line`` and ``col`` are 1-based; either may be ``None`` when the error concerns the whole file.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.col = col
        self.hint = hint

    @property
    def location(self) -> str:
        """``path:line:col`` with the parts that are known."""
        parts = [self.path or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InputErrors(InputError):
    """Several input errors, reported together: a run shows every mistake it finds, not just the first."""

    def __init__(self, errors: list[InputError]) -> None:
        first = errors[0]
        super().__init__(first.message, path=first.path, line=first.line, col=first.col, hint=first.hint)
        self.errors = tuple(errors)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class IncludeError(InputError):
    """A ``-r``/``-c`` include that is missing, unreadable, too deep, or part of a cycle."""


class ConfigError(InputError):
    """A ``[tool.relax-pins]`` table or ``--config`` file that does not make sense."""


class WriteError(RelaxPinsError):
    """A file could not be written; no file was changed (every write is all or nothing)."""

    exit_code = 2

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` runs (no temporary file is left) and the exit says
    what is on disk; the exit code is 143 (128 + SIGTERM), as a shell reports it."""
