"""resolver.index.lazyseq.LazyFiltered: items are made only as far as they are read, from either end, once each."""

from __future__ import annotations

import pytest

from resolver.index.lazyseq import LazyFiltered


def _counting(items: list[int]) -> tuple[LazyFiltered[int, str], list[int]]:
    made: list[int] = []

    def make(item: int) -> str | None:
        made.append(item)
        return None if item % 3 == 0 else f"v{item}"  # every third item makes nothing

    return LazyFiltered(items, make), made


def test_reading_the_front_makes_only_what_it_reads() -> None:
    seq, made = _counting([1, 2, 3, 4, 5, 6, 7])
    assert next(iter(seq)) == "v1"
    assert made == [1]
    assert seq[1] == "v2"
    assert made == [1, 2]
    assert seq[2] == "v4"  # 3 makes nothing and is skipped
    assert made == [1, 2, 3, 4]


def test_reading_the_back_makes_only_the_tail() -> None:
    seq, made = _counting([1, 2, 3, 4, 5, 6, 7])
    assert next(reversed(seq)) == "v7"
    assert made == [7]
    assert seq[-2] == "v5"  # 6 makes nothing
    assert made == [7, 6, 5]


def test_each_item_is_made_once_and_the_whole_matches_a_list_comprehension() -> None:
    items = list(range(1, 20))
    seq, made = _counting(items)
    expected = [f"v{i}" for i in items if i % 3]
    assert list(seq) == expected
    assert list(seq) == expected
    assert list(reversed(seq)) == expected[::-1]
    assert len(seq) == len(expected)
    assert seq[1:3] == expected[1:3]
    assert sorted(made) == items  # nothing made twice


def test_empty_and_all_filtered_sequences_are_false_and_raise_index_error() -> None:
    empty, _ = _counting([])
    nothing, _ = _counting([3, 6, 9])
    for seq in (empty, nothing):
        assert not seq
        assert list(seq) == []
        with pytest.raises(IndexError):
            seq[0]
        with pytest.raises(IndexError):
            seq[-1]
    some, _ = _counting([3, 4])
    assert some
    with pytest.raises(IndexError):
        some[1]


def test_map_stays_lazy() -> None:
    seq, made = _counting([1, 2, 3, 4])
    upper = seq.map(str.upper)
    assert made == []
    assert next(reversed(upper)) == "V4"
    assert made == [4]
    assert list(upper) == ["V1", "V2", "V4"]
