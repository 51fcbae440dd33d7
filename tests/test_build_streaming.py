"""A build with gold keeps the list of added annotations on disk: a first release adds every
gold annotation, and holding their ids (with their places, to put them in file order) was
most of a 100,000-document build's memory."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire import model, spool
from claimwire.corpus.changes import id_summary
from claimwire.corpus.diff import compare_files
from claimwire.files import sha256
from claimwire.model import Annotation, write_records
from claimwire.spool import Spool, spilled_sorted

PER_DOCUMENT = 10


def _gold(path: Path, documents: int) -> Path:
    write_records(
        path,
        (
            Annotation(f"d{d:06d}:claim-{i}-{'x' * 40}", f"d{d:06d}", "claims", "CLAIM", i, i + 1)
            for d in range(documents)
            for i in range(PER_DOCUMENT)
        ),
    )
    return path


def _peak(new: Path) -> int:
    tracemalloc.start()
    try:
        changes = compare_files([], [new], [], [])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert changes.added[:2] == ["d000000:claim-0-" + "x" * 40, "d000000:claim-1-" + "x" * 40]
    return peak


def test_a_first_release_adds_its_gold_without_holding_the_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spool, "RUN", 1_000)  # sorted a thousand at a time, as 100,000 are
    monkeypatch.setattr(spool, "BLOCK", 1 << 12)  # and read back in blocks smaller than a run
    monkeypatch.setattr(model, "_CHUNK_BYTES", 1 << 16)  # the files read in small blocks
    small, large = 1_000, 4_000
    growth = _peak(_gold(tmp_path / "large.jsonl", large)) - _peak(
        _gold(tmp_path / "small.jsonl", small)
    )
    per_annotation = growth / ((large - small) * PER_DOCUMENT)
    # before: the ids and their places held, about 260 bytes an annotation
    assert per_annotation < 60, per_annotation


def test_the_added_ids_come_in_file_order_and_are_summarized_as_before(tmp_path: Path) -> None:
    gold = _gold(tmp_path / "gold.jsonl", 300)
    changes = compare_files([], [gold], [], [])
    ids = [f"d{d:06d}:claim-{i}-{'x' * 40}" for d in range(300) for i in range(PER_DOCUMENT)]
    assert changes.added == ids and len(changes.added) == len(ids)
    assert changes.to_dict()["added"] == ids
    shuffled = random.Random(7).sample(ids, len(ids))
    assert id_summary(Spool(shuffled)) == {
        "count": len(ids),
        "sha256": sha256("\n".join(sorted(ids))),
        "first": sorted(ids)[:20],
    }


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.tuples(st.integers(0, 3), st.text(max_size=4)), max_size=60),
    run=st.integers(1, 9),
)
def test_spilled_sorted_is_sorted(values: list[tuple[int, str]], run: int) -> None:
    def key(value: list[object] | tuple[object, ...]) -> int:
        return int(value[0])  # type: ignore[call-overload]

    spilled = [tuple(v) for v in spilled_sorted(values, key=key, run=run)]
    assert spilled == sorted(values, key=key)  # stable: equal keys keep their order
    spool = Spool(v[1] for v in values)
    assert spool == [v[1] for v in values] and len(spool) == len(values)
    assert spool[:3] == [v[1] for v in values][:3]
    if values:
        assert spool[-1] == values[-1][1]
