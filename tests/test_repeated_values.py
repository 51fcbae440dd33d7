"""Repeated id hashes are found a bucket at a time: memory holds a bucket of them, never the
hash of every record (8 bytes a record: 2 GB at 10⁷ documents)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from claimwire import grouping
from claimwire.grouping import RecordIndex, repeated_values


def _file(values: Any) -> Any:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    np.asarray(values, dtype=np.int64).tofile(handle)
    return handle


def _watch_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every array ``np.fromfile`` gives back."""
    sizes: list[int] = []
    real = np.fromfile

    def counted(*args: Any, **kwargs: Any) -> Any:
        array = real(*args, **kwargs)
        sizes.append(len(array))
        return array

    monkeypatch.setattr(np, "fromfile", counted)
    return sizes


@pytest.mark.parametrize("count", [0, 1, 999, 50_000])
def test_repeated_values_are_those_a_whole_sort_finds(
    monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setattr(grouping, "SPILL_VALUES", 1_000)
    rng = np.random.default_rng(count)
    values = rng.integers(-(2**63), 2**63 - 1, size=count, dtype=np.int64)
    if count:
        values[rng.integers(0, count, size=count // 10)] = values[: count // 10 or 1][0]
        values[-5:] = [0, 0, 0, -1, -1] if count > 5 else values[-5:]
    ranked = np.sort(values)
    expected = np.unique(ranked[1:][ranked[1:] == ranked[:-1]])
    with _file(values) as handle:
        sizes = _watch_reads(monkeypatch)
        got = repeated_values(handle)
        assert got.tolist() == expected.tolist()
        assert repeated_values(handle, skip=0).tolist() == [v for v in expected if v != 0]
    assert max(sizes, default=0) <= 3 * 1_000 if count > 1_000 else True  # a bucket at a time


def test_the_record_index_finds_duplicates_a_bucket_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        f'{{"id":"a{i % 1500}","doc_id":"d{i % 7}","layer":"claims","label":"CLAIM",'
        f'"start":0,"end":1}}'
        for i in range(3_000)
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with RecordIndex([path]) as whole:
        expected = [(d.line, d.id) for d in whole.duplicates]
    monkeypatch.setattr(grouping, "SPILL_VALUES", 100)
    sizes = _watch_reads(monkeypatch)
    with RecordIndex([path]) as index:
        assert [(d.line, d.id) for d in index.duplicates] == expected
    assert len(expected) == 1_500
    assert max(sizes) <= 300  # never the 3,000 hashes at once
