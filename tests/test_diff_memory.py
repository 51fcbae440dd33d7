"""``corpus diff`` holds what changed, not both releases: no hash of every annotation id, no
``{input: document}`` index of either side."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from claimwire.corpus import changes, diff, release
from claimwire.corpus.changes import DocumentKey, compare_document_streams, compare_documents
from claimwire.corpus.pairing import ParentDocuments, candidate_keys, id_key


def _keys(rng: random.Random, count: int, prefix: str) -> list[tuple[str, DocumentKey]]:
    """Inputs drawn from a small pool (some named twice), texts from two."""
    return [
        (f"src-{rng.randrange(count)}", DocumentKey(f"{prefix}{k}", f"sha{rng.randrange(2)}"))
        for k in range(count)
    ]


@pytest.mark.parametrize("seed", range(8))
def test_streamed_document_comparison_is_the_dict_comparison(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Sorted on disk a few at a time and walked side by side, the comparison gives what two
    ``{input: key}`` dicts give: the same lists in the same order (an input named twice keeps
    its first place and its last key)."""
    monkeypatch.setattr(changes, "SORTED_AT_ONCE", 7)
    rng = random.Random(seed)
    old, new = _keys(rng, rng.randrange(60), "o"), _keys(rng, rng.randrange(60), "n")
    streamed = compare_document_streams(iter(old), (((key,), doc) for key, doc in new))
    assert streamed.to_dict() == compare_documents(dict(old), dict(new)).to_dict()


@pytest.mark.parametrize("seed", range(8))
def test_the_diff_pairs_documents_as_the_build_does(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Ids on either side or neither, inputs moved: the streamed comparison (sorted on disk
    a few at a time) gives what the build's look-ups (``ParentDocuments.pair``) give: a new
    document with an id is paired with the parent's document of its input when that one has
    none (a parent built before ids were kept)."""
    monkeypatch.setattr(changes, "SORTED_AT_ONCE", 7)
    rng = random.Random(seed)

    def drawn(count: int, prefix: str) -> list[tuple[str | None, str, DocumentKey]]:
        inputs = rng.sample(range(80), count)
        ids = rng.sample(range(80), count)
        return [
            (
                f"id{i}" if rng.random() < 0.5 else None,
                f"src-{s}",
                DocumentKey(f"{prefix}{k}", f"h{rng.randrange(2)}"),
            )
            for k, (s, i) in enumerate(zip(inputs, ids, strict=True))
        ]

    olds, news = drawn(rng.randrange(60), "o"), drawn(rng.randrange(60), "n")
    parent = ParentDocuments([])
    parent.keys = {id_key(i) if i else src: key for i, src, key in olds}
    index = {}
    for source_id, source, key in news:
        name, _ = parent.pair(source_id, source)
        index[name] = key
    built = compare_documents(parent.keys, index)
    streamed = compare_document_streams(
        parent.keys.items(), ((candidate_keys(i, src), key) for i, src, key in news)
    )
    assert streamed.to_dict() == built.to_dict()


def test_diff_releases_does_not_index_either_sides_documents(
    seed_releases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The releases' documents are compared as streams: the ``{input: key}`` dicts are never
    built (before: one of each release's documents, hundreds of bytes each)."""

    def refused(*args: Any) -> Any:
        raise AssertionError("a whole release's documents indexed")

    monkeypatch.setattr(release, "compare_documents", refused)
    monkeypatch.setattr(release, "ParentDocuments", refused)
    old = release.open_release(seed_releases / "0.1.0")
    documents, _ = release.diff_releases(old, old)
    assert documents.unchanged == sum(1 for _ in old.documents())
    assert (list(documents.added), documents.removed, documents.changed) == ([], [], [])


def _annotation(k: int, doc: str) -> dict[str, Any]:
    return {
        "id": f"a{k}",
        "doc_id": doc,
        "layer": "claims",
        "label": "CLAIM",
        "start": k,
        "end": k + 1,
    }


def test_annotation_comparison_holds_hashes_of_the_moved_ids_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What is held is the hashes of ids each side's batch left unmatched on both sides: the
    moved ones (before: 8 bytes an annotation a side; an index keeps no id's hash at all)."""
    moved: list[Any] = []
    found = diff._Deferred.moved

    def spy_moved(self: diff._Deferred) -> Any:
        moved.append(found(self))
        return moved[-1]

    monkeypatch.setattr(diff._Deferred, "moved", spy_moved)
    monkeypatch.setattr(diff, "BATCH_DOCUMENTS", 3)
    old = [_annotation(k, f"d{k % 20}") for k in range(200)]
    new = [*old[:150], *(_annotation(k, "d0") for k in range(150, 152)), *old[152:]]
    files = []
    for name, records in (("old", old), ("new", new)):
        files.append(tmp_path / f"{name}.jsonl")
        files[-1].write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    report = diff.compare_files(files[:1], files[1:], [], [])
    assert [len(side) for side in moved[0]] == [2, 2]  # a150 and a151 moved to d0
    assert (report.kept, list(report.added), report.removed) == (200, [], [])


@pytest.mark.parametrize("mirror", [False, True])
def test_an_id_the_other_side_has_in_another_batch_is_not_a_rename(
    tmp_path: Path, mirror: bool
) -> None:
    """An id two documents share on one side: matched on its first document in one batch,
    its record on a document of a later batch is left out as a repeat (listed in
    ``duplicates``), not taken as the rename of the other side's record there (before: only
    the ids the other side left unmatched counted)."""
    filler = [{**_annotation(k, f"d{k:04}"), "id": f"f{k}"} for k in range(300)]
    a = {**_annotation(0, "d0001"), "start": 0, "end": 5}
    b = {**_annotation(0, "d0290"), "start": 10, "end": 15}
    old = [*filler, {**a, "id": "X"}, {**b, "id": "X"}]
    new = [*filler, {**a, "id": "X"}, {**b, "id": "Y"}]
    if mirror:  # the shared id on the new side
        old, new = [*filler, {**a, "id": "X"}, {**b, "id": "Z"}], old
    files = []
    for name, records in (("old", old), ("new", new)):
        files.append(tmp_path / f"{name}.jsonl")
        files[-1].write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    report = diff.compare_files(files[:1], files[1:], [], [])
    added, removed = ([], ["Z"]) if mirror else (["Y"], [])
    assert (list(report.added), report.removed, report.renamed) == (added, removed, [])
    assert report.kept == 301
    repeated = report.duplicates["new" if mirror else "old"]
    assert [(r.file, r.line, r.id, r.doc_id) for r in repeated] == [
        (f"{'new' if mirror else 'old'}.jsonl", 302, "X", "d0290")
    ]


@pytest.mark.parametrize("seed", range(4))
def test_relation_ids_are_compared_sorted_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Relations added (how many) and removed (their ids, sorted) come from both sides' ids
    sorted a few at a time on disk, as the two sets of ids give them (an id twice on a side
    counts once)."""
    from claimwire.model import Relation, write_records

    monkeypatch.setattr(diff, "SORTED_AT_ONCE", 3)
    rng = random.Random(seed)
    sides = [[f"r{rng.randrange(40)}" for _ in range(rng.randrange(30))] for _ in range(2)]
    files = []
    for name, ids in zip(("old", "new"), sides, strict=True):
        files.append([tmp_path / f"{name}-0.jsonl", tmp_path / f"{name}-1.jsonl"])
        records = [Relation(i, "d0", "t", "a", "b") for i in ids]
        write_records(files[-1][0], records[: len(records) // 2])
        write_records(files[-1][1], records[len(records) // 2 :])
    report = diff.compare_files([], [], *files)
    old, new = set(sides[0]), set(sides[1])
    assert report.relations_added == len(new - old)
    assert report.relations_removed == sorted(old - new)
