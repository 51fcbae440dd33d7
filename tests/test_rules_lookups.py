"""The rules system's lookups by offset in a long document: a figure's sentence, the
attribution whose content holds it, whether a sentence is attributed. They were scans of the
whole document for each figure or sentence (an 8 MB digest of 150,000 sentences ran past
10 minutes); they are binary searches now, and give what the scans gave."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from claimwire.systems.rules import _ContentsBySentence, _Covered

spans = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 20)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=12,
)


@given(spans, st.integers(0, 80), st.integers(0, 20))
def test_a_sentence_is_met_by_a_span_exactly_when_the_scan_said_so(
    covered: list[tuple[int, int]], start: int, length: int
) -> None:
    end = start + length
    scanned = any(s <= start < e or start <= s < end for s, e in covered)
    assert _Covered(covered).meets(start, end) == scanned


@given(
    st.lists(st.integers(1, 15), min_size=1, max_size=8),
    st.lists(st.tuples(st.integers(0, 7), st.integers(0, 15), st.integers(0, 15)), max_size=12),
    st.integers(0, 130),
)
def test_the_attribution_holding_a_figure_is_the_first_the_scan_found(
    lengths: list[int], placed: list[tuple[int, int, int]], point: int
) -> None:
    """Contents each lie inside one sentence (as the rules cut them from their cue's)."""
    sentences, at = [], 0
    for length in lengths:
        sentences.append((at, at + length))
        at += length + 1  # a space between sentences
    attributed = []
    for number, (which, a, b) in enumerate(placed):
        start, end = sentences[which % len(sentences)]
        first, last = sorted((start + a % (end - start), start + b % (end - start)))
        attributed.append(((first, last + 1), f"source-{number}", f"cue-{number}", "direct"))
    starts = [start for start, _ in sentences]
    inside = [i for i, (s, e) in enumerate(sentences) if s <= point < e]
    scanned = next((item for item in attributed if item[0][0] <= point < item[0][1]), None)
    if inside:
        assert _ContentsBySentence(attributed, starts).holding(inside[0], point) == scanned
    else:
        assert scanned is None
