"""Task scorers: reduce a system's output to per-unit sufficient statistics, then score.

Each scorer returns :class:`Statistics` — named tables of shape ``(units, k)`` — and a metric
for each table. Corpus scores, bootstrap intervals and paired tests only re-aggregate the
tables (see :mod:`claimwire.eval.metrics`).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import repeat
from operator import attrgetter, is_not, methodcaller
from typing import Any, NamedTuple

import numpy as np

from claimwire.annotation.schema import Schema
from claimwire.corpus.gold_columns import GoldBatch
from claimwire.eval.checker import AnnotationSet, stance_key
from claimwire.eval.matching import (
    COR,
    PAR,
    Ints,
    Matcher,
    SpanSet,
    overlap_credit_by_unit,
    pairs_located,
)
from claimwire.eval.metrics import Floats, overlap_prf, safe_divide, span_prf
from claimwire.eval.tasks import OVERLAP, Task
from claimwire.eval.units import Units
from claimwire.model import Annotation, Document

PRF = tuple[Floats, Floats, Floats]


def count_prf(stats: Floats) -> PRF:
    """P, R, F1 from ``(..., 3)`` true positives, predicted and gold counts."""
    precision = safe_divide(stats[..., 0], stats[..., 1])
    recall = safe_divide(stats[..., 0], stats[..., 2])
    return precision, recall, safe_divide(2 * precision * recall, precision + recall)


@dataclass(frozen=True)
class Table:
    """One component's per-unit statistics and how to turn them into P, R, F1."""

    stats: Floats
    metric: Callable[[Floats], PRF]
    columns: tuple[str, ...]


class TableKey(NamedTuple):
    """Which table: a ``family`` (``spans``, ``relations``, ``attributes``), its ``scheme``
    (None for attributes) and the ``name`` it is restricted to — a label (None: every label),
    a relation type or an attribute."""

    family: str
    scheme: str | None = None
    name: str | None = None

    @classmethod
    def spans(cls, scheme: str, label: str | None = None) -> TableKey:
        return cls("spans", scheme, label)

    @classmethod
    def relation(cls, relation_type: str, scheme: str) -> TableKey:
        return cls("relations", scheme, relation_type)

    @classmethod
    def attribute(cls, name: str) -> TableKey:
        return cls("attributes", None, name)


@dataclass
class Statistics:
    """Every table of one system on one task, keyed by :class:`TableKey`; ``extra`` holds
    what is not a P/R/F table (the primary match, disclosure errors, stance confusions)."""

    tables: dict[TableKey, Table] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _credited(outcome: np.int8 | int, scheme: str) -> bool:
    return outcome == COR or (scheme == "partial" and outcome == PAR)


class SpanEncoder:
    """Turns annotations into :class:`SpanSet` arrays, remembering which row is which."""

    def __init__(self, units: Units, labels: Sequence[str]) -> None:
        self.units = units
        self.label_index = {label: i for i, label in enumerate(labels)}

    def encode(self, annotations: Sequence[Annotation]) -> tuple[SpanSet, list[Annotation]]:
        """Rows in content order (document, offsets, label, attributes, id), never in file
        order: ties in matching are broken by content, and every float is summed in one
        order whatever the order of the file."""
        doc_index, label_index = self.units.doc_index, self.label_index
        kept = list(annotations)
        columns = _span_columns(kept, doc_index, label_index)
        if columns is None:  # some are not spans of these labels and documents: only those
            kept = [
                a
                for a in annotations
                if a.label in label_index
                and a.start is not None
                and a.end is not None
                and a.doc_id in doc_index
            ]
            columns = _span_columns(kept, doc_index, label_index)
            assert columns is not None
        doc, start, end, label = columns
        order = content_order(kept, doc, start, end, self.label_rank[label])
        doc, start, end, label = doc[order], start[order], end[order], label[order]
        spans = SpanSet(doc, label, start, end, self.units.of_many(doc, start))
        return spans, list(map(kept.__getitem__, order.tolist()))

    def encode_columns(self, gold: GoldColumnsSet) -> tuple[SpanSet, Ints]:
        """:meth:`encode` of gold held as columns: the same spans in the same order, with
        the rows of ``gold.batch`` they come from instead of records."""
        batch = gold.batch
        codes = np.asarray([self.label_index.get(name, -1) for name in batch.labels], np.int64)
        label = codes[batch.label] if len(batch) else np.zeros(0, np.int64)
        doc = gold.doc_unit[batch.doc - gold.first] if len(batch) else np.zeros(0, np.int64)
        kept = np.flatnonzero((doc >= 0) & (label >= 0) & (batch.start >= 0) & (batch.end >= 0))
        doc, start, end, label = doc[kept], batch.start[kept], batch.end[kept], label[kept]

        def tie_key(i: int) -> tuple[str, str]:
            row = [int(kept[i])]
            return _attributes_text(batch.attributes(row)[0]), batch.ids(row)[0]

        order = _ordered(doc, start, end, self.label_rank[label], tie_key)
        doc, start, end, label = doc[order], start[order], end[order], label[order]
        spans = SpanSet(doc, label, start, end, self.units.of_many(doc, start))
        return spans, kept[order]

    @property
    def label_rank(self) -> Ints:
        """Each label code's rank in the labels' alphabetical order."""
        rank = np.empty(len(self.label_index), dtype=np.int64)
        rank[[self.label_index[name] for name in sorted(self.label_index)]] = np.arange(len(rank))
        return rank


_DOC_ID, _START, _END, _LABEL, _ID, _ATTRIBUTES = map(
    attrgetter, ("doc_id", "start", "end", "label", "id", "attributes")
)
_SPAN_FIELDS = attrgetter("doc_id", "start", "end", "label")


def _span_columns(
    annotations: list[Annotation], doc_index: Mapping[str, int], label_index: Mapping[str, int]
) -> tuple[Ints, Ints, Ints, Ints] | None:
    """The document position, start, end and label code of each annotation, its fields read
    in one pass over the records; None if one is not a span of these documents and labels."""
    count = len(annotations)
    if not count:
        empty: Ints = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    docs, starts, ends, labels = zip(*map(_SPAN_FIELDS, annotations), strict=True)
    if None in starts or None in ends:
        return None
    doc = _column(map(doc_index.get, docs, repeat(-1)), count)
    label = _column(map(label_index.get, labels, repeat(-1)), count)
    if doc.min() < 0 or label.min() < 0:
        return None
    return doc, _column(iter(starts), count), _column(iter(ends), count), label


def _column(values: Iterator[int], count: int) -> Ints:
    """``count`` integers as an int64 array, read from an iterator without a list."""
    return np.fromiter(values, dtype=np.int64, count=count)


def content_order(
    rows: Sequence[Annotation], doc: Ints, start: Ints, end: Ints, label_rank: Ints
) -> Ints:
    """The order of ``rows`` by (document's position, :func:`content_key`): one stable
    lexsort of the arrays; rows equal in all of them (rare) are ordered by their content
    key, the attributes serialised only there."""
    return _ordered(doc, start, end, label_rank, lambda i: content_key(rows[i]))


def _ordered(
    doc: Ints, start: Ints, end: Ints, label_rank: Ints, tie_key: Callable[[int], Any]
) -> Ints:
    """:func:`content_order`, rows equal in all the arrays ordered by ``tie_key`` (of a
    row's index)."""
    order: Ints = np.lexsort([np.arange(len(doc)), label_rank, end, start, doc])
    keys = np.stack([doc, start, end, label_rank])[:, order]
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] = (keys[:, 1:] == keys[:, :-1]).all(axis=0)
    if not tied.any():
        return order
    group_starts = np.flatnonzero(tied[1:] & ~tied[:-1])
    for first in group_starts.tolist():
        last = first + 1
        while last < len(order) and tied[last]:
            last += 1
        members = order[first:last].tolist()
        order[first:last] = sorted(members, key=tie_key)
    return order


def content_key(annotation: Annotation) -> tuple[str, int, int, str, str, str]:
    """An annotation's sort key by what it says (ties broken by id, never by position)."""
    return (
        annotation.doc_id,
        annotation.start if annotation.start is not None else -1,
        annotation.end if annotation.end is not None else -1,
        annotation.label,
        _attributes_text(annotation.attributes),
        annotation.id,
    )


def _gold_values(
    gold: AnnotationSet | GoldColumnsSet, rows: list[Annotation] | Ints
) -> Callable[[str], list[Any]]:
    """Each of the gold spans' value of an attribute (None: none), in the spans' order:
    ``rows`` are the spans' records, or their rows of the columns."""
    if isinstance(gold, GoldColumnsSet):
        batch, at = gold.batch, np.asarray(rows).tolist()
        return lambda name: list(map(batch.values(name).__getitem__, at))
    attributes = list(map(_ATTRIBUTES, rows))
    return lambda name: list(map(methodcaller("get", name), attributes))


def _attributes_text(attributes: Mapping[str, Any]) -> str:
    return json.dumps(attributes, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class GoldColumnsSet:
    """A batch's gold annotations held as columns (:mod:`claimwire.corpus.gold_columns`),
    scored as :class:`AnnotationSet` gold is: the rows of ``batch`` name documents by their
    position in the release; ``doc_unit`` gives, for each document of the batch (from
    position ``first``), its index among the scored documents (-1: not scored)."""

    name: str
    batch: GoldBatch
    first: int
    doc_unit: Ints


def _objects(values: Any) -> Any:
    """``values`` as a one-dimensional object array (a list's items stay whole: lists too)."""
    if isinstance(values, np.ndarray):
        return values
    return np.fromiter(values, object, len(values))


def _agreeing(expected: Any, given: Any, decimal: Any, tolerance: float) -> Any:
    """Whether each given value agrees with its expected one (a boolean array): equal, or
    within ``tolerance`` where ``decimal``; never when the expected value is None. The equal
    ones compared by numpy over object arrays (lists or object arrays are taken), the decimal
    ones one by one."""
    gold, predicted = _objects(expected), _objects(given)
    count = len(gold)
    present = np.fromiter(map(is_not, gold, repeat(None)), bool, count)
    agree = np.zeros(count, dtype=bool)
    exact = present & ~decimal
    agree[exact] = (gold[exact] == predicted[exact]).astype(bool)
    for i in np.flatnonzero(present & decimal).tolist():
        agree[i] = values_agree(gold[i], predicted[i], "decimal", tolerance)
    return agree


def values_agree(gold: Any, predicted: Any, kind: str, tolerance: float) -> bool:
    """Equal attribute values; decimals within a relative ``tolerance``."""
    if kind == "decimal":
        try:
            g, p = Decimal(str(gold)), Decimal(str(predicted))
        except InvalidOperation:
            return False
        return abs(g - p) <= abs(g) * Decimal(str(tolerance))
    return bool(gold == predicted)


class SpanTaskScorer:
    """Spans under every scheme, per label, plus relations, attributes and disclosure."""

    def __init__(self, task: Task, schema: Schema, documents: Sequence[Document], unit: str):
        self.task = task
        self.schema = schema
        self.units = Units(documents, unit)

    def statistics(self, gold: AnnotationSet | GoldColumnsSet, pred: AnnotationSet) -> Statistics:
        """``gold`` as columns only for a task without relations or a disclosure label."""
        with pairs_located(self.units.doc_index, f"{pred.name} against {gold.name}"):
            return self._statistics(gold, pred)

    def _statistics(self, gold: AnnotationSet | GoldColumnsSet, pred: AnnotationSet) -> Statistics:
        task, units = self.task, self.units.count
        result = Statistics()
        encoder = SpanEncoder(self.units, task.labels)
        gold_spans: SpanSet
        gold_rows: list[Annotation] | Ints
        if isinstance(gold, GoldColumnsSet):
            assert not task.relations and not task.disclosure
            gold_spans, gold_rows = encoder.encode_columns(gold)
        else:
            gold_spans, gold_rows = encoder.encode(gold.annotations)
        pred_spans, pred_rows = encoder.encode(pred.annotations)
        matches = {}
        matcher = Matcher(gold_spans, pred_spans)
        columns: tuple[str, ...] = ("cor", "inc", "par", "mis", "spu")
        # a label every span of both sides has: its tables are the overall ones
        alone = [
            bool((gold_spans.label == index).all() and (pred_spans.label == index).all())
            for index in range(len(task.labels))
        ]
        for scheme in task.span_schemes:
            found = matcher.match(scheme)
            matches[scheme] = found
            overall = found.counts_by_unit(gold_spans, pred_spans, units)
            result.tables[TableKey.spans(scheme)] = Table(overall, span_prf, columns)
            for index, label in enumerate(task.labels):
                if alone[index]:
                    counts = overall.copy()
                else:
                    per_label = matcher.match(scheme, label=index)
                    counts = per_label.counts_by_unit(gold_spans, pred_spans, units)
                result.tables[TableKey.spans(scheme, label)] = Table(counts, span_prf, columns)
        if OVERLAP in task.schemes:
            columns = ("p_credit", "predicted", "r_credit", "gold")
            overall = overlap_credit_by_unit(gold_spans, pred_spans, units)
            result.tables[TableKey.spans(OVERLAP)] = Table(overall, overlap_prf, columns)
            for index, label in enumerate(task.labels):
                if alone[index]:
                    credit = overall.copy()
                else:
                    g = gold_spans.subset(gold_spans.label == index)
                    p = pred_spans.subset(pred_spans.label == index)
                    credit = overlap_credit_by_unit(g, p, units)
                result.tables[TableKey.spans(OVERLAP, label)] = Table(credit, overlap_prf, columns)
        primary = matches.get(task.primary) or next(iter(matches.values()), None)
        if primary is not None:
            result.extra["primary_match"] = (gold_rows, pred_rows, primary)
        if primary is not None and task.attributes:
            credited = primary.pred_outcome == COR
            if task.primary == "partial":
                credited |= primary.pred_outcome == PAR
            credited &= primary.pred_match >= 0
            # a predicted id credited with a gold partner: every row with that id has it
            ids = list(map(_ID, pred_rows))
            by_id = dict(
                zip(
                    map(ids.__getitem__, np.flatnonzero(credited).tolist()),
                    primary.pred_match[credited].tolist(),
                    strict=True,
                )
            )
            partner = _column(map(by_id.get, ids, repeat(-1)), len(pred_rows))
            gold_values = _gold_values(gold, gold_rows)
            self._attributes(gold_values, (pred_rows, pred_spans), gold_spans, partner, result)
        if isinstance(gold, GoldColumnsSet):
            return result  # no relations, no disclosure (asserted above)
        for relation in task.relations:
            self._relations(relation.type, relation.head, relation.tail, gold, pred, result)
        if task.disclosure:
            self._disclosure(gold, pred, result)
        return result

    def _attributes(
        self,
        gold_values: Callable[[str], list[Any]],
        pred: tuple[list[Annotation], SpanSet],
        gold_spans: SpanSet,
        partner: Ints,
        result: Statistics,
    ) -> None:
        """Per attribute: gold and predicted values counted per unit with ``bincount``; a
        predicted value is right when its credited gold partner (``partner``, -1: none)
        has an agreeing value, counted in the partner's unit. ``gold_values(name)``: each
        gold span's value of attribute ``name`` (None: none), in the spans' order."""
        pred_rows, pred_spans = pred
        units, tolerance = self.units.count, self.task.value_tolerance
        labels = self.task.labels
        pred_attributes = list(map(_ATTRIBUTES, pred_rows))
        for name in self.task.attributes:
            value_of = methodcaller("get", name)
            expected = gold_values(name)
            given = list(map(value_of, pred_attributes))
            has_gold = np.fromiter(map(is_not, expected, repeat(None)), bool, len(expected))
            has_pred = np.fromiter(map(is_not, given, repeat(None)), bool, len(given))
            specs = [self.schema.attribute(label, name) for label in labels]
            defined = np.array([spec is not None for spec in specs], dtype=bool)
            decimal = np.array([spec is not None and spec.type == "decimal" for spec in specs])
            compared = np.flatnonzero(has_pred & (partner >= 0) & defined[pred_spans.label])
            right = compared[
                _agreeing(
                    _objects(expected)[partner[compared]],
                    _objects(given)[compared],
                    decimal[pred_spans.label[compared]],
                    tolerance,
                )
            ]
            table = np.zeros((units, 3))
            table[:, 0] = np.bincount(gold_spans.unit[partner[right]], minlength=units)
            table[:, 1] = np.bincount(pred_spans.unit[has_pred], minlength=units)
            table[:, 2] = np.bincount(gold_spans.unit[has_gold], minlength=units)
            result.tables[TableKey.attribute(name)] = Table(
                table, count_prf, ("tp", "predicted", "gold")
            )

    def _unit(self, annotation: Annotation) -> int:
        return self.units.of(annotation.doc_id, annotation.start)

    def _relations(
        self,
        relation_type: str,
        heads: tuple[str, ...],
        tails: tuple[str, ...],
        gold: AnnotationSet,
        pred: AnnotationSet,
        result: Statistics,
    ) -> None:
        """A predicted relation counts when its type matches and both ends are matched to
        the gold relation's ends under the scheme; a document-level end (a SURVEY) matches
        the gold item of its label in its document (the k-th with the k-th)."""
        labels = tuple(dict.fromkeys((*heads, *tails)))
        encoder = SpanEncoder(self.units, labels)
        gold_spans, gold_rows = encoder.encode(gold.annotations)
        pred_spans, pred_rows = encoder.encode(pred.annotations)
        gold_items, pred_items, item_pairs = self._document_items(gold, pred, labels)
        gold_by_id = {a.id: a for a in (*gold_rows, *gold_items)}
        pred_by_id = {a.id: a for a in (*pred_rows, *pred_items)}
        matcher = Matcher(gold_spans, pred_spans)
        for scheme in self.task.span_schemes:
            found = matcher.match(scheme)
            to_gold = {
                pred_rows[p].id: gold_rows[g].id
                for p, g in enumerate(found.pred_match.tolist())
                if g >= 0 and _credited(found.pred_outcome[p], scheme)
            } | item_pairs
            gold_links = Counter(
                (r.head, r.tail)
                for r in gold.relations
                if r.type == relation_type and r.head in gold_by_id and r.tail in gold_by_id
            )
            table = np.zeros((self.units.count, 3))
            for gold_head, _ in gold_links.elements():
                table[self._unit(gold_by_id[gold_head]), 2] += 1
            remaining = Counter(gold_links)
            for relation in pred.relations:
                if relation.type != relation_type or relation.head not in pred_by_id:
                    continue
                table[self._unit(pred_by_id[relation.head]), 1] += 1
                key = (to_gold.get(relation.head, ""), to_gold.get(relation.tail, ""))
                if remaining[key] > 0:
                    remaining[key] -= 1
                    table[self._unit(gold_by_id[key[0]]), 0] += 1
            result.tables[TableKey.relation(relation_type, scheme)] = Table(
                table, count_prf, ("tp", "predicted", "gold")
            )

    def _document_items(
        self, gold: AnnotationSet, pred: AnnotationSet, labels: tuple[str, ...]
    ) -> tuple[list[Annotation], list[Annotation], dict[str, str]]:
        """Document-level annotations of ``labels`` on both sides, and predicted id → gold
        id for the k-th item of a label in a document on each side."""
        sides: list[list[Annotation]] = []
        ranked: list[dict[tuple[str, str, int], str]] = []
        for annotation_set in (gold, pred):
            items = [
                a
                for a in annotation_set.annotations
                if not a.is_span and a.label in labels and a.doc_id in self.units.doc_index
            ]
            seen: Counter[tuple[str, str]] = Counter()
            ranks = {}
            for a in items:
                seen[(a.doc_id, a.label)] += 1
                ranks[(a.doc_id, a.label, seen[(a.doc_id, a.label)])] = a.id
            sides.append(items)
            ranked.append(ranks)
        pairs = {ranked[1][key]: ranked[0][key] for key in ranked[1].keys() & ranked[0].keys()}
        return sides[0], sides[1], pairs

    def _disclosure(self, gold: AnnotationSet, pred: AnnotationSet, result: Statistics) -> None:
        """Per-field accuracy of the survey checklist and the core-score absolute error."""
        label = self.task.disclosure
        fields = list(self.schema.disclosure_fields)
        surveys: dict[str, dict[str, list[Annotation]]] = defaultdict(lambda: defaultdict(list))
        for side, annotation_set in (("gold", gold), ("pred", pred)):
            for annotation in annotation_set.annotations:
                if annotation.label == label and annotation.doc_id in self.units.doc_index:
                    surveys[annotation.doc_id][side].append(annotation)
        for sides in surveys.values():
            for listed in sides.values():
                listed.sort(key=content_key)  # ties go to content, not to file order
        accuracy = np.zeros((self.units.count, 2 * len(fields)))
        error = np.zeros((self.units.count, 2))
        for doc_id, sides in surveys.items():
            unit = self.units.of(doc_id, None)
            predicted = list(sides["pred"])
            for survey in sides["gold"]:
                partner = max(predicted, default=None, key=_agreement(survey, fields))
                if partner is not None:
                    predicted.remove(partner)
                for i, name in enumerate(fields):
                    got = partner.attributes.get(name) if partner else None
                    accuracy[unit, 2 * i] += got == survey.attributes.get(name)
                    accuracy[unit, 2 * i + 1] += 1
                gold_score = self.schema.disclosure_scores(survey)["core"] or 0.0
                pred_score = (
                    (self.schema.disclosure_scores(partner)["core"] or 0.0) if partner else 0.0
                )
                error[unit] += (abs(gold_score - pred_score), 1)
        result.extra["disclosure"] = {"fields": fields, "accuracy": accuracy, "error": error}


def _agreement(survey: Annotation, fields: list[str]) -> Callable[[Annotation], int]:
    """How many checklist fields another survey annotation shares with ``survey``."""

    def agree(other: Annotation) -> int:
        return sum(other.attributes.get(f) == survey.attributes.get(f) for f in fields)

    return agree


class StanceScorer:
    """SemEval-2016 Task 6: every gold (holder, target) pair is classified; F_avg is the mean
    F1 of the positive classes (FAVOR, AGAINST), macro-F1 adds NONE."""

    def __init__(
        self,
        task: Task,
        documents: Sequence[Document],
        unit: str,
        context: Sequence[Annotation] = (),
    ) -> None:
        self.task = task
        self.unit = unit
        self.units = Units(documents, "document" if unit == "item" else unit)
        self.context = context

    def statistics(self, gold: AnnotationSet, pred: AnnotationSet) -> Statistics:
        classes = self.task.classes
        index = {c: i for i, c in enumerate(classes)}
        label = self.task.labels[0]
        holders = {a.id: a for a in (*self.context, *gold.annotations, *pred.annotations)}

        def key(annotation: Annotation) -> tuple[str, str, str]:
            return stance_key(annotation, holders)

        gold_items = [
            a for a in gold.annotations if a.label == label and a.doc_id in self.units.doc_index
        ]
        predicted = {
            key(a): a.attributes.get("stance") for a in pred.annotations if a.label == label
        }
        result = Statistics()
        rows = len(gold_items) if self.unit == "item" else self.units.count
        confusion = np.zeros((rows, len(classes) ** 2))
        unanswered = 0
        gold_keys = set()
        for row, item in enumerate(gold_items):
            item_key = key(item)
            gold_keys.add(item_key)
            answer = predicted.get(item_key)
            if answer not in index:
                unanswered += 1
                answer = "NONE"
            unit = row if self.unit == "item" else self.units.of(item.doc_id, None)
            confusion[
                unit, index[str(item.attributes.get("stance"))] * len(classes) + index[str(answer)]
            ] += 1
        extra = sum(1 for k in predicted if k not in gold_keys)
        result.extra["stance"] = {
            "classes": list(classes),
            "confusion": confusion,
            "unanswered": unanswered,
            "ignored": extra,
        }
        return result


def merge_statistics(parts: Sequence[Statistics]) -> Statistics:
    """The statistics of consecutive batches of documents as one: tables stacked in unit
    order (each batch numbers its own units), counts added. The matched rows (for the
    error-analysis page) are kept only from a single batch. The parts' tables are consumed:
    each is let go once stacked, so the parts and their merge are not held twice."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    merged = Statistics(
        tables={
            key: dataclasses.replace(
                table, stats=np.vstack([p.tables.pop(key).stats for p in parts])
            )
            for key, table in list(first.tables.items())
        }
    )
    if "disclosure" in first.extra:
        merged.extra["disclosure"] = {
            "fields": first.extra["disclosure"]["fields"],
            **{
                key: np.vstack([p.extra["disclosure"][key] for p in parts])
                for key in ("accuracy", "error")
            },
        }
    if "stance" in first.extra:
        merged.extra["stance"] = {
            "classes": first.extra["stance"]["classes"],
            "confusion": np.vstack([p.extra["stance"]["confusion"] for p in parts]),
            **{
                key: sum(p.extra["stance"][key] for p in parts) for key in ("unanswered", "ignored")
            },
        }
    return merged


_PER_UNIT_EXTRA = {"disclosure": ("accuracy", "error"), "stance": ("confusion",)}
"""The arrays of ``Statistics.extra`` with a row per unit (stacked like the tables)."""


class StackedStatistics:
    """Consecutive batches' statistics stacked as they come into arrays of ``rows`` rows
    (the units expected; grown by half when more come), allocated once: a batch's arrays are
    copied in and let go, so no batch's small arrays stay behind the stack. The result is
    :func:`merge_statistics` of the batches, to the last digit."""

    def __init__(self, rows: int = 0) -> None:
        self.rows = rows
        self.first: Statistics | None = None
        self.batches = 0
        self.arrays: dict[tuple[str, Any], Floats] = {}
        self.filled: dict[tuple[str, Any], int] = {}
        self.counts: Counter[str] = Counter()

    def add(self, part: Statistics) -> None:
        self.batches += 1
        if self.first is None:
            self.first = part  # a single batch is its own merge (matches and all)
        arrays: dict[tuple[str, Any], Floats] = {
            ("tables", key): table.stats for key, table in part.tables.items()
        }
        for name, keys in _PER_UNIT_EXTRA.items():
            arrays.update({(name, k): part.extra[name][k] for k in keys if name in part.extra})
        for path, array in arrays.items():
            self._append(path, array)
        if "stance" in part.extra:
            self.counts.update({k: part.extra["stance"][k] for k in ("unanswered", "ignored")})

    def _append(self, path: tuple[str, Any], rows: Floats) -> None:
        held = self.arrays.get(path)
        at = self.filled.get(path, 0)
        end = at + len(rows)
        if held is None or end > len(held):
            grown = max(end, self.rows if held is None else len(held) * 3 // 2)
            array = np.empty((grown, *rows.shape[1:]), dtype=rows.dtype)
            if held is not None:
                array[:at] = held[:at]
            held = self.arrays[path] = array
        held[at:end] = rows
        self.filled[path] = end

    def _stacked(self, path: tuple[str, Any]) -> Floats:
        return self.arrays[path][: self.filled[path]]

    def merged(self) -> Statistics | None:
        """Every batch's statistics as one (a single batch's as they are), or None."""
        first = self.first
        if first is None or self.batches == 1:
            return first
        merged = Statistics(
            tables={
                key: dataclasses.replace(table, stats=self._stacked(("tables", key)))
                for key, table in first.tables.items()
            }
        )
        if "disclosure" in first.extra:
            merged.extra["disclosure"] = {
                "fields": first.extra["disclosure"]["fields"],
                **{k: self._stacked(("disclosure", k)) for k in _PER_UNIT_EXTRA["disclosure"]},
            }
        if "stance" in first.extra:
            merged.extra["stance"] = {
                "classes": first.extra["stance"]["classes"],
                "confusion": self._stacked(("stance", "confusion")),
                **{k: self.counts[k] for k in ("unanswered", "ignored")},
            }
        return merged


def statistics_notes(task: Task, statistics: Statistics) -> list[str]:
    """What a reader of the scores should know: labels absent from the gold, gold pairs
    without an answer, undefined disclosure scores."""
    notes = []
    if "stance" in statistics.extra:
        stance = statistics.extra["stance"]
        classes = stance["classes"]
        if stance["unanswered"]:
            notes.append(
                f"{stance['unanswered']} gold (holder, target) pairs had no prediction and "
                "count as NONE."
            )
        if stance["ignored"]:
            notes.append(
                f"{stance['ignored']} predicted pairs are not in the gold and were ignored."
            )
        totals = stance["confusion"].sum(0).reshape(len(classes), len(classes))
        for name in task.positive:
            if totals[classes.index(name)].sum() == 0:
                notes.append(
                    f"{name} does not occur in the gold: its F1 is 0 and F_avg = mean of the "
                    "positive classes still counts it, as the SemEval-2016 script does."
                )
        return notes
    for label in task.labels:
        if not _gold_count(statistics, label):
            notes.append(f"{label} does not occur in the gold: its scores are 0.")
    disclosure = statistics.extra.get("disclosure")
    if disclosure is not None and not disclosure["accuracy"][:, 1::2].any():
        notes.append(f"No {task.disclosure} in the gold: disclosure scores are not defined.")
    return notes


def _gold_count(statistics: Statistics, label: str) -> int:
    """Gold spans of ``label``: each is correct, incorrect, partial or missed under any
    scheme (the overlap table counts them in its ``gold`` column)."""
    for key, table in statistics.tables.items():
        if key.family == "spans" and key.name == label:
            columns = table.stats.sum(0)
            if "gold" in table.columns:
                return int(columns[table.columns.index("gold")])
            return int(columns[:4].sum())
    return 0


def stance_scores(
    confusion: Floats, classes: Sequence[str], positive: Sequence[str]
) -> dict[str, Any]:
    """Per-class P/R/F1, F_avg and macro-F1 from summed ``(..., n²)`` confusion counts."""
    n = len(classes)
    matrix = confusion.reshape(*confusion.shape[:-1], n, n)
    true_positive = np.diagonal(matrix, axis1=-2, axis2=-1)
    precision = safe_divide(true_positive, matrix.sum(-2))
    recall = safe_divide(true_positive, matrix.sum(-1))
    f1 = safe_divide(2 * precision * recall, precision + recall)
    positive_index = [classes.index(c) for c in positive]
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "f_avg": f1[..., positive_index].mean(-1),
        "macro_f1": f1.mean(-1),
    }
