"""`annotate agree` on the usual overlap design: annotators share some documents and each
annotates others alone. Sets are compared on the documents they annotated in common (each
pair for F1 and κ, every set for α), what was left out is counted, and sets with no
document in common get a message, not a number."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import krippendorff
import pytest
from sklearn.metrics import cohen_kappa_score

from claimwire.eval.agreement_files import agreement_of_files

from .helpers import REPO, run_cli

DOCUMENTS = 30


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """A synthetic release and its documents' ids (sorted)."""
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from synthetic_release import build
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    folder, _ = build(tmp_path_factory.mktemp("overlap") / "syn", DOCUMENTS)
    ids = sorted({json.loads(line)["doc_id"] for line in _gold(folder)})
    assert len(ids) == DOCUMENTS
    yield folder, ids


def _gold(release: Path) -> list[str]:
    return [
        line
        for name in ("annotations.jsonl", "relations.jsonl")
        for line in (release / name).read_text("utf-8").splitlines()
    ]


def _write(path: Path, records: Iterable[dict[str, Any]], documents: set[str]) -> Path:
    kept = (json.dumps(r, ensure_ascii=False) + "\n" for r in records if r["doc_id"] in documents)
    path.write_text("".join(kept), "utf-8")
    return path


def _variant(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Another annotator: a quarter of the claims of another type."""
    rng = random.Random(7)
    changed = []
    for record in records:
        if record.get("label") == "CLAIM" and rng.random() < 0.25:
            kind = rng.choice(["quantity", "prediction", "other"])
            record = {**record, "attributes": {**record["attributes"], "claim_type": kind}}
        changed.append(record)
    return changed


def _numbers(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("notes", "documents")}


def test_identical_annotators_on_their_shared_documents_agree_fully(
    release: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """10 documents shared, 10 each alone: identical on the shared ones is F1 1 and α_u 1
    (before: strict F1 0.5 and α_u near 0.5, no note)."""
    folder, ids = release
    gold = [json.loads(line) for line in _gold(folder)]
    shared, alone_a, alone_b = set(ids[:10]), set(ids[10:20]), set(ids[20:])
    alice = _write(tmp_path / "alice.jsonl", gold, shared | alone_a)
    bob = _write(tmp_path / "bob.jsonl", gold, shared | alone_b)
    report = agreement_of_files([alice, bob], folder).to_dict()
    assert set(report["pairwise_f1"]["alice vs bob"].values()) == {1.0}
    assert report["unitizing_alpha"] and all(
        s["value"] == 1.0 for s in report["unitizing_alpha"].values()
    )
    assert report["documents"] == {
        "annotated": {"alice": 20, "bob": 20},
        "every": 10,
        "pairs": {"alice vs bob": 10},
    }
    assert (
        "Compared on the 10 documents both sets annotated; left out the documents only one "
        "set annotated: alice 10, bob 10." in report["notes"]
    )
    shown = run_cli("annotate", "agree", alice, bob, "--release", folder)
    assert shown.returncode == 0, shown.stderr
    assert "left out the documents only one set annotated: alice 10, bob 10" in " ".join(
        shown.stdout.split()
    )


def test_the_overlap_report_is_the_report_on_the_shared_documents_and_equals_the_peers(
    release: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """Two annotators who differ on claim types: every number is the one of the shared
    documents alone, κ and α those of scikit-learn and ``krippendorff`` on them."""
    folder, ids = release
    gold = [json.loads(line) for line in _gold(folder)]
    other = _variant(gold)
    shared = set(ids[5:20])
    overlap = [
        _write(tmp_path / "alice.jsonl", gold, shared | set(ids[:5])),
        _write(tmp_path / "bob.jsonl", other, shared | set(ids[20:])),
    ]
    (tmp_path / "only").mkdir()
    alone = [
        _write(tmp_path / "only" / "alice.jsonl", gold, shared),
        _write(tmp_path / "only" / "bob.jsonl", other, shared),
    ]
    report = agreement_of_files(overlap, folder).to_dict()
    assert _numbers(report) == _numbers(agreement_of_files(alone, folder).to_dict())
    assert report["documents"]["pairs"] == {"alice vs bob": 15}

    def claims(records: list[dict[str, Any]]) -> dict[tuple[str, int, int], str]:
        return {
            (r["doc_id"], r["start"], r["end"]): r["attributes"]["claim_type"]
            for r in records
            if r.get("label") == "CLAIM" and r["doc_id"] in shared
        }

    a, b = claims(gold), claims(other)
    keys = sorted(a.keys() & b.keys())
    types = report["attributes"]["CLAIM.claim_type"]
    assert types["kappa alice vs bob"]["value"] == pytest.approx(
        cohen_kappa_score([a[k] for k in keys], [b[k] for k in keys])
    )
    codes = {value: n for n, value in enumerate(sorted({*a.values(), *b.values()}))}
    assert types["alpha (nominal)"]["value"] == pytest.approx(
        krippendorff.alpha(
            reliability_data=[[codes[a[k]] for k in keys], [codes[b[k]] for k in keys]],
            level_of_measurement="nominal",
        )
    )


def test_sets_with_no_document_in_common_get_a_message_not_a_number(
    release: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """Before: F1 0.000 and α_u 0.08, exit 0."""
    folder, ids = release
    gold = [json.loads(line) for line in _gold(folder)]
    carol = _write(tmp_path / "carol.jsonl", gold, set(ids[:10]))
    dan = _write(tmp_path / "dan.jsonl", gold, set(ids[10:]))
    result = run_cli("annotate", "agree", carol, dan, "--release", folder, "--json")
    assert result.returncode == 1 and not result.stdout
    assert "Traceback" not in result.stderr
    assert (
        f"error: no document annotated by both sets (documents annotated: {carol}: 10, "
        f"{dan}: 20); agreement compares the documents sets annotated in common"
        in result.stderr.splitlines()
    )


def test_each_pair_on_its_documents_and_all_sets_on_those_every_set_annotated(
    release: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """Three annotators: a pair with no document in common has no pairwise number, and α
    over all sets has none when no document was annotated by all three."""
    folder, ids = release
    gold = [json.loads(line) for line in _gold(folder)]
    paths = [
        _write(tmp_path / "alice.jsonl", gold, set(ids[:20])),
        _write(tmp_path / "bob.jsonl", gold, set(ids[:10]) | set(ids[20:])),
        _write(tmp_path / "carol.jsonl", gold, set(ids[10:20])),
    ]
    report = agreement_of_files(paths, folder).to_dict()
    assert set(report["pairwise_f1"]) == {"alice vs bob", "alice vs carol"}
    assert all(set(f1.values()) == {1.0} for f1 in report["pairwise_f1"].values())
    assert report["documents"]["pairs"] == {
        "alice vs bob": 10,
        "alice vs carol": 10,
        "bob vs carol": 0,
    }
    assert all(
        s["value"] is None and s["reason"] == "no document annotated by every set"
        for s in report["unitizing_alpha"].values()
    )
    assert "bob vs carol: no document annotated by both; no pairwise number." in report["notes"]
    shared = [*paths[:2], _write(tmp_path / "dan.jsonl", gold, set(ids[5:25]))]
    report = agreement_of_files(shared, folder).to_dict()
    assert report["documents"]["every"] == 5  # ids[5:10]
    assert all(s["value"] == 1.0 for s in report["unitizing_alpha"].values())
