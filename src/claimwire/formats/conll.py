"""CoNLL / BIO: one token and its tag per line, a blank line between sentences.

Tokens come from the release's sentences cut by spaCy's French tokenizer (``spacy.blank("fr")``,
no model), whitespace tokens left out, so an export and a re-tokenized document always agree.
Each document starts with ``-DOCSTART-<TAB>doc_id`` (readers of CoNLL-2003 files skip lines
that start with ``-DOCSTART-``). Tags are IOB2 (``B-CLAIM``, ``I-CLAIM``, ``O``) or BIOES
(``S-`` for a one-token span, ``E-`` for the last token).

BIO is flat: it holds one label per token, so only the chosen span labels are written and a
span overlapping an earlier one (by start, longest first) is a reported ``overlap`` loss. A
span whose ends cut a token is widened to whole tokens (``expanded`` loss). Import reads the
last column, so a token classifier's ``token gold predicted`` output is read as its
predictions; its tokens must be the document's tokens (else a located error). Spans are read
as conlleval and seqeval read them: a blank line (a sentence's end) or ``-DOCSTART-`` ends
every span, and an ``I-`` that continues no span opens one (IOB1, CoNLL-2003's own scheme; a
note counts them).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claimwire.annotation.schema import Schema
from claimwire.formats.base import Imported, Loss, Place, span_annotation
from claimwire.model import Annotation, Document

DOCSTART = "-DOCSTART-"
SCHEMES = ("IOB2", "BIOES")
OPENED_BY_I = (
    "span(s) opened by an I- (or E-) tag where IOB2 has B- (IOB1 tagging, or a sentence "
    "starting with I-): read as seqeval reads them"
)
"""The import's note: how many spans no ``B-``/``S-`` tag opened."""
Token = tuple[str, int, int]


@functools.cache
def french_tokenizer() -> Any:
    import spacy

    return spacy.blank("fr").tokenizer


def sentence_tokens(document: Document) -> list[list[Token]]:
    """``(text, start, end)`` tokens of each sentence of the release (whitespace left out)."""
    tokenize = french_tokenizer()
    sentences = []
    for start, end in document.sentences or ((0, len(document.text)),):
        tokens = [
            (t.text, start + t.idx, start + t.idx + len(t.text))
            for t in tokenize(document.text[start:end])
            if not t.is_space and t.text.strip()
        ]
        sentences.append(tokens)
    return sentences


def flat_spans(
    annotations: Iterable[Annotation], labels: Sequence[str], losses: list[Loss]
) -> list[Annotation]:
    """The spans of ``labels``, without overlaps (an overlapping later span is a loss)."""
    chosen = sorted(
        (a for a in annotations if a.is_span and a.label in labels),
        key=lambda a: (a.start or 0, -(a.end or 0)),
    )
    kept: list[Annotation] = []
    for annotation in chosen:
        assert annotation.start is not None
        if kept and annotation.start < (kept[-1].end or 0):
            losses.append(
                Loss("overlap", annotation.id, f"{annotation.label} overlaps {kept[-1].id}")
            )
            continue
        kept.append(annotation)
    return kept


def tags_of(
    document: Document,
    annotations: Iterable[Annotation],
    labels: Sequence[str],
    scheme: str = "IOB2",
    sentences: list[list[Token]] | None = None,
) -> tuple[list[list[Token]], list[list[str]], list[Loss]]:
    """The document's tokens and one tag per token, and what BIO could not carry.
    ``sentences``: the document's :func:`sentence_tokens`, when already computed."""
    losses: list[Loss] = []
    sentences = sentence_tokens(document) if sentences is None else sentences
    tags = [["O"] * len(tokens) for tokens in sentences]
    positions = [(s, i, tok) for s, tokens in enumerate(sentences) for i, tok in enumerate(tokens)]
    spans = flat_spans(annotations, labels, losses)
    cursor = 0
    for annotation in spans:
        assert annotation.start is not None and annotation.end is not None
        while cursor < len(positions) and positions[cursor][2][2] <= annotation.start:
            cursor += 1
        covered = []
        index = cursor
        while index < len(positions) and positions[index][2][1] < annotation.end:
            covered.append(positions[index])
            index += 1
        if not covered:
            losses.append(Loss("no-token", annotation.id, f"{annotation.label} covers no token"))
            continue
        if covered[0][2][1] != annotation.start or covered[-1][2][2] != annotation.end:
            losses.append(
                Loss(
                    "expanded",
                    annotation.id,
                    f"[{annotation.start}, {annotation.end}) → "
                    f"[{covered[0][2][1]}, {covered[-1][2][2]}) (whole tokens)",
                )
            )
        losses += [
            Loss("attribute", annotation.id, f"{name}={value!r}")
            for name, value in annotation.attributes.items()
        ]
        sentence_of = [s for s, _, _ in covered]
        if len(set(sentence_of)) > 1:
            losses.append(Loss("cross-sentence", annotation.id, "tagged in each sentence"))
        for position, (s, i, _) in enumerate(covered):
            first = position == 0 or sentence_of[position - 1] != s
            last = position == len(covered) - 1 or sentence_of[position + 1] != s
            tags[s][i] = _tag(scheme, first, last) + annotation.label
    return sentences, tags, losses


def _tag(scheme: str, first: bool, last: bool) -> str:
    if scheme == "BIOES":
        return ("S-" if last else "B-") if first else ("E-" if last else "I-")
    return "B-" if first else "I-"


def to_conll(
    documents: Iterable[Document],
    annotations: Iterable[Annotation],
    labels: Sequence[str],
    scheme: str = "IOB2",
) -> tuple[Iterator[str], list[Loss]]:
    """The CoNLL lines of every document (streamed), and the losses (filled as it streams)."""
    by_doc: dict[str, list[Annotation]] = {}
    for annotation in annotations:
        by_doc.setdefault(annotation.doc_id, []).append(annotation)
    losses: list[Loss] = []

    def lines() -> Iterator[str]:
        for document in documents:
            sentences, tags, lost = tags_of(document, by_doc.get(document.id, []), labels, scheme)
            losses.extend(lost)
            yield f"{DOCSTART}\t{document.id}\n\n"
            for tokens, sentence_tags in zip(sentences, tags, strict=True):
                yield "".join(
                    f"{t[0]}\t{tag}\n" for t, tag in zip(tokens, sentence_tags, strict=True)
                )
                yield "\n"

    return lines(), losses


@dataclass(slots=True)
class _Block:
    doc_id: str
    line: int
    rows: list[tuple[int, str, str]]
    breaks: set[int]
    """The rows that start a sentence (follow a blank line)."""


def _blocks(lines: Iterable[str], path: Path, out: Imported) -> Iterator[_Block]:
    """The file's blocks; a line outside a block is a problem of ``out``."""
    block: _Block | None = None
    for lineno, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")  # Windows line ends (CRLF) are line ends
        if lineno == 1:
            line = line.removeprefix("\ufeff")  # a byte-order mark is not a token
        if line.startswith(DOCSTART):
            if block is not None:
                yield block
            fields = line.split()
            block = _Block(fields[1] if len(fields) == 2 else "", lineno, [], set())
            continue
        if not line.strip():
            if block is not None and block.rows:
                block.breaks.add(len(block.rows))
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if block is None or len(fields) < 2:
            out.problems.append(
                f"{path}:{lineno}: expected 'TOKEN<TAB>TAG' after a '{DOCSTART}<TAB>doc_id' line"
            )
            continue
        block.rows.append((lineno, fields[0], fields[-1]))
    if block is not None:
        yield block


def spans_of(tags: Sequence[str], breaks: Collection[int] = ()) -> Iterator[tuple[int, int, str]]:
    """``(first token, last token + 1, label)`` from IOB1/IOB2/BIOES tags, as conlleval and
    seqeval read them: an ``I-`` that does not continue a span of its label starts one, and
    a sentence's start (an index in ``breaks``) ends every span."""
    start, label = -1, ""
    for index, tag in enumerate([*tags, "O"]):
        prefix, _, kind = tag.partition("-")
        continues = prefix in ("I", "E") and kind == label and start >= 0 and index not in breaks
        if start >= 0 and not continues:
            yield start, index, label
            start, label = -1, ""
        if prefix in ("B", "S", "I", "E") and not continues:
            start, label = index, kind
        if prefix in ("E", "S") and start >= 0:
            yield start, index + 1, label
            start, label = -1, ""


def from_conll(
    lines: Iterable[str],
    documents: Mapping[str, Document],
    schema: Schema,
    path: Path,
    author: str,
) -> Iterator[Imported]:
    """Character spans from a CoNLL file whose tokens are the documents' tokens, a block's
    (a document's) at a time."""
    out = Imported()
    problems = out.problems
    for block in _blocks(lines, path, out):
        yield out.take()
        problems = out.problems
        document = documents.get(block.doc_id)
        if document is None:
            problems.append(
                f"{path}:{block.line}: {block.doc_id!r} is not a document of the release"
            )
            continue
        tags = [tag for _, _, tag in block.rows]
        bad = next((i for i, tag in enumerate(tags) if not _valid(tag)), None)
        if bad is not None:
            problems.append(
                f"{path}:{block.rows[bad][0]}: tag {tags[bad]!r}: expected O or B-/I-/E-/S-LABEL"
            )
            continue
        tokens = [t for sentence in sentence_tokens(document) for t in sentence]
        read = [token for _, token, _ in block.rows]
        if read != [t[0] for t in tokens]:
            at = next(
                (i for i, (a, b) in enumerate(zip(read, tokens, strict=False)) if a != b[0]),
                min(len(read), len(tokens)),
            )
            if at < len(block.rows):
                line = block.rows[at][0]
                expected = repr(tokens[at][0]) if at < len(tokens) else "the end of the document"
            else:
                line = block.rows[-1][0] if block.rows else block.line
                expected = f"{len(tokens)} tokens, got {len(block.rows)}"
            problems.append(
                f"{path}:{line}: token {at + 1} of {document.id}: expected {expected} "
                "(the document's tokens, as `claimwire convert --to conll` writes them)"
            )
            continue
        out.meet(document.id, Place(path, "line", block.line))
        for number, (first, last, label) in enumerate(spans_of(tags, block.breaks), start=1):
            if not tags[first].startswith(("B-", "S-")):
                out.notes[OPENED_BY_I] += 1
            start, end = tokens[first][1], tokens[last - 1][2]
            layer = schema.labels[label].layer if label in schema.labels else ""
            out.annotations.append(
                (
                    path,
                    block.rows[first][0],
                    span_annotation(
                        f"{document.id}:{author}-{number}",
                        document.id,
                        layer,
                        label,
                        document.text,
                        start,
                        end,
                        author,
                    ),
                )
            )
    yield out.take()


def _valid(tag: str) -> bool:
    prefix, dash, label = tag.partition("-")
    return tag == "O" or (prefix in ("B", "I", "E", "S") and bool(dash) and bool(label))
