"""Resampling units: which document, paragraph or sentence a span belongs to."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from claimwire.errors import ClaimwireError
from claimwire.model import Document

if TYPE_CHECKING:  # the command line reads UNIT_KINDS without loading numpy
    import numpy as np
    from numpy.typing import NDArray

UNIT_KINDS = ("document", "paragraph", "sentence", "item")
MIN_DOCUMENTS_FOR_DOCUMENT_UNITS = 30
"""Below this many documents a document-level bootstrap has too few units to mean anything."""


def default_unit(documents: int, kind: str) -> str:
    """Documents from 30 up; below, sentences (spans) or items (stance pairs)."""
    if documents >= MIN_DOCUMENTS_FOR_DOCUMENT_UNITS:
        return "document"
    return "item" if kind == "stance" else "sentence"


class Units:
    """Numbers the units of a list of documents and finds the unit of an offset."""

    def __init__(self, documents: Sequence[Document], kind: str) -> None:
        if kind not in UNIT_KINDS:
            raise ClaimwireError(f"unknown unit {kind!r}; expected one of {', '.join(UNIT_KINDS)}")
        self.kind = kind
        self.doc_index = {doc.id: i for i, doc in enumerate(documents)}
        self._starts: list[list[int]] = []
        self._first: list[int] = []
        total = 0
        for doc in documents:
            spans = {"paragraph": doc.paragraphs, "sentence": doc.sentences}.get(kind, ((0, 0),))
            self._starts.append([start for start, _ in spans] or [0])
            self._first.append(total)
            total += max(1, len(spans))
        self.count = total
        self._unit_keys: tuple[NDArray[np.int64], NDArray[np.int64], int] | None = None

    def of(self, doc_id: str, offset: int | None) -> int:
        """The unit of a character offset (a document-level item: its document's first unit)."""
        doc = self.doc_index[doc_id]
        if offset is None or self.kind in ("document", "item"):
            return self._first[doc]
        return self._first[doc] + max(0, bisect.bisect_right(self._starts[doc], offset) - 1)

    def of_many(self, doc: NDArray[np.int64], offset: NDArray[np.int64]) -> NDArray[np.int64]:
        """:meth:`of` for arrays of document positions and offsets at once."""
        import numpy as np

        first = np.asarray(self._first, dtype=np.int64)
        if self.kind in ("document", "item") or not len(doc):
            return first[doc]
        if self._unit_keys is None:
            lengths = [len(starts) for starts in self._starts]
            owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
            starts = np.fromiter(itertools.chain.from_iterable(self._starts), np.int64, self.count)
            big = int(starts.max(initial=0)) + 1
            self._unit_keys = (owner, starts, big)
        owner, starts, big = self._unit_keys
        big = max(big, int(offset.max(initial=0)) + 1)
        # units are numbered in (document, start) order: the last unit starting at or before
        # the offset, never one of an earlier document
        found = np.searchsorted(owner * big + starts, doc * big + offset, side="right") - 1
        return np.maximum(found, first[doc])
