"""A build with gold keeps the list of added annotations on disk: a first release adds every
gold annotation, and holding their ids (with their places, to put them in file order) was
most of a 100,000-document build's memory. A build that carries its parent's gold over reads
it a batch of documents at a time."""

from __future__ import annotations

import json
import random
import tracemalloc
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire import lines as line_reading
from claimwire import spool
from claimwire.corpus import release
from claimwire.corpus.changes import (
    AnnotationChanges,
    DocumentChanges,
    id_summary,
    manifest_changes,
)
from claimwire.corpus.diff import compare_files
from claimwire.corpus.ingest import read_raw
from claimwire.corpus.release import build_release, open_release
from claimwire.engine import LocalEngine, batches
from claimwire.errors import ClaimwireError
from claimwire.files import sha256
from claimwire.model import Annotation, Document, Relation, write_records
from claimwire.spool import Spool, spilled_sorted

from .helpers import watch_gold_reads

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
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 1 << 16)  # the files read in blocks
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


def test_a_build_carries_its_parents_gold_over_a_batch_of_documents_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents, batch = 120, 8
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = (json.dumps({"text": f"Communiqué {i}. Le PIB a augmenté."}) for i in range(documents))
    (raw / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def gold(docs: Iterable[Document]) -> Iterator[Annotation | Relation]:
        relations = []
        for document in docs:
            ids = [f"{document.id}:c{i}" for i in range(PER_DOCUMENT)]
            for i, annotation_id in enumerate(ids):
                yield Annotation(annotation_id, document.id, "claims", "CLAIM", i, i + 1)
            relations.append(
                Relation(f"{document.id}:r", document.id, "attributed_to", ids[0], ids[1])
            )
        yield from reversed(relations)  # not in the documents' order: the child keeps it

    releases = tmp_path / "releases"
    parent = build_release(raw, releases, "0.1.0", gold=gold).path
    monkeypatch.setattr(release, "CARRY_BATCH", batch)
    whole, asked = watch_gold_reads(monkeypatch)
    child = build_release(raw, releases, "0.2.0", parent="0.1.0")
    monkeypatch.undo()
    assert whole == []  # before: every annotation and relation of the parent, held
    assert max(asked) <= batch and sum(asked) == documents, asked
    opened, before = open_release(child.path), open_release(parent)
    assert list(opened.annotations()) == list(before.annotations())
    assert list(opened.relations()) == list(before.relations())
    assert child.annotations.kept == documents * PER_DOCUMENT


def test_a_jsonl_input_is_read_a_block_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One JSONL file can hold the whole corpus (331 MB for 100,000 documents): it was read
    whole, and decoded whole, to check its bytes and take its digest."""
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 1 << 16)  # lines parsed 64 KB at a time
    raw = tmp_path / "corpus.jsonl"
    line = json.dumps({"text": "Le PIB a augmenté de 2 %. " * 40}, ensure_ascii=False)
    raw.write_text("\n".join([line] * 4_000) + "\n", encoding="utf-8")
    tracemalloc.start()
    try:
        documents = sum(1 for _ in read_raw(raw, tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert documents == 4_000
    assert peak < raw.stat().st_size / 2, (peak, raw.stat().st_size)


class _Recording(LocalEngine):
    """The local engine, noting the size of each batch it hands the stage."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def stream(self, stage: Any, items: Iterable[Any], batch_size: int = 1) -> Iterator[Any]:
        for batch in batches(items, batch_size):
            self.sizes.append(len(batch))
            yield from stage(batch)


def test_the_build_hands_its_engine_batches_of_1024_documents(tmp_path: Path) -> None:
    """With Ray a batch is one block, and each block costs CPU of its own in the driver, Ray's
    daemons and the actors (about 15 ms): 1,024 documents a block, not 256."""
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = (json.dumps({"text": f"Le PIB a augmenté de {i} %."}) for i in range(1030))
    (raw / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    engine = _Recording()
    build_release(raw, tmp_path / "releases", "0.1.0", engine=engine)
    assert engine.sizes == [1024, 6]


def test_bad_bytes_in_a_jsonl_input_are_still_located(tmp_path: Path) -> None:
    raw = tmp_path / "corpus.jsonl"
    raw.write_bytes(b'{"text": "un"}\n' * 3 + b'{"text": "d\xe9j\xe0"}\n')
    with pytest.raises(ClaimwireError) as error:
        list(read_raw(raw, tmp_path))
    assert error.value.line == 4 and "not valid UTF-8: byte 0xe9" in str(error.value)


def test_a_first_release_keeps_no_entry_per_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a parent every document is added: their ids are spooled in input order, and
    no index of the documents (source → id and text digest) is kept to compare with."""
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = (json.dumps({"text": f"Communiqué {i}. Le PIB a augmenté."}) for i in range(40))
    (raw / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    indexes: list[int] = []
    original = release._ingest

    def ingest(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        indexes.append(len(result[0]))
        return result

    monkeypatch.setattr(release, "_ingest", ingest)
    report = build_release(raw, tmp_path / "releases", "0.1.0")
    assert indexes == [0]  # before: one entry a document
    ids = [d.id for d in open_release(report.path).documents()]
    assert list(report.documents.added) == ids and len(ids) == 40
    manifest = report.manifest["changes"]["documents"]["added"]
    assert manifest == {
        "count": 40,
        "sha256": sha256("\n".join(sorted(ids))),
        "first": sorted(ids)[:20],
    }


class _Counted(Sequence[str]):
    """Ids that count how often they are read through."""

    def __init__(self, ids: list[str]) -> None:
        self.ids, self.reads = ids, 0

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: Any) -> Any:
        return self.ids[index]

    def __iter__(self) -> Iterator[str]:
        self.reads += 1
        return iter(self.ids)


def test_the_manifest_summarizes_the_added_ids_without_listing_them() -> None:
    ids = [f"d{n}" for n in range(50)]
    documents, annotations = _Counted(ids), _Counted(ids)
    changes = manifest_changes(DocumentChanges(documents), AnnotationChanges(annotations))
    assert changes["documents"]["added"] == changes["annotations"]["added"] == id_summary(ids)
    assert documents.reads == annotations.reads == 1  # before: listed whole, then summarized
