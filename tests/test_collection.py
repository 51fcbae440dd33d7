"""Fewer collector passes inside the block, cycles still freed, thresholds restored."""

from __future__ import annotations

import gc
import weakref

import pytest

from claimwire.collection import YOUNG_THRESHOLD, fewer_collections


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_cycles_are_still_freed_as_allocations_go_on() -> None:
    default = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        cycle = weakref.ref(Node())
        assert cycle() is not None
        kept = [[] for _ in range(2 * YOUNG_THRESHOLD)]  # allocations trigger a collection
        assert cycle() is None
        del kept
    assert gc.get_threshold() == default


def test_thresholds_are_restored_on_an_error() -> None:
    default = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError
    assert gc.get_threshold() == default
