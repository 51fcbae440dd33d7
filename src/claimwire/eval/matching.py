"""The one span matcher: evaluation (gold vs system) and agreement (annotator vs annotator).

SemEval-2013 Task 9.1 schemes, as nervaluate names its counts — COR, INC, PAR, MIS, SPU:

* ``strict``  — same boundaries and label → COR; any other sufficient overlap → INC;
* ``exact``   — same boundaries → COR (label ignored); overlap → INC;
* ``partial`` — same boundaries → COR (label ignored); overlap → PAR (half credit);
* ``type``    — overlap with the same label → COR; overlap with another label → INC.

Unlike nervaluate 1.x, which walks the predictions in file order and greedily takes the first
gold span each one overlaps, assignment here is one-to-one and independent of order: exact
matches first (as multisets), then the remaining overlapping pairs by decreasing overlap,
ties broken by position. "Sufficient overlap" is nervaluate's: at least ``min_overlap`` (1 %
by default) of the gold span. Everything is vectorized with numpy; only the final greedy
pass over overlapping pairs (a small fraction of all spans) is a Python loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

COR, INC, PAR, MIS, SPU = range(5)
OUTCOMES = ("cor", "inc", "par", "mis", "spu")
SCHEMES = ("strict", "exact", "partial", "type")
DEFAULT_MIN_OVERLAP = 0.01
"""Fraction of the gold span a prediction must cover to count as overlapping (nervaluate: 1 %)."""

Ints = NDArray[np.int64]


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

    def subset(self, mask: NDArray[np.bool_]) -> SpanSet:
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
        table = np.zeros((units, 5), dtype=np.float64)
        for outcome in (COR, INC, PAR, MIS):
            table[:, outcome] = np.bincount(
                gold.unit[self.gold_outcome == outcome], minlength=units
            )
        table[:, SPU] = np.bincount(pred.unit[self.pred_outcome == SPU], minlength=units)
        return table


def _exact_pairs(gold: SpanSet, pred: SpanSet, with_label: bool) -> tuple[Ints, Ints]:
    """Indices of gold and predicted spans with equal keys, matched as multisets: the r-th
    gold of a key is paired with the r-th prediction of that key."""
    if not len(gold) or not len(pred):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    label_g = gold.label if with_label else np.zeros_like(gold.label)
    label_p = pred.label if with_label else np.zeros_like(pred.label)
    keys = [
        np.concatenate(pair)
        for pair in (
            (gold.end, pred.end),
            (gold.start, pred.start),
            (label_g, label_p),
            (gold.doc, pred.doc),
        )
    ]
    side = np.concatenate([np.zeros(len(gold), np.int64), np.ones(len(pred), np.int64)])
    index = np.concatenate([np.arange(len(gold)), np.arange(len(pred))])
    order = np.lexsort([index, side, *keys])  # within a key: golds first, then predictions
    sorted_keys = [k[order] for k in keys]
    side = side[order]
    positions = np.arange(len(order))
    key_change = np.ones(len(order), dtype=bool)
    key_change[1:] = np.any([k[1:] != k[:-1] for k in sorted_keys], axis=0)
    side_change = key_change.copy()
    side_change[1:] |= side[1:] != side[:-1]
    key_start = np.maximum.accumulate(np.where(key_change, positions, 0))
    block_start = np.maximum.accumulate(np.where(side_change, positions, 0))
    is_pred = side == 1
    golds_of_key = np.where(is_pred, block_start - key_start, 0)
    rank = positions - block_start
    paired = is_pred & (rank < golds_of_key)
    return index[order][key_start[paired] + rank[paired]], index[order][paired]


def overlap_pairs(
    gold: SpanSet, pred: SpanSet, min_overlap: float = 0.0, same_label: bool = False
) -> tuple[Ints, Ints, Ints]:
    """Every (gold, pred) pair in one document whose overlap is > 0 and at least
    ``min_overlap`` of the gold span: ``(gold indices, pred indices, overlap lengths)``."""
    if not len(gold) or not len(pred):
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    order = np.lexsort([gold.start, gold.doc])
    g_doc, g_start, g_end = gold.doc[order], gold.start[order], gold.end[order]
    # running max of ends within each document (documents are sorted, so doc*big resets it)
    big = int(max(g_end.max(), pred.end.max())) + 1
    reach = np.maximum.accumulate(g_doc * big + g_end) - g_doc * big
    # golds in the same document that start before each prediction ends
    combined = g_doc * big + g_start
    hi = np.searchsorted(combined, pred.doc * big + pred.end, side="left")
    pred_index = np.arange(len(pred))
    found_g, found_p = [], []
    step = 1
    active = hi - step >= 0
    while active.any():
        p = pred_index[active]
        cand = hi[active] - step
        alive = (g_doc[cand] == pred.doc[p]) & (reach[cand] > pred.start[p])
        p, cand = p[alive], cand[alive]
        hits = g_end[cand] > pred.start[p]
        found_g.append(cand[hits])
        found_p.append(p[hits])
        active = np.zeros(len(pred), dtype=bool)
        active[p] = True
        step += 1
        active &= hi - step >= 0
    g_sorted = np.concatenate(found_g) if found_g else np.empty(0, np.int64)
    p_idx = np.concatenate(found_p) if found_p else np.empty(0, np.int64)
    g_idx = order[g_sorted]
    length = np.minimum(gold.end[g_idx], pred.end[p_idx]) - np.maximum(
        gold.start[g_idx], pred.start[p_idx]
    )
    keep = (length > 0) & (length >= min_overlap * (gold.end[g_idx] - gold.start[g_idx]))
    if same_label:
        keep &= gold.label[g_idx] == pred.label[p_idx]
    return g_idx[keep], p_idx[keep], length[keep]


def _assign(
    gold: SpanSet,
    pred: SpanSet,
    pairs: tuple[Ints, Ints, Ints],
    gold_match: Ints,
    pred_match: Ints,
) -> tuple[Ints, Ints]:
    """Greedy one-to-one assignment of free spans by decreasing overlap; ties by position."""
    g, p, length = pairs
    free = (gold_match[g] < 0) & (pred_match[p] < 0)
    g, p, length = g[free], p[free], length[free]
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
    chosen_g: list[int] = []
    chosen_p: list[int] = []
    used_g: set[int] = set()
    used_p: set[int] = set()
    for gi, pi in zip(g[order].tolist(), p[order].tolist(), strict=True):
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            chosen_g.append(gi)
            chosen_p.append(pi)
    return np.array(chosen_g, np.int64), np.array(chosen_p, np.int64)


def match(
    gold: SpanSet, pred: SpanSet, scheme: str, min_overlap: float = DEFAULT_MIN_OVERLAP
) -> Match:
    """Match predicted spans to gold spans under one scheme."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    gold_outcome = np.full(len(gold), MIS, dtype=np.int8)
    pred_outcome = np.full(len(pred), SPU, dtype=np.int8)
    gold_match = np.full(len(gold), -1, dtype=np.int64)
    pred_match = np.full(len(pred), -1, dtype=np.int64)

    def take(matched: tuple[Ints, Ints], outcome: int) -> None:
        g, p = matched
        gold_match[g], pred_match[p] = p, g
        gold_outcome[g] = pred_outcome[p] = outcome

    g, p, length = overlap_pairs(gold, pred, min_overlap)
    if scheme == "type":
        same = gold.label[g] == pred.label[p]
        take(_assign(gold, pred, (g[same], p[same], length[same]), gold_match, pred_match), COR)
    else:
        take(_exact_pairs(gold, pred, with_label=scheme == "strict"), COR)
    second = PAR if scheme == "partial" else INC
    take(_assign(gold, pred, (g, p, length), gold_match, pred_match), second)
    return Match(gold_outcome, pred_outcome, gold_match, pred_match)


def overlap_credit_by_unit(gold: SpanSet, pred: SpanSet, units: int) -> NDArray[np.float64]:
    """The propaganda-span scorer's character-overlap credit, per unit: columns
    ``(Σ_s Σ_t |s∩t|/|s|, |S|, Σ_t Σ_s |s∩t|/|t|, |T|)`` over same-label pairs."""
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
