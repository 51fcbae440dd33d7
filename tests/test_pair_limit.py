"""Span matching counts a document's overlapping pairs before making them and refuses a
document past :data:`MAX_PAIRS_PER_DOCUMENT` (a pile of mutually overlapping spans makes n²)."""

from __future__ import annotations

import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from claimwire.eval.matching import MAX_PAIRS_PER_DOCUMENT, SpanSet, TooManyPairs, match

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
PILE = math.isqrt(MAX_PAIRS_PER_DOCUMENT) + 1
"""Spans a side: a staircase of them (each overlapping every other) is just past the limit."""


def _staircase(n: int, length: int) -> list[tuple[int, int]]:
    """``n`` spans that all overlap one another: span i is [i·L/2n, L/2 + i·L/2n)."""
    return [(i * (length // 2) // n, length // 2 + i * (length // 2) // n) for i in range(n)]


def _pile(path: Path, author: str) -> tuple[Path, str]:
    document = json.loads((RELEASE / "documents.jsonl").open(encoding="utf-8").readline())
    spans = _staircase(PILE, len(document["text"]))
    lines = (
        json.dumps(
            {"id": f"{author}-{i}", "doc_id": document["id"], "layer": "claims", "label": "CLAIM"}
            | {"start": start, "end": end, "attributes": {}}
        )
        for i, (start, end) in enumerate(spans)
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, document["id"]


@pytest.mark.parametrize("command", ["agree", "score"])
def test_a_pile_of_overlapping_spans_is_one_located_refusal(tmp_path: Path, command: str) -> None:
    (a, doc_id), (b, _) = _pile(tmp_path / "a.jsonl", "a"), _pile(tmp_path / "b.jsonl", "b")
    if command == "agree":
        args: tuple[str | Path, ...] = ("annotate", "agree", a, b, "--release", RELEASE)
    else:
        args = ("eval", "score", a, "--gold", b, "--task", "claims", "--release", RELEASE)
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert f"document {doc_id!r}" in errors[0] and "a" in errors[0] and "b" in errors[0]
    assert f"{PILE:,} and {PILE:,} spans make {PILE * PILE:,} overlapping pairs" in errors[0]
    assert f"limit of {MAX_PAIRS_PER_DOCUMENT:,}" in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl"]


def _sides(n: int, docs: int = 1) -> tuple[SpanSet, SpanSet]:
    rows = [(d, 0, s, e, 0) for d in range(docs) for s, e in _staircase(n, 10 * n)]
    return SpanSet.from_tuples(rows), SpanSet.from_tuples(rows)


def test_the_pairs_are_counted_without_being_made() -> None:
    gold, pred = _sides(PILE)
    tracemalloc.start()
    try:
        with pytest.raises(TooManyPairs) as refused:
            match(gold, pred, "strict")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (refused.value.doc, refused.value.pairs) == (0, PILE * PILE)
    # making the pairs would take 8 bytes each several times over; counting takes O(spans)
    assert peak < 100 * 8 * PILE


def test_the_limit_is_per_document_not_per_batch() -> None:
    below = math.isqrt(MAX_PAIRS_PER_DOCUMENT)  # exactly the limit, in each of three documents
    gold, pred = _sides(below, docs=3)
    found = match(gold, pred, "strict")
    assert np.all(found.gold_outcome == 0)  # every span matched to its twin: COR
