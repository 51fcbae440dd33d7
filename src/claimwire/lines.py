"""Reading a file of JSON lines a block of whole lines at a time: plain or zstd-compressed,
each line bounded in length, line numbers kept, memory flat in the file's size.

The record readers of :mod:`claimwire.model` decode these blocks; the raw inputs' and the
releases' document readers split them into lines.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from itertools import compress
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from claimwire.errors import ClaimwireError

NEWLINE = ord("\n")

_CHUNK_BYTES = 1 << 16
"""Records are decoded 64 KB of lines at a time: memory stays flat in the file's size, and a
block's bytes, its re-encoding and its records stay in the processor's cache and in memory
the allocator already holds (blocks of megabytes are fresh pages from the system each time,
which cost more than decoding them)."""


UTF16 = (
    "the file is UTF-16 (what Windows PowerShell's > and Out-File, or Notepad's 'Unicode', "
    "write), not UTF-8; save it as UTF-8"
)
"""What an error says of a file read as UTF-8 that is UTF-16."""


def looks_utf16(start: bytes) -> bool:
    """Whether ``start``, the first bytes of a file or of a line of it, are UTF-16's: its
    byte order mark, or a zero byte among the first two (a character of the first 256, as
    JSON's ``{`` and most text begin, is a zero byte and its own in UTF-16; a line split at
    a line break's byte starts with the zero)."""
    return start.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in start[:2]


def not_utf8(start: bytes, byte: int, offset: int, line: int, source: str | Path) -> ClaimwireError:
    """The error for ``byte`` at ``offset`` (on ``line``) of a file that begins with
    ``start``, read as UTF-8: UTF-16 named if it begins as UTF-16 does (:func:`looks_utf16`),
    else the byte and where it is."""
    if looks_utf16(start):
        return ClaimwireError(f"not valid UTF-8: {UTF16}", file=source, line=1)
    return ClaimwireError(
        f"not valid UTF-8: byte 0x{byte:02x} at byte offset {offset} (save the file as UTF-8)",
        file=source,
        line=line,
    )


class LineLimit(NamedTuple):
    """The longest line a file may hold, in bytes (its line break left out), and what one of
    its lines holds (named in the error)."""

    bytes: int
    holds: str


_TEXT_BREAK = re.compile(rb"\r\n?|\n")
"""A line's end in a text file: ``\\n``, ``\\r\\n`` or a lone ``\\r``."""
TEXT_LINE = LineLimit(1 << 20, "brat .ann or CoNLL")
"""A line of the line-based imports (brat's ``.ann``, CoNLL): 1 MiB. It holds one token, or
one annotation with the text of its span (a span of a million characters is no claim)."""


def text_lines(path: Path, limit: LineLimit = TEXT_LINE) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file (the line-based imports: brat's ``.ann``,
    CoNLL), numbered from 1, line breaks kept, a byte order mark dropped, read
    :data:`_CHUNK_BYTES` at a time. Lines end as Python's text files end them: at ``\\n``,
    ``\\r\\n`` or a lone ``\\r``. A line longer than ``limit`` is an error naming the file
    and line as soon as that many of its bytes are read (memory never holds more of it). A
    file that is not UTF-8 is the error :func:`not_utf8` gives, at the line of its first bad
    byte; one that begins as UTF-16 does, before any line is read."""
    offset, number, rest = 0, 0, b""  # the bytes before ``rest``, the lines read, a line begun
    with path.open("rb") as handle:
        while True:
            block = handle.read(_CHUNK_BYTES)
            data = rest + block if rest else block
            if not offset and looks_utf16(data[:2]):
                raise not_utf8(data, data[0], 0, 1, path)
            start = 0
            for found in _TEXT_BREAK.finditer(data):
                if found.end() == len(data) and block and found.group() == b"\r":
                    break  # its \n may begin the next block
                if found.start() - start > limit.bytes:  # ended in this block, longer all the same
                    raise _line_over(path, number + 1, limit)
                number += 1
                yield number, _decoded(path, data[start : found.end()], offset, number)
                offset += found.end() - start
                start = found.end()
            rest = data[start:]
            if len(rest) > limit.bytes:
                raise _line_over(path, number + 1, limit)
            if not block:
                if rest:
                    yield number + 1, _decoded(path, rest, offset, number + 1)
                return


def _decoded(path: Path, raw: bytes, offset: int, number: int) -> str:
    """The line ``raw``, line ``number`` of ``path`` at byte ``offset``, as text."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise not_utf8(b"", raw[error.start], offset + error.start, number, path) from None
    return line.removeprefix("\ufeff") if not offset else line


ZSTD_SUFFIX = ".zst"
"""A record file whose name ends so (in any case: ``.ZST`` too) is zstd-compressed JSONL."""


GZIP_SUFFIX = ".gz"
"""A record file or raw input whose name ends so (in any case) is gzip-compressed JSONL."""


def is_zstd(path: Path) -> bool:
    """Whether ``path`` names a zstd file: its name ends in :data:`ZSTD_SUFFIX`, in any case
    (``feed.jsonl.ZST`` read as plain text would be garbage)."""
    return path.name.lower().endswith(ZSTD_SUFFIX)


def is_gzip(path: Path) -> bool:
    """Whether ``path`` names a gzip file: its name ends in :data:`GZIP_SUFFIX`, in any case."""
    return path.name.lower().endswith(GZIP_SUFFIX)


def is_compressed(path: Path) -> bool:
    """Whether ``path`` is read decompressed as it is read (zstd or gzip, by its name): its
    plain bytes cannot be read at an offset, only from its start."""
    return is_zstd(path) or is_gzip(path)


def plain_name(name: str) -> str:
    """``name`` without its compression suffix (in any case): what the file holds once
    decompressed (``run.jsonl.ZST`` → ``run.jsonl``)."""
    for suffix in (ZSTD_SUFFIX, GZIP_SUFFIX):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


ZSTD_WINDOW = 1 << 23
"""The largest window a zstd frame may ask for, in bytes: 8 MiB, what ``zstd -19`` uses (its
lower levels, and the shards ``corpus build --compress`` writes, use less). Decompressing
holds the window in memory; libzstd would allow 128 MiB (``--long``, ``--ultra -22``)."""


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...
    def seek(self, offset: int, /) -> int: ...
    def __enter__(self) -> _Readable: ...
    def __exit__(self, kind: Any, value: Any, trace: Any, /) -> None: ...


ZSTD_RATIO = 1000
"""How many times its compressed size a zstd file may expand, past its first
:data:`ZSTD_ALLOWANCE`: JSONL records compress 5–20 times; a zstd bomb (2 GB of blank lines in
61 KB) 30,000."""
ZSTD_ALLOWANCE = 1 << 24


class _Zstd:
    """A zstd file's plain bytes, decompressed as they are read, frame after frame, a window
    of at most :data:`ZSTD_WINDOW` held. A frame asking for more, a corrupt one, a file that
    ends inside a frame (truncated: libzstd's readers take it as the end) and one that expands
    past :data:`ZSTD_RATIO` are a :class:`ClaimwireError` naming the file (the reader of its
    lines adds the line), raised once the plain bytes before the fault are read, so the line
    named is where the stream breaks. Input is fed :data:`PIECE` bytes at a time: a zstd block
    of 128 KB can come from a few bytes, so one step makes at most about 8 MB, however dense
    the frame."""

    PIECE = 1 << 8

    def __init__(self, path: Path) -> None:
        import zstandard

        self.path = path
        self.refused = zstandard.ZstdError
        self.decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_WINDOW)
        self.file = path.open("rb")
        self.frame = self.decompressor.decompressobj()
        self.in_frame = False
        """Whether the current frame has been fed a byte (and must end before the file)."""
        self.pending = bytearray()
        self.fed = 0
        self.position = 0
        self.failed: ClaimwireError | None = None
        """The fault met while feeding, raised once the bytes before it are read."""

    def read(self, size: int) -> bytes:
        while len(self.pending) < size and self._feed():
            pass
        if not self.pending and self.failed is not None:
            raise self.failed
        block = bytes(self.pending[:size])
        del self.pending[:size]
        self.position += len(block)
        if self.position > ZSTD_ALLOWANCE + ZSTD_RATIO * self.fed:  # what was read, not made
            raise ClaimwireError(
                f"expands more than {ZSTD_RATIO:,} times its compressed size: not a file of "
                "records (a zstd bomb?)",
                file=self.path,
            )
        return block

    def _feed(self) -> bool:
        """One piece of the file decompressed into :attr:`pending`; False at its end."""
        if self.failed is not None:
            return False
        piece = self.file.read(self.PIECE)
        if not piece:
            if self.in_frame and not self.frame.eof:
                self.failed = ClaimwireError(
                    "the zstd stream ends inside a frame: the file is cut short (an interrupted "
                    "copy or download?)",
                    file=self.path,
                )
            return False
        self.fed += len(piece)
        while piece:
            if self.frame.eof:
                self.frame, self.in_frame = self.decompressor.decompressobj(), False
            try:
                plain = self.frame.decompress(piece)
            except self.refused as error:
                self.failed = ClaimwireError(self._reason(error), file=self.path)
                return False
            self.in_frame = True
            self.pending += plain
            piece = self.frame.unused_data if self.frame.eof else b""
        return True

    @staticmethod
    def _reason(error: Exception) -> str:
        if "too much memory" in str(error):
            return (
                f"a zstd frame asks for a window over {ZSTD_WINDOW >> 20} MiB to decompress "
                "(written with --long or --ultra): compress it again with zstd -19 or lower"
            )
        return f"not a valid zstd file ({error})"

    def seek(self, offset: int) -> int:
        """Move to plain byte ``offset``: forward by reading, backward from the start."""
        if offset < self.position:
            self.file.seek(0)
            self.frame, self.in_frame = self.decompressor.decompressobj(), False
            self.pending.clear()
            self.fed = self.position = 0
            self.failed = None
        while self.position < offset and self.read(min(offset - self.position, 1 << 20)):
            pass
        return self.position

    def __enter__(self) -> _Zstd:
        return self

    def __exit__(self, kind: Any, value: Any, trace: Any, /) -> None:
        self.file.close()


GZIP_RATIO = 200
"""How many times its compressed size a gzip file may expand, past its first
:data:`GZIP_ALLOWANCE` (as :data:`ZSTD_RATIO` bounds a zstd file): JSONL press releases
compress 3–10 times, deflate at most about 1,030 (a gzip bomb: blank lines)."""
GZIP_ALLOWANCE = 1 << 24


class _Gzip:
    """A gzip file's plain bytes, decompressed as they are read, member after member (what
    ``cat a.gz b.gz`` makes): memory holds a read's bytes, never the file. A file that is not
    gzip, is corrupt, ends inside its stream (cut short) or expands past :data:`GZIP_RATIO`
    is a :class:`ClaimwireError` naming the file (the reader of its lines adds the line)."""

    def __init__(self, path: Path) -> None:
        import gzip

        self.path = path
        self.file = path.open("rb")
        self.reader = gzip.GzipFile(fileobj=self.file, mode="rb")
        self.position = 0

    def read(self, size: int) -> bytes:
        import gzip
        import zlib

        try:
            block = self.reader.read(size)
        except EOFError:
            raise ClaimwireError(
                "the gzip stream ends early: the file is cut short (an interrupted copy or "
                "download?)",
                file=self.path,
            ) from None
        except (gzip.BadGzipFile, zlib.error) as error:
            raise ClaimwireError(f"not a valid gzip file ({error})", file=self.path) from None
        self.position += len(block)
        if self.position > GZIP_ALLOWANCE + GZIP_RATIO * self.file.tell():
            raise ClaimwireError(
                f"expands more than {GZIP_RATIO:,} times its compressed size: not a file of "
                "records or documents (a gzip bomb?)",
                file=self.path,
            )
        return block

    def seek(self, offset: int) -> int:
        """Move to plain byte ``offset``: forward by reading, backward from the start."""
        if offset < self.position:
            self.reader.rewind()
            self.position = 0
        while self.position < offset and self.read(min(offset - self.position, 1 << 20)):
            pass
        return self.position

    def __enter__(self) -> _Gzip:
        return self

    def __exit__(self, kind: Any, value: Any, trace: Any, /) -> None:
        self.reader.close()
        self.file.close()


GZIP_MAGIC = b"\x1f\x8b"
"""How a gzip file begins (never valid UTF-8: 0x8b cannot follow 0x1f)."""


def open_lines(path: Path) -> _Readable:
    """``path``'s plain bytes: a file read as it is, or decompressed as it is read (zstd,
    gzip: :func:`is_compressed`). A gzip file under another name is refused at line 1."""
    try:
        if is_zstd(path):
            return _Zstd(path)
        if is_gzip(path):
            return _Gzip(path)
        handle = path.open("rb")
        start = handle.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)]
    except OSError as error:
        raise ClaimwireError(f"cannot open: {error.strerror}", file=path) from None
    if start == GZIP_MAGIC:
        handle.close()
        raise ClaimwireError(
            "a gzip file whose name does not end in .gz: rename it NAME.gz (it is then read "
            "decompressed) or decompress it (gunzip)",
            file=path,
            line=1,
        )
    return handle


class LineSpan(NamedTuple):
    """Whole lines of a plain file: its bytes from ``start`` to ``end``, the first of them
    line ``first_line`` of the file."""

    start: int
    end: int
    first_line: int


RECORD_LINE = LineLimit(1 << 20, "record")
"""A record file's lines (annotations, relations, predictions, an annotator's set): 1 MiB.
A record quotes at most one span of its document with 32 characters each side; the longest
line of the bundled releases, the rules' predictions and a synthetic release of 10,000
documents is 807 bytes. 1 MiB holds a span of 170,000 characters even written as ``\\u``
escapes (6 bytes each), and a hostile line costs a few MB before it is refused."""
DOCUMENT_LINE = LineLimit(16 << 20, "document")
"""A line of documents (a release's ``documents.jsonl``, a raw JSONL input, a doccano import)
holds a whole text: 16 MiB, 2,000 times the longest of the synthetic release (8 KB) and
five times *War and Peace*."""


def blocks(
    path: Path, span: LineSpan | None = None, limit: LineLimit = RECORD_LINE
) -> Iterator[bytes]:
    """The file's whole lines, about :data:`_CHUNK_BYTES` at a time (a longer line whole);
    only those of ``span`` (in a plain file) when given. A line longer than ``limit`` is an
    error naming its file and line as soon as its first ``limit`` bytes are read: memory
    holds at most that much of it, decompressed or not."""
    rest: list[bytes] = []
    held = done = 0  # the bytes of the line begun in ``rest``; those yielded
    size = min(_CHUNK_BYTES, limit.bytes)  # a line inside one block is within the limit
    with open_lines(path) as handle:
        left = sys.maxsize
        if span is not None:
            handle.seek(span.start)
            left = span.end - span.start
        while left > 0:
            try:
                block = handle.read(min(left, size))
            except ClaimwireError as error:  # a compressed file's fault: named at its line
                raise error.located(line=_line_at(path, span, done)) from None
            if not block:
                break
            left -= len(block)
            cut = block.rfind(b"\n") + 1
            if not cut:
                held += len(block)
                if held > limit.bytes:
                    raise _too_long(path, span, done, limit)
                rest.append(block)
                continue
            if held + cut > limit.bytes and held + block.find(b"\n") > limit.bytes:
                raise _too_long(path, span, done, limit)
            yield b"".join((*rest, memoryview(block)[:cut]))  # one copy
            done += held + cut
            rest = [block[cut:]]
            held = len(block) - cut
    if tail := b"".join(rest):
        yield tail


def _too_long(path: Path, span: LineSpan | None, before: int, limit: LineLimit) -> ClaimwireError:
    """The error for a line over ``limit`` that starts ``before`` bytes into the file (or
    ``span``)."""
    return _line_over(path, _line_at(path, span, before), limit)


def _line_over(path: Path, line: int, limit: LineLimit) -> ClaimwireError:
    """The error for line ``line`` of ``path``, longer than ``limit``."""
    return ClaimwireError(
        f"a line longer than {limit.bytes:,} bytes, the most a {limit.holds} line may hold "
        "(docs/security.md): refused before it is read whole",
        file=path,
        line=line,
    )


def _line_at(path: Path, span: LineSpan | None, before: int) -> int:
    """The number of the line that starts ``before`` bytes into the file (or ``span``): its
    line breaks before it counted again, a block at a time (only when an error names it, so
    reading costs nothing more on the way)."""
    breaks = 0
    with open_lines(path) as handle:
        if span is not None:
            handle.seek(span.start)
        while before > 0 and (block := handle.read(min(before, _CHUNK_BYTES))):
            before -= len(block)
            breaks += block.count(b"\n")
    return (1 if span is None else span.first_line) + breaks


def lines_in(chunk: bytes) -> int:
    """How many lines ``chunk`` holds (its last one may lack a line break); counted by numpy,
    many bytes a cycle."""
    import numpy as np

    breaks = int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) == NEWLINE))
    return breaks + (not chunk.endswith(b"\n"))


def line_blocks(
    path: Path, span: LineSpan | None = None, *, limit: LineLimit = RECORD_LINE
) -> Iterator[tuple[int, bytes]]:
    """``(number of its first line, whole lines)`` for each block of :func:`blocks`: the
    file (or ``span`` of it), decompressed if a zstd shard, a block of whole lines at a
    time, never split inside a line, none longer than ``limit``; line numbers count from 1
    (or the span's first)."""
    first = 1 if span is None else span.first_line
    for chunk in blocks(path, span, limit):
        yield first, chunk
        first += lines_in(chunk)


def numbered_lines(first: int, chunk: bytes) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` of each line of ``chunk`` that is not blank, the first
    numbered ``first`` (what :func:`line_blocks` gives, one line at a time)."""
    for lineno, line in enumerate(chunk.split(b"\n"), start=first):
        if line.strip():
            yield lineno, line


def line_columns(first: int, chunk: bytes) -> tuple[list[int], list[bytes]]:
    """:func:`numbered_lines` as two lists, the numbers and the lines."""
    lines = chunk.split(b"\n")
    numbers = list(range(first, first + len(lines)))
    kept = list(map(bytes.strip, lines))  # the line itself when it has no blank at its ends
    if all(kept):
        return numbers, lines
    return list(compress(numbers, kept)), list(compress(lines, kept))
