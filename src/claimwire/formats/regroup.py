"""An import whose documents' records are not together (a reader's units that name no
document, an id in two batches; a document a format's reader meets twice is refused before,
:func:`claimwire.formats.convert.checked_batches`) checked without holding it: the
records go to disk as they are read, in the import's order, are indexed by document
(:class:`RecordIndex`), and are read back and checked a batch of whole documents at a time.

What is written is what the import checked whole would write (the records in the order
read: annotations, then relations), and so are the problems: counted, and the first few
shown in the whole check's order (each problem keyed by its check and its record).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from claimwire.annotation.schema import Label, RelationType, Schema
from claimwire.eval.checker import OtherBatches, Row, check_rows, duplicate_problem
from claimwire.eval.tasks import Task
from claimwire.formats.base import Imported
from claimwire.grouping import RecordIndex
from claimwire.model import Annotation, Document, Relation, record_line
from claimwire.spool import Spool


class SpooledImport:
    """An import's records on disk, annotations and relations each in a JSONL file of the
    records in the order read, with where each was read (file and line) in a spool beside
    it; removed on :meth:`close`."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="claimwire-import-")
        folder = Path(self._folder.name)
        self.files = (folder / "annotations.jsonl", folder / "relations.jsonl")
        self._handles = [file.open("w", encoding="utf-8") for file in self.files]
        self._places = (Spool(), Spool())
        self.counts = [0, 0]

    def add(self, unit: Imported) -> None:
        both: tuple[Sequence[Row], Sequence[Row]] = (unit.annotations, unit.relations)
        for kind, rows in enumerate(both):
            self._handles[kind].writelines(record_line(row[2]) for row in rows)
            self._places[kind].extend([str(row[0]), row[1]] for row in rows)
            self.counts[kind] += len(rows)

    def check(
        self,
        path: Path,
        documents: Mapping[str, Document],
        schema: Schema,
        task: Task,
        size: int,
        shown: int,
    ) -> tuple[int, list[str]]:
        """Check the records ``size`` documents at a time (every record of a document in
        its batch): how many problems, and the first ``shown`` in the order the whole
        import's check gives them (by check, then by record: annotations, then relations,
        each in the order read), located where their records were read."""
        for handle in self._handles:
            handle.flush()
        count, first = 0, list[tuple[tuple[int, ...], str]]()
        with RecordIndex(list(self.files)) as index:
            others = OtherBatches(index, lambda: documents)
            reports = (
                check_rows(
                    path,
                    rows,
                    documents,
                    schema,
                    task,
                    context=_named_elsewhere(rows, schema, others),
                    elsewhere=others.document_of,
                )
                for rows in map(index.rows, index.document_batches(size))
            )
            leftover = (
                check_rows(path, rows, documents, schema, task) for rows in index.leftover()
            )
            for number, report in enumerate(itertools.chain(reports, leftover)):
                count += len(report.problems)
                keyed = [
                    (bisect.bisect_right(report.phases, at), *self._record(problem)[:2], number, at)
                    for at, problem in enumerate(report.problems)
                ]
                first = heapq.nsmallest(shown, [*first, *zip(keyed, report.problems, strict=True)])
            # dropped from the checks, as the whole's are; in file order: the first are least
            repeated = list(map(duplicate_problem, index.duplicates[:shown]))
            count += len(index.duplicates)
            keyed = [(0, *self._record(problem)[:2], -1, 0) for problem in repeated]
            first = heapq.nsmallest(shown, [*first, *zip(keyed, repeated, strict=True)])
        return count, self.located([problem for _, problem in first])

    def _record(self, problem: str) -> tuple[int, int, str]:
        """The spooled record a problem names (its kind: 0 annotation, 1 relation; its line)
        and the rest of the problem."""
        for kind, file in enumerate(self.files):
            if problem.startswith(prefix := f"{file}:"):
                line, rest = problem[len(prefix) :].split(":", 1)
                return kind, int(line), rest
        raise AssertionError(f"a problem names no spooled record: {problem}")

    def located(self, problems: list[str]) -> list[str]:
        """``problems`` (each ``spooled file:line: …``) naming where their records were read
        (the spools of places read once, up to the last line named)."""
        named = [self._record(problem) for problem in problems]
        wanted: tuple[dict[int, Any], dict[int, Any]] = ({}, {})
        for kind, line, _ in named:
            wanted[kind][line] = None
        for kind, lines in enumerate(wanted):
            for at, where in zip(
                range(1, max(lines, default=0) + 1), self._places[kind], strict=False
            ):
                if at in lines:
                    lines[at] = where
        return [
            f"{wanted[kind][line][0]}:{wanted[kind][line][1]}:{rest}" for kind, line, rest in named
        ]

    def copy_to(self, out: IO[str]) -> None:
        """The records, annotations then relations, written to ``out``."""
        for handle, file in zip(self._handles, self.files, strict=True):
            handle.close()
            with file.open(encoding="utf-8") as read:
                shutil.copyfileobj(read, out)

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        for places in self._places:
            places.close()
        self._folder.cleanup()

    def __enter__(self) -> SpooledImport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _named_elsewhere(
    rows: list[Row], schema: Schema, others: OtherBatches
) -> tuple[Annotation, ...]:
    """The annotations of other batches that the records of ``rows`` name (a relation's
    ends, a reference attribute) and the whole import's check kept: its check saw them, so a
    batch's does."""
    inside = {record.id for _, _, record in rows if isinstance(record, Annotation)}
    named: set[str] = set()
    for _, _, record in rows:
        if isinstance(record, Relation):
            named.update((record.head, record.tail))
            spec: Label | RelationType | None = schema.relations.get(record.type)
        else:
            spec = schema.labels.get(record.label)
        for name, attribute in spec.attributes.items() if spec is not None else ():
            value = record.attributes.get(name)
            if attribute.type == "ref" and isinstance(value, str):
                named.add(value)
    found = map(others.annotation, sorted(named - inside))
    return tuple(annotation for annotation in found if annotation is not None)
