"""``rules`` throughput on 10,000 synthetic releases, one core: documents/s, MB/s, peak RSS.

spaCy is loaded once and runs through ``nlp.pipe`` in batches (on the short source spans
only). Target: ≥ 100 documents/s. Run: ``python benchmarks/bench_systems.py [--documents N]``.
"""

from __future__ import annotations

import argparse
import random
import time

from measure import MB, PeakRss
from rich.console import Console
from synthetic import synthetic_texts

from claimwire.corpus.ingest import RawDocument, build_document
from claimwire.systems.rules import RulesSystem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    console = Console()
    documents = [
        build_document(RawDocument(text, f"synthetic-{i}.txt", "0" * 64))
        for i, text in enumerate(synthetic_texts(args.documents, random.Random(12345)))
    ]
    characters = sum(len(d.text) for d in documents)
    system = RulesSystem()
    system.annotate(documents[:1], None)  # load spaCy outside the measurement
    annotations = 0
    with PeakRss() as memory:
        start = time.perf_counter()
        for i in range(0, len(documents), args.batch_size):
            for output in system.annotate(documents[i : i + args.batch_size], None):
                annotations += len(output.annotations)
        seconds = time.perf_counter() - start
    rate = len(documents) / seconds
    console.print(
        f"rules: {len(documents):,} documents ({characters / MB:.1f} MB) in {seconds:.1f} s — "
        f"{rate:,.0f} documents/s, {characters / MB / seconds:.2f} MB/s, "
        f"{annotations:,} annotations, peak RSS {memory.peak / MB:.0f} MB"
    )
    console.print(f"{'[green]met' if rate >= 100 else '[red]MISSED'}[/]: ≥ 100 documents/s")


if __name__ == "__main__":
    main()
