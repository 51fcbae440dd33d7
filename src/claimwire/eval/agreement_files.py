"""Agreement among annotation set files on a release, a batch of documents at a time.

Each set is read as eval score reads predictions: in one pass when its records come in the
documents' order (:class:`~claimwire.in_order.RowsInOrder`), else through the record index
(:class:`~claimwire.grouping.RecordIndex`). Every batch's records go through the format
checker (every label of the schema; a reference to an annotation the set lacks is left to
the study, which reports it) and are added to the study's sums
(:class:`~claimwire.eval.agreement.AgreementSums`): memory holds one batch's documents and
records, never a whole set.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from claimwire.annotation.checks import schema_of
from claimwire.collection import fewer_collections
from claimwire.corpus.release import DOCUMENTS, open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.agreement import AgreementReport, AgreementSums, Missing
from claimwire.eval.checker import (
    NamedSet,
    check_rows,
    duplicate_problem,
    elsewhere_of,
    named_sets,
    not_empty,
    release_documents,
)
from claimwire.eval.completed import Met, NotInRelease
from claimwire.eval.evaluate import BATCH_DOCUMENTS
from claimwire.eval.tasks import Task
from claimwire.grouping import RecordIndex
from claimwire.in_order import Batches, NotInOrder, RowsInOrder

Reader = RecordIndex | RowsInOrder


def agreement_of_files(
    paths: Sequence[Path],
    release: Path,
    missing: Missing = "both",
    batch: int = BATCH_DOCUMENTS,
) -> AgreementReport:
    """The agreement report of the sets at ``paths`` on ``release`` (checked), read
    ``batch`` documents at a time."""
    return agreement_sums_of_files(paths, release, missing, batch).report()


def agreement_sums_of_files(
    paths: Sequence[Path],
    release: Path,
    missing: Missing = "both",
    batch: int = BATCH_DOCUMENTS,
) -> AgreementSums:
    """The sums of :func:`agreement_of_files`, to stream the report from
    (:meth:`AgreementSums.streamed`)."""
    sets = named_sets(paths)
    opened = open_release(release)
    with fewer_collections():  # as eval score: batches of records without cycles
        try:
            batches = Batches([release / part for part in opened.parts(DOCUMENTS)], batch)
            readers: list[Reader] = [RowsInOrder(s.files, batches) for s in sets]
            return _study(sets, readers, release, missing, batch)
        except NotInRelease:
            raise  # the same in any reading
        except (NotInOrder, ClaimwireError):
            readers = [RecordIndex(s.files) for s in sets]  # checks and words what went wrong
            return _study(sets, readers, release, missing, batch)


def _study(
    sets: Sequence[NamedSet],
    readers: Sequence[Reader],
    release: Path,
    missing: Missing,
    batch: int,
) -> AgreementSums:
    schema = schema_of(release)
    task = Task("agreement", "every label of the schema", "spans", tuple(schema.labels))
    sums = AgreementSums([s.name for s in sets], schema, missing=missing)
    failures = [_Failures() for _ in sets]
    met = [Met(s.completed) for s in sets]
    try:
        documents = open_release(release, verify=False).documents()  # verified by the caller
        with release_documents(release) as every:
            while chunk := list(itertools.islice(documents, batch)):
                by_id = {d.id: d for d in chunk}
                for listed in met:
                    listed.add(list(by_id))
                checked = []
                for named, reader, found in zip(sets, readers, failures, strict=True):
                    part = check_rows(
                        named.path,
                        reader.rows(list(by_id)),
                        by_id,
                        schema,
                        task,
                        name=named.name,
                        elsewhere=elsewhere_of(reader, every),
                    )
                    found.add(part.problems)
                    if part.annotation_set is not None:
                        checked.append(named.with_completed(part.annotation_set, list(by_id)))
                if not any(failures):
                    sums.add(chunk, checked)
        for named, reader, found in zip(sets, readers, failures, strict=True):
            for rows in reader.leftover():
                found.add(check_rows(named.path, rows, {}, schema, task).problems)
            found.add(map(duplicate_problem, reader.duplicates))
            not_empty(reader.count, named.path, None)
            if found:
                more = f" (and {found.count - 1} more)" if found.count > 1 else ""
                raise ClaimwireError(f"the set fails the format checker: {found.first}{more}")
        for listed in met:
            listed.raise_unmet(release)
    finally:
        for reader in readers:
            reader.close()
    if not len(sums.coverage.shared()[0]):
        counts = ", ".join(
            f"{named.path}: {count}" for named, count in zip(sets, sums.coverage.each, strict=True)
        )
        raise ClaimwireError(
            f"no document annotated by {'both' if len(sets) == 2 else 'any two'} sets "
            f"(documents annotated: {counts}); agreement compares the documents sets "
            "annotated in common"
        )
    return sums


_LOCATED = re.compile(r"(.*?):(\d+): ")


def _place(problem: str) -> tuple[bool, str, int]:
    """Where a problem is, to name the first in (file, line) order whatever the batches
    (a problem with no line comes last)."""
    found = _LOCATED.match(problem)
    return (False, found[1], int(found[2])) if found else (True, "", 0)


@dataclass(slots=True)
class _Failures:
    """A set's problems (but bad references, which agreement tolerates): how many, and the
    first in (file, line) order whatever the batches; none held besides."""

    count: int = 0
    first: str = ""

    def add(self, problems: Iterable[str]) -> None:
        for problem in problems:
            if ": bad-reference: " in problem:
                continue
            if not self.count or _place(problem) < _place(self.first):
                self.first = problem
            self.count += 1

    def __bool__(self) -> bool:
        return bool(self.count)
