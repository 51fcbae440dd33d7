"""spaCy DocBin (``.spacy``): the training corpus format of ``spacy train``.

Each document becomes a ``Doc`` made by spaCy's French tokenizer (``spacy.blank("fr")``) with
the release's sentences as sentence starts and its id in ``doc.user_data["doc_id"]``. Every
span annotation goes to ``doc.spans[key]`` (a span group may overlap: span categorizers
train on it); the chosen flat labels also go to ``doc.ents`` (no overlaps: an overlapping
later span is an ``overlap`` loss). Spans are made with ``Doc.char_span(...,
alignment_mode="expand")``: a span cutting a token is widened to whole tokens, an ``expanded``
loss. Attributes, relations and document-level items are losses. Import reads both the span
groups and the entities (a span in both is one annotation; one the span groups give twice is
read once, and a note counts it).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from claimwire.annotation.schema import Schema
from claimwire.errors import ClaimwireError
from claimwire.formats.base import DocumentLookup, Imported, Loss, Place, span_annotation
from claimwire.formats.conll import flat_spans, french_tokenizer
from claimwire.model import Annotation, Document, Relation

SPANS_KEY = "sc"
DOC_ID = "doc_id"
FILE_DOCUMENTS = 256
"""The docs of one file of a folder export."""
NAME_DIGITS = 5
"""The digits of a folder export's file numbers, more when it has more files."""
EXPANSION_RATIO = 100
"""How many times its size on disk a DocBin may expand to when decompressed (past
:data:`EXPANSION_FLOOR`): a DocBin of real documents expands 10–13 times (docs/security.md)."""
EXPANSION_FLOOR = 16 << 20
"""The decompressed size any DocBin may reach whatever its size on disk (a folder export's
DocBin of 256 documents: about 17 MB)."""
_CHUNK = 1 << 20
SPAN_TWICE = (
    "span(s) given again in a doc's span groups (one label, one start and end): read once, "
    "as a span in both a span group and doc.ents is"
)
"""The import's note: how many spans a doc's span groups repeat."""


def _doc(document: Document) -> Any:
    """The document tokenized, its sentence starts set in one call: spaCy's
    ``Token.is_sent_start`` setter scans the whole doc, so setting it token by token is
    quadratic in the document's tokens."""
    import numpy
    from spacy.attrs import SENT_START

    doc = french_tokenizer()(document.text)
    starts = {start for start, _ in document.sentences}
    flags = [1 if token.i == 0 or token.idx in starts else -1 for token in doc]
    doc.from_array([SENT_START], numpy.array(flags, dtype=numpy.int64).astype(numpy.uint64))
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


def docs_of(
    documents: Iterable[Document],
    annotations: Iterable[Annotation],
    ents: Sequence[str],
    losses: list[Loss],
    spans_key: str = SPANS_KEY,
) -> Iterator[Any]:
    """Each document as a spaCy ``Doc`` with its span annotations; what they could not carry
    goes to ``losses``."""
    by_doc: dict[str, list[Annotation]] = {}
    for annotation in annotations:
        by_doc.setdefault(annotation.doc_id, []).append(annotation)
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
        yield doc


class DocBinWriter:
    """Docs written to one DocBin file at ``out``, or (``folder``) to the folder ``out`` as
    ``docs-00000.spacy``, ``docs-00001.spacy``, … of :data:`FILE_DOCUMENTS` docs each, in the
    order they came (spaCy reads a folder's files in name order as text: past 100,000 files,
    every number is widened to the last one's digits). A DocBin is serialized
    whole: a folder holds one file's docs at a time, a single file all of them. ``out`` is
    the export's staging copy (renamed into place by the caller), so files are written as is."""

    def __init__(self, out: Path, folder: bool) -> None:
        self._out, self._folder = out, folder
        self._docbin, self._files = _docbin(), 0

    def __enter__(self) -> DocBinWriter:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None and (len(self._docbin) or not self._files):
            self._flush()
        if kind is None and self._folder:
            self._widen()

    def _name(self, number: int, digits: int | None = None) -> Path:
        return self._out / f"docs-{number:0{digits or NAME_DIGITS}d}.spacy"

    def _widen(self) -> None:
        """Past 10**NAME_DIGITS files, every number written with as many digits as the last
        one's, so that spaCy's name order (as text) is the docs' order too."""
        digits = len(str(self._files - 1))
        for number in range(min(self._files, 10 ** (digits - 1)) if digits > NAME_DIGITS else 0):
            self._name(number).rename(self._name(number, digits))

    def add(
        self,
        documents: Iterable[Document],
        annotations: Iterable[Annotation],
        relations: Iterable[Relation],
        ents: Sequence[str],
    ) -> list[Loss]:
        """Add the documents with their records; what they could not carry."""
        losses = [Loss("relation", r.id, r.type) for r in relations]
        for doc in docs_of(documents, annotations, ents, losses):
            self._docbin.add(doc)
            if self._folder and len(self._docbin) >= FILE_DOCUMENTS:
                self._flush()
        return losses

    def _flush(self) -> None:
        target = self._name(self._files) if self._folder else self._out
        target.write_bytes(self._docbin.to_bytes())  # ``out`` is the export's staging copy
        self._docbin, self._files = _docbin(), self._files + 1


def _docbin() -> Any:
    from spacy.tokens import DocBin

    return DocBin(store_user_data=True)


def docbin_files(path: Path) -> list[Path]:
    """``path`` if a file, else the ``*.spacy`` files spaCy's ``Corpus`` reads from the folder
    ``path``: those of its subfolders too (a folder linked under two names is read under
    both, as spaCy does; a link to a folder it is in is not followed, where spaCy would loop),
    hidden files and folders (``.name``) skipped, in :func:`number_order`. Another file, an
    empty ``.spacy`` file or no ``.spacy`` file at all is a located error."""
    if not path.is_dir():
        return [path]
    files: list[Path] = []
    folders = [(path, frozenset([path.resolve()]))]  # each with the folders it is in
    for folder, above in folders:
        for entry in folder.iterdir():
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                if (target := entry.resolve()) not in above:
                    folders.append((entry, above | {target}))
            elif entry.suffix != ".spacy":
                raise ClaimwireError("not a .spacy file; expected only .spacy files", file=entry)
            elif not entry.stat().st_size:
                raise ClaimwireError("empty file; expected a spaCy DocBin", file=entry)
            else:
                files.append(entry)
    if not files:
        raise ClaimwireError("no .spacy file in the folder", file=path)
    return sorted(files, key=lambda file: (number_order(file.relative_to(path)), file))


_DIGITS = re.compile(r"(\d+)")


def number_order(path: Path) -> tuple[tuple[tuple[str, int], ...], ...]:
    """A sort key for a relative path: each part in name order, its runs of digits compared
    as numbers (``docs-99999.spacy`` before ``docs-100000.spacy``). claimwire's order, not
    spaCy's (which sorts paths as text): files numbered without padding (``docs-2``,
    ``docs-10``) are read in the order they were numbered."""
    return tuple(
        tuple(
            (piece, 0) if k % 2 == 0 else ("", int(piece))
            for k, piece in enumerate(_DIGITS.split(part))
        )
        for part in path.parts
    )


def check_expansion(data: bytes, path: Path) -> None:
    """Refuse the DocBin ``data`` (a zlib stream) if it decompresses to more than
    :data:`EXPANSION_RATIO` times its size and :data:`EXPANSION_FLOOR`, found by decompressing
    it a chunk at a time up to that limit (spaCy decompresses it whole, then reads it)."""
    limit = max(EXPANSION_FLOOR, EXPANSION_RATIO * len(data))
    inflate, size, rest = zlib.decompressobj(), 0, data
    try:
        while not inflate.eof and size <= limit:
            size += len(chunk := inflate.decompress(rest, _CHUNK))
            rest = inflate.unconsumed_tail
            if not chunk and not rest:
                break  # a truncated stream, which spaCy refuses
    except zlib.error:
        return  # not a zlib stream, which spaCy refuses
    if size > limit:
        raise ClaimwireError(
            f"the DocBin decompresses to more than {limit:,} bytes ({EXPANSION_RATIO}× its "
            f"{len(data):,} bytes, {EXPANSION_FLOOR >> 20} MiB at least; real documents: "
            "10–13×): refused as a decompression bomb; split a real one into DocBins of "
            "fewer docs in a folder",
            file=path,
        )


def from_docbin(
    data: bytes,
    documents: Mapping[str, Document],
    schema: Schema,
    path: Path,
    author: str,
) -> Iterator[Imported]:
    """Span annotations from a DocBin whose docs carry ``user_data["doc_id"]`` (or whose text
    is a document's text), a doc's at a time (spaCy reads a DocBin whole, its token arrays;
    its docs are made one at a time); a DocBin decompressing to more than
    :func:`check_expansion` allows is a located error."""
    import spacy
    from spacy.tokens import DocBin

    check_expansion(data, path)
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
        mismatch = lookup.texts.problem(f"{path}:{number}", doc.text, document)
        if mismatch is not None:
            problems.append(f"{path}:{number}: doc {number}: {mismatch}")
            continue
        out.meet(document.id, Place(path, "doc", number))
        seen: set[tuple[str, int, int]] = set()
        grouped: set[tuple[str, int, int]] = set()
        in_groups = [(True, span) for group in doc.spans.values() for span in group]
        for is_grouped, span in [*((False, ent) for ent in doc.ents), *in_groups]:
            key = (span.label_, span.start_char, span.end_char)
            if is_grouped and key in grouped:
                out.notes[SPAN_TWICE] += 1
            if is_grouped:
                grouped.add(key)
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
