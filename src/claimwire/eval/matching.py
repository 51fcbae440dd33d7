"""The one span matcher: evaluation (gold vs system) and agreement (annotator vs annotator).

SemEval-2013 Task 9.1 schemes, as nervaluate names its counts — COR, INC, PAR, MIS, SPU:

* ``strict``  — same boundaries and label → COR; any other sufficient overlap → INC;
* ``exact``   — same boundaries → COR (label ignored); overlap → INC;
* ``partial`` — same boundaries → COR (label ignored); overlap → PAR (half credit);
* ``type``    — overlap with the same label → COR; overlap with another label → INC.

Unlike nervaluate 1.x, which walks the predictions in file order and greedily takes the first
gold span each one overlaps, assignment here is one-to-one and independent of order: the
pairs that earn COR first, then the remaining overlapping pairs by decreasing overlap, ties
broken by position. "Sufficient overlap" is nervaluate's: at least ``min_overlap`` (1 %
by default) of the gold span. Everything is vectorized with numpy; only the final greedy
pass over overlapping pairs (a small fraction of all spans) is a Python loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice

import numpy as np
from numpy.typing import NDArray

from claimwire.errors import ClaimwireError

COR, INC, PAR, MIS, SPU = range(5)
OUT = -1
"""The outcome of a span that does not take part (another label, in a per-label match)."""
OUTCOMES = ("cor", "inc", "par", "mis", "spu")
SCHEMES = ("strict", "exact", "partial", "type")
DEFAULT_MIN_OVERLAP = 0.01
"""Fraction of the gold span a prediction must cover to count as overlapping (nervaluate: 1 %)."""

MAX_PAIRS_PER_DOCUMENT = 1_000_000
"""Overlapping (gold, pred) pairs one document may make before matching refuses it: real
annotation makes at most a few thousand (the bundled release and a 10,000-document synthetic
release: see docs/evaluation.md); a pile of spans that all overlap makes n², and memory with it."""

Ints = NDArray[np.int64]


class TooManyPairs(ClaimwireError):
    """A document whose spans overlap in more pairs than :data:`MAX_PAIRS_PER_DOCUMENT`."""

    def __init__(self, doc: int, gold: int, pred: int, pairs: int) -> None:
        self.doc, self.gold, self.pred, self.pairs = doc, gold, pred, pairs
        super().__init__(self.describe(f"#{doc}"))

    def describe(self, doc_id: str) -> str:
        """The refusal, naming the document by its id."""
        return (
            f"document {doc_id!r}: {self.gold:,} and {self.pred:,} spans make {self.pairs:,}"
            f" overlapping pairs, over the limit of {MAX_PAIRS_PER_DOCUMENT:,} a document"
            " (spans piled on one another; matching them would need memory in proportion)"
        )


@dataclass(frozen=True)
class SpanSet:
    """Spans as parallel integer arrays: document, label, ``[start, end)`` and unit."""

    doc: Ints
    label: Ints
    start: Ints
    end: Ints
    unit: Ints

    @classmethod
    def from_tuples(cls, spans: Iterable[tuple[int, int, int, int, int]]) -> SpanSet:
        """From ``(doc, label, start, end, unit)`` tuples."""
        array = np.array(list(spans), dtype=np.int64).reshape(-1, 5)
        return cls(*(np.ascontiguousarray(array[:, i]) for i in range(5)))

    def __len__(self) -> int:
        return len(self.doc)

    def subset(self, mask: NDArray[np.bool_] | Ints) -> SpanSet:
        """The spans a boolean mask or an array of indices selects."""
        return SpanSet(
            self.doc[mask], self.label[mask], self.start[mask], self.end[mask], self.unit[mask]
        )


@dataclass(frozen=True)
class Match:
    """Outcome of every gold and predicted span, and who was matched with whom (-1: none)."""

    gold_outcome: NDArray[np.int8]
    pred_outcome: NDArray[np.int8]
    gold_match: Ints
    pred_match: Ints

    def counts_by_unit(self, gold: SpanSet, pred: SpanSet, units: int) -> NDArray[np.float64]:
        """``(units, 5)`` counts of COR, INC, PAR, MIS, SPU; pairs count in the gold's unit."""
        # one bincount per side; column 0 collects the spans that take no part (OUT = -1)
        cells = gold.unit * 6 + (self.gold_outcome + 1)
        table = np.bincount(cells, minlength=units * 6).reshape(units, 6)[:, 1:].astype(float)
        table[:, SPU] = np.bincount(pred.unit, weights=self.pred_outcome == SPU, minlength=units)
        return table


@contextmanager
def pairs_located(doc_ids: Iterable[str], files: str) -> Iterator[None]:
    """Within it, a :class:`TooManyPairs` is reported as a user error naming ``files`` and the
    document's id (the ``i``-th of ``doc_ids`` is the id of document position ``i``)."""
    try:
        yield
    except TooManyPairs as error:
        doc_id = next(islice(doc_ids, error.doc, None), f"#{error.doc}")
        raise ClaimwireError(error.describe(doc_id), file=files) from None


def _ranges(lo: Ints, hi: Ints) -> tuple[Ints, Ints]:
    """``(i, j)`` for every ``i`` and every ``lo[i] <= j < hi[i]``, vectorized."""
    counts = hi - lo
    owner = np.repeat(np.arange(len(lo)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, lo[owner] + offsets


def _bounds(keys: Ints, low: Ints, high: Ints, open_low: bool) -> tuple[Ints, Ints]:
    """For each ``i``, the range ``[lo[i], hi[i])`` of sorted ``keys`` in ``[low[i], high[i])``
    (or in ``(low[i], high[i])`` with ``open_low``)."""
    lo = np.searchsorted(keys, low, side="right" if open_low else "left")
    hi = np.searchsorted(keys, high, side="left")
    return lo, np.maximum(hi, lo)


Candidates = tuple[Ints, Ints, Ints, Ints, Ints, Ints]
"""Both sides' start orders; for each prediction, the range of sorted gold starts in
``[p.start, p.end)``; for each gold span, the range of sorted predicted starts in
``(g.start, g.end)``."""


def _candidates(gold: SpanSet, pred: SpanSet) -> Candidates:
    """The ranges that hold every candidate pair (both sides non-empty)."""
    big = int(max(gold.end.max(), pred.end.max())) + 1
    g_key, p_key = gold.doc * big + gold.start, pred.doc * big + pred.start
    g_order = np.argsort(g_key, kind="stable")
    p_order = np.argsort(p_key, kind="stable")
    lo_1, hi_1 = _bounds(g_key[g_order], p_key, pred.doc * big + pred.end, open_low=False)
    lo_2, hi_2 = _bounds(p_key[p_order], g_key, gold.doc * big + gold.end, open_low=True)
    return g_order, p_order, lo_1, hi_1, lo_2, hi_2


def _counted(gold: SpanSet, pred: SpanSet, found: Candidates) -> Ints | None:
    """The candidate pairs of each document (position ``d``: document ``d``) when there are
    more than :data:`MAX_PAIRS_PER_DOCUMENT` in all, else None; a document with more than
    that is refused. Counted from the ranges' sizes, without making the pairs."""
    _, _, lo_1, hi_1, lo_2, hi_2 = found
    per_pred, per_gold = hi_1 - lo_1, hi_2 - lo_2
    if int(per_pred.sum()) + int(per_gold.sum()) <= MAX_PAIRS_PER_DOCUMENT:
        return None
    size = int(max(gold.doc.max(), pred.doc.max())) + 1
    pairs = np.bincount(pred.doc, weights=per_pred, minlength=size) + np.bincount(
        gold.doc, weights=per_gold, minlength=size
    )
    worst = int(np.argmax(pairs))
    if pairs[worst] > MAX_PAIRS_PER_DOCUMENT:
        raise TooManyPairs(
            worst,
            int(np.count_nonzero(gold.doc == worst)),
            int(np.count_nonzero(pred.doc == worst)),
            int(pairs[worst]),
        )
    return pairs.astype(np.int64)


def _made(
    gold: SpanSet, pred: SpanSet, found: Candidates, min_overlap: float, same_label: bool
) -> tuple[Ints, Ints, Ints]:
    """The pairs of the candidate ranges that overlap enough, ordered by gold then
    prediction."""
    g_order, p_order, lo_1, hi_1, lo_2, hi_2 = found
    p_of_1, found_1 = _ranges(lo_1, hi_1)
    g_of_2, found_2 = _ranges(lo_2, hi_2)
    g_of_1, p_of_2 = g_order[found_1], p_order[found_2]
    g_idx = np.concatenate([g_of_1, g_of_2])
    p_idx = np.concatenate([p_of_1, p_of_2])
    canonical = np.lexsort([p_idx, g_idx])
    g_idx, p_idx = g_idx[canonical], p_idx[canonical]
    length = np.minimum(gold.end[g_idx], pred.end[p_idx]) - np.maximum(
        gold.start[g_idx], pred.start[p_idx]
    )
    keep = (length > 0) & (length >= min_overlap * (gold.end[g_idx] - gold.start[g_idx]))
    if same_label:
        keep &= gold.label[g_idx] == pred.label[p_idx]
    return g_idx[keep], p_idx[keep], length[keep]


def overlap_pairs(
    gold: SpanSet, pred: SpanSet, min_overlap: float = 0.0, same_label: bool = False
) -> tuple[Ints, Ints, Ints]:
    """Every (gold, pred) pair in one document whose overlap is > 0 and at least
    ``min_overlap`` of the gold span: ``(gold indices, pred indices, overlap lengths)``,
    ordered by gold then prediction.

    Two spans overlap when one starts inside the other: golds starting in ``[p.start, p.end)``
    plus predictions starting in ``(g.start, g.end)``, each a range of sorted starts. The cost
    is O(n log n + pairs), also when one span covers a whole document; the pairs are counted
    first, and a document with more than :data:`MAX_PAIRS_PER_DOCUMENT` is refused
    (:class:`TooManyPairs`) before any is made.
    """
    if not len(gold) or not len(pred):
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    found = _candidates(gold, pred)
    _counted(gold, pred, found)
    return _made(gold, pred, found, min_overlap, same_label)


def _groups(gold: SpanSet, pred: SpanSet, pairs: Ints) -> list[tuple[Ints, Ints]]:
    """Documents in consecutive groups, each making at most :data:`MAX_PAIRS_PER_DOCUMENT`
    candidate pairs (``pairs``: per document): each group's gold and predicted indices."""
    group_of = np.empty(len(pairs), np.int64)
    group, filled = 0, 0
    for doc, count in enumerate(pairs.tolist()):
        if filled + count > MAX_PAIRS_PER_DOCUMENT:
            group, filled = group + 1, 0
        group_of[doc] = group
        filled += count
    sides = []
    for spans in (gold, pred):
        of_span = group_of[spans.doc]
        order = np.argsort(of_span, kind="stable")
        bounds = np.cumsum(np.bincount(of_span, minlength=group + 1))[:-1]
        sides.append(np.split(order, bounds))
    return list(zip(*sides, strict=True))


def _assign(
    gold: SpanSet,
    pred: SpanSet,
    pairs: tuple[Ints, Ints, Ints],
    gold_match: Ints,
    pred_match: Ints,
) -> tuple[Ints, Ints]:
    """One-to-one assignment of free spans by decreasing overlap, ties broken by position.

    A pair whose gold and prediction overlap nothing else is taken at once (vectorized);
    only spans in contention go through the greedy pass, in a deterministic order.
    """
    g, p, length = pairs
    free = (gold_match[g] < 0) & (pred_match[p] < 0)
    g, p, length = g[free], p[free], length[free]
    if not len(g):
        return g, p
    alone = (np.bincount(g, minlength=len(gold))[g] == 1) & (
        np.bincount(p, minlength=len(pred))[p] == 1
    )
    chosen_g, chosen_p = [g[alone]], [p[alone]]
    g, p, length = g[~alone], p[~alone], length[~alone]
    if len(g):
        order = np.lexsort(
            [
                pred.label[p],
                gold.label[g],
                pred.end[p],
                pred.start[p],
                gold.end[g],
                gold.start[g],
                gold.doc[g],
                -length,
            ]
        )
        used_g: set[int] = set()
        used_p: set[int] = set()
        greedy_g: list[int] = []
        greedy_p: list[int] = []
        for gi, pi in zip(g[order].tolist(), p[order].tolist(), strict=True):
            if gi not in used_g and pi not in used_p:
                used_g.add(gi)
                used_p.add(pi)
                greedy_g.append(gi)
                greedy_p.append(pi)
        chosen_g.append(np.array(greedy_g, np.int64))
        chosen_p.append(np.array(greedy_p, np.int64))
    return np.concatenate(chosen_g), np.concatenate(chosen_p)


def _renumbered(partners: Ints, indices: Ints) -> Ints:
    """A group's partners (-1: none) as indices of the whole side (``indices``: the group's
    spans there)."""
    whole = np.full(len(partners), -1, dtype=np.int64)
    matched = partners >= 0
    whole[matched] = indices[partners[matched]]
    return whole


Pairs = tuple[Ints, Ints, Ints, NDArray[np.bool_], NDArray[np.bool_]]
"""Overlapping pairs (gold indices, predicted indices, overlap lengths) and, for each, whether
its spans have the same label and the same boundaries."""


class Matcher:
    """Matches one gold set with one prediction set under any scheme, overall or for one
    label: the overlapping pairs are found once and shared by every scheme and label.

    Pairs never exceed :data:`MAX_PAIRS_PER_DOCUMENT` at once: when a batch's documents make
    more in all (each under the limit), each match is made a group of documents at a time,
    its pairs found again and let go (documents never share a pair, so the outcome is the
    same as in one go)."""

    def __init__(
        self, gold: SpanSet, pred: SpanSet, min_overlap: float = DEFAULT_MIN_OVERLAP
    ) -> None:
        self.gold = gold
        self.pred = pred
        self.min_overlap = min_overlap
        self._groups: list[tuple[Ints, Ints]] = []
        self._pairs: dict[int | None, Pairs] = {}
        if not len(gold) or not len(pred):
            empty = np.empty(0, np.int64)
            self._pairs[None] = self._with_tests(empty, empty, empty)
            return
        found = _candidates(gold, pred)
        pairs = _counted(gold, pred, found)
        if pairs is None:
            self._pairs[None] = self._with_tests(*_made(gold, pred, found, min_overlap, False))
        else:
            self._groups = _groups(gold, pred, pairs)

    def _with_tests(self, g: Ints, p: Ints, length: Ints) -> Pairs:
        gold, pred = self.gold, self.pred
        same_label = gold.label[g] == pred.label[p]
        same_bounds = (gold.start[g] == pred.start[p]) & (gold.end[g] == pred.end[p])
        return g, p, length, same_label, same_bounds

    def _pairs_of(self, label: int | None) -> Pairs:
        if label not in self._pairs:
            g, p, length, same_label, same_bounds = self._pairs[None]
            keep = same_label & (self.gold.label[g] == label)
            self._pairs[label] = (
                g[keep],
                p[keep],
                length[keep],
                same_label[keep],
                same_bounds[keep],
            )
        return self._pairs[label]

    def match(self, scheme: str, label: int | None = None) -> Match:
        """Match under ``scheme``; with ``label``, only spans of that label take part (as
        in nervaluate's per-label tables, where a label swap is a MIS and a SPU)."""
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
        gold, pred = self.gold, self.pred
        gold_outcome = np.full(len(gold), MIS, dtype=np.int8)
        pred_outcome = np.full(len(pred), SPU, dtype=np.int8)
        gold_match = np.full(len(gold), -1, dtype=np.int64)
        pred_match = np.full(len(pred), -1, dtype=np.int64)
        if self._groups:
            for in_gold, in_pred in self._groups:
                part = Matcher(gold.subset(in_gold), pred.subset(in_pred), self.min_overlap)
                found = part.match(scheme, label)
                gold_outcome[in_gold], pred_outcome[in_pred] = (
                    found.gold_outcome,
                    found.pred_outcome,
                )
                gold_match[in_gold] = _renumbered(found.gold_match, in_pred)
                pred_match[in_pred] = _renumbered(found.pred_match, in_gold)
            return Match(gold_outcome, pred_outcome, gold_match, pred_match)
        g, p, length, same_label, same_bounds = self._pairs_of(label)
        if label is not None:
            gold_outcome[gold.label != label] = OUT
            pred_outcome[pred.label != label] = OUT

        def take(mask: NDArray[np.bool_] | None, outcome: int) -> None:
            pairs = (g, p, length) if mask is None else (g[mask], p[mask], length[mask])
            chosen_g, chosen_p = _assign(gold, pred, pairs, gold_match, pred_match)
            gold_match[chosen_g], pred_match[chosen_p] = chosen_p, chosen_g
            gold_outcome[chosen_g] = pred_outcome[chosen_p] = outcome

        if scheme == "type":
            take(same_label, COR)
        else:
            take(same_bounds & same_label if scheme == "strict" else same_bounds, COR)
        take(None, PAR if scheme == "partial" else INC)
        return Match(gold_outcome, pred_outcome, gold_match, pred_match)


def match(
    gold: SpanSet, pred: SpanSet, scheme: str, min_overlap: float = DEFAULT_MIN_OVERLAP
) -> Match:
    """Match predicted spans to gold spans under one scheme."""
    return Matcher(gold, pred, min_overlap).match(scheme)


def merge_same_label(spans: SpanSet) -> SpanSet:
    """Same-label spans of one document that share a character, merged into their union.

    The merged span keeps the unit of its first part. A set of spans and the same set with
    every span repeated merge to the same spans, so repeating a span earns nothing.
    """
    if len(spans) < 2:
        return spans
    order = np.lexsort([spans.end, spans.start, spans.label, spans.doc])
    doc, label, start, end, unit = (
        a[order] for a in (spans.doc, spans.label, spans.start, spans.end, spans.unit)
    )
    first_of_group = np.ones(len(doc), dtype=bool)
    first_of_group[1:] = (doc[1:] != doc[:-1]) | (label[1:] != label[:-1])
    group = np.cumsum(first_of_group) - 1
    big = int(end.max()) + 1
    # the furthest end reached so far in the group (groups are sorted: group*big resets it)
    reach = np.maximum.accumulate(group * big + end) - group * big
    starts_anew = first_of_group.copy()
    starts_anew[1:] |= start[1:] >= reach[:-1]
    first = np.flatnonzero(starts_anew)
    merged_end = np.maximum.reduceat(end, first)
    return SpanSet(doc[first], label[first], start[first], merged_end, unit[first])


def overlap_credit_by_unit(gold: SpanSet, pred: SpanSet, units: int) -> NDArray[np.float64]:
    """The propaganda-span scorer's character-overlap credit, per unit: columns
    ``(Σ_s Σ_t |s∩t|/|s|, |S|, Σ_t Σ_s |s∩t|/|t|, |T|)`` over same-label pairs.

    Same-label spans that overlap are first merged on each side (:func:`merge_same_label`),
    so every credit is at most 1 per span and P, R, F1 stay within [0, 1]: repeating or
    nesting spans cannot inflate a score.
    """
    gold, pred = merge_same_label(gold), merge_same_label(pred)
    g, p, length = overlap_pairs(gold, pred, same_label=True)
    table = np.zeros((units, 4), dtype=np.float64)
    table[:, 0] = np.bincount(
        pred.unit[p], weights=length / (pred.end[p] - pred.start[p]), minlength=units
    )
    table[:, 1] = np.bincount(pred.unit, minlength=units)
    table[:, 2] = np.bincount(
        gold.unit[g], weights=length / (gold.end[g] - gold.start[g]), minlength=units
    )
    table[:, 3] = np.bincount(gold.unit, minlength=units)
    return table
