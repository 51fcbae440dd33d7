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

Degenerate cases are stated, never NaN: a statistic that cannot be computed carries a reason.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from claimwire.annotation.schema import Schema
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import AnnotationSet, stance_key
from claimwire.eval.matching import COR, SCHEMES, Matcher, SpanSet, overlap_credit_by_unit
from claimwire.eval.metrics import overlap_prf, span_prf
from claimwire.eval.unitizing import unitizing_alpha
from claimwire.model import Annotation, Document


@dataclass
class Statistic:
    """A value, or why there is none."""

    value: float | None
    reason: str = ""
    units: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "reason": self.reason or None, "units": self.units}


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
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def dump(group: dict[str, Statistic]) -> dict[str, Any]:
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
            "notes": self.notes,
        }


Level = Literal["nominal", "interval"]
Missing = Literal["skip", "value", "both"]
MISSING_MODES = ("skip", "value", "both")
EMPTY = "(empty)"
"""What an optional attribute left empty counts as under ``missing="value"``."""


def _folded(value: Any) -> Any:
    """Free text compared as people read it: case- and space-folded."""
    return " ".join(str(value).casefold().split()) if isinstance(value, str) else value


def _f1(left: Counter[Any], right: Counter[Any], what: str) -> Statistic:
    """Dice/F1 of two multisets of keys (symmetric, like span F1)."""
    total = sum(left.values()) + sum(right.values())
    if total == 0:
        return Statistic(None, f"neither set has {what}", 0)
    return Statistic(2 * sum((left & right).values()) / total, units=total)


def _alpha(matrix: list[list[Any]], level: Level) -> Statistic:
    """Krippendorff's α over coders × units (``None`` = missing), with a reason if undefined."""
    import krippendorff

    units = sum(
        1 for column in zip(*matrix, strict=True) if sum(v is not None for v in column) >= 2
    )
    if units == 0:
        return Statistic(None, "no unit was coded by two sets", 0)
    values = sorted({v for row in matrix for v in row if v is not None}, key=str)
    if len(values) < 2:
        return Statistic(None, f"every coder used one value ({values[0]!r}): α is undefined", units)
    if level == "nominal":
        codes = {v: i for i, v in enumerate(values)}
        data = np.array([[np.nan if v is None else codes[v] for v in row] for row in matrix], float)
    else:
        data = np.array([[np.nan if v is None else float(v) for v in row] for row in matrix], float)
    try:
        return Statistic(
            float(krippendorff.alpha(reliability_data=data, level_of_measurement=level)),
            units=units,
        )
    except ValueError as error:
        return Statistic(None, f"α is undefined: {error}", units)


def _kappa(a: list[Any], b: list[Any]) -> Statistic:
    from sklearn.metrics import cohen_kappa_score

    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    if not pairs:
        return Statistic(None, "no unit coded by both", 0)
    left, right = [str(x) for x, _ in pairs], [str(y) for _, y in pairs]
    if len(set(left) | set(right)) < 2:
        return Statistic(None, f"both used only {left[0]!r}: κ is undefined", len(pairs))
    return Statistic(float(cohen_kappa_score(left, right)), units=len(pairs))


class AgreementStudy:
    """Agreement among annotation sets on the same documents."""

    def __init__(
        self,
        sets: Sequence[AnnotationSet],
        documents: Iterable[Document],
        schema: Schema,
        labels: Sequence[str] | None = None,
        missing: Missing = "both",
    ) -> None:
        if missing not in MISSING_MODES:
            raise ClaimwireError(f"missing must be one of {', '.join(MISSING_MODES)}")
        self.missing = missing
        if len(sets) < 2:
            raise ClaimwireError("agreement needs at least two annotation sets (annotators)")
        self.sets = list(sets)
        self.schema = schema
        named = {a.doc_id for s in sets for a in s.annotations}
        named.update(r.doc_id for s in sets for r in s.relations)
        self.doc_index: dict[str, int] = {}
        """The documents the sets name, by their place in the release."""
        self._offsets: dict[str, int] = {}
        """Where each of them starts in the release's texts put end to end."""
        self._length = 0
        """The release's characters: the continuum unitizing α is over."""
        for place, document in enumerate(documents):  # streamed: only the named are kept
            if document.id in named:
                self.doc_index[document.id] = place
                self._offsets[document.id] = self._length
            self._length += len(document.text)
        present = {a.label for s in sets for a in s.annotations if a.is_span}
        self.labels = [label for label in (labels or schema.span_labels()) if label in present]

    def _spans(self, annotation_set: AnnotationSet) -> tuple[SpanSet, list[Annotation]]:
        rows, kept = [], []
        index = {label: i for i, label in enumerate(self.labels)}
        for a in annotation_set.annotations:
            if a.is_span and a.label in index and a.doc_id in self.doc_index:
                assert a.start is not None and a.end is not None
                rows.append((self.doc_index[a.doc_id], index[a.label], a.start, a.end, 0))
                kept.append(a)
        return SpanSet.from_tuples(rows), kept

    def report(self) -> AgreementReport:
        report = AgreementReport([s.name for s in self.sets])
        if not self.labels:
            report.notes.append("No span annotations in these sets: span agreement is not defined.")
        encoded = [self._spans(s) for s in self.sets]
        for (x, (span_x, rows_x)), (y, (span_y, rows_y)) in itertools.combinations(
            enumerate(encoded), 2
        ):
            name = f"{self.sets[x].name} vs {self.sets[y].name}"
            matcher = Matcher(span_x, span_y)
            scores = {
                s: float(span_prf(matcher.match(s).counts_by_unit(span_x, span_y, 1).sum(0))[2])
                for s in SCHEMES
            }
            scores["overlap"] = float(
                overlap_prf(overlap_credit_by_unit(span_x, span_y, 1).sum(0))[2]
            )
            report.pairwise_f1[name] = scores
            report.per_label_f1[name] = self._per_label(span_x, span_y, matcher)
            strict = matcher.match("strict")
            self._pair_attributes(report, name, rows_x, rows_y, strict)
            self._relations(report, name, self.sets[x], self.sets[y])
        self._unitizing(report)
        self._attribute_alpha(report, encoded)
        self._stance(report)
        self._disclosure(report)
        self._survey(report)
        return report

    def _per_label(self, span_x: SpanSet, span_y: SpanSet, matcher: Matcher) -> dict[str, Any]:
        """Every scheme per label (the match re-run within the label, as nervaluate does)."""
        result: dict[str, dict[str, float]] = {}
        for index, label in enumerate(self.labels):
            scores = {
                s: float(
                    span_prf(
                        matcher.match(s, label=index).counts_by_unit(span_x, span_y, 1).sum(0)
                    )[2]
                )
                for s in SCHEMES
            }
            x = span_x.subset(span_x.label == index)
            y = span_y.subset(span_y.label == index)
            scores["overlap"] = float(overlap_prf(overlap_credit_by_unit(x, y, 1).sum(0))[2])
            result[label] = scores
        return result

    @property
    def _modes(self) -> tuple[str, ...]:
        return ("skip", "value") if self.missing == "both" else (self.missing,)

    def _coded(self, value: Any, optional: bool, mode: str) -> Any:
        if value is None:
            return EMPTY if optional and mode == "value" else None
        return _folded(value)

    @staticmethod
    def _suffix(mode: str) -> str:
        return ", empty as a value" if mode == "value" else ""

    # ---- spans ---------------------------------------------------------------------------

    def _unitizing(self, report: AgreementReport) -> None:
        offsets, total = self._offsets, self._length
        for label in self.labels:
            coders = [
                [
                    (
                        offsets[a.doc_id] + a.start,
                        offsets[a.doc_id] + a.end,
                    )
                    for a in s.annotations
                    if a.label == label
                    and a.is_span
                    and a.doc_id in self.doc_index
                    and a.start is not None
                    and a.end is not None
                ]
                for s in self.sets
            ]
            _, [result] = unitizing_alpha({label: coders}, 0, max(total, 1))
            reason = "" if result.alpha is not None else "expected disagreement is 0"
            report.unitizing[label] = Statistic(result.alpha, reason, sum(map(len, coders)))

    # ---- attributes of matched spans -----------------------------------------------------

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

    def _pair_attributes(
        self,
        report: AgreementReport,
        name: str,
        rows_x: list[Annotation],
        rows_y: list[Annotation],
        strict: Any,
    ) -> None:
        for label in self.labels:
            for attribute, level, optional in self._categorical(label):
                if level != "nominal":
                    continue
                pairs = [
                    (rows_x[g].attributes.get(attribute), rows_y[p].attributes.get(attribute))
                    for p, g in enumerate(strict.pred_match.tolist())
                    if g >= 0 and strict.pred_outcome[p] == COR and rows_y[p].label == label
                ]
                key = f"{label}.{attribute}"
                for mode in self._modes if optional else ("skip",):
                    a_values = [self._coded(a, optional, mode) for a, _ in pairs]
                    b_values = [self._coded(b, optional, mode) for _, b in pairs]
                    report.attributes.setdefault(key, {})[f"kappa {name}{self._suffix(mode)}"] = (
                        _kappa(a_values, b_values)
                    )

    def _attribute_alpha(
        self, report: AgreementReport, encoded: list[tuple[SpanSet, list[Annotation]]]
    ) -> None:
        """α over all sets: units are the spans of the first set, matched strictly in each other."""
        base_spans, base_rows = encoded[0]
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
        for label in self.labels:
            indices = [i for i, a in enumerate(base_rows) if a.label == label]
            for attribute, level, optional in self._categorical(label):
                raw = [[base_rows[i].attributes.get(attribute) for i in indices]]
                for partner in partners:
                    raw.append(
                        [
                            partner[i].attributes.get(attribute) if i in partner else None
                            for i in indices
                        ]
                    )
                if level == "interval":
                    matrix = [[None if v is None else float(v) for v in row] for row in raw]
                    report.attributes.setdefault(f"{label}.{attribute}", {})[f"alpha ({level})"] = (
                        _alpha(matrix, level)
                    )
                    continue
                for mode in self._modes if optional else ("skip",):
                    # a span the other set did not match stays missing in every mode
                    matrix = [
                        [
                            self._coded(v, optional, mode)
                            if column == 0 or i in partners[column - 1]
                            else None
                            for i, v in zip(indices, row, strict=True)
                        ]
                        for column, row in enumerate(raw)
                    ]
                    report.attributes.setdefault(f"{label}.{attribute}", {})[
                        f"alpha ({level}{self._suffix(mode)})"
                    ] = _alpha(matrix, level)

    # ---- relations -----------------------------------------------------------------------

    def _links(self, annotation_set: AnnotationSet) -> dict[str, Counter[Any]]:
        """Each relation type's links (and ``cue`` links) keyed by their ends: a span by
        its document, label and offsets, a document-level item by its document, label
        and rank among that label's items there."""
        ends: dict[str, tuple[Any, ...]] = {}
        ranks: Counter[tuple[str, str]] = Counter()
        for a in annotation_set.annotations:
            if a.is_span:
                ends[a.id] = (a.doc_id, a.label, a.start, a.end)
            else:
                ranks[(a.doc_id, a.label)] += 1
                ends[a.id] = (a.doc_id, a.label, ranks[(a.doc_id, a.label)])
        links: dict[str, Counter[Any]] = {name: Counter() for name in self.schema.relations}
        links["cue"] = Counter()
        for r in annotation_set.relations:
            if r.doc_id not in self.doc_index or r.head not in ends or r.tail not in ends:
                continue
            links.setdefault(r.type, Counter())[(ends[r.head], ends[r.tail])] += 1
            cue = r.attributes.get("cue")
            if cue in ends:
                links["cue"][(ends[r.head], ends[str(cue)])] += 1
        return links

    def _relations(
        self, report: AgreementReport, name: str, x: AnnotationSet, y: AnnotationSet
    ) -> None:
        left, right = self._links(x), self._links(y)
        for kind in dict.fromkeys([*left, *right]):
            report.relations.setdefault(kind, {})[f"F1 {name}"] = _f1(
                left.get(kind, Counter()), right.get(kind, Counter()), f"{kind} links"
            )
        by_end = [self._quote_types(s) for s in (x, y)]
        if by_end[0] or by_end[1]:
            shared = sorted(set(by_end[0]) & set(by_end[1]), key=str)
            report.relations.setdefault("attributed_to.quote_type", {})[f"kappa {name}"] = _kappa(
                [by_end[0][k] for k in shared], [by_end[1][k] for k in shared]
            )

    def _quote_types(self, annotation_set: AnnotationSet) -> dict[Any, Any]:
        spans = {a.id: (a.doc_id, a.label, a.start, a.end) for a in annotation_set.annotations}
        return {
            (spans.get(r.head), spans.get(r.tail)): r.attributes.get("quote_type")
            for r in annotation_set.relations
            if r.type == "attributed_to" and r.head in spans and r.tail in spans
        }

    # ---- document-level items ------------------------------------------------------------

    def _stance(self, report: AgreementReport) -> None:
        keyed = []
        for annotation_set in self.sets:
            holders = {a.id: a for a in annotation_set.annotations}
            keyed.append(
                {
                    stance_key(a, holders): a.attributes.get("stance")
                    for a in annotation_set.annotations
                    if a.label == "STANCE"
                }
            )
        keys = sorted(set().union(*keyed))
        if not keys:
            return
        matrix = [[k.get(key) for key in keys] for k in keyed]
        report.stance["alpha (nominal)"] = _alpha(matrix, "nominal")
        for (x, a), (y, b) in itertools.combinations(enumerate(matrix), 2):
            report.stance[f"kappa {self.sets[x].name} vs {self.sets[y].name}"] = _kappa(a, b)

    def _disclosure(self, report: AgreementReport) -> None:
        surveys = [
            {a.doc_id: a for a in reversed(s.annotations) if self.schema.is_survey(a.label)}
            for s in self.sets
        ]
        docs = sorted(set().union(*surveys))
        if not docs:
            return
        for name in self.schema.disclosure_fields:
            matrix = [
                [s[d].attributes.get(name) if d in s else None for d in docs] for s in surveys
            ]
            complete = [column for column in zip(*matrix, strict=True) if None not in column]
            agreed = sum(1 for column in complete if len(set(column)) == 1)
            share = (
                Statistic(agreed / len(complete), units=len(complete))
                if complete
                else Statistic(None, "no survey coded by every set")
            )
            report.disclosure[name] = {"agreement": share, "alpha": _alpha(matrix, "nominal")}

    def _survey(self, report: AgreementReport) -> None:
        """The SURVEY's other attributes: sampling type, risk flags, free-text name."""
        surveys = [
            {a.doc_id: a for a in reversed(s.annotations) if self.schema.is_survey(a.label)}
            for s in self.sets
        ]
        docs = sorted(set().union(*surveys))
        labels = {a.label for s in surveys for a in s.values()}
        for label in sorted(labels):
            for name, attribute in self.schema.labels[label].attributes.items():
                if name in self.schema.disclosure_fields or attribute.type == "ref":
                    continue
                matrix = [
                    [_folded(s[d].attributes.get(name)) if d in s else None for d in docs]
                    for s in surveys
                ]
                complete = [c for c in zip(*matrix, strict=True) if None not in c]
                report.survey[name] = {
                    "agreement": Statistic(
                        sum(len(set(c)) == 1 for c in complete) / len(complete),
                        units=len(complete),
                    )
                    if complete
                    else Statistic(None, "no survey coded by every set"),
                    "alpha": _alpha(matrix, "nominal"),
                }
