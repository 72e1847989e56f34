"""pip's command line, as far as reading a Dockerfile needs it: which command is an install, which options
take a value, and how pip spells an option it was given a prefix of. Pure data and small functions.

Sources: ``pip install --help`` and ``pip --help`` (general options) of pip 24/25, ``uv pip install --help``
of uv 0.5+. pip parses with ``optparse``, so any unambiguous prefix of a long option is that option, and
short options cluster (``-qU``, ``-rreqs.txt``); uv (clap) takes neither, so uv's own options are kept out
of the prefix table.
"""

from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from resolver.docker.shell import Word

__all__ = [
    "GLOBAL_VALUE",
    "LONG_FLAGS",
    "LONG_VALUE",
    "REDIRECTION",
    "SHELLS",
    "SHORT_FLAGS",
    "SHORT_VALUE",
    "install_start",
    "long_name",
    "skip_prefix",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.DOTALL)
_PREFIX_WORDS = _words("if then else elif do while until ! { time exec command nohup nice env sudo")
_PREFIX_WITH_USER = frozenset({"gosu", "su-exec"})
_PIP = re.compile(r"pip(?:\d+(?:\.\d+)*)?")
_PYTHON = re.compile(r"python(?:\d+(?:\.\d+)*)?")
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"})
REDIRECTION = re.compile(r"\d*(?:>>|>&|<&|<>|>\||<<<|<<-?|>|<)")
SHORT_VALUE = {"-r": "--requirement", "-c": "--constraint", "-e": "--editable", "-i": "--index-url"}
SHORT_VALUE |= {"-f": "--find-links", "-t": "--target", "-C": "--config-settings", "-p": "--python"}
SHORT_VALUE |= {"-P": "--upgrade-package"}
SHORT_FLAGS = {"-U": "--upgrade", "-I": "--ignore-installed", "-q": "--quiet", "-v": "--verbose"}
GLOBAL_VALUE = _words(
    "--python --log --log-file --proxy --retries --timeout --exists-action --trusted-host --cert"
    " --client-cert --cache-dir --use-feature --use-deprecated --keyring-provider --resume-retries"
    " --directory --project --config-file --color"
)
#: uv's own options: pip does not know them, so they take no part in pip's prefix matching.
_UV_ONLY = _words(
    "--no-cache --system --reinstall --compile-bytecode --strict --index --default-index --index-strategy"
    " --torch-backend --extra --override --resolution --prerelease --python-platform --exclude-newer"
    " --link-mode --upgrade-package --reinstall-package --no-build-package --no-binary-package"
    " --only-binary-package --build-constraint --all-extras --no-sources --no-build --directory --project"
    " --config-file --color"
)
LONG_VALUE = GLOBAL_VALUE | _words(
    "--requirement --constraint --editable --index-url --extra-index-url --find-links --target --platform"
    " --python-version --implementation --abi --root --prefix --src --upgrade-strategy --config-settings"
    " --global-option --build-option --install-option --no-binary --only-binary --progress-bar --report"
    " --root-user-action --group --index --default-index --index-strategy --torch-backend --extra --override"
    " --resolution --prerelease --python-platform --exclude-newer --link-mode --upgrade-package"
    " --reinstall-package --no-build-package --no-binary-package --only-binary-package --build-constraint"
)
LONG_FLAGS = _words(
    "--upgrade --user --pre --no-deps --no-cache-dir --force-reinstall --ignore-installed --quiet --verbose"
    " --no-build-isolation --no-index --prefer-binary --require-hashes --break-system-packages --system"
    " --isolated --no-warn-script-location --disable-pip-version-check --no-clean --compile --no-compile"
    " --dry-run --ignore-requires-python --no-input --no-color --reinstall --no-cache --compile-bytecode"
    " --strict --no-warn-conflicts --use-pep517 --no-use-pep517 --check-build-dependencies --all-extras"
    " --no-sources --no-build"
)
_PIP_LONG = sorted((LONG_VALUE | LONG_FLAGS) - _UV_ONLY)


def skip_prefix(words: Sequence[Word]) -> int:
    """Index of the real command word after assignments, wrappers and shell keywords."""
    k = 0
    while k < len(words):
        value = words[k].value
        if value in _PREFIX_WITH_USER:
            k += 2
        elif value in _PREFIX_WORDS or _ASSIGNMENT.fullmatch(value):
            k += 1
            while value in ("sudo", "env") and k < len(words) and words[k].value.startswith("-"):
                k += 2 if words[k].value in ("-u", "-g", "-C") else 1
        else:
            return k
    return k


def install_start(words: Sequence[Word]) -> tuple[str, int] | None:
    """``(tool, index after 'install')`` when the command is a pip install."""
    k = skip_prefix(words)
    if k >= len(words):
        return None
    base = words[k].value.rsplit("/", 1)[-1]
    k += 1
    tool = "pip"
    if _PYTHON.fullmatch(base):
        while k < len(words) and words[k].value.startswith("-") and words[k].value not in ("-m", "-mpip"):
            k += 2 if words[k].value in ("-W", "-X") else 1
        if k < len(words) and words[k].value == "-mpip":
            k += 1
        elif k + 1 < len(words) and words[k].value == "-m" and words[k + 1].value == "pip":
            k += 2
        else:
            return None
    elif base == "uv":
        tool = "uv"
        while k < len(words) and words[k].value.startswith("-"):
            k += 2 if words[k].value in GLOBAL_VALUE else 1
        if k >= len(words) or words[k].value != "pip":
            return None
        k += 1
    elif not _PIP.fullmatch(base):
        return None
    while k < len(words) and words[k].value.startswith("-"):
        k += 2 if words[k].value in GLOBAL_VALUE else 1
    return (tool, k + 1) if k < len(words) and words[k].value == "install" else None


def long_name(name: str, tool: str) -> str:
    """The full spelling of a long option: pip accepts any unambiguous prefix of its own options, uv none."""
    if tool == "uv" or name in _PIP_LONG:
        return name
    k = bisect.bisect_left(_PIP_LONG, name)
    hits = [o for o in _PIP_LONG[k : k + 2] if o.startswith(name)]
    return hits[0] if len(hits) == 1 else name
