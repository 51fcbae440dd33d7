"""eval score reads predictions (and the release's gold) written in the documents' order
once, without an index; any other file goes through the index, with the same results."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval import batches, evaluate
from claimwire.eval.checker import check_rows
from claimwire.eval.evaluate import Evaluation
from claimwire.grouping import RecordIndex

from .helpers import REPO, release_with_test_claims


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_with_test_claims(tmp_path_factory.mktemp("in-order"), 24)


def _records(release: Path) -> list[dict[str, Any]]:
    """The gold claims in the documents' order, one shifted, a spurious one on each
    unannotated document and a relation on the first document."""
    opened = open_release(release)
    gold = {a.doc_id: a.to_dict() for a in opened.annotations()}
    records: list[dict[str, Any]] = []
    for number, document in enumerate(opened.documents()):
        claim = gold.get(document.id)
        if claim is None:
            first = next(iter(gold.values()))
            claim = {**first, "id": f"x-{document.id}", "doc_id": document.id, "quote": None}
        elif number == 0:
            claim = {**claim, "start": claim["start"] + 4, "quote": None}
        records.append(claim)
        cue = {**claim, "id": f"q-{document.id}", "label": "SOURCE", "layer": "attribution"}
        cue["attributes"] = {}
        records.append(cue)
        if number == 0:
            relation = {"type": "attributed_to", "head": claim["id"], "tail": cue["id"]}
            records.append({"id": "r", "doc_id": document.id, **relation})
    return records


def _write(folder: Path, records: list[dict[str, Any]]) -> Path:
    folder.mkdir()
    path = folder / "system.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


def _watch(monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[int]]:
    """Batches of five documents; the lists get each checked batch's size and each file the
    index reads."""
    checked: list[int] = []
    indexed: list[int] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        checked.append(len(args[2]))
        return check_rows(*args, **kwargs)

    scan = RecordIndex._scan

    def scanned(self: RecordIndex, source: Any, number: int) -> Any:
        indexed.append(number)
        return scan(self, source, number)

    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 5)
    monkeypatch.setattr(batches, "check_rows", spy)
    monkeypatch.setattr(RecordIndex, "_scan", scanned)
    return checked, indexed


def _score(release: Path, path: Path) -> dict[str, Any]:
    evaluation = Evaluation.open(release, "claims", split="all", resamples=50)
    return evaluation.score(evaluation.check(path)).to_dict()


def test_predictions_in_the_documents_order_are_read_once_without_an_index(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records(release)
    in_order = _score(release, _write(tmp_path / "a", records))
    checked, indexed = _watch(monkeypatch)
    assert _score(release, _write(tmp_path / "b", records)) == in_order
    assert not indexed  # neither the predictions nor the gold went through an index
    assert sum(checked) == 24  # every document checked once
    assert 0 < in_order["schemes"]["strict"]["f1"] < 1


@pytest.mark.parametrize("order", ["reversed", "shuffled", "one-record-last"])
def test_predictions_in_another_order_go_through_the_index_with_the_same_scores(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    records = _records(release)
    expected = _score(release, _write(tmp_path / "a", records))
    if order == "reversed":
        records.reverse()
    elif order == "shuffled":
        random.Random(7).shuffle(records)
    else:  # the first document's claim after every other record
        records.append(records.pop(0))
    checked, indexed = _watch(monkeypatch)
    assert _score(release, _write(tmp_path / "b", records)) == expected
    assert indexed == [0]  # the predictions (the release's gold is read as columns)
    assert sum(checked) == 24  # found out of order before any batch was checked


def _problems(release: Path, path: Path) -> str:
    with pytest.raises(ClaimwireError) as error:
        Evaluation.open(release, "claims", split="all", resamples=50).check(path)
    return str(error.value)


@pytest.mark.parametrize(
    "problem",
    ["duplicate", "bad field", "unknown document", "not JSON", "BOM first", "BOM within"],
)
def test_problems_of_a_file_in_order_are_worded_as_the_index_words_them(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    records = _records(release)
    lines = [json.dumps(r) for r in records]
    if problem == "duplicate":
        lines.insert(5, json.dumps({**records[5], "start": 1}))
    elif problem == "bad field":
        lines[7] = json.dumps({**records[7], "end": "seven"})
    elif problem == "unknown document":
        lines.insert(9, json.dumps({**records[9], "id": "u", "doc_id": "nowhere"}))
    elif problem.startswith("BOM"):  # a byte order mark, on the file's first line or a later one
        at = 0 if problem == "BOM first" else 11
        lines[at] = "\ufeff" + lines[at]
    else:
        lines[11] = lines[11][:-1]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    found = _problems(release, path)
    monkeypatch.setattr(Evaluation, "_run_in_order", lambda *args: None)
    assert found == _problems(release, path)
    assert str(path) in found and ":" in found


def _five_claims_a_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> tuple[list[str], Path, Path]:
    """``count`` document ids, their documents file and a file of five claims on each, in
    their order, read in blocks of about 12 records."""
    from claimwire import lines as line_reading

    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 2048)
    ids = [f"d{i:04}" for i in range(count)]
    documents = tmp_path / "documents.jsonl"
    documents.write_text("".join(json.dumps({"id": i}) + "\n" for i in ids), "utf-8")
    lines = [
        json.dumps(
            {"id": f"{d}-{n}", "doc_id": d, "layer": "claims", "label": "CLAIM", "start": n}
            | {"end": n + 1, "quote": None, "attributes": {}, "author": "x"}
        )
        for d in ids
        for n in range(5)
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return ids, documents, path


def test_the_ids_wait_on_disk_while_the_batches_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory does not grow with the records read (before: each record's id hash was held
    until the end, then copied twice to be sorted: +38 MB at 100,000 documents)."""
    import tracemalloc

    from claimwire.in_order import Batches, RowsInOrder

    ids, documents, path = _five_claims_a_document(tmp_path, monkeypatch, 2000)
    traced: list[int] = []
    with RowsInOrder([path], Batches([documents], 4)) as reader:
        tracemalloc.start()
        try:
            for start in range(0, len(ids), 4):
                reader.rows(ids[start : start + 4])
                if start in (400, len(ids) - 4):
                    traced.append(tracemalloc.get_traced_memory()[0])
        finally:
            tracemalloc.stop()
        assert list(reader.leftover()) == []
    assert reader.count == 10_000
    assert traced[1] - traced[0] < 40_000, traced  # held hashes: about 117 KB for 8,000 records


def test_reading_in_order_holds_a_batch_and_a_block_never_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimwire.in_order import Batches, RowsInOrder

    ids, documents, path = _five_claims_a_document(tmp_path, monkeypatch, 200)
    held: list[int] = []
    with RowsInOrder([path], Batches([documents], 4)) as reader:
        for start in range(0, len(ids), 4):
            rows = reader.rows(ids[start : start + 4])
            assert [r[2].doc_id for r in rows] == [
                d for d in ids[start : start + 4] for _ in range(5)
            ]
            held.append(max(len(kind.records) for file in reader._files for kind in file.kinds))
        assert list(reader.leftover()) == []
    assert reader.count == 1000
    assert max(held) <= 20 + 2 * 12  # a batch's 20 records and the blocks around them


def test_documents_sharing_an_id_or_without_one_leave_the_reading_to_the_index(
    tmp_path: Path,
) -> None:
    from claimwire.in_order import Batches, NotInOrder

    documents = tmp_path / "documents.jsonl"
    documents.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "a"}\n', "utf-8")
    with pytest.raises(NotInOrder):
        Batches([documents], 2)
    documents.write_text('{"id": "a"}\n{"id": ["b"]}\n', "utf-8")  # no string id
    with pytest.raises(NotInOrder):
        Batches([documents], 2)
    documents.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c"}\n', "utf-8")
    assert Batches([documents], 2).of(["c", "a", "b"]).tolist() == [1, 0, 0]


def test_the_releases_gold_is_decoded_by_its_files_kind_not_split_line_by_kind(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release's annotations and relations files hold one kind each: their blocks are
    decoded as that kind, never searched for the other kind's lines (the predictions, which
    mix both, are); the scores are those of the mixed reading."""
    from claimwire import model

    path = _write(tmp_path / "a", _records(release))
    mixed = _score(release, path)
    split: list[int] = []
    apart = model._kinds_apart

    def spied(path: Path, first: int, chunk: bytes, open_file: bool) -> Any:
        split.append(chunk.count(b"\n"))
        return apart(path, first, chunk, open_file)

    monkeypatch.setattr(model, "_kinds_apart", spied)
    assert _score(release, path) == mixed
    assert sum(split) == path.read_bytes().count(b"\n")  # the predictions' lines only
    monkeypatch.setattr(model, "_of_kind", lambda kind, chunk: None)
    split.clear()
    assert _score(release, path) == mixed
    assert sum(split) > path.read_bytes().count(b"\n")  # the gold's too, when not proved


@pytest.mark.parametrize(("task", "reads_relations"), [("claims", False), ("attribution", True)])
def test_the_releases_gold_relations_are_read_only_for_a_task_that_scores_relations(
    monkeypatch: pytest.MonkeyPatch, task: str, reads_relations: bool
) -> None:
    """No score but a relation task's reads the gold's relations: the claims task never
    decodes the release's relations file, the attribution task does; the scores are those of
    a reading of every gold file."""
    from claimwire import in_order

    release = REPO / "corpus" / "releases" / "1.1.0"
    predictions = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
    read: list[str] = []
    columns = in_order.mixed_columns

    def spied(path: Path, kind: Any = None) -> Any:
        read.append(path.name)
        return columns(path, kind)

    def scores() -> dict[str, Any]:
        evaluation = Evaluation.open(release, task, resamples=10)
        return evaluation.score(evaluation.check(predictions)).to_dict()

    monkeypatch.setattr(in_order, "mixed_columns", spied)
    scored = scores()
    assert "annotations.jsonl" in read
    assert ("relations.jsonl" in read) is reads_relations
    monkeypatch.setattr(Evaluation, "reads_gold_relations", True)
    read.clear()
    assert scores() == scored
    assert "relations.jsonl" in read
