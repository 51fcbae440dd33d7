"""Records of JSONL files read once, a batch of documents at a time, when the files are
written in the documents' order.

The usual file of records writes a document's records together, in the order of the
release's documents: then each batch's records are the next ones of every file, and one pass
decodes each record once, with no index (:class:`~claimwire.grouping.RecordIndex` finds a
record's line in a first pass and decodes it in a second). Whether a file is in that order is
found out as each block is decoded: the batch of every record's document (looked up by the
64-bit hash of its id) must never go down within a file and a kind, nor be one already read.
A batch takes, from the front of each file (each kind of record apart), the records naming
one of its documents, and stops at the first that names another. A record never taken, a
document of no batch, or a repeated id raises :class:`NotInOrder`, and the caller reads the
files through the index instead (whose checks word any problem). Memory holds the records of
a batch and the rest of the block that ends it and 16 bytes a document; to find repeated
ids, 8 bytes a record wait on disk and are sorted a bucket at a time once every batch is
read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from itertools import chain, compress, count, islice, repeat
from operator import attrgetter, ne, not_
from pathlib import Path
from typing import IO, Any

import msgspec
import numpy as np

from claimwire.grouping import Duplicate, Row, repeated_values
from claimwire.lines import DOCUMENT_LINE, line_blocks
from claimwire.model import REFUSED, Annotation, Columns, Relation, mixed_columns

_DOC_ID = attrgetter("doc_id")
_ID = attrgetter("id")


class NotInOrder(Exception):
    """The files are not written in the batches' order (or need the index's checks)."""


class _Id(msgspec.Struct):
    id: str  # a document without a string id is left to the checked reading


_IDS = msgspec.json.Decoder(_Id)


class DocumentHashes:
    """Each document of ``files`` (documents, one a line) by the 64-bit hash of its id: its
    position in the files (16 bytes a document). ``refused`` is raised for a line without a
    string id, or for two documents whose ids share a hash."""

    def __init__(self, files: Sequence[Path], refused: type[Exception]) -> None:
        hashes: list[Any] = []
        for path in files:
            for _, chunk in line_blocks(path, limit=DOCUMENT_LINE):
                try:
                    ids = _IDS.decode_lines(chunk)
                except REFUSED:
                    raise refused from None
                hashes.append(np.fromiter(map(hash, map(_ID, ids)), np.int64, len(ids)))
        joined = np.concatenate(hashes) if hashes else np.zeros(0, np.int64)
        self.positions = np.argsort(joined, kind="stable")
        """The documents' positions in the files, in the order of their ids' hashes."""
        self._hashes = joined[self.positions]
        self.count = len(joined)
        if bool(np.any(self._hashes[1:] == self._hashes[:-1])):
            raise refused  # an id twice (or two ids with one hash): the index tells them apart

    def found(self, doc_ids: Sequence[Any]) -> tuple[Any, Any]:
        """Where each of ``doc_ids`` is in :attr:`positions` (its hash's place), and whether
        it is a document there. A block names a few documents: the few numpy calls are made
        on the ufuncs and methods themselves (their Python wrappers cost more than the work)."""
        wanted = np.fromiter(map(hash, doc_ids), np.int64, len(doc_ids))
        if not self.count:
            return np.zeros(len(doc_ids), np.int64), np.zeros(len(doc_ids), np.bool_)
        at = np.minimum(self._hashes.searchsorted(wanted), self.count - 1)
        return at, self._hashes[at] == wanted


class Batches:
    """The batch of each document of ``files`` (documents, one a line), ``size`` documents a
    batch (None: one batch), by the hash of its id; :class:`NotInOrder` if two documents
    share a hash."""

    def __init__(self, files: Sequence[Path], size: int | None) -> None:
        self._documents = DocumentHashes(files, NotInOrder)
        positions = self._documents.positions
        self._batches = positions // size if size else np.zeros(len(positions), np.int64)

    def of(self, doc_ids: list[Any]) -> Any:
        """The batch of each document (raises :class:`NotInOrder` for one of no batch)."""
        at, known = self._documents.found(doc_ids)
        if not known.all():
            raise NotInOrder
        return self._batches[at]


class _Kind:
    """The records of one kind of one file not yet taken, in file order."""

    def __init__(self, relation: bool) -> None:
        self.relation = relation
        self.numbers: list[int] = []
        self.records: list[Any] = []
        self.docs: list[Any] = []
        self.at = 0
        self.batch = 0
        """The batch of the last record added."""

    def add(self, columns: Columns, reader: RowsInOrder) -> None:
        numbers, records = columns
        if not records:
            return
        if self.at:  # what was taken goes (what is left is at most a block's)
            del self.numbers[: self.at], self.records[: self.at], self.docs[: self.at]
            self.at = 0
        docs = list(map(_DOC_ID, records))
        changes = list(compress(docs, map(ne, docs, [None, *docs])))  # each run's document
        batches: list[int] = reader.batches.of(changes).tolist()  # a few: Python compares
        if batches[0] < max(self.batch, reader.batch) or batches != sorted(batches):
            raise NotInOrder
        self.batch = batches[-1]
        self.numbers += numbers
        self.records += records
        self.docs += docs
        if reader.ids is not None:
            hashes = np.fromiter(map(hash, map(_ID, records)), np.int64, len(records))
            reader.ids[self.relation].write(hashes.tobytes())  # buffered, not tofile

    def take(self, wanted: set[str]) -> tuple[list[int], list[Any], bool]:
        """The next records naming a document of ``wanted``, and whether a record naming
        another stopped them (else more may follow in the next block)."""
        docs, start, end = self.docs, self.at, len(self.docs)
        outside = map(not_, map(wanted.__contains__, islice(docs, start, None)))
        at = next(compress(count(start), outside), end)  # the first record naming another
        self.at = at
        return self.numbers[start:at], self.records[start:at], at < end

    @property
    def left(self) -> bool:
        return self.at < len(self.records)


class _File:
    """One file read block by block, each kind of record apart."""

    def __init__(
        self, path: Path, reader: RowsInOrder, kind: type[Annotation] | type[Relation] | None
    ) -> None:
        self.path = path
        self.blocks = mixed_columns(path, kind)
        self.kinds = (_Kind(False), _Kind(True))
        self.reader = reader

    def _more(self) -> bool:
        block = next(self.blocks, None)
        if block is None:
            return False
        for kind, columns in zip(self.kinds, block, strict=True):
            kind.add(columns, self.reader)
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
                return list(chain.from_iterable(taken))

    def close(self) -> None:
        close = getattr(self.blocks, "close", None)
        if close is not None:
            close()

    def finished(self) -> bool:
        """Whether every record was taken (the rest of the file is read to tell)."""
        while not any(kind.left for kind in self.kinds):
            if not self._more():
                return True
        return False


class RowsInOrder:
    """:class:`~claimwire.grouping.RecordIndex`'s reading side for files in the order of
    ``batches``: :meth:`rows` for each batch in turn, then :meth:`leftover` (which raises
    :class:`NotInOrder` if a record was not taken, or an id repeats with ``check_ids``)."""

    def __init__(
        self,
        files: Sequence[Path],
        batches: Batches,
        *,
        check_ids: bool = True,
        kinds: Sequence[type[Annotation] | type[Relation] | None] = (),
    ) -> None:
        """``kinds``: the record type of each file (default: either, told by its fields)."""
        self.batches = batches
        self.batch = 0
        """The batch :meth:`rows` reads next."""
        self.ids: tuple[IO[bytes], IO[bytes]] | None = (
            (tempfile.TemporaryFile(), tempfile.TemporaryFile()) if check_ids else None  # noqa: SIM115
        )
        """The hash of each annotation's id and of each relation's, on disk until
        :meth:`leftover` sorts them (8 bytes a record, not held while the batches are read)."""
        self._files = [
            _File(path, self, kind)
            for path, kind in zip(files, list(kinds) or [None] * len(files), strict=True)
        ]
        self.duplicates: list[Duplicate] = []
        self.count = 0
        """Records taken so far."""

    def rows(self, doc_ids: Sequence[str]) -> list[Row]:
        """The records naming these documents: the next batch's."""
        wanted = set(doc_ids)
        rows = list(chain.from_iterable(file.rows(wanted) for file in self._files))
        self.count += len(rows)
        self.batch += 1
        return rows

    def leftover(self) -> Iterator[list[Row]]:
        """Nothing: every record was taken by a batch, and no id repeats (else
        :class:`NotInOrder`)."""
        if not all(file.finished() for file in self._files):
            raise NotInOrder
        for ids in self.ids or ():
            if len(repeated_values(ids)):
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
        for ids in self.ids or ():
            ids.close()

    def __enter__(self) -> RowsInOrder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
