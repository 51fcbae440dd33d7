"""Annotation changes between two sets of record files, a batch of documents at a time.

Both sides are indexed by document (:class:`claimwire.grouping.RecordIndex`), then each batch
of documents reads back its old and new annotations and compares them: by id, then the rest
by content (document, label, span), so a re-numbered annotation is kept, not removed and
added. The records a batch cannot match by id wait on disk until every batch is read: only
then is it known whether their id moved to another document. Memory holds the indexes (a few
numbers per run of one document's lines), one batch's records, the hashes of the ids that
both sides left unmatched and the changes found; each list comes out in its file's order, as
a whole-file comparison gives it::

    changes = compare_files(old_parts, new_parts, old_relations, new_relations)
"""

from __future__ import annotations

import pickle
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, Any

import numpy as np

from claimwire.corpus.changes import (
    SORTED_AT_ONCE,
    AnnotationChanges,
    Repeated,
    attribute_changes,
)
from claimwire.grouping import RecordIndex, Row, id_hashes
from claimwire.model import Annotation, Relation, read_records
from claimwire.spool import Spool, Spooled, paired, spilled_sorted

BATCH_DOCUMENTS = 256
HASHES_AT_ONCE = 1 << 20
"""Id hashes of the larger side's unmatched records compared with the smaller's at a time."""
Position = tuple[int, int]
"""(file, line) of a record: where it comes in its side's files."""


@dataclass
class _Found:
    """Changes tagged with the position of the record that gave them."""

    added: Spool = field(default_factory=Spool)
    """(position, id) of each: on disk (a first release adds every gold annotation)."""
    removed: list[tuple[Position, str]] = field(default_factory=list)
    renamed: list[tuple[Position, tuple[str, str]]] = field(default_factory=list)
    reanchored: list[tuple[Position, str]] = field(default_factory=list)
    changed: list[tuple[Position, str]] = field(default_factory=list)
    kept: int = 0
    moved_old: dict[str, tuple[Position, Annotation]] = field(default_factory=dict)
    """Old annotations whose id is in another document on the new side (by hash: told
    removed if no new annotation has it)."""
    moved_new: list[tuple[Position, Annotation]] = field(default_factory=list)

    def compare(self, at: Position, old: Annotation, new: Annotation) -> None:
        if (old.start, old.end) != (new.start, new.end):
            self.reanchored.append((at, new.id))
            return
        self.kept += 1
        if old.attributes != new.attributes:
            self.changed.append((at, f"`{new.id}` ({attribute_changes(old, new)})"))


def _content(annotation: Annotation) -> tuple[Any, ...]:
    return (annotation.doc_id, annotation.label, annotation.start, annotation.end)


def _positioned(files: Sequence[Path], rows: list[Row]) -> list[Any]:
    number = {path: i for i, path in enumerate(files)}
    return [((number[path], line), record) for path, line, record in rows]


class _Deferred:
    """Each batch's records whose id is not on the other side of the batch, on disk, with
    the hashes of their ids and of every id each side has: whether such an id is elsewhere
    on the other side (moved to another document) is known once every batch is read."""

    def __init__(self, found: _Found, direct: bool) -> None:
        """``direct``: a side without records (a first release), so no id moved: each
        batch's records are told at once."""
        self.found, self.direct = found, direct
        self.records = tempfile.TemporaryFile()  # noqa: SIM115 (closed when read back)
        self.unmatched = (tempfile.TemporaryFile(), tempfile.TemporaryFile())  # noqa: SIM115
        self.every = (tempfile.TemporaryFile(), tempfile.TemporaryFile())  # noqa: SIM115
        self.batches = 0

    def add(self, old: list[Any], new: list[Any], rest: tuple[list[Any], list[Any]]) -> None:
        """A batch's records (each side's, ``(position, record)``) and those of ``rest``,
        the ones it could not match by id."""
        if self.direct:
            _unmatched(self.found, (_NONE, _NONE), *rest)
            return
        pickle.dump(rest, self.records)
        files = (*self.unmatched, *self.every)
        for records, file in zip((*rest, old, new), files, strict=True):
            id_hashes([record.id for _, record in records]).tofile(file)
        self.batches += 1

    def moved(self) -> tuple[Any, Any]:
        """For each side, the sorted hashes of its unmatched ids that the other side has
        anywhere (held: the side's unmatched ids; the other side's ids are read in chunks)."""
        found = (
            _found_in(self.unmatched[0], self.every[1]),
            _found_in(self.unmatched[1], self.every[0]),
        )
        for file in chain(self.unmatched, self.every):
            file.close()
        return found

    def __iter__(self) -> Iterator[tuple[list[Any], list[Any]]]:
        self.records.seek(0)
        for _ in range(self.batches):
            yield pickle.load(self.records)  # written by this process
        self.records.close()


_NONE = np.zeros(0, np.int64)


def _found_in(wanted: IO[bytes], every: IO[bytes]) -> Any:
    """The sorted hashes of ``wanted`` (a file of them) that are also in ``every``."""
    wanted.seek(0)
    held = np.unique(np.fromfile(wanted, dtype=np.int64))
    found: list[Any] = [_NONE]
    every.seek(0)
    while len(held) and len(chunk := np.fromfile(every, dtype=np.int64, count=HASHES_AT_ONCE)):
        found.append(np.intersect1d(held, chunk))
    return np.unique(np.concatenate(found))


def _matched(found: _Found, deferred: _Deferred, old: list[Any], new: list[Any]) -> None:
    """Compare the records of one batch (``(position, record)``, file order) that have the
    same id; the others wait (:class:`_Deferred`)."""
    olds = {record.id: record for _, record in old}
    news = {record.id for _, record in new}
    rest_new = []
    for at, record in new:
        previous = olds.get(record.id)
        if previous is not None:
            found.compare(at, previous, record)
        else:
            rest_new.append((at, record))
    rest_old = [(at, record) for at, record in old if record.id not in news]
    deferred.add(old, new, (rest_old, rest_new))


def _unmatched(found: _Found, moved: tuple[Any, Any], old: list[Any], new: list[Any]) -> None:
    """One batch's records whose id its other side lacks: moved to (or from) another
    document when the other side has the id elsewhere (``moved``: each side's such ids, by
    hash), else matched by content (renamed), else added or removed."""
    elsewhere = [
        np.isin(id_hashes([r.id for _, r in side]), ids).tolist()
        for side, ids in zip((old, new), moved, strict=True)
    ]
    unmatched: dict[tuple[Any, ...], list[tuple[Position, str]]] = defaultdict(list)
    for (at, record), there in zip(old, elsewhere[0], strict=True):
        if there:
            found.moved_old[record.id] = (at, record)
        else:
            unmatched[_content(record)].append((at, record.id))
    renamed: set[str] = set()
    for (at, record), there in zip(new, elsewhere[1], strict=True):
        if there:
            found.moved_new.append((at, record))
        elif candidates := unmatched.get(_content(record)):
            _, old_id = candidates.pop(0)
            found.renamed.append((at, (old_id, record.id)))
            renamed.add(old_id)
            found.kept += 1
        else:
            found.added.append((at, record.id))
    for (at, record), there in zip(old, elsewhere[0], strict=True):
        if not there and record.id not in renamed:
            found.removed.append((at, record.id))


def _in_order(tagged: list[tuple[Position, Any]]) -> list[Any]:
    return [value for _, value in sorted(tagged, key=lambda item: item[0])]


def _position(item: Sequence[Any]) -> Position:
    return int(item[0][0]), int(item[0][1])


def _spooled_in_order(tagged: Spool) -> Spool:
    """The values of a spool of ``(position, value)``, by position, on disk again."""
    ordered = Spool(value for _, value in spilled_sorted(tagged, key=_position))
    tagged.close()
    return ordered


def _repeated(index: RecordIndex) -> Spooled[Repeated]:
    """The annotations the index left out for repeating an earlier one's id (found by
    hash a bucket at a time, :func:`claimwire.grouping.repeated_values`), in file order,
    each at its part's own line (as ``corpus validate`` says it): on disk, as they are."""
    repeated = Spooled(Repeated, tuple)
    repeated.extend(Repeated(d.path.name, d.line, d.id, d.doc_id) for d in index.duplicates)
    return repeated


def _relation_ids(files: Sequence[Path]) -> Iterator[str]:
    """The relation ids of ``files``, sorted (on disk, :func:`spilled_sorted`), each once."""
    ids = (r.id for path in files for r in read_records(path, Relation))
    last = None
    for relation_id in spilled_sorted(ids, run=SORTED_AT_ONCE):
        if relation_id != last:
            yield relation_id
        last = relation_id


def compare_files(
    old: Sequence[Path],
    new: Sequence[Path],
    old_relations: Sequence[Path],
    new_relations: Sequence[Path],
) -> AnnotationChanges:
    """The annotation changes from the ``old`` annotation files to the ``new`` ones (each a
    release's parts in order), and the relations added and removed."""
    kinds = [Annotation]
    found = _Found()
    with (
        RecordIndex(old, kinds=kinds * len(old)) as before,
        RecordIndex(new, kinds=kinds * len(new)) as now,
    ):
        duplicates: dict[str, Sequence[Repeated]] = {
            "old": _repeated(before),
            "new": _repeated(now),
        }
        deferred = _Deferred(found, direct=not before.count or not now.count)
        # the old side's documents in the order first named, then the new side's others
        batches = chain(
            before.document_batches(BATCH_DOCUMENTS),
            now.document_batches(BATCH_DOCUMENTS, fresh=True),
        )
        for batch in batches:  # a batch's records go before the next batch's names come
            _matched(
                found,
                deferred,
                _positioned(old, before.rows(batch)),
                _positioned(new, now.rows(batch)),
            )
        rest_old = [row for rows in before.leftover() for row in rows]
        rest_new = [row for rows in now.leftover() for row in rows]
        _matched(found, deferred, _positioned(old, rest_old), _positioned(new, rest_new))
    moved = deferred.moved()
    for old_rows, new_rows in deferred:
        _unmatched(found, moved, old_rows, new_rows)
    for at, record in found.moved_new:
        previous = found.moved_old.pop(record.id, None)
        if previous is None:  # two ids with one hash: the new one is told as added
            found.added.append((at, record.id))
        else:
            found.compare(at, previous[1], record)
    found.removed += [(at, old.id) for at, old in found.moved_old.values()]  # by hash only
    report = AnnotationChanges(
        added=_spooled_in_order(found.added),
        removed=_in_order(found.removed),
        kept=found.kept,
        reanchored=_in_order(found.reanchored),
        changed=_in_order(found.changed),
        renamed=_in_order(found.renamed),
        duplicates=duplicates,
    )
    for before, now in paired(_relation_ids(old_relations), _relation_ids(new_relations), str):
        report.relations_added += before is None
        if now is None:
            report.relations_removed.append(before)
    return report
