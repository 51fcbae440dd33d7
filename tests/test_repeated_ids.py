"""A hostile file where many records repeat a few ids: the index finds the repeats decoding
each repeated line once (never a whole run per repeat), keeps them on disk, and marks the
dropped lines a bit a line: what it holds does not grow with the repeats."""

from __future__ import annotations

import json
import pickle
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zstandard

from claimwire import grouping
from claimwire.grouping import RecordIndex
from claimwire.spool import HELD


def _repeating(path: Path, count: int, ids: int = 1, per_document: int | None = None) -> Path:
    """``count`` annotations cycling through ``ids`` ids, one document (or ``per_document``
    records a document)."""
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            doc = f"d{i // per_document}" if per_document else "d"
            handle.write(
                f'{{"id":"a{i % ids}","doc_id":"{doc}","layer":"claims","label":"CLAIM",'
                '"start":0,"end":1}\n'
            )
    return path


def _count_decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lines the index decodes (whole records), counted as they go."""
    decoded = [0]
    block, columns = grouping.decode_block, grouping.decode_columns

    def counted_block(kind: Any, data: bytes, count: int) -> Any:
        decoded[0] += count
        return block(kind, data, count)

    def counted_columns(path: Path, numbers: list[int], lines: list[bytes], *rest: Any) -> Any:
        decoded[0] += len(lines)
        return columns(path, numbers, lines, *rest)

    monkeypatch.setattr(grouping, "decode_block", counted_block)
    monkeypatch.setattr(grouping, "decode_columns", counted_columns)
    return decoded


def test_a_run_of_repeats_is_decoded_once_not_once_a_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repeats = 3_000
    path = _repeating(tmp_path / "p.jsonl", repeats + 1)
    decoded = _count_decoded(monkeypatch)
    with RecordIndex([path]) as index:
        assert decoded[0] <= repeats + 1  # each repeated line once (quadratic: 9 million)
        assert len(index.duplicates) == repeats
        [rows] = list(index.leftover())
    assert [(line, record.id) for _, line, record in rows] == [(1, "a0")]


def _retained(path: Path) -> int:
    """Bytes an index of ``path`` still holds once built (its repeats found)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        index = RecordIndex([path])
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    with index:
        assert len(index.duplicates) > 1_000
    return held


def test_what_the_index_holds_does_not_grow_with_the_repeats(tmp_path: Path) -> None:
    few = _retained(_repeating(tmp_path / "few.jsonl", 20_000, ids=3))
    many = _retained(_repeating(tmp_path / "many.jsonl", 100_000, ids=3))
    # a Duplicate and a (file, line) a repeat would be over 16 MB more; a bit a line is 10 KB
    # (the rest: the interpreter's free lists, a few blocks' worth)
    assert many < few + 256_000


@pytest.mark.parametrize("piece", [None, 7, 100])
def test_the_repeats_and_the_rows_are_those_of_a_plain_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int | None
) -> None:
    """First of each (kind, id) kept, in file order, across files, documents and kinds; a
    refused record is no repeat (its reading reports it); a compressed file alike; runs read
    back in pieces of 7 bytes (every line longer) or 100 (cut inside lines) alike."""
    if piece is not None:
        monkeypatch.setattr(grouping, "PIECE", piece, raising=False)
    lines = []
    for i in range(600):
        record: dict[str, Any] = {"id": f"x{i % 37}", "doc_id": f"d{i % 5}"}
        if i % 3:
            record.update(layer="claims", label="CLAIM", start=0, end=1)
        else:
            record.update(type="SOURCE_OF", head="x0", tail="x1")
        if i == 100:
            record["start"] = "not a number"
        lines.append(json.dumps(record))
    first = tmp_path / "a.jsonl"
    first.write_text("\n".join(lines[:300]) + "\n", encoding="utf-8")
    second = tmp_path / "b.jsonl.zst"
    text = ("\n".join(lines[300:]) + "\n").encode()
    second.write_bytes(zstandard.ZstdCompressor().compress(text))
    seen: set[tuple[bool, str]] = set()
    expected = []
    for at, line in enumerate(lines):
        record = json.loads(line)
        key = ("head" in record, record["id"])
        if at == 100:
            continue
        if key in seen:
            path, lineno = (first, at + 1) if at < 300 else (second, at - 299)
            expected.append((path, lineno, record["id"], record["doc_id"]))
        seen.add(key)
    refused: list[int] = []
    with RecordIndex([first, second], on_error=lambda e, n, o: refused.append(n)) as index:
        got = [(d.path, d.line, d.id, d.doc_id) for d in index.duplicates]
        assert got == expected and len(expected) > HELD
        assert list(index.duplicates[:3]) == [index.duplicates[i] for i in range(3)]
        kept = [(p, n) for rows in index.leftover() for p, n, _ in rows]
    dropped = {(p, n) for p, n, _, _ in expected}
    assert refused == [101]
    assert sorted(kept) == sorted(
        (first, n) if n <= 300 else (second, n - 300)
        for n in range(1, 601)
        if n != 101 and ((first, n) if n <= 300 else (second, n - 300)) not in dropped
    )


def test_lines_with_dropped_ones_travel_compare_and_hash(tmp_path: Path) -> None:
    path = _repeating(tmp_path / "p.jsonl", 50, ids=7, per_document=10)
    with RecordIndex([path]) as index:
        [lines] = index.where(["d2"])
        assert lines.dropped.tolist() == list(range(21, 31))
        assert pickle.loads(pickle.dumps(lines)) == lines == index.where(["d2"])[0]
        assert len({lines, index.where(["d2"])[0]}) == 1
        assert grouping.read_lines(lines) == []
        [first] = index.where(["d0"])
        assert [n for _, n, _ in grouping.read_lines(first)] == [1, 2, 3, 4, 5, 6, 7]


def test_lines_that_drop_other_lines_are_not_equal(tmp_path: Path) -> None:
    """The same runs of one file read other records when other lines are dropped: such
    lines are neither equal nor one in a set."""
    path = _repeating(tmp_path / "p.jsonl", 50, ids=7, per_document=10)
    with RecordIndex([path]) as checked, RecordIndex([path], check_ids=False) as unchecked:
        [dropping] = checked.where(["d2"])
        [whole] = unchecked.where(["d2"])
        assert dropping.runs == whole.runs
        assert grouping.read_lines(dropping) != grouping.read_lines(whole)
        assert dropping != whole and len({dropping, whole}) == 2


@pytest.mark.parametrize("text", ["head", "tail"])
def test_an_annotation_whose_text_names_head_or_tail_is_still_a_repeat(
    tmp_path: Path, text: str
) -> None:
    """A file of either kind: the repeat's kind comes from its keys, not from a search of
    its bytes for "head" (an annotation quoting the word is no relation)."""
    line = json.dumps(
        {
            "id": "a1",
            "doc_id": "d",
            "layer": "claims",
            "label": "CLAIM",
            "start": 0,
            "end": 4,
            "author": text,
            "quote": {"exact": text},
        }
    )
    relation = json.dumps(
        {"id": "r1", "doc_id": "d", "type": "attributed_to", "head": "a1", "tail": "a2"}
    )
    path = tmp_path / "p.jsonl"
    path.write_text(f"{line}\n{relation}\n{line}\n{relation}\n", encoding="utf-8")
    with RecordIndex([path]) as index:
        assert [(d.line, d.kind, d.id) for d in index.duplicates] == [
            (3, "annotation", "a1"),
            (4, "relation", "r1"),
        ]
        assert [row[1] for row in index.rows(["d"])] == [1, 2]


def test_many_distinct_repeated_ids_are_found_by_binary_search() -> None:
    """Membership in the sorted repeated hashes: the same answer as np.isin."""
    rng = np.random.default_rng(3)
    repeated = np.unique(rng.integers(-50, 50, 40))
    for values in (rng.integers(-60, 60, 500), np.zeros(0, np.int64), repeated):
        assert np.array_equal(grouping._among(values, repeated), np.isin(values, repeated))
    assert not grouping._among(np.arange(5), np.zeros(0, np.int64)).any()


def test_another_batch_s_annotation_is_looked_up_without_asking_for_its_document(
    tmp_path: Path,
) -> None:
    """A lookup by id returns the record and leaves its document among those no batch asked
    for (the batch that owns it still reads it; `leftover` still finds it when none does)."""
    path = tmp_path / "p.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"a{i}",
                    "doc_id": f"d{i}",
                    "layer": "claims",
                    "label": "CLAIM",
                    "start": 0,
                    "end": 1,
                }
            )
            + "\n"
            for i in range(2)
        ),
        encoding="utf-8",
    )
    with RecordIndex([path]) as index:
        found = index.annotation_of("a1")
        assert found is not None and (found.id, found.doc_id) == ("a1", "d1")
        assert index.document_of("a1") == "d1" and index.annotation_of("nope") is None
        assert [row[2].id for batch in index.leftover() for row in batch] == ["a0", "a1"]


def _twice(path: Path, ids: int) -> Path:
    """``ids`` annotations, then each of them again (one document)."""
    with path.open("w", encoding="utf-8") as handle:
        for i in [*range(ids), *range(ids)]:
            handle.write(
                f'{{"id":"an-annotation-id-{i}","doc_id":"d","layer":"claims",'
                '"label":"CLAIM","start":0,"end":1}\n'
            )
    return path


def _peak(path: Path) -> int:
    """The most bytes building an index of ``path`` holds at once (traced)."""
    tracemalloc.start()
    try:
        with RecordIndex([path]) as index:
            peak = tracemalloc.get_traced_memory()[1]
            assert len(index.duplicates) >= 20_000
    finally:
        tracemalloc.stop()
    return peak


def test_finding_many_distinct_repeated_ids_holds_no_id(tmp_path: Path) -> None:
    """Each id of a file written twice: finding the repeats holds a few bytes a repeated hash
    (the sorted hashes, a bit and a second hash each), never the ids themselves (a set of
    (kind, id) held about 150 bytes an id)."""
    few = _peak(_twice(tmp_path / "few.jsonl", 20_000))
    many = _peak(_twice(tmp_path / "many.jsonl", 100_000))
    assert (many - few) / 80_000 < 60


def test_ids_that_share_a_first_hash_are_told_apart() -> None:
    """Two ids given one repeated hash (as a collision of their 64-bit hashes would) are
    two ids: each is a repeat only of itself, whatever their order; an annotation and a
    relation with one id are two records."""
    came = grouping._FirstIds(np.array([7, 9], dtype=np.int64))
    seen = [came.again(0, False, i) for i in ("a", "b", "a", "c", "b", "c", "a")]
    assert seen == [False, False, True, False, True, True, True]
    assert [came.again(1, r, "a") for r in (False, True, True, False)] == [
        False,
        False,
        True,
        True,
    ]


@pytest.mark.parametrize("reader", ["rows", "read_lines"])
def test_reading_back_a_document_of_repeats_holds_a_piece_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    """One document of 3 ids repeated over 200,000 lines (one 17 MB run), read back here
    (``rows``) or as another process reads it (``read_lines``): its 3 first records come,
    and what is held meanwhile is a piece of the run (64 KiB here) and 8 bytes a dropped
    line, not the run and its lines split (before: 37-39 MB)."""
    monkeypatch.setattr(grouping, "PIECE", 1 << 16, raising=False)
    path = _repeating(tmp_path / "r.jsonl", 200_000, ids=3)
    with RecordIndex([path]) as index:
        where = index.where(["d"]) if reader == "read_lines" else []
        tracemalloc.start()
        if reader == "rows":
            rows = index.rows(["d"])
        else:
            rows = [row for lines in where for row in grouping.read_lines(lines)]
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert [(n, record.id) for _, n, record in rows] == [(1, "a0"), (2, "a1"), (3, "a2")]
    assert peak < 8_000_000, peak
