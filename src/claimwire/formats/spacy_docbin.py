"""spaCy DocBin (``.spacy``): the training corpus format of ``spacy train``.

Each document becomes a ``Doc`` made by spaCy's French tokenizer (``spacy.blank("fr")``) with
the release's sentences as sentence starts and its id in ``doc.user_data["doc_id"]``. Every
span annotation goes to ``doc.spans[key]`` (a span group may overlap: span categorizers
train on it); the chosen flat labels also go to ``doc.ents`` (no overlaps: an overlapping
later span is an ``overlap`` loss). Spans are made with ``Doc.char_span(...,
alignment_mode="expand")``: a span cutting a token is widened to whole tokens, an ``expanded``
loss. Attributes, relations and document-level items are losses. Import reads both the span
groups and the entities (a span in both is one annotation).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from claimwire.annotation.schema import Schema
from claimwire.formats.base import DocumentLookup, Imported, Loss, span_annotation
from claimwire.formats.conll import flat_spans, french_tokenizer
from claimwire.model import Annotation, Document

SPANS_KEY = "sc"
DOC_ID = "doc_id"


def _doc(document: Document) -> Any:
    doc = french_tokenizer()(document.text)
    starts = {start for start, _ in document.sentences}
    for token in doc:
        token.is_sent_start = token.i == 0 or token.idx in starts
    doc.user_data[DOC_ID] = document.id
    return doc


def _span(doc: Any, annotation: Annotation, losses: list[Loss]) -> Any:
    span = doc.char_span(
        annotation.start, annotation.end, annotation.label, alignment_mode="expand"
    )
    if span is None:
        losses.append(Loss("no-token", annotation.id, f"{annotation.label} covers no token"))
    elif (span.start_char, span.end_char) != (annotation.start, annotation.end):
        losses.append(
            Loss(
                "expanded",
                annotation.id,
                f"[{annotation.start}, {annotation.end}) → [{span.start_char}, "
                f"{span.end_char}) (whole tokens)",
            )
        )
    return span


def add_to_docbin(
    docbin: Any,
    documents: Iterable[Document],
    annotations: Iterable[Annotation],
    relations: Iterable[Any],
    ents: Sequence[str],
    spans_key: str = SPANS_KEY,
) -> list[Loss]:
    """Add the documents to ``docbin`` (a spaCy DocBin); what they could not carry."""
    by_doc: dict[str, list[Annotation]] = {}
    for annotation in annotations:
        by_doc.setdefault(annotation.doc_id, []).append(annotation)
    losses: list[Loss] = [Loss("relation", r.id, r.type) for r in relations]
    for document in documents:
        doc = _doc(document)
        group = []
        for annotation in by_doc.get(document.id, []):
            if not annotation.is_span:
                losses.append(Loss("document-item", annotation.id, annotation.label))
                continue
            losses += [
                Loss("attribute", annotation.id, f"{name}={value!r}")
                for name, value in annotation.attributes.items()
            ]
            span = _span(doc, annotation, losses)
            if span is not None:
                group.append(span)
        doc.spans[spans_key] = group
        flat = flat_spans(by_doc.get(document.id, []), ents, losses)
        quiet: list[Loss] = []  # expansions are reported once, for the span group
        doc.ents = [s for s in (_span(doc, a, quiet) for a in flat) if s is not None]
        docbin.add(doc)
    return losses


def from_docbin(
    data: bytes,
    documents: Mapping[str, Document],
    schema: Schema,
    path: Path,
    author: str,
) -> Iterator[Imported]:
    """Span annotations from a DocBin whose docs carry ``user_data["doc_id"]`` (or whose text
    is a document's text), a doc's at a time (spaCy reads a DocBin whole, its token arrays;
    its docs are made one at a time)."""
    import spacy
    from spacy.tokens import DocBin

    out = Imported()
    lookup = DocumentLookup(documents)
    try:
        docs = DocBin().from_bytes(data).get_docs(spacy.blank("fr").vocab)
    except (ValueError, KeyError, TypeError) as error:
        yield Imported(problems=[f"{path}: not a spaCy DocBin: {error}"])
        return
    for number, doc in enumerate(docs, start=1):
        yield out.take()
        problems = out.problems
        found = None if doc.user_data.get(DOC_ID) else lookup.by_text(doc.text)
        doc_id = doc.user_data.get(DOC_ID) or (found.id if found is not None else None)
        document = lookup.by_id(str(doc_id)) if doc_id is not None else None
        if document is None:
            problems.append(
                f"{path}:{number}: doc {number} ({doc_id!r}) is not a document of the release"
            )
            continue
        if doc.text != document.text:
            problems.append(
                f"{path}:{number}: doc {number}: not the text of document {document.id}"
            )
            continue
        seen: set[tuple[str, int, int]] = set()
        spans = [*doc.ents, *(s for group in doc.spans.values() for s in group)]
        for span in spans:
            key = (span.label_, span.start_char, span.end_char)
            if key in seen:
                continue
            seen.add(key)
            layer = schema.labels[span.label_].layer if span.label_ in schema.labels else ""
            out.annotations.append(
                (
                    path,
                    number,
                    span_annotation(
                        f"{document.id}:{author}-{len(seen)}",
                        document.id,
                        layer,
                        span.label_,
                        document.text,
                        span.start_char,
                        span.end_char,
                        author,
                    ),
                )
            )
    yield out.take()
