"""Records of JSONL files, grouped by document without holding them.

One pass over the files notes, per record, where its line is (byte offsets), its line number,
the document it names and its id; then a batch of documents reads back only its own lines::

    index = RecordIndex([Path("run.jsonl")])
    for batch in batches_of_documents:
        rows = index.rows([d.id for d in batch])  # (file, line, record), file order per document
    rest = index.leftover()  # records naming a document no batch asked for

Memory holds a few numbers per run of lines (about 60 bytes), never the records, and no
Python object per document: a document is known by the 64-bit hash of its id (the name is
read back from its lines when asked for). The hash is only a bucket: a run holds one exact id,
runs of one key are checked to name one id when the index is built (ids that share a key get
keys of their own, the only ones held by name) and an asked id is compared with the name of
the key it finds, so two ids never become one document. A later record with the id of an
earlier one of its kind is kept apart (:attr:`RecordIndex.duplicates`, on disk; its lines
are a bit each), found decoding each repeated line once. A zstd shard is decompressed once
into an anonymous temporary file that is read back the same way.
"""

from __future__ import annotations

import hashlib
import operator
import os
import tempfile
import zlib
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from pathlib import Path
from typing import IO, Any

import msgspec
import numpy as np

from claimwire.errors import ClaimwireError, RecordError
from claimwire.files import FileStamp, check_stamp, file_stamp
from claimwire.lines import DOCUMENT_LINE, LineLimit, is_compressed, line_blocks, numbered_lines
from claimwire.model import (
    REFUSED,
    Annotation,
    RecordErrorHandler,
    Relation,
    decode_block,
    decode_columns,
    refused_line,
)
from claimwire.spool import Spooled

Row = tuple[Path, int, Annotation | Relation]
"""A record with the file and line it was read from."""


class _Key(msgspec.Struct):
    """What the index needs of a record; any type is accepted here (the full decoder checks
    types when the record is read back, and names the field)."""

    id: Any = None
    doc_id: Any = None
    head: Any = msgspec.UNSET
    tail: Any = msgspec.UNSET


_KEYS = msgspec.json.Decoder(_Key)
NO_DOCUMENT = -1
"""The document key of a record whose ``doc_id`` is not a string (``hash`` never gives -1)."""


def document_key(doc_id: object) -> int:
    """A document's key in the index: the hash of its id (:data:`NO_DOCUMENT` if not a
    string)."""
    return hash(doc_id) if isinstance(doc_id, str) else NO_DOCUMENT


@dataclass(frozen=True)
class Duplicate:
    path: Path
    line: int
    kind: str
    id: str
    doc_id: str


class Duplicates(Spooled[Duplicate]):
    """The records of an index's files whose (kind, id) an earlier record has, in file
    order: on disk (a :class:`~claimwire.spool.Spool`, the first few held), read back as
    :class:`Duplicate` when iterated."""

    def __init__(self, files: Sequence[Path]) -> None:
        self._files = list(files)
        super().__init__(self._duplicate, self._fields_of)

    def add(self, number: int, line: int, kind: str, id: str, doc_id: str) -> None:
        """A repeat at ``line`` of the ``number``-th file."""
        self.append_fields(number, line, kind, id, doc_id)

    def _duplicate(self, number: int, line: int, kind: str, id: str, doc_id: str) -> Duplicate:
        return Duplicate(self._files[number], line, kind, id, doc_id)

    def _fields_of(self, found: Duplicate) -> tuple[Any, ...]:
        return self._files.index(found.path), found.line, found.kind, found.id, found.doc_id


class _Source:
    """One file read back by offset: the file itself, or its decompressed copy. The file
    itself is held open from before it is indexed, so one replaced meanwhile is still read as
    it was; one rewritten in place is an error (:meth:`check`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[bytes] | None = None
        self.stamp: FileStamp | None = None
        """The file's stamp when indexed (None for a compressed file: its lines travel)."""
        self.changed = 0
        """The file's change time (ns) when indexed, or when its bytes were last verified."""
        self.checksum = 0
        """The CRC-32 of its (plain) bytes, noted as they are indexed."""

    def open(self, handle: IO[bytes], copy: bool) -> None:
        """Hold ``handle``: the file itself (stamped), or its decompressed ``copy``."""
        self.handle = handle
        if not copy:
            info = os.fstat(handle.fileno())
            self.stamp, self.changed = (info.st_size, info.st_mtime_ns), info.st_ctime_ns

    def note(self, chunk: bytes) -> None:
        """The next block of the file's bytes, as it is indexed."""
        self.checksum = zlib.crc32(chunk, self.checksum)

    def fileno(self) -> int:
        assert self.handle is not None
        return self.handle.fileno()

    def read(self, start: int, end: int) -> bytes:
        return os.pread(self.fileno(), end - start, start)

    def checked(self, last: int) -> Callable[[int, int], bytes]:
        """What reads runs' bytes (a run, or a piece of one, at a time) and checks the file
        (:meth:`check`) each time the bytes up to ``last`` (the end of the last run) are
        read, before anything decodes them: one ``fstat`` for a batch's runs, never a
        batch's bytes held twice."""

        def read(start: int, end: int) -> bytes:
            data = self.read(start, end)
            if end == last:
                self.check()
            return data

        return read

    def check(self) -> None:
        """After reads: the file held is the one indexed. Another size is a located error;
        when its modification or change time alone moved (``touch``, a permission, a hard
        link, or an edit that kept the size), its bytes are read again, once, and must be the
        ones indexed. Nothing to check in a private copy."""
        if self.stamp is None:
            return
        info = os.fstat(self.fileno())
        if info.st_size != self.stamp[0]:
            check_stamp(self.path, self.stamp, (info.st_size, info.st_mtime_ns))
        if info.st_mtime_ns != self.stamp[1] or info.st_ctime_ns != self.changed:
            same_time = info.st_mtime_ns == self.stamp[1]
            kept = "its size and modification time are" if same_time else "its size is"
            self.verify(f"{kept} the same")
            self.stamp, self.changed = (info.st_size, info.st_mtime_ns), info.st_ctime_ns

    def verify(self, how: str) -> None:
        """The held file's bytes are the ones indexed (their CRC-32), else a located error."""
        checksum, at = 0, 0
        while block := os.pread(self.fileno(), 1 << 20, at):
            checksum, at = zlib.crc32(block, checksum), at + len(block)
        if checksum != self.checksum:
            raise _changed(self.path, how)

    def again(self) -> Iterator[tuple[int, bytes]]:
        """The file's blocks (:func:`line_blocks`) read again from its path; after the last,
        a located error if they were not the bytes indexed (replaced or rewritten since)."""
        checksum = 0
        for first, chunk in line_blocks(self.path):
            checksum = zlib.crc32(chunk, checksum)
            yield first, chunk
        if checksum != self.checksum:
            raise _changed(self.path, "read again from its path")

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _same_file(path: Path, handle: int) -> bool:
    """``path`` still names the open file ``handle`` (not removed, not replaced)."""
    try:
        return os.stat(path).st_ino == os.fstat(handle).st_ino
    except FileNotFoundError:
        return False


def _changed(path: Path, how: str, line: int | None = None) -> ClaimwireError:
    return ClaimwireError(
        f"changed while this command was reading it: its bytes differ from when they were "
        f"indexed ({how}): leave inputs as they are until the command ends, and rerun it",
        file=path,
        line=line,
    )


Run = tuple[int, int, int, int]
"""Adjacent lines of one file: start and end bytes, first line number, lines."""
RECENT_DOCUMENTS = 256
"""Documents whose annotations :meth:`RecordIndex.annotation_of` keeps once read (a batch's
relations ask about a few other documents, each once an end)…"""
RECENT_BYTES = 1 << 24
"""…holding at most this many bytes of their lines (but always the last document read): a
bound on memory whatever the annotations hold."""
PIECE = 1 << 20
"""Bytes of a run :meth:`Lines.columns` reads at a time (its dropped lines never held)."""
NOTHING_DROPPED = np.zeros(0, np.int64)
"""No line dropped (:attr:`Lines.dropped`)."""


@dataclass(frozen=True, eq=False)
class Lines:
    """Some lines of one record file, by where they are: small enough to send to another
    process, which reads them back (:func:`read_lines`) from a file it sees at ``file``.
    Equal (and hashed alike) when they read the same records: every field, the dropped lines
    included."""

    path: Path
    """The file as named in errors."""
    file: Path
    """The same file, absolute: what is opened."""
    runs: tuple[Run, ...]
    data: bytes | None = None
    """The runs' bytes, one after the other, when only this process can read them (a
    compressed file's decompressed copy)."""
    dropped: Any = field(default_factory=NOTHING_DROPPED.copy)
    """Line numbers not to read (a later record with an earlier one's id), a sorted int64
    array."""
    kind: type[Annotation] | type[Relation] | None = None
    """The record type of every line (None: either, told by its fields)."""
    stamp: FileStamp | None = None
    """The file's stamp when its lines were found: read from a file with another stamp,
    they would be other lines (a located error instead)."""

    def _key(self) -> tuple[Any, ...]:
        dropped = np.asarray(self.dropped, dtype=np.int64).tobytes()
        return (self.path, self.file, self.runs, self.data, dropped, self.kind, self.stamp)

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if isinstance(other, Lines) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def blocks(self, read: Callable[[int, int], bytes] | None = None) -> Iterator[bytes]:
        """The runs' bytes, to be joined by line breaks: each run's from ``data``; through
        ``read(start, end)``, else from the file, those of runs next to each other in the
        file (one line break apart) in one read, so that a document whose lines came in many
        blocks is not held twice (its pieces, then their join)."""
        if self.data is not None:
            at = 0
            for start, end, _, _ in self.runs:
                yield self.data[at : at + end - start]
                at += end - start
        elif read is not None:
            for start, end in self._spans():
                yield read(start, end)
        else:
            with self.file.open("rb") as handle:
                check_stamp(self.path, self.stamp, file_stamp(handle.fileno()))
                for start, end in self._spans():
                    yield os.pread(handle.fileno(), end - start, start)

    def _spans(self) -> list[tuple[int, int]]:
        """The runs' byte ranges in the file, a run that starts right after the line break
        ending the one before merged with it."""
        spans: list[tuple[int, int]] = []
        for start, end, _, _ in self.runs:
            if spans and spans[-1][1] + 1 == start:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        return spans

    def numbered(
        self, read: Callable[[int, int], bytes] | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """``(line number, line)`` of every line but the dropped ones."""
        return zip(*self.columns(read), strict=True)

    def columns(
        self, read: Callable[[int, int], bytes] | None = None
    ) -> tuple[list[int], list[bytes]]:
        """:meth:`numbered` as two lists: the line numbers and the lines. The dropped lines
        go as each piece of a run is split (:meth:`pieces`): never held, however many."""
        numbers: list[int] = []
        lines: list[bytes] = []
        for first, piece in self.pieces(read):
            split = piece.split(b"\n")
            found = range(first, first + len(split))
            low, high = np.searchsorted(self.dropped, (found.start, found.stop))
            if high > low:  # the dropped lines of this piece (a sorted array: found by halves)
                kept = np.ones(len(split), bool)
                kept[np.asarray(self.dropped[low:high]) - first] = False
                numbers += compress(found, kept.tolist())
                lines += compress(split, kept.tolist())
            else:
                numbers += found
                lines += split
        return numbers, lines

    def pieces(
        self, read: Callable[[int, int], bytes] | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """``(first line number, lines)``: each run's lines about :data:`PIECE` bytes at a
        time, cut between lines (a longer line whole), read as :meth:`blocks` reads."""
        with self._fetcher(read) as fetch:
            for start, end, first, _ in self.runs:
                carry: list[bytes] = []  # the start of a line the next bytes end
                at = start
                while at < end:
                    stop = min(end, at + PIECE)
                    chunk, at = fetch(at, stop), stop
                    cut = chunk.rfind(b"\n") if at < end else len(chunk)
                    if cut < 0:  # inside a line longer than a piece: read on
                        carry.append(chunk)
                        continue
                    piece = b"".join([*carry, chunk[:cut]])
                    carry = [chunk[cut + 1 :]]
                    yield first, piece
                    first += piece.count(b"\n") + 1

    @contextmanager
    def _fetcher(
        self, read: Callable[[int, int], bytes] | None
    ) -> Iterator[Callable[[int, int], bytes]]:
        """What reads the bytes ``start``-``end`` of a run, as :meth:`blocks` reads them."""
        if self.data is not None:
            data, starts, bases = self.data, [run[0] for run in self.runs], [0]
            for start, end, _, _ in self.runs:
                bases.append(bases[-1] + end - start)

            def sliced(start: int, end: int) -> bytes:
                run = bisect_right(starts, start) - 1
                base = bases[run] - starts[run]
                return data[base + start : base + end]

            yield sliced
        elif read is not None:
            yield read
        else:
            with self.file.open("rb") as handle:
                check_stamp(self.path, self.stamp, file_stamp(handle.fileno()))
                yield lambda start, end: os.pread(handle.fileno(), end - start, start)


def read_lines(
    lines: Lines,
    on_error: RecordErrorHandler | None = None,
    read: Callable[[int, int], bytes] | None = None,
) -> list[Row]:
    """The records of ``lines`` with their file and line, decoded with located errors: the
    runs of one kind are decoded as they were read, in one call; else (a relation among
    annotations, a dropped line, a record the typed decoder refuses) line by line."""
    if not len(lines.dropped):
        data = b"\n".join(lines.blocks(read))
        kind: type[Any] | None = lines.kind
        if kind is None and b'"head"' not in data and b'"tail"' not in data:
            kind = Annotation
        count = sum(run[3] for run in lines.runs)
        records = decode_block(kind, data, count) if kind is not None else None
        if records is not None:
            lineno = chain.from_iterable(range(run[2], run[2] + run[3]) for run in lines.runs)
            return list(zip(repeat(lines.path), lineno, records))
    numbers, decoded = decode_columns(lines.path, *lines.columns(read), lines.kind, on_error)
    return list(zip(repeat(lines.path), numbers, decoded))


class _DocumentKey(msgspec.Struct):
    id: Any = None


_DOCUMENT_KEYS = msgspec.json.Decoder(_DocumentKey)


class _LinesBuilder:
    """Lines of one file gathered line by line, adjacent ones in one run."""

    def __init__(self, path: Path, stamp: FileStamp) -> None:
        self.path = path
        self.runs: list[list[int]] = []
        self.data: list[bytes] | None = [] if is_compressed(path) else None
        self.stamp = stamp if self.data is None else None

    def add(self, start: int, end: int, lineno: int, line: bytes) -> None:
        last = self.runs[-1] if self.runs else None
        follows = last is not None and last[1] + 1 == start and last[2] + last[3] == lineno
        if last is not None and follows:
            last[1], last[3] = end, last[3] + 1
        else:
            self.runs.append([start, end, lineno, 1])
        if self.data is not None:  # a run's bytes: its lines between newlines
            self.data.append(b"\n" + line if follows else line)

    def lines(self) -> Lines:
        runs = tuple((a, b, c, d) for a, b, c, d in self.runs)
        data = b"".join(self.data) if self.data is not None else None
        return Lines(self.path, self.path.absolute(), runs, data, stamp=self.stamp)


def keyed_lines(
    path: Path,
    keys: msgspec.json.Decoder[Any],
    copy: IO[bytes] | None = None,
    limit: LineLimit = DOCUMENT_LINE,
) -> Iterator[tuple[int, int, bytes, Any]]:
    """``(line number, first byte, line, what keys decodes of it)`` for each line of ``path``
    that is not blank; a line ``keys`` refuses, or one longer than ``limit`` (a document's:
    the files read so are documents), is a located error. ``copy``: a file that gets the
    plain bytes as they are read (a compressed file's decompressed copy)."""
    offset = 0
    for first, chunk in line_blocks(path, limit=limit):
        if copy is not None:
            copy.write(chunk)
        at = offset
        for lineno, line in enumerate(chunk.split(b"\n"), first):
            start, at = at, at + len(line) + 1
            if not line.strip():
                continue
            try:
                key = keys.decode(line)
            except REFUSED as error:
                raise refused_line(path, lineno, line, error) from None
            yield lineno, start, line, key
        offset += len(chunk)


def document_lines(
    files: Sequence[Path], size: int | None
) -> Iterator[tuple[list[str | None], list[Lines]]]:
    """The documents of ``files`` (one a line, in order) ``size`` at a time (None: all at
    once): their ids (None when not a string) and where their lines are, for another process
    to read. Only the ids are decoded here; a line that is not a JSON object is a located
    error."""
    ids: list[str | None] = []
    built: list[_LinesBuilder] = []
    for path in files:
        stamp = file_stamp(path)  # before reading: a file replaced meanwhile is told apart
        for lineno, start, line, key in keyed_lines(path, _DOCUMENT_KEYS):
            if not built or built[-1].path != path:
                built.append(_LinesBuilder(path, stamp))
            built[-1].add(start, start + len(line), lineno, line)
            ids.append(key.id if isinstance(key.id, str) else None)
            if len(ids) == size:
                yield ids, [b.lines() for b in built]
                ids, built = [], []
    if ids:
        yield ids, [b.lines() for b in built]


def id_hashes(ids: Sequence[str], relation: bool = False) -> Any:
    """The 64-bit hash of each id, of an annotation (or a relation), as the index finds
    repeated ids by."""
    return np.fromiter((hash((relation, i)) for i in ids), np.int64, len(ids))


def _span(ranked: Any, value: int) -> tuple[int, int]:
    """Where ``value`` is in the sorted array ``ranked``: first and past-last positions."""
    return int(np.searchsorted(ranked, value)), int(np.searchsorted(ranked, value, "right"))


SPILL_VALUES = 1 << 18
"""Values :func:`repeated_values` sorts at a time (2 MB: its transient arrays stay small)."""
SPILL_BUCKETS = 256
"""The most buckets :func:`repeated_values` deals values into (each a temporary file)."""


def repeated_values(values: IO[bytes], skip: int | None = None) -> Any:
    """The int64 values written to ``values`` (a file, read from its start) that occur more
    than once (``skip``: a value never counted), sorted. Memory holds a bucket, never every
    value: past :data:`SPILL_VALUES` values they are read that many at a time, and each
    distinct value of such a block is dealt by its remainder into one of up to
    :data:`SPILL_BUCKETS` temporary files (equal values share one), each sorted alone."""
    values.seek(0, os.SEEK_END)
    count = values.tell() // 8
    parts = min(SPILL_BUCKETS, -(-count // SPILL_VALUES))
    values.seek(0)
    if parts <= 1:
        return _repeats(np.fromfile(values, dtype=np.int64), skip)
    buckets = [tempfile.TemporaryFile() for _ in range(parts)]  # noqa: SIM115 (closed below)
    found = []
    try:
        while len(block := np.fromfile(values, dtype=np.int64, count=SPILL_VALUES)):
            # a value once per block: one repeated everywhere fills no bucket
            block, counts = np.unique(block, return_counts=True)
            found.append(block[(counts > 1) & (block != skip if skip is not None else True)])
            owner = block.view(np.uint64) % np.uint64(parts)
            order = np.argsort(owner, kind="stable")
            ends = np.searchsorted(owner[order], np.arange(1, parts + 1, dtype=np.uint64))
            for bucket, part in zip(buckets, np.split(block[order], ends[:-1]), strict=True):
                part.tofile(bucket)
        for bucket in buckets:
            bucket.seek(0)
            found.append(_repeats(np.fromfile(bucket, dtype=np.int64), skip))
        return np.unique(np.concatenate(found))
    finally:
        for bucket in buckets:
            bucket.close()


def _repeats(ranked: Any, skip: int | None) -> Any:
    """The values of ``ranked`` (sorted here, in place) that occur more than once."""
    ranked.sort()
    twice = ranked[1:] == ranked[:-1]
    if skip is not None:
        twice &= ranked[1:] != skip
    return np.unique(ranked[1:][twice])


def _among(values: Any, ordered: Any) -> Any:
    """Which of ``values`` are in ``ordered`` (a sorted array): one binary search each, so a
    block costs the same whatever the number of repeated ids."""
    if not len(ordered):
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return ordered[at] == values


def _keys_of(path: Path, first: int, chunk: bytes) -> list[_Key]:
    """The keys of a block's lines (not blank) that was indexed: decoded in one call, else
    line by line, a line the key decoder refuses a located error."""
    try:
        keys: list[_Key] = _KEYS.decode_lines(chunk)
        return keys
    except REFUSED:
        pass
    keys = []
    for lineno, line in numbered_lines(first, chunk):
        try:
            keys.append(_KEYS.decode(line))
        except REFUSED as error:
            raise refused_line(path, lineno, line, error) from None
    return keys


def _unreported(error: RecordError, lineno: int, obj: dict[str, Any]) -> None:
    """A refused record skipped without a word (where it is reported when read again)."""


class _FirstIds:
    """Which ids came already among those whose 64-bit hash repeats (``repeated``, sorted),
    in memory that holds no id: a bit per repeated hash says an id of it came, and a second
    64-bit hash of that first (kind, id), BLAKE2b keyed afresh in each process, tells another
    id with the same first hash apart (9 bytes a repeated hash, the set of ids it replaces
    held about 150). Two ids are one only if both hashes agree: a file cannot be crafted for
    that without the two keys. A hash that several ids share keeps their second hashes."""

    def __init__(self, repeated: Any) -> None:
        self._came = bytearray(len(repeated) // 8 + 1)
        self._second = array("q", bytes(8 * len(repeated)))
        self._shared: dict[int, set[int]] = {}
        self._key = os.urandom(16)

    def _digest(self, relation: bool, record_id: str) -> int:
        data = (b"r" if relation else b"a") + record_id.encode("utf-8", "surrogatepass")
        digest = hashlib.blake2b(data, digest_size=8, key=self._key).digest()
        return int.from_bytes(digest, "little", signed=True)

    def again(self, slot: int, relation: bool, record_id: str) -> bool:
        """Whether this (kind, id), whose first hash is the ``slot``-th repeated one, came
        before (it is noted as come)."""
        second = self._digest(relation, record_id)
        byte, bit = slot >> 3, 1 << (slot & 7)
        if not self._came[byte] & bit:
            self._came[byte] |= bit
            self._second[slot] = second
            return False
        shared = self._shared.get(slot)
        if shared is None:
            if self._second[slot] == second:
                return True
            shared = self._shared[slot] = {self._second[slot]}
        if second in shared:
            return True
        shared.add(second)
        return False


class RecordIndex:
    """Where every record of ``files`` is, by the document it names: runs of adjacent lines
    of one document (a file written document by document is one run per document)."""

    def __init__(
        self,
        files: Sequence[Path],
        *,
        check_ids: bool = True,
        kinds: Sequence[type[Annotation] | type[Relation] | None] = (),
        on_error: RecordErrorHandler | None = None,
        check_relation_ids: bool = True,
    ) -> None:
        """``kinds``: the record type of each file (default: either, told by its fields);
        ``check_relation_ids``: False lists (and drops) only repeated annotation ids;
        ``on_error``: what to do with a record of the wrong shape instead of raising."""
        self._sources = [_Source(path) for path in files]
        self._kinds = list(kinds) or [None] * len(files)
        self._check_relation_ids = check_relation_ids
        self._on_error = on_error
        self.lines = [0] * len(files)
        """Lines of each file, blank ones included."""
        self.records = [0] * len(files)
        """Records (non-blank lines) of each file."""
        columns: list[tuple[Any, ...]] = []
        # the id hashes go to a file as they come, then into one array: never twice in memory
        hashes = tempfile.TemporaryFile() if check_ids else None  # noqa: SIM115
        for number, source in enumerate(self._sources):
            for runs, ids in self._scan(source, number):
                self.records[number] += len(ids)
                columns.append((np.full(len(runs[0]), number, dtype=np.int32), *runs))
                if hashes is not None:
                    ids.tofile(hashes)
        if columns:
            joined = [np.concatenate(column) for column in zip(*columns, strict=True)]
        else:
            joined = [np.zeros(0, t) for t in (np.int32, np.int64, np.int64, np.int32, np.int32)]
            joined.append(np.zeros(0, np.int64))
        self._file, self._start, self._end, self._line, self._count, doc = joined
        self.count = int(self._count.sum())
        self.duplicates = Duplicates(self.files)
        """Records whose (kind, id) an earlier record has, in file order (on disk)."""
        self._dropped: dict[int, Any] = {}
        """Each file's dropped lines: a bit a line (line n is bit n % 8 of byte n // 8)."""
        if hashes is not None:
            with hashes:  # only the repeated ones are wanted: found a bucket at a time
                repeated = repeated_values(hashes, skip=0)
            self._mark_duplicates(repeated)
        self._exact: dict[str, int] = {}
        """The key of each id whose hash another id of the index shares."""
        self._shared: dict[int, Any] = {}
        """The runs of each such hash."""
        self._order = np.argsort(doc, kind="stable")
        self._keys = doc[self._order]
        """Each run's document key (:func:`document_key`), in key order."""
        if self._split_shared_keys(doc):
            self._order = np.argsort(doc, kind="stable")
            self._keys = doc[self._order]
        self._asked = np.zeros(len(doc), dtype=bool)
        """Runs a batch asked for."""
        self._owners: tuple[Any, Any] | None = None
        self._recent: OrderedDict[int, dict[str, Annotation]] = OrderedDict()
        """The annotations of the documents :meth:`annotation_of` read last, by key."""
        self._held: OrderedDict[int, int] = OrderedDict()
        """The bytes of the lines each document of :attr:`_recent` was read from."""

    # ---- the pass ----------------------------------------------------------------------

    def _scan(self, source: _Source, number: int) -> Iterator[tuple[tuple[Any, ...], Any]]:
        path = source.path
        copy: IO[bytes] | None = None
        if is_compressed(path):
            copy = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the index)
            source.open(copy, copy=True)
        else:
            source.open(path.open("rb"), copy=False)
        offset = 0
        for first, chunk in line_blocks(path):
            if copy is not None:
                copy.write(chunk)
            source.note(chunk)
            yield self._block(path, first, chunk, offset)
            offset += len(chunk)
            self.lines[number] = first - 1 + chunk.count(b"\n") + (not chunk.endswith(b"\n"))
        if copy is not None:
            copy.flush()
        else:  # the bytes indexed (read by path) are the file held, whatever the path holds now
            if not _same_file(path, source.fileno()):
                source.verify("replaced by another file")
            source.check()

    def _block(
        self, path: Path, first: int, chunk: bytes, offset: int, every: bool = False
    ) -> tuple[tuple[Any, ...], Any]:
        """Runs of one block (start and end bytes, first line, lines, document) and the
        hash of each record's (kind, id)."""
        newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
        if not chunk.endswith(b"\n"):
            newlines = np.append(newlines, len(chunk))
        starts = np.concatenate([[0], newlines[:-1] + 1]).astype(np.int64)
        ends = newlines.astype(np.int64)
        try:
            keys: list[_Key] = _KEYS.decode_lines(chunk)
        except REFUSED:
            keys = []
        index = np.flatnonzero(ends > starts)
        if len(keys) != len(index):  # blank lines, or a line the key decoder refuses
            kept, keys = [], []
            for lineno, line in numbered_lines(first, chunk):
                try:
                    keys.append(_KEYS.decode(line))
                except REFUSED as error:
                    raise refused_line(path, lineno, line, error) from None
                kept.append(lineno - first)
            index = np.asarray(kept, dtype=np.int64)
        doc = np.empty(len(keys), dtype=np.int64)
        hashes = np.empty(len(keys), dtype=np.int64)
        names = [key.doc_id for key in keys]
        other = np.fromiter(map(operator.ne, names[1:], names[:-1]), bool, max(len(keys) - 1, 0))
        for i, key in enumerate(keys):
            doc[i] = document_key(key.doc_id)
            relation = key.head is not msgspec.UNSET or key.tail is not msgspec.UNSET
            hashes[i] = hash((relation, key.id)) if isinstance(key.id, str) else 0
        if every:  # one run per record
            return (index, index, index, index, doc), hashes
        # a run breaks where the document (its exact id) changes or a blank line comes between
        breaks = np.flatnonzero(other | (index[1:] != index[:-1] + 1)) + 1
        heads = np.concatenate([[0], breaks]).astype(np.int64)
        tails = np.concatenate([breaks, [len(index)]]).astype(np.int64) - 1
        if not len(index):
            heads = tails = np.zeros(0, np.int64)
        runs = (
            starts[index[heads]] + offset,
            ends[index[tails]] + offset,
            (index[heads] + first).astype(np.int32),
            (tails - heads + 1).astype(np.int32),
            doc[heads],
        )
        return runs, hashes

    def _split_shared_keys(self, doc: Any) -> bool:
        """Check that the runs of each key name one id (read back from their first lines;
        only keys with several runs); give the ids of a key that several share keys of their
        own, in ``doc`` and :attr:`_exact`. Whether any did."""
        keys = self._keys
        several = np.zeros(len(keys), dtype=bool)
        several[1:] = keys[1:] == keys[:-1]
        several[:-1] |= several[1:]
        several &= keys != NO_DOCUMENT
        first: tuple[int, str] | None = None
        for position in np.flatnonzero(several):  # in key order: one key after the other
            key, name = int(keys[position]), self._name(int(self._order[position]))
            if first is None or first[0] != key:
                first = (key, name)
            elif name != first[1]:
                self._shared[key] = np.sort(self._order[keys == key])
        if not self._shared:
            return False
        names = sum(len(runs) for runs in self._shared.values())  # at most one a run
        fresh = iter(np.setdiff1d(np.arange(len(doc) + names), doc).tolist())
        for runs in self._shared.values():
            for run in runs.tolist():
                name = self._name(run)
                self._exact[name] = self._exact.get(name, next(fresh))
                doc[run] = self._exact[name]
        return True

    def _key(self, doc_id: str) -> int:
        return self._exact.get(doc_id, document_key(doc_id))

    def _hashes(self, every: bool = False) -> Iterator[tuple[tuple[Any, ...], Any]]:
        """The files' blocks again: their runs (one per record with ``every``) and the hash
        of each record's (kind, id), in file order."""
        for source in self._sources:
            for first, chunk in source.again():
                yield self._block(source.path, first, chunk, 0, every)

    def _mark_duplicates(self, repeated: Any) -> None:
        """Records whose (kind, id) an earlier record has: spooled to :attr:`duplicates`, and
        marked never to be read back (the files are read again in their order only when some
        id's hash repeats, a block at a time; the lines of a block with a repeated hash are
        decoded once, in one call, to compare their ids, :class:`_FirstIds`)."""
        if not len(repeated):
            return
        came = _FirstIds(repeated)
        for number, source in enumerate(self._sources):
            for first, chunk in source.again():
                runs, ids = self._block(source.path, first, chunk, 0, every=True)
                wanted = _among(ids, repeated)
                chosen = runs[0][wanted].tolist()
                if not chosen:
                    continue
                slots = np.searchsorted(repeated, ids[wanted]).tolist()
                slot = dict(zip(chosen, slots, strict=True))
                split = chunk.split(b"\n")
                decoded = self._decoded(
                    source.path, number, [first + at for at in chosen], [split[at] for at in chosen]
                )
                dropped = []
                in_order = sorted(zip(*decoded, strict=True), key=operator.itemgetter(0))
                for lineno, record in in_order:
                    relation = isinstance(record, Relation)
                    if relation and not self._check_relation_ids:
                        continue
                    if came.again(slot[lineno - first], relation, record.id):
                        kind = "relation" if relation else "annotation"
                        self.duplicates.add(number, lineno, kind, record.id, record.doc_id)
                        dropped.append(lineno)
                self._drop(number, dropped)

    def _decoded(
        self, path: Path, number: int, numbers: list[int], lines: list[bytes]
    ) -> tuple[list[int], list[Any]]:
        """The numbered ``lines`` of a file decoded, each as the kind its key names (an
        annotation whose text holds ``"head"`` is still an annotation) or as the file's one
        kind. A record its decoder refuses is left out, not reported: its batch's reading
        reports it."""
        kind = self._kinds[number]
        if kind is not None:
            return decode_columns(path, numbers, lines, kind, _unreported)
        apart: dict[type[Any], tuple[list[int], list[bytes]]] = {
            Annotation: ([], []),
            Relation: ([], []),
        }
        for lineno, line in zip(numbers, lines, strict=True):
            key = _KEYS.decode(line)  # the block's keys were read already: cannot fail
            relation = key.head is not msgspec.UNSET or key.tail is not msgspec.UNSET
            group = apart[Relation if relation else Annotation]
            group[0].append(lineno)
            group[1].append(line)
        decoded: tuple[list[int], list[Any]] = ([], [])
        for group_kind, (group_numbers, group_lines) in apart.items():
            found = decode_columns(path, group_numbers, group_lines, group_kind, _unreported)
            decoded[0].extend(found[0])
            decoded[1].extend(found[1])
        return decoded

    def _drop(self, number: int, lines: list[int]) -> None:
        """Mark lines of a file never to be read back (a bit a line of the file, set only
        once a line is dropped)."""
        if not lines:
            return
        bits = self._dropped.get(number)
        if bits is None:
            bits = self._dropped[number] = np.zeros(self.lines[number] // 8 + 1, np.uint8)
        at = np.asarray(lines, dtype=np.int64)
        np.bitwise_or.at(bits, at >> 3, (1 << (at & 7)).astype(np.uint8))

    def _dropped_in(self, number: int, spans: Sequence[Run]) -> Any:
        """The dropped line numbers within ``spans`` of a file, in span order."""
        bits = self._dropped.get(number)
        if bits is None:
            return NOTHING_DROPPED
        found = []
        for _, _, first, count in spans:
            low, high = first >> 3, ((first + count - 1) >> 3) + 1
            lines = np.flatnonzero(np.unpackbits(bits[low:high], bitorder="little")) + (low << 3)
            found.append(lines[(lines >= first) & (lines < first + count)])
        return np.concatenate(found) if found else NOTHING_DROPPED

    # ---- reading back ------------------------------------------------------------------

    def _read_runs(self, runs: Any, on_error: RecordErrorHandler | None = None) -> list[Row]:
        """The records of ``runs`` (in run order), decoded with located errors (``on_error``:
        the index's own handler if None); each file holding some is checked once, after its
        runs' bytes are read and before they are decoded (:meth:`_Source.checked`)."""
        rows: list[Row] = []
        for number, lines in self._lines(runs, portable=False):
            read = self._sources[number].checked(lines.runs[-1][1])
            rows += read_lines(lines, on_error or self._on_error, read)
        return rows

    def _lines(self, runs: Any, portable: bool) -> Iterator[tuple[int, Lines]]:
        """``runs`` as :class:`Lines`, one per file (in file order, then run order);
        ``portable``: a compressed file's lines carry their bytes (its copy is this
        process's)."""
        runs = np.asarray(runs, dtype=np.int64)
        for number in np.unique(self._file[runs]).tolist():
            chosen = runs[self._file[runs] == number].tolist()
            source = self._sources[number]
            spans = tuple(
                (int(self._start[r]), int(self._end[r]), int(self._line[r]), int(self._count[r]))
                for r in chosen
            )
            data = None
            if portable and is_compressed(source.path):
                data = b"".join(source.read(start, end) for start, end, _, _ in spans)
            dropped = self._dropped_in(number, spans)
            path = source.path
            kind = self._kinds[number]
            yield number, Lines(path, path.absolute(), spans, data, dropped, kind, source.stamp)

    def annotation_ids(self) -> Iterator[list[Any]]:
        """The ids the files' annotations have (any JSON value; repeats and records of the
        wrong shape included), a block at a time in file order, read again from the files'
        paths (whose bytes must be the ones indexed)."""
        for number, source in enumerate(self._sources):
            if self._kinds[number] is Relation:
                continue
            for first, chunk in source.again():
                yield [
                    key.id
                    for key in _keys_of(source.path, first, chunk)
                    if key.head is msgspec.UNSET and key.tail is msgspec.UNSET
                ]

    def document_of(self, annotation_id: str) -> str | None:
        """The document of the annotation with this id in any batch."""
        found = self.annotation_of(annotation_id)
        return None if found is None else found.doc_id

    def annotation_of(self, annotation_id: str) -> Annotation | None:
        """The annotation with this id in any batch, read back from its document's lines (the
        owners are indexed on the first call: only a relation whose end is not in its own
        batch asks). Its document is not marked as asked for."""
        if self._owners is None:
            hashes, keys = [], []
            for runs, ids in self._hashes(every=True):
                hashes.append(ids)
                keys.append(runs[4])
            ranked = np.concatenate(hashes) if hashes else np.zeros(0, np.int64)
            owners = np.concatenate(keys) if keys else np.zeros(0, np.int64)
            order = np.argsort(ranked, kind="stable")
            self._owners = (ranked[order], owners[order])
        ranked, owners = self._owners
        low, high = _span(ranked, hash((False, annotation_id)))
        # the documents of the records with this hash, first named first: their ids compared
        for owner in dict.fromkeys(owners[low:high].tolist()):
            found = None if owner == NO_DOCUMENT else self._annotations(owner).get(annotation_id)
            if found is not None:
                return found
        return None

    def _annotations(self, key: int) -> dict[str, Annotation]:
        """The annotations of the document with this key by id (an id's first), read back
        once and kept while it is among the :data:`RECENT_DOCUMENTS` last asked for."""
        found = self._recent.get(key)
        if found is not None:
            self._recent.move_to_end(key)
            self._held.move_to_end(key)
            return found
        chosen: Any = self._shared.get(key)
        if chosen is None:
            first, last = _span(self._keys, key)
            chosen = np.sort(self._order[first:last])
        found = {}
        # a record of the wrong shape is said by the batch that reads its document, not here
        for _, _, record in self._read_runs(chosen, _unreported):
            if isinstance(record, Annotation):
                found.setdefault(record.id, record)
        self._recent[key] = found
        self._held[key] = int((self._end[chosen] - self._start[chosen]).sum())
        while len(self._recent) > 1 and (
            len(self._recent) > RECENT_DOCUMENTS or sum(self._held.values()) > RECENT_BYTES
        ):
            del self._held[self._recent.popitem(last=False)[0]]
        return found

    def _name(self, run: int) -> str:
        """The document a run's records name, read back from its first line (named one
        when indexed: else the file was changed since, a located error). Its caller checks
        the file (:meth:`_check`) before it trusts the name."""
        number, start, end = int(self._file[run]), int(self._start[run]), int(self._end[run])
        line = self._sources[number].read(start, end).split(b"\n", 1)[0]
        try:
            doc_id = _KEYS.decode(line).doc_id
        except REFUSED:
            doc_id = None
        if not isinstance(doc_id, str):  # it named one when indexed: the file changed since
            lineno, source = int(self._line[run]), self._sources[number]
            try:
                source.check()  # what changed, if its stamp tells
            except ClaimwireError as error:
                raise error.located(line=lineno) from None
            raise _changed(source.path, "the line no longer names a document", lineno)
        return doc_id

    def _first_runs(self) -> Any:
        """Each document's first run, in the order the documents are first named."""
        keys = self._keys
        heads = np.flatnonzero(
            np.concatenate([[True], keys[1:] != keys[:-1]]) & (keys != NO_DOCUMENT)
        )
        return np.sort(self._order[heads])  # the order is stable: a key's first run first

    @property
    def documents(self) -> list[str]:
        """The documents the records name, in the order first named (read back from the
        first line of each one's first run)."""
        names = [self._name(run) for run in self._first_runs().tolist()]
        self._check()
        return names

    def document_batches(self, size: int, fresh: bool = False) -> Iterator[list[str]]:
        """:attr:`documents`, ``size`` at a time, each batch's names read back when it is
        reached; ``fresh``: only the documents no :meth:`rows` call has asked for by then."""
        first = self._first_runs()
        batch: list[str] = []
        for at in range(0, len(first), size):
            runs = first[at : at + size]
            if fresh:
                runs = runs[~self._asked[runs]]
            batch += [self._name(run) for run in runs.tolist()]
            self._check()
            while len(batch) >= size:
                yield batch[:size]
                batch = batch[size:]
        if batch:
            yield batch

    def _asked_runs(self, doc_ids: Sequence[str]) -> Any:
        """The runs of these documents: found by key, each found key's name compared with
        the id asked (an id the index does not hold may share a key with one it does). The
        caller checks the files (:meth:`_check`) before it trusts what the names chose."""
        names = list(dict.fromkeys(doc_ids))
        wanted = np.fromiter(map(self._key, names), np.int64, len(names))
        low = np.searchsorted(self._keys, wanted, side="left")
        high = np.searchsorted(self._keys, wanted, side="right")
        found = [
            self._order[a:b]
            for name, key, a, b in zip(names, wanted.tolist(), low, high, strict=True)
            if b > a and key != NO_DOCUMENT and self._name(int(self._order[a])) == name
        ]
        if not found:
            return None
        runs = np.sort(np.concatenate(found))
        self._asked[runs] = True
        return runs

    def _check(self, skip: Sequence[int] = ()) -> None:
        """Each file (but the ``skip`` numbers, checked already) is still the one indexed
        (:meth:`_Source.check`)."""
        for number, source in enumerate(self._sources):
            if number not in skip:
                source.check()

    def rows(self, doc_ids: Sequence[str]) -> list[Row]:
        """The records naming these documents, in file order."""
        runs = self._asked_runs(doc_ids)
        if runs is None:
            self._check()  # the names that chose nothing were the ones indexed
            return []
        rows = self._read_runs(runs)
        self._check(skip=np.unique(self._file[runs]).tolist())  # the names read elsewhere
        return rows

    def where(self, doc_ids: Sequence[str]) -> list[Lines]:
        """Where the records naming these documents are, for another process to read them
        (:func:`read_lines`): what :meth:`rows` would read, in the same order."""
        runs = self._asked_runs(doc_ids)
        self._check()
        return [lines for _, lines in self._lines(runs, portable=True)] if runs is not None else []

    def leftover(self, batch: int = 10_000) -> Iterator[list[Row]]:
        """Records naming a document no :meth:`rows` call asked for (or no document at
        all), about ``batch`` records at a time, in file order."""
        every = np.flatnonzero(~self._asked)
        ends = np.cumsum(self._count[every])
        first = 0
        while first < len(every):
            last = int(np.searchsorted(ends, (ends[first - 1] if first else 0) + batch)) + 1
            yield self._read_runs(every[first:last])
            first = last

    @property
    def files(self) -> list[Path]:
        return [source.path for source in self._sources]

    def close(self) -> None:
        for source in self._sources:
            source.close()
        self.duplicates.close()

    def __enter__(self) -> RecordIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
