"""annotate adjudicate merges a batch of documents at a time, its output byte for byte the
whole merge's: items numbered in the order the sets first name them, references and
relation ends naming another batch's items renamed through the ids kept on disk."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from claimwire.annotation.checks import schema_of
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval import adjudication_files
from claimwire.eval.adjudication import adjudicate, reference_attributes
from claimwire.eval.adjudication_files import adjudicate_files
from claimwire.eval.checker import load_annotation_set
from claimwire.grouping import RecordIndex
from claimwire.model import record_line

from .helpers import one_error_line, release_with_test_claims, run_cli

SOURCE = {"source_kind": "person", "source_role": "government_official", "named": True}
CLAIM_TYPES = ["quantity", "other", "prediction", "laws_rules"]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_with_test_claims(tmp_path_factory.mktemp("adjudicate"), 24)


def _span(
    doc: str, name: str, label: str, start: int, attributes: dict[str, Any]
) -> dict[str, Any]:
    layer = {"CLAIM": "claims", "STANCE": "stance"}.get(label, "attribution")
    return {
        "id": f"{doc}:{name}",
        "doc_id": doc,
        "layer": layer,
        "label": label,
        "start": start,
        "end": start + 5,
        "quote": None,
        "attributes": attributes,
        "author": "annotator",
    }


def _relation(doc: str, name: str, head: str, tail: str, **attributes: Any) -> dict[str, Any]:
    return {"id": f"{doc}:{name}", "doc_id": doc, "type": "attributed_to", "head": head,
            "tail": tail, "attributes": attributes, "author": "annotator"}  # fmt: skip


def _annotator(docs: list[str], who: int) -> list[dict[str, Any]]:
    """One annotator's records, a document's together in the documents' order: annotators
    1 and 2 retype claims, name cues their own way, miss sources, add claims; relations
    cite cues, and link a claim to the next document's source (another batch's)."""
    records: list[dict[str, Any]] = []
    pick = random.Random(who)
    for i, doc in enumerate(docs):
        claim_type = CLAIM_TYPES[0] if who == 0 or i % 3 else pick.choice(CLAIM_TYPES)
        cue = f"cue-{who}" if who and i % 2 == 0 else "cue"
        items = [
            _span(doc, "claim", "CLAIM", 10, {"claim_type": claim_type, "checkworthy": True}),
            _span(doc, cue, "CUE", 20, {}),
        ]
        if not (who and i % 5 == 0):
            items.append(_span(doc, "source", "SOURCE", 0, SOURCE))
        stance = {"holder": f"{doc}:source", "target": "BRI", "stance": "FAVOR"}
        items.append({**_span(doc, "stance", "STANCE", 0, stance), "start": None, "end": None})
        if who and i % 4 == 1:
            extra = {"claim_type": "other", "checkworthy": False}
            items.append(_span(doc, f"extra-{who}", "CLAIM", 30 + who, extra))
        records += items
        records.append(
            _relation(
                doc,
                "said",
                f"{doc}:claim",
                f"{doc}:source",
                cue=f"{doc}:{cue}",
                quote_type="indirect",
            )
        )
        if i + 1 < len(docs) and (who == 0 or i % 3 != 2):
            records.append(
                _relation(doc, "next", f"{doc}:claim", f"{docs[i + 1]}:source", quote_type="direct")
            )
    return records


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def _sets(release: Path, folder: Path, count: int, order: str) -> list[Path]:
    docs = [d.id for d in open_release(release).documents()]
    folder.mkdir(exist_ok=True)
    paths = []
    for who, name in enumerate(["alice", "bob", "carol"][:count]):
        records = _annotator(docs, who)
        if order == "reversed":
            records.reverse()
        elif order == "shuffled":
            random.Random(who).shuffle(records)
        paths.append(_write(folder / f"{name}.jsonl", records))
    return paths


def _whole(release: Path, paths: list[Path], policy: str, out: Path) -> None:
    """The whole merge of the sets held in memory, written as the command writes it."""
    sets = [load_annotation_set(p, p.stem) for p in paths]
    merged = adjudicate(sets, policy, references=reference_attributes(schema_of(release)))
    out.mkdir()
    (out / "annotations.jsonl").write_text("".join(map(record_line, merged.annotations)), "utf-8")
    (out / "relations.jsonl").write_text("".join(map(record_line, merged.relations)), "utf-8")
    lines = [json.dumps(c, ensure_ascii=False) + "\n" for c in merged.conflicts]
    (out / "conflicts.jsonl").write_text("".join(lines), "utf-8")


def _batched(release: Path, paths: list[Path], policy: str, out: Path, batch: int) -> None:
    schema = schema_of(release)
    adjudicate_files(paths, release, schema, out, out / "conflicts.jsonl", policy, batch=batch)


def _indexes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of each set's records read through an index (none: read in order)."""
    built: list[int] = []
    init = RecordIndex.__init__

    def spy(self: RecordIndex, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        built.append(self.count)

    monkeypatch.setattr(RecordIndex, "__init__", spy)
    return built


@pytest.mark.parametrize("order", ["documents", "reversed", "shuffled"])
@pytest.mark.parametrize("policy", ["majority", "majority of three", "prefer:bob"])
def test_the_batched_merge_is_the_whole_merge_byte_for_byte(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str, policy: str
) -> None:
    paths = _sets(release, tmp_path / "sets", 3 if policy.endswith("three") else 2, order)
    policy = policy.split()[0]
    _whole(release, paths, policy, tmp_path / "whole")
    expected = {n: (tmp_path / "whole" / n).read_bytes() for n in adjudication_names()}
    conflicts = [json.loads(line) for line in expected["conflicts.jsonl"].splitlines()]
    reasons = {c["reason"].split(" pointed")[0] for c in conflicts}
    if policy == "majority":
        assert {"only a minority of sets has it", "'holder'", "relation of a minority"} <= reasons
        assert any(r.startswith("no majority for 'claim_type'") for r in reasons)
    relations = [json.loads(line) for line in expected["relations.jsonl"].splitlines()]
    assert any(r["head"].split(":")[0] != r["tail"].split(":")[0] for r in relations)
    built = _indexes(monkeypatch)
    for batch in (1, 7, 10_000):
        out = tmp_path / f"batched-{batch}"
        _batched(release, paths, policy, out, batch)
        for name, content in expected.items():
            assert (out / name).read_bytes() == content, (batch, name)
    assert bool(built) == (order != "documents")  # in the documents' order: no index


def adjudication_names() -> list[str]:
    return ["annotations.jsonl", "relations.jsonl", "conflicts.jsonl"]


def test_a_set_is_never_held_whole(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch merges the records of its own documents only; the whole-set reader is
    never called."""
    paths = _sets(release, tmp_path / "sets", 2, "shuffled")
    sizes: list[int] = []
    merge = adjudication_files._Store.merge

    def spy(self: Any, rows: Any, outside: bool) -> None:
        sizes.append(len({record.doc_id for found in rows for _, _, record in found}))
        merge(self, rows, outside)

    def whole(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a set was read whole")

    monkeypatch.setattr(adjudication_files._Store, "merge", spy)
    monkeypatch.setattr("claimwire.eval.checker.load_annotation_set", whole)
    monkeypatch.setattr("claimwire.eval.checker.stream_records", whole)
    _batched(release, paths, "majority", tmp_path / "out", 5)
    assert len(sizes) == 5 and max(sizes) == 5  # 24 documents, 5 a batch


def _temporary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    return folder


def test_an_interrupted_merge_leaves_nothing(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the files are written: no output, no half-written file, no temporary
    file (the SQLite file's folder included)."""
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    temporary = _temporary(monkeypatch, tmp_path)
    write = adjudication_files._write_relations

    def interrupted(*args: Any) -> int:
        write(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(adjudication_files, "_write_relations", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _batched(release, paths, "majority", tmp_path / "out", 7)
    assert not (tmp_path / "out").exists()
    assert not list(temporary.iterdir())


def test_a_merge_that_does_not_validate_writes_nothing(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items on a document the release lacks: refused with the merged ids, nothing written
    (the sets are read through the index: the release's batches never name that document)."""
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    for path in paths:
        _write(path, [{**r, "doc_id": "elsewhere"} if "-numero-3-" in r["doc_id"] else r
                      for r in map(json.loads, path.read_text().splitlines())])  # fmt: skip
    temporary = _temporary(monkeypatch, tmp_path)
    (tmp_path / "out").mkdir()
    with pytest.raises(ClaimwireError, match="not a document of") as error:
        _batched(release, paths, "majority", tmp_path / "out", 7)
    assert "elsewhere:adj-" in str(error.value)
    assert not list((tmp_path / "out").iterdir()) and not list(temporary.iterdir())


def test_a_set_with_an_id_twice_is_refused_with_its_line(release: Path, tmp_path: Path) -> None:
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    records = [json.loads(line) for line in paths[1].read_text().splitlines()]
    records.append({**records[0], "start": 40})
    _write(paths[1], records)
    result = run_cli(
        "annotate", "adjudicate", *paths, "--release", release, "--out", tmp_path / "out"
    )
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"bob.jsonl:{len(records)}" in result.stderr and "used twice" in result.stderr
    assert not (tmp_path / "out").exists()
