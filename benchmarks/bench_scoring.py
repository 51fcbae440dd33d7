"""Span scoring speed and memory, side by side with nervaluate in one process.

Synthetic data: 10,000 documents, ~200,000 gold and ~200,000 predicted spans over 4 labels
(about 70 % exact, 15 % with shifted boundaries or a wrong label, 15 % missed or spurious).
No prediction overlaps two gold spans and no two predictions compete for one gold span, so
nervaluate is unambiguous there; the benchmark asserts that every count is identical.

Measured: claimwire's four schemes (strict, exact, partial, type) overall and per label,
against nervaluate's ``Evaluator.evaluate()`` (which computes the same); 1000 bootstrap
resamples over the 10,000 documents; peak RSS. Targets: ≥ 20× nervaluate, bootstrap < 1 s,
memory < 1 GB. Run: ``python benchmarks/bench_scoring.py [--documents N]``.
"""

from __future__ import annotations

import argparse
import random

import numpy as np
from measure import MB, PeakRss, timed
from nervaluate import Evaluator
from rich.console import Console
from rich.table import Table

from claimwire.eval.matching import OUTCOMES, SCHEMES, Matcher, SpanSet
from claimwire.eval.metrics import bootstrap_interval, span_prf

LABELS = ["CLAIM", "SOURCE", "CUE", "NUM_STAT"]
NERVALUATE = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}


def synthetic(documents: int, spans_per_doc: int, seed: int = 12345) -> tuple[list, list]:  # type: ignore[type-arg]
    """Per document, lists of (label, start, end) for gold and predictions."""
    rng = random.Random(seed)
    gold_docs, pred_docs = [], []
    for _ in range(documents):
        gold, pred = [], []
        position = 0
        for _ in range(spans_per_doc):
            position += rng.randint(5, 30)
            length = rng.randint(3, 60)
            label = rng.randrange(len(LABELS))
            start, end = position, position + length
            roll = rng.random()
            if roll < 0.70:
                gold.append((label, start, end))
                pred.append((label, start, end))
            elif roll < 0.80:  # shifted boundaries, inside the gold span's own region
                gold.append((label, start, end))
                shift_start = rng.randint(start, end - 2)
                pred.append((label, shift_start, rng.randint(shift_start + 1, end)))
            elif roll < 0.85:  # wrong label
                gold.append((label, start, end))
                pred.append(((label + 1) % len(LABELS), start, end))
            elif roll < 0.925:  # missed
                gold.append((label, start, end))
            else:  # spurious
                pred.append((label, start, end))
            position = end
        gold_docs.append(gold)
        pred_docs.append(pred)
    return gold_docs, pred_docs


def to_spanset(docs: list) -> SpanSet:  # type: ignore[type-arg]
    """Columns straight from the nested lists (what a loader of JSONL records does)."""
    flat = [value for d, doc in enumerate(docs) for span in doc for value in (d, *span, d)]
    rows = np.array(flat, dtype=np.int64).reshape(-1, 5)
    return SpanSet(*(np.ascontiguousarray(rows[:, i]) for i in range(5)))


def ours(gold: SpanSet, pred: SpanSet, units: int) -> dict[str, np.ndarray]:
    """Every scheme overall and per label: the counts nervaluate reports."""
    out = {}
    matcher = Matcher(gold, pred)
    for scheme in SCHEMES:
        out[scheme] = matcher.match(scheme).counts_by_unit(gold, pred, units)
        for index, label in enumerate(LABELS):
            found = matcher.match(scheme, label=index)
            out[f"{scheme}/{label}"] = found.counts_by_unit(gold, pred, units)
    return out


def as_dicts(docs: list) -> list:  # type: ignore[type-arg]
    """nervaluate's input: per document, dicts with an inclusive end."""
    return [[{"label": LABELS[lab], "start": s, "end": e - 1} for lab, s, e in doc] for doc in docs]


def theirs(gold: list, pred: list) -> dict:  # type: ignore[type-arg]
    return Evaluator(gold, pred, tags=LABELS, loader="dict").evaluate()


def assert_identical(our: dict[str, np.ndarray], their: dict) -> None:  # type: ignore[type-arg]
    fields = ("correct", "incorrect", "partial", "missed", "spurious")
    for scheme in SCHEMES:
        expected = [getattr(their["overall"][NERVALUATE[scheme]], f) for f in fields]
        assert our[scheme].sum(0).tolist() == expected, (scheme, our[scheme].sum(0), expected)
        for label in LABELS:
            expected = [getattr(their["entities"][label][NERVALUATE[scheme]], f) for f in fields]
            assert our[f"{scheme}/{label}"].sum(0).tolist() == expected, (scheme, label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--spans", type=int, default=20, help="candidate spans per document")
    args = parser.parse_args()
    console = Console()
    gold_docs, pred_docs = synthetic(args.documents, args.spans)
    seconds: dict[str, float] = {}
    with PeakRss() as memory:
        with timed(seconds, "claimwire input"):
            gold, pred = to_spanset(gold_docs), to_spanset(pred_docs)
        with timed(seconds, "nervaluate input"):
            gold_dicts, pred_dicts = as_dicts(gold_docs), as_dicts(pred_docs)
        with timed(seconds, "claimwire"):
            counts = ours(gold, pred, args.documents)
        with timed(seconds, "bootstrap"):
            strict = counts["strict"]
            interval = bootstrap_interval(strict, lambda s: np.asarray(span_prf(s)[2]), 1000)
        with timed(seconds, "nervaluate"):
            reference = theirs(gold_dicts, pred_dicts)
    assert_identical(counts, reference)

    table = Table(
        title=f"span scoring: {len(gold):,} gold, {len(pred):,} predicted spans, "
        f"{args.documents:,} documents, 4 labels"
    )
    for column in ("what", "seconds", "ratio"):
        table.add_column(column, justify="right" if column != "what" else "left")
    ratio = seconds["nervaluate"] / seconds["claimwire"]
    with_input = (seconds["nervaluate"] + seconds["nervaluate input"]) / (
        seconds["claimwire"] + seconds["claimwire input"]
    )
    table.add_row(
        "nervaluate 1.2.1 Evaluator(...).evaluate(): 4 schemes + per label",
        f"{seconds['nervaluate']:.2f}",
        "1×",
    )
    table.add_row(
        "claimwire Matcher: 4 schemes + per label",
        f"{seconds['claimwire']:.3f}",
        f"{ratio:.1f}× faster",
    )
    table.add_row(
        "  both, including building each one's input from Python lists",
        f"{seconds['nervaluate'] + seconds['nervaluate input']:.2f} vs "
        f"{seconds['claimwire'] + seconds['claimwire input']:.3f}",
        f"{with_input:.1f}× faster",
    )
    table.add_row(
        "claimwire 1000 bootstrap resamples over documents", f"{seconds['bootstrap']:.3f}", ""
    )
    console.print(table)
    totals = counts["strict"].sum(0)
    console.print(
        "strict counts (identical to nervaluate's): "
        + ", ".join(f"{n}={int(v):,}" for n, v in zip(OUTCOMES, totals, strict=True))
    )
    console.print(
        f"strict F1 {float(span_prf(totals)[2]):.4f}, 95 % CI [{interval.low:.4f}, "
        f"{interval.high:.4f}]; peak RSS {memory.peak / MB:.0f} MB"
    )
    for name, ok in (
        ("≥ 20× nervaluate", ratio >= 20),
        ("bootstrap < 1 s", seconds["bootstrap"] < 1),
        ("memory < 1 GB", memory.peak < 1000 * MB),
    ):
        console.print(f"{'[green]met' if ok else '[red]MISSED'}[/]: {name}")


if __name__ == "__main__":
    main()
