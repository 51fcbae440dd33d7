"""A spool behaves as the list of what was appended: indexes, slices of any step, pickling;
once closed, it refuses to be read past what it holds rather than answer short."""

from __future__ import annotations

import pickle

import pytest

from claimwire.spool import HELD, Spool

COUNT = HELD + 9


def _spool() -> tuple[Spool, list[list[int]]]:
    values = [[i, i * i] for i in range(COUNT)]
    return Spool(values), values


@pytest.mark.parametrize(
    "index",
    [
        slice(None),
        slice(None, None, -1),
        slice(COUNT - 4, COUNT - 7, -1),
        slice(None, None, -3),
        slice(-3, None),
        slice(5, 2),
        slice(100, None),
        slice(2, COUNT, 4),
        -1,
        HELD + 2,
    ],
)
def test_a_spool_is_indexed_and_sliced_as_its_list(index: int | slice) -> None:
    spool, values = _spool()
    assert spool[index] == values[index]


def test_a_spool_pickles_as_its_values() -> None:
    spool, values = _spool()
    assert list(pickle.loads(pickle.dumps(spool))) == values


def test_a_closed_spool_refuses_to_be_read_past_what_it_holds() -> None:
    spool, values = _spool()
    spool.close()
    assert len(spool) == COUNT
    with pytest.raises(ValueError, match="closed"):
        list(spool)
    with pytest.raises(ValueError, match="closed"):
        spool[HELD + 1]
    small = Spool(values[:3])
    small.close()
    assert list(small) == values[:3]
