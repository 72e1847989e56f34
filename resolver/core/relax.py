"""Relax one exact pin into a compatible range: ``relax_specifier("==2.7.1", ...) -> ">=2.7.1,<2.8.0"``.

The function works on specifier *text* as written, so the same rule serves requirements files, PEP 508
strings in pyproject.toml and Poetry constraints (the caller turns Poetry's bare ``"2.7.1"`` into
``"==2.7.1"`` first). Only the ``==`` clause is replaced; any other clause keeps its exact text.

The rules, for ``==X.Y.Z`` (see docs/policy.md for the full table):

- ``minor`` (default): ``>=X.Y.Z,<X.(Y+1).0``; ``major``: ``<(X+1).0.0``, where for 0.x the first non-zero
  component counts as the major one; ``patch``: ``<X.Y.(Z+1)``; ``lower``: ``>=X.Y.Z`` alone.
- The upper bound has as many components as the pin, and at least enough to hold the bumped one.
- Calendar versions (first component a year, 1990 or later) get a lower bound only (finding ``calver``).
- Pre-, post- and dev-releases keep their exact lower bound (``==1.0.0rc1`` -> ``>=1.0.0rc1,<1.1.0``).
- A local label is dropped (ranges may not carry one) and recorded (finding ``local-version``, with the
  variant, e.g. ``cu121``, in its data).
- ``==2.7.*`` becomes the equivalent range ``>=2.7,<2.8``; ``===`` is left alone (``arbitrary-equality``).
- ``~=``, ``>=``, ``<``, ``!=`` and empty specifiers are left alone.

Relaxing is idempotent (the result has no ``==`` clause) and the result always admits the pinned version;
both are Hypothesis properties in tests/test_relax_props.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from resolver.core.model import Finding, Severity
from resolver.core.policy import Bound

__all__ = ["CALVER_MIN_YEAR", "Relaxation", "relax_specifier"]

#: A first release component at or above this is read as a year.
CALVER_MIN_YEAR = 1990

# One clause of a specifier set: optional spaces, an operator, optional spaces, a version (up to a comma).
_CLAUSE = re.compile(r"\s*(?P<op>===|==|~=|!=|<=|>=|<|>)\s*(?P<version>[^,\s]*)\s*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Relaxation:
    """What relaxing one specifier did: the text before and after, why, and any findings."""

    package: str
    before: str
    after: str
    reason: str
    findings: tuple[Finding, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the specifier text changed."""
        return self.before != self.after


def relax_specifier(specifier: str, *, package: str, bound: Bound | None) -> Relaxation:
    """Relax the ``==`` clause of ``specifier`` by ``bound`` (``None``: the policy keeps it exact).

    ``specifier`` is the text as written (``"== 2.7.1"``, ``"==2.7.1, !=2.7.0"``); the result keeps every
    byte of it except the ``==`` clause it replaces.
    """
    clauses = list(_clauses(specifier))
    exact = [c for c in clauses if c[0] == "=="]
    arbitrary = [c for c in clauses if c[0] == "==="]
    if arbitrary:
        return _unchanged(
            specifier,
            package,
            "arbitrary equality is left alone",
            Finding(
                code="arbitrary-equality",
                severity=Severity.WARNING,
                package=package,
                message=(
                    f"{package}{specifier.strip()} uses '===' (arbitrary equality), which relax-pins leaves alone"
                ),
                fix=f"write {package}=={arbitrary[0][1]} if that is a PEP 440 version, so it can be relaxed",
            ),
        )
    if not exact:
        return _unchanged(specifier, package, "not an exact pin")
    if len(exact) > 1:
        return _unchanged(specifier, package, "more than one '==' clause; left alone")
    if bound is None:
        return _unchanged(specifier, package, "kept exact by policy")
    _, version_text, start, end = exact[0]
    replaced = _relax_exact(version_text, package=package, bound=bound)
    if replaced is None:
        return _unchanged(specifier, package, f"'{version_text}' is not a version relax-pins can bound")
    new_clause, reason, findings = replaced
    after = specifier[:start] + new_clause + specifier[end:]
    return Relaxation(package=package, before=specifier, after=after, reason=reason, findings=findings)


def _unchanged(specifier: str, package: str, reason: str, *findings: Finding) -> Relaxation:
    return Relaxation(package=package, before=specifier, after=specifier, reason=reason, findings=findings)


def _clauses(specifier: str) -> list[tuple[str, str, int, int]]:
    """``(operator, version, start, end)`` for each clause; start/end bound the clause without spaces."""
    out: list[tuple[str, str, int, int]] = []
    pos = 0
    for part in specifier.split(","):
        match = _CLAUSE.fullmatch(part)
        if match is not None:
            lead = len(part) - len(part.lstrip())
            body = part.strip()
            out.append((match["op"], match["version"], pos + lead, pos + lead + len(body)))
        pos += len(part) + 1
    return out


def _relax_exact(version_text: str, *, package: str, bound: Bound) -> tuple[str, str, tuple[Finding, ...]] | None:
    """The range that replaces ``==version_text``, a reason, and findings; ``None`` if not a version."""
    if version_text.endswith(".*"):
        return _relax_wildcard(version_text)
    try:
        version = Version(version_text)
    except InvalidVersion:
        return None
    findings: list[Finding] = []
    lower = version_text
    if version.local is not None:
        lower = version_text.split("+", 1)[0]
        variant = version.local
        findings.append(
            Finding(
                code="local-version",
                severity=Severity.INFO,
                package=package,
                message=(
                    f"{package}=={version_text}: a local label (+{variant}) cannot stand in a range, "
                    "so it was "
                    f"dropped; the build variant {variant} is recorded for the CUDA check and the layers"
                ),
                fix=f"install {package} from the index that serves the {variant} builds to keep that variant",
                data=(("variant", variant), ("version", version_text)),
            )
        )
    release = version.release
    if release[0] >= CALVER_MIN_YEAR and bound is not Bound.LOWER:
        findings.append(
            Finding(
                code="calver",
                severity=Severity.INFO,
                package=package,
                message=(
                    f"{package}=={version_text} is a calendar version: relaxed to a lower bound only, "
                    "because an upper bound on a date means nothing"
                ),
            )
        )
        return f">={lower}", "calendar version: lower bound only", tuple(findings)
    if bound is Bound.LOWER:
        return f">={lower}", "bound 'lower': lower bound only", tuple(findings)
    upper = _upper(release, bound)
    epoch = f"{version.epoch}!" if version.epoch else ""
    return f">={lower},<{epoch}{upper}", f"bound '{bound.value}'", tuple(findings)


def _upper(release: tuple[int, ...], bound: Bound) -> str:
    """The exclusive upper bound for ``release`` under ``bound`` (not ``LOWER``)."""
    if bound is Bound.MAJOR:
        nonzero = [i for i, part in enumerate(release) if part != 0]
        index = nonzero[0] if nonzero else len(release) - 1
    elif bound is Bound.MINOR:
        index = 1
    else:
        index = 2
    parts = list(release) + [0] * max(0, index + 1 - len(release))
    parts[index] += 1
    parts[index + 1 :] = [0] * (len(parts) - index - 1)
    return ".".join(str(p) for p in parts)


def _relax_wildcard(version_text: str) -> tuple[str, str, tuple[Finding, ...]] | None:
    """``2.7.*`` -> ``>=2.7,<2.8``: the range that admits exactly the final releases the wildcard does."""
    prefix = version_text[:-2]
    try:
        version = Version(prefix)
    except InvalidVersion:
        return None
    if version.pre or version.post is not None or version.dev is not None or version.local:
        return None
    epoch = f"{version.epoch}!" if version.epoch else ""
    parts = list(version.release)
    parts[-1] += 1
    upper = ".".join(str(p) for p in parts)
    return f">={prefix},<{epoch}{upper}", "wildcard: the equivalent range", ()
