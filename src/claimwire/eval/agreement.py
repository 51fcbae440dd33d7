"""Inter-annotator agreement between annotation sets — with the evaluation's own matcher.

* spans: pairwise F1 under every scheme (one set as reference, the other as prediction: F1
  is symmetric), and Krippendorff's unitizing α_u per label over the character continuum;
* attributes of the spans two sets match exactly (strict): Cohen's κ (scikit-learn) per pair
  and Krippendorff's α (``krippendorff``; nominal for labels, interval for numbers) over all
  sets;
* stance: κ and α over the (holder, target) pairs;
* SURVEY disclosure: agreement per checklist field.

Degenerate cases are stated, never NaN: a statistic that cannot be computed carries a reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
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
            "unitizing_alpha": dump(self.unitizing),
            "attributes": {k: dump(v) for k, v in self.attributes.items()},
            "stance": dump(self.stance),
            "disclosure": {k: dump(v) for k, v in self.disclosure.items()},
            "notes": self.notes,
        }


Level = Literal["nominal", "interval"]


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
        documents: Sequence[Document],
        schema: Schema,
        labels: Sequence[str] | None = None,
    ) -> None:
        if len(sets) < 2:
            raise ClaimwireError("agreement needs at least two annotation sets (annotators)")
        self.sets = list(sets)
        self.documents = list(documents)
        self.schema = schema
        self.doc_index = {d.id: i for i, d in enumerate(self.documents)}
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
            strict = matcher.match("strict")
            self._pair_attributes(report, name, rows_x, rows_y, strict)
        self._unitizing(report)
        self._attribute_alpha(report, encoded)
        self._stance(report)
        self._disclosure(report)
        return report

    # ---- spans ---------------------------------------------------------------------------

    def _unitizing(self, report: AgreementReport) -> None:
        offsets, total = [], 0
        for document in self.documents:
            offsets.append(total)
            total += len(document.text)
        for label in self.labels:
            coders = [
                [
                    (
                        offsets[self.doc_index[a.doc_id]] + a.start,
                        offsets[self.doc_index[a.doc_id]] + a.end,
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

    def _categorical(self, label: str) -> list[tuple[str, Level]]:
        spec = self.schema.labels[label].attributes
        levels: dict[str, Level] = {
            "decimal": "interval",
            "choice": "nominal",
            "boolean": "nominal",
        }
        return [
            (name, levels[a.type])
            for name, a in spec.items()
            if a.type in ("choice", "boolean", "decimal")
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
            for attribute, level in self._categorical(label):
                if level != "nominal":
                    continue
                a_values, b_values = [], []
                for p, g in enumerate(strict.pred_match.tolist()):
                    if g >= 0 and strict.pred_outcome[p] == COR and rows_y[p].label == label:
                        a_values.append(rows_x[g].attributes.get(attribute))
                        b_values.append(rows_y[p].attributes.get(attribute))
                key = f"{label}.{attribute}"
                report.attributes.setdefault(key, {})[f"kappa {name}"] = _kappa(a_values, b_values)

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
            for attribute, level in self._categorical(label):
                matrix = [[base_rows[i].attributes.get(attribute) for i in indices]]
                for partner in partners:
                    matrix.append(
                        [
                            partner[i].attributes.get(attribute) if i in partner else None
                            for i in indices
                        ]
                    )
                if level == "interval":
                    matrix = [[None if v is None else float(v) for v in row] for row in matrix]
                report.attributes.setdefault(f"{label}.{attribute}", {})[f"alpha ({level})"] = (
                    _alpha(matrix, level)
                )

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
