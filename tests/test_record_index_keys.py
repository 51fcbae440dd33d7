"""RecordIndex keys documents by a 64-bit hash of their id, but two ids with one hash stay two
documents: the hash is a bucket, the ids are compared. A collision (about n²/2⁶⁵ for n
documents) is forced here by giving two ids one key."""

from __future__ import annotations

import builtins
import json
import random
from pathlib import Path

import pytest

from claimwire import grouping
from claimwire.corpus.diff import compare_files
from claimwire.corpus.release import open_release
from claimwire.eval import evaluate
from claimwire.eval.evaluate import Evaluation
from claimwire.grouping import RecordIndex

from .helpers import release_with_test_claims

SHARED = 4242


def _one_key_for(monkeypatch: pytest.MonkeyPatch, *ids: str) -> None:
    real = grouping.document_key
    monkeypatch.setattr(
        grouping, "document_key", lambda doc_id: SHARED if doc_id in ids else real(doc_id)
    )


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


def _records(documents: list[str], per_document: int) -> list[dict[str, object]]:
    return [
        {"id": f"{d}-{k}", "doc_id": d, "layer": "claims", "label": "CLAIM", "start": 0, "end": 1}
        for d in documents
        for k in range(per_document)
    ]


def _named(rows: list[grouping.Row]) -> list[tuple[int, str, str]]:
    return [(line, record.doc_id, record.id) for _, line, record in rows]


@pytest.mark.parametrize("shape", ["grouped", "shuffled", "two files"])
def test_two_ids_with_one_key_stay_two_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    _one_key_for(monkeypatch, "doc-A", "doc-B")
    records = _records(["doc-A", "doc-B", "doc-C"], 3)
    if shape == "shuffled":
        random.Random(3).shuffle(records)
    files = [_write(tmp_path / "p.jsonl", records)]
    if shape == "two files":  # a run of each in each file, read in file order
        files.append(_write(tmp_path / "q.jsonl", _records(["doc-B", "doc-A"], 2)))
        records += [{**r, "id": f"{r['id']}'"} for r in _records(["doc-B", "doc-A"], 2)]
    with RecordIndex(files, check_ids=False) as index:
        assert sorted(index.documents) == ["doc-A", "doc-B", "doc-C"]
        assert index.documents == list(dict.fromkeys(str(r["doc_id"]) for r in records))
        for asked in (["doc-A"], ["doc-B", "doc-B"]):
            got = {record.doc_id for _, _, record in index.rows(asked)}
            assert got == set(asked)
        assert len(index.rows(["doc-A"])) == (3 if shape != "two files" else 5)
        assert index.document_of("doc-B-1") == "doc-B"
        assert index.document_of("doc-A-2") == "doc-A"
        rest = {record.doc_id for rows in index.leftover() for _, _, record in rows}
        assert rest == {"doc-C"}


def test_an_id_the_index_does_not_hold_finds_nothing_under_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document with no records whose id shares the key of one the index holds (a release's
    document and a prediction file's) gets no records; the other's are left over."""
    _one_key_for(monkeypatch, "doc-A", "elsewhere")
    path = _write(tmp_path / "p.jsonl", _records(["doc-A"], 2))
    with RecordIndex([path]) as index:
        assert index.rows(["elsewhere"]) == []
        assert _named([row for rows in index.leftover() for row in rows]) == [
            (1, "doc-A", "doc-A-0"),
            (2, "doc-A", "doc-A-1"),
        ]


@pytest.mark.parametrize("batch", [24, 1])
def test_eval_score_is_the_same_when_two_documents_share_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Both in one batch (their records were all duplicates) or in two (each got the
    other's): the same scores as without the shared key."""
    release = release_with_test_claims(tmp_path, 24)
    gold = [a.to_dict() for a in open_release(release).annotations()]
    path = _write(tmp_path / "pred.jsonl", [{**r, "quote": None} for r in reversed(gold)])
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", batch)

    def scores() -> dict[str, object]:
        evaluation = Evaluation.open(release, "claims", split="all", resamples=20)
        report = evaluation.check(path)
        assert report.ok, report.problems[:3]
        return evaluation.score(report).to_dict()

    expected = scores()
    assert expected["schemes"]["strict"]["f1"] == 1.0  # type: ignore[index]
    first, second = sorted({str(r["doc_id"]) for r in gold})[:2]
    _one_key_for(monkeypatch, first, second)
    assert scores() == expected


def test_two_record_ids_with_one_hash_are_not_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Duplicate ids are found by a 64-bit hash of (kind, id); two ids with one hash are read
    back and compared, and only a true repeat is kept apart."""
    clash = {(False, "doc-A-1"), (False, "doc-B-0")}
    monkeypatch.setattr(
        grouping, "hash", lambda key: 77 if key in clash else builtins.hash(key), raising=False
    )
    records = _records(["doc-A", "doc-B"], 2)
    path = _write(tmp_path / "p.jsonl", [*records, records[1]])  # a true repeat of doc-A-1
    with RecordIndex([path]) as index:
        assert [(d.line, d.id) for d in index.duplicates] == [(5, "doc-A-1")]
        assert _named(index.rows(["doc-B"])) == [(3, "doc-B", "doc-B-0"), (4, "doc-B", "doc-B-1")]


def test_the_document_of_an_annotation_is_told_by_its_id_not_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relation's end in another batch is looked up by the hash of its id: the records with
    that hash are read back, so an id sharing the hash of another names its own document,
    and an id no record has names none."""
    clash = {(False, "doc-A-1"), (False, "doc-B-0"), (False, "nowhere")}
    monkeypatch.setattr(
        grouping, "hash", lambda key: 77 if key in clash else builtins.hash(key), raising=False
    )
    path = _write(tmp_path / "p.jsonl", _records(["doc-A", "doc-B"], 2))
    with RecordIndex([path], check_ids=False) as index:
        assert index.document_of("doc-A-1") == "doc-A"
        assert index.document_of("doc-B-0") == "doc-B"
        assert index.document_of("nowhere") is None
        assert index.document_of("doc-B-1") == "doc-B"


def test_corpus_diff_tells_a_removed_id_sharing_a_new_ids_hash_as_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether an id is on the other side is first asked of the hashes: an old id whose hash
    a new id (of another document) has is still removed, and the new one added."""
    clash = {(False, "doc-A-1"), (False, "doc-B-9")}
    monkeypatch.setattr(
        grouping, "hash", lambda key: 77 if key in clash else builtins.hash(key), raising=False
    )
    old = _write(tmp_path / "old.jsonl", _records(["doc-A", "doc-B"], 2))
    added = {"id": "doc-B-9", "doc_id": "doc-B", "layer": "claims", "label": "CLAIM"}
    new_records = [r for r in _records(["doc-A", "doc-B"], 2) if r["id"] != "doc-A-1"]
    new = _write(tmp_path / "new.jsonl", [*new_records, {**added, "start": 5, "end": 9}])
    changes = compare_files([old], [new], [], [])
    assert (changes.removed, changes.added, changes.kept) == (["doc-A-1"], ["doc-B-9"], 3)
