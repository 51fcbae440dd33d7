"""``corpus diff`` holds what changed, not both releases: no hash of every annotation id, no
``{input: document}`` index of either side."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from claimwire.corpus import changes, diff, release
from claimwire.corpus.changes import DocumentKey, compare_document_streams
from claimwire.corpus.pairing import ParentDocuments, new_keys


@pytest.mark.parametrize("seed", range(12))
def test_the_diff_pairs_documents_as_the_build_does(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Texts (so own ids) kept, edited or moved, users' ids on either side or neither,
    inputs moved, an input two parent documents have: the streamed comparison (sorted on disk
    a few at a time) gives what the build's look-ups (``ParentDocuments.pair``, in the build's
    order) give: the same lists in the same order, each document once."""
    monkeypatch.setattr(changes, "SORTED_AT_ONCE", 7)
    rng = random.Random(seed)
    texts = [f"h{k}" for k in range(rng.randrange(1, 90))]

    def drawn(count: int, inputs: list[int]) -> list[tuple[tuple[str, ...], DocumentKey]]:
        ids = rng.sample(range(80), count)
        shown = rng.sample(texts, min(count, len(texts)))
        return [
            (
                new_keys(text, f"id{i}" if rng.random() < 0.5 else None, f"src-{s}.jsonl#L1"),
                DocumentKey(text, text, rng.choice(["train", "dev", "test"])),
            )
            for text, s, i in zip(shown, inputs, ids, strict=False)
        ]

    count = rng.randrange(60)
    old = [
        ((keys[0], keys[-1] if rng.random() < 0.7 else keys[1]), key)
        for keys, key in drawn(count, [rng.randrange(40) for _ in range(count)])
    ]  # some by the user's id, some by input (drawn with repeats: one input, two documents)
    count = rng.randrange(60)
    new = drawn(count, rng.sample(range(80), count))
    parent = ParentDocuments(old)
    for at, (keys, key) in enumerate(new):
        parent.pair(at, keys, key)
    built = parent.changes()
    streamed = compare_document_streams(old, new)
    assert streamed.to_dict() == built.to_dict()
    seen = [*built.added, *built.removed, *(d for pair in built.changed for d in pair)]
    assert len(seen) == len(set(seen))  # each document once: no id added and removed
    assert len(built.added) + len(built.changed) + built.unchanged == len(new)
    assert len(built.removed) + len(built.changed) + built.unchanged == len(old)


def test_diff_releases_does_not_index_either_sides_documents(
    seed_releases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The releases' documents are compared as streams: the ``{input: key}`` dicts are never
    built (before: one of each release's documents, hundreds of bytes each)."""

    def refused(*args: Any) -> Any:
        raise AssertionError("a whole release's documents indexed")

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
