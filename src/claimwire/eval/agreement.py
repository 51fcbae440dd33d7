"""Inter-annotator agreement between annotation sets — with the evaluation's own matcher.

* spans: pairwise F1 under every scheme (one set as reference, the other as prediction: F1
  is symmetric), pooled and per label, and Krippendorff's unitizing α_u per label over the
  character continuum;
* attributes of the spans two sets match exactly (strict): Cohen's κ (scikit-learn) per pair
  and Krippendorff's α (``krippendorff``; nominal for labels and free text — compared
  case- and space-folded — interval for numbers) over all sets. An optional attribute one
  side left empty is skipped (``missing="skip"``), or counts as the value "empty"
  (``"value"``: then two sets leaving it empty agree); ``"both"`` reports the two;
* relations: pairwise F1 per relation type (``attributed_to``, ``from_survey``,
  ``evidence_of``) and for ``cue`` (a content's cue), ends matched strictly — a document-
  level end (a SURVEY) by its label in its document; κ of the quote type of shared links;
* stance: κ and α over the (holder, target) pairs;
* SURVEY: per checklist field, and its other attributes (sampling type, risk flags, name).

Sets are compared where they overlap (:mod:`claimwire.eval.coverage`): each pair on the
documents both annotated, all sets on those every set annotated. Degenerate cases are
stated, never NaN: a statistic that cannot be computed carries a reason.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from claimwire.annotation.schema import Schema
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import AnnotationSet, stance_key
from claimwire.eval.coverage import Coverage, annotated
from claimwire.eval.exact_sums import (
    AlphaSums,
    KappaSums,
    Level,
    Statistic,
    credit_parts,
    credit_stats,
)
from claimwire.eval.matching import COR, SCHEMES, Matcher, SpanSet, pairs_located
from claimwire.eval.metrics import overlap_prf, span_prf
from claimwire.eval.pair_totals import Lazy, LazyList, PairTotals, pair_ends, pair_number
from claimwire.eval.unitizing import UnitizingSums
from claimwire.model import Annotation, Document

__all__ = [
    "MISSING_MODES",
    "PAIR_SECTIONS",
    "AgreementReport",
    "AgreementStudy",
    "AgreementSums",
    "Lazy",
    "Statistic",
    "json_ready",
]


@dataclass
class AgreementReport:
    sets: list[str]
    pairwise_f1: dict[str, dict[str, float]] = field(default_factory=dict)
    """``{"A vs B": {scheme: F1}}``."""
    per_label_f1: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    """``{"A vs B": {label: {scheme: F1}}}``."""
    relations: dict[str, dict[str, Statistic]] = field(default_factory=dict)
    """``{"attributed_to": {"F1 A vs B": …}, "cue": …, "attributed_to.quote_type": …}``."""
    survey: dict[str, dict[str, Statistic]] = field(default_factory=dict)
    """SURVEY attributes other than the checklist: ``{name: {"agreement", "alpha"}}``."""
    unitizing: dict[str, Statistic] = field(default_factory=dict)
    attributes: dict[str, dict[str, Statistic]] = field(default_factory=dict)
    """``{"label.attribute": {"kappa A vs B": …, "alpha": …}}``."""
    stance: dict[str, Statistic] = field(default_factory=dict)
    disclosure: dict[str, dict[str, Statistic]] = field(default_factory=dict)
    """``{field: {"agreement": share of surveys coded identically, "alpha": α}}``."""
    documents: dict[str, Any] = field(default_factory=dict)
    """Documents compared: ``{"annotated": {set: n}, "every": n, "pairs": {"A vs B": n}}``."""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def dump(group: Mapping[str, Statistic]) -> dict[str, Any]:
            return {k: v.to_dict() for k, v in group.items()}

        return {
            "sets": self.sets,
            "pairwise_f1": self.pairwise_f1,
            "per_label_f1": self.per_label_f1,
            "relations": {k: dump(v) for k, v in self.relations.items()},
            "survey": {k: dump(v) for k, v in self.survey.items()},
            "unitizing_alpha": dump(self.unitizing),
            "attributes": {k: dump(v) for k, v in self.attributes.items()},
            "stance": dump(self.stance),
            "disclosure": {k: dump(v) for k, v in self.disclosure.items()},
            "documents": self.documents,
            "notes": self.notes,
        }


PAIR_SECTIONS = ("pairwise_f1", "per_label_f1", "relations", "attributes", "stance")
"""The report's sections that grow with the pairs of sets (a pair's F1, κ)."""


def json_ready(value: Any) -> Any:
    """``value`` (what :meth:`AgreementSums.streamed` gives) with each Statistic as its
    ``to_dict``, still lazy: for :func:`claimwire.cli.common.print_json`."""
    if isinstance(value, Lazy):
        return Lazy(lambda: ((key, json_ready(item)) for key, item in value.items()), value.length)
    if isinstance(value, Statistic):
        return value.to_dict()
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    return value


def _held(value: Any) -> Any:
    """``value`` with every :class:`Lazy` in it made a dict (and a :class:`LazyList` a
    list)."""
    if isinstance(value, (Lazy, dict)):
        return {key: _held(item) for key, item in value.items()}
    if isinstance(value, LazyList):
        return list(value)
    return value


Missing = Literal["skip", "value", "both"]
MISSING_MODES = ("skip", "value", "both")
EMPTY = "(empty)"
"""What an optional attribute left empty counts as under ``missing="value"``."""


def _folded(value: Any) -> Any:
    """Free text compared as people read it: case- and space-folded."""
    return " ".join(str(value).casefold().split()) if isinstance(value, str) else value


Pair = tuple[int, int, int]
"""A pair of sets: its number (:func:`~claimwire.eval.pair_totals.pair_number`), its two sets."""


def _links(annotation_set: AnnotationSet, relation_types: Iterable[str]) -> dict[str, Counter[Any]]:
    """Each relation type's links (and ``cue`` links) keyed by their ends: a span by its
    document, label and offsets, a document-level item by its document, label and rank
    among that label's items there. Ends and cues resolve in the relation's own document
    only (one elsewhere counts as dangling), so batches never change what is linked."""
    ends: dict[tuple[str, str], tuple[Any, ...]] = {}
    ranks: Counter[tuple[str, str]] = Counter()
    for a in annotation_set.annotations:
        if a.is_span:
            ends[(a.doc_id, a.id)] = (a.doc_id, a.label, a.start, a.end)
        else:
            ranks[(a.doc_id, a.label)] += 1
            ends[(a.doc_id, a.id)] = (a.doc_id, a.label, ranks[(a.doc_id, a.label)])
    links: dict[str, Counter[Any]] = {name: Counter() for name in relation_types}
    links["cue"] = Counter()
    for r in annotation_set.relations:
        head, tail = ends.get((r.doc_id, r.head)), ends.get((r.doc_id, r.tail))
        if head is None or tail is None:
            continue
        links.setdefault(r.type, Counter())[(head, tail)] += 1
        cue = r.attributes.get("cue")
        if isinstance(cue, str) and (r.doc_id, cue) in ends:
            links["cue"][(head, ends[(r.doc_id, cue)])] += 1
    return links


def _quote_types(annotation_set: AnnotationSet) -> dict[Any, Any]:
    spans = {
        (a.doc_id, a.id): (a.doc_id, a.label, a.start, a.end) for a in annotation_set.annotations
    }
    return {
        (spans[(r.doc_id, r.head)], spans[(r.doc_id, r.tail)]): r.attributes.get("quote_type")
        for r in annotation_set.relations
        if r.type == "attributed_to" and (r.doc_id, r.head) in spans and (r.doc_id, r.tail) in spans
    }


def _first_surveys(annotation_set: AnnotationSet, schema: Schema) -> dict[str, Annotation]:
    """Each document's first SURVEY in the set."""
    found: dict[str, Annotation] = {}
    for a in annotation_set.annotations:
        if schema.is_survey(a.label) and a.doc_id not in found:
            found[a.doc_id] = a
    return found


@dataclass(frozen=True)
class _View:
    """A set's records on some documents of a batch, encoded for every comparison."""

    annotation_set: AnnotationSet
    spans: SpanSet
    rows: list[Annotation]
    labels: set[str]
    """The span labels it uses."""
    links: dict[str, Counter[Any]]
    quotes: dict[Any, Any]
    stances: dict[tuple[str, str, str], Any]


@dataclass
class _Shares:
    """Items coded by every set, how many of them identically, and their α."""

    alpha: AlphaSums = field(default_factory=lambda: AlphaSums("nominal"))
    complete: int = 0
    agreed: int = 0

    def add(self, column: list[Any]) -> None:
        self.alpha.add(column)
        if None not in column:
            self.complete += 1
            self.agreed += len(set(column)) == 1

    def result(self) -> dict[str, Statistic]:
        share = (
            Statistic(self.agreed / self.complete, units=self.complete)
            if self.complete
            else Statistic(None, "no survey coded by every set")
        )
        return {"agreement": share, "alpha": self.alpha.result()}


class AgreementSums:
    """The sufficient statistics of an agreement study, added a batch of documents at a
    time (:meth:`add`, in the release's order) and turned into a report once
    (:meth:`report`). Counts are integers, κ a contingency table, α coincidences and
    unitizing α lengths by length: nothing depends on where batches start or on the order
    of records, and memory holds no record and no document once its batch is added."""

    def __init__(
        self,
        names: Sequence[str],
        schema: Schema,
        labels: Sequence[str] | None = None,
        missing: Missing = "both",
    ) -> None:
        if missing not in MISSING_MODES:
            raise ClaimwireError(f"missing must be one of {', '.join(MISSING_MODES)}")
        if len(names) < 2:
            raise ClaimwireError("agreement needs at least two annotation sets (annotators)")
        self.names, self.schema, self.missing = list(names), schema, missing
        self.candidates = list(labels or schema.span_labels())
        self.present: set[str] = set()
        """The span labels the sets use."""
        self.length = 0
        """The release's characters so far: the continuum unitizing α is over."""
        self.coverage = Coverage(self.names)
        pairs = self.coverage.pairs
        self.slots = len(self.candidates) + 1
        """A pair's span totals: pooled (0), then per candidate label (1 + its index)."""
        self.counts = PairTotals(pairs, _COUNTS)
        """Per pair and slot: COR, INC, PAR, MIS, SPU per scheme, then the overlap credit's
        predicted and gold spans."""
        self.credits = PairTotals(pairs, 1)
        """Per pair, slot, side (0: precision, 1: recall) and span length: the overlap
        credit's integer numerator (``what`` = (length × slots + slot) × 2 + side)."""
        self.kappas = PairTotals(pairs, 1)
        """Per pair and cell (:attr:`cells`): how many units the pair coded so."""
        self.cells: dict[tuple[int, str, str], int] = {}
        """κ cells: ``(table, left value, right value)`` → its number."""
        self.tables: dict[tuple[str, str], int] = {}
        """κ tables: ``(what, mode)`` → its number (``("stance", "")``, ``("quote_type",
        "")``, ``("CLAIM.claim_type", "skip")``)."""
        self._cell_list: list[tuple[int, str, str]] = []
        self._cell_tables: np.ndarray[Any, np.dtype[np.int64]] | None = None
        self.alphas: dict[tuple[Any, ...], AlphaSums] = {}
        self.links = PairTotals(pairs, 2)
        """Per pair and relation kind (:attr:`kinds`): links in both sets (as multisets),
        links in either."""
        self.kinds: dict[str, int] = {}
        self.extra_kinds: list[dict[str, None]] = [{} for _ in names]
        self.quote_types = PairTotals(pairs, 1)
        """The pairs where a set has attributed_to links (their quote type's κ is reported)."""
        self._attributes = {
            label: self._categorical(label) if label in schema.labels else []
            for label in self.candidates
        }
        self.unitizing = {label: UnitizingSums(len(names)) for label in self.candidates}
        self.unit_counts: Counter[str] = Counter()
        self.stance = False
        self.disclosure = {name: _Shares() for name in schema.disclosure_fields}
        self.surveys: set[str] = set()
        self.survey = {name: _Shares() for name in self._survey_attributes()}

    def _survey_attributes(self) -> list[str]:
        names: dict[str, None] = {}
        for label, spec in self.schema.labels.items():
            if self.schema.is_survey(label):
                for name, attribute in spec.attributes.items():
                    if name not in self.schema.disclosure_fields and attribute.type != "ref":
                        names[name] = None
        return list(names)

    def _alpha(self, key: tuple[Any, ...], level: Level = "nominal") -> AlphaSums:
        found = self.alphas.get(key)
        if found is None:
            found = self.alphas[key] = AlphaSums(level)
        return found

    @property
    def _modes(self) -> tuple[str, ...]:
        return ("skip", "value") if self.missing == "both" else (self.missing,)

    def _modes_of(self, optional: bool) -> tuple[str, ...]:
        return self._modes if optional else ("skip",)

    def _coded(self, value: Any, optional: bool, mode: str) -> Any:
        if value is None:
            return EMPTY if optional and mode == "value" else None
        return _folded(value)

    @staticmethod
    def _suffix(mode: str) -> str:
        return ", empty as a value" if mode == "value" else ""

    def _categorical(self, label: str) -> list[tuple[str, Level, bool]]:
        """``(attribute, level, optional)`` for every attribute agreement can be measured on:
        choices, booleans and free text (nominal), decimals (interval)."""
        spec = self.schema.labels[label].attributes
        levels: dict[str, Level] = {
            "decimal": "interval",
            "choice": "nominal",
            "boolean": "nominal",
            "text": "nominal",
        }
        return [
            (name, levels[a.type], not a.required) for name, a in spec.items() if a.type in levels
        ]

    # ---- one batch -----------------------------------------------------------------------

    def add(self, documents: Sequence[Document], sets: Sequence[AnnotationSet]) -> None:
        """A batch: the next documents of the release, and each set's records on them. Each
        pair is compared on the documents both sets annotated, all sets (α) on those every
        set annotated (:mod:`claimwire.eval.coverage`)."""
        places = {d.id: place for place, d in enumerate(documents)}
        sets = [_on(s, places) for s in sets]
        held = [annotated(s) for s in sets]
        every = set.intersection(*held)
        numbers, shared = self._meeting(held)
        self.coverage.add(held, every, list(map(int, numbers)), list(map(int, shared)))
        whole = [self._view(s, places) for s in sets]

        def on(index: int, documents: set[str]) -> _View:
            if held[index] <= documents:
                return whole[index]
            return self._view(_on(sets[index], documents), places)

        for index, view in enumerate(whole):
            self.extra_kinds[index].update(dict.fromkeys(view.links))
        for pair in self._pairs_of(numbers):  # a pair that shares no document adds nothing
            both = held[pair[1]] & held[pair[2]]
            x, y = on(pair[1], both), on(pair[2], both)
            self.present.update(x.labels | y.labels)
            if len(x.spans) or len(y.spans):
                with pairs_located(places, self._pair_name(pair)):
                    self._pair_spans(pair[0], x.spans, y.spans, x.rows, y.rows)
            self._pair_relations(pair[0], x, y)
            self.stance = self.stance or bool(x.stances or y.stances)
            for key in x.stances.keys() | y.stances.keys():
                self._kappa_add(pair[0], ("stance", ""), x.stances.get(key), y.stances.get(key))
        common = [on(index, every) for index in range(len(sets))]
        offsets, begin = [0] * len(documents), self.length
        for place, document in enumerate(documents):
            offsets[place] = self.length
            if document.id in every:
                self.length += len(document.text)
        encoded = [(view.spans, view.rows) for view in common]
        self._add_unitizing(encoded, offsets, begin)
        self._add_attribute_alpha(encoded)
        self._add_stance(common)
        self._add_surveys([view.annotation_set for view in common])

    def _meeting(
        self, held: Sequence[set[str]]
    ) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
        """The pairs (by number, ascending) that annotated documents of this batch in common,
        and how many: documents annotated by the same sets are counted together."""
        holders: defaultdict[str, list[int]] = defaultdict(list)
        for index, documents in enumerate(held):
            for doc_id in documents:
                holders[doc_id].append(index)
        groups = Counter(tuple(found) for found in holders.values() if len(found) > 1)
        numbers, weights = [], []
        for group, times in groups.items():
            members = np.array(group, np.int64)
            x, y = np.triu_indices(len(members), 1)
            numbers.append(pair_number(self.coverage.starts, members[x], members[y]))
            weights.append(np.full(len(x), times, np.int64))
        if not numbers:
            empty = np.empty(0, np.int64)
            return empty, empty
        found, inverse = np.unique(np.concatenate(numbers), return_inverse=True)
        return found, np.bincount(inverse, np.concatenate(weights)).astype(np.int64)

    def _pairs_of(self, numbers: np.ndarray[Any, np.dtype[np.int64]]) -> Iterator[Pair]:
        """``(number, x, y)`` of the pairs numbered ``numbers``, a thousand at a time."""
        for start in range(0, len(numbers), 1024):
            chunk = numbers[start : start + 1024]
            x, y = pair_ends(self.coverage.starts, chunk)
            yield from zip(chunk.tolist(), x.tolist(), y.tolist(), strict=True)

    def _compared(self) -> Iterator[Pair]:
        """The pairs that annotated a document in common, in order."""
        return self._pairs_of(self.coverage.shared()[0])

    def _kappa_add(
        self, pair: int, table: tuple[str, str], left: Any, right: Any, times: int = 1
    ) -> None:
        """A unit the pair coded ``left`` and ``right`` (skipped if either is ``None``) in
        κ table ``table``, as :meth:`KappaSums.add` counts it."""
        if left is None or right is None:
            return
        number = self.tables.setdefault(table, len(self.tables))
        cell = (number, str(left), str(right))
        code = self.cells.get(cell)
        if code is None:
            code = self.cells[cell] = len(self.cells)
            self._cell_list.append(cell)
            self._cell_tables = None
        self.kappas.add(pair, code, (times,))

    def _kappa(self, pair: int, table: tuple[str, str]) -> Statistic:
        """κ of the pair's table ``table``."""
        number = self.tables.get(table)
        sums = KappaSums()
        if number is None:
            return sums.result()
        if self._cell_tables is None:
            self._cell_tables = np.array([cell[0] for cell in self._cell_list], np.int64)
        codes, counts = self.kappas.of(pair)
        mine = self._cell_tables[codes] == number
        for code, count in zip(codes[mine].tolist(), counts[mine, 0].tolist(), strict=True):
            _, left, right = self._cell_list[code]
            sums.cells[(left, right)] += count
        return sums.result()

    def _view(self, annotation_set: AnnotationSet, places: dict[str, int]) -> _View:
        spans, rows = self._spans(annotation_set, places)
        holders: defaultdict[str, dict[str, Annotation]] = defaultdict(dict)
        for a in annotation_set.annotations:  # a holder resolves in its stance's document
            holders[a.doc_id][a.id] = a
        return _View(
            annotation_set,
            spans,
            rows,
            {a.label for a in annotation_set.annotations if a.is_span},
            _links(annotation_set, self.schema.relations),
            _quote_types(annotation_set),
            {
                stance_key(a, holders[a.doc_id]): a.attributes.get("stance")
                for a in annotation_set.annotations
                if a.label == "STANCE"
            },
        )

    def _spans(
        self, annotation_set: AnnotationSet, places: dict[str, int]
    ) -> tuple[SpanSet, list[Annotation]]:
        rows, kept = [], []
        index = {label: i for i, label in enumerate(self.candidates)}
        for a in annotation_set.annotations:
            if a.is_span and a.label in index:
                assert a.start is not None and a.end is not None
                rows.append((places[a.doc_id], index[a.label], a.start, a.end, 0))
                kept.append(a)
        return SpanSet.from_tuples(rows), kept

    def _pair_spans(
        self,
        pair: int,
        span_x: SpanSet,
        span_y: SpanSet,
        rows_x: list[Annotation],
        rows_y: list[Annotation],
    ) -> None:
        matcher = Matcher(span_x, span_y)
        used = np.union1d(span_x.label, span_y.label).tolist()  # the other labels add nothing
        totals = {slot: np.zeros(_COUNTS, np.int64) for slot in (0, *(1 + i for i in used))}
        for number, scheme in enumerate(SCHEMES):
            at = slice(5 * number, 5 * number + 5)
            totals[0][at] += (
                matcher.match(scheme).counts_by_unit(span_x, span_y, 1).sum(0).astype(np.int64)
            )
            for index in used:
                found = matcher.match(scheme, label=index)
                totals[1 + index][at] += (
                    found.counts_by_unit(span_x, span_y, 1).sum(0).astype(np.int64)
                )
        self._add_credit(pair, 0, span_x, span_y, totals[0])
        for index in used:
            x, y = span_x.subset(span_x.label == index), span_y.subset(span_y.label == index)
            self._add_credit(pair, 1 + index, x, y, totals[1 + index])
        for slot, row in totals.items():
            self.counts.add(pair, slot, row.tolist())
        strict = matcher.match("strict")
        alike: Counter[tuple[Any, ...]] = Counter()
        for p, g in enumerate(strict.pred_match.tolist()):
            if g < 0 or strict.pred_outcome[p] != COR:
                continue
            label = rows_y[p].label
            left, right = rows_x[g].attributes, rows_y[p].attributes
            for attribute, level, optional in self._attributes[label]:
                if level == "nominal":
                    values = left.get(attribute), right.get(attribute)
                    alike[(label, attribute, optional, *values)] += 1
        for (label, attribute, optional, a, b), times in alike.items():
            for mode in self._modes_of(optional):
                self._kappa_add(
                    pair,
                    (f"{label}.{attribute}", mode),
                    self._coded(a, optional, mode),
                    self._coded(b, optional, mode),
                    times,
                )

    def _add_credit(
        self, pair: int, slot: int, gold: SpanSet, pred: SpanSet, totals: np.ndarray[Any, Any]
    ) -> None:
        """The overlap credit of ``pred`` against ``gold`` in the pair's ``slot``: its
        numerators per span length, and (into ``totals``) how many spans each side has."""
        precision, recall, predicted, golds = credit_parts(gold, pred)
        for side, found in enumerate((precision, recall)):
            for length, numerator in found:
                self.credits.add(pair, (length * self.slots + slot) * 2 + side, (numerator,))
        totals[-2] += predicted
        totals[-1] += golds

    def _pair_relations(self, pair: int, x: _View, y: _View) -> None:
        for kind in dict.fromkeys([*x.links, *y.links]):
            left, right = x.links.get(kind, Counter()), y.links.get(kind, Counter())
            both = sum((left & right).values())
            either = sum(left.values()) + sum(right.values())
            if either:  # none adds nothing
                self.links.add(pair, self.kinds.setdefault(kind, len(self.kinds)), (both, either))
        if x.quotes or y.quotes:
            self.quote_types.add(pair, 0, (1,))
            for key in x.quotes.keys() & y.quotes.keys():
                self._kappa_add(pair, ("quote_type", ""), x.quotes[key], y.quotes[key])

    def _add_unitizing(
        self, encoded: list[tuple[SpanSet, list[Annotation]]], offsets: list[int], begin: int
    ) -> None:
        for index, label in enumerate(self.candidates):
            coders = [
                [
                    (offsets[d] + s, offsets[d] + e)
                    for d, s, e in zip(
                        *(
                            a[spans.label == index].tolist()
                            for a in (spans.doc, spans.start, spans.end)
                        ),
                        strict=True,
                    )
                ]
                for spans, _ in encoded
            ]
            self.unit_counts[label] += sum(map(len, coders))
            self.unitizing[label].add(coders, begin, self.length - begin)

    def _add_attribute_alpha(self, encoded: list[tuple[SpanSet, list[Annotation]]]) -> None:
        """α over all sets: units are the spans of the first set, matched strictly in each other
        (alike units are counted, then added once)."""
        base_spans, base_rows = encoded[0]
        if not len(base_spans):
            return
        partners = []
        for spans, rows in encoded[1:]:
            found = Matcher(base_spans, spans).match("strict")
            partners.append(
                {
                    g: rows[p]
                    for p, g in enumerate(found.pred_match.tolist())
                    if g >= 0 and found.pred_outcome[p] == COR
                }
            )
        alike: Counter[tuple[Any, ...]] = Counter()
        for i, base in enumerate(base_rows):
            matched = tuple(i in p for p in partners)
            others = [p.get(i) for p in partners]
            for attribute, _, _ in self._attributes[base.label]:
                raw = (
                    base.attributes.get(attribute),
                    *(None if o is None else o.attributes.get(attribute) for o in others),
                )
                alike[(base.label, attribute, raw, matched)] += 1
        levels = {
            (label, attribute): (level, optional)
            for label, found in self._attributes.items()
            for attribute, level, optional in found
        }
        for (label, attribute, raw, matched), times in alike.items():
            level, optional = levels[(label, attribute)]
            if level == "interval":
                self._alpha((label, attribute, level), level).add(
                    [None if v is None else float(v) for v in raw], times
                )
                continue
            for mode in self._modes_of(optional):
                # a span the other set did not match stays missing in every mode
                column = [self._coded(raw[0], optional, mode)]
                column += [
                    self._coded(v, optional, mode) if m else None
                    for v, m in zip(raw[1:], matched, strict=True)
                ]
                self._alpha((label, attribute, mode)).add(column, times)

    def _add_stance(self, views: Sequence[_View]) -> None:
        keys = set().union(*(view.stances for view in views))
        self.stance = self.stance or bool(keys)
        for key in keys:
            self._alpha(("stance",)).add([view.stances.get(key) for view in views])

    def _add_surveys(self, sets: Sequence[AnnotationSet]) -> None:
        surveys = [_first_surveys(s, self.schema) for s in sets]
        for found in surveys:
            self.surveys.update(a.label for a in found.values())
        for doc in set().union(*surveys):
            for name, shares in self.disclosure.items():
                shares.add([s[doc].attributes.get(name) if doc in s else None for s in surveys])
            for name, shares in self.survey.items():
                shares.add(
                    [_folded(s[doc].attributes.get(name)) if doc in s else None for s in surveys]
                )

    # ---- the report ----------------------------------------------------------------------

    def report(self) -> AgreementReport:
        """The whole report, every pair's sections held (:meth:`streamed` holds none)."""
        found = self.streamed()
        report = AgreementReport(self.names)
        for name in PAIR_SECTIONS:
            setattr(report, name, _held(found[name]))
        report.unitizing = found["unitizing_alpha"]
        report.survey, report.disclosure = found["survey"], found["disclosure"]
        report.documents, report.notes = _held(found["documents"]), list(found["notes"])
        return report

    def streamed(self) -> dict[str, Any]:
        """The report as :meth:`AgreementReport.to_dict` gives it, but for its Statistic
        values (``to_dict`` them), its per-pair sections (:data:`PAIR_SECTIONS`), its pairs'
        document counts and its notes lazy: made from the sums as they are read, so memory
        holds no pair's section past its reading."""
        for totals in (self.counts, self.credits, self.kappas, self.links, self.quote_types):
            totals.merge()
        labels = [label for label in self.candidates if label in self.present]
        compared = len(self.coverage.shared()[0])
        first = []
        if not labels and compared:
            first.append("No span annotations in these sets: span agreement is not defined.")
        after = self.coverage.notes()
        notes = LazyList(lambda: itertools.chain(first, after), len(first) + len(after))
        unitizing = {}
        for label in labels:
            result = self.unitizing[label].result(max(self.length, 1), label)
            reason = "" if result.alpha is not None else "expected disagreement is 0"
            unitizing[label] = self._over_every(
                Statistic(result.alpha, reason, self.unit_counts[label])
            )
        survey = {}
        for label in sorted(self.surveys):
            for name in self.schema.labels[label].attributes:
                if name in self.survey:
                    survey[name] = self.survey[name].result()
        disclosure = (
            {name: s.result() for name, s in self.disclosure.items()} if self.surveys else {}
        )

        def lazy(entries: Any) -> Lazy:
            return Lazy(lambda: entries(labels))

        return {
            "sets": self.names,
            "pairwise_f1": Lazy(
                lambda: ((self._pair_name(p), self._f1s(p, [0])[0]) for p in self._compared()),
                compared,
            ),
            "per_label_f1": Lazy(lambda: self._label_f1s(labels), compared),
            "relations": lazy(self._relation_groups),
            "survey": survey,
            "unitizing_alpha": unitizing,
            "attributes": lazy(self._attribute_groups),
            "stance": lazy(self._stance_entries),
            "disclosure": disclosure,
            "documents": self.coverage.to_dict(),
            "notes": notes,
        }

    def _label_f1s(self, labels: list[str]) -> Iterator[tuple[str, Any]]:
        slots = [1 + self.candidates.index(label) for label in labels]
        for pair in self._compared():
            yield (self._pair_name(pair), dict(zip(labels, self._f1s(pair, slots), strict=True)))

    def _relation_groups(self, labels: list[str]) -> Iterator[tuple[str, Any]]:
        base = [*self.schema.relations, "cue"]
        kinds = dict.fromkeys([*base, *(kind for found in self.extra_kinds for kind in found)])

        def has(pair: Pair, kind: str) -> bool:
            return kind in base or any(kind in self.extra_kinds[i] for i in pair[1:])

        for kind in kinds:

            def links(kind: str = kind) -> Iterator[tuple[str, Statistic]]:
                code = self.kinds.get(kind, -1)
                for pair in self._compared():
                    if has(pair, kind):
                        kinds, totals = self.links.of(pair[0])
                        at = np.flatnonzero(kinds == code)
                        both, either = totals[at[0]].tolist() if len(at) else (0, 0)
                        yield (
                            f"F1 {self._pair_name(pair)}",
                            (
                                Statistic(2 * both / either, units=either)
                                if either
                                else Statistic(None, f"neither set has {kind} links", 0)
                            ),
                        )

            if any(has(pair, kind) for pair in self._compared()):  # none has it: no group
                yield kind, Lazy(links)
        if len(self.quote_types.keys):  # only compared pairs have quote types
            quoted = self.quote_types.pairs()
            yield (
                "attributed_to.quote_type",
                Lazy(
                    lambda: (
                        (f"kappa {self._pair_name(p)}", self._kappa(p[0], ("quote_type", "")))
                        for p in self._pairs_of(quoted)
                    ),
                    len(quoted),
                ),
            )

    def _attribute_groups(self, labels: list[str]) -> Iterator[tuple[str, Any]]:
        for label in labels:
            for attribute, level, optional in self._categorical(label):
                yield (
                    f"{label}.{attribute}",
                    Lazy(functools.partial(self._attribute, label, attribute, level, optional)),
                )

    def _attribute(
        self, label: str, attribute: str, level: Level, optional: bool
    ) -> Iterator[tuple[str, Statistic]]:
        key = f"{label}.{attribute}"
        if level == "interval":
            yield (
                "alpha (interval)",
                self._over_every(self._alpha((label, attribute, level)).result()),
            )
            return
        for pair in self._compared():
            for mode in self._modes_of(optional):
                yield (
                    f"kappa {self._pair_name(pair)}{self._suffix(mode)}",
                    self._kappa(pair[0], (key, mode)),
                )
        for mode in self._modes_of(optional):
            yield (
                f"alpha ({level}{self._suffix(mode)})",
                self._over_every(self._alpha((label, attribute, mode)).result()),
            )

    def _stance_entries(self, labels: list[str]) -> Iterator[tuple[str, Any]]:
        if not self.stance:
            return
        yield "alpha (nominal)", self._over_every(self._alpha(("stance",)).result())
        for pair in self._compared():
            yield f"kappa {self._pair_name(pair)}", self._kappa(pair[0], ("stance", ""))

    def _over_every(self, statistic: Statistic) -> Statistic:
        """A statistic over all sets, or why there is none: no document every set annotated."""
        if self.coverage.every:
            return statistic
        return Statistic(None, "no document annotated by every set", 0)

    def _pair_name(self, pair: Pair) -> str:
        return f"{self.names[pair[1]]} vs {self.names[pair[2]]}"

    def _f1s(self, pair: Pair, slots: Sequence[int]) -> list[dict[str, float]]:
        """F1 under each scheme, and the overlap F1, of the pair's ``slots`` (0: pooled,
        1 + i: the i-th candidate label)."""
        found, totals = self.counts.of(pair[0])
        rows = dict(zip(found.tolist(), totals, strict=True))
        whats, numerators = self.credits.of(pair[0])
        credits: defaultdict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for what, numerator in zip(whats.tolist(), numerators[:, 0].tolist(), strict=True):
            length, rest = divmod(what, 2 * self.slots)
            credits[divmod(rest, 2)].append((length, numerator))
        scores = []
        for slot in slots:
            row = rows.get(slot, _NO_COUNTS).astype(np.float64)
            found_scores = {
                scheme: float(span_prf(row[5 * number : 5 * number + 5])[2])
                for number, scheme in enumerate(SCHEMES)
            }
            stats = credit_stats(credits[(slot, 0)], int(row[-2]), credits[(slot, 1)], int(row[-1]))
            found_scores["overlap"] = float(overlap_prf(stats)[2])
            scores.append(found_scores)
        return scores


_COUNTS = 5 * len(SCHEMES) + 2
_NO_COUNTS = np.zeros(_COUNTS, np.int64)


def _on(annotation_set: AnnotationSet, documents: Container[str]) -> AnnotationSet:
    """The set's records on these documents (a record naming another is not counted)."""
    annotations = tuple(a for a in annotation_set.annotations if a.doc_id in documents)
    relations = tuple(r for r in annotation_set.relations if r.doc_id in documents)
    if len(annotations) == len(annotation_set.annotations) and len(relations) == len(
        annotation_set.relations
    ):
        return annotation_set
    return AnnotationSet(annotation_set.name, annotations, relations)


BATCH = 256
"""Documents added together by :class:`AgreementStudy`."""


class AgreementStudy:
    """Agreement among annotation sets in memory, on the documents of a release (streamed:
    only a batch of them is held at a time)."""

    def __init__(
        self,
        sets: Sequence[AnnotationSet],
        documents: Iterable[Document],
        schema: Schema,
        labels: Sequence[str] | None = None,
        missing: Missing = "both",
        batch: int = BATCH,
    ) -> None:
        self.sums = AgreementSums([s.name for s in sets], schema, labels, missing)
        by_document: list[dict[str, tuple[list[Annotation], list[Any]]]] = []
        for annotation_set in sets:
            grouped: dict[str, tuple[list[Annotation], list[Any]]] = defaultdict(lambda: ([], []))
            for a in annotation_set.annotations:
                grouped[a.doc_id][0].append(a)
            for r in annotation_set.relations:
                grouped[r.doc_id][1].append(r)
            by_document.append(grouped)
        iterator = iter(documents)
        while chunk := list(itertools.islice(iterator, batch)):
            parts = []
            for annotation_set, grouped in zip(sets, by_document, strict=True):
                found = [grouped.pop(d.id, ([], [])) for d in chunk]
                parts.append(
                    AnnotationSet(
                        annotation_set.name,
                        tuple(a for annotations, _ in found for a in annotations),
                        tuple(r for _, relations in found for r in relations),
                    )
                )
            self.sums.add(chunk, parts)

    def report(self) -> AgreementReport:
        return self.sums.report()
