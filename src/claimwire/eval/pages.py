"""The error-analysis page's document sections: each scored document's text twice, the gold
spans and a system's, marked by what the primary scheme decided for them.

Sections are rendered batch by batch where the batch's documents are (this process or an
engine's worker), and the pass keeps a bounded number of them (:class:`KeptSections`): the
documents with the most errors. The page's memory is that of the sections it shows, whatever
the number of documents scored.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line reads the default below without importing these
    from claimwire.eval.matches import SpanMatch, SpanOutcome
    from claimwire.model import Document

DEFAULT_PAGE_DOCUMENTS = 1000
"""How many documents the page shows by default (those with the most errors)."""

OUTCOME_CLASS = {
    "cor": "matched",
    "inc": "partial",
    "par": "partial",
    "mis": "missed",
    "spu": "spurious",
}
Marked = tuple[int, int, str, str, str]
"""A span to mark: start, end, outcome class, label, id."""


@dataclass(frozen=True, slots=True)
class DocumentSection:
    """One document's section of the page, and how many of its spans are errors."""

    errors: int
    html: str


def marked_text(text: str, spans: Sequence[Marked]) -> str:
    """``text`` with ``(start, end, outcome, label, id)`` spans as <mark> elements; where
    spans nest, each piece takes the outcome of the innermost span covering it (the first
    given among equals), and its title counts the covering spans by label and outcome. One
    sweep over the span boundaries: the covering spans are counted as they open and close,
    and the innermost is the top of a heap, so the time is O(n log n) and each tag's size is
    bounded by the labels and outcomes, however many spans pile up on one piece."""
    starting: dict[int, list[int]] = defaultdict(list)
    ending: dict[int, list[int]] = defaultdict(list)
    for index, (start, end, *_) in enumerate(spans):
        if start < end:
            starting[start].append(index)
            ending[end].append(index)
    cuts = sorted({0, len(text), *(s for s, *_ in spans), *(e for _, e, *_ in spans)})
    open_now = [False] * len(spans)
    counts: Counter[tuple[str, str]] = Counter()  # (label, outcome) of the covering spans
    innermost: list[tuple[int, int]] = []  # (length, index); closed ones dropped when on top
    opening: dict[tuple[int, tuple[tuple[tuple[str, str], int], ...]], str] = {}
    pieces = []
    for start, end in itertools.pairwise(cuts):
        for index in ending.get(start, ()):
            open_now[index] = False
            counts[_group(spans[index])] -= 1
        for index in starting.get(start, ()):
            open_now[index] = True
            counts[_group(spans[index])] += 1
            heapq.heappush(innermost, (spans[index][1] - spans[index][0], index))
        while innermost and not open_now[innermost[0][1]]:
            heapq.heappop(innermost)
        chunk = escape(text[start:end])
        if not innermost:
            pieces.append(chunk)
            continue
        key = (innermost[0][1], tuple(sorted(item for item in counts.items() if item[1])))
        if key not in opening:
            opening[key] = _opening_tag(spans[key[0]], key[1])
        pieces.append(f"{opening[key]}{chunk}</mark>")
    return "".join(pieces)


def _group(span: Marked) -> tuple[str, str]:
    """A span's label and outcome class: what a piece's title counts."""
    return span[3], span[2]


def _opening_tag(inner: Marked, covering: Sequence[tuple[tuple[str, str], int]]) -> str:
    """The <mark> tag of a piece: its innermost span's outcome, label and id, and a title
    naming the covering spans' labels and outcomes (``CLAIM (spurious) ×3``: three of them)."""
    title = "; ".join(
        f"{label} ({outcome})" + (f" ×{count:,}" if count > 1 else "")
        for (label, outcome), count in covering
    )
    return (
        f'<mark class="{inner[2]}" data-label="{escape(inner[3])}" '
        f'data-id="{escape(inner[4])}" title="{escape(title)}">'
    )


def _marked_by_document(spans: Sequence[SpanOutcome]) -> dict[str, list[Marked]]:
    by_doc: dict[str, list[Marked]] = defaultdict(list)
    for span in spans:
        annotation = span.annotation
        if annotation.start is not None and annotation.end is not None:
            by_doc[annotation.doc_id].append(
                (
                    annotation.start,
                    annotation.end,
                    OUTCOME_CLASS[span.outcome],
                    annotation.label,
                    annotation.id,
                )
            )
    return by_doc


def document_sections(match: SpanMatch, documents: Sequence[Document]) -> list[DocumentSection]:
    """The section of each of ``documents`` (in their order) for ``match``, a system's
    match on them."""
    gold, predicted = _marked_by_document(match.gold), _marked_by_document(match.predictions)
    errors: dict[str, int] = defaultdict(int)
    for span in (*match.gold, *match.predictions):
        if span.is_error:
            errors[span.annotation.doc_id] += 1
    sections = []
    for document in documents:
        title = document.meta.get("title") or document.id
        written = _written_as(document)
        html = (
            f'<section class="document" data-doc="{escape(document.id)}">'
            f"<h3{written}>{escape(str(title))}</h3><div class=pair>"
            f'<div><h4>Gold</h4><div class="text gold"{written}>'
            f"{marked_text(document.text, gold.get(document.id, []))}</div></div>"
            f'<div><h4>{escape(match.system)}</h4><div class="text system"{written}>'
            f"{marked_text(document.text, predicted.get(document.id, []))}</div></div>"
            "</div></section>"
        )
        sections.append(DocumentSection(errors[document.id], html))
    return sections


def _written_as(document: Document) -> str:
    """The attributes of an element holding the document's words: its language, when
    known, and ``dir=auto``, so that a right-to-left text (Arabic, Hebrew) is laid out from
    the right, as its first strong letter says."""
    lang = f' lang="{escape(document.lang)}"' if document.lang else ""
    return f'{lang} dir="auto"'


class KeptSections:
    """At most ``limit`` document sections, given in document order: those of the documents
    with the most errors (the earlier document first among equals). Sections are added in
    document order, batch after batch."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen = 0
        self._heap: list[tuple[int, int, str]] = []  # (errors, -order, html): least kept first

    def add(self, sections: Iterable[DocumentSection]) -> None:
        for section in sections:
            entry = (section.errors, -self.seen, section.html)
            self.seen += 1
            if len(self._heap) < self.limit:
                heapq.heappush(self._heap, entry)
            elif entry[:2] > self._heap[0][:2]:
                heapq.heapreplace(self._heap, entry)

    def sections(self) -> list[str]:
        """The kept sections' HTML, in document order."""
        return [html for _, _, html in sorted(self._heap, key=lambda entry: -entry[1])]

    @property
    def left_out(self) -> int:
        """How many scored documents the page does not show."""
        return self.seen - len(self._heap)
