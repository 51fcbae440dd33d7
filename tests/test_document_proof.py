"""A block of documents is proved clean by counting the quotes its records imply, never by
encoding the texts again: the count is the one their encoding has, for any document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire import model, strict_json
from claimwire.errors import ClaimwireError
from claimwire.model import Document, read_records

text = st.text(st.sampled_from('ab"\\é’\n\t\u2028x'), max_size=12)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
document = st.builds(
    lambda i, body, lang, meta: Document(
        f"d{i}{body[:3]}", body, lang, "test", ((0, 1),), ((0, 1), (1, 2)), meta
    ),
    st.integers(0, 9),
    text,
    st.none() | text,
    st.dictionaries(text, json_value, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(document, min_size=1, max_size=5))
def test_documents_quotes_are_counted_as_their_encoding_has_them(
    documents: list[Document],
) -> None:
    encoded = model._ENCODER.encode_lines(documents)
    assert model._documents_quoted(documents) == strict_json.quoted_strings(encoded)


class _Watched:
    """The model's encoder, noting what it re-encodes."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.lines: list[int] = []

    def encode_lines(self, records: list[Any]) -> bytes:
        self.lines.append(len(records))
        return bytes(self.real.encode_lines(records))

    def encode(self, value: Any) -> bytes:
        return bytes(self.real.encode(value))


def _line(document: Document, **changes: Any) -> str:
    return json.dumps({**document.to_dict(), **changes}, ensure_ascii=False)


def test_documents_are_read_without_encoding_them_again_and_bad_ones_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = [
        Document(f"d{i}", f'Le "texte" {i} ’', "fr", "test", ((0, 5),), ((0, 5),), {"n": i})
        for i in range(20)
    ]
    path = tmp_path / "documents.jsonl"
    path.write_text("".join(_line(d) + "\n" for d in documents), "utf-8")
    watched = _Watched(model._ENCODER)
    monkeypatch.setattr(model, "_ENCODER", watched)
    assert list(read_records(path, Document)) == documents
    assert not watched.lines  # no text encoded again
    twice = _line(documents[3])[:-1] + ', "split": "train"}'  # a key named twice
    path.write_text("".join(_line(d) + "\n" for d in documents[:3]) + twice + "\n", "utf-8")
    with pytest.raises(ClaimwireError, match=r"documents.jsonl:4.*split"):
        list(read_records(path, Document))
