"""What a score must never do: exceed 1, depend on file order, name the wrong split, take a
malformed file (predictions or gold) for an empty one, or quote a huge value back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.significance import estimate_ci

from claimwire.corpus.release import open_release
from claimwire.eval.checker import AnnotationSet
from claimwire.eval.evaluate import Evaluation
from claimwire.eval.matching import SCHEMES, SpanSet, match, overlap_credit_by_unit
from claimwire.eval.metrics import (
    overlap_prf,
    paired_bootstrap,
    percentile_interval,
    resample_weights,
    span_prf,
)
from claimwire.model import Annotation, Document

from .helpers import REPO, release_with_test_claims, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
GOLD = list(open_release(RELEASE).annotations())
DOC = next(open_release(RELEASE).documents())


def write(path: Path, records: list[dict]) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def score(path: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    result = run_cli("eval", "score", path, "--release", RELEASE, "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def gold_claims() -> list[dict]:  # type: ignore[type-arg]
    return [a.to_dict() for a in GOLD if a.label == "CLAIM"]


# ---- 1. overlap credit stays within [0, 1] ----------------------------------------------


def test_repeating_every_gold_claim_three_times_earns_nothing(tmp_path: Path) -> None:
    """Before: overlap P 1.0, R 3.0, F1 1.5."""
    records = [dict(r, id=f"{r['id']}-{k}") for r in gold_claims() for k in range(3)]
    data = score(write(tmp_path / "dup.jsonl", records), "--task", "claims", "--bootstrap", "10")
    overlap = data["schemes"]["overlap"]
    assert (overlap["precision"], overlap["recall"], overlap["f1"]) == (1.0, 1.0, 1.0)


def test_nested_gold_does_not_push_precision_above_one() -> None:
    gold = SpanSet.from_tuples([(0, 0, 0, 10, 0), (0, 0, 2, 5, 0)])
    pred = SpanSet.from_tuples([(0, 0, 0, 10, 0)])
    precision, recall, f1 = overlap_prf(overlap_credit_by_unit(gold, pred, 1).sum(0))
    assert (float(precision), float(recall), float(f1)) == (1.0, 1.0, 1.0)


span = st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 40), st.integers(1, 15))


@settings(max_examples=400, deadline=None)
@given(st.lists(span, max_size=12), st.lists(span, max_size=12))
def test_every_score_lies_in_the_unit_interval(gold_spans, pred_spans) -> None:  # type: ignore[no-untyped-def]
    def spans(rows: list[tuple[int, int, int, int]]) -> SpanSet:
        return SpanSet.from_tuples((d, lab, s, s + n, d) for d, lab, s, n in rows)

    gold, pred = spans(gold_spans), spans(pred_spans)
    values = [overlap_prf(overlap_credit_by_unit(gold, pred, 2).sum(0))]
    values += [span_prf(match(gold, pred, s).counts_by_unit(gold, pred, 2).sum(0)) for s in SCHEMES]
    for triple in values:
        assert all(0.0 <= float(v) <= 1.0 for v in triple), triple


# ---- 2. signatures: the split scored and the task's definition -------------------------


def test_signature_names_the_split_scored(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", gold_claims())
    assert "|split:test|" in score(path, "--task", "claims", "--bootstrap", "10")["signature"]
    data = score(path, "--task", "claims", "--split", "all", "--bootstrap", "10")
    assert "|split:all|" in data["signature"]


def test_signature_changes_with_the_task_definition(tmp_path: Path) -> None:
    """The same task name with other labels scores differently: its signature differs too."""
    task = (REPO / "eval" / "tasks" / "attribution.yaml").read_text(encoding="utf-8")
    narrowed = tmp_path / "attribution.yaml"
    narrowed.write_text(task.replace("labels: [SOURCE, CUE]", "labels: [SOURCE]"), "utf-8")
    assert narrowed.read_text(encoding="utf-8") != task
    records = [a.to_dict() for a in GOLD if a.label in ("SOURCE", "CUE")][:3]
    path = write(tmp_path / "p.jsonl", records)
    before = score(path, "--task", "attribution", "--bootstrap", "10")
    after = score(path, "--task", str(narrowed), "--bootstrap", "10")
    assert before["signature"].split("|")[0].startswith("task:attribution@")
    assert before["signature"].split("|")[0] != after["signature"].split("|")[0]
    assert before["signature"].split("|")[1:] == after["signature"].split("|")[1:]


@pytest.fixture(scope="module")
def split_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release of several documents in several splits, with a CLAIM on the test ones."""
    path = release_with_test_claims(tmp_path_factory.mktemp("splits"), 12)
    splits = {d.split for d in open_release(path).documents()}
    assert {"test", "train"} <= splits, splits
    return path


def doc_of(release: Path, split: str) -> Document:
    return next(d for d in open_release(release).documents() if d.split == split)


def claim_on(doc: Document, ann_id: str) -> dict:  # type: ignore[type-arg]
    start = doc.text.index("ses ventes")
    end = doc.text.index(" en 2024")
    return {
        "id": ann_id,
        "doc_id": doc.id,
        "layer": "claims",
        "label": "CLAIM",
        "start": start,
        "end": end,
        "attributes": {"claim_type": "quantity", "checkworthy": True},
    }


def test_predictions_outside_the_split_are_reported_not_scored(
    split_release: Path, tmp_path: Path
) -> None:
    gold = [a.to_dict() for a in open_release(split_release).annotations()]
    train = doc_of(split_release, "train")
    path = write(tmp_path / "p.jsonl", [*gold, claim_on(train, "extra")])
    result = run_cli(
        "eval", "score", path, "--release", split_release, "--task", "claims", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schemes"]["strict"]["spu"] == 0
    assert data["schemes"]["strict"]["f1"] == 1.0
    assert any(
        "1 predicted annotations on 1 documents outside split 'test'" in n for n in data["notes"]
    )
    checked = run_cli("eval", "check", path, "--release", split_release, "--task", "claims")
    assert checked.returncode == 0, checked.stderr
    assert "1 annotations on 1 documents not in split test" in checked.stdout


def test_a_split_without_gold_is_an_error_not_a_zero(split_release: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", [claim_on(doc_of(split_release, "train"), "x")])
    result = run_cli(
        "eval", "score", path, "--release", split_release, "--task", "claims", "--split", "train"
    )
    assert result.returncode == 1
    assert "split 'train' has no gold CLAIM annotations" in result.stderr
    assert "Traceback" not in result.stderr


# ---- 3. one stance per (holder, target) ----------------------------------------------


def test_duplicate_stance_pairs_are_rejected(tmp_path: Path) -> None:
    """Before: accepted, and the last line won (F_avg 0.0 or 0.111 by order)."""
    stances = [a.to_dict() for a in GOLD if a.label == "STANCE"]
    first = stances[0]
    other = "NONE" if first["attributes"]["stance"] != "NONE" else "FAVOR"
    twin = dict(first, id="twin", attributes=dict(first["attributes"], stance=other))
    path = write(tmp_path / "p.jsonl", [*stances, twin])
    for command in ("check", "score"):
        result = run_cli("eval", command, path, "--release", RELEASE, "--task", "stance")
        assert result.returncode == 1
        assert ":13: field 'attributes': a second stance for holder" in result.stderr
        assert f"(the first is '{first['id']}')" in result.stderr


# ---- 4. and 5. nothing depends on the order of the records -------------------------------


def test_attribute_ties_are_broken_by_content(tmp_path: Path) -> None:
    """Two identical CLAIM spans with different claim_type: before, TP 1 or 0 by order."""
    gold = gold_claims()[0]
    wrong = "other" if gold["attributes"]["claim_type"] != "other" else "quantity"
    a = dict(gold, id="a")
    b = dict(gold, id="b", attributes=dict(gold["attributes"], claim_type=wrong))
    scores = [
        score(write(tmp_path / f"p{i}.jsonl", order), "--task", "claims", "--bootstrap", "10")
        for i, order in enumerate(([a, b], [b, a]))
    ]
    assert scores[0]["attributes"] == scores[1]["attributes"]
    assert scores[0]["schemes"] == scores[1]["schemes"]


@pytest.fixture(scope="module")
def claims_evaluation() -> Evaluation:
    return Evaluation.open(RELEASE, "claims", resamples=20)


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_shuffling_the_records_changes_no_score_in_any_digit(claims_evaluation, rng) -> None:  # type: ignore[no-untyped-def]
    """Before: overlap recall differed in the last digit when predictions were shuffled."""
    text = DOC.text
    records = []
    for i in range(40):
        start = rng.randrange(0, len(text) - 200)
        end = start + rng.randrange(1, 200)
        records.append(
            Annotation(
                f"p{i}",
                DOC.id,
                "claims",
                "CLAIM",
                start,
                end,
                None,
                {"claim_type": rng.choice(["other", "quantity"]), "checkworthy": True},
            )
        )
    scores = []
    for _ in range(3):
        rng.shuffle(records)
        result = claims_evaluation.score(AnnotationSet("p", tuple(records), ()))
        scores.append(json.dumps(result.scores.to_dict(), sort_keys=True))
    assert scores[0] == scores[1] == scores[2]


# ---- 6. the format checker ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "no annotation or relation records (the set is empty or blank)"),
        ("\n   \n\n", "no annotation or relation records (the set is empty or blank)"),
        (None, "no annotations.jsonl in this folder"),
    ],
)
def test_empty_sets_are_errors_unless_allowed(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    if content is None:
        path = tmp_path / "run"
        path.mkdir()
        (path / "relations.jsonl").write_text("", "utf-8")
    else:
        path = tmp_path / "p.jsonl"
        path.write_text(content, "utf-8")
    for command in ("check", "score"):
        result = run_cli("eval", command, path, "--release", RELEASE, "--task", "claims")
        assert result.returncode == 1
        assert expected in result.stderr
        assert "Traceback" not in result.stderr
    if content is not None:
        allowed = run_cli(
            "eval", "check", path, "--release", RELEASE, "--task", "claims", "--allow-empty"
        )
        assert allowed.returncode == 0, allowed.stderr
        assert "0 annotations" in allowed.stdout


def test_a_huge_value_is_cut_in_messages(tmp_path: Path) -> None:
    record = dict(gold_claims()[0], attributes={"claim_type": "x" * 1_000_000, "checkworthy": True})
    result = run_cli(
        "eval",
        "check",
        write(tmp_path / "p.jsonl", [record]),
        "--release",
        RELEASE,
        "--task",
        "claims",
    )
    assert result.returncode == 1
    assert "bad-attribute-value: 'claim_type' = 'xxxx" in result.stderr
    assert "(1000000 characters)" in result.stderr
    assert len(result.stderr) < 2_000


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (10, 10, "field 'end': [10, 10) is empty (zero-length)"),
        (20, 10, "field 'end': [20, 10) is reversed (end before start)"),
        (-5, 10, "field 'start': [-5, 10) starts at a negative offset"),
        (10, 10**6, "field 'end': [10, 1000000) is outside the document of"),
        (10**29, 10, f"field 'start': [{10**29}, 10) starts outside the document of"),
    ],
)
def test_bad_offsets_say_what_is_wrong(tmp_path: Path, start: int, end: int, expected: str) -> None:
    record = dict(gold_claims()[0], start=start, end=end, quote=None)
    path = write(tmp_path / "p.jsonl", [record])
    result = run_cli("eval", "check", path, "--release", RELEASE, "--task", "claims")
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    # the gold given with --gold goes through the same checks
    good = write(tmp_path / "good.jsonl", gold_claims())
    result = run_cli(
        "eval", "score", good, "--release", RELEASE, "--task", "claims", "--gold", path
    )
    assert result.returncode == 1
    assert "1 problem in the gold; nothing was scored" in result.stderr
    assert expected in result.stderr


def test_gold_with_unknown_documents_or_duplicate_ids_is_refused(tmp_path: Path) -> None:
    claims = gold_claims()
    for broken, expected in (
        ([dict(claims[0], doc_id="nowhere")], "'nowhere' is not a document of the release"),
        ([claims[0], claims[0]], "duplicate annotation id"),
    ):
        gold = write(tmp_path / "gold.jsonl", broken)
        result = run_cli(
            "eval",
            "score",
            write(tmp_path / "p.jsonl", claims),
            "--release",
            RELEASE,
            "--task",
            "claims",
            "--gold",
            gold,
        )
        assert result.returncode == 1
        assert expected in result.stderr


def test_a_relation_across_two_documents_is_rejected(split_release: Path, tmp_path: Path) -> None:
    test_doc, train_doc = doc_of(split_release, "test"), doc_of(split_release, "train")
    head = dict(
        claim_on(test_doc, "h"),
        label="SOURCE",
        layer="attribution",
        attributes={"source_kind": "person", "named": True},
    )
    tail = dict(claim_on(train_doc, "t"))
    relation = {
        "id": "r",
        "doc_id": test_doc.id,
        "type": "attributed_to",
        "head": "t",
        "tail": "h",
        "attributes": {"quote_type": "direct"},
    }
    path = write(tmp_path / "p.jsonl", [head, tail, relation])
    result = run_cli("eval", "check", path, "--release", split_release, "--task", "attribution")
    assert result.returncode == 1
    assert f":3: field 'head': annotation 't' is in document '{train_doc.id}'" in result.stderr


# ---- 7. intervals: sacreBLEU's order statistics ------------------------------------------


@pytest.mark.parametrize("count", [1, 10, 39, 40, 41, 100, 999, 1000, 1001, 2000])
def test_interval_takes_sacrebleus_order_statistics(count: int) -> None:
    """Before: at B = 1000, sorted[24] and sorted[975]; sacreBLEU takes [25] and [974]."""
    scores = np.random.default_rng(count).random(count)
    mean, half = estimate_ci(scores)
    ordered = np.sort(scores)
    interval = percentile_interval(scores)
    lower = count // 40
    assert (interval.low, interval.high) == (ordered[lower], ordered[count - lower - 1])
    assert (interval.high - interval.low) / 2 == pytest.approx(half)
    assert interval.mean == pytest.approx(mean)


def test_paired_bootstrap_centres_the_signed_differences() -> None:
    """Documented difference from sacreBLEU: the null distribution is Δ* − mean Δ*."""
    rng = np.random.default_rng(1)
    a = rng.integers(0, 5, size=(50, 3)).astype(float)
    b = a.copy()
    b[:, 0] = np.maximum(b[:, 0] - 1, 0)

    def ratio(stats: np.ndarray) -> np.ndarray:
        return np.asarray(stats[..., 0] / stats[..., 1])

    a[:, 1] = b[:, 1] = 10
    test = paired_bootstrap(a, b, ratio, resamples=200, seed=3)
    weights = resample_weights(50, 200, 3)
    deltas = ratio(weights @ a) - ratio(weights @ b)
    expected = (
        np.count_nonzero(np.abs(deltas - deltas.mean()) >= abs(test.delta) - 1e-12) + 1
    ) / 201
    assert test.p_value == expected
