"""One evaluation: a release (or another gold set), a task, a split, a resampling unit.

evaluation = Evaluation.open(Path("corpus/releases/1.0.0"), "claims")
result = evaluation.score(evaluation.check(Path("eval/runs/rules/claims.jsonl")))
print(result.primary, result.signature)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from claimwire import __version__
from claimwire.annotation.checks import schema_of
from claimwire.annotation.schema import Schema
from claimwire.corpus.release import MANIFEST, open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import (
    AnnotationSet,
    CheckReport,
    check_predictions,
    filter_set,
)
from claimwire.eval.metrics import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    Floats,
    Interval,
    Significance,
    approximate_randomization,
    paired_bootstrap,
    percentile_interval,
    resampled_totals,
)
from claimwire.eval.scoring import SpanTaskScorer, StanceScorer, Statistics, stance_scores
from claimwire.eval.tasks import Task, find_task
from claimwire.eval.units import UNIT_KINDS, default_unit
from claimwire.files import sha256
from claimwire.model import Annotation, Document


def _sha8(path: Path) -> str:
    return sha256(path)[:8]


@dataclass(frozen=True)
class PrimaryScore:
    """A task's primary score (``strict F1``, ``F_avg``…) with its bootstrap interval."""

    name: str
    value: float
    interval: Interval


@dataclass
class SystemResult:
    """Scores of one system on one task, with the statistics they were computed from."""

    system: str
    task: Task
    signature: str
    statistics: Statistics
    scores: dict[str, Any] = field(default_factory=dict)

    @property
    def primary(self) -> float:
        return float(self.scores["primary"]["value"])

    @property
    def primary_score(self) -> PrimaryScore:
        """The task's primary score, typed: its name, value and bootstrap interval."""
        primary = self.scores["primary"]
        return PrimaryScore(
            str(primary["name"]), float(primary["value"]), Interval.from_dict(primary["ci"])
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "task": self.task.name,
            "signature": self.signature,
            **self.scores,
            "notes": list(self.statistics.notes),
        }


def raise_problems(report: CheckReport, path: Path, what: str) -> None:
    """A located error listing the checker's problems (the first 20), if it found any."""
    if report.ok:
        return
    listed = "\n  ".join(report.problems[:20])
    more = f"\n  … and {len(report.problems) - 20} more" if len(report.problems) > 20 else ""
    raise ClaimwireError(
        f"{len(report.problems)} problems in the {what}; nothing was scored:\n  {listed}{more}",
        file=path,
    )


def _interval(values: Floats) -> dict[str, float]:
    return percentile_interval(values).to_dict()


@dataclass
class Evaluation:
    release: Path
    task: Task
    schema: Schema
    documents: list[Document]
    gold: AnnotationSet
    gold_label: str
    unit: str
    all_documents: dict[str, Document]
    context: tuple[Annotation, ...]
    """Gold annotations predictions may refer to: the SOURCEs that stance holders name."""
    split: str = "all"
    """The split scored (``all``: every document), named in the signature."""
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED

    @classmethod
    def open(
        cls,
        release: Path,
        task: str,
        *,
        gold: Path | None = None,
        split: str | None = None,
        unit: str | None = None,
        resamples: int = DEFAULT_RESAMPLES,
        seed: int = DEFAULT_SEED,
        allow_empty: bool = False,
    ) -> Evaluation:
        """``gold`` (another annotation set) goes through the checks predictions do; a split
        without gold annotations of the task is an error, not a score of 0."""
        opened = open_release(release)
        schema = schema_of(release)
        spec = find_task(task, schema, release)
        wanted_split = str(split if split is not None else spec.split or "all")
        every = {d.id: d for d in opened.documents()}
        documents = [d for d in every.values() if wanted_split in (None, "all", d.split)]
        if not documents:
            raise ClaimwireError(
                f"no documents of split {wanted_split!r} in this release", file=release
            )
        if gold is None:
            gold_set = AnnotationSet("gold", tuple(opened.annotations()), tuple(opened.relations()))
            gold_label = f"{opened.version}@{_sha8(release / MANIFEST)}"
        else:
            checked = check_predictions(gold, every, schema, spec, name=gold.stem)
            raise_problems(checked, gold, "gold")
            assert checked.annotation_set is not None
            gold_set = checked.annotation_set
            gold_label = (
                f"{gold_set.name}@{_sha8(gold if gold.is_file() else gold / 'annotations.jsonl')}"
            )
        chosen = unit or default_unit(len(documents), spec.kind)
        if chosen not in UNIT_KINDS or (chosen == "item" and spec.kind != "stance"):
            raise ClaimwireError(f"unit {chosen!r} does not fit a {spec.kind} task")
        ids = {d.id for d in documents}
        referable = schema.referenced_labels(spec.labels)
        context = tuple(a for a in gold_set.annotations if a.label in referable)
        gold_set = filter_set(gold_set, (*spec.related_labels, *sorted(referable)))
        gold_set = AnnotationSet(
            gold_set.name,
            tuple(a for a in gold_set.annotations if a.doc_id in ids),
            tuple(r for r in gold_set.relations if r.doc_id in ids),
        )
        return cls(
            release=release,
            task=spec,
            schema=schema,
            documents=documents,
            gold=gold_set,
            gold_label=gold_label,
            unit=chosen,
            all_documents=every,
            context=context,
            split=wanted_split,
            resamples=resamples,
            seed=seed,
        )

    def signature(self, scheme: str | None = None) -> str:
        scheme = scheme or self.task.primary
        return (
            f"task:{self.task.name}@{self.task.digest}|scheme:{scheme}|corpus:{self.gold_label}"
            f"|split:{self.split}|unit:{self.unit}|bs:{self.resamples}|seed:{self.seed}"
            f"|v:{__version__}"
        )

    def check(
        self,
        path: Path,
        *,
        fix_offsets: bool = False,
        name: str | None = None,
        allow_empty: bool = False,
    ) -> CheckReport:
        """Run the format checker on a prediction file; problems raise a located error."""
        report = check_predictions(
            path,
            self.all_documents,
            self.schema,
            self.task,
            fix_offsets=fix_offsets,
            name=name,
            context=self.context,
            allow_empty=allow_empty,
        )
        raise_problems(report, path, "predictions")
        return report

    def _require_gold(self) -> None:
        task = self.task
        scored = {*task.labels, *([task.disclosure] if task.disclosure else [])}
        if not any(a.label in scored for a in self.gold.annotations):
            raise ClaimwireError(
                f"split {self.split!r} has no gold {', '.join(task.labels)} annotations "
                f"({len(self.documents)} documents): there is nothing to score against",
                file=self.release,
            )

    def outside(self, predictions: AnnotationSet) -> tuple[int, int]:
        """How many predicted annotations lie on documents outside the scored split, and on
        how many documents: they are reported, never scored."""
        ids = {d.id for d in self.documents}
        docs = {a.doc_id for a in predictions.annotations if a.doc_id not in ids}
        return sum(1 for a in predictions.annotations if a.doc_id in docs), len(docs)

    def statistics(self, predictions: AnnotationSet) -> Statistics:
        if self.task.kind == "stance":
            scorer = StanceScorer(self.task, self.documents, self.unit, self.context)
            return scorer.statistics(self.gold, predictions)
        return SpanTaskScorer(self.task, self.schema, self.documents, self.unit).statistics(
            self.gold, predictions
        )

    def score(self, report_or_set: CheckReport | AnnotationSet) -> SystemResult:
        predictions = (
            report_or_set.annotation_set
            if isinstance(report_or_set, CheckReport)
            else report_or_set
        )
        assert predictions is not None
        self._require_gold()
        statistics = self.statistics(predictions)
        outside, documents = self.outside(predictions)
        if outside:
            statistics.notes.append(
                f"{outside} predicted annotations on {documents} documents outside split "
                f"{self.split!r} were not scored."
            )
        result = SystemResult(predictions.name, self.task, self.signature(), statistics)
        result.scores = self._scores(statistics)
        return result

    # ---- from statistics to scores ------------------------------------------------------

    def _resampled(self, stats: Floats) -> Floats:
        return resampled_totals(stats, self.resamples, self.seed)

    def _resampled_tables(self, statistics: Statistics) -> dict[str, Floats]:
        """Every table that gets a confidence interval, resampled with one set of weights."""
        keys = [
            key
            for key in statistics.tables
            if key.startswith("relations/") or (key.startswith("spans/") and key.count("/") == 1)
        ]
        if not keys:
            return {}
        stacked = self._resampled(np.hstack([statistics.tables[k].stats for k in keys]))
        bounds = np.cumsum([0] + [statistics.tables[k].stats.shape[1] for k in keys])
        return {k: stacked[:, bounds[i] : bounds[i + 1]] for i, k in enumerate(keys)}

    def _scores(self, statistics: Statistics) -> dict[str, Any]:
        if self.task.kind == "stance":
            return self._stance_scores(statistics)
        scores: dict[str, Any] = {"schemes": {}, "relations": {}, "attributes": {}}
        resampled = self._resampled_tables(statistics)
        for key, table in statistics.tables.items():
            parts = key.split("/")
            totals = table.stats.sum(0)
            precision, recall, f1 = (float(x) for x in table.metric(totals))
            entry: dict[str, Any] = {"precision": precision, "recall": recall, "f1": f1}
            entry.update({c: float(v) for c, v in zip(table.columns, totals, strict=True)})
            if parts[0] == "spans" and len(parts) == 2:
                entry["ci"] = _interval(table.metric(resampled[key])[2])
                entry["per_label"] = {}
                scores["schemes"][parts[1]] = entry
            elif parts[0] == "spans":
                scores["schemes"][parts[1]]["per_label"][parts[2]] = entry
            elif parts[0] == "relations":
                entry["ci"] = _interval(table.metric(resampled[key])[2])
                scores["relations"].setdefault(parts[1], {})[parts[2]] = entry
            else:
                scores["attributes"][parts[1]] = entry
        for entry in scores["schemes"].values():
            labels = entry["per_label"]
            entry["macro_f1"] = (
                float(np.mean([v["f1"] for v in labels.values()])) if labels else 0.0
            )
        if "disclosure" in statistics.extra:
            scores["disclosure"] = self._disclosure_scores(statistics.extra["disclosure"])
        primary = scores["schemes"][self.task.primary]
        scores["primary"] = {
            "name": f"{self.task.primary} F1",
            "value": primary["f1"],
            "ci": primary["ci"],
        }
        return scores

    @staticmethod
    def _disclosure_scores(extra: dict[str, Any]) -> dict[str, Any]:
        accuracy, error = extra["accuracy"].sum(0), extra["error"].sum(0)
        fields = extra["fields"]
        return {
            "field_accuracy": {
                name: (
                    float(accuracy[2 * i] / accuracy[2 * i + 1]) if accuracy[2 * i + 1] else None
                )
                for i, name in enumerate(fields)
            },
            "surveys": int(accuracy[1]) if len(accuracy) > 1 else 0,
            "core_score_mae": float(error[0] / error[1]) if error[1] else None,
        }

    def _stance_scores(self, statistics: Statistics) -> dict[str, Any]:
        extra = statistics.extra["stance"]
        classes, confusion = extra["classes"], extra["confusion"]
        totals = confusion.sum(0)
        scores = stance_scores(totals, classes, self.task.positive)
        resampled = stance_scores(self._resampled(confusion), classes, self.task.positive)
        n = len(classes)
        return {
            "stance": {
                "f_avg": float(scores["f_avg"]),
                "macro_f1": float(scores["macro_f1"]),
                "per_class": {
                    c: {
                        "precision": float(scores["precision"][i]),
                        "recall": float(scores["recall"][i]),
                        "f1": float(scores["f1"][i]),
                        "support": int(totals.reshape(n, n)[i].sum()),
                    }
                    for i, c in enumerate(classes)
                },
                "confusion": totals.reshape(n, n).astype(int).tolist(),
                "classes": list(classes),
                "ci": {
                    "f_avg": _interval(resampled["f_avg"]),
                    "macro_f1": _interval(resampled["macro_f1"]),
                },
            },
            "primary": {
                "name": "F_avg",
                "value": float(scores["f_avg"]),
                "ci": _interval(resampled["f_avg"]),
            },
        }

    # ---- significance -------------------------------------------------------------------

    def primary_table(self, result: SystemResult) -> tuple[Floats, Any]:
        """The per-unit statistics behind the primary metric, and the metric itself."""
        if self.task.kind == "stance":
            extra = result.statistics.extra["stance"]
            classes = extra["classes"]

            def f_avg(stats: Floats) -> Floats:
                return np.asarray(stance_scores(stats, classes, self.task.positive)["f_avg"])

            return extra["confusion"], f_avg
        table = result.statistics.tables[f"spans/{self.task.primary}"]

        def f1(stats: Floats) -> Floats:
            return np.asarray(table.metric(stats)[2])

        return table.stats, f1

    def compare(
        self, a: SystemResult, b: SystemResult, trials: int = DEFAULT_TRIALS
    ) -> Sequence[Significance]:
        """Paired bootstrap and approximate randomization of ``a`` against ``b``."""
        stats_a, metric = self.primary_table(a)
        stats_b, _ = self.primary_table(b)
        return (
            paired_bootstrap(stats_a, stats_b, metric, self.resamples, self.seed),
            approximate_randomization(stats_a, stats_b, metric, trials, self.seed),
        )
