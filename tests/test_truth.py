"""The truth table (tests/truth/verdicts.toml) and its harness (bench/truth.py).

Offline: every row names a corpus file that exists, a known verdict, and the command and answer that
established it. Marked ``network``: the harness over the whole table, against the live configured index,
finds no false claim and misses no file that cannot install (the figures are in the closing notes).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]


def _harness() -> ModuleType:
    return load_script("bench/truth.py", "truth_harness")


def test_every_verdict_names_a_real_file_and_how_it_was_established() -> None:
    rows = _harness().load_table()
    assert len(rows) >= 30
    paths = [row.path for row in rows]
    assert len(set(paths)) == len(paths), "a file is in the table twice"
    for row in rows:
        assert (ROOT / row.path).is_file(), row.path
        assert row.command and row.answer, row.path
        if row.verdict == "incompatible":
            assert row.packages, f"{row.path}: an incompatible file names the packages an error must name"


def test_an_outcome_is_classified_by_the_verdict_and_what_check_said() -> None:
    harness = _harness()
    bad = harness.Expected("f", "3.11", "t", "incompatible", ("torch",), "uv", "no")
    fine = harness.Expected("f", "3.11", "t", "resolves", (), "uv", "ok")
    torch_error = [{"code": "unresolvable", "package": "torch", "message": "..."}]
    other_error = [{"code": "not-found", "package": "numpy", "message": "numpy is not on the index"}]
    assert harness.Outcome(bad, 1, torch_error).kind == "found"
    assert harness.Outcome(bad, 1, other_error).kind == "found elsewhere"
    assert harness.Outcome(bad, 0, []).kind == "missed"
    assert harness.Outcome(fine, 1, other_error).kind == "false claim"
    assert harness.Outcome(fine, 0, []).kind == "right"
    assert harness.Outcome(fine, 3, []).kind == "unchecked"
    assert harness.Outcome(fine, 3, other_error).kind == "false claim"  # read without a location, yet an error
    assert harness.Outcome(fine, 2, []).kind == "false claim"  # bad input where the installers read the file


@pytest.mark.network
def test_the_corpus_has_no_false_claim_and_no_miss(tmp_path: Path) -> None:
    harness = _harness()
    outcomes = [harness.run_check(row, tmp_path / "cache") for row in harness.load_table()]
    wrong = [(o.expected.path, o.kind, o.said) for o in outcomes if o.kind in {"false claim", "missed"}]
    assert wrong == []
