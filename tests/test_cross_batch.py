"""Questions a batch asks about other batches' records (a relation whose ends are in another
document's batch): on a distributed engine's worker (:class:`ScoreBatches`), the files
stamped once a batch, the indexes kept for the next batches and closed when dropped; in
:meth:`RecordIndex.annotation_of`, a document asked about again read once."""

from __future__ import annotations

import gc
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claimwire import grouping
from claimwire.corpus.document_index import DocumentIndex
from claimwire.corpus.release import open_release
from claimwire.engine import LocalEngine
from claimwire.errors import ClaimwireError
from claimwire.eval import checker, evaluate
from claimwire.eval.batches import KEPT, KeptIndexes
from claimwire.eval.evaluate import Evaluation
from claimwire.grouping import Lines, RecordIndex, Row, read_lines
from claimwire.model import Document, write_records

from .helpers import release_with_test_claims


class InProcess(LocalEngine):
    """A distributed engine whose one worker is this process: each batch is read back from
    where its lines are and checked by :class:`ScoreBatches`, as on a Ray worker."""

    name = "in-process"
    distributed = True


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_with_test_claims(tmp_path_factory.mktemp("cross"), 24)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Batches of 4 documents; the indexes a test's worker kept are closed after it."""
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 4)
    yield
    KEPT.close()


def _far_relations(release: Path, path: Path, relations: int) -> list[str]:
    """A CUE on each document and ``relations`` relations, each with its ends on the document
    half the release away; the problems the whole check finds (two a relation)."""
    ids = [d.id for d in open_release(release).documents()]
    records: list[dict[str, Any]] = [
        {"id": f"c{k}", "doc_id": d, "layer": "attribution", "label": "CUE", "start": 0, "end": 4}
        for k, d in enumerate(ids)
    ]
    expected = []
    for r in range(relations):
        near, far = r % len(ids), (r + len(ids) // 2) % len(ids)
        ends = {"head": f"c{far}", "tail": f"c{far}", "attributes": {"quote_type": "direct"}}
        records.append({"id": f"r{r}", "doc_id": ids[near], "type": "attributed_to", **ends})
        for end in ("head", "tail"):
            expected.append(
                f"{path}:{len(records)}: field '{end}': annotation 'c{far}' is in document "
                f"{ids[far]!r}, the relation in {ids[near]!r}; a relation links annotations "
                "of its own document"
            )
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", "utf-8")
    return expected


def _problems(release: Path, path: Path) -> list[str]:
    """The problems of ``path`` checked on the in-process worker (every one listed)."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(evaluate, "raise_problems", _raise_every)
    monkeypatch.setattr(checker, "HELD_PROBLEMS", 10_000)  # a pass holds them all
    try:
        with pytest.raises(ClaimwireError) as error:
            Evaluation.open(release, "attribution", split="all", engine=InProcess()).check(path)
    finally:
        monkeypatch.undo()
    return str(error.value).splitlines()[1:]


def _raise_every(report: Any, path: Path, what: str, hint: str = "") -> None:
    if not report.ok:
        raise ClaimwireError("\n".join([what, *report.problems]))


def test_a_batch_stamps_its_files_once_whatever_it_asks(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten times the questions: the same number of looks at the files (was two ``stat`` of
    each file per question)."""
    looks: dict[Path, int] = {}
    stat = Path.stat

    def counted(self: Path, **kwargs: Any) -> os.stat_result:
        looks[self] = looks.get(self, 0) + 1
        return stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", counted)
    counts = []
    for relations in (24, 240):
        path = tmp_path / f"p{relations}.jsonl"
        expected = _far_relations(release, path, relations)
        looks.clear()
        assert sorted(_problems(release, path)) == sorted(expected)
        counts.append((looks[path.absolute()], looks[release.absolute() / "documents.jsonl"]))
    assert counts[0] == counts[1]


def test_indexes_a_worker_drops_are_closed(release: Path, tmp_path: Path) -> None:
    """Six systems checked on one worker: it keeps four indexes (the documents' and the last
    three systems'); those it drops are closed, not left to the collector."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for system in range(6):
            path = tmp_path / f"system{system}.jsonl"
            expected = _far_relations(release, path, 4 + system)
            assert sorted(_problems(release, path)) == sorted(expected)
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_kept_indexes_close_the_least_recently_used(tmp_path: Path) -> None:
    files = []
    for k in range(3):
        files.append(tmp_path / f"documents{k}.jsonl")
        write_records(files[-1], [Document(f"d{k}", "texte.", "fr", "train", (), ())])
    kept = KeptIndexes(2)

    def index(k: int) -> DocumentIndex:
        return kept.get(("documents", ((files[k], 0, 0),)), lambda: DocumentIndex([files[k]]))

    before = _open_descriptors()
    first, second = index(0), index(1)
    assert _open_descriptors() == before + 2
    assert index(0) is first  # kept, and now the most recently used
    third = index(2)
    assert _open_descriptors() == before + 2  # the second, least recently used, was closed
    assert first["d0"].id == "d0" and third["d2"].id == "d2"
    with pytest.raises(ValueError):
        second["d1"]
    kept.close()
    assert _open_descriptors() == before


def _documents_of_four(path: Path, documents: int) -> None:
    records = [
        {"id": f"a{d}-{k}", "doc_id": f"d{d}", "layer": "claims", "label": "CLAIM"}
        for d in range(documents)
        for k in range(4)
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", "utf-8")


def _documents_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents whose records the index reads back, a read at a time, as it goes."""
    reads: list[str] = []

    def counted(lines: Lines, *args: Any) -> list[Row]:
        rows = read_lines(lines, *args)
        reads.extend({row[2].doc_id for row in rows})
        return rows

    monkeypatch.setattr(grouping, "read_lines", counted)
    return reads


def test_a_document_asked_about_again_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of its four annotations asked for: its records are read once (were four times);
    three documents kept, the least recently asked for read again."""
    reads = _documents_read(monkeypatch)
    monkeypatch.setattr(grouping, "RECENT_DOCUMENTS", 3)
    path = tmp_path / "p.jsonl"
    _documents_of_four(path, 5)
    with RecordIndex([path]) as index:
        found = [index.annotation_of(f"a{d}-{k}") for d in (0, 1) for k in range(4)]
        assert [(a.doc_id, a.id) for a in found if a] == [
            (f"d{d}", f"a{d}-{k}") for d in (0, 1) for k in range(4)
        ]
        assert reads == ["d0", "d1"]
        assert [index.document_of(f"a{d}-0") for d in (2, 3, 4, 4, 3)] == [
            "d2", "d3", "d4", "d4", "d3"
        ]  # fmt: skip
        assert reads == ["d0", "d1", "d2", "d3", "d4"]
        assert index.document_of("a0-3") == "d0" and index.document_of("a9-0") is None
        assert reads[5:] == ["d0"]  # dropped for d4, the third after it


def test_the_kept_documents_hold_a_bounded_number_of_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded by the bytes of their lines, not by a count: a few big annotations (long text
    attributes) cannot hold gigabytes."""
    reads = _documents_read(monkeypatch)
    path = tmp_path / "p.jsonl"
    _documents_of_four(path, 2)
    first_document = sum(len(line) + 1 for line in path.read_bytes().splitlines()[:4])
    monkeypatch.setattr(grouping, "RECENT_BYTES", first_document + first_document // 2)
    with RecordIndex([path]) as index:
        assert [index.document_of(i) for i in ("a0-0", "a1-0", "a1-1", "a0-1")] == [
            "d0", "d1", "d1", "d0"
        ]  # fmt: skip
        assert reads == ["d0", "d1", "d0"]  # two documents' lines pass the bound: d0 dropped
