"""Sharded releases: past a record count (or compressed), record files are numbered shards
listed with their checksums; every reader takes them, and a sharded release validates,
scores and exports exactly as its single-file twin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from claimwire.corpus.release import DIGEST, Sharding, build_release, manifest_digest, open_release
from claimwire.corpus.validate import validate_release
from claimwire.errors import ClaimwireError

from .helpers import REPO, SEED_RAW, run_cli

GOLD = REPO / "corpus" / "releases" / "1.1.0"  # the release the committed runs score
PREDICTIONS = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bundled release rebuilt twice: one file per kind, and zstd shards of 10 records."""
    gold = open_release(GOLD)
    annotations, relations = list(gold.annotations()), list(gold.relations())
    built = []
    for name, sharding in (("single", Sharding()), ("sharded", Sharding(10, compress=True))):
        releases = tmp_path_factory.mktemp(name) / "releases"
        report = build_release(
            SEED_RAW,
            releases,
            "1.0.0",
            gold=lambda documents: [*annotations, *relations],
            schema_file=GOLD / "schema.yaml",
            sharding=sharding,
        )
        built.append(report.path)
    return built[0], built[1]


def test_sharded_files_are_listed_with_checksums_and_read_back(twins: tuple[Path, Path]) -> None:
    single, sharded = twins
    manifest = json.loads((sharded / "MANIFEST.json").read_text(encoding="utf-8"))
    shards = manifest["shards"]["annotations.jsonl"]
    assert len(shards) == -(-manifest["counts"]["annotations"] // 10) > 1
    assert shards[0] == "annotations-00000.jsonl.zst"
    assert manifest["shards"]["documents.jsonl"] == ["documents-00000.jsonl.zst"]
    assert all(manifest["files"][s]["records"] <= 10 for s in shards)
    assert not (sharded / "annotations.jsonl").exists()
    assert "shards" not in json.loads((single / "MANIFEST.json").read_text(encoding="utf-8"))
    a, b = open_release(single), open_release(sharded)
    assert list(a.documents()) == list(b.documents())
    assert list(a.annotations()) == list(b.annotations())
    assert list(a.relations()) == list(b.relations())
    assert validate_release(single) == [] and validate_release(sharded) == []


def test_a_modified_shard_fails_the_checksum(twins: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "1.0.0"
    shutil.copytree(twins[1], copy)
    shard = copy / "relations-00000.jsonl.zst"
    shard.write_bytes(shard.read_bytes()[:-1])
    with pytest.raises(ClaimwireError, match="checksum"):
        open_release(copy)
    assert any(p.code == "checksum-mismatch" for p in validate_release(copy))


def test_twins_score_and_export_the_same(twins: tuple[Path, Path], tmp_path: Path) -> None:
    scores = []
    tables = []
    for release in twins:
        result = run_cli(
            "eval", "score", PREDICTIONS, "--task", "claims", "--release", release, "--json"
        )
        assert result.returncode == 0, result.stderr
        score = json.loads(result.stdout)
        score.pop("signature")  # names the release's manifest digest
        scores.append(score)
        out = tmp_path / release.parent.parent.name
        exported = run_cli("hub", "export", release, "--out", out)
        assert exported.returncode == 0, exported.stderr
        tables.append(
            {
                str(path.relative_to(out)): pq.read_table(path).to_pylist()
                for path in sorted(out.rglob("*.parquet"))
            }
        )
    assert scores[0] == scores[1] and scores[0]["schemes"]["strict"]["cor"] > 0
    assert tables[0] == tables[1] and tables[0]


def test_every_problem_of_a_sharded_release_is_at_its_shard_s_own_line(tmp_path: Path) -> None:
    """Problems found reading a shard (a record of the wrong shape), by the index (a repeated
    id) and in a batch's checks (offsets, documents, relations' ends) all name the shard and
    the line an editor opening it shows (some once counted lines through the shards)."""
    gold = open_release(GOLD)
    annotations, relations = list(gold.annotations()), list(gold.relations())
    report = build_release(
        SEED_RAW,
        tmp_path / "releases",
        "1.0.0",
        gold=lambda documents: [*annotations, *relations],
        schema_file=GOLD / "schema.yaml",
        sharding=Sharding(10),
    )
    shard, links = report.path / "annotations-00003.jsonl", report.path / "relations-00001.jsonl"
    lines = [json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines()]
    lines[1]["start"] = 10**6
    lines[2]["label"] = 7
    lines[3]["id"] = annotations[0].id
    lines[4]["doc_id"] = "nope"
    shard.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    edges = [json.loads(line) for line in links.read_text(encoding="utf-8").splitlines()]
    edges[0]["head"] = "missing"
    links.write_text("".join(json.dumps(r) + "\n" for r in edges), encoding="utf-8")
    found = {
        (p.code, p.file, p.line)
        for p in validate_release(report.path, max_level=2)
        if p.line is not None
    }
    assert found == {
        ("offset-out-of-range", "annotations-00003.jsonl", 2),
        ("bad-record", "annotations-00003.jsonl", 3),
        ("duplicate-id", "annotations-00003.jsonl", 4),
        ("unknown-document", "annotations-00003.jsonl", 5),
        ("unknown-annotation", "relations-00001.jsonl", 1),
        ("unknown-annotation", "relations-00000.jsonl", 9),  # its head is the refused record
        ("cross-document-relation", "relations-00000.jsonl", 10),  # its head's is "nope"
    }


def _edited(twins: tuple[Path, Path], folder: Path, edit: Any) -> Path:
    """The sharded twin copied with its annotations' shard list edited by ``edit`` and the
    manifest's digest made again (what anyone can do by hand)."""
    import shutil

    copy = folder / "1.0.0"
    shutil.copytree(twins[1], copy)
    path = copy / "MANIFEST.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest["shards"]["annotations.jsonl"])
    manifest[DIGEST] = manifest_digest(manifest)
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda shards: shards.insert(2, shards[1]), "shards list 'annotations-00001.jsonl.zst' 2"),
        (lambda shards: shards.pop(1), "'annotations-00001.jsonl.zst' is not in the shards of"),
    ],
    ids=["listed-twice", "left-out"],
)
def test_a_shard_listed_twice_or_left_out_is_refused_not_scored(
    twins: tuple[Path, Path], tmp_path: Path, edit: Any, problem: str
) -> None:
    """Before: the checksums held, so the gold was scored with a shard twice or without one
    (another F1, exit 0); only ``corpus validate`` saw the counts differ."""
    copy = _edited(twins, tmp_path, edit)
    with pytest.raises(ClaimwireError, match="manifest check failed") as refused:
        open_release(copy)
    assert problem in str(refused.value) and refused.value.file == str(copy / "MANIFEST.json")
    scored = run_cli("eval", "score", PREDICTIONS, "--release", copy, "--task", "claims")
    assert scored.returncode == 1 and problem in scored.stderr
    assert any(
        p.code == "manifest-invalid" and problem in p.message for p in validate_release(copy)
    )


def test_a_shard_list_naming_a_file_outside_the_release_is_never_read(
    twins: tuple[Path, Path], tmp_path: Path
) -> None:
    """Before: ``corpus validate`` reported the name, then read the file anyway (a file of the
    sender's choosing outside the release, or /dev/zero until memory ran out)."""
    outside = tmp_path / "secret.jsonl"
    outside.write_text('{"secret": "kept out of every message"}\n', encoding="utf-8")
    copy = _edited(twins, tmp_path / "got", lambda shards: shards.append("../../secret.jsonl"))
    assert (copy / "../../secret.jsonl").resolve() == outside
    problems = validate_release(copy)
    assert [p.code for p in problems if "secret" in p.message] == ["manifest-invalid"]
    assert not any("secret" in str(p.file) or "kept out" in p.message for p in problems)
