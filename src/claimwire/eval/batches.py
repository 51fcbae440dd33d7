"""One batch of documents checked and reduced to per-unit statistics.

:func:`score_batch` is the body of an evaluation's pass (:meth:`Evaluation._run`): the
gold and predicted records of a batch of documents are checked (predictions always, gold when
it is another annotation set) and scored. Every engine calls it, so a batch gives the same
report part and the same statistics whichever process computes it; the driver adds them up
in batch order.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import attrgetter, itemgetter, not_
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import numpy as np

from claimwire.annotation.schema import Schema
from claimwire.collection import fewer_collections
from claimwire.corpus.document_index import DocumentIndex
from claimwire.corpus.gold_columns import GoldBatch
from claimwire.eval.checker import (
    AnnotationSet,
    CheckReport,
    OtherBatches,
    check_rows,
    filter_set,
)
from claimwire.eval.completed import Completed
from claimwire.eval.coverage import annotated_documents
from claimwire.eval.matches import match_of
from claimwire.eval.pages import DocumentSection, document_sections
from claimwire.eval.scoring import GoldColumnsSet, SpanTaskScorer, StanceScorer, Statistics
from claimwire.eval.tasks import Task
from claimwire.grouping import Lines, RecordIndex, Row, read_lines
from claimwire.model import Annotation, Document, decode_numbered
from claimwire.record_keys import UnknownKeyWarning

Lookup = Callable[[str], "str | None"]
"""The document of an annotation id outside the batch (a relation's far end), or None."""


@dataclass(frozen=True)
class BatchSetup:
    """What every batch of one evaluation shares (small and picklable)."""

    task: Task
    schema: Schema
    unit: str
    split: str
    path: Path
    """The predictions, as named in their problems."""
    name: str
    check: bool
    """Check the predictions (else they are an annotation set scored as it is)."""
    fix_offsets: bool = False
    gold_path: Path | None = None
    """Another annotation set as gold, checked like predictions (else the release's)."""
    gold_completed: Completed | None = None
    """That set's list of completed documents, if it has one."""
    pages: bool = False
    """Render each scored document's section of the error-analysis page."""


@dataclass
class BatchResult:
    """A batch's part: its checks (absorbed in batch order) and its statistics."""

    report: CheckReport
    gold_report: CheckReport | None
    statistics: Statistics | None
    """None when the batch scores no document or its checks found problems."""
    outside: int = 0
    """Predicted annotations that passed on documents outside the scored split…"""
    outside_documents: int = 0
    """…and on how many documents."""
    unannotated: int = 0
    """Predicted annotations that passed on scored documents a gold set (``--gold``) holds
    no record for: left out of the score, as agreement leaves them out…"""
    unannotated_documents: int = 0
    """…and on how many documents."""
    gold_scored: int = 0
    sections: list[DocumentSection] = field(default_factory=list)
    """The error-analysis page's section of each scored document, in order (when asked)."""
    warned: list[UnknownKeyWarning] = field(default_factory=list)
    """What reading the batch on an engine's worker warned about, to be warned about again
    where the user sees it (:func:`claimwire.record_keys.warn_again`)."""


def as_set(name: str, rows: Sequence[Row]) -> AnnotationSet:
    """The records of ``rows`` as an annotation set, in their order (columns split in C)."""
    records = list(map(itemgetter(2), rows))
    notes = list(map(isinstance, records, repeat(Annotation)))
    return AnnotationSet(
        name,
        tuple(compress(records, notes)),
        tuple(compress(records, map(not_, notes))),
    )


def score_batch(
    setup: BatchSetup,
    documents: Sequence[Document],
    gold_rows: list[Row],
    rows: list[Row],
    *,
    keep: bool,
    gold_elsewhere: Lookup | None = None,
    elsewhere: Lookup | None = None,
    gold_columns: tuple[GoldBatch, int] | None = None,
) -> BatchResult:
    """Check and score one batch. ``keep``: the batch is the whole release, so the set that
    passed and the matched spans are kept (the error-analysis page shows them).
    ``gold_columns``: the release's gold of the batch as columns, and the position of the
    batch's first document in the release (``gold_rows`` is then empty): only for a task
    :func:`columns_fit`, and a batch whose matches are not kept."""
    task, schema = setup.task, setup.schema
    referable = schema.referenced_labels(task.labels)
    by_id = {d.id: d for d in documents}
    gold_report = None
    gold_set: AnnotationSet | None
    if gold_columns is not None:
        assert not keep and not setup.pages and columns_fit(setup)
        gold_set = AnnotationSet("gold", (), ())
    elif setup.gold_path is not None:
        gold_report = check_rows(
            setup.gold_path, gold_rows, by_id, schema, task, elsewhere=gold_elsewhere
        )
        gold_set = gold_report.annotation_set
        gold_report.annotation_set = None
    else:
        gold_set = as_set("gold", gold_rows)
    assert gold_set is not None
    context = tuple([a for a in gold_set.annotations if a.label in referable] if referable else ())
    if setup.check:
        report = check_rows(
            setup.path,
            rows,
            by_id,
            schema,
            task,
            fix_offsets=setup.fix_offsets,
            name=setup.name,
            context=context,
            elsewhere=elsewhere,
        )
        predicted = report.annotation_set
        if not keep:
            report.annotation_set = None
    else:
        report = CheckReport(setup.path, name=setup.name)
        predicted = as_set(setup.name, rows)
    assert predicted is not None
    result = BatchResult(report, gold_report, None)
    scored = [d for d in documents if setup.split == "all" or d.split == setup.split]
    ids_scored = {d.id for d in scored}
    # the records of a batch name its documents: when it scores them all, none is outside
    every = len(ids_scored) == len(by_id)
    outside = (
        set() if every else {a.doc_id for a in predicted.annotations if a.doc_id not in ids_scored}
    )
    result.outside_documents = len(outside)
    if outside:
        result.outside = sum(1 for a in predicted.annotations if a.doc_id in outside)
    if setup.gold_path is not None:  # a set: compared on the documents it annotated
        scored = _annotated_only(scored, gold_rows, predicted, result, setup.gold_completed)
    if not scored or report.problems or (gold_report is not None and gold_report.problems):
        return result  # nothing will be scored: the checks only
    kept_labels = (*task.related_labels, *sorted(referable))
    scored_labels = {*task.labels, *([task.disclosure] if task.disclosure else [])}
    if gold_columns is not None:
        return _score_columns(setup, documents, scored, predicted, result, *gold_columns)
    gold_set = filter_set(gold_set, kept_labels)
    if not every:
        gold_set = AnnotationSet(
            gold_set.name,
            tuple([a for a in gold_set.annotations if a.doc_id in ids_scored]),
            tuple([r for r in gold_set.relations if r.doc_id in ids_scored]),
        )
    labels = map(attrgetter("label"), gold_set.annotations)
    result.gold_scored = sum(map(scored_labels.__contains__, labels))
    if task.kind == "stance":
        scorer = StanceScorer(task, scored, setup.unit, context)
        result.statistics = scorer.statistics(gold_set, predicted)
    else:
        span_scorer = SpanTaskScorer(task, schema, scored, setup.unit)
        result.statistics = span_scorer.statistics(gold_set, predicted)
        found = result.statistics.extra.get("primary_match")
        if setup.pages and found is not None:
            result.sections = document_sections(match_of(setup.name, task.primary, found), scored)
    if not keep:
        result.statistics.extra.pop("primary_match", None)
    return result


def columns_fit(setup: BatchSetup) -> bool:
    """Whether a batch of this evaluation can read the release's gold as columns: a span
    task scored against the release's gold, without relations, a disclosure label or labels
    its attributes refer to (what the columns do not carry)."""
    task = setup.task
    return (
        setup.gold_path is None
        and task.kind != "stance"
        and not task.relations
        and not task.disclosure
        and not setup.schema.referenced_labels(task.labels)
    )


def _score_columns(
    setup: BatchSetup,
    documents: Sequence[Document],
    scored: list[Document],
    predicted: AnnotationSet,
    result: BatchResult,
    gold: GoldBatch,
    first: int,
) -> BatchResult:
    """The scoring half of :func:`score_batch` with the gold as columns."""
    task = setup.task
    scored_labels = {*task.labels}  # no disclosure label: :func:`columns_fit`
    span_scorer = SpanTaskScorer(task, setup.schema, scored, setup.unit)
    doc_index = span_scorer.units.doc_index
    doc_unit = np.fromiter((doc_index.get(d.id, -1) for d in documents), np.int64, len(documents))
    counted = np.asarray([name in scored_labels for name in gold.labels], dtype=bool)
    if len(gold):
        in_scored = doc_unit[gold.doc - first] >= 0
        result.gold_scored = int(np.count_nonzero(counted[gold.label] & in_scored))
    result.statistics = span_scorer.statistics(
        GoldColumnsSet("gold", gold, first, doc_unit), predicted
    )
    result.statistics.extra.pop("primary_match", None)
    return result


def _annotated_only(
    scored: list[Document],
    gold_rows: list[Row],
    predicted: AnnotationSet,
    result: BatchResult,
    completed: Completed | None,
) -> list[Document]:
    """The documents of ``scored`` the gold set annotated (:mod:`claimwire.eval.coverage`:
    it holds a record there, of any label, or its list says they were completed); the
    predictions on the others are counted in ``result``."""
    listed = completed.among([d.id for d in scored]) if completed is not None else ()
    annotated = annotated_documents((row[2] for row in gold_rows), listed)
    left_out = {d.id for d in scored if d.id not in annotated}
    if left_out:
        result.unannotated_documents = len(left_out)
        result.unannotated = sum(1 for a in predicted.annotations if a.doc_id in left_out)
    return [d for d in scored if d.id in annotated]


@dataclass(frozen=True)
class BatchLines:
    """A batch told by where its lines are: what a worker is sent (a few hundred numbers
    per batch); it reads the lines itself, from files every worker sees at the same path."""

    documents: tuple[Lines, ...]
    gold: tuple[Lines, ...]
    predictions: tuple[Lines, ...]
    keep: bool


def read_documents(lines: Lines) -> list[Document]:
    """The documents of ``lines``, decoded with located errors."""
    decoded = decode_numbered(lines.path, lines.numbered(), cast(Any, Document))
    return [cast(Document, document) for _, document in decoded]


Stamps = tuple[tuple[Path, int, int], ...]
"""Files with their modification times and sizes: a cache key that changes with them."""


def _stamps(files: tuple[Path, ...]) -> Stamps:
    return tuple((p, info.st_mtime_ns, info.st_size) for p in files for info in [p.stat()])


class Closable(Protocol):
    """What :class:`KeptIndexes` keeps: an index holding files open."""

    def close(self) -> None: ...


Kept = TypeVar("Kept", bound=Closable)


class KeptIndexes:
    """Indexes a process opened, kept for its next batches by what they index and their
    files' stamps (a file changed since gets a new one); past ``size``, the least recently
    used is closed. A batch asks for at most three (gold, predictions, documents): with
    ``size`` at least that, none a batch holds is closed under it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[str, Stamps], Closable] = OrderedDict()

    def get(self, key: tuple[str, Stamps], make: Callable[[], Kept]) -> Kept:
        """The index kept under ``key`` (``key[0]`` names its kind), else ``make()``'s,
        kept."""
        if key in self._kept:
            self._kept.move_to_end(key)
            return cast(Kept, self._kept[key])
        index = self._kept[key] = make()
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)[1].close()
        return index

    def close(self) -> None:
        """Close every index kept."""
        while self._kept:
            self._kept.popitem()[1].close()


KEPT = KeptIndexes(4)
"""This process's indexes of other batches' records and of the release's documents."""


def _lookup(files: tuple[Path, ...], documents: tuple[Path, ...], fix_offsets: bool) -> Lookup:
    """:class:`OtherBatches` over ``files`` and the release's ``documents``, for one batch:
    the files are stamped once, each index is opened on the batch's first question (only a
    relation whose end is not in its batch asks) and kept for the next batches."""
    records_key, documents_key = ("records", _stamps(files)), ("documents", _stamps(documents))

    def made() -> OtherBatches:
        index = KEPT.get(records_key, lambda: RecordIndex(files, check_ids=False))
        found = functools.cache(lambda: KEPT.get(documents_key, lambda: DocumentIndex(documents)))
        return OtherBatches(index, found, fix_offsets)

    others = functools.cache(made)
    return lambda annotation_id: others().document_of(annotation_id)


class ScoreBatches:
    """:func:`score_batch` where the batch's lines are read: the stage of a distributed
    pass (:meth:`claimwire.engine.Engine.stream`)."""

    def __init__(
        self,
        setup: BatchSetup,
        gold_files: Sequence[Path],
        prediction_files: Sequence[Path],
        document_files: Sequence[Path],
    ) -> None:
        self.setup = setup
        self.gold_files = tuple(p.absolute() for p in gold_files)
        self.prediction_files = tuple(p.absolute() for p in prediction_files)
        self.document_files = tuple(p.absolute() for p in document_files)

    def __call__(self, batch: list[BatchLines]) -> list[BatchResult]:
        with fewer_collections():  # as the local pass
            return [self._score_warned(lines) for lines in batch]

    def _score_warned(self, lines: BatchLines) -> BatchResult:
        """:meth:`_score`, and what reading the lines warned about (a worker's stderr is
        not the user's)."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnknownKeyWarning)
            result = self._score(lines)
        for warning in caught:
            if isinstance(warning.message, UnknownKeyWarning):
                result.warned.append(warning.message)
            else:
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        return result

    def _score(self, lines: BatchLines) -> BatchResult:
        documents = [d for part in lines.documents for d in read_documents(part)]
        return score_batch(
            self.setup,
            documents,
            [row for part in lines.gold for row in read_lines(part)],
            [row for part in lines.predictions for row in read_lines(part)],
            keep=lines.keep,
            gold_elsewhere=_lookup(self.gold_files, self.document_files, False),
            elsewhere=_lookup(self.prediction_files, self.document_files, self.setup.fix_offsets),
        )
