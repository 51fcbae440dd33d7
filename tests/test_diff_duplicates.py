"""``corpus diff`` with an annotation id repeated on a side: the repeat (after the first in
file order) is left out of the comparison and listed, whatever the batches of documents."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from claimwire.corpus import diff
from claimwire.corpus.changes import Repeated
from claimwire.corpus.release import Sharding, build_release, open_release
from claimwire.corpus.validate import validate_release
from claimwire.model import Annotation, Quote

from .helpers import run_cli

BATCHES = [1, 2, 1000]


def _record(ann_id: str, doc: str, start: int, x: int = 0) -> dict[str, Any]:
    return {"id": ann_id, "doc_id": doc, "layer": "claims", "label": "CLAIM",
            "start": start, "end": start + 3, "attributes": {"x": x}}  # fmt: skip


def _files(tmp_path: Path, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[Path]:
    files = []
    for name, records in (("old", old), ("new", new)):
        files.append(tmp_path / f"{name}.jsonl")
        files[-1].write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return files


def _compared(files: list[Path], batch: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(diff, "BATCH_DOCUMENTS", batch)
    return diff.compare_files(files[:1], files[1:], [], []).to_dict()


@pytest.mark.parametrize("batch", BATCHES)
def test_a_repeated_id_in_a_document_only_the_new_side_has_is_not_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """The case that was told "added" (its document is only on the new side, so never in
    the batch of the old record with that id): now left out and listed, not counted."""
    old = [_record("a0", "d0", 0), _record("b", "d0", 5)]
    files = _files(tmp_path, old, [*old, _record("a0", "d1", 0)])
    found = _compared(files, batch, monkeypatch)
    assert (found["added"], found["removed"], found["kept"]) == ([], [], 2)
    assert found["duplicates"] == {
        "old": [],
        "new": [{"file": "new.jsonl", "line": 3, "id": "a0", "doc_id": "d1"}],
    }


def _side(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Ids drawn with replacement (some twice), on a few documents, some spans alike."""
    return [
        _record(
            f"a{rng.randrange(count)}", f"d{rng.randrange(7)}", rng.randrange(4), rng.randrange(2)
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("seed", range(40))
def test_the_changes_do_not_depend_on_the_batches_and_leave_the_repeats_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """In batches of 1, 2 or every document the same report; and it is the report of the
    sides with each repeat removed, plus the list of the repeats."""
    rng = random.Random(seed)
    old, new = _side(rng, rng.randrange(1, 25)), _side(rng, rng.randrange(1, 25))
    files = _files(tmp_path, old, new)
    found = [_compared(files, batch, monkeypatch) for batch in BATCHES]
    assert found[0] == found[1] == found[2]

    def first_only(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        return [r for r in records if not (r["id"] in seen or seen.add(r["id"]))]

    (tmp_path / "unique").mkdir()
    unique = _files(tmp_path / "unique", first_only(old), first_only(new))
    alone = _compared(unique, 1000, monkeypatch)
    repeats = found[0].pop("duplicates", {"old": [], "new": []})
    assert found[0] == alone
    for side, records, name in (("old", old, "old.jsonl"), ("new", new, "new.jsonl")):
        seen: set[str] = set()
        expected = []
        for line, record in enumerate(records, 1):
            if record["id"] in seen:
                expected.append(Repeated(name, line, record["id"], record["doc_id"]).to_dict())
            seen.add(record["id"])
        assert repeats[side] == expected


def _release_pair(root: Path, sharding: Sharding | None = None) -> Path:
    """Releases 0.1.0 (a0 and b on one document) and 0.2.0 (the same, and a0 again on a
    document 0.1.0 has no annotation on), built without validation."""
    raw = root / "raw"
    raw.mkdir()
    for i in range(2):
        (raw / f"doc{i}.txt").write_text(f"Communiqué {i}.\n\nLes ventes ont crû de {i} %.\n")

    def gold(repeated: bool) -> Any:
        def annotations(docs: list[Any]) -> list[Annotation]:
            first, second = sorted(docs, key=lambda d: d.id)
            attributes = {"claim_type": "quantity", "checkworthy": True}

            def claim(ann_id: str, doc: Any, start: int) -> Annotation:
                quote = Quote.from_text(doc.text, start, start + 5)
                return Annotation(ann_id, doc.id, "claims", "CLAIM", start, start + 5, quote,
                                  attributes)  # fmt: skip

            made = [claim("a0", first, 0), claim("b", first, 10)]
            return [*made, claim("a0", second, 0)] if repeated else made

        return annotations

    build_release(raw, root / "releases", "0.1.0", gold=gold(False), sharding=sharding)
    build_release(raw, root / "releases", "0.2.0", gold=gold(True), sharding=sharding)
    return root / "releases"


def test_corpus_diff_lists_the_repeats_in_its_table_and_json(tmp_path: Path) -> None:
    releases = _release_pair(tmp_path)
    result = run_cli("corpus", "diff", releases / "0.1.0", releases / "0.2.0", "--json")
    assert result.returncode == 0, result.stderr
    annotations = json.loads(result.stdout)["annotations"]
    assert (annotations["added"], annotations["kept"]) == ([], 2)
    [repeat] = annotations["duplicates"]["new"]
    assert (repeat["file"], repeat["line"], repeat["id"]) == ("annotations.jsonl", 3, "a0")
    assert annotations["duplicates"]["old"] == []
    table = run_cli("corpus", "diff", releases / "0.1.0", releases / "0.2.0")
    assert table.returncode == 0, table.stderr
    lines = {" ".join(line.strip("│ ").split()) for line in table.stdout.splitlines()}
    assert "annotations added │ 0" in lines and "annotations kept │ 2" in lines
    assert "annotations left out, id repeated (new side) │ 1" in lines
    note = " ".join(table.stdout.split())
    assert "note: the new side repeats annotation ids, each left out after its first" in note
    assert "annotations.jsonl:3 'a0'" in note
    clean = run_cli("corpus", "diff", releases / "0.1.0", releases / "0.1.0", "--json")
    assert "duplicates" not in json.loads(clean.stdout)["annotations"]


def test_a_repeat_in_a_sharded_release_is_where_validate_says(tmp_path: Path) -> None:
    """diff locates a repeat as ``corpus validate`` does: the shard and its own line."""
    releases = _release_pair(tmp_path, Sharding(records=2))
    new = releases / "0.2.0"
    assert open_release(new).parts("annotations.jsonl") == [
        "annotations-00000.jsonl",
        "annotations-00001.jsonl",
    ]
    [problem] = [p for p in validate_release(new) if p.code == "duplicate-id"]
    assert (problem.file, problem.line, problem.ann) == ("annotations-00001.jsonl", 1, "a0")
    result = run_cli("corpus", "diff", releases / "0.1.0", new, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["annotations"]["duplicates"]["new"] == [
        {"file": "annotations-00001.jsonl", "line": 1, "id": "a0", "doc_id": problem.doc}
    ]
    table = run_cli("corpus", "diff", releases / "0.1.0", new)
    note = " ".join(table.stdout.split())
    assert "annotations-00001.jsonl:1 'a0'" in note


def test_a_manifest_summarizes_the_repeats(tmp_path: Path) -> None:
    """A release built with repeated ids (without validation) records how many and the first
    few in its manifest's changes, not every one: a manifest does not grow with them."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "doc.txt").write_text("Communiqué.\n\nLes ventes ont crû de 5 %.\n")

    def gold(docs: list[Any]) -> list[Annotation]:
        [doc] = docs
        quote = Quote.from_text(doc.text, 0, 5)
        return [Annotation("a0", doc.id, "claims", "CLAIM", 0, 5, quote, {}) for _ in range(30)]

    build_release(raw, tmp_path / "releases", "0.1.0", gold=gold)
    manifest = json.loads((tmp_path / "releases" / "0.1.0" / "MANIFEST.json").read_text())
    repeats = manifest["changes"]["annotations"]["duplicates"]
    assert repeats["old"] == {"count": 0, "first": []}
    assert repeats["new"]["count"] == 29
    assert [r["line"] for r in repeats["new"]["first"]] == list(range(2, 22))
