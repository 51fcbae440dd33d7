"""The annotation sets a pull converts, kept on disk until they are written.

Every converted annotation's records go to a :class:`~claimwire.spool.Spool` as they come,
tagged with their annotator, document, task and annotation; writing sorts them (a run at a
time) by annotator and document, so memory does not grow with the number of tasks.

One annotator has one annotation of a document in a set. Label Studio keeps a task imported
twice (or duplicated) as two tasks, and an annotator may annotate both, or submit two
annotations of one task (its "Remove Duplicated Tasks" action moves a duplicate's
annotations onto the first task): the first annotation in export order (the lower task id)
is kept, and each other one is reported, naming both, and left out. A repeated record id
within the annotation kept is reported and left out too. Nothing written repeats an id, so
the sets pass the format check every reader runs.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from claimwire.annotation.label_studio.convert import Converted
from claimwire.engine import batches
from claimwire.errors import ClaimwireError
from claimwire.eval.completed import COMPLETED, Completed, read_completed
from claimwire.model import Annotation, Relation, loads_object, record_line
from claimwire.spool import Spool, spilled_sorted

_AUTHOR, _DOCUMENT, _NUMBER, _TASK, _ANNOTATION, _KIND, _ID, _LINE = range(8)
RUN = 20_000
"""Rows sorted in memory at a time (each holds a record's line: a few MB)."""


@dataclass
class Written:
    """One annotator's set as written."""

    author: str
    annotations: int
    relations: int
    path: Path


class PulledSets:
    """The records of every annotator's annotations, spooled in the order they came."""

    def __init__(self) -> None:
        self._rows = Spool()
        self.added = 0
        """How many annotations were added (before any is left out)."""

    def add(
        self, author: str, doc_id: str, task: object, annotation: object, converted: Converted
    ) -> None:
        """One annotation (``annotation`` of ``task``, as the export names them) of
        ``doc_id`` by ``author``, converted; one with no record still makes a set."""
        self.added += 1
        head = [author, doc_id, self.added, str(task), str(annotation)]
        self._rows.append([*head, "", "", None])
        records: list[tuple[str, Annotation | Relation]] = [
            *(("annotation", a) for a in converted.annotations),
            *(("relation", r) for r in converted.relations),
        ]
        for kind, record in records:
            self._rows.append([*head, kind, record.id, record_line(record)])

    def write(
        self,
        open_set: Callable[[str], tuple[Path, AbstractContextManager[TextIO]]],
        problems: list[str],
        where: str,
        open_completed: Callable[[Path], AbstractContextManager[TextIO]] | None = None,
    ) -> Iterator[Written]:
        """Write each annotator's set (annotators in sorted order, their documents sorted)
        to the handle ``open_set(author)`` gives (its path, its handle's context), closed
        before the next one is opened; what is left out is appended to ``problems``, each
        starting with ``where``. ``open_completed(path)``: the handle for the list of the
        set's completed documents (:mod:`claimwire.eval.completed`), every document the
        annotator submitted an annotation of, records or none."""
        for author, documents in self._sets(problems, where):
            path, opened = open_set(author)
            listed = open_completed(path) if open_completed else contextlib.nullcontext()
            with opened as handle, listed as completed:
                counts = {"annotation": 0, "relation": 0}
                for doc_id, rows in documents:
                    if completed is not None:
                        completed.write(f"{doc_id}\n")
                    for row in rows:
                        handle.write(row[_LINE])
                        counts[row[_KIND]] += 1
            yield Written(author, counts["annotation"], counts["relation"], path)

    def collected(self) -> dict[str, Converted]:
        """Every set in memory, by annotator, as :meth:`write` would write them (for a small
        export: tests and benchmarks look at records)."""
        sets: dict[str, Converted] = {}
        for author, documents in self._sets([], ""):
            found = sets[author] = Converted()
            for row in itertools.chain.from_iterable(rows for _, rows in documents):
                record = loads_object(row[_LINE])
                if row[_KIND] == "relation":
                    found.relations.append(Relation.from_dict(record))
                else:
                    found.annotations.append(Annotation.from_dict(record))
        return sets

    def _sets(
        self, problems: list[str], where: str
    ) -> Iterator[tuple[str, Iterator[tuple[str, Iterator[list[Any]]]]]]:
        """Each annotator with their documents, sorted, each with the rows of the records
        kept (none for an annotation without records); each document's rows must be read
        before the next document is."""
        rows = spilled_sorted(self._rows, key=itemgetter(_AUTHOR, _DOCUMENT, _NUMBER), run=RUN)
        for author, of_author in itertools.groupby(rows, key=itemgetter(_AUTHOR)):
            yield (
                author,
                (
                    (doc_id, _kept(of_document, problems, where))
                    for doc_id, of_document in itertools.groupby(
                        of_author, key=itemgetter(_DOCUMENT)
                    )
                ),
            )

    def close(self) -> None:
        self._rows.close()


def _kept(rows: Iterator[list[Any]], problems: list[str], where: str) -> Iterator[list[Any]]:
    """The record rows of one annotator's first annotation of one document (its rows come
    first: they are sorted by arrival), each id once; the others are reported."""
    first: list[Any] | None = None
    ids: set[tuple[str, str]] = set()
    for row in rows:
        if first is None:
            first = row
        if row[_NUMBER] != first[_NUMBER]:
            if row[_LINE] is None:  # an annotation's first row: reported once
                problems.append(_twice(first, row, where))
        elif row[_LINE] is not None:
            if (row[_KIND], row[_ID]) in ids:
                problems.append(
                    f"{where}task {row[_TASK]} annotation {row[_ANNOTATION]} ({row[_AUTHOR]}): "
                    f"{row[_KIND]} id {row[_ID]!r} comes twice; the second is left out"
                )
                continue
            ids.add((row[_KIND], row[_ID]))
            yield row


def _twice(first: list[Any], other: list[Any], where: str) -> str:
    return (
        f"{where}document {first[_DOCUMENT]}: {first[_AUTHOR]} annotated it twice — task "
        f"{first[_TASK]} annotation {first[_ANNOTATION]} (kept) and task {other[_TASK]} "
        f"annotation {other[_ANNOTATION]} (left out): a set holds one annotation of a document "
        "per annotator; delete one of them in Label Studio (its Data Manager's \"Remove "
        "Duplicated Tasks\" puts a duplicate task's annotations on one task) and pull again"
    )


@dataclass
class Dropped:
    """What the lists of completed documents of an earlier pull name that a new pull's lists
    (the same annotator's) do not: annotations deleted in Label Studio since, or their tasks."""

    before: int = 0
    """Documents the earlier lists name (an annotator's each: summed over annotators)."""
    now: int = 0
    """Documents the new lists name, counted the same way."""
    by_author: dict[str, int] = field(default_factory=dict)
    """Set (its file name without ``.jsonl``) → documents of it no longer completed."""
    first: list[str] = field(default_factory=list)
    """The first of them, as ``set: document``."""

    @property
    def gone(self) -> int:
        return sum(self.by_author.values())

    def __str__(self) -> str:
        authors = ", ".join(f"{author}: {count:,}" for author, count in self.by_author.items())
        more = f" and {self.gone - len(self.first):,} more" if self.gone > len(self.first) else ""
        return (
            f"the earlier pull listed {self.before:,} completed documents, this one "
            f"{self.now:,}; {self.gone:,} of the earlier ones are not completed in this one "
            f"({authors}; {', '.join(self.first)}{more})"
        )


SHOWN = 5
"""Documents no longer completed that :func:`dropped` names."""


def dropped(earlier: Path, staged: Path) -> Dropped:
    """What the lists of completed documents in ``earlier`` (an earlier pull's folder) name
    that the same set's list in ``staged`` does not; a list that cannot be read counts as
    none. Lists are compared as sorted digests, and only the first :data:`SHOWN` documents
    gone are read back as ids: memory stays flat in their length."""
    import numpy as np

    found = Dropped()
    for listed in staged.glob(f"*.{COMPLETED}"):
        with contextlib.suppress(ClaimwireError):
            found.now += len(read_completed(staged / _set_name(listed)) or ())
    for listed in sorted(earlier.glob(f"*.{COMPLETED}")) if earlier.is_dir() else ():
        name = _set_name(listed)
        try:
            before, after = read_completed(earlier / name), read_completed(staged / name)
        except ClaimwireError:
            continue
        if before is None:
            continue
        found.before += len(before)
        kept = after.digests if after is not None else np.empty(0, np.uint64)
        gone = len(np.setdiff1d(before.digests, kept, assume_unique=True))
        if gone:
            found.by_author[name.removesuffix(".jsonl")] = gone
            found.first += _first_gone(listed, after, SHOWN - len(found.first))
    return found


def _set_name(listed: Path) -> str:
    return listed.name.removesuffix(f".{COMPLETED}") + ".jsonl"


def _first_gone(listed: Path, after: Completed | None, wanted: int) -> list[str]:
    """The first ``wanted`` ids of the list ``listed`` that ``after`` does not hold, as
    ``set: id`` (read a line at a time: the list was checked by :func:`read_completed`)."""
    first: list[str] = []
    author = listed.name.removesuffix(f".{COMPLETED}")
    with listed.open(encoding="utf-8") as lines:
        for batch in batches((line.strip() for line in lines), 10_000):
            ids = [document for document in batch if document]
            held = after.among(ids) if after is not None else set()
            first += [f"{author}: {document}" for document in ids if document not in held]
            if len(first) >= wanted:
                break
    return first[:wanted]


def check_replaceable(out: Path, inputs: Iterable[Path]) -> None:
    """Refuse a pull's ``out`` that it may not replace whole (through a symbolic link, its
    target): anything but a folder, a folder holding one of ``inputs``, or one holding
    anything but what an earlier pull wrote (regular ``.jsonl`` files, the sets, and
    ``.completed.txt`` files, their lists of completed documents)."""
    folder = Path(os.path.realpath(out))
    for given in inputs:
        if Path(os.path.realpath(given)).is_relative_to(folder):
            raise ClaimwireError(
                f"holds the input {given}: a pull replaces its --out folder whole; "
                "choose another folder",
                file=out,
            )
    if not os.path.lexists(folder):
        return
    if not folder.is_dir():
        raise ClaimwireError("is not a folder; --out names the folder of the sets", file=out)
    with os.scandir(folder) as entries:
        for entry in entries:
            written = entry.name.endswith((".jsonl", f".{COMPLETED}"))
            if not (written and entry.is_file(follow_symlinks=False)):
                raise ClaimwireError(
                    f"holds {entry.name!r}, which no pull wrote: a pull replaces its --out "
                    "folder whole, so it is a new or empty folder or an earlier pull's",
                    file=out,
                )
