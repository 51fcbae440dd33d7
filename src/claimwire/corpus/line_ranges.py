"""A JSONL input cut into ranges of whole lines, in one pass over its bytes: for an engine
whose workers each read their own range (and number its lines from where it starts)."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import numpy as np

from claimwire.lines import NEWLINE, LineSpan

_READ_BYTES = 1 << 20


def line_ranges(path: Path, lines: int) -> tuple[str, list[LineSpan]] | None:
    """The file's SHA-256 and its ranges of ``lines`` lines each (the last one shorter, an
    empty file none); ``None`` when its bytes are not UTF-8 or it cannot be read: read whole
    where the engine's worker is, it then fails as it would in one piece."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    starts = [0]
    firsts = [1]
    offset = breaks = 0
    try:
        with path.open("rb") as handle:
            while block := handle.read(_READ_BYTES):
                digest.update(block)
                decoder.decode(block)
                found = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == NEWLINE)
                # a range starts after every ``lines``-th line break of the file
                first = -(breaks + 1) % lines
                starts += (found[first::lines] + (offset + 1)).tolist()
                firsts += range(breaks + first + 2, breaks + len(found) + 2, lines)
                breaks += len(found)
                offset += len(block)
            decoder.decode(b"", final=True)
    except (OSError, UnicodeDecodeError):
        return None
    ends = [*starts[1:], offset]
    spans = zip(starts, ends, firsts, strict=True)
    return digest.hexdigest(), [LineSpan(*span) for span in spans if span[0] < span[1]]
