"""Span matching counts a document's overlapping pairs before making them and refuses a
document past :data:`MAX_PAIRS_PER_DOCUMENT` (a pile of mutually overlapping spans makes n²)."""

from __future__ import annotations

import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from claimwire.eval import matching
from claimwire.eval.matching import (
    MAX_PAIRS_PER_DOCUMENT,
    SCHEMES,
    Matcher,
    SpanSet,
    TooManyPairs,
    match,
)

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


def _peak_of_match(gold: SpanSet, pred: SpanSet) -> int:
    tracemalloc.start()
    try:
        match(gold, pred, "strict")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_batch_of_documents_each_under_the_limit_matches_in_flat_memory() -> None:
    """Documents each just under the limit, many in one batch: their pairs are made a group
    of documents at a time, so memory is that of one document's, not the batch's."""
    below = math.isqrt(MAX_PAIRS_PER_DOCUMENT)
    one = _peak_of_match(*_sides(below, docs=1))
    six = _peak_of_match(*_sides(below, docs=6))
    assert six < 1.5 * one, (one, six)


def _random_sides(seed: int, docs: int) -> tuple[SpanSet, SpanSet]:
    """Spans of three labels scattered on ``docs`` short documents: nested, crossing, equal
    and labelled differently, so every scheme's outcomes occur."""
    rng = np.random.default_rng(seed)
    sides = []
    for _ in range(2):
        count = docs * 12
        doc = rng.integers(0, docs, count)
        start = rng.integers(0, 60, count)
        end = start + rng.integers(1, 25, count)
        rows = zip(doc, rng.integers(0, 3, count), start, end, doc, strict=True)
        sides.append(SpanSet.from_tuples(rows))
    return sides[0], sides[1]


@pytest.mark.parametrize("seed", range(5))
def test_matching_a_group_of_documents_at_a_time_changes_no_outcome(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    gold, pred = _random_sides(seed, docs=40)
    whole = Matcher(gold, pred)
    most = int(matching.overlap_pairs(gold, pred)[0].size)
    # a limit between the largest document's pairs and the whole batch's: many groups
    monkeypatch.setattr(matching, "MAX_PAIRS_PER_DOCUMENT", most // 8)
    grouped = Matcher(gold, pred)
    for scheme in SCHEMES:
        for label in (None, 0, 1, 2):
            expected, found = whole.match(scheme, label), grouped.match(scheme, label)
            for name in ("gold_outcome", "pred_outcome", "gold_match", "pred_match"):
                assert np.array_equal(getattr(found, name), getattr(expected, name)), name
