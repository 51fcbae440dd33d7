"""Decode and normalize raw text: UTF-8 without BOM, LF line ends, NFC. Nothing else.

Typographic characters that carry meaning in French (’ « » U+00A0 U+202F ᵉ) are kept: NFKC
would change both meaning and offsets.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from claimwire.errors import ClaimwireError
from claimwire.model import UTF16

_CHECK_BLOCK = 1 << 16
_LINE_ENDS = re.compile(r"\r\n?")
_DATE_MARKER = re.compile(r"\A[ \t]*date[ \t]+(\d{4}-\d{2}(?:-\d{2})?)(?:[ \t]*\n|[ \t]+)")


def decode_utf8(data: bytes, source: str | Path) -> str:
    """Decode UTF-8 (a leading BOM is dropped); invalid bytes name the file, line and byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # a UTF-16 byte order mark
            raise ClaimwireError(f"not valid UTF-8: {UTF16}", file=source, line=1) from None
        raise ClaimwireError(
            f"not valid UTF-8: byte 0x{data[error.start]:02x} at byte offset {error.start}"
            " (save the file as UTF-8)",
            file=source,
            line=line,
        ) from None


def check_utf8(path: Path) -> None:
    """What :func:`decode_utf8` checks, for a file read a block at a time (a JSONL input can
    hold the whole corpus); invalid bytes are named by :func:`decode_utf8` itself."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while block := handle.read(_CHECK_BLOCK):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        decode_utf8(path.read_bytes(), path)
        raise


def normalize_text(text: str) -> str:
    """CRLF and CR become LF, then NFC. Every offset in the corpus points into this text."""
    return unicodedata.normalize("NFC", _LINE_ENDS.sub("\n", text))


def split_date_marker(text: str) -> tuple[str | None, str]:
    """Remove a leading ``date YYYY-MM[-DD]`` marker; return ``(marker date, remaining text)``.

    The marker may prefix the first line's text or stand on a line of its own.
    """
    match = _DATE_MARKER.match(text)
    if match is None:
        return None, text
    return match.group(1), text[match.end() :]
