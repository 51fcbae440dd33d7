"""One evaluation: a release (or another gold set), a task, a split, a resampling unit.

evaluation = Evaluation.open(Path("corpus/releases/1.0.0"), "claims")
result = evaluation.score(evaluation.check(Path("eval/runs/rules/claims.jsonl")))
print(result.primary, result.signature)
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from claimwire import __version__
from claimwire.annotation.checks import schema_of
from claimwire.annotation.schema import Schema
from claimwire.collection import fewer_collections
from claimwire.corpus.gold_columns import (
    COLUMNS_KEY,
    UNREADABLE,
    ColumnsUnavailable,
    GoldColumns,
    columns_name,
)
from claimwire.corpus.release import (
    ANNOTATIONS,
    DOCUMENTS,
    MANIFEST,
    RELATIONS,
    open_release,
    parse_version,
)
from claimwire.engine import Engine
from claimwire.errors import ClaimwireError
from claimwire.eval.batches import (
    BatchLines,
    BatchResult,
    BatchSetup,
    ScoreBatches,
    columns_fit,
    score_batch,
)
from claimwire.eval.checker import (
    AnnotationSet,
    CheckReport,
    check_rows,
    elsewhere_of,
    not_empty,
    prediction_files,
    release_documents,
    system_name,
)
from claimwire.eval.completed import Met, NotInRelease, read_completed
from claimwire.eval.coverage import EMPTY_NOTE
from claimwire.eval.metrics import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    Floats,
    Significance,
    approximate_randomization,
    paired_bootstrap,
)
from claimwire.eval.pages import DEFAULT_PAGE_DOCUMENTS, KeptSections
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
    StackedStatistics,
    Statistics,
    TableKey,
    stance_scores,
    statistics_notes,
)
from claimwire.eval.tasks import Task, find_task
from claimwire.eval.units import UNIT_KINDS, default_unit
from claimwire.files import sha256
from claimwire.grouping import Duplicate, RecordIndex, Row, document_lines
from claimwire.in_order import Batches, NotInOrder, RowsInOrder
from claimwire.model import Annotation, Document, Relation
from claimwire.record_keys import warn_again


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
    pages: KeptSections | None = None
    """The error-analysis page's document sections (when the evaluation renders them)."""

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


_LOCATED = re.compile(r"(.*?):(\d+): ")


def in_file_order(problems: list[str], count: int) -> list[str]:
    """``problems`` by file and line when every one is held and located (``FILE:LINE: …``):
    a cause (a record of an unknown document, line 1) before its consequences (a relation
    to it, line 20), which a batch's checks find first; else as found."""
    located = [_LOCATED.match(problem) for problem in problems]
    if count != len(problems) or not all(located):
        return problems
    files = list(dict.fromkeys(m.group(1) for m in located if m))
    keys = [(files.index(m.group(1)), int(m.group(2))) for m in located if m]
    return [problem for _, problem in sorted(zip(keys, problems, strict=True), key=lambda k: k[0])]


def raise_problems(report: CheckReport, path: Path, what: str, hint: str = "") -> None:
    """A located error listing the checker's problems (the first 20), if it found any;
    ``hint``, what to do, ends it."""
    if report.ok:
        return
    count = report.problem_count
    listed = "\n  ".join(in_file_order(report.problems, count)[:20])
    more = f"\n  … and {count - 20} more" if count > 20 else ""
    raise ClaimwireError(
        f"{count} problem{'s' * (count != 1)} in the {what}; nothing was scored:\n  "
        f"{listed}{more}{hint}",
        file=path,
    )


META_READ = 1 << 20
"""The most of a run's ``.meta.json`` read to find the release it was made on."""


def other_release_hint(run: Path, release: str) -> str:
    """When ``run``'s ``.meta.json`` says it was made on another release than ``release``:
    which one, and what to do (its documents may be ones ``release`` changed or removed)."""
    from claimwire.systems.base import META_SUFFIX  # only on the way to an error

    meta = run.with_name(run.name + META_SUFFIX)
    try:
        with meta.open(encoding="utf-8") as file:
            made_on = json.loads(file.read(META_READ)).get("release")
    except (OSError, ValueError, AttributeError):
        return ""  # no signature, or not one claimwire wrote: nothing to add
    if not isinstance(made_on, str) or made_on == release:
        return ""
    try:
        parse_version(made_on)
    except ClaimwireError:
        return ""
    return (
        f";\n  the run was made on {made_on} ({meta.name}): score it with --release {made_on} "
        "or run the system again"
    )


BATCH_DOCUMENTS = 256
"""Documents checked and scored together: memory holds one batch's texts and records."""
EXPECTED_UNITS = 1 << 20
"""The most units a pass allocates for before it sees them (the manifest's count is a hint: the
arrays grow by half when more come)."""


T = TypeVar("T")


def alone(batches: Iterator[T]) -> Iterator[tuple[T, bool]]:
    """Each batch, with whether it is the only one (read one batch ahead)."""
    batch = next(batches, None)
    first = True
    while batch is not None:
        following = next(batches, None)
        yield batch, first and following is None
        batch, first = following, False


def _met(ids: list[str], met: Sequence[Met]) -> list[str]:
    """``ids``, a batch of the release's documents, noted by each of ``met``."""
    for listed in met:
        listed.add(ids)
    return ids


class _SetRows:
    """An annotation set already in memory, read like a :class:`RecordIndex`."""

    def __init__(self, annotation_set: AnnotationSet) -> None:
        self.by_document: dict[str, list[Row]] = defaultdict(list)
        where = Path(annotation_set.name)
        records: list[Annotation | Relation] = [
            *annotation_set.annotations,
            *annotation_set.relations,
        ]
        for record in records:
            self.by_document[record.doc_id].append((where, 0, record))
        self.duplicates: list[Duplicate] = []

    def rows(self, doc_ids: Sequence[str]) -> list[Row]:
        return [row for doc_id in doc_ids for row in self.by_document.pop(doc_id, [])]

    def leftover(self) -> Iterator[list[Row]]:
        yield [row for rows in self.by_document.values() for row in rows]

    def document_of(self, annotation_id: str) -> str | None:
        return None  # a set in memory is scored as it is, never checked


class _NoIndex:
    """The gold index of a pass that reads the release's gold as columns: no records."""

    def __init__(self) -> None:
        self.duplicates: list[Duplicate] = []
        self.count = 0

    def rows(self, doc_ids: Sequence[str]) -> list[Row]:
        return []

    def leftover(self) -> Iterator[list[Row]]:
        yield from ()

    def document_of(self, annotation_id: str) -> str | None:
        return None

    def __enter__(self) -> _NoIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class NoGold(ClaimwireError):
    """The split holds no gold annotation of the task's labels: nothing to score against."""


@dataclass
class Evaluation:
    """A task on a release's split, ready to check and score prediction files. Documents,
    gold and predictions are read a batch of documents at a time (:data:`BATCH_DOCUMENTS`):
    memory holds per-unit statistics, never the corpus."""

    release: Path
    task: Task
    schema: Schema
    gold_label: str
    unit: str
    split: str = "all"
    """The split scored (``all``: every document), named in the signature."""
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    gold_path: Path | None = None
    """Another annotation set scored against instead of the release's gold."""
    keep_matches: bool = False
    """Keep every matched span and the checked set (a notebook's ``span_match``): one batch
    of all documents; :meth:`open` then renders the error-analysis page's sections too.
    Without it they are kept only when the release fits in one batch (:data:`BATCH_DOCUMENTS`)."""
    engine: Engine | None = None
    """Where batches of documents are checked and scored (default: this process)."""
    page_documents: int | None = None
    """Render the error-analysis page's document sections, keeping this many of them (the
    documents with the most errors): batch by batch, in bounded memory."""

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
        keep_matches: bool = False,
        engine: Engine | None = None,
        page_documents: int | None = None,
    ) -> Evaluation:
        """``gold`` (another annotation set) goes through the checks predictions do; a split
        without gold annotations of the task is an error, not a score of 0."""
        opened = open_release(release)
        schema = schema_of(release)
        spec = find_task(task, schema, release)
        wanted_split = str(split if split is not None else spec.split or "all")
        splits = opened.manifest.get("splits")
        if not isinstance(splits, dict):  # a manifest without split counts: count them
            splits = Counter(d.split for d in opened.documents())
        count = sum(splits.values()) if wanted_split == "all" else splits.get(wanted_split, 0)
        if not count:
            raise ClaimwireError(
                f"no documents of split {wanted_split!r} in this release", file=release
            )
        if gold is None:
            gold_label = f"{opened.version}@{_sha8(release / MANIFEST)}"
        else:
            prediction_files(gold)  # a missing set fails here
            gold_label = (
                f"{gold.stem}@{_sha8(gold if gold.is_file() else gold / 'annotations.jsonl')}"
            )
        chosen = unit or default_unit(count, spec.kind)
        if chosen not in UNIT_KINDS or (chosen == "item" and spec.kind != "stance"):
            raise ClaimwireError(f"unit {chosen!r} does not fit a {spec.kind} task")
        return cls(
            release=release,
            task=spec,
            schema=schema,
            gold_label=gold_label,
            unit=chosen,
            split=wanted_split,
            resamples=resamples,
            seed=seed,
            gold_path=gold,
            keep_matches=keep_matches,
            engine=engine,
            page_documents=DEFAULT_PAGE_DOCUMENTS
            if keep_matches and page_documents is None
            else page_documents,
        )

    def signature(self, scheme: str | None = None) -> str:
        scheme = scheme or self.task.primary
        return (
            f"task:{self.task.name}@{self.task.digest}|scheme:{scheme}|corpus:{self.gold_label}"
            f"|split:{self.split}|unit:{self.unit}|bs:{self.resamples}|seed:{self.seed}"
            f"|v:{__version__}"
        )

    @property
    def _batch_size(self) -> int | None:
        return None if self.keep_matches else BATCH_DOCUMENTS

    def _batches(self) -> Iterator[list[Document]]:
        documents = open_release(self.release, verify=False).documents()  # verified by open
        while batch := list(itertools.islice(documents, self._batch_size)):
            yield batch

    def _expected_units(self) -> int:
        """The units the pass will score, when the manifest tells (documents); else 0."""
        splits = open_release(self.release, verify=False).manifest.get("splits")
        if self.unit != "document" or not isinstance(splits, dict):
            return 0
        expected = sum(splits.values()) if self.split == "all" else splits.get(self.split, 0)
        return min(int(expected), EXPECTED_UNITS)  # a hint, not trusted as a size

    @property
    def reads_gold_relations(self) -> bool:
        """Whether a score reads the release's gold relations: only a relation task's."""
        return bool(self.task.relations)

    def _gold_index(self, in_order: Batches | None) -> RecordIndex | RowsInOrder:
        """The gold's records by document: ``--gold``'s file (checked), or the release's
        annotations, and its relations when :attr:`reads_gold_relations` (the release's
        checksums were verified when it was opened)."""
        if self.gold_path is not None:
            return RecordIndex(prediction_files(self.gold_path))
        opened = open_release(self.release, verify=False)  # verified by open
        annotations = opened.parts(ANNOTATIONS)
        relations = opened.parts(RELATIONS) if self.reads_gold_relations else []
        files = [self.release / part for part in (*annotations, *relations)]
        kinds = [Annotation] * len(annotations) + [Relation] * len(relations)
        return (
            RowsInOrder(files, in_order, check_ids=False, kinds=kinds)
            if in_order is not None
            else RecordIndex(files, check_ids=False)
        )

    def check(
        self,
        path: Path,
        *,
        fix_offsets: bool = False,
        name: str | None = None,
        allow_empty: bool = False,
    ) -> CheckReport:
        """Run the format checker on a prediction file and gather the per-unit statistics
        of what passes; problems raise a located error."""
        files = prediction_files(path)
        name = name or system_name(path, self.task)
        with fewer_collections():
            report = self._run_in_order(files, path, name, fix_offsets)
            if report is None:
                with RecordIndex(files) as predictions:
                    not_empty(predictions.count, path, allow_empty)
                    report = self._run(predictions, path, name, True, fix_offsets)
        if not report.ok:
            version = open_release(self.release, verify=False).version
            raise_problems(report, path, "predictions", other_release_hint(path, version))
        return report

    def _run_in_order(
        self, files: list[Path], path: Path, name: str, fix_offsets: bool
    ) -> CheckReport | None:
        """:meth:`_run` reading the predictions and the release's gold once, in the
        documents' order (:class:`RowsInOrder`); None when they are not in that order, or
        anything fails: the indexed pass then runs (and words any error)."""
        if self.engine is not None and self.engine.distributed:
            return None
        try:
            opened = open_release(self.release, verify=False)  # verified by open
            documents = [self.release / part for part in opened.parts(DOCUMENTS)]
            batches = Batches(documents, self._batch_size)
            with RowsInOrder(files, batches) as predictions:
                report = self._run(predictions, path, name, True, fix_offsets, batches)
        except NotInRelease:
            raise  # the same in any reading
        except (NotInOrder, ClaimwireError):
            return None
        return report if predictions.count else None

    def _run(
        self,
        predictions: RecordIndex | _SetRows | RowsInOrder,
        path: Path,
        name: str,
        check: bool,
        fix_offsets: bool = False,
        in_order: Batches | None = None,
    ) -> CheckReport:
        """One pass over the release a batch of documents at a time: gold and predictions
        of the batch read back, checked, and reduced to per-unit statistics
        (:func:`score_batch`), added up in batch order."""
        setup = BatchSetup(
            self.task,
            self.schema,
            self.unit,
            self.split,
            path,
            name,
            check,
            fix_offsets,
            self.gold_path,
            read_completed(self.gold_path) if self.gold_path is not None else None,
            pages=self.page_documents is not None,
        )
        report = CheckReport(path, name=name)
        if self.page_documents is not None:
            report.pages = KeptSections(self.page_documents)
        gold_report = CheckReport(self.gold_path or self.release)
        parts = StackedStatistics(self._expected_units())
        met = [Met(setup.gold_completed), Met(read_completed(path) if check else None)]
        columns = self._gold_columns(setup)
        with _NoIndex() if columns is not None else self._gold_index(in_order) as gold_index:
            if self.gold_path is not None:
                not_empty(gold_index.count, self.gold_path, None)
            for part in self._parts(setup, gold_index, predictions, met, columns):
                self._absorb(report, gold_report, part, parts)
            if self.gold_path is not None:
                for rows in gold_index.leftover():
                    gold_report.absorb(check_rows(self.gold_path, rows, {}, self.schema, self.task))
                gold_report.duplicates(gold_index.duplicates)
            elif isinstance(gold_index, RowsInOrder):
                for _ in gold_index.leftover():  # raises if a gold record was not taken
                    pass
        raise_problems(gold_report, self.gold_path or self.release, "gold")
        for listed in met:  # a set's list names documents of the release, as its records do
            listed.raise_unmet(self.release)
        for rows in predictions.leftover():
            if check:
                report.absorb(check_rows(path, rows, {}, self.schema, self.task, name=name))
        report.duplicates(predictions.duplicates)
        report.statistics = parts.merged()
        return report

    def _parts(
        self,
        setup: BatchSetup,
        gold_index: RecordIndex | RowsInOrder | _NoIndex,
        predictions: RecordIndex | _SetRows | RowsInOrder,
        met: Sequence[Met],
        columns: GoldColumns | None = None,
    ) -> Iterator[BatchResult]:
        """Each batch's part, in order: here, or on the engine's workers, which are sent
        where the batch's lines are and read them themselves; ``met`` notes each batch's
        documents. ``columns``: the release's gold as columns (``gold_index`` holds none)."""
        engine = self.engine
        if columns is None and (
            engine is not None
            and engine.distributed
            and isinstance(predictions, RecordIndex)
            and isinstance(gold_index, RecordIndex)
        ):
            opened = open_release(self.release, verify=False)  # verified by open
            files = [self.release / part for part in opened.parts(DOCUMENTS)]
            described = (
                BatchLines(
                    tuple(documents),
                    tuple(gold_index.where(known)),
                    tuple(predictions.where(known)),
                    keep,
                )
                for (ids, documents), keep in alone(document_lines(files, self._batch_size))
                for known in [_met([i for i in ids if i is not None], met)]
            )
            stage = ScoreBatches(setup, gold_index.files, predictions.files, files)
            yield from engine.stream(stage, described)
            return
        with release_documents(self.release) as documents:
            gold_elsewhere = elsewhere_of(gold_index, documents)
            elsewhere = elsewhere_of(predictions, documents, setup.fix_offsets)
            first = 0
            for batch, keep in alone(self._batches()):
                ids = _met([d.id for d in batch], met)
                yield score_batch(
                    setup,
                    batch,
                    gold_index.rows(ids),
                    predictions.rows(ids),
                    keep=keep,
                    gold_elsewhere=gold_elsewhere,
                    elsewhere=elsewhere,
                    gold_columns=None
                    if columns is None
                    else (columns.batch(first, first + len(batch)), first),
                )
                first += len(batch)

    def _gold_columns(self, setup: BatchSetup) -> GoldColumns | None:
        """The release's gold as columns, when it carries them (:mod:`claimwire.corpus.
        gold_columns`), this pass scores against it in this process a batch at a time with
        nothing of the matches kept, and the task reads nothing the columns lack; else None
        (the gold's JSONL is read)."""
        if (
            self.gold_path is not None
            or self.keep_matches
            or self.page_documents is not None
            or (self.engine is not None and self.engine.distributed)
            or not columns_fit(setup)
        ):
            return None
        opened = open_release(self.release, verify=False)  # verified by open
        listed = opened.manifest.get(COLUMNS_KEY)
        files = opened.manifest["files"]
        parts = opened.parts(ANNOTATIONS)
        counts = [files.get(part, {}).get("records") for part in opened.parts(DOCUMENTS)]
        if (
            not isinstance(listed, dict)
            or any(listed.get(part) != columns_name(part) for part in parts)
            or any(listed[part] not in files for part in parts)
            or any(type(count) is not int for count in counts)
            or sum(counts) <= BATCH_DOCUMENTS  # one batch: its matches are kept
        ):
            return None
        try:
            return GoldColumns([self.release / listed[part] for part in parts])
        except (ColumnsUnavailable, *UNREADABLE):
            return None

    @staticmethod
    def _absorb(
        report: CheckReport, gold_report: CheckReport, part: BatchResult, parts: StackedStatistics
    ) -> None:
        """Add a batch's part to the pass's report (batches come in order)."""
        for warning in part.warned:
            warn_again(warning)
        if part.gold_report is not None:
            gold_report.absorb(part.gold_report)
        report.absorb(part.report)
        report.annotation_set = part.report.annotation_set  # only a whole release's is kept
        report.outside += part.outside
        report.outside_documents += part.outside_documents
        report.unannotated += part.unannotated
        report.unannotated_documents += part.unannotated_documents
        if part.statistics is not None and report.ok and gold_report.ok:
            report.gold_scored += part.gold_scored
            parts.add(part.statistics)
            if report.pages is not None:
                report.pages.add(part.sections)

    def _require_gold(self, report: CheckReport) -> None:
        task = self.task
        if not report.gold_scored:
            raise NoGold(
                f"split {self.split!r} has no gold {', '.join(task.labels)} annotations "
                f"({self.documents_count()} documents): there is nothing to score against",
                file=self.release,
            )

    def documents_count(self) -> int:
        splits = open_release(self.release).manifest.get("splits") or {}
        return int(sum(splits.values()) if self.split == "all" else splits.get(self.split, 0))

    def score(self, report_or_set: CheckReport | AnnotationSet) -> SystemResult:
        """Scores of a checked prediction file (:meth:`check`), or of an annotation set in
        memory (used as it is, unchecked)."""
        if isinstance(report_or_set, AnnotationSet):
            report = self._run(
                _SetRows(report_or_set), Path(report_or_set.name), report_or_set.name, False
            )
        else:
            report = report_or_set
        self._require_gold(report)
        assert report.statistics is not None
        statistics = report.statistics
        statistics.notes = statistics_notes(self.task, statistics)
        if report.outside:
            statistics.notes.append(
                f"{report.outside} predicted annotations on {report.outside_documents} documents "
                f"outside split {self.split!r} were not scored."
            )
        if report.unannotated_documents:
            left = report.unannotated_documents
            statistics.notes.append(
                f"Compared on the {self.documents_count() - left} documents of split "
                f"{self.split!r} the gold set annotated: the {left} it holds no record for "
                "(nor lists as completed) "
                f"were left out, with the {report.unannotated} predicted annotations on them. "
                f"{EMPTY_NOTE}"
            )
        scores = scores_from(statistics, self.task, self.resamples, self.seed)
        return SystemResult(
            report.name, self.task, self.signature(), statistics, scores, report.pages
        )

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
