"""``convert --to spacy``'s docs: sentence starts set in time linear in a document's tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from claimwire.formats import spacy_docbin
from claimwire.formats.conll import french_tokenizer
from claimwire.model import Document

SENTENCE = "Le ministre a annoncé un nouveau projet pour la région."


def _document(sentences: int) -> Document:
    text = " ".join([SENTENCE] * sentences)
    step = len(SENTENCE) + 1
    spans = tuple((k * step, k * step + len(SENTENCE)) for k in range(sentences))
    return Document("big", text, "fr", "train", ((0, len(text)),), spans)


def _scanning_tokenizer(scanned: list[int]) -> Callable[[str], Any]:
    """spaCy's French tokenizer, its docs counting the tokens ``Doc.has_annotation`` scans
    (what spaCy's ``Token.is_sent_start`` setter calls on the whole doc)."""
    from spacy.tokens import Doc

    class ScanningDoc(Doc):  # type: ignore[misc]
        def has_annotation(self, attr: str, *, require_complete: bool = False) -> bool:
            scanned.append(len(self))
            return bool(super().has_annotation(attr, require_complete=require_complete))

    tokenize = french_tokenizer()

    def tokenizer(text: str) -> Any:
        doc = tokenize(text)
        words, spaces = [t.text for t in doc], [bool(t.whitespace_) for t in doc]
        return ScanningDoc(doc.vocab, words=words, spaces=spaces)

    return tokenizer


def test_sentence_starts_are_set_without_scanning_the_doc_per_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scanned: dict[int, list[int]] = {}
    for sentences in (50, 200):
        scanned[sentences] = []
        monkeypatch.setattr(
            spacy_docbin, "french_tokenizer", lambda s=scanned[sentences]: _scanning_tokenizer(s)
        )
        document = _document(sentences)
        (doc,) = spacy_docbin.docs_of([document], [], [], [])
        assert [(s.start_char, s.end_char) for s in doc.sents] == list(document.sentences)
    # four times the tokens, at most four times the tokens scanned (token by token: sixteen)
    assert sum(scanned[200]) <= 4 * sum(scanned[50])
