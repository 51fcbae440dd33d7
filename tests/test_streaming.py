"""Streaming: records grouped by document without holding them, and ``eval score`` reading a
release a bounded batch of documents at a time with the scores of one pass over everything."""

from __future__ import annotations

import gc
import json
import random
import re
from collections import defaultdict
from pathlib import Path

import pytest
import zstandard

from claimwire.collection import YOUNG_THRESHOLD
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval import batches, evaluate
from claimwire.eval.checker import check_predictions, check_rows
from claimwire.eval.evaluate import Evaluation
from claimwire.grouping import RecordIndex
from claimwire.model import read_mixed

from .helpers import release_with_test_claims, run_cli


def _lines(documents: int, per_document: int) -> list[str]:
    lines = []
    for d in range(documents):
        for k in range(per_document):
            lines.append(
                json.dumps(
                    {"id": f"a{d}-{k}", "doc_id": f"d{d}", "layer": "claims", "label": "CLAIM"}
                )
            )
        lines.append(
            json.dumps(
                {"id": f"r{d}", "doc_id": f"d{d}", "type": "t", "head": f"a{d}-0", "tail": "x"}
            )
        )
    return lines


def _by_document(path: Path) -> dict[str, list[tuple[int, str]]]:
    grouped = defaultdict(list)
    for lineno, record in read_mixed(path):
        grouped[record.doc_id].append((lineno, record.id))
    return {k: sorted(v) for k, v in grouped.items()}


@pytest.mark.parametrize("shape", ["grouped", "shuffled", "zstd"])
def test_record_index_reads_back_each_documents_records(tmp_path: Path, shape: str) -> None:
    lines = _lines(40, 5)
    if shape != "grouped":
        random.Random(7).shuffle(lines)
    lines[3:3] = ["", "   "]  # blank lines keep their numbers
    text = "\n".join(lines) + "\n"
    path = tmp_path / "p.jsonl"
    path.write_text(text, encoding="utf-8")
    expected = _by_document(path)
    if shape == "zstd":
        path = tmp_path / "p.jsonl.zst"
        path.write_bytes(zstandard.ZstdCompressor().compress(text.encode()))
    with RecordIndex([path]) as index:
        assert index.count == 240 and not index.duplicates
        for batch in (["d3", "d0"], ["d7"], ["d12", "d30", "d39"]):
            got = defaultdict(list)
            for file, lineno, record in index.rows(batch):
                assert file == path
                got[record.doc_id].append((lineno, record.id))
            assert {k: sorted(v) for k, v in got.items()} == {d: expected[d] for d in batch}
        rest = {record.doc_id for rows in index.leftover(batch=7) for _, _, record in rows}
        assert rest == set(expected) - {"d3", "d0", "d7", "d12", "d30", "d39"}
        assert index.document_of("a5-2") == "d5" and index.document_of("r5") is None


def test_record_index_keeps_later_duplicates_apart(tmp_path: Path) -> None:
    lines = _lines(3, 2)
    lines.append(lines[0])  # a second a0-0, line 10
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with RecordIndex([path]) as index:
        [duplicate] = index.duplicates
        assert (duplicate.line, duplicate.kind, duplicate.id) == (10, "annotation", "a0-0")
        assert [r.id for _, _, r in index.rows(["d0"])].count("a0-0") == 1


def test_a_bad_line_is_still_located(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join([*_lines(2, 1), "{not json"]) + "\n", encoding="utf-8")
    with pytest.raises(Exception, match="not valid JSON") as error:
        RecordIndex([path])
    assert getattr(error.value, "line", None) == 5


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_with_test_claims(tmp_path_factory.mktemp("stream"), 24)


def _predictions(release: Path, tmp_path: Path) -> Path:
    """The gold claims, one shifted, plus a spurious one on each unannotated document."""
    records = [a.to_dict() for a in open_release(release).annotations()]
    claimed = {r["doc_id"] for r in records}
    records[0] = {**records[0], "start": records[0]["start"] + 4, "quote": None}
    for document in open_release(release).documents():
        if document.id not in claimed:
            records.append({**records[0], "id": f"x-{document.id}", "doc_id": document.id})
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in reversed(records)) + "\n", "utf-8")
    return path


def _checked_in_batches_of_five(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Evaluations score 5 documents a batch; the list gets each checked batch's size."""
    seen: list[int] = []

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(len(args[2]))
        return check_rows(*args, **kwargs)

    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 5)
    monkeypatch.setattr(batches, "check_rows", spy)
    return seen


def test_eval_score_checks_and_scores_a_bounded_batch_at_a_time(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictions = _predictions(release, tmp_path)
    whole = Evaluation.open(release, "claims", split="all", resamples=50, keep_matches=True)
    expected = whole.score(whole.check(predictions)).to_dict()
    seen = _checked_in_batches_of_five(monkeypatch)
    batched = Evaluation.open(release, "claims", split="all", resamples=50)
    report = batched.check(predictions)
    assert report.annotation_set is None  # past one batch, only counts are kept
    result = batched.score(report).to_dict()
    assert seen and max(seen) <= 5 and sum(seen) == 24  # every document once, 5 at most
    assert 0 < expected["schemes"]["strict"]["f1"] < 1
    assert result == expected  # the same scores to the last digit


def test_a_relation_to_another_batchs_document_names_it(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = list(open_release(release).documents())
    first, last = documents[0], documents[-1]
    records = [
        {
            "id": "h",
            "doc_id": first.id,
            "layer": "attribution",
            "label": "CUE",
            "start": 0,
            "end": 4,
        },
        {
            "id": "t",
            "doc_id": last.id,
            "layer": "attribution",
            "label": "CUE",
            "start": 0,
            "end": 4,
        },
        {"id": "r", "doc_id": first.id, "type": "attributed_to", "head": "h", "tail": "t"},
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", "utf-8")
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 1)
    with pytest.raises(Exception) as error:
        Evaluation.open(release, "attribution", split="all").check(path)
    assert f":3: field 'tail': annotation 't' is in document '{last.id}'" in str(error.value)


def _parquet_tables(folder: Path) -> dict[str, object]:
    import pyarrow.parquet as pq

    return {p.relative_to(folder).as_posix(): pq.read_table(p) for p in folder.rglob("*.parquet")}


def test_hub_export_writes_a_batch_of_documents_at_a_time(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from claimwire.hub import export, tables

    export.export_release(release, tmp_path / "whole")
    documents_per_call: list[int] = []
    arrow_table = export.arrow_table

    def spy(rows, *args, **kwargs):  # type: ignore[no-untyped-def]
        documents_per_call.append(len({r.get("doc_id", r.get("id")) for r in rows}))
        return arrow_table(rows, *args, **kwargs)

    monkeypatch.setattr(tables, "BATCH_DOCUMENTS", 5)
    monkeypatch.setattr(export, "arrow_table", spy)
    export.export_release(release, tmp_path / "batched")
    assert documents_per_call and max(documents_per_call) <= 5
    whole, batched = _parquet_tables(tmp_path / "whole"), _parquet_tables(tmp_path / "batched")
    assert whole.keys() == batched.keys() and len(whole) >= 3
    for name, table in whole.items():
        assert table.equals(batched[name]), name  # type: ignore[attr-defined]


def test_validate_checks_a_batch_of_documents_at_a_time(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from claimwire.corpus import validate
    from claimwire.corpus.validate import validate_release

    copy = tmp_path / "releases" / release.name
    shutil.copytree(release, copy)
    claims = [a for a in open_release(copy).annotations()]
    assert len(claims) >= 2 and claims[0].doc_id != claims[-1].doc_id
    relation = {
        "id": "r1",
        "doc_id": claims[0].doc_id,
        "type": "attributed_to",
        "head": claims[0].id,
        "tail": claims[-1].id,  # another document's, read in another batch
        "attributes": {"quote_type": "direct"},
    }
    (copy / "relations.jsonl").write_text(json.dumps(relation) + "\n", "utf-8")
    seen: list[int] = []

    def schema_check(annotations, relations):  # type: ignore[no-untyped-def]
        seen.append(len({a.doc_id for a in annotations}))
        return []

    monkeypatch.setattr(validate, "BATCH_DOCUMENTS", 5)
    problems = validate_release(copy, schema_check=schema_check)
    assert seen and max(seen) <= 5
    codes = {p.code for p in problems}
    assert "cross-document-relation" in codes, problems
    [crossing] = [p for p in problems if p.code == "cross-document-relation"]
    assert (crossing.file, crossing.line, crossing.ann) == ("relations.jsonl", 1, "r1")
    assert claims[-1].doc_id in crossing.message


def _surveys(release: Path, count: int) -> list[object]:
    from claimwire.model import Annotation

    doc = next(open_release(release).documents())
    return [
        Annotation(
            f"s{i}",
            doc.id,
            "statistics",
            "SURVEY",
            attributes={
                "name": f"sondage {i}",
                "sampling_type": "unknown",
                "self_selected": i % 3 == 0,
                "sponsor_is_interested_party": "unknown",
                "sponsor_is_publisher": False,
                "sample_size": "absent" if i % 2 else "not_applicable",
            },
        )
        for i in range(count)
    ]


def test_gold_summary_lists_twenty_surveys_and_tallies_the_rest(release: Path) -> None:
    from claimwire.annotation.schema import SUMMARY_SURVEYS, load_schema

    schema = load_schema()
    surveys = _surveys(release, 25)
    summary = schema.summarize(surveys, [])  # type: ignore[arg-type]
    every = schema.summarize(surveys, [], None)  # type: ignore[arg-type]
    assert summary["surveys"] == every["surveys"][:SUMMARY_SURVEYS]
    rest = every["surveys"][SUMMARY_SURVEYS:]

    def mean(key: str) -> float | None:
        values = [s["disclosure"][key] for s in rest if s["disclosure"][key] is not None]
        return sum(values) / len(values) if values else None

    assert summary["more_surveys"] == {
        "count": 5,
        "mean_core": mean("core"),
        "mean_full": mean("full"),
        "flags": {"self_selected": sum(1 for s in rest if "self_selected" in s["flags"])},
    }
    assert "more_surveys" not in schema.summarize(surveys[:20], [])  # type: ignore[arg-type]


def test_validate_recomputes_a_legacy_summary_listing_every_survey(
    release: Path, tmp_path: Path
) -> None:
    import shutil

    from claimwire.annotation.checks import validate
    from claimwire.annotation.schema import load_schema
    from claimwire.corpus.release import DIGEST, MANIFEST, manifest_digest
    from claimwire.model import write_records

    copy = tmp_path / "releases" / release.name
    shutil.copytree(release, copy)
    manifest = json.loads((copy / MANIFEST).read_text("utf-8"))
    schema = load_schema()
    records = [*open_release(copy).annotations(), *_surveys(copy, 25)]
    write_records(copy / "annotations.jsonl", records)  # type: ignore[arg-type]
    shutil.copyfile(
        Path(__file__).parent.parent / "src/claimwire/defaults/schema.yaml", copy / "schema.yaml"
    )

    def reseal(summary: dict) -> None:  # type: ignore[type-arg]
        from claimwire.files import sha256

        manifest["gold_summary"] = summary
        manifest["counts"]["annotations"] = len(records)
        for name in ("annotations.jsonl", "schema.yaml"):
            path = copy / name
            manifest["files"][name] = {
                **manifest["files"].get(name, {}),
                "sha256": sha256(path),
                "bytes": path.stat().st_size,
                **({"records": len(records)} if name == "annotations.jsonl" else {}),
            }
        manifest.pop(DIGEST, None)
        manifest[DIGEST] = manifest_digest(manifest)
        (copy / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")

    legacy = schema.summarize(records, [], None)  # type: ignore[arg-type]
    reseal(json.loads(json.dumps(legacy)))
    assert not [p for p in validate(copy) if p.code == "manifest-mismatch"]
    legacy["surveys"][-1]["name"] = "changed"
    reseal(json.loads(json.dumps(legacy)))
    assert [p for p in validate(copy) if p.code == "manifest-mismatch"]
    reseal(json.loads(json.dumps(schema.summarize(records, []))))  # type: ignore[arg-type]
    assert not [p for p in validate(copy) if p.code == "manifest-mismatch"]


def test_eval_score_checks_batches_with_fewer_collector_passes(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictions = _predictions(release, tmp_path)
    collector: list[int] = []
    default = gc.get_threshold()

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        collector.append(gc.get_threshold()[0])
        return check_rows(*args, **kwargs)

    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 5)
    monkeypatch.setattr(batches, "check_rows", spy)
    evaluation = Evaluation.open(release, "claims", split="all", resamples=50)
    evaluation.check(predictions)
    assert collector and set(collector) == {YOUNG_THRESHOLD}  # not every 700 allocations
    assert gc.get_threshold() == default  # and the thresholds are restored afterwards


GOLD_RELEASE = Path(__file__).parent.parent / "corpus" / "releases" / "1.1.0"


def test_build_streams_gold_through_to_the_release_files(tmp_path: Path) -> None:
    """The gold is written as it comes: a record is released before the next is asked for,
    and each kind keeps its order in its own file whatever the mix."""
    from claimwire.corpus.release import build_release
    from claimwire.model import Annotation, Document, Relation, read_records

    from .helpers import SEED_RAW

    live = [0]
    most = [0]

    class Tracked(Annotation):
        def __del__(self) -> None:
            live[0] -= 1

    def gold(documents):  # type: ignore[no-untyped-def]
        for document in documents:
            for k in range(500):
                most[0] = max(most[0], live[0])
                live[0] += 1
                yield Tracked(f"{document.id}-{k}", document.id, "claims", "CLAIM")
                if k % 100 == 0:
                    yield Relation(
                        f"r{document.id}-{k}", document.id, "t", f"{document.id}-{k}", "x"
                    )

    report = build_release(SEED_RAW, tmp_path / "releases", "1.0.0", gold=gold)
    assert most[0] <= 2  # the old build held every gold record before writing any
    documents = [d.id for d in read_records(report.path / "documents.jsonl", Document)]
    annotations = [a.id for a in read_records(report.path / "annotations.jsonl", Annotation)]
    relations = [r.id for r in read_records(report.path / "relations.jsonl", Relation)]
    assert annotations == [f"{d}-{k}" for d in documents for k in range(500)]
    assert relations == [f"r{d}-{k}" for d in documents for k in range(0, 500, 100)]
    assert report.manifest["counts"]["annotations"] == len(annotations)
    assert report.manifest["counts"]["relations"] == len(relations)
    assert report.annotations.added == annotations
    assert not list(report.path.glob(".*"))  # the staged spool is gone


def test_build_with_an_annotation_set_writes_the_same_files(tmp_path: Path) -> None:
    """``corpus build --gold set.jsonl`` (annotations and relations mixed in one file)
    writes each kind's file byte for byte as the release the set came from."""
    from claimwire.model import write_records

    from .helpers import SEED_RAW, run_cli

    source = open_release(GOLD_RELEASE)
    annotations, relations = list(source.annotations()), list(source.relations())
    mixed = [*annotations[:5], *relations, *annotations[5:]]
    write_records(tmp_path / "gold.jsonl", mixed)  # type: ignore[arg-type]
    args = ["corpus", "build", "--version", "9.0.0", "--raw", SEED_RAW, "--out", tmp_path / "out"]
    result = run_cli(
        *args, "--gold", tmp_path / "gold.jsonl", "--schema", GOLD_RELEASE / "schema.yaml"
    )
    assert result.returncode == 0, result.stderr
    for name in ("annotations.jsonl", "relations.jsonl"):
        built = (tmp_path / "out" / "9.0.0" / name).read_bytes()
        assert built == (GOLD_RELEASE / name).read_bytes()
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    gold = ("--gold", tmp_path / "empty.jsonl")
    result = run_cli(*args[:3], "9.1.0", *args[4:], "--parent", "9.0.0", *gold)
    assert result.returncode != 0
    assert "no annotation or relation records" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "9.1.0").exists()


def test_fixed_set_is_written_as_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``eval check --fix-offsets --out`` (``write_fixed``) writes each record before
    reading the next: the old one read the whole prediction file first."""
    from claimwire.eval import checker
    from claimwire.eval.checker import CheckReport, write_fixed
    from claimwire.model import Annotation, write_records_atomically

    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(_lines(30, 4)) + "\n", encoding="utf-8")
    read, written, ahead = [0], [0], [0]
    reader = checker.read_mixed

    def counted_reader(file: Path):  # type: ignore[no-untyped-def]
        for row in reader(file):
            read[0] += 1
            yield row

    def counted_writer(out: Path, records) -> int:  # type: ignore[no-untyped-def]
        def each():  # type: ignore[no-untyped-def]
            for record in records:
                ahead[0] = max(ahead[0], read[0] - written[0])
                written[0] += 1
                yield record

        return write_records_atomically(out, each())

    monkeypatch.setattr(checker, "read_mixed", counted_reader)
    monkeypatch.setattr(checker, "write_records_atomically", counted_writer)
    first = next(r for _, r in read_mixed(path) if isinstance(r, Annotation))
    moved = Annotation(first.id, first.doc_id, "claims", "CLAIM", 1, 2)
    report = CheckReport(path, fixed={first.id: moved})
    assert write_fixed(path, report, tmp_path / "out.jsonl") == 150
    assert ahead[0] <= 1
    out = [r for _, r in read_mixed(tmp_path / "out.jsonl")]
    assert out[0] == moved
    assert [r.id for r in out] == [r.id for _, r in read_mixed(path)]


def _changes_in_memory(old: list, new: list, old_links: list, new_links: list) -> dict:  # type: ignore[type-arg]
    """The comparison as it was made with both sides in memory (the oracle)."""
    from claimwire.corpus.changes import AnnotationChanges, attribute_changes

    def content(a):  # type: ignore[no-untyped-def]
        return (a.doc_id, a.label, a.start, a.end)

    before = {a.id: a for a in old}
    report = AnnotationChanges()
    now = {a.id for a in new}
    unmatched = defaultdict(list)
    for old_id, annotation in before.items():
        if old_id not in now:
            unmatched[content(annotation)].append(old_id)
    renamed = set()
    for annotation in new:
        previous = before.get(annotation.id)
        if previous is None:
            candidates = unmatched.get(content(annotation))
            if candidates:
                report.renamed.append((candidates.pop(0), annotation.id))
                renamed.add(report.renamed[-1][0])
                report.kept += 1
            else:
                report.added.append(annotation.id)
        elif (previous.start, previous.end) != (annotation.start, annotation.end):
            report.reanchored.append(annotation.id)
        else:
            report.kept += 1
            if previous.attributes != annotation.attributes:
                change = attribute_changes(previous, annotation)
                report.changed.append(f"`{annotation.id}` ({change})")
    report.removed = [i for i in before if i not in now and i not in renamed]
    current, earlier = {r.id for r in new_links}, {r.id for r in old_links}
    report.relations_added = len(current - earlier)
    report.relations_removed = sorted(earlier - current)
    return report.to_dict()


@pytest.mark.parametrize("seed", range(6))
def test_diff_compares_a_batch_of_documents_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """``corpus diff`` reads both releases' annotations a few documents at a time and gives
    what the whole-file comparison gave: ids matched first (also across documents), then
    content (renamed), each list in its file's order."""
    from claimwire.corpus import diff
    from claimwire.model import Annotation, Relation, write_records

    rng = random.Random(seed)
    old = []
    for k in range(300):
        start = rng.randrange(50)
        old.append(
            Annotation(
                f"a{k}",
                f"d{rng.randrange(23)}",
                "claims",
                "CLAIM",
                start,
                start + 5,
                attributes={"x": rng.randrange(2)},
            )
        )
    new = []
    for k, a in enumerate(old):
        roll = rng.random()
        if roll < 0.1:
            continue  # removed
        if roll < 0.2:
            new.append(Annotation(f"n{k}", a.doc_id, "claims", "CLAIM", a.start, a.end))  # renamed
        elif roll < 0.3:
            new.append(Annotation(a.id, a.doc_id, "claims", "CLAIM", a.start, (a.end or 0) + 1))
        elif roll < 0.35:
            new.append(Annotation(a.id, f"d{rng.randrange(23)}", "claims", "CLAIM", a.start, a.end))
        elif roll < 0.45:
            new.append(
                Annotation(a.id, a.doc_id, "claims", "CLAIM", a.start, a.end, attributes={"x": 9})
            )
        else:
            new.append(a)
    new += [
        Annotation(f"z{k}", f"d{rng.randrange(30)}", "claims", "CLAIM", k, k + 2) for k in range(40)
    ]
    rng.shuffle(new)
    links = [Relation(f"r{k}", "d0", "t", "a", "b") for k in range(30)]
    new_links = [
        *rng.sample(links, 20),
        *(Relation(f"s{k}", "d1", "t", "a", "b") for k in range(5)),
    ]
    files = {}
    for name, records in (("old", old), ("new", new), ("old_r", links), ("new_r", new_links)):
        half = len(records) // 2  # two parts, as shards
        files[name] = [tmp_path / f"{name}-0.jsonl", tmp_path / f"{name}-1.jsonl"]
        write_records(files[name][0], records[:half])
        write_records(files[name][1], records[half:])
    asked: list[int] = []
    rows = RecordIndex.rows

    def spy(self, doc_ids):  # type: ignore[no-untyped-def]
        asked.append(len(doc_ids))
        return rows(self, doc_ids)

    monkeypatch.setattr(diff, "BATCH_DOCUMENTS", 5)
    monkeypatch.setattr(RecordIndex, "rows", spy)
    found = diff.compare_files(files["old"], files["new"], files["old_r"], files["new_r"])
    assert asked and max(asked) <= 5
    assert found.to_dict() == _changes_in_memory(old, new, links, new_links)


def test_eval_score_verifies_the_release_checksums_once(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimwire.corpus import release as releases

    predictions = _predictions(release, tmp_path)
    verified: list[Path] = []

    def spy(path, manifest):  # type: ignore[no-untyped-def]
        verified.append(path)
        return checksum_problems(path, manifest)

    checksum_problems = releases.checksum_problems
    monkeypatch.setattr(releases, "checksum_problems", spy)
    evaluation = Evaluation.open(release, "claims", split="all", resamples=50)
    evaluation.score(evaluation.check(predictions))
    assert verified == [release]  # when opened; the pass reads what was verified


def test_merged_statistics_do_not_hold_the_parts_twice() -> None:
    """Stacking the batches' per-unit tables lets each part's table go once stacked: the
    merge adds about one table's worth of memory, not a second copy of every table."""
    import tracemalloc

    import numpy as np

    from claimwire.eval.scoring import Statistics, Table, TableKey, count_prf, merge_statistics

    keys = [TableKey("spans", scheme, label) for scheme in "abcd" for label in (None, "X", "Y")]

    def part() -> Statistics:
        return Statistics(tables={k: Table(np.ones((256, 5)), count_prf, ("a",)) for k in keys})

    tracemalloc.start()
    parts = [part() for _ in range(40)]
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    merged = merge_statistics(parts)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    total = 40 * len(keys) * 256 * 5 * 8
    assert peak - held < 0.3 * total  # the old merge held every part and the merge: 1.0×
    assert merged.tables[keys[0]].stats.shape == (40 * 256, 5)


def test_arrow_tables_are_what_datasets_builds_from_the_rows(release: Path) -> None:
    """Each config's rows become the Arrow table ``Dataset.from_list`` made of them (same
    columns in the same order, ClassLabel numbers, schema metadata and buffer sizes, which the
    card's num_bytes adds up), without ``datasets`` encoding each value."""
    from datasets import Dataset

    from claimwire.annotation.checks import schema_of
    from claimwire.hub.arrow import arrow_table
    from claimwire.hub.tables import batched_tables

    compared = set()
    for tables in batched_tables(open_release(release), schema_of(release), batch=2):
        for table in tables:
            for rows in table.rows.values():
                if not rows:
                    continue
                expected = Dataset.from_list(rows, features=table.features)
                built, features = arrow_table(rows, table.features)
                assert features == expected.features
                assert built.equals(expected.data.table), table.config
                assert built.schema.equals(expected.data.table.schema, check_metadata=True)
                assert built.nbytes == expected.data.table.nbytes, table.config
                compared.add(table.config)
    assert {"documents", "claims", "tokens"} <= compared  # tokens: ClassLabel sequences


def test_tokens_are_made_once_per_document_for_every_tag_layer(
    release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tokens table tags several span layers over one tokenization of each document (it
    tokenized the document again for each layer: spaCy was most of an export's time)."""
    from claimwire.annotation.checks import schema_of
    from claimwire.formats import conll
    from claimwire.hub import tables

    calls: list[str] = []
    tokenize = conll.sentence_tokens

    def spy(document):  # type: ignore[no-untyped-def]
        calls.append(document.id)
        return tokenize(document)

    monkeypatch.setattr(conll, "sentence_tokens", spy)
    monkeypatch.setattr(tables, "sentence_tokens", spy)
    documents = [d.id for d in open_release(release).documents()]
    built = [
        t for ts in tables.batched_tables(open_release(release), schema_of(release)) for t in ts
    ]
    assert any(t.config == "tokens" and t.counts for t in built)
    assert sorted(calls) == sorted(documents)


def test_record_index_holds_its_id_hashes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The id hashes (8 bytes a record) are gathered through a file and sorted in place: the
    index never holds them twice (the old one held the blocks' arrays, their concatenation
    and a sorted copy: three times)."""
    import tracemalloc

    from claimwire import lines as line_reading

    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 1 << 16)  # small blocks: few objects
    records = 200_000
    path = tmp_path / "p.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for k in range(records):
            handle.write(f'{{"id": "a{k}", "doc_id": "d{k // 100}"}}\n')
    tracemalloc.start()
    with RecordIndex([path]) as index:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert index.count == records and not len(index.duplicates)
    assert peak < 2 * 8 * records


def _retained(path: Path) -> tuple[int, RecordIndex]:
    """Bytes an index of ``path`` keeps once built (traced), and the index."""
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    index = RecordIndex([path], check_ids=False)
    gc.collect()
    kept, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return kept, index


def test_record_index_keeps_no_object_per_document(tmp_path: Path) -> None:
    """A document costs the index a few numbers (its run and the hash of its id), not a
    Python string and a dict entry: what an index keeps grows by under 64 bytes a document
    from 5,000 to 20,000 documents (with the dict of ids: about 150). It still finds every
    document's records and names them in the order first named."""
    sizes = []
    for documents in (5_000, 20_000):
        path = tmp_path / f"{documents}.jsonl"
        path.write_text(
            "".join(
                f'{{"id": "a{k}", "doc_id": "document-{k // 2:08d}", "layer": "claims", '
                '"label": "CLAIM"}\n'
                for k in range(2 * documents)
            ),
            encoding="utf-8",
        )
        kept, index = _retained(path)
        sizes.append(kept)
        with index:
            names = index.documents
            assert names[:3] == ["document-00000000", "document-00000001", "document-00000002"]
            assert len(names) == documents
            rows = index.rows(["document-00000007", "unknown"])
            assert [(line, record.id) for _, line, record in rows] == [(15, "a14"), (16, "a15")]
            assert index.document_of("a15") == "document-00000007"
            assert sum(len(rows) for rows in index.leftover()) == 2 * documents - 2
    assert (sizes[1] - sizes[0]) / 15_000 < 64


def test_bootstrap_never_copies_the_tables_whole() -> None:
    """Past the dense draw, the tables that get an interval are put side by side a batch of
    units at a time: the totals are those of the whole side-by-side copy, to the last digit,
    and the draw's memory stays a batch's (the copy alone was the tables' size)."""
    import tracemalloc

    import numpy as np

    from claimwire.eval.metrics import resampled_columns, resampled_totals

    rng = np.random.default_rng(1)
    tables = [rng.integers(0, 5, (60_000, 5)).astype(float) for _ in range(4)]
    tables.append(rng.random((60_000, 4)))
    expected = resampled_totals(np.hstack(tables), 100, 7)
    size = sum(t.nbytes for t in tables)
    tracemalloc.start()
    totals = resampled_columns(tables, 100, 7)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert np.array_equal(totals, expected)
    assert peak < size / 2  # 100 × 2,048 Poisson weights and one batch of rows


def test_eval_score_stacks_the_batches_statistics_as_they_come(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch's per-unit rows are copied into tables allocated once for the release's
    documents (the manifest's split counts) and let go: nothing is merged at the end (the
    old pass stacked every 16 batches, then merged the stacks: a second copy at the end);
    the scores are those of one batch."""
    from claimwire.eval import scoring

    predictions = _predictions(release, tmp_path)
    whole = Evaluation.open(release, "claims", split="all", unit="document", resamples=50)
    expected = whole.score(whole.check(predictions)).to_dict()
    allocated: list[int] = []
    append = scoring.StackedStatistics._append

    def spy(self, path, rows):  # type: ignore[no-untyped-def]
        if path not in self.arrays or self.filled[path] + len(rows) > len(self.arrays[path]):
            allocated.append(self.rows)
        append(self, path, rows)

    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 1)
    monkeypatch.setattr(scoring.StackedStatistics, "_append", spy)
    monkeypatch.setattr(evaluate, "merge_statistics", None, raising=False)  # never called
    batched = Evaluation.open(release, "claims", split="all", unit="document", resamples=50)
    result = batched.score(batched.check(predictions))
    assert result.to_dict() == expected
    tables = result.statistics.tables
    documents = sum(open_release(release).manifest["splits"].values())
    arrays = len(tables) + 2 * ("disclosure" in result.statistics.extra)
    assert allocated == [documents] * arrays  # each array once, for every document
    assert all(len(table.stats) == documents for table in tables.values())


def test_stacked_statistics_are_the_merge_of_the_batches() -> None:
    """Stacked as they come (tables, disclosure and stance rows; grown when more rows come
    than expected), the statistics equal :func:`merge_statistics` of the same batches."""
    import numpy as np

    from claimwire.eval.scoring import (
        StackedStatistics,
        Statistics,
        Table,
        TableKey,
        count_prf,
        merge_statistics,
    )

    rng = np.random.default_rng(5)
    keys = [TableKey.spans("strict"), TableKey.attribute("kind")]

    def part(units: int) -> Statistics:
        disclosure = {"accuracy": rng.random((units, 2)), "error": rng.random((units, 2))}
        stance = {"confusion": rng.random((units + 1, 1)), "unanswered": 2, "ignored": 1}
        return Statistics(
            tables={k: Table(rng.random((units, 3)), count_prf, ("a", "b", "c")) for k in keys},
            extra={
                "disclosure": {"fields": ["x"], **disclosure},
                "stance": {"classes": ["A"], **stance},
            },
        )

    for expected_rows in (0, 7, 40, 1000):
        parts = [part(units) for units in (3, 0, 5, 1, 8)]
        stack = StackedStatistics(expected_rows)
        for p in parts:
            stack.add(p)
        merged = stack.merged()
        assert merged is not None
        whole = merge_statistics([Statistics(dict(p.tables), p.extra) for p in parts])
        for key in keys:
            assert np.array_equal(merged.tables[key].stats, whole.tables[key].stats)
        for name, arrays in (("disclosure", ("accuracy", "error")), ("stance", ("confusion",))):
            for array in arrays:
                assert np.array_equal(merged.extra[name][array], whole.extra[name][array])
        assert merged.extra["stance"]["unanswered"] == 10
    single = StackedStatistics(10)
    alone = part(4)
    single.add(alone)
    assert single.merged() is alone
    assert StackedStatistics().merged() is None


def _errors_per_document(release: Path, tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """Predictions with ``i % 4`` spurious CLAIMs on the i-th document (besides the gold
    claims, copied), and how many spans of each document are errors."""
    gold = [a.to_dict() for a in open_release(release).annotations()]
    records, errors = list(gold), {}
    for i, document in enumerate(open_release(release).documents()):
        errors[document.id] = i % 4
        for k in range(i % 4):
            start = document.text.index("numéro") + k
            records.append(
                {**gold[0], "id": f"x{i}-{k}", "doc_id": document.id, "start": start,
                 "end": start + 3, "quote": None}
            )  # fmt: skip
    path = tmp_path / "errors.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", "utf-8")
    return path, errors


def test_the_error_page_is_made_batch_by_batch_keeping_the_worst_documents(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--html`` scores a bounded batch at a time like any score (it read the whole split as
    one batch) and keeps only the sections of the documents with the most errors."""
    from claimwire.eval.html import render_html

    predictions, errors = _errors_per_document(release, tmp_path)
    whole = Evaluation.open(release, "claims", split="all", resamples=50, page_documents=100)
    every = whole.score(whole.check(predictions))
    assert every.pages is not None and every.pages.left_out == 0 and every.pages.seen == 24
    seen = _checked_in_batches_of_five(monkeypatch)
    batched = Evaluation.open(release, "claims", split="all", resamples=50, page_documents=7)
    result = batched.score(batched.check(predictions))
    assert seen and max(seen) <= 5 and sum(seen) == 24
    assert result.to_dict() == every.to_dict()
    order = list(errors)
    worst = sorted(order, key=lambda d: (-errors[d], order.index(d)))[:7]
    page = render_html(batched, [result])
    shown = re.findall(r'<section class="document" data-doc="([^"]+)"', page)
    assert shown == [d for d in order if d in worst]  # the 7 worst, in corpus order
    assert "7 documents with the most errors of the 24 scored" in page
    assert "17 left out" in page
    sections = {d: s for d, s in zip(shown, result.pages.sections(), strict=True)}  # type: ignore[union-attr]
    for doc_id, section in zip(
        re.findall(r'data-doc="([^"]+)"', "".join(every.pages.sections())),
        every.pages.sections(),
        strict=True,
    ):
        if doc_id in sections:
            assert sections[doc_id] == section  # the same section as from one batch


def test_eval_score_html_documents_sets_how_many_the_page_shows(
    release: Path, tmp_path: Path
) -> None:
    predictions, errors = _errors_per_document(release, tmp_path)
    page = tmp_path / "page.html"
    result = run_cli(
        "eval", "score", predictions, "--release", release, "--task", "claims", "--split",
        "all", "--bootstrap", "10", "--html", page, "--html-documents", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = re.findall(r'data-doc="([^"]+)"', page.read_text("utf-8"))
    assert len(shown) == 3 and all(errors[d] == 3 for d in shown)
    refused = run_cli(
        "eval", "score", predictions, "--release", release, "--task", "claims",
        "--html", page, "--html-documents", "0",
    )  # fmt: skip
    assert refused.returncode != 0 and "--html-documents" in refused.stderr


def test_an_evaluation_keeping_its_matches_still_draws_the_page(
    release: Path, tmp_path: Path
) -> None:
    """``keep_matches=True`` (the notebook API, which drew the page before the page had an
    option of its own) still gives a page with every document."""
    from claimwire.eval.html import render_html
    from claimwire.eval.matches import span_match

    predictions, _ = _errors_per_document(release, tmp_path)
    evaluation = Evaluation.open(release, "claims", split="all", resamples=50, keep_matches=True)
    result = evaluation.score(evaluation.check(predictions))
    assert span_match(result) is not None
    assert render_html(evaluation, [result]).count('<section class="document"') == 24


@pytest.mark.parametrize("case", ["outside", "repeat", "unknown"])
def test_a_relation_to_another_batch_s_rejected_annotation_is_as_the_whole_check_says(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """The annotation a relation names fails its own check (a span outside its text, the
    failed first copy of a repeated id, a document not in the release): checked a batch at a
    time, the errors are the whole check's, which has no such annotation."""
    documents = list(open_release(release).documents())
    first, last = documents[0], documents[-1]

    def cue(ann_id: str, doc_id: str, end: int = 4) -> dict[str, object]:
        return {"id": ann_id, "doc_id": doc_id, "layer": "attribution", "label": "CUE",
                "start": 0, "end": end}  # fmt: skip

    records = [cue("h", first.id), cue("t", last.id, 10**6)]
    if case == "repeat":
        records.append(cue("t", documents[1].id))
    if case == "unknown":
        records[1] = cue("t", "nowhere")
    records.append({"id": "r", "doc_id": first.id, "type": "attributed_to", "head": "h",
                    "tail": "t"})  # fmt: skip
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", "utf-8")
    scorer = Evaluation.open(release, "attribution", split="all")
    by_id = {d.id: d for d in documents}
    whole = check_predictions(path, by_id, scorer.schema, scorer.task).problems
    assert f"{path}:{len(records)}: field 'tail': no annotation with id 't'" in whole, whole
    for size in (1000, 1):
        monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", size)
        with pytest.raises(ClaimwireError) as error:
            Evaluation.open(release, "attribution", split="all").check(path)
        header, *problems = str(error.value).splitlines()
        counted = f"{len(whole)} problem{'s' * (len(whole) != 1)}"
        assert header.endswith(f"{counted} in the predictions; nothing was scored:")
        assert sorted(line.strip() for line in problems) == sorted(whole), size


def test_corpus_stats_shows_the_surveys_past_those_listed(release: Path) -> None:
    """``corpus stats`` lists the summary's first surveys, then one row for the rest: their
    count, mean scores and flags (before, they were left out without a word)."""
    from rich.console import Console

    from claimwire.annotation.schema import load_schema
    from claimwire.cli.corpus import _surveys_table

    summary = load_schema().summarize(_surveys(release, 25), [])  # type: ignore[arg-type]
    table = _surveys_table(summary)
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    shown = console.export_text()
    rest = summary["more_surveys"]
    assert len(summary["surveys"]) == 20 and rest["count"] == 5
    core = "—" if rest["mean_core"] is None else f"{rest['mean_core']:.2f}"
    flagged = f"self_selected {rest['flags']['self_selected']}"
    assert re.search(rf"… 5 more \(mean\)\s*│\s*{re.escape(core)}\s*│.*{flagged}", shown)
