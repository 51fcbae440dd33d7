"""A release's documents found by id without holding them.

One pass over the document files notes, per line, the 64-bit hash of its id and where the
line is (about 30 bytes a document); a document asked for is read back from its line and
decoded, and its id compared with the one asked (two ids never become one)::

    with DocumentIndex([release.path / part for part in release.parts("documents")]) as found:
        document = found.get(doc_id)  # None if the release has no such document

A compressed part is decompressed once into an anonymous temporary file read back the same
way. Each file's size, modification and change times and inode are noted before it is
indexed, and each line's CRC-32 (4 bytes a document) as it is; before each read the file is
checked: a file removed, replaced, or of another size or modification time would give other
lines at the noted offsets, so it is one located error. When only the change time moved —
a ``chmod``, a hard link (a backup's ``cp -al``), ``touch -a``, or an edit in place that kept
the size and set the modification time back — the line is read and refused only if its
bytes are not the ones indexed. Where a ``{id: Document}`` of
the whole release was built, a pull of a few tasks held every text of the release (189 MB for
10,000 synthetic documents).
"""

from __future__ import annotations

import os
import tempfile
import zlib
from array import array
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import msgspec
import numpy as np

from claimwire.errors import ClaimwireError
from claimwire.files import LocalStamp, check_stamp
from claimwire.grouping import keyed_lines
from claimwire.lines import is_compressed, numbered_lines
from claimwire.model import Document, decode_block, decode_lines


class _Id(msgspec.Struct):
    id: Any = None


_IDS = msgspec.json.Decoder(_Id)
RECENT = 64
"""Documents kept after they are read: an import asks for one document per record, its
records come document by document."""
NOT_AN_ID = -1
"""The hash noted for a line whose id is not a string (``hash`` never gives -1)."""


class DocumentIndex(Mapping[str, Document]):
    """The documents of ``files`` (JSONL, one a line) by id, read back when asked for."""

    def __init__(self, files: Sequence[Path]) -> None:
        self._paths = list(files)
        self._recent: dict[str, Document] = {}
        self._handles: list[IO[bytes]] = []
        self._stamps: list[tuple[LocalStamp, int] | None] = []
        """Each file's stamp and inode when it was opened (None: a decompressed copy)."""
        hashes, numbers, lines, starts, ends = (array("q") for _ in range(5))
        checksums = array("I")
        for number, path in enumerate(self._paths):
            copy = tempfile.TemporaryFile() if is_compressed(path) else None  # noqa: SIM115
            self._handles.append(copy if copy is not None else path.open("rb"))
            self._stamps.append(None if copy is not None else _stamp(self._handles[-1].fileno()))
            for lineno, start, line, key in keyed_lines(path, _IDS, copy):
                hashes.append(hash(key.id) if isinstance(key.id, str) else NOT_AN_ID)
                numbers.append(number)
                lines.append(lineno)
                starts.append(start)
                ends.append(start + len(line))
                checksums.append(zlib.crc32(line))
            if copy is not None:
                copy.flush()
        order = np.argsort(np.frombuffer(hashes, dtype=np.int64), kind="stable")
        self._hashes = np.frombuffer(hashes, dtype=np.int64)[order]
        self._where = np.stack(
            [
                np.frombuffer(column, dtype=np.int64)[order]
                for column in (numbers, lines, starts, ends)
            ]
        )
        """Each line's file, line number, start and end bytes, in hash order."""
        self._checksums = np.frombuffer(checksums, dtype=np.uint32)[order]
        """Each line's CRC-32, in hash order: what a line read back after a change of its
        file's metadata only is compared with."""

    def _read(self, position: int) -> Document:
        number, lineno, line = self._line(position)
        records = decode_block(Document, line, 1)
        if records is not None:
            document: Document = records[0]
            return document
        path = self._paths[number]
        [(_, decoded)] = decode_lines(path, numbered_lines(lineno, line), lambda _: Document, None)
        assert isinstance(decoded, Document)
        return decoded

    def _line(self, position: int) -> tuple[int, int, bytes]:
        """The file number, line number and bytes of the line at ``position``, read back once
        its file is checked: a file removed, replaced, or of another size or modification time
        is an error; one whose change time alone moved (a permission, a hard link, an access
        time, or an edit that set the modification time back) is read, and the line's bytes
        must be the ones indexed."""
        number, lineno, start, end = (int(v) for v in self._where[:, position])
        noted = self._stamps[number]
        found = self._check(number, noted)
        line = os.pread(self._handles[number].fileno(), end - start, start)
        if noted is not None and found != noted and zlib.crc32(line) != self._checksums[position]:
            raise ClaimwireError(
                f"changed while this command was reading it: its bytes {start}-{end} differ "
                "from when they were indexed (its size and modification time are the same): "
                "leave inputs as they are until the command ends, and rerun it",
                file=self._paths[number],
                line=lineno,
            )
        return number, lineno, line

    def _check(
        self, number: int, noted: tuple[LocalStamp, int] | None
    ) -> tuple[LocalStamp, int] | None:
        """File ``number``'s stamp now (None: a decompressed copy, not checked); removed,
        replaced by another file, or of another size or modification time is an error."""
        if noted is None:
            return None
        path = self._paths[number]
        try:
            found = _stamp(path)
        except OSError:
            raise ClaimwireError(
                "removed while this command was reading it: leave inputs as they are until "
                "the command ends, and rerun it",
                file=path,
            ) from None
        if found[1] != noted[1]:
            raise ClaimwireError(
                "replaced by another file while this command was reading it: leave inputs "
                "as they are until the command ends, and rerun it",
                file=path,
            )
        check_stamp(path, noted[0][:2], found[0][:2])
        return found

    def __getitem__(self, doc_id: str) -> Document:
        recent = self._recent.get(doc_id) if isinstance(doc_id, str) else None
        if recent is not None:
            return recent
        document = self._find(doc_id)
        self._recent[doc_id] = document
        if len(self._recent) > RECENT:
            del self._recent[next(iter(self._recent))]
        return document

    def _find(self, doc_id: str) -> Document:
        if isinstance(doc_id, str):
            wanted = hash(doc_id)
            low = int(np.searchsorted(self._hashes, wanted))
            high = int(np.searchsorted(self._hashes, wanted, "right"))
            for position in range(low, high):
                document = self._read(position)
                if document.id == doc_id:
                    return document
        raise KeyError(doc_id)

    def __iter__(self) -> Iterator[str]:
        """The ids, in the files' order."""
        for position in np.lexsort((self._where[1], self._where[0])).tolist():
            key = _IDS.decode(self._line(position)[2])
            if isinstance(key.id, str):
                yield key.id

    def __len__(self) -> int:
        return int(np.count_nonzero(self._hashes != NOT_AN_ID))

    def close(self) -> None:
        for handle in self._handles:
            handle.close()

    def __enter__(self) -> DocumentIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stamp(file: Path | int) -> tuple[LocalStamp, int]:
    """A file's local stamp (size, modification and change times), and its inode."""
    info = os.stat(file)
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns), info.st_ino
