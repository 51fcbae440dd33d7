"""Every regular expression claimwire runs over user text, on adversarial inputs: linear?

For each module that scans documents or predictions, every module-level compiled pattern is
run (``finditer``; ``match`` for the :data:`ANCHORED` ones) over hostile strings (long runs of
digits and separators, letters without spaces, ``@`` and dots, URL prefixes, spelled-out
numbers) at 20k and 160k characters, beside the number finder and the sentence segmenter as a
whole. Linear time means the 8x longer input takes about 8x as long; a quadratic pattern
takes ~64x. Prints the ratio per pattern and input and fails (exit 1) if any 160k run takes
over 2 s or grows more than 24x (between linear, 8x, and quadratic, 64x).

Run: ``make bench`` or ``python benchmarks/bench_regex.py``.
"""

from __future__ import annotations

import importlib
import re
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

MODULES = (
    "claimwire.annotation.numbers",
    "claimwire.corpus.segment",
    "claimwire.corpus.metadata",
    "claimwire.corpus.ingest",
    "claimwire.corpus.normalize",
    "claimwire.systems.rules",
    "claimwire.systems.lexicon",
    "claimwire.redact",
)
FRAGMENTS = {
    "1.000…,5": ("1", ".000", ",5"),
    "1 000…x": ("1", "\u202f000", "x"),
    "aaaa…": ("", "a", ""),
    "@a.a.…": ("@", "a.", ""),
    "a@a@…": ("", "a@", ""),
    "http://…": ("", "http://", ""),
    "deux-et-…": ("", "deux-et-", "x"),
    "M. M. …": ("", "M. ", ""),
    "« « …": ("", "« ", ""),
    "   …": ("x", " ", "x"),
}
SMALL, LARGE, BUDGET, GROWTH = 20_000, 160_000, 2.0, 24.0
ANCHORED = frozenset(
    {
        "numbers._SCALE",
        "numbers._SCALE_EN",
        "numbers._CURRENCY_WORD",
        "numbers._CURRENCY_SYMBOL",
        "numbers._PERCENT",
        "numbers._OR_MORE",
        "numbers._POINTS",
        "numbers._DURATION",
        "numbers._DATE_AFTER",
        "numbers._FRENCH_DATE_AFTER",
        "numbers._TIME_AFTER",
        "segment._LIST_ITEM",
        "lexicon.TITLE",
        "lexicon.RESPONDENTS",
        "rules._THAT",
        "numbers._REFERENCE_BEFORE",  # searched in the 20 characters before a number only
    }
)
"""Patterns the code only ever runs with ``match(text, position)`` right after something it
found (a number's end, a line's start), or in a window of a few characters: each call reads
at most one run of the text once, so they are timed with one ``match``. Run with
``finditer`` from every position, a leading ``[ ]*`` makes them quadratic on long runs of
spaces (19 s for 8,000 spaces for ``_CURRENCY_WORD``), which no caller does; a new caller that
searches with one of them must take it out of this set."""


def hostile(kind: str, size: int) -> str:
    head, body, tail = FRAGMENTS[kind]
    return head + body * (size // len(body)) + tail


REPEATS, FLOOR = 3, 0.01
"""Each time is the best of REPEATS runs (the machine is shared); a growth ratio is only
judged when the small input takes FLOOR seconds or more (below, timer and scheduler noise
make ratios of 100 out of 0.0002 s against 0.02 s)."""


def seconds(run: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        run(text)
        best = min(best, time.perf_counter() - start)
    return best


def growth(run: Callable[[str], object], kind: str) -> tuple[float, float]:
    return seconds(run, hostile(kind, SMALL)), seconds(run, hostile(kind, LARGE))


def targets() -> dict[str, Callable[[str], object]]:
    from claimwire.annotation.numbers import find_quantities
    from claimwire.corpus.segment import RuleSegmenter, paragraphs

    found: dict[str, Callable[[str], object]] = {
        "find_quantities": find_quantities,
        "segment": lambda text: [RuleSegmenter().sentences(text, *p) for p in paragraphs(text)],
    }
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and value.pattern not in ("", r"\S+"):
                key = f"{module_name.rsplit('.', 1)[1]}.{name}"
                found[key] = (
                    (lambda text, p=value: p.match(text))
                    if key in ANCHORED
                    else (lambda text, p=value: list(p.finditer(text)))
                )
    return found


def main() -> int:
    console = Console()
    table = Table(title=f"regex time on hostile inputs, {SMALL:,} → {LARGE:,} characters")
    for column in ("pattern", "input", "small s", "large s", "ratio (8 = linear)"):
        table.add_column(column, justify="left" if column in ("pattern", "input") else "right")
    failures = []
    worst = 0.0
    for name, run in targets().items():
        for kind in FRAGMENTS:
            small, large = growth(run, kind)
            if large > 0.05 and large / max(small, FLOOR) > GROWTH:
                small, large = growth(run, kind)  # confirmed twice, or noise of a shared machine
            ratio = large / max(small, FLOOR)
            worst = max(worst, large)
            if large > BUDGET or (large > 0.05 and ratio > GROWTH):
                failures.append(f"{name} on {kind}: {large:.2f} s, x{ratio:.0f}")
            if large > 0.01:
                table.add_row(name, kind, f"{small:.4f}", f"{large:.4f}", f"{ratio:.1f}")
    console.print(table)
    console.print(f"slowest run at {LARGE:,} characters: {worst:.3f} s (budget {BUDGET} s)")
    for failure in failures:
        console.print(f"[red]super-linear[/]: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
