"""The collector is off while batches are processed and runs once after each batch."""

from __future__ import annotations

import gc
import weakref

import pytest

from claimwire.collection import collected_per_batch, paused_collection


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_cycles_of_a_batch_are_freed_before_the_next_batch() -> None:
    assert gc.isenabled()
    freed: list[bool] = []
    previous: weakref.ref[Node] | None = None
    for _ in collected_per_batch(range(3)):
        assert not gc.isenabled()
        if previous is not None:
            freed.append(previous() is None)
        previous = weakref.ref(Node())
    assert freed == [True, True]
    assert gc.isenabled()


def test_the_collector_is_restored_on_an_error_and_when_left_early() -> None:
    with pytest.raises(RuntimeError), paused_collection():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    batches = collected_per_batch(range(5))
    for number in batches:
        if number == 1:
            break
    batches.close()  # type: ignore[attr-defined]
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        for _ in collected_per_batch(range(2)):
            pass
        with paused_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
