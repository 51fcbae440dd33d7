"""A release carries its gold a second time as ready columns: written by the build, listed
and checksummed in the manifest, proved equal to the JSONL by validation, and read by
``eval score`` instead of the gold's JSONL, with the scores of the JSONL to the last digit."""

from __future__ import annotations

import json
import random
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from claimwire.corpus.gold_columns import (
    COLUMNS_KEY,
    ColumnsUnavailable,
    GoldColumns,
    write_columns,
)
from claimwire.corpus.release import DIGEST, Sharding, build_release, manifest_digest
from claimwire.corpus.validate import validate_release
from claimwire.eval import evaluate
from claimwire.eval.evaluate import Evaluation
from claimwire.files import sha256
from claimwire.model import Annotation, Document, Quote

from .helpers import CLAIM_SENTENCE

DOCUMENTS = 40
TYPES = ["quantity", "prediction", None]


def _gold(docs: list[Document], shuffled: bool = True) -> list[Annotation]:
    """Several claims a document (none on the first batch's seven), some on the same offsets
    (ties broken by attributes and id), attributes absent, null, or of several values, and a
    SOURCE beside them."""
    rng = random.Random(3)
    records = []
    for number, doc in enumerate(docs):
        for k in range(rng.randint(0, 4) if number >= 7 else 0):
            start = rng.choice([0, 4, doc.text.index("ses ventes")])
            end = rng.choice([start + 9, start + 14, len(doc.text.rstrip())])
            attributes: dict[str, Any] = {}
            if k % 3:
                attributes["claim_type"] = TYPES[rng.randrange(3)]
            if k % 2:
                attributes["checkworthy"] = bool(rng.randrange(2))
            quote = Quote.from_text(doc.text, start, end)
            ident = f"c{rng.randrange(1000):03}-{number}-{k}"
            records.append(
                Annotation(ident, doc.id, "claims", "CLAIM", start, end, quote, attributes)
            )
        if number % 3 == 0 and number >= 7:
            start = doc.text.index("La société")
            quote = Quote.from_text(doc.text, start, start + 10)
            records.append(
                Annotation(f"s-{number}", doc.id, "attribution", "SOURCE", start, start + 10, quote)
            )
    if shuffled:  # the gold in no order: the columns are sorted by document
        rng.shuffle(records)
    return records


def _build(root: Path, sharding: Sharding | None = None, shuffled: bool = True) -> Path:
    raw = root / "raw"
    raw.mkdir()
    for i in range(DOCUMENTS):
        text = f"Communiqué numéro {i}.\n\n{CLAIM_SENTENCE}\n"
        (raw / f"doc{i:02}.txt").write_text(text, "utf-8")
    build_release(
        raw, root / "releases", "0.1.0", gold=lambda d: _gold(d, shuffled), sharding=sharding
    )
    return root / "releases" / "0.1.0"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("columns"))


def _predictions(release: Path, folder: Path) -> Path:
    """The gold's claims shifted, retyped, dropped or kept, and spurious ones."""
    rng = random.Random(11)
    records = []
    for line in (release / "annotations.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        if record["label"] != "CLAIM" or rng.random() < 0.2:
            continue
        record["id"] = "p-" + record["id"]
        record["quote"] = None
        if rng.random() < 0.3:
            record["end"] -= 1
        if rng.random() < 0.3:
            record["attributes"] = {"claim_type": TYPES[rng.randrange(3)], "checkworthy": True}
        records.append(record)
        if rng.random() < 0.2:
            records.append({**record, "id": record["id"] + "-x", "start": 1, "end": 5})
    folder.mkdir()
    path = folder / "system.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


def _score(release: Path, path: Path, **options: Any) -> dict[str, Any]:
    evaluation = Evaluation.open(release, "claims", resamples=50, **options)
    return evaluation.score(evaluation.check(path)).to_dict()


def _read_columns(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Batches of 7 documents; the list gets the first document of each batch read as
    columns."""
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 7)
    read: list[int] = []
    batch = GoldColumns.batch

    def spied(self: GoldColumns, first: int, last: int) -> Any:
        read.append(first)
        return batch(self, first, last)

    monkeypatch.setattr(GoldColumns, "batch", spied)
    return read


def _without_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Evaluation, "_gold_columns", lambda self, setup: None)


def test_the_build_writes_the_gold_as_columns_listed_checksummed_and_validated(
    release: Path,
) -> None:
    manifest = json.loads((release / "MANIFEST.json").read_text("utf-8"))
    assert manifest[COLUMNS_KEY] == {"annotations.jsonl": "annotations.columns.npz"}
    entry = manifest["files"]["annotations.columns.npz"]
    assert entry["sha256"] == sha256(release / "annotations.columns.npz")
    assert validate_release(release) == []
    with np.load(release / "annotations.columns.npz", allow_pickle=False) as data:
        doc = data["doc"]
        records = len((release / "annotations.jsonl").read_text("utf-8").splitlines())
        assert len(doc) == records and (np.diff(doc) >= 0).all()


@pytest.mark.parametrize("split", ["all", "test"])
@pytest.mark.parametrize("order", ["in order", "shuffled"])
def test_eval_score_reads_the_columns_with_the_scores_of_the_jsonl(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split: str, order: str
) -> None:
    path = _predictions(release, tmp_path / "run")
    if order == "shuffled":
        lines = path.read_text("utf-8").splitlines(keepends=True)
        random.Random(5).shuffle(lines)
        path.write_text("".join(lines), "utf-8")
    read = _read_columns(monkeypatch)
    scored = _score(release, path, split=split)
    assert read == list(range(0, DOCUMENTS, 7))  # every batch's gold from the columns
    _without_columns(monkeypatch)
    assert scored == _score(release, path, split=split)  # the JSONL's scores
    assert 0 < scored["schemes"]["strict"]["f1"] < 1
    assert scored["attributes"]


def test_columns_edited_and_signed_again_are_what_is_scored_and_validation_says_so(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every span of the columns a character longer, the manifest signed again: the scores
    change (the columns, not the JSONL, were read) and validation names the file."""
    path = _predictions(release, tmp_path / "run")
    copy = tmp_path / "releases" / "0.1.0"
    copy.parent.mkdir()
    shutil.copytree(release, copy)
    columns = copy / "annotations.columns.npz"
    with np.load(columns) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["end"] = np.where(arrays["end"] >= 0, arrays["end"] + 1, -1)
    with columns.open("wb") as out:
        np.savez(out, **arrays)
    manifest = json.loads((copy / "MANIFEST.json").read_text("utf-8"))
    manifest["files"][columns.name]["sha256"] = sha256(columns)
    manifest["files"][columns.name]["bytes"] = columns.stat().st_size
    manifest[DIGEST] = manifest_digest(manifest)
    (copy / "MANIFEST.json").write_text(json.dumps(manifest), "utf-8")
    [problem] = validate_release(copy)
    assert problem.code == "columns-mismatch" and problem.file == columns.name
    assert "differs from annotations.jsonl in end" in problem.message
    read = _read_columns(monkeypatch)
    edited = _score(copy, path)
    assert read
    assert edited["schemes"]["strict"] != _score(release, path)["schemes"]["strict"]


def test_a_release_without_columns_or_a_single_batch_reads_the_jsonl(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _predictions(release, tmp_path / "run")
    read = _read_columns(monkeypatch)
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", DOCUMENTS)  # one batch: matches kept
    whole = _score(release, path)
    assert not read
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 7)
    assert _score(release, path) == whole
    assert read


def test_columns_of_shards_are_held_only_while_a_batch_reaches_them(tmp_path: Path) -> None:
    release = _build(tmp_path, Sharding(records=15), shuffled=False)
    manifest = json.loads((release / "MANIFEST.json").read_text("utf-8"))
    parts = manifest["shards"]["annotations.jsonl"]
    assert len(parts) > 3 and sorted(manifest[COLUMNS_KEY]) == sorted(parts)
    assert validate_release(release) == []
    columns = GoldColumns([release / manifest[COLUMNS_KEY][part] for part in parts])
    held = []
    rows = 0
    for first in range(0, DOCUMENTS, 4):
        batch = columns.batch(first, first + 4)
        assert ((batch.doc >= first) & (batch.doc < first + 4)).all()
        rows += len(batch)
        held.append(len(columns._loaded))
    assert rows == sum(manifest["files"][part]["records"] for part in parts)
    assert max(held) < len(parts)  # never every part at once


def test_columns_of_shards_out_of_document_order_are_not_read(tmp_path: Path) -> None:
    """Gold given in no order makes parts that each span the release: every batch reached
    every part, and all were held at once (memory grew with the gold). Such columns are
    valid but not read: eval score reads the JSONL, a batch at a time."""
    release = _build(tmp_path, Sharding(records=15), shuffled=True)
    manifest = json.loads((release / "MANIFEST.json").read_text("utf-8"))
    parts = manifest["shards"]["annotations.jsonl"]
    assert len(parts) > 3 and validate_release(release) == []
    with pytest.raises(ColumnsUnavailable):
        GoldColumns([release / manifest[COLUMNS_KEY][part] for part in parts])


@pytest.mark.parametrize("damage", ["a byte flipped", "truncated"])
def test_a_damaged_columns_file_is_a_problem_not_a_crash(
    release: Path, tmp_path: Path, damage: str
) -> None:
    """A columns file whose zip is broken (a member's CRC-32 wrong, the file cut short) was
    an internal error of validate (zipfile.BadZipFile): now its checksum and its columns are
    each a problem naming it."""
    copy = tmp_path / "releases" / "0.1.0"
    shutil.copytree(release, copy)
    columns = copy / "annotations.columns.npz"
    data = bytearray(columns.read_bytes())
    if damage == "truncated":
        del data[len(data) // 2 :]
    else:
        at = data.index(b"end.npy") + 200  # inside the member's stored bytes
        data[at] ^= 0xFF
    columns.write_bytes(bytes(data))
    problems = validate_release(copy)
    assert {p.code for p in problems} == {"checksum-mismatch", "columns-mismatch"}
    [unreadable] = [p for p in problems if p.code == "columns-mismatch"]
    assert unreadable.file == columns.name
    assert "not a readable columns file" in unreadable.message


def test_a_columns_list_naming_another_file_is_a_problem(release: Path, tmp_path: Path) -> None:
    copy = tmp_path / "releases" / "0.1.0"
    shutil.copytree(release, copy)
    manifest = json.loads((copy / "MANIFEST.json").read_text("utf-8"))
    manifest[COLUMNS_KEY] = {"annotations.jsonl": "CHANGES.md"}
    manifest[DIGEST] = manifest_digest(manifest)
    (copy / "MANIFEST.json").write_text(json.dumps(manifest), "utf-8")
    codes = {p.code for p in validate_release(copy)}
    assert codes == {"columns-mismatch"}


def test_the_columns_bytes_depend_on_the_gold_alone(release: Path, tmp_path: Path) -> None:
    """Two builds of one release write the same columns file (its checksum is the
    manifest's): no member carries the time it was written."""
    columns = release / "annotations.columns.npz"
    with zipfile.ZipFile(columns) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    (copy / columns.name).unlink()
    write_columns(copy, ["annotations.jsonl"], ["documents.jsonl"])
    assert (copy / columns.name).read_bytes() == columns.read_bytes()
