"""JSON on stdout is written as it is made: the same text as ``json.dumps(indent=2)``, and a
list that grows with the corpus (`corpus diff --json`'s added ids) is never one string."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimwire.cli import common, corpus
from claimwire.cli.common import json_chunks
from claimwire.corpus.changes import AnnotationChanges, DocumentChanges
from claimwire.spool import Spool

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
)
keys = st.one_of(st.text(), st.integers(), st.booleans(), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=20,
)


@given(values)
def test_the_chunks_are_json_dumps(value: Any) -> None:
    assert "".join(json_chunks(value)) == json.dumps(value, ensure_ascii=False, indent=2)


def test_a_spool_is_written_as_a_list() -> None:
    spool = Spool(f"id-{i}" for i in range(50))
    text = "".join(json_chunks({"added": spool, "empty": Spool()}))
    assert text == json.dumps(
        {"added": [f"id-{i}" for i in range(50)], "empty": []}, ensure_ascii=False, indent=2
    )


class Writes(io.StringIO):
    """stdout that notes the longest single write."""

    longest = 0

    def write(self, text: str) -> int:
        self.longest = max(self.longest, len(text))
        return super().write(text)


def test_corpus_diff_json_prints_the_added_ids_as_they_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    added = Spool(f"document-{i:06}:claim-{i}" for i in range(100_000))
    changes = (DocumentChanges(), AnnotationChanges(added=added))
    monkeypatch.setattr(corpus, "open_release", lambda path: type("R", (), {"path": path})())
    monkeypatch.setattr(corpus, "diff_releases", lambda before, after: changes)
    out = Writes()
    monkeypatch.setattr(sys, "stdout", out)
    corpus.diff(str(tmp_path / "a"), str(tmp_path / "b"), as_json=True)
    expected = {"documents": changes[0].to_dict(), "annotations": changes[1].to_dict()}
    assert out.getvalue() == json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
    assert len(out.getvalue()) > 3_000_000
    assert out.longest <= 2 * common._WRITE  # before: the whole text in one write
