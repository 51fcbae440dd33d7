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
from collections import defaultdict
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
    given among equals). One sweep over the span boundaries."""
    starting: dict[int, list[int]] = defaultdict(list)
    ending: dict[int, list[int]] = defaultdict(list)
    for index, (start, end, *_) in enumerate(spans):
        if start < end:
            starting[start].append(index)
            ending[end].append(index)
    cuts = sorted({0, len(text), *(s for s, *_ in spans), *(e for _, e, *_ in spans)})
    covering: set[int] = set()
    opening: dict[tuple[int, ...], str] = {}  # the <mark> tag of each set of covering spans
    pieces = []
    for start, end in itertools.pairwise(cuts):
        covering.difference_update(ending.get(start, ()))
        covering.update(starting.get(start, ()))
        chunk = escape(text[start:end])
        if not covering:
            pieces.append(chunk)
            continue
        key = tuple(sorted(covering))
        if key not in opening:
            opening[key] = _opening_tag([spans[index] for index in key])
        pieces.append(f"{opening[key]}{chunk}</mark>")
    return "".join(pieces)


def _opening_tag(covering: Sequence[Marked]) -> str:
    """The <mark> tag of a piece these spans cover: the innermost one's outcome, label and
    id, and every covering span named in its title."""
    inner = min(covering, key=lambda s: s[1] - s[0])
    title = "; ".join(f"{label} ({outcome})" for _, _, outcome, label, _ in covering)
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
