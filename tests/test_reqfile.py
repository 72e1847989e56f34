"""Unit tests of the lossless requirements-file model (resolver.core.reqfile)."""

from __future__ import annotations

import time

import pytest

from resolver.core.reqfile import (
    Entry,
    EntryKind,
    Requirement,
    RequirementsFile,
    parse,
    parse_all,
    parse_requirement,
)
from resolver.errors import InputError

NASTY = [
    "",
    "\n",
    "\r\n",
    "\r",
    "\n\n\n",
    "torch",
    "torch==2.7.1",
    "torch==2.7.1\n",
    "\ufefftorch==2.7.1\r\n",
    "\ufeff",
    "\ufeff# only a comment",
    "a==1\r\nb==2\rc==3\nd==4",
    "   \t  \n\t\n",
    "  # indented comment\n#\n#no space\n",
    "torch == 2.3.1   \n",
    "torch\t==\t2.3.1\t# tab comment\t\n",
    "foo \\\n  ==1.0\n",
    "foo==1 \\",
    "foo==1 \\\n",
    "\\\n",
    "\\",
    "\\\\\\\nfoo\n",
    "# comment \\\nfoo==1\n",
    "foo==1 \\\n# a comment closing the continuation\nbar==2\n",
    "foo==1 \\\r\n    --hash=sha256:aa \\\r\n    --hash=sha256:bb\r\n",
    "foo==1 \\\r    --hash=sha256:aa\r",
    "foo[bar, baz] >= 1.0, < 2.0 ; python_version < '3.12' and sys_platform != \"win32\"  # c\n",
    "foo;python_version<'3.12'\n",
    "-r base.txt\n-rother.txt\n--requirement=third.txt\n-c constraints.txt\n",
    "--index-url https://example.invalid/simple\n-i https://example.invalid/b\n--extra-index-url=x --prefer-binary\n",
    "--no-index\n--pre\n--find-links ./wheels\n-f https://x.invalid/links.html\n--trusted-host example.invalid\n",
    "--only-binary :all:\n--no-binary=foo\n--require-hashes\n--use-feature truststore\n",
    "-e .\n-e .[cuda]\n--editable ./pkg\n-e git+https://github.com/o/r.git@abc#egg=name\n",
    "https://x.invalid/xformers-0.0.17.dev464-cp310-cp310-win_amd64.whl\n",
    "git+https://github.com/o/r.git@v1#egg=r ; python_version > '3'\n",
    "name @ https://x.invalid/name-1.0.tar.gz ; sys_platform == 'linux'\n",
    "./pkg\n.\n../sibling[extra]\n./dist/foo-1.0-py3-none-any.whl\n",
    "torch==2.7.*\nfoo===1.0-weird\ntorch==2.1.2+cu121\nfoo (>=1.0)\n",
    "yt-dlp  #no pinned version\n",
    "x==1 # relax-pins: keep \n",
    "foo==1 \\  \nbar==2\n",
]


@pytest.mark.parametrize("text", NASTY)
def test_round_trip(text: str) -> None:
    result, errors = parse_all(text)
    assert result.format() == text
    assert "".join(e.raw for e in result.entries) == text
    if not errors:
        assert parse(text).format() == text


@pytest.mark.parametrize("text", NASTY)
def test_spec_slice_is_the_specifier(text: str) -> None:
    result, _ = parse_all(text)
    for entry in result.requirements():
        req = entry.requirement
        assert req is not None
        assert entry.raw[req.spec_start : req.spec_end] == req.specifier


def kinds(text: str) -> list[EntryKind]:
    return [e.kind for e in parse(text).entries]


def only(text: str) -> Entry:
    (entry,) = parse(text).entries
    return entry


def req_of(text: str) -> Requirement:
    req = only(text).requirement
    assert req is not None
    return req


def test_entry_kinds_and_line_numbers() -> None:
    text = "# c\n\nfoo==1 \\\n  --hash=sha256:aa\n-r x.txt\n-c y.txt\n-e .\n--pre\nbar\n"
    result = parse(text)
    assert [e.kind for e in result.entries] == [
        EntryKind.COMMENT,
        EntryKind.BLANK,
        EntryKind.REQUIREMENT,
        EntryKind.INCLUDE,
        EntryKind.CONSTRAINT,
        EntryKind.EDITABLE,
        EntryKind.OPTION,
        EntryKind.REQUIREMENT,
    ]
    assert [e.lineno for e in result.entries] == [1, 2, 3, 5, 6, 7, 8, 9]
    assert result.entries[2].raw == "foo==1 \\\n  --hash=sha256:aa\n"
    assert [e.lineno for e in result.requirements()] == [3, 7, 9]
    assert [e.include for e in result.includes()] == ["x.txt", "y.txt"]


def test_line_endings_are_kept_per_entry() -> None:
    result = parse("a\r\nb\rc\nd")
    assert [e.raw for e in result.entries] == ["a\r\n", "b\r", "c\n", "d"]
    assert [e.lineno for e in result.entries] == [1, 2, 3, 4]


def test_bom_stays_in_first_raw_but_not_in_the_name() -> None:
    entry = parse("\ufefftorch==2.7.1\n").entries[0]
    assert entry.raw == "\ufefftorch==2.7.1\n"
    assert entry.requirement is not None
    assert entry.requirement.name == "torch"
    assert entry.raw[entry.requirement.spec_start : entry.requirement.spec_end] == "==2.7.1"


def test_bom_inside_the_text_is_not_a_bom() -> None:
    _, errors = parse_all("a\n\ufeffb\n")
    assert errors
    assert (errors[0].line, errors[0].col) == (2, 1)


def test_requirement_fields() -> None:
    req = req_of("Foo_Bar[Extra1, extra2] == 2.7.1 ; python_version < '3.12'  # note\n")
    assert req.name == "Foo_Bar"
    assert req.key == "foo-bar"
    assert req.extras == ("Extra1", "extra2")
    assert req.specifier == "== 2.7.1"
    assert req.marker == "python_version < '3.12'"
    assert req.url is None
    assert not req.is_direct_reference
    assert not req.editable


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("torch==2.7.*", "==2.7.*"),
        ("torch===2.7.1-weird", "===2.7.1-weird"),
        ("torch==2.1.2+cu121", "==2.1.2+cu121"),
        ("torch == 2.3.1", "== 2.3.1"),
        ("torch\t>=\t2.3 ,\t<3", ">=\t2.3 ,\t<3"),
        ("torch (>=1.0, <2)", ">=1.0, <2"),
        ("torch>=1,<2;python_version<'3.12'", ">=1,<2"),
        ("torch ~= 2.2.1 ; sys_platform == 'linux'", "~= 2.2.1"),
        ("jaxlib==0.4.22+cuda12.cudnn89", "==0.4.22+cuda12.cudnn89"),
        ("numba==0.48", "==0.48"),
        ("foo_==1", "==1"),
    ],
)
def test_specifier_as_written(text: str, spec: str) -> None:
    entry = only(text + "\n")
    req = entry.requirement
    assert req is not None
    assert req.specifier == spec
    assert entry.raw[req.spec_start : req.spec_end] == spec


@pytest.mark.parametrize(
    ("text", "offset"),
    [("torch", 5), ("torch[cuda]", 11), ("torch ; python_version > '3'", 5), ("torch[a] ;x86==1", None)],
)
def test_empty_specifier_sits_after_name_and_extras(text: str, offset: int | None) -> None:
    result, errors = parse_all(text)
    if offset is None:  # an invalid marker: no requirement at all
        assert errors
        return
    req = result.entries[0].requirement
    assert req is not None
    assert (req.specifier, req.spec_start, req.spec_end) == ("", offset, offset)


@pytest.mark.parametrize(
    ("text", "name", "url", "marker"),
    [
        ("name @ https://x.invalid/n-1.0.tar.gz", "name", "https://x.invalid/n-1.0.tar.gz", None),
        ("name@https://x.invalid/a.whl ; os_name == 'nt'", "name", "https://x.invalid/a.whl", "os_name == 'nt'"),
        ("https://x.invalid/torch-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl", "torch", None, None),
        ("https://x.invalid/a/xformers-0.0.20.dev528-cp310-cp310-manylinux2014_x86_64-pytorch2.whl", "", None, None),
        ("https://x.invalid/bnb-0.41.1-py3-none-win_amd64.whl; platform_system == 'Windows'", "bnb", None, "x"),
        ("git+https://github.com/o/r.git@abc123#egg=diffusers", "diffusers", None, None),
        ("git+https://github.com/o/r.git@abc123#egg=tools[cli]", "tools", None, None),
        ("git+https://github.com/facebookresearch/fvcore", "", None, None),
        ("./pkg", "", "./pkg", None),
        (".", "", ".", None),
        ("../sibling[extra] ; python_version >= '3.10'", "", "../sibling", "python_version >= '3.10'"),
        ("./dist/foo_bar-1.0-py3-none-any.whl", "foo_bar", "./dist/foo_bar-1.0-py3-none-any.whl", None),
        ("foo-1.0.tar.gz", "", "foo-1.0.tar.gz", None),
        ("file:///srv/wheels/pkg-1.0-py3-none-any.whl", "pkg", None, None),
    ],
)
def test_direct_references(text: str, name: str, url: str | None, marker: str | None) -> None:
    entry = only(text + "\n")
    req = entry.requirement
    assert req is not None
    assert entry.kind is EntryKind.REQUIREMENT
    assert req.is_direct_reference
    assert req.name == name
    assert req.specifier == ""
    assert req.spec_start == req.spec_end
    if url is not None:
        assert req.url == url
    if marker == "x":
        assert req.marker == "platform_system == 'Windows'"
    elif marker is not None:
        assert req.marker == marker


def test_empty_marker_is_no_marker_like_pip() -> None:
    assert req_of("foo==1;\n").marker is None
    assert req_of("foo @ https://x.invalid/a.whl ;\n").url == "https://x.invalid/a.whl"


def test_url_marker_needs_semicolon_and_space_like_pip() -> None:
    req = req_of("https://x.invalid/a-1.0-py3-none-any.whl;python_version>'3'\n")
    assert req.marker is None
    assert req.url == "https://x.invalid/a-1.0-py3-none-any.whl;python_version>'3'"


def test_extras_of_a_path() -> None:
    req = req_of("./pkg[cuda,dev]\n")
    assert (req.url, req.extras) == ("./pkg", ("cuda", "dev"))


@pytest.mark.parametrize(
    ("text", "name", "url", "extras"),
    [
        ("-e .", "", ".", ()),
        ("-e .[cuda]", "", ".", ("cuda",)),
        ("--editable ./pkg", "", "./pkg", ()),
        ("--editable=./pkg[a,b]", "", "./pkg", ("a", "b")),
        ("-e./pkg", "", "./pkg", ()),
        ("-e git+https://github.com/o/mgds.git@9bc4562#egg=mgds", "mgds", None, ()),
        ("-e 'name[x] @ git+https://github.com/o/r.git'", "name", "git+https://github.com/o/r.git", ("x",)),
        ("-e file:///src/pkg#egg=pkg", "pkg", "file:///src/pkg#egg=pkg", ()),
        ("-e git://github.com/o/r.git#egg=r", "r", None, ()),
        ("-e 'C:\\src\\pkg'", "", "C:\\src\\pkg", ()),  # unquoted, shlex would eat the backslashes
    ],
)
def test_editables(text: str, name: str, url: str | None, extras: tuple[str, ...]) -> None:
    entry = only(text + "\n")
    req = entry.requirement
    assert entry.kind is EntryKind.EDITABLE
    assert req is not None
    assert req.editable
    assert req.is_direct_reference
    assert req.name == name
    assert req.extras == extras
    assert req.spec_start == req.spec_end == len(text)
    if url is not None:
        assert req.url == url


def test_editable_config_settings_apply_and_hash_is_ignored() -> None:
    entry = only("-e ./pkg -C editable_mode=compat --hash=sha256:aa\n")
    assert entry.requirement is not None
    assert entry.requirement.options == ("-C editable_mode=compat",)
    assert entry.requirement.hashes == ()
    assert entry.ignored == ("--hash=sha256:aa",)


def test_per_requirement_options() -> None:
    text = (
        "foo==1.0 --hash=sha256:aa --hash sha256:bb -C key=value"
        " --config-settings='--build-option=--x y' --global-option=--no-user-cfg\n"
    )
    entry = only(text)
    req = entry.requirement
    assert req is not None
    assert req.hashes == ("sha256:aa", "sha256:bb")
    assert req.options == (
        "-C key=value",
        "--config-settings='--build-option=--x y'",
        "--global-option=--no-user-cfg",
    )
    assert entry.ignored == ()
    assert entry.options[0] == ("--hash", "sha256:aa")
    assert ("--config-settings", "--build-option=--x y") in entry.options


def test_hashes_on_continuation_lines() -> None:
    text = (
        "torch @ https://x.invalid/torch-2.9.1-4-cp312-cp312-linux_x86_64.whl \\\n"
        "    --hash=sha256:0a \\\n    --hash=sha256:0b\n"
    )
    entry = only(text)
    assert entry.requirement is not None
    assert entry.requirement.name == "torch"
    assert entry.requirement.hashes == ("sha256:0a", "sha256:0b")


def test_global_options_after_a_requirement_are_ignored_like_pip() -> None:
    entry = only("torch==2.3.0 --index-url https://x.invalid/whl/cu121\n")
    assert entry.kind is EntryKind.REQUIREMENT
    assert entry.requirement is not None
    assert entry.requirement.specifier == "==2.3.0"
    assert entry.ignored == ("--index-url https://x.invalid/whl/cu121",)
    assert entry.option is None
    assert entry.options == (("--index-url", "https://x.invalid/whl/cu121"),)


@pytest.mark.parametrize(
    ("text", "option", "value"),
    [
        ("-i https://x.invalid/simple", "--index-url", "https://x.invalid/simple"),
        ("-ihttps://x.invalid/simple", "--index-url", "https://x.invalid/simple"),
        ("--pypi-url https://x.invalid/s", "--index-url", "https://x.invalid/s"),
        ("--index-url=https://x.invalid/s", "--index-url", "https://x.invalid/s"),
        ("--extra-index https://x.invalid/s", "--extra-index-url", "https://x.invalid/s"),
        ("--no-index", "--no-index", None),
        ("-f ./wheels", "--find-links", "./wheels"),
        ("--find-links=https://data.invalid/whl/torch-2.3.0+cu121.html", "--find-links", None),
        ("--pre", "--pre", None),
        ("--trusted-host host.invalid", "--trusted-host", "host.invalid"),
        ("--only-binary :all:", "--only-binary", ":all:"),
        ("--no-binary=torch", "--no-binary", "torch"),
        ("--prefer-binary", "--prefer-binary", None),
        ("--require-hashes", "--require-hashes", None),
        ("--use-feature=truststore", "--use-feature", "truststore"),
        ("--extra-index-url https://x.invalid/s # a comment", "--extra-index-url", "https://x.invalid/s"),
    ],
)
def test_global_options(text: str, option: str, value: str | None) -> None:
    entry = only(text + "\n")
    assert entry.kind is EntryKind.OPTION
    assert entry.option == option
    if value is not None or "=" not in text:
        assert entry.option_value == value


def test_two_options_on_one_line() -> None:
    entry = only("--extra-index-url=https://x.invalid/s --prefer-binary\n")
    assert entry.options == (("--extra-index-url", "https://x.invalid/s"), ("--prefer-binary", None))
    assert entry.option == "--extra-index-url"


@pytest.mark.parametrize(
    ("text", "kind", "path"),
    [
        ("-r base.txt", EntryKind.INCLUDE, "base.txt"),
        ("-rbase.txt", EntryKind.INCLUDE, "base.txt"),
        ("--requirement=base.txt", EntryKind.INCLUDE, "base.txt"),
        ("--requirement ./dir/base.txt", EntryKind.INCLUDE, "./dir/base.txt"),
        ("-c constraints.txt", EntryKind.CONSTRAINT, "constraints.txt"),
        ("--constraint=c.txt", EntryKind.CONSTRAINT, "c.txt"),
        ("-r 'with space.txt'", EntryKind.INCLUDE, "with space.txt"),
        ("-r=odd.txt", EntryKind.INCLUDE, "=odd.txt"),  # optparse reads the rest of a short option
    ],
)
def test_includes(text: str, kind: EntryKind, path: str) -> None:
    entry = only(text + "\n")
    assert (entry.kind, entry.include) == (kind, path)


def test_other_options_on_an_include_line_are_ignored() -> None:
    entry = only("-r a.txt --pre -r b.txt\n")
    assert entry.include == "a.txt"
    assert entry.ignored == ("--pre", "-r b.txt")


def test_positional_words_after_options_are_ignored_like_pip() -> None:
    entry = only("--pre torch==2.0\n")
    assert entry.kind is EntryKind.OPTION
    assert entry.ignored == ("torch==2.0",)


def test_hash_without_requirement_is_ignored() -> None:
    entry = only("--hash=sha256:aa\n")
    assert entry.kind is EntryKind.OPTION
    assert entry.ignored == ("--hash=sha256:aa",)


def test_comments_and_keep() -> None:
    result = parse("# full line\nfoo==1  # relax-pins: keep\nbar==2 # Relax-Pins:keep it\nbaz==3 #relax-pins: keep\n")
    comment, foo, bar, baz = result.entries[:4]
    assert (comment.kind, comment.comment, comment.keep) == (EntryKind.COMMENT, "# full line", False)
    assert (foo.comment, foo.keep) == ("# relax-pins: keep", True)
    assert bar.keep
    assert baz.keep


def test_hash_glued_to_a_word_is_not_a_comment() -> None:
    _, errors = parse_all("qux==4#not-a-comment\n")
    assert errors  # pip keeps '#not-a-comment' in the requirement, which makes it invalid
    entry = only("git+https://github.com/o/r.git#egg=r\n")
    assert entry.comment is None
    assert entry.requirement is not None
    assert entry.requirement.name == "r"


def test_comment_swallows_continued_line_like_pip() -> None:
    result = parse("foo==1 # note \\\nbar==2\nbaz\n")
    assert [e.kind for e in result.entries] == [EntryKind.REQUIREMENT, EntryKind.REQUIREMENT]
    first = result.entries[0]
    assert first.raw == "foo==1 # note \\\nbar==2\n"
    assert first.comment == "# note \\\nbar==2"
    assert result.entries[1].lineno == 3


def test_comment_line_is_never_a_continuation() -> None:
    assert kinds("# a comment \\\nfoo\n") == [EntryKind.COMMENT, EntryKind.REQUIREMENT]


def test_comment_line_closes_a_continuation() -> None:
    result = parse("foo==1 \\\n# comment\nbar==2\n")
    assert [e.raw for e in result.entries] == ["foo==1 \\\n# comment\n", "bar==2\n"]
    assert result.entries[0].comment == "# comment"


def test_continuation_inside_a_requirement() -> None:
    entry = only("torch\\\n==2.7.1\n")
    assert entry.requirement is not None
    assert entry.requirement.specifier == "==2.7.1"
    assert entry.raw[entry.requirement.spec_start : entry.requirement.spec_end] == "==2.7.1"


def test_backslash_with_trailing_spaces_does_not_continue() -> None:
    result, errors = parse_all("foo==1 \\  \n    --hash=sha256:aa\n")
    assert [e.kind for e in result.entries] == [EntryKind.INVALID, EntryKind.OPTION]
    (error,) = errors
    assert (error.line, error.col) == (1, 8)
    assert error.hint is not None
    assert "backslash followed by spaces" in error.hint


def test_specifier_crossing_a_continuation() -> None:
    text = "foo>=1,\\\n<2\nbar==3\n"
    result = parse(text)
    first = result.entries[0]
    assert first.requirement is not None
    assert first.requirement.specifier == ">=1,<2"
    assert first.raw[first.requirement.spec_start : first.requirement.spec_end] == ">=1,\\\n<2"
    edited = result.with_specifier(0, ">=1,<3")
    assert edited.format() == "foo>=1,<3\nbar==3\n"
    assert [e.lineno for e in edited.entries] == [1, 2]


# --- with_specifier ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "new", "expected"),
    [
        ("torch==2.7.1\n", ">=2.7.1,<2.8.0", "torch>=2.7.1,<2.8.0\n"),
        (
            "Torch[Cuda] == 2.7.1 ; python_version < '3.12'  # keep me\r\n",
            ">=2.7.1,<2.8",
            "Torch[Cuda] >=2.7.1,<2.8 ; python_version < '3.12'  # keep me\r\n",
        ),
        ("torch\n", ">=2", "torch>=2\n"),
        ("torch[cuda];python_version<'3.12'\n", ">=2", "torch[cuda]>=2;python_version<'3.12'\n"),
        ("torch (==2.7.1)\n", ">=2.7", "torch (>=2.7)\n"),
        ("torch==2.7.1 \\\n    --hash=sha256:aa\n", "==2.7.2", "torch==2.7.2 \\\n    --hash=sha256:aa\n"),
        ("\ufefftorch==1\n", ">=1", "\ufefftorch>=1\n"),
        ("torch==2.7.1", "", "torch"),
    ],
)
def test_with_specifier_changes_only_the_slice(text: str, new: str, expected: str) -> None:
    before = parse(text + "bar==1\n" if text.endswith("\n") else text)
    after = before.with_specifier(0, new)
    assert after.format().startswith(expected)
    old_entry, new_entry = before.entries[0], after.entries[0]
    assert old_entry.requirement is not None
    assert new_entry.requirement is not None
    assert new_entry.requirement.specifier == new
    old_req, new_req = old_entry.requirement, new_entry.requirement
    assert new_entry.raw[: new_req.spec_start] == old_entry.raw[: old_req.spec_start]
    assert new_entry.raw[new_req.spec_end :] == old_entry.raw[old_req.spec_end :]
    assert (new_req.name, new_req.extras, new_req.marker) == (old_req.name, old_req.extras, old_req.marker)
    assert (new_entry.comment, new_entry.keep) == (old_entry.comment, old_entry.keep)
    assert after.entries[1:] == before.entries[1:]
    assert before.format() == (text + "bar==1\n" if text.endswith("\n") else text)  # the original is unchanged


@pytest.mark.parametrize(
    ("text", "index", "new"),
    [
        ("# comment\n", 0, ">=1"),
        ("-e .\n", 0, ">=1"),
        ("name @ https://x.invalid/n.whl\n", 0, ">=1"),
        ("./pkg\n", 0, ">=1"),
        ("torch==1\n", 0, "not a specifier"),
        ("torch==1\n", 0, " >=1"),
        ("torch==1\n", 0, ">=1\n"),
        ("torch==1\n", 0, ">=1 # c"),
    ],
)
def test_with_specifier_rejects(text: str, index: int, new: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse(text).with_specifier(index, new)


# --- lock files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("foo==1 --hash=sha256:aa\n", "--hash options"),
        ("#\n# This file is autogenerated by pip-compile with Python 3.11\n#\nfoo==1\n", "generated by pip-compile"),
        (
            "# This file was autogenerated by uv via the following command:\n#    uv pip compile x.in\nfoo==1\n",
            "generated by uv",
        ),
        ("# uv export --frozen\nfoo==1\n", "generated by uv"),
        ("foo==1\n# This file is autogenerated by pip-compile\n", None),
        ("--hash=sha256:aa\nfoo==1\n", None),
        ("foo==1\n", None),
    ],
)
def test_lock_reason(text: str, reason: str | None) -> None:
    assert parse(text).lock_reason == reason


# --- errors -----------------------------------------------------------------------------------------


def error_of(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse(text, path="reqs.txt")
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "col", "words"),
    [
        ("--frobnicate\n", 1, 1, "unknown option --frobnicate"),
        ("foo==1\ntorch --frobnicate\n", 2, 7, "unknown option"),
        ("foo==1 \\\n  --frobnicate\n", 2, 3, "unknown option"),
        ("--extra-idnex-url x\n", 1, 1, "unknown option"),
        ("-x foo\n", 1, 1, "unknown option -x"),
        ("torch==2.0.1 torchvision==0.15.2\n", 1, 14, "more than one requirement on one line"),
        ("a==1\r\nb==2\r\n\r\ntorch==2.0.1+cu118 torchvision==0.15.2+cu118 --extra-index-url x\r\n", 4, 20, "more"),
        ("foo==\n", 1, 4, "has no version"),
        ("\ufefffoo==\n", 1, 4, "has no version"),
        ("  foo>=1,<\n", 1, 10, "has no version"),
        ("foo=1.0\n", 1, 4, "= is not a version operator"),
        ("-r\n", 1, 1, "-r needs a value"),
        ("--index-url\n", 1, 1, "--index-url needs a value"),
        ("torch==1 --hash\n", 1, 10, "--hash needs a value"),
        ("torch==1 --hash=sha256\n", 1, 10, "--hash needs an algorithm and a digest"),  # pip refuses it too
        ("torch==1 --hash=sha256:\n", 1, 10, "--hash needs an algorithm and a digest"),
        ("torch==1 --hash=sha256:xyz\n", 1, 10, "--hash needs an algorithm and a digest"),
        ("torch==1 --hash=md5:aa\n", 1, 10, "--hash needs an algorithm and a digest"),
        ("-r ''\n", 1, 1, "needs a path"),
        ("--constraint=\n", 1, 1, "needs a path"),
        ("--pre=yes\n", 1, 1, "--pre takes no value"),
        ("--no x\n", 1, 1, "ambiguous option --no"),
        ("foo -C 'a=b\n", 1, 8, "never closed"),
        ("foo --hash=x \\  \n", 1, 14, "escapes nothing"),
        ("foo; python_version <\n", 1, 6, "invalid environment marker"),
        ("https://x.invalid/a.whl ; python_version <\n", 1, 27, "invalid environment marker"),
        ("./pkg ; python_version <\n", 1, 9, "invalid environment marker"),
        ("foo @ https://x.invalid/a.whl ; ;\n", 1, 33, "invalid environment marker"),
        ("-e torch==1.0\n", 1, 1, "-e takes a local project path or a VCS URL"),
        ("-e https://x.invalid/pkg.zip\n", 1, 1, "not a valid editable requirement"),
        ("-e git+https://github.com/o/r.git\n", 1, 1, "cannot tell the project name"),
        ("foo -e ./bar\n", 1, 5, "either a requirement or -e"),
        ("https://x.invalid/a.whl trailing\n", 1, 25, "unexpected text after the URL"),
        ("foo[a,]==1\n", 1, 7, "invalid requirement"),
        ("torch==1.0\t--hash=sha256:aa\n", 1, 12, "pip reads --hash here as part of the requirement"),
    ],
)
def test_errors_point_at_line_and_column(text: str, line: int, col: int, words: str) -> None:
    error = error_of(text)
    assert (error.line, error.col) == (line, col), str(error)
    assert words in error.message
    assert error.path == "reqs.txt"
    assert error.hint
    assert str(error).startswith(f"reqs.txt:{line}:{col}: ")


def test_two_requirements_hint_names_the_second_one() -> None:
    error = error_of("xformers==0.0.21 bitsandbytes==0.41.1\n")
    assert error.hint is not None
    assert "pip reads one requirement per line" in error.hint
    assert "bitsandbytes==0.41.1" in error.hint


def test_unknown_option_hint_suggests_a_close_name() -> None:
    error = error_of("--extra-idnex-url x\n")
    assert error.hint == "did you mean --extra-index-url?"


def test_parse_all_collects_every_error_and_keeps_the_text() -> None:
    text = "ok==1\nfoo==\n--frobnicate # why\nbar==2\ntorch==2.0.1 torchvision==0.15.2"
    result, errors = parse_all(text, path="r.txt")
    assert result.format() == text
    assert [(e.line, e.col) for e in errors] == [(2, 4), (3, 1), (5, 14)]
    assert all(e.path == "r.txt" for e in errors)
    assert [e.kind for e in result.entries] == [
        EntryKind.REQUIREMENT,
        EntryKind.INVALID,
        EntryKind.INVALID,
        EntryKind.REQUIREMENT,
        EntryKind.INVALID,
    ]
    assert result.entries[2].comment == "# why"
    assert [e.lineno for e in result.requirements()] == [1, 4]
    with pytest.raises(InputError) as info:
        parse(text)
    assert (info.value.line, info.value.col) == (2, 4)


def test_input_error_is_a_value_error() -> None:
    assert isinstance(error_of("foo==\n"), ValueError)


# --- parse_requirement ------------------------------------------------------------------------------


def test_parse_requirement_spans_are_relative_to_its_text() -> None:
    req = parse_requirement("torch[cuda] >= 2.3 ; sys_platform == 'linux'")
    assert (req.name, req.extras, req.specifier, req.marker) == (
        "torch",
        ("cuda",),
        ">= 2.3",
        "sys_platform == 'linux'",
    )
    assert (req.spec_start, req.spec_end) == (12, 18)
    url = parse_requirement("pkg @ git+https://github.com/o/r.git@v1")
    assert (url.name, url.url, url.specifier) == ("pkg", "git+https://github.com/o/r.git@v1", "")
    assert url.spec_start == url.spec_end == 3


def test_parse_requirement_error_uses_line_and_column_offset() -> None:
    with pytest.raises(InputError) as info:
        parse_requirement("foo==", path="pyproject.toml", line=12, col_offset=5)
    assert (info.value.path, info.value.line, info.value.col) == ("pyproject.toml", 12, 9)


def test_parse_requirement_is_strict_pep508() -> None:
    with pytest.raises(InputError):
        parse_requirement("./pkg")
    with pytest.raises(InputError):
        parse_requirement("https://x.invalid/a-1.0-py3-none-any.whl")


def test_values_are_frozen() -> None:
    entry = only("foo==1\n")
    with pytest.raises(AttributeError):
        entry.lineno = 3  # type: ignore[misc]
    assert isinstance(parse(""), RequirementsFile)
    assert parse("").entries == ()


def _mixed_lines(count: int) -> str:
    lines = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            lines.append(f"pkg{i}=={i % 7}.{i % 13}.{i}\n")
        elif kind == 1:
            lines.append(f'pkg-{i}[extra]>=1.{i},<2 ; python_version < "3.12"  # comment\n')
        elif kind == 2:
            lines.append(f"pkg_{i}==1.0 \\\n    --hash=sha256:{i:064x}\n")
        else:
            lines.append(f"Pkg.{i} ~= 2.{i}\r\n")
    return "".join(lines)


def test_long_lines_and_many_lines_are_linear() -> None:
    # Linear, measured as a ratio so a slow or busy machine does not decide it: ten times the lines may
    # take at most twenty times as long (linear is ten, quadratic a hundred); the absolute bound catches a
    # pathological constant. (On the 2-core workplace machine 200,000 lines take 5-10 s, load permitting.)
    small = _mixed_lines(20_000)
    started = time.perf_counter()
    parse(small)
    small_elapsed = time.perf_counter() - started
    text = _mixed_lines(200_000)
    started = time.perf_counter()
    result = parse(text)
    elapsed = time.perf_counter() - started
    assert len(result.entries) == 200_000
    assert result.format() == text
    assert elapsed < 20 * max(small_elapsed, 0.05), f"200,000 lines took {elapsed:.1f} s, 20,000 {small_elapsed:.2f} s"
    assert elapsed < 30, f"200,000 lines took {elapsed:.1f} s"
    huge = "a" * 1_000_000 + " " + "#" * 1_000_000 + "\\" * 1000 + " \t" * 100_000
    started = time.perf_counter()
    result, _ = parse_all(huge)
    assert result.format() == huge
    assert time.perf_counter() - started < 5
