"""Typed scores of one system on one task, built from its :class:`Statistics`.

The JSON of ``claimwire eval score``, the leaderboards (text, Markdown, CSV) and the HTML
report all render from these objects::

    scores = result.scores
    scores.spans["strict"].f1, scores.spans["strict"].interval.half_width
    scores.spans["strict"].per_label["CLAIM"].counts["mis"]
    scores.stance.per_class["FAVOR"].f1 if scores.stance else None
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from claimwire.eval.metrics import (
    Floats,
    Interval,
    percentile_interval,
    resampled_columns,
    resampled_totals,
)
from claimwire.eval.scoring import Statistics, Table, TableKey, stance_scores
from claimwire.eval.tasks import Task

__all__ = [
    "ClassScore",
    "DisclosureScores",
    "Interval",
    "PRFScore",
    "PrimaryScore",
    "RelationScore",
    "SchemeScore",
    "Scores",
    "StanceScores",
    "scores_from",
]


@dataclass(frozen=True)
class PRFScore:
    """Precision, recall and F1 with the summed counts they come from: ``cor``, ``inc``,
    ``par``, ``mis``, ``spu`` for matched spans; ``p_credit``, ``predicted``, ``r_credit``,
    ``gold`` for character overlap; ``tp``, ``predicted``, ``gold`` for relations and
    attributes."""

    precision: float
    recall: float
    f1: float
    counts: Mapping[str, float]

    def row(self) -> dict[str, Any]:
        """P, R, F1 and the counts, flat."""
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, **self.counts}

    def to_dict(self) -> dict[str, Any]:
        return self.row()


@dataclass(frozen=True, kw_only=True)
class SchemeScore(PRFScore):
    """A span scheme over every label, its F1's bootstrap interval, each label's scores and
    their macro-average F1."""

    interval: Interval
    per_label: Mapping[str, PRFScore]
    macro_f1: float

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.row(),
            "ci": self.interval.to_dict(),
            "per_label": {label: score.to_dict() for label, score in self.per_label.items()},
            "macro_f1": self.macro_f1,
        }


@dataclass(frozen=True, kw_only=True)
class RelationScore(PRFScore):
    """One relation type under one span scheme, with its F1's bootstrap interval."""

    interval: Interval

    def to_dict(self) -> dict[str, Any]:
        return {**self.row(), "ci": self.interval.to_dict()}


@dataclass(frozen=True)
class DisclosureScores:
    """The survey checklist: per-field accuracy over gold surveys (None without any), how
    many gold surveys, and the mean absolute error of the core disclosure score."""

    field_accuracy: Mapping[str, float | None]
    surveys: int
    core_score_mae: float | None

    @property
    def mean_accuracy(self) -> float | None:
        """The mean of the defined field accuracies (None when none is defined)."""
        values = [v for v in self.field_accuracy.values() if v is not None]
        return sum(values) / len(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "field_accuracy": dict(self.field_accuracy),
            "surveys": self.surveys,
            "core_score_mae": self.core_score_mae,
        }


@dataclass(frozen=True)
class ClassScore:
    """One stance class: precision, recall, F1 and its gold support."""

    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
        }


@dataclass(frozen=True)
class StanceScores:
    """SemEval-2016 Task 6 scores: F_avg over the positive classes, macro-F1 over all, per
    class, the confusion matrix (rows gold, columns predicted) and two intervals."""

    f_avg: float
    macro_f1: float
    per_class: Mapping[str, ClassScore]
    classes: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    f_avg_interval: Interval
    macro_f1_interval: Interval

    def to_dict(self) -> dict[str, Any]:
        return {
            "f_avg": self.f_avg,
            "macro_f1": self.macro_f1,
            "per_class": {name: score.to_dict() for name, score in self.per_class.items()},
            "confusion": [list(row) for row in self.confusion],
            "classes": list(self.classes),
            "ci": {
                "f_avg": self.f_avg_interval.to_dict(),
                "macro_f1": self.macro_f1_interval.to_dict(),
            },
        }


@dataclass(frozen=True)
class PrimaryScore:
    """A task's primary score (``strict F1``, ``F_avg``…) with its bootstrap interval."""

    name: str
    value: float
    interval: Interval

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "ci": self.interval.to_dict()}


@dataclass(frozen=True)
class Scores:
    """Every score of one system on one task. A span task fills ``spans`` (one entry per
    scheme), ``relations`` (type → scheme → score), ``attributes`` and, for a survey task,
    ``disclosure``; a stance task fills ``stance``."""

    primary: PrimaryScore
    spans: Mapping[str, SchemeScore] = field(default_factory=dict)
    relations: Mapping[str, Mapping[str, RelationScore]] = field(default_factory=dict)
    attributes: Mapping[str, PRFScore] = field(default_factory=dict)
    disclosure: DisclosureScores | None = None
    stance: StanceScores | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``eval score`` (``schemes``… for spans, ``stance`` for stance)."""
        out: dict[str, Any] = {}
        if self.stance is not None:
            out["stance"] = self.stance.to_dict()
        else:
            out["schemes"] = {scheme: s.to_dict() for scheme, s in self.spans.items()}
            out["relations"] = {
                kind: {scheme: s.to_dict() for scheme, s in by_scheme.items()}
                for kind, by_scheme in self.relations.items()
            }
            out["attributes"] = {name: s.to_dict() for name, s in self.attributes.items()}
            if self.disclosure is not None:
                out["disclosure"] = self.disclosure.to_dict()
        out["primary"] = self.primary.to_dict()
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One record per scheme and label (``label`` None: every label), per relation and
        scheme, per attribute, per stance class and per disclosure field."""
        rows: list[dict[str, Any]] = []

        def add(family: str, scheme: str | None, label: str | None, **values: Any) -> None:
            rows.append({"family": family, "scheme": scheme, "label": label, **values})

        def interval(value: Interval) -> dict[str, float]:
            return {"ci_low": value.low, "ci_high": value.high}

        for scheme, score in self.spans.items():
            add(
                "spans",
                scheme,
                None,
                **score.row(),
                **interval(score.interval),
                macro_f1=score.macro_f1,
            )
            for label, per_label in score.per_label.items():
                add("spans", scheme, label, **per_label.row())
        for kind, by_scheme in self.relations.items():
            for scheme, relation in by_scheme.items():
                add("relations", scheme, kind, **relation.row(), **interval(relation.interval))
        for name, attribute in self.attributes.items():
            add("attributes", None, name, **attribute.row())
        if self.disclosure is not None:
            for name, accuracy in self.disclosure.field_accuracy.items():
                add("disclosure", None, name, accuracy=accuracy)
        if self.stance is not None:
            stance = self.stance
            add(
                "stance",
                None,
                None,
                f_avg=stance.f_avg,
                macro_f1=stance.macro_f1,
                **interval(stance.f_avg_interval),
            )
            for name, per_class in stance.per_class.items():
                add("stance", None, name, **per_class.to_dict())
        return rows


# ---- from statistics to scores ----------------------------------------------------------


def _prf(table: Table) -> tuple[float, float, float, dict[str, float]]:
    totals = table.stats.sum(0)
    precision, recall, f1 = (float(x) for x in table.metric(totals))
    return precision, recall, f1, {c: float(v) for c, v in zip(table.columns, totals, strict=True)}


def _with_interval(key: TableKey) -> bool:
    """Tables that get a confidence interval: spans over every label, and relations."""
    return key.family == "relations" or (key.family == "spans" and key.name is None)


def _resampled_tables(statistics: Statistics, resamples: int, seed: int) -> dict[TableKey, Floats]:
    """Every table that gets an interval, resampled with one set of weights."""
    keys = [key for key in statistics.tables if _with_interval(key)]
    if not keys:
        return {}
    stacked = resampled_columns([statistics.tables[k].stats for k in keys], resamples, seed)
    bounds = np.cumsum([0] + [statistics.tables[k].stats.shape[1] for k in keys])
    return {k: stacked[:, bounds[i] : bounds[i + 1]] for i, k in enumerate(keys)}


def scores_from(statistics: Statistics, task: Task, resamples: int, seed: int) -> Scores:
    """Corpus scores and bootstrap intervals (``resamples`` at ``seed``) of ``statistics``."""
    if task.kind == "stance":
        return _stance(statistics, task, resamples, seed)
    resampled = _resampled_tables(statistics, resamples, seed)
    spans: dict[str, SchemeScore] = {}
    labels: dict[str, dict[str, PRFScore]] = {}
    relations: dict[str, dict[str, RelationScore]] = {}
    attributes: dict[str, PRFScore] = {}
    for key, table in statistics.tables.items():
        p, r, f1, counts = _prf(table)
        scheme, name = key.scheme or "", key.name or ""
        interval = (
            percentile_interval(table.metric(resampled[key])[2]) if key in resampled else None
        )
        if key.family == "spans" and interval is not None:
            per_label = labels.setdefault(scheme, {})
            spans[scheme] = SchemeScore(
                p, r, f1, counts, interval=interval, per_label=per_label, macro_f1=0.0
            )
        elif key.family == "spans":
            labels.setdefault(scheme, {})[name] = PRFScore(p, r, f1, counts)
        elif key.family == "relations" and interval is not None:
            relations.setdefault(name, {})[scheme] = RelationScore(
                p, r, f1, counts, interval=interval
            )
        else:
            attributes[name] = PRFScore(p, r, f1, counts)
    spans = {
        scheme: replace(score, macro_f1=_mean_f1(score.per_label))
        for scheme, score in spans.items()
    }
    disclosure = statistics.extra.get("disclosure")
    primary = spans[task.primary]
    return Scores(
        primary=PrimaryScore(f"{task.primary} F1", primary.f1, primary.interval),
        spans=spans,
        relations=relations,
        attributes=attributes,
        disclosure=_disclosure(disclosure) if disclosure is not None else None,
    )


def _mean_f1(per_label: Mapping[str, PRFScore]) -> float:
    return float(np.mean([v.f1 for v in per_label.values()])) if per_label else 0.0


def _disclosure(extra: Mapping[str, Any]) -> DisclosureScores:
    accuracy, error = extra["accuracy"].sum(0), extra["error"].sum(0)
    return DisclosureScores(
        field_accuracy={
            name: float(accuracy[2 * i] / accuracy[2 * i + 1]) if accuracy[2 * i + 1] else None
            for i, name in enumerate(extra["fields"])
        },
        surveys=int(accuracy[1]) if len(accuracy) > 1 else 0,
        core_score_mae=float(error[0] / error[1]) if error[1] else None,
    )


def _stance(statistics: Statistics, task: Task, resamples: int, seed: int) -> Scores:
    extra = statistics.extra["stance"]
    classes, confusion = tuple(extra["classes"]), extra["confusion"]
    totals = confusion.sum(0)
    scores = stance_scores(totals, classes, task.positive)
    resampled = stance_scores(resampled_totals(confusion, resamples, seed), classes, task.positive)
    n = len(classes)
    matrix = totals.reshape(n, n)
    f_avg_interval = percentile_interval(resampled["f_avg"])
    stance = StanceScores(
        f_avg=float(scores["f_avg"]),
        macro_f1=float(scores["macro_f1"]),
        per_class={
            name: ClassScore(
                float(scores["precision"][i]),
                float(scores["recall"][i]),
                float(scores["f1"][i]),
                int(matrix[i].sum()),
            )
            for i, name in enumerate(classes)
        },
        classes=classes,
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        f_avg_interval=f_avg_interval,
        macro_f1_interval=percentile_interval(resampled["macro_f1"]),
    )
    return Scores(primary=PrimaryScore("F_avg", stance.f_avg, f_avg_interval), stance=stance)
