"""``convert --to spacy``'s docs: sentence starts set in time linear in a document's tokens;
``--from spacy``: a DocBin decompressing far past its size (a decompression bomb) refused."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import srsly

from claimwire.formats import spacy_docbin
from claimwire.formats.conll import french_tokenizer
from claimwire.model import Document

from .helpers import one_error_line, release_with_test_claims, run_cli

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


def _docbin_of_one_string(size: int) -> bytes:
    """A valid DocBin of no docs whose one string is ``size`` bytes: it compresses ~1000×."""
    message = {"version": 3, "attrs": [65, 73], "tokens": b"", "spaces": b"", "lengths": b""}
    strings = {"strings": ["x" * size], "cats": [], "flags": [], "span_groups": []}
    return zlib.compress(srsly.msgpack_dumps({**message, **strings, "user_data": []}), 9)


@pytest.mark.parametrize("folder", [False, True])
def test_a_docbin_bomb_is_refused_with_its_file(tmp_path: Path, folder: bool) -> None:
    release = release_with_test_claims(tmp_path, 4)
    source = tmp_path / "train"
    if folder:  # a real export, and a bomb among its DocBins
        exported = run_cli(
            "convert", release, "--to", "spacy", "--out", source, "--release", release
        )
        assert exported.returncode == 0, exported
        source.mkdir(exist_ok=True)
    bomb = source / "docs-00001.spacy" if folder else tmp_path / "bomb.spacy"
    bomb.write_bytes(_docbin_of_one_string(spacy_docbin.EXPANSION_FLOOR + (1 << 20)))
    out = tmp_path / "imported.jsonl"
    done = run_cli(
        "convert", source if folder else bomb, "--from", "spacy", "--out", out, "--release", release
    )
    assert done.returncode == 1, done
    assert one_error_line(done.stderr), done.stderr
    assert f"{bomb}: the DocBin decompresses to more than 16,777,216 bytes" in done.stderr
    assert not out.exists()


def test_a_dense_docbin_under_the_floor_is_read(tmp_path: Path) -> None:
    release = release_with_test_claims(tmp_path, 2)
    dense = tmp_path / "dense.spacy"
    dense.write_bytes(_docbin_of_one_string(4 << 20))  # 4 MiB from ~4 KB: under the floor
    out = tmp_path / "imported.jsonl"
    done = run_cli("convert", dense, "--from", "spacy", "--out", out, "--release", release)
    # read, not refused as a bomb: it holds no doc, which an import refuses (nothing written)
    assert done.returncode == 1 and "no doc in the DocBin; nothing written" in done.stderr, done
    assert "decompresses to more than" not in done.stderr and not out.exists()
