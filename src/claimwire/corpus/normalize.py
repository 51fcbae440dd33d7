"""Decode and normalize raw text: UTF-8 without BOM, LF line ends, NFC. Nothing else.

Typographic characters that carry meaning in French (’ « » U+00A0 U+202F ᵉ) are kept: NFKC
would change both meaning and offsets.
"""

from __future__ import annotations

import codecs
import datetime
import re
import unicodedata
from pathlib import Path

from claimwire.errors import ClaimwireError
from claimwire.lines import not_utf8, open_lines

_CHECK_BLOCK = 1 << 16
_LINE_ENDS = re.compile(r"\r\n?")
_DATE_MARKER = re.compile(r"\A[ \t]*date[ \t]+(\d{4}-\d{2}(?:-\d{2})?)(?:[ \t]*\n|[ \t]+)")


def decode_utf8(data: bytes, source: str | Path) -> str:
    """Decode UTF-8 (a leading BOM is dropped); invalid bytes name the file, line and byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise not_utf8(data, data[error.start], error.start, line, source) from None


def check_utf8(path: Path) -> None:
    """What :func:`decode_utf8` checks, for a file read a block at a time (a JSONL input can
    hold the whole corpus; a zstd one is checked as it is decompressed): invalid bytes are
    named as it names them, with no more of the file held than a block."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    done = lines = 0  # the bytes before the block being decoded, the line breaks in them
    first = b""
    with open_lines(path) as handle:
        while True:
            try:
                block = handle.read(_CHECK_BLOCK)
            except ClaimwireError as error:  # a zstd file's fault, named at its line
                raise error.located(line=lines + 1) from None
            first = first or block
            held = decoder.getstate()[0]  # the start of a character the last block cut
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                data = held + block
                line = lines + data.count(b"\n", 0, error.start) + 1
                offset = done - len(held) + error.start
                raise not_utf8(first, data[error.start], offset, line, path) from None
            if not block:
                return
            done += len(block)
            lines += block.count(b"\n")


def normalize_text(text: str) -> str:
    """CRLF and CR become LF, then NFC. Every offset in the corpus points into this text."""
    return unicodedata.normalize("NFC", _LINE_ENDS.sub("\n", text))


def split_date_marker(
    text: str, source: str | Path | None = None, line: int | None = None
) -> tuple[str | None, str]:
    """Remove a leading ``date YYYY-MM[-DD]`` marker; return ``(marker date, remaining text)``.

    The marker may prefix the first line's text or stand on a line of its own. A date that
    is not one (``2025-13``, ``2025-06-31``) is an error naming ``source`` and ``line``.
    """
    match = _DATE_MARKER.match(text)
    if match is None:
        return None, text
    marker = match.group(1)
    try:
        datetime.date.fromisoformat(marker if len(marker) == 10 else f"{marker}-01")
    except ValueError:
        raise ClaimwireError(
            f"date marker {marker!r} is not a date; expected YYYY-MM or YYYY-MM-DD",
            file=source,
            line=line or 1,
        ) from None
    return marker, text[match.end() :]
