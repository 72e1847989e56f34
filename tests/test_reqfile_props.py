"""Hypothesis properties of the requirements-file model: round trip, spans, edits, agreement with packaging/pip."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PackagingRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from resolver.core.reqfile import EntryKind, parse, parse_all, parse_requirement
from resolver.errors import InputError

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EOL = st.sampled_from(["\n", "\r\n", "\r"])
WS = st.sampled_from(["", " ", "  ", "\t", " \t "])
SOME_WS = st.sampled_from([" ", "  ", "\t", " \t "])
NAMES = st.one_of(
    st.sampled_from(["torch", "Foo_Bar", "a", "x.y-z", "numpy", "nvidia-cudnn-cu11", "torch_scatter"]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,8}[A-Za-z0-9]", fullmatch=True),
)
EXTRA = st.from_regex(r"[a-z][a-z0-9_-]{0,5}[a-z0-9]", fullmatch=True)
RELEASE = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}", fullmatch=True)
MARKERS = st.sampled_from(
    [
        'python_version < "3.12"',
        "sys_platform == 'linux'",
        'platform_machine=="x86_64" and python_version>="3.9"',
        '(os_name == "nt" or sys_platform == "darwin") and extra == "gpu"',
        "platform_system != 'Windows'",
    ]
)
HASH = st.from_regex(r"sha256:[0-9a-f]{8,64}", fullmatch=True)


def valid_specifier(text: str) -> bool:
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        return False
    return True


@st.composite
def specifier_items(draw: st.DrawFn) -> str:
    op = draw(st.sampled_from(["==", ">=", "<=", "!=", "~=", "<", ">", "==="]))
    version = draw(RELEASE) + draw(st.sampled_from(["", ".*", "+cu121", "rc1", ".post1", ".dev3", "a2"]))
    text = op + draw(WS) + version
    assume(valid_specifier(text))
    return text


@st.composite
def specifiers(draw: st.DrawFn) -> str:
    items = draw(st.lists(specifier_items(), min_size=0, max_size=3))
    separators = [draw(WS) + "," + draw(WS) for _ in items[1:]]
    text = items[0] if items else ""
    for separator, item in zip(separators, items[1:], strict=True):
        text += separator + item
    return text


@dataclass
class Generated:
    text: str
    requirements: int  # REQUIREMENT entries
    includes: int
    specs: list[str]  # the specifier text of each REQUIREMENT, in order


@st.composite
def requirement_lines(draw: st.DrawFn, eol: str) -> tuple[str, str]:
    """A requirement line (maybe continued) and its specifier text."""

    def cont() -> str:
        return draw(st.sampled_from(["", "", " \\" + eol + draw(WS)]))

    name = draw(NAMES)
    text = draw(WS) + name
    if draw(st.booleans()):
        extras = draw(st.lists(EXTRA, min_size=1, max_size=3))
        text += draw(WS) + "[" + draw(WS) + (draw(WS) + "," + draw(WS)).join(extras) + draw(WS) + "]"
    spec = draw(specifiers())
    if spec:
        text += draw(WS) + spec
    if draw(st.booleans()):
        text += draw(WS) + ";" + draw(WS) + draw(MARKERS)
    for value in draw(st.lists(HASH, max_size=3)):
        # pip starts the options at a word after a space (a tab does not count)
        text += cont() + draw(WS) + " " + draw(st.sampled_from(["--hash=", "--hash "])) + value
    if draw(st.booleans()):
        text += draw(SOME_WS) + "#" + draw(st.sampled_from(["", " comment", " relax-pins: keep", "#"]))
    return text + draw(WS), spec


@st.composite
def requirement_files(draw: st.DrawFn) -> Generated:
    eol = draw(EOL)
    parts: list[str] = []
    generated = Generated("", 0, 0, [])
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        kind = draw(st.sampled_from(["req", "req", "req", "comment", "blank", "option", "include", "editable"]))
        if kind == "req":
            line, spec = draw(requirement_lines(eol))
            generated.requirements += 1
            generated.specs.append(spec)
        elif kind == "comment":
            line = draw(WS) + "#" + draw(st.text(alphabet="ab \\#-=;\t", max_size=12))
        elif kind == "blank":
            line = draw(WS)
        elif kind == "option":
            line = draw(
                st.sampled_from(
                    [
                        "--index-url https://x.invalid/simple",
                        "-i https://x.invalid/simple",
                        "--extra-index-url=https://x.invalid/cu121 --prefer-binary",
                        "--no-index",
                        "--pre",
                        "-f ./wheels",
                        "--trusted-host x.invalid",
                        "--only-binary :all:",
                        "--no-binary=torch",
                        "--require-hashes",
                        "--use-feature truststore",
                    ]
                )
            )
        elif kind == "include":
            line = draw(st.sampled_from(["-r base.txt", "-rbase.txt", "--requirement=b.txt", "-c c.txt"]))
            generated.includes += 1
        else:
            line = draw(st.sampled_from(["-e .", "-e .[cuda]", "-e git+https://github.com/o/r.git@v1#egg=r"]))
        parts.append(line)
    text = eol.join(parts)
    if draw(st.booleans()) and parts:
        text += eol
    if draw(st.booleans()):
        text = "\ufeff" + text
    generated.text = text
    return generated


@SETTINGS
@given(requirement_files())
def test_generated_files_round_trip_and_count(generated: Generated) -> None:
    result = parse(generated.text)
    assert result.format() == generated.text
    reqs = [e for e in result.entries if e.kind is EntryKind.REQUIREMENT]
    assert len(reqs) == generated.requirements
    assert len(result.includes()) == generated.includes
    assert [e.requirement.specifier for e in reqs if e.requirement] == generated.specs
    lineno = 1
    for entry in result.entries:
        assert entry.lineno == lineno
        lineno += entry.raw.count("\n") + entry.raw.count("\r") - entry.raw.count("\r\n")
        if not entry.raw.endswith(("\n", "\r")):
            lineno += 1


@SETTINGS
@given(requirement_files())
def test_generated_spans_hold_the_specifier(generated: Generated) -> None:
    for entry in parse(generated.text).requirements():
        req = entry.requirement
        assert req is not None
        assert entry.raw[req.spec_start : req.spec_end] == req.specifier


@SETTINGS
@given(requirement_files(), st.data())
def test_with_specifier_changes_only_the_slice(generated: Generated, data: st.DataObject) -> None:
    result = parse(generated.text)
    indexes = [i for i, e in enumerate(result.entries) if e.kind is EntryKind.REQUIREMENT]
    assume(indexes)
    index = data.draw(st.sampled_from(indexes))
    new = data.draw(specifiers())
    edited = result.with_specifier(index, new)
    old_entry, new_entry = result.entries[index], edited.entries[index]
    assert old_entry.requirement is not None
    assert new_entry.requirement is not None
    old_req, new_req = old_entry.requirement, new_entry.requirement
    assert new_entry.raw == old_entry.raw[: old_req.spec_start] + new + old_entry.raw[old_req.spec_end :]
    assert new_req.specifier == new
    assert (new_req.name, new_req.extras, new_req.marker, new_req.hashes) == (
        old_req.name,
        old_req.extras,
        old_req.marker,
        old_req.hashes,
    )
    assert (new_entry.comment, new_entry.keep) == (old_entry.comment, old_entry.keep)
    assert edited.entries[:index] == result.entries[:index]
    assert edited.entries[index + 1 :] == result.entries[index + 1 :]
    assert parse(edited.format()) == edited


NASTY_ALPHABET = st.sampled_from(
    [
        *"ab-=<>~!;#@[],.*+ \t\r\n\\'\"/:$",
        *("\ufeff", "\x0c", "\u2028", "é", "torch", "==1.0", " --hash=", "sha256:", "-e ", "-r ", "--pre"),
        *("git+https://h/r", "-C", "--no-binary", "--config-settings", " -i", "--no-index"),
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(NASTY_ALPHABET, max_size=40).map("".join))
def test_any_text_round_trips_and_errors_are_located(text: str) -> None:
    result, errors = parse_all(text, path="f.txt")
    assert result.format() == text
    invalid = [e for e in result.entries if e.kind is EntryKind.INVALID]
    assert len(invalid) == len(errors)
    physical = sum(e.raw.count("\n") + e.raw.count("\r") - e.raw.count("\r\n") for e in result.entries) + 1
    for entry, error in zip(invalid, errors, strict=True):
        assert error.path == "f.txt"
        assert error.line is not None
        assert error.col is not None
        assert entry.lineno <= error.line <= physical
        assert error.col >= 1
    for entry in result.requirements():
        req = entry.requirement
        assert req is not None
        if "\\" not in entry.raw:
            assert entry.raw[req.spec_start : req.spec_end] == req.specifier
        assert valid_specifier(req.specifier)
    if errors:
        with pytest.raises(InputError):
            parse(text)
    else:
        assert parse(text, path="f.txt") == result


PEP508_ALPHABET = st.sampled_from(
    [*"aZ09_-.[],;@ \t()<>=!~*+'\"", "==", ">=", "~=", "1.0", "python_version", " and ", "https://h/p", "extra"]
)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.lists(PEP508_ALPHABET, max_size=16).map("".join), st.builds(lambda g: g, NAMES)))
def test_parse_requirement_agrees_with_packaging(text: str) -> None:
    try:
        expected = PackagingRequirement(text)
    except InvalidRequirement:
        expected = None
    try:
        got = parse_requirement(text)
    except InputError as error:
        assert expected is None, f"packaging accepts {text!r} but: {error}"
        assert error.col is not None
        assert 1 <= error.col <= len(text) + 1
        return
    assert expected is not None, f"packaging rejects {text!r}"
    assert got.name == expected.name
    assert got.key == canonicalize_name(expected.name)
    assert set(got.extras) == expected.extras
    assert SpecifierSet(got.specifier) == expected.specifier
    assert got.url == (expected.url or None)
    assert (Marker(got.marker) if got.marker else None) == expected.marker
    assert text[got.spec_start : got.spec_end] == got.specifier


@SETTINGS
@given(requirement_files())
def test_pip_reads_the_same_lines(generated: Generated) -> None:
    """pip's own line reader (when importable) finds the same requirements, specifiers and includes."""
    try:
        from pip._internal.req.req_file import get_line_parser, preprocess
    except ImportError:  # pragma: no cover - pip's internals are not an API
        pytest.skip("pip internals unavailable")
    text = generated.text.removeprefix("\ufeff")
    ours = {e.lineno: e for e in parse(text).entries}
    line_parser = get_line_parser(None)
    for lineno, line in preprocess(text):
        args, opts = line_parser(line)
        entry = ours[lineno]
        if args:
            assert entry.kind is EntryKind.REQUIREMENT
            assert entry.requirement is not None
            expected = PackagingRequirement(args)
            assert SpecifierSet(entry.requirement.specifier) == expected.specifier
            assert entry.requirement.key == canonicalize_name(expected.name)
            pip_hashes = sorted(f"{k}:{v}" for k, values in (opts.hashes or {}).items() for v in values)
            assert sorted(entry.requirement.hashes) == pip_hashes
        elif opts.editables:
            assert entry.kind is EntryKind.EDITABLE
        elif opts.requirements or opts.constraints:
            assert entry.include == (opts.requirements or opts.constraints)[0]
        else:
            assert entry.kind is EntryKind.OPTION
