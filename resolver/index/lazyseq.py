"""A sequence whose items are made from another's only when read, skipping those that make nothing.

Why: the resolver asks for a project's candidates in a range, and for each version that means choosing the
best file for the target and building its link. Ranges such as ``numpy>=1.17`` hold hundreds of versions,
yet resolvelib reads the first one or two (the floor resolution reads the last). Making every candidate up
front was a sixth of a cold check's main-thread time on bench/ml.txt.

Reading from the front or from the back (``reversed``) makes items only as far as it reads; ``len()`` and
negative indexes make all of them. Each item is made once (``make`` must be deterministic: under threads,
two readers may both make the same item, and either answer is kept). PURE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar, overload

__all__ = ["LazyFiltered"]

T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")

_UNSET: object = object()


class LazyFiltered(Sequence[U], Generic[T, U]):
    """``[make(x) for x in items if make(x) is not None]``, made lazily (module docstring)."""

    __slots__ = ("_items", "_made", "_make")

    def __init__(self, items: Sequence[T], make: Callable[[T], U | None]) -> None:
        self._items = items
        self._make = make
        self._made: list[object] = [_UNSET] * len(items)

    def map(self, function: Callable[[U], V]) -> LazyFiltered[T, V]:
        """``[function(item) for item in self]``, as lazy as this sequence (it makes its own items)."""
        make = self._make

        def made(item: T) -> V | None:
            value = make(item)
            return None if value is None else function(value)

        return LazyFiltered(self._items, made)

    def _at(self, position: int) -> U | None:
        made = self._made[position]
        if made is _UNSET:
            made = self._made[position] = self._make(self._items[position])
        return made  # type: ignore[return-value]

    def __iter__(self) -> Iterator[U]:
        for position in range(len(self._items)):
            item = self._at(position)
            if item is not None:
                yield item

    def __reversed__(self) -> Iterator[U]:
        for position in reversed(range(len(self._items))):
            item = self._at(position)
            if item is not None:
                yield item

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @overload
    def __getitem__(self, index: int) -> U: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[U]: ...

    def __getitem__(self, index: int | slice) -> U | Sequence[U]:
        if isinstance(index, slice):
            return list(self)[index]
        walk = iter(self) if index >= 0 else reversed(self)
        for count, item in enumerate(walk):
            if count == (index if index >= 0 else -index - 1):
                return item
        raise IndexError(index)
