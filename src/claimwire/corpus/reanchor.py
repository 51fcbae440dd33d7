"""Carry annotations over to an edited text (W3C TextQuoteSelector style).

Each span is mapped through a character diff of the two texts (Google's diff-match-patch in
C++, which handles 100 KB texts in milliseconds). The mapped span is accepted only if its text
still equals the annotation's quote; otherwise the quote is searched for and the occurrence
whose prefix and suffix agree best (then the one nearest the mapped position) wins; if the
quote is gone the annotation is *orphaned* and reported, never dropped silently.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable
from dataclasses import dataclass

import fast_diff_match_patch as dmp

from claimwire.corpus.words import occurrences
from claimwire.model import Annotation, Quote, replaced


class Anchoring(enum.Enum):
    KEPT = "kept"
    REANCHORED = "reanchored"
    ORPHANED = "orphaned"


@dataclass(frozen=True, slots=True)
class AnchorResult:
    status: Anchoring
    annotation: Annotation
    """The annotation on the new text (unchanged, moved), or the old one when orphaned."""


class OffsetMap:
    """Maps offsets of an old text to the new text through the diff's equal runs."""

    def __init__(self, old: str, new: str) -> None:
        self._old_starts: list[int] = []
        self._new_starts: list[int] = []
        self._lengths: list[int] = []
        old_at = new_at = 0
        for op, length in dmp.diff(old, new, timelimit=0, checklines=False, cleanup="No"):
            if op == "=":
                self._old_starts.append(old_at)
                self._new_starts.append(new_at)
                self._lengths.append(length)
                old_at += length
                new_at += length
            elif op == "-":
                old_at += length
            else:
                new_at += length

    def map(self, offset: int, *, is_end: bool = False) -> int | None:
        """The new offset of ``offset``, or ``None`` where that character was edited."""
        point = offset - 1 if is_end else offset
        index = bisect.bisect_right(self._old_starts, point) - 1
        if index < 0:
            return None
        delta = point - self._old_starts[index]
        if delta >= self._lengths[index]:
            return None
        mapped = self._new_starts[index] + delta
        return mapped + 1 if is_end else mapped


def _context_score(text: str, start: int, end: int, quote: Quote) -> int:
    """How many characters of the quote's prefix and suffix agree around ``[start, end)``."""
    score = 0
    before = text[max(0, start - len(quote.prefix)) : start]
    for a, b in zip(reversed(before), reversed(quote.prefix), strict=False):
        if a != b:
            break
        score += 1
    after = text[end : end + len(quote.suffix)]
    for a, b in zip(after, quote.suffix, strict=False):
        if a != b:
            break
        score += 1
    return score


def find_quote(text: str, quote: Quote, near: int | None = None) -> tuple[int, int] | None:
    """The best occurrence of ``quote.exact`` in ``text`` by context, then by distance."""
    if not quote.exact:
        return None
    candidates = occurrences(text, quote.exact)
    if not candidates:
        return None
    target = near if near is not None else 0

    def rank(start: int) -> tuple[int, int]:
        end = start + len(quote.exact)
        return (-_context_score(text, start, end, quote), abs(start - target))

    best = min(candidates, key=rank)
    return best, best + len(quote.exact)


def reanchor(
    annotations: Iterable[Annotation], old_text: str, new_text: str, new_doc_id: str
) -> list[AnchorResult]:
    """Move each annotation of ``old_text`` onto ``new_text`` (document-level ones just move)."""
    offsets = OffsetMap(old_text, new_text) if old_text != new_text else None
    results = []
    for annotation in annotations:
        moved = replaced(annotation, doc_id=new_doc_id)
        if not annotation.is_span:
            results.append(AnchorResult(Anchoring.KEPT, moved))
            continue
        assert annotation.start is not None and annotation.end is not None
        quote = annotation.quote or Quote.from_text(old_text, annotation.start, annotation.end)
        if offsets is None:
            results.append(AnchorResult(Anchoring.KEPT, moved))
            continue
        start = offsets.map(annotation.start)
        end = offsets.map(annotation.end, is_end=True)
        span: tuple[int, int] | None = None
        if start is not None and end is not None and new_text[start:end] == quote.exact:
            span = (start, end)
        else:
            span = find_quote(new_text, quote, near=start)
        if span is None:
            results.append(AnchorResult(Anchoring.ORPHANED, annotation))
            continue
        status = (
            Anchoring.KEPT if span == (annotation.start, annotation.end) else Anchoring.REANCHORED
        )
        anchored = replaced(
            moved, start=span[0], end=span[1], quote=Quote.from_text(new_text, *span)
        )
        results.append(AnchorResult(status, anchored))
    return results
