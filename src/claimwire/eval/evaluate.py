"""One evaluation: a release (or another gold set), a task, a split, a resampling unit.

evaluation = Evaluation.open(Path("corpus/releases/1.0.0"), "claims")
result = evaluation.score(evaluation.check(Path("eval/runs/rules/claims.jsonl")))
print(result.primary, result.signature)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    Significance,
    approximate_randomization,
    paired_bootstrap,
)
from claimwire.eval.results import (
    PrimaryScore as PrimaryScore,
)
from claimwire.eval.results import (
    SchemeScore,
    Scores,
    StanceScores,
    scores_from,
)
from claimwire.eval.scoring import (
    SpanTaskScorer,
    StanceScorer,
    Statistics,
    TableKey,
    stance_scores,
)
from claimwire.eval.tasks import Task, find_task
from claimwire.eval.units import UNIT_KINDS, default_unit
from claimwire.files import sha256
from claimwire.model import Annotation, Document


def _sha8(path: Path) -> str:
    return sha256(path)[:8]


@dataclass
class SystemResult:
    """Scores of one system on one task (typed: :class:`Scores`), with the statistics they
    were computed from."""

    system: str
    task: Task
    signature: str
    statistics: Statistics
    scores: Scores

    @property
    def primary(self) -> float:
        return self.scores.primary.value

    @property
    def primary_score(self) -> PrimaryScore:
        """The task's primary score, typed: its name, value and bootstrap interval."""
        return self.scores.primary

    @property
    def spans(self) -> Mapping[str, SchemeScore]:
        """Span scores per scheme (empty for a stance task)."""
        return self.scores.spans

    @property
    def stance(self) -> StanceScores | None:
        return self.scores.stance

    def to_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "task": self.task.name,
            "signature": self.signature,
            **self.scores.to_dict(),
            "notes": list(self.statistics.notes),
        }

    def to_pandas(self) -> Any:
        """One row per scheme and label, relation, attribute, stance class or disclosure
        field (see :meth:`Scores.rows`), with the system and task."""
        import pandas

        rows = [
            {"system": self.system, "task": self.task.name, **row} for row in self.scores.rows()
        ]
        return pandas.DataFrame(rows)


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
        scores = scores_from(statistics, self.task, self.resamples, self.seed)
        return SystemResult(predictions.name, self.task, self.signature(), statistics, scores)

    # ---- significance -------------------------------------------------------------------

    def primary_table(self, result: SystemResult) -> tuple[Floats, Any]:
        """The per-unit statistics behind the primary metric, and the metric itself."""
        if self.task.kind == "stance":
            extra = result.statistics.extra["stance"]
            classes = extra["classes"]

            def f_avg(stats: Floats) -> Floats:
                return np.asarray(stance_scores(stats, classes, self.task.positive)["f_avg"])

            return extra["confusion"], f_avg
        table = result.statistics.tables[TableKey.spans(self.task.primary)]

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
