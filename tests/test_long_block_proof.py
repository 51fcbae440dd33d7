"""A long block of records (a document's lines read back whole by the index) is proved clean a
piece of lines at a time: the same answer as the whole block's proof, and neither its lines
nor their encoding held twice."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from claimwire import model
from claimwire.grouping import RecordIndex
from claimwire.model import Annotation, Quote

TEXT = "é" * 200_000


def _records(count: int, exact: str = TEXT) -> list[Annotation]:
    return [
        Annotation(f"r{i}", "d", "claims", "CLAIM", 0, 5, Quote(exact), {"n": i}, "sys")
        for i in range(count)
    ]


def _spaced(records: list[Annotation]) -> bytes:
    """The records as Python's json module writes them (``", "``): not claimwire's bytes."""
    lines = [json.dumps(r.to_dict(), ensure_ascii=False) for r in records]
    return ("\n".join(lines) + "\n").encode()


CASES = {
    "claimwire's bytes": (lambda data: data, True),
    "spaced keys": (lambda data: data.replace(b'","', b'", "'), True),
    "a repeated key": (lambda data: data.replace(b'"author"', b'"author":"x","author"', 1), False),
    "two records on a line": (lambda data: data.replace(b"}\n{", b"} {", 1), False),
    "a value over two lines": (lambda data: data.replace(b',"end"', b',\n"end"', 1), False),
    "a blank line": (lambda data: data.replace(b"}\n{", b"}\n\n{", 1), False),
}


@pytest.mark.parametrize("piece", [64, 700, 1 << 20])
@pytest.mark.parametrize("case", list(CASES))
def test_a_long_block_is_proved_as_a_whole_one(
    monkeypatch: pytest.MonkeyPatch, case: str, piece: int
) -> None:
    records = _records(12, 'é’\\"x' * 30)
    change, clean = CASES[case]
    data = change(model._ENCODER.encode_lines(records))
    assert model._proved(data, records) is clean  # one piece: the whole block's proof
    monkeypatch.setattr(model, "_PROOF_PIECE", piece, raising=False)
    assert bool(model._proved(data, records)) is clean


def _traced_peak(work: object) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        assert callable(work)
        work()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_a_long_block_is_not_encoded_again_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "_PROOF_PIECE", 1 << 16, raising=False)
    records = _records(200, "é" * 25_000)
    data = _spaced(records)  # not claimwire's bytes: the quotes are counted too
    peak = _traced_peak(lambda: model._proved(data, records))
    assert peak < len(data) / 8  # the whole block's proof held its encoding and more


def test_a_documents_lines_read_back_are_held_once(tmp_path: Path) -> None:
    """Lines that came in many blocks (one a line, each longer than a block) are read back
    in one piece, not as pieces and then their join; proved without a second copy."""
    path = tmp_path / "long.jsonl"
    path.write_bytes(_spaced(_records(24)))
    size = path.stat().st_size
    with RecordIndex([path]) as index:
        peak = _traced_peak(lambda: index.rows(["d"]))
        rows = index.rows(["d"])
    assert [row[2].id for row in rows] == [f"r{i}" for i in range(24)]
    # the lines once, their records and a piece's proof (4.6 times the lines before: the
    # pieces and their join, the lines encoded whole and a byte mask of them)
    assert peak < 4 * size
