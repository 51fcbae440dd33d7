"""Running totals kept per pair of annotation sets, packed in numpy arrays.

A study of n sets has n(n − 1)/2 pairs, numbered in :func:`itertools.combinations` order
(:func:`pair_number`). :class:`PairTotals` holds integer totals under keys
``pair × stride + what``: one sorted int64 array of keys and an int64 array of values, 8 bytes
a key and a value, where a pair that shares no document has no key and costs nothing.
Totals added since the last merge wait in flat buffers and are merged — stably sorted (the
held keys are one sorted run), equal keys summed — when the buffers fill or before they are
read. Integers sum in any order to the same total, so nothing depends on when merges happen.

:class:`Lazy` and :class:`LazyList` are report sections made from the totals each time they
are read, never held.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from claimwire.errors import ClaimwireError

__all__ = [
    "PENDING",
    "Lazy",
    "LazyList",
    "PairTotals",
    "pair_ends",
    "pair_number",
    "pair_starts",
]

PENDING = 1 << 16
"""Keys added before the buffers are merged into the sorted arrays."""

Ints = NDArray[np.int64]


def pair_starts(sets: int) -> Ints:
    """The number of the pair ``(i, i + 1)``, for each set ``i``."""
    i = np.arange(sets, dtype=np.int64)
    return i * sets - i * (i + 1) // 2


def pair_number(starts: Ints, x: Ints, y: Ints) -> Ints:
    """The numbers of the pairs ``(x, y)``, ``x < y``: their place among the pairs."""
    return starts[x] + (y - x - 1)


def pair_ends(starts: Ints, numbers: Ints) -> tuple[Ints, Ints]:
    """The sets ``(x, y)`` of the pairs numbered ``numbers``."""
    x = np.searchsorted(starts, numbers, side="right") - 1
    return x, numbers - starts[x] + x + 1


class PairTotals:
    """Integer totals, ``width`` of them under each key ``(pair, what)``; a key never added
    reads as zeros."""

    def __init__(self, pairs: int, width: int) -> None:
        self.width = width
        self.stride = (1 << 62) // max(pairs, 1)
        """Keys of one pair: ``what`` below it."""
        self.keys: Ints = np.empty(0, np.int64)
        self.values: Ints = np.empty((0, width), np.int64)
        self._keys = array("q")
        self._values = array("q")

    def add(self, pair: int, what: int, values: Iterable[int]) -> None:
        if not 0 <= what < self.stride:
            raise ClaimwireError(
                "too many distinct values for the number of annotation sets: "
                "compare fewer sets at a time"
            )
        self._keys.append(pair * self.stride + what)
        self._values.extend(values)
        if len(self._keys) >= PENDING:
            self.merge()

    def merge(self) -> None:
        """Fold the totals added since the last merge into the sorted arrays."""
        if not self._keys:
            return
        keys = np.concatenate([self.keys, np.frombuffer(self._keys, np.int64)])
        added = np.frombuffer(self._values, np.int64).reshape(-1, self.width)
        values = np.concatenate([self.values, added])
        self._keys, self._values = array("q"), array("q")
        order = np.argsort(keys, kind="stable")  # the held keys are one run: a merge
        keys, values = keys[order], values[order]
        first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        self.keys, self.values = keys[first], np.add.reduceat(values, first, axis=0)

    def of(self, pair: int) -> tuple[Ints, Ints]:
        """The ``what`` of the pair's keys (ascending) and their totals (merge first)."""
        low, high = np.searchsorted(self.keys, [pair * self.stride, (pair + 1) * self.stride])
        return self.keys[low:high] - pair * self.stride, self.values[low:high]

    def pairs(self) -> Ints:
        """The pairs with a key, ascending (merge first)."""
        return np.unique(self.keys // self.stride)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.values.nbytes) + 8 * (
            len(self._keys) + len(self._values)
        )


class Lazy(Mapping[str, Any]):
    """A mapping whose items are made each time it is read (by ``entries()``), never held:
    a report section of every pair, written to JSON as it is computed. ``length``, when
    known, saves counting them."""

    def __init__(
        self, entries: Callable[[], Iterator[tuple[str, Any]]], length: int | None = None
    ) -> None:
        self.entries = entries
        self.length = length

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self.entries())

    def __len__(self) -> int:
        if self.length is not None:
            return self.length
        return sum(1 for _ in self.entries())

    def __bool__(self) -> bool:
        if self.length is not None:
            return bool(self.length)
        return next(self.entries(), None) is not None

    def __getitem__(self, key: str) -> Any:
        for found, value in self.entries():
            if found == key:
                return value
        raise KeyError(key)

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        return self.entries()

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        """Each value made once (a mapping's view would look each key up again)."""
        return (value for _, value in self.entries())


class LazyList(Sequence[str]):
    """A list of lines made each time it is read, of a length known beforehand."""

    def __init__(self, lines: Callable[[], Iterator[str]], length: int) -> None:
        self.lines = lines
        self.length = length

    def __iter__(self) -> Iterator[str]:
        return self.lines()

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self.length
        for number, line in enumerate(self.lines()):
            if number == index:
                return line
        raise IndexError(index)
