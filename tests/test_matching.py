"""The span matcher against nervaluate (the oracle) where nervaluate is unambiguous, and the
properties nervaluate lacks: order independence, one-to-one assignment."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nervaluate import Evaluator

from claimwire.eval.matching import OUTCOMES, SCHEMES, SpanSet, match, overlap_pairs
from claimwire.eval.metrics import span_prf

LABELS = ["CLAIM", "SOURCE", "CUE"]
NERVALUATE = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}
Doc = list[tuple[int, int, int]]  # (label, start, end)


def counts(gold_docs: list[Doc], pred_docs: list[Doc], scheme: str, label: int | None = None):  # type: ignore[no-untyped-def]
    def spans(docs: list[Doc]) -> SpanSet:
        return SpanSet.from_tuples(
            (d, lab, s, e, 0)
            for d, doc in enumerate(docs)
            for lab, s, e in doc
            if label in (None, lab)
        )

    gold, pred = spans(gold_docs), spans(pred_docs)
    return match(gold, pred, scheme).counts_by_unit(gold, pred, 1)[0]


def oracle(gold_docs: list[Doc], pred_docs: list[Doc]) -> dict:  # type: ignore[type-arg]
    def as_dicts(docs: list[Doc]) -> list[list[dict]]:  # type: ignore[type-arg]
        return [
            [{"label": LABELS[lab], "start": s, "end": e - 1} for lab, s, e in doc] for doc in docs
        ]

    return Evaluator(
        as_dicts(gold_docs), as_dicts(pred_docs), tags=LABELS, loader="dict"
    ).evaluate()


def nervaluate_counts(result) -> np.ndarray:  # type: ignore[no-untyped-def]
    fields = ("correct", "incorrect", "partial", "missed", "spurious")
    return np.array([getattr(result, name) for name in fields], dtype=float)


@st.composite
def unambiguous(draw: st.DrawFn) -> tuple[list[Doc], list[Doc]]:
    """Gold and predictions where every overlap graph component is one gold and one prediction."""
    gold_docs, pred_docs = [], []
    for _ in range(draw(st.integers(1, 4))):
        gold, pred = [], []
        position = 0
        for _ in range(draw(st.integers(0, 8))):
            position += draw(st.integers(3, 10))  # a gap, where a spurious span may go
            if draw(st.booleans()) and draw(st.booleans()):
                pred.append((draw(st.integers(0, 2)), position - 2, position - 1))
            length = draw(st.integers(2, 30))
            label = draw(st.integers(0, 2))
            start, end = position, position + length
            gold.append((label, start, end))
            kind = draw(st.sampled_from(["exact", "shift", "wrong-label", "shift-wrong", "missed"]))
            new_label = label if kind in ("exact", "shift") else (label + 1) % 3
            if kind != "missed":
                s, e = start, end
                if kind.startswith("shift"):
                    s = draw(st.integers(start, end - 1))
                    e = draw(st.integers(s + 1, end))
                    if (s, e) == (start, end):
                        e = end - 1 if end - 1 > s else e
                pred.append((new_label, s, e))
            position = end
        gold_docs.append(gold)
        pred_docs.append(pred)
    return gold_docs, pred_docs


@settings(max_examples=300, deadline=None)
@given(unambiguous(), st.randoms(use_true_random=False))
def test_counts_equal_nervaluate_where_it_is_unambiguous(data, rng) -> None:  # type: ignore[no-untyped-def]
    gold_docs, pred_docs = data
    for doc in pred_docs:
        rng.shuffle(doc)
    expected = oracle(gold_docs, pred_docs)
    for scheme in SCHEMES:
        ours = counts(gold_docs, pred_docs, scheme)
        theirs = expected["overall"][NERVALUATE[scheme]]
        assert ours.tolist() == nervaluate_counts(theirs).tolist(), scheme
        precision, recall, f1 = (float(x) for x in span_prf(ours))
        assert (precision, recall, f1) == pytest.approx(
            (theirs.precision, theirs.recall, theirs.f1)
        )
        for index, name in enumerate(LABELS):
            if name in expected["entities"]:
                per_label = counts(gold_docs, pred_docs, scheme, label=index)
                assert (
                    per_label.tolist()
                    == nervaluate_counts(expected["entities"][name][NERVALUATE[scheme]]).tolist()
                )


@st.composite
def anything(draw: st.DrawFn) -> tuple[list[Doc], list[Doc]]:
    span = st.tuples(st.integers(0, 2), st.integers(0, 60), st.integers(1, 25)).map(
        lambda t: (t[0], t[1], t[1] + t[2])
    )
    docs = draw(st.integers(1, 3))
    return (
        [draw(st.lists(span, max_size=10)) for _ in range(docs)],
        [draw(st.lists(span, max_size=10)) for _ in range(docs)],
    )


@settings(max_examples=300, deadline=None)
@given(anything(), st.randoms(use_true_random=False))
def test_order_of_predictions_never_changes_a_score(data, rng) -> None:  # type: ignore[no-untyped-def]
    gold_docs, pred_docs = data
    shuffled = [rng.sample(doc, len(doc)) for doc in pred_docs]
    shuffled_gold = [rng.sample(doc, len(doc)) for doc in gold_docs]
    for scheme in SCHEMES:
        before = counts(gold_docs, pred_docs, scheme)
        assert counts(shuffled_gold, shuffled, scheme).tolist() == before.tolist()
        cor, inc, par, mis, spu = before
        assert cor + inc + par + mis == sum(len(d) for d in gold_docs)
        assert cor + inc + par + spu == sum(len(d) for d in pred_docs)


def test_nervaluate_defect_is_not_copied() -> None:
    """nervaluate 1.x: gold [0,5); predictions [0,3) then [0,5) → strict F1 0.0; reversed 0.667."""
    gold = [[(0, 0, 5)]]
    first, second = [[(0, 0, 3), (0, 0, 5)]], [[(0, 0, 5), (0, 0, 3)]]
    theirs = [oracle(gold, p)["overall"]["strict"].f1 for p in (first, second)]
    assert theirs == [0.0, pytest.approx(2 / 3)]
    ours = [float(span_prf(counts(gold, p, "strict"))[2]) for p in (first, second)]
    assert ours == [pytest.approx(2 / 3)] * 2


@pytest.mark.parametrize("scheme", SCHEMES)
def test_perfect_and_empty(scheme: str) -> None:
    gold = [[(0, 0, 5), (1, 7, 9)], [(2, 3, 4)]]
    assert float(span_prf(counts(gold, gold, scheme))[2]) == 1.0
    for left, right in ((gold, [[], []]), ([[], []], gold), ([[], []], [[], []])):
        values = span_prf(counts(left, right, scheme))
        assert [float(v) for v in values] == [0.0, 0.0, 0.0]


def test_assignment_is_one_to_one_and_maximizes_overlap() -> None:
    # One long prediction overlapping two golds: it is matched to the one it overlaps most.
    gold = [[(0, 0, 10), (0, 12, 40)]]
    pred = [[(0, 5, 30)]]
    for scheme, expected in (("type", [1, 0, 0, 1, 0]), ("partial", [0, 0, 1, 1, 0])):
        assert counts(gold, pred, scheme).tolist() == expected
    assert OUTCOMES == ("cor", "inc", "par", "mis", "spu")


def test_duplicate_spans_match_as_multisets() -> None:
    gold = [[(0, 0, 5), (0, 0, 5)]]
    assert counts(gold, [[(0, 0, 5)]], "strict").tolist() == [1, 0, 0, 1, 0]
    assert counts(gold, [[(0, 0, 5)] * 3], "strict").tolist() == [2, 0, 0, 0, 1]
    assert counts([[(0, 0, 5)]], [[(1, 0, 5)]], "strict").tolist() == [0, 1, 0, 0, 0]
    random.seed(0)


span_lists = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 40), st.integers(1, 40)),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(span_lists, span_lists, st.sampled_from([0.0, 0.01, 0.5]), st.booleans())
def test_overlap_pairs_are_every_overlapping_pair(
    gold_raw, pred_raw, min_overlap, same_label
) -> None:  # type: ignore[no-untyped-def]
    """Against the definition, pair by pair (nested spans, shared starts, covering spans)."""

    def spans(raw: list[tuple[int, int, int, int]]) -> SpanSet:
        return SpanSet.from_tuples((d, lab, s, s + n, 0) for d, lab, s, n in raw)

    gold, pred = spans(gold_raw), spans(pred_raw)
    expected = set()
    for i in range(len(gold)):
        for j in range(len(pred)):
            length = min(gold.end[i], pred.end[j]) - max(gold.start[i], pred.start[j])
            if (
                gold.doc[i] == pred.doc[j]
                and length > 0
                and length >= min_overlap * (gold.end[i] - gold.start[i])
                and (not same_label or gold.label[i] == pred.label[j])
            ):
                expected.add((i, j, int(length)))
    g, p, length = overlap_pairs(gold, pred, min_overlap, same_label)
    found = list(zip(g.tolist(), p.tolist(), length.tolist(), strict=True))
    assert sorted(found) == found and set(found) == expected and len(found) == len(expected)


def test_a_span_covering_the_document_overlaps_each_prediction_once() -> None:
    """The case that made the running-maximum walk quadratic: one gold span covers all."""
    n = 2000
    gold = SpanSet.from_tuples(
        [(0, 0, 0, 10 * n, 0), *((0, 0, 10 * i, 10 * i + 5, 0) for i in range(n))]
    )
    pred = SpanSet.from_tuples((0, 0, 10 * i + 1, 10 * i + 4, 0) for i in range(n))
    g, p, _ = overlap_pairs(gold, pred)
    assert len(g) == 2 * n
    assert np.bincount(p).tolist() == [2] * n


def test_assignment_takes_the_larger_overlap_when_it_decides_the_counts() -> None:
    """Gold [0,10) [10,20), predictions [0,12) [11,20): [0,12) overlaps the first gold by 10
    and the second by 1; taking the larger overlap gives INC 2 under `exact`, the smaller
    one INC 1, MIS 1, SPU 1."""
    gold = [[(0, 0, 10), (0, 10, 20)]]
    for pred in ([[(0, 0, 12), (0, 11, 20)]], [[(0, 11, 20), (0, 0, 12)]]):
        assert counts(gold, pred, "exact").tolist() == [0, 2, 0, 0, 0]
        assert counts(gold, pred, "partial").tolist() == [0, 0, 2, 0, 0]
