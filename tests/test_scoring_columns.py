"""Span scoring on arrays: the encoder's lexsort order and vectorised units equal the
per-annotation rules they replace, and no per-span Python lookup is left in a span task."""

from __future__ import annotations

import bisect
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.annotation.schema import load_schema
from claimwire.eval.checker import AnnotationSet
from claimwire.eval.scoring import SpanEncoder, SpanTaskScorer, TableKey
from claimwire.eval.tasks import find_task
from claimwire.eval.units import Units
from claimwire.model import Annotation, Document, replaced

LABELS = ("SOURCE", "CLAIM")  # not alphabetical: the order is by label name, not by code


def _documents(sentence_starts: list[list[int]]) -> list[Document]:
    documents = []
    for number, starts in enumerate(sentence_starts):
        spans = tuple((s, s + 1) for s in sorted(set(starts)))
        documents.append(Document(f"d{number}", "x" * 60, None, "test", spans[:1], spans))
    return documents


def _old_order(annotations: list[Annotation], units: Units) -> list[Annotation]:
    """The rule replaced: a Python sort by (document's position, content), attributes
    serialised, then the id."""

    def key(a: Annotation) -> tuple[int, str, int, int, str, str, str]:
        attributes = json.dumps(a.attributes, sort_keys=True, ensure_ascii=False, default=str)
        start = a.start if a.start is not None else -1
        end = a.end if a.end is not None else -1
        return (units.doc_index.get(a.doc_id, -1), a.doc_id, start, end, a.label, attributes, a.id)

    ranked = sorted(annotations, key=key)
    return [a for a in ranked if a.is_span and a.label in LABELS and a.doc_id in units.doc_index]


def _old_unit(units: Units, documents: list[Document], doc_id: str, offset: int) -> int:
    position = units.doc_index[doc_id]
    first = sum(max(1, len(d.sentences)) for d in documents[:position])
    starts = [s for s, _ in documents[position].sentences] or [0]
    return first + max(0, bisect.bisect_right(starts, offset) - 1)


annotation = st.builds(
    lambda doc, start, length, label, value, ident, span: Annotation(
        f"a{ident}",
        f"d{doc}",
        "claims",
        label,
        start if span else None,
        start + length if span else None,
        attributes={"claim_type": value},
    ),
    st.integers(0, 3),  # d3 is not a document of the units
    st.integers(0, 50),
    st.integers(1, 3),
    st.sampled_from(["SOURCE", "CLAIM", "CUE"]),
    st.sampled_from(["quantity", "other", None]),
    st.integers(0, 8),  # equal ids and equal content happen
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 55), max_size=5), min_size=3, max_size=3),
    st.lists(annotation, max_size=30),
    st.sampled_from(["sentence", "document"]),
)
def test_encoder_order_and_units_equal_the_per_annotation_rules(
    sentence_starts: list[list[int]], annotations: list[Annotation], kind: str
) -> None:
    documents = _documents(sentence_starts)
    units = Units(documents, kind)
    spans, rows = SpanEncoder(units, LABELS).encode(annotations)
    expected = _old_order(annotations, units)
    assert [id(a) for a in rows] == [id(a) for a in expected]
    assert spans.start.tolist() == [a.start for a in expected]
    assert spans.label.tolist() == [LABELS.index(a.label) for a in expected]
    assert spans.doc.tolist() == [units.doc_index[a.doc_id] for a in expected]
    if kind == "sentence":
        want = [_old_unit(units, documents, a.doc_id, a.start or 0) for a in expected]
    else:
        want = [units.doc_index[a.doc_id] for a in expected]
    assert spans.unit.tolist() == want
    assert spans.unit.tolist() == [units.of(a.doc_id, a.start) for a in expected]


def test_a_span_task_looks_up_no_unit_per_span(monkeypatch: pytest.MonkeyPatch) -> None:
    def per_span(*args: object) -> int:
        raise AssertionError("a unit looked up one span at a time")

    monkeypatch.setattr(Units, "of", per_span)
    schema = load_schema()
    documents = _documents([[0, 20, 40], [0, 30]])
    gold = [
        Annotation(
            f"g{i}",
            f"d{i % 2}",
            "claims",
            "CLAIM",
            5 * i,
            5 * i + 4,
            attributes={"claim_type": "quantity", "checkworthy": bool(i % 2)},
        )
        for i in range(10)
    ]
    pred = [
        replaced(a, id=f"p{i}", attributes={"claim_type": "other" if i % 3 == 0 else "quantity"})
        for i, a in enumerate(gold)
    ]
    scorer = SpanTaskScorer(find_task("claims", schema), schema, documents, "sentence")
    got = scorer.statistics(
        AnnotationSet("g", tuple(gold), ()), AnnotationSet("p", tuple(pred), ())
    )
    claim_type = got.tables[TableKey.attribute("claim_type")].stats
    assert claim_type.sum(0).tolist() == [6.0, 10.0, 10.0]  # 6 of 10 predicted types right
    assert claim_type[:, 0].tolist() == [1.0, 1.0, 1.0, 2.0, 1.0]  # in the gold spans' units
    checkworthy = got.tables[TableKey.attribute("checkworthy")].stats.sum(0).tolist()
    assert checkworthy == [0.0, 0.0, 10.0]  # predicted without it: nothing predicted


def test_decimal_values_agree_within_the_tasks_tolerance() -> None:
    """``value`` is a decimal: right within 0.5 % of the gold (the statistics task's
    tolerance), whatever its writing; other attributes must be equal."""
    schema = load_schema()
    documents = _documents([[0], [0]])
    pairs = [("92.4", "92.8"), ("100", "101"), ("7", "7.00"), ("12", None)]
    gold, pred = [], []
    for i, (expected, written) in enumerate(pairs):
        span = {"doc_id": f"d{i % 2}", "layer": "statistics", "label": "NUM_STAT"}
        span |= {"start": 10 * i, "end": 10 * i + 5}
        gold.append(Annotation(f"g{i}", **span, attributes={"value": expected, "unit": "%"}))
        given_attributes = {"unit": "%" if i else "percent"}
        if written is not None:
            given_attributes["value"] = written
        pred.append(Annotation(f"p{i}", **span, attributes=given_attributes))
    scorer = SpanTaskScorer(find_task("statistics", schema), schema, documents, "document")
    got = scorer.statistics(
        AnnotationSet("g", tuple(gold), ()), AnnotationSet("p", tuple(pred), ())
    )
    value = got.tables[TableKey.attribute("value")].stats
    assert value.tolist() == [[2.0, 2.0, 2.0], [0.0, 1.0, 2.0]]  # 92.8 and 7.00 right
    unit = got.tables[TableKey.attribute("unit")].stats.sum(0).tolist()
    assert unit == [3.0, 4.0, 4.0]  # "percent" is not "%"


def test_attribute_values_agree_as_python_compares_them_one_by_one() -> None:
    from claimwire.eval.scoring import _agreeing, values_agree

    expected = ["a", None, True, 1, ["x", "y"], {"k": 1}, 2.5, "2.50", None, 3]
    given = ["a", "b", True, True, ["x", "y"], {"k": 2}, 2.5000001, "2.5", 1, 3.0]
    decimal = np.array([False] * 6 + [True, True, True, False])
    one_by_one = [
        value is not None
        and (values_agree(value, got, "decimal", 1e-3) if tolerant else value == got)
        for value, got, tolerant in zip(expected, given, decimal.tolist(), strict=True)
    ]
    assert _agreeing(expected, given, decimal, 1e-3).tolist() == one_by_one
    assert one_by_one == [True, False, True, True, True, False, True, True, False, True]


def test_a_label_that_every_span_has_takes_the_overall_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When every gold and predicted span has one label, its per-label tables are the
    overall ones, copied: no per-label match and no second overlap credit are computed."""
    from claimwire.eval import matching, scoring

    schema = load_schema()
    documents = _documents([[0, 20, 40], [0, 30]])
    gold = [
        Annotation(f"g{i}", f"d{i % 2}", "claims", "CLAIM", 5 * i, 5 * i + 4 + i % 3)
        for i in range(10)
    ]
    pred = [replaced(a, id=f"p{i}", end=a.end - i % 2) for i, a in enumerate(gold)]
    task = find_task("claims", schema)
    sets = AnnotationSet("g", tuple(gold), ()), AnnotationSet("p", tuple(pred), ())
    matched: list[object] = []
    credited: list[object] = []
    match, credit = matching.Matcher.match, scoring.overlap_credit_by_unit
    monkeypatch.setattr(
        matching.Matcher, "match", lambda self, *a, **k: matched.append(k) or match(self, *a, **k)
    )
    monkeypatch.setattr(
        scoring, "overlap_credit_by_unit", lambda *a: credited.append(a) or credit(*a)
    )
    got = SpanTaskScorer(task, schema, documents, "sentence").statistics(*sets)
    assert matched == [{}] * len(task.span_schemes)  # no match with label=…
    assert len(credited) == 1
    units = Units(documents, "sentence").count
    encoder = SpanEncoder(Units(documents, "sentence"), task.labels)
    (g, _), (p, _) = encoder.encode(gold), encoder.encode(pred)
    for scheme in task.span_schemes:
        per_label = matching.Matcher(g, p).match(scheme, label=0).counts_by_unit(g, p, units)
        table = got.tables[TableKey.spans(scheme, "CLAIM")].stats
        assert table.tolist() == per_label.tolist()
        assert table is not got.tables[TableKey.spans(scheme)].stats
    overlap = got.tables[TableKey.spans("overlap", "CLAIM")].stats
    assert overlap.tolist() == credit(g, p, units).tolist()
