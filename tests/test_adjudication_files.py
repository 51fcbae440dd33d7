"""annotate adjudicate merges a batch of documents at a time, its output byte for byte the
whole merge's: items numbered in the order the sets first name them, references and
relation ends naming another batch's items renamed through the ids kept on disk."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
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

from .helpers import REPO, one_error_line, release_with_test_claims, run_cli

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

    def spy(self: Any, rows: Any, outside: bool, *completed: Any) -> set[str]:
        sizes.append(len({record.doc_id for found in rows for _, _, record in found}))
        return merge(self, rows, outside, *completed)

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


_WRAPPED = """
import os, resource, sys, time
from pathlib import Path
from claimwire.eval import adjudication_files
adjudication_files.CACHE_KIB = 1  # the temporary database spills to its file at once
marker = os.environ.get("PAUSE_AT")
if marker:  # stop once the files are being written, and say so
    write = adjudication_files._write_relations
    def paused(*args):
        write(*args)
        Path(marker).touch()
        time.sleep(120)
    adjudication_files._write_relations = paused
if os.environ.get("FILE_LIMIT"):  # a temporary disk that fills up
    limit = int(os.environ["FILE_LIMIT"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv[0] = "claimwire"
from claimwire.cli import main
main()
"""


def _wrapped(*args: str | Path) -> list[str]:
    return [sys.executable, "-c", _WRAPPED, "annotate", "adjudicate", *map(str, args)]


def _environment(tmp_path: Path, **more: str) -> dict[str, str]:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    return {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(temporary), **more}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_terminated_merge_leaves_nothing(release: Path, tmp_path: Path, stop: int) -> None:
    """A real SIGTERM while the files are written: exit 143, no output, no temporary file
    (the database on disk included); SIGKILL, which nothing can handle: no temporary file."""
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    marker = tmp_path / "writing"
    env = _environment(tmp_path, PAUSE_AT=str(marker))
    args = _wrapped(*paths, "--release", release, "--out", tmp_path / "out")
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while not marker.exists() and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        assert any((tmp_path / "out").iterdir())  # the files were begun
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert os.listdir(tmp_path / "tmp") == []
    if stop == signal.SIGTERM:
        assert process.returncode == 128 + signal.SIGTERM, stderr
        assert not (tmp_path / "out").exists()


def test_a_full_temporary_disk_is_one_error_line(release: Path, tmp_path: Path) -> None:
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    env = _environment(tmp_path, FILE_LIMIT="4096")
    args = _wrapped(*paths, "--release", release, "--out", tmp_path / "a" / "out")
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"temporary database in {tmp_path / 'tmp'} (" in result.stderr
    assert "set TMPDIR to a folder on a larger disk" in result.stderr
    assert not (tmp_path / "a").exists() and os.listdir(tmp_path / "tmp") == []


def test_a_refused_merge_removes_the_folders_it_made(release: Path, tmp_path: Path) -> None:
    """Only the folders it made go; one that was there (with a file in it) stays."""
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    for path in paths:
        _write(path, [{**r, "doc_id": "elsewhere"} if "-numero-3-" in r["doc_id"] else r
                      for r in map(json.loads, path.read_text().splitlines())])  # fmt: skip
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "note.txt").write_text("mine", "utf-8")
    out = tmp_path / "x" / "y" / "z"
    conflicts = tmp_path / "kept" / "c" / "sub" / "c.jsonl"
    result = run_cli("annotate", "adjudicate", *paths, "--release", release, "--out", out,
                     "--conflicts", conflicts)  # fmt: skip
    assert result.returncode == 1 and "not a document of" in result.stderr, result.stderr
    assert not (tmp_path / "x").exists()
    assert os.listdir(tmp_path / "kept") == ["note.txt"]


def test_the_conflicts_do_not_depend_on_the_hash_seed(release: Path, tmp_path: Path) -> None:
    """A STANCE whose holder and target are both dropped: its two conflicts in one order."""
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    found = set()
    for seed in ("1", "2", "3", "4"):
        out = tmp_path / f"seed-{seed}"
        result = run_cli("annotate", "adjudicate", *paths, "--release", release, "--out", out,
                         env={"PYTHONHASHSEED": seed})  # fmt: skip
        assert result.returncode == 0, result.stderr
        found.add((out / "conflicts.jsonl").read_bytes())
    assert len(found) == 1


def test_an_empty_set_is_refused_without_a_missing_option(release: Path, tmp_path: Path) -> None:
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    _write(paths[1], [])
    result = run_cli(
        "annotate", "adjudicate", *paths, "--release", release, "--out", tmp_path / "out"
    )
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "bob.jsonl: no annotation or relation records" in result.stderr
    assert "--allow-empty" not in result.stderr and "leave this one out" in result.stderr


def test_a_repeated_relation_id_is_merged_as_before(release: Path, tmp_path: Path) -> None:
    """Relations are renumbered and nothing names them: a repeated relation id changes
    nothing in the merge."""
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    run_cli("annotate", "adjudicate", *paths, "--release", release, "--out", tmp_path / "unique")
    records = [json.loads(line) for line in paths[1].read_text().splitlines()]
    relations = [n for n, r in enumerate(records) if "head" in r]
    records[relations[1]]["id"] = records[relations[0]]["id"]
    _write(paths[1], records)
    result = run_cli(
        "annotate", "adjudicate", *paths, "--release", release, "--out", tmp_path / "out"
    )
    assert result.returncode == 0, result.stderr
    for name in adjudication_names():
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "unique" / name).read_bytes()


def test_a_repeated_annotation_line_is_refused_saying_why(release: Path, tmp_path: Path) -> None:
    paths = _sets(release, tmp_path / "sets", 2, "documents")
    records = [json.loads(line) for line in paths[1].read_text().splitlines()]
    _write(paths[1], [records[0], *records])
    result = run_cli(
        "annotate", "adjudicate", *paths, "--release", release, "--out", tmp_path / "out"
    )
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "bob.jsonl:2: annotation id" in result.stderr
    assert "one record per annotation id" in result.stderr and "ambiguous" not in result.stderr


# ---- the overlap design: each document voted on by the sets that annotated it -----------------


def _overlap_sets(release: Path, folder: Path, cut: bool) -> tuple[list[Path], list[list[str]]]:
    """alice and bob on the first half of the documents, then alice alone on a quarter and
    bob alone on the last (``cut``: the shared documents only); a relation stays in its group
    of documents. Returns the paths and the three groups."""
    docs = [d.id for d in open_release(release).documents()]
    half, three = len(docs) // 2, 3 * len(docs) // 4
    groups = [docs[:half], docs[half:three], docs[three:]]
    group_of = {doc: n for n, group in enumerate(groups) for doc in group}
    folder.mkdir()
    paths = []
    for who, (name, own) in enumerate([("alice", 1), ("bob", 2)]):
        kept = {0} if cut else {0, own}
        records = [
            r
            for r in _annotator(docs, who)
            if group_of[r["doc_id"]] in kept
            and all(group_of[r[end].rsplit(":", 1)[0]] == group_of[r["doc_id"]]
                    for end in ("head", "tail") if end in r)
        ]  # fmt: skip
        paths.append(_write(folder / f"{name}.jsonl", records))
    return paths, groups


def _canonical(merged: Any) -> tuple[list[str], list[str], list[str]]:
    """The merged annotations, relations and conflicts, each merged id as its item's key."""
    key = {a.id: f"{a.doc_id}/{a.label}/{a.start}/{a.end}" for a in merged.annotations}

    def named(value: Any) -> Any:
        return [named(v) for v in value] if isinstance(value, list) else key.get(value, value)

    def attributes(record: Any) -> str:
        return json.dumps({k: named(v) for k, v in record.attributes.items()}, sort_keys=True)

    annotations = [f"{key[a.id]} {attributes(a)}" for a in merged.annotations]
    relations = [f"{r.type} {key[r.head]} {key[r.tail]} {attributes(r)}" for r in merged.relations]
    conflicts = [
        json.dumps([*named(c["key"]), c["reason"], c["versions"]]) for c in merged.conflicts
    ]
    return sorted(annotations), sorted(relations), sorted(conflicts)


def _on(documents: list[str], found: list[str]) -> list[str]:
    return [line for line in found if any(doc in line for doc in documents)]


@pytest.mark.parametrize("policy", ["majority", "prefer:bob"])
def test_each_document_is_voted_on_by_the_sets_that_annotated_it(
    release: Path, tmp_path: Path, policy: str
) -> None:
    """On the shared documents the merge is the merge of the sets cut to them; a document one
    set annotated alone is taken as that set's, counted (before: each of its items was "only a
    minority of sets has it", or with prefer:bob alice's documents lost)."""
    references = reference_attributes(schema_of(release))
    paths, (shared, only_alice, only_bob) = _overlap_sets(release, tmp_path / "overlap", False)
    cut, _ = _overlap_sets(release, tmp_path / "cut", True)
    merged = adjudicate(
        [load_annotation_set(p, p.stem) for p in paths], policy, references=references
    )
    alone = adjudicate([load_annotation_set(p, p.stem) for p in cut], policy, references=references)
    found, expected = _canonical(merged), _canonical(alone)
    assert expected[0] and expected[1] and expected[2]  # votes that differ on shared documents
    for kind in range(3):
        assert _on(shared, found[kind]) == expected[kind]
    for name, documents, path in (("alice", only_alice, paths[0]), ("bob", only_bob, paths[1])):
        twice = [load_annotation_set(path, name), load_annotation_set(path, "again")]
        own = _canonical(adjudicate(twice, references=references))  # unanimous: all kept
        assert _on(documents, found[0]) == _on(documents, own[0]) != []
        assert _on(documents, found[1]) == _on(documents, own[1]) != []
        assert _on(documents, found[2]) == _on(documents, own[2])  # references' only
        assert not any("minority" in line for line in _on(documents, found[2]))
        assert merged.alone[name] == len(documents)
    assert merged.single == sum(
        1 for a in merged.annotations if a.doc_id in {*only_alice, *only_bob}
    )


def test_the_batched_merge_of_an_overlap_design_is_the_whole_merge(
    release: Path, tmp_path: Path
) -> None:
    paths, (_, only_alice, only_bob) = _overlap_sets(release, tmp_path / "overlap", False)
    _whole(release, paths, "majority", tmp_path / "whole")
    for batch in (1, 7):
        out = tmp_path / f"batched-{batch}"
        _batched(release, paths, "majority", out, batch)
        for name in adjudication_names():
            assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    result = run_cli(
        "annotate", "adjudicate", *paths, "--release", release, "--out", tmp_path / "cli"
    )
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stdout.split())
    assert (
        "documents one set annotated alone were taken as that set's: "
        f"alice {len(only_alice)}, bob {len(only_bob)}"
    ) in said


def test_a_document_two_of_three_sets_annotated_is_voted_on_by_those_two(
    release: Path, tmp_path: Path
) -> None:
    """carol annotated the first half of the documents only: on the second half alice and
    bob vote as two sets would (an item needs both), on the first all three vote."""
    references = reference_attributes(schema_of(release))
    docs = [d.id for d in open_release(release).documents()]
    first = set(docs[: len(docs) // 2])
    folder = tmp_path / "sets"
    folder.mkdir()

    def named(who: int, name: str, documents: set[str]) -> Any:
        records = [
            r
            for r in _annotator(docs, who)
            if r["doc_id"] in documents
            and all(  # a relation stays in its half
                (r[end].rsplit(":", 1)[0] in first) == (r["doc_id"] in first)
                for end in ("head", "tail")
                if end in r
            )
        ]
        return load_annotation_set(_write(folder / f"{name}-{len(documents)}.jsonl", records), name)

    everyone = set(docs)
    merged = _canonical(
        adjudicate(
            [named(0, "alice", everyone), named(1, "bob", everyone), named(2, "carol", first)],
            references=references,
        )
    )
    three = _canonical(
        adjudicate(
            [named(0, "alice", first), named(1, "bob", first), named(2, "carol", first)],
            references=references,
        )
    )
    rest = everyone - first
    two = _canonical(
        adjudicate([named(0, "alice", rest), named(1, "bob", rest)], references=references)
    )
    assert any("minority" in line for line in two[2])
    for kind in range(3):
        assert _on(sorted(first), merged[kind]) == three[kind]
        assert _on(sorted(rest), merged[kind]) == two[kind]


def test_a_document_a_set_completed_without_records_makes_it_a_voter(
    release: Path, tmp_path: Path
) -> None:
    """bob's list of completed documents names one of alice's own documents (he saw it and
    found nothing): its items are voted on by both, so each is "1 of 2" and goes to the
    conflicts instead of being taken as alice's; batched and whole merges agree."""
    from dataclasses import replace

    from claimwire.eval.completed import write_completed

    paths, (_, only_alice, only_bob) = _overlap_sets(release, tmp_path / "overlap", False)
    seen = only_alice[0]
    write_completed(paths[1], [seen])
    references = reference_attributes(schema_of(release))
    sets = [load_annotation_set(p, p.stem) for p in paths]
    sets[1] = replace(sets[1], completed=frozenset({seen}))
    merged = adjudicate(sets, references=references)
    assert not any(a.doc_id == seen for a in merged.annotations)
    minority = [c for c in merged.conflicts if c["key"][0] == seen and "minority" in c["reason"]]
    assert minority and all(c["versions"]["bob"] is None for c in minority)
    assert merged.alone == {"alice": len(only_alice) - 1, "bob": len(only_bob)}
    out = tmp_path / "batched"
    outcome = adjudicate_files(
        paths, release, schema_of(release), out, out / "conflicts.jsonl", batch=7
    )
    assert outcome.alone == merged.alone
    assert (outcome.annotations, outcome.conflicts) == (
        len(merged.annotations),
        len(list(merged.conflicts)),
    )
