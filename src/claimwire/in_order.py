"""Records of JSONL files read once, a batch of documents at a time, when the files are
written in the documents' order.

The usual file of records writes a document's records together, in the order of the
release's documents: then each batch's records are the next ones of every file, and one pass
decodes each record once, with no index (:class:`~claimwire.grouping.RecordIndex` finds a
record's line in a first pass and decodes it in a second). Whether a file is in that order is
found out while reading: a batch takes, from the front of each file (each kind of record
apart), the records naming one of its documents, and stops at the first that names another.
A record never taken — one written before or after its batch, or naming a document of no
batch — is left at the end, and so is a repeated id: :class:`NotInOrder` is raised, and the
caller reads the files through the index instead (whose checks name it). Memory holds the
records of a batch and the rest of the block that ends it, and 8 bytes a record to find
repeated ids.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np

from claimwire.grouping import Duplicate, Row
from claimwire.model import Columns, mixed_columns

_DOC_ID = attrgetter("doc_id")
_ID = attrgetter("id")


class NotInOrder(Exception):
    """The files are not written in the batches' order (or need the index's checks)."""


class _Kind:
    """The records of one kind of one file not yet taken, in file order."""

    def __init__(self, relation: bool) -> None:
        self.relation = relation
        self.numbers: list[int] = []
        self.records: list[Any] = []
        self.docs: list[Any] = []
        self.at = 0

    def add(self, columns: Columns, hashes: list[Any] | None) -> None:
        numbers, records = columns
        if self.at:  # what was taken goes (what is left is at most a block's)
            del self.numbers[: self.at], self.records[: self.at], self.docs[: self.at]
            self.at = 0
        self.numbers += numbers
        self.records += records
        self.docs += map(_DOC_ID, records)
        if hashes is not None:
            keys = zip(repeat(self.relation), map(_ID, records))
            hashes.append(np.fromiter(map(hash, keys), np.int64, len(records)))

    def take(self, wanted: set[str]) -> tuple[list[int], list[Any], bool]:
        """The next records naming a document of ``wanted``, and whether a record naming
        another stopped them (else more may follow in the next block)."""
        docs, start = self.docs, self.at
        at, end = start, len(docs)
        while at < end and docs[at] in wanted:
            at += 1
        self.at = at
        return self.numbers[start:at], self.records[start:at], at < end

    @property
    def left(self) -> bool:
        return self.at < len(self.records)


class _File:
    """One file read block by block, each kind of record apart."""

    def __init__(self, path: Path, hashes: list[Any] | None) -> None:
        self.path = path
        self.blocks = mixed_columns(path)
        self.kinds = (_Kind(False), _Kind(True))
        self.hashes = hashes

    def _more(self) -> bool:
        block = next(self.blocks, None)
        if block is None:
            return False
        for kind, columns in zip(self.kinds, block, strict=True):
            kind.add(columns, self.hashes)
        return True

    def rows(self, wanted: set[str]) -> list[Row]:
        """The batch's records of this file: its annotations, then its relations (each in
        file order, as :func:`~claimwire.grouping.read_lines` gives them). Blocks are read
        until a record of either kind names a document out of the batch."""
        taken: list[list[Row]] = [[] for _ in self.kinds]
        while True:
            past = False
            for kind, rows in zip(self.kinds, taken, strict=True):
                numbers, records, stopped = kind.take(wanted)
                rows += zip(repeat(self.path), numbers, records)
                past = past or stopped
            if past or not self._more():
                return [row for rows in taken for row in rows]

    def close(self) -> None:
        close = getattr(self.blocks, "close", None)
        if close is not None:
            close()

    def next_documents(self) -> list[Any]:
        """The document each kind's next record names."""
        return [kind.docs[kind.at] for kind in self.kinds if kind.left]

    def finished(self) -> bool:
        """Whether every record was taken (the rest of the file is read to tell)."""
        while not any(kind.left for kind in self.kinds):
            if not self._more():
                return True
        return False


class _Seen:
    """The documents of the batches read, by the 64-bit hash of their ids: sorted arrays of
    sizes halving from the first (a new batch's merged into the last ones of no larger
    size), so adding is linear over all and asking looks into a few arrays."""

    def __init__(self) -> None:
        self.levels: list[Any] = []

    def add(self, doc_ids: Sequence[str]) -> None:
        level = np.sort(np.fromiter(map(hash, doc_ids), np.int64, len(doc_ids)))
        while self.levels and len(self.levels[-1]) <= len(level):
            level = np.sort(np.concatenate([self.levels.pop(), level]))
        self.levels.append(level)

    def has(self, doc_ids: Sequence[Any]) -> bool:
        """Whether any of ``doc_ids`` is one of them (a shared hash says yes: the caller
        only loses the faster reading)."""
        wanted = [hash(i) for i in doc_ids if isinstance(i, str)]
        for level in self.levels:
            at = np.searchsorted(level, wanted).clip(max=len(level) - 1)
            if len(wanted) and bool(np.any(level[at] == wanted)):
                return True
        return False


class RowsInOrder:
    """:class:`~claimwire.grouping.RecordIndex`'s reading side for files in the batches'
    order: :meth:`rows` for each batch in turn, then :meth:`leftover` (which raises
    :class:`NotInOrder` if a record was not taken, or an id repeats with ``check_ids``)."""

    def __init__(self, files: Sequence[Path], *, check_ids: bool = True) -> None:
        self._hashes: list[Any] | None = [] if check_ids else None
        self._files = [_File(path, self._hashes) for path in files]
        self._passed = _Seen()
        self.duplicates: list[Duplicate] = []
        self.count = 0
        """Records taken so far."""

    def rows(self, doc_ids: Sequence[str]) -> list[Row]:
        """The records naming these documents (raises :class:`NotInOrder` as soon as a file's
        next record names a document of a batch already read)."""
        wanted = set(doc_ids)
        rows = [row for file in self._files for row in file.rows(wanted)]
        self.count += len(rows)
        self._passed.add(doc_ids)
        if any(self._passed.has(file.next_documents()) for file in self._files):
            raise NotInOrder
        return rows

    def leftover(self) -> Iterator[list[Row]]:
        """Nothing: every record was taken by a batch, and no id repeats (else
        :class:`NotInOrder`)."""
        if not all(file.finished() for file in self._files):
            raise NotInOrder
        if self._hashes:
            ranked = np.sort(np.concatenate(self._hashes))
            if bool(np.any(ranked[1:] == ranked[:-1])):
                raise NotInOrder
        yield from ()

    def document_of(self, annotation_id: str) -> str | None:
        """Asked only of a relation whose end is not in its batch: the index tells."""
        raise NotInOrder

    @property
    def files(self) -> list[Path]:
        return [file.path for file in self._files]

    def close(self) -> None:
        for file in self._files:
            file.close()

    def __enter__(self) -> RowsInOrder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
