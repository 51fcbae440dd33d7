"""Annotation changes between two sets of record files, a batch of documents at a time.

Both sides are indexed by document (:class:`claimwire.grouping.RecordIndex`), then each batch
of documents reads back its old and new annotations and compares them: by id, then the rest
by content (document, label, span), so a re-numbered annotation is kept, not removed and
added. Memory holds the indexes (a few numbers per record), one batch's records and the
changes found; each list comes out in its file's order, as a whole-file comparison gives it::

    changes = compare_files(old_parts, new_parts, old_relations, new_relations)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from claimwire.corpus.changes import AnnotationChanges, attribute_changes
from claimwire.grouping import RecordIndex, Row
from claimwire.model import Annotation, Relation, read_records
from claimwire.spool import Spool, spilled_sorted

BATCH_DOCUMENTS = 256
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


def _batch(
    found: _Found, before: RecordIndex, now: RecordIndex, old: list[Any], new: list[Any]
) -> None:
    """Compare one batch's old and new annotations (``(position, record)``, file order)."""
    olds = {record.id: record for _, record in old}
    news = {record.id for _, record in new}
    in_now = now.holds([record.id for _, record in old])
    in_before = before.holds([record.id for _, record in new])
    unmatched: dict[tuple[Any, ...], list[tuple[Position, str]]] = defaultdict(list)
    for (at, record), there in zip(old, in_now.tolist(), strict=True):
        if not there:
            unmatched[_content(record)].append((at, record.id))
        elif record.id not in news:
            found.moved_old[record.id] = (at, record)
    renamed: set[str] = set()
    for (at, record), there in zip(new, in_before.tolist(), strict=True):
        previous = olds.get(record.id)
        if previous is not None:
            found.compare(at, previous, record)
        elif there:
            found.moved_new.append((at, record))
        elif candidates := unmatched.get(_content(record)):
            _, old_id = candidates.pop(0)
            found.renamed.append((at, (old_id, record.id)))
            renamed.add(old_id)
            found.kept += 1
        else:
            found.added.append((at, record.id))
    for (at, record), there in zip(old, in_now.tolist(), strict=True):
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


def _relation_hashes(files: Sequence[Path]) -> Any:
    return np.unique(
        np.fromiter((hash(r.id) for path in files for r in read_records(path, Relation)), np.int64)
    )


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
        RecordIndex(old, check_ids=False, keep_ids=True, kinds=kinds * len(old)) as before,
        RecordIndex(new, check_ids=False, keep_ids=True, kinds=kinds * len(new)) as now,
    ):
        documents = list(dict.fromkeys([*before.documents, *now.documents]))
        for first in range(0, len(documents), BATCH_DOCUMENTS):
            batch = documents[first : first + BATCH_DOCUMENTS]
            _batch(
                found,
                before,
                now,
                _positioned(old, before.rows(batch)),
                _positioned(new, now.rows(batch)),
            )
        rest_old = [row for rows in before.leftover() for row in rows]
        rest_new = [row for rows in now.leftover() for row in rows]
        _batch(found, before, now, _positioned(old, rest_old), _positioned(new, rest_new))
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
    )
    before_relations, current = _relation_hashes(old_relations), _relation_hashes(new_relations)
    report.relations_added = int((~np.isin(current, before_relations)).sum())
    gone = set(before_relations[~np.isin(before_relations, current)].tolist())
    report.relations_removed = sorted(
        {r.id for path in old_relations for r in read_records(path, Relation) if hash(r.id) in gone}
    )
    return report
