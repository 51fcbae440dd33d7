"""Every regular expression claimwire runs over user text, on adversarial inputs: linear?

For each module that scans documents or predictions, every module-level compiled pattern is
run (``finditer``) over hostile strings (long runs of digits and separators, letters without
spaces, ``@`` and dots, URL prefixes, spelled-out numbers) at 10k and 80k characters, beside
the number finder and the sentence segmenter as a whole. Linear time means the 8x longer input
takes about 8x as long; a quadratic pattern takes ~64x. Prints the ratio per pattern and
input and fails (exit 1) if any 80k run takes over 1 s or grows more than 20x.

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
SMALL, LARGE, BUDGET, GROWTH = 10_000, 80_000, 1.0, 20.0


def hostile(kind: str, size: int) -> str:
    head, body, tail = FRAGMENTS[kind]
    return head + body * (size // len(body)) + tail


def seconds(run: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    run(text)
    return time.perf_counter() - start


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
                found[f"{module_name.rsplit('.', 1)[1]}.{name}"] = lambda text, p=value: list(
                    p.finditer(text)
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
            small = seconds(run, hostile(kind, SMALL))
            large = seconds(run, hostile(kind, LARGE))
            ratio = large / max(small, 1e-4)
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
