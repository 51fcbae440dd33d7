"""Near-duplicate detection at ingest: MinHash LSH against exact pairwise Jaccard (the peer).

On synthetic releases (for speed only, never shipped as data) with planted near duplicates
(a few words edited), in one process:

* ours: ``DuplicateFinder`` (normalized-text digest, MinHash of word 5-grams, datasketch LSH)
  streaming over the documents: documents/s, retained memory per document;
* the peer: exact Jaccard of every pair of shingle sets (quadratic), on the same documents;
* agreement: the pairs each finds at the threshold, and the speed ratio.

Run: ``make bench`` or ``python benchmarks/bench_duplicates.py [--documents N]``.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from rich.console import Console
from rich.table import Table
from synthetic import synthetic_texts

from claimwire.corpus.duplicates import DEFAULT_THRESHOLD, DuplicateFinder, shingles, words


def corpus(documents: int, rng: random.Random) -> list[tuple[str, str]]:
    """Distinct releases, then an edited copy of every tenth one."""
    texts = [(f"d{i}", t) for i, t in enumerate(synthetic_texts(documents, rng))]
    copies = []
    for doc_id, text in texts[::10]:
        tokens = text.split(" ")
        for index in rng.sample(range(len(tokens)), 3):
            tokens[index] = "corrigé"
        copies.append((f"copy-of-{doc_id}", " ".join(tokens)))
    return texts + copies


def ours(docs: list[tuple[str, str]]) -> tuple[set[tuple[str, str]], float]:
    start = time.perf_counter()
    finder = DuplicateFinder()
    found = set()
    for doc_id, text in docs:
        duplicate = finder.check(doc_id, "bench", text)
        if duplicate is not None:
            found.add((duplicate.kept, doc_id))
    return found, time.perf_counter() - start


def memory_per_document(docs: list[tuple[str, str]]) -> float:
    """Bytes the finder retains per document (a second pass: tracing slows it down)."""
    tracemalloc.start()
    finder = DuplicateFinder()
    for doc_id, text in docs:
        finder.check(doc_id, "bench", text)
    retained, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return retained / len(docs)


def peer(docs: list[tuple[str, str]]) -> tuple[set[tuple[str, str]], float]:
    start = time.perf_counter()
    sets = [(doc_id, shingles(words(text))) for doc_id, text in docs]
    found = set()
    for i, (doc_id, mine) in enumerate(sets):
        for kept, theirs in sets[:i]:
            if len(mine & theirs) / len(mine | theirs) >= DEFAULT_THRESHOLD:
                found.add((kept, doc_id))
                break
    return found, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    args = parser.parse_args()
    docs = corpus(args.documents, random.Random(15))
    found, seconds = ours(docs)
    per_doc = memory_per_document(docs)
    exact, peer_seconds = peer(docs)
    table = Table(title=f"near duplicates, {len(docs)} documents, threshold {DEFAULT_THRESHOLD}")
    for column in ("", "pairs found", "seconds", "documents/s", "memory/document"):
        table.add_column(column, justify="right")
    table.add_row(
        "claimwire (MinHash LSH)",
        str(len(found)),
        f"{seconds:.2f}",
        f"{len(docs) / seconds:.0f}",
        f"{per_doc / 1024:.1f} KiB",
    )
    table.add_row(
        "exact pairwise Jaccard",
        str(len(exact)),
        f"{peer_seconds:.2f}",
        f"{len(docs) / peer_seconds:.0f}",
        "all shingle sets",
    )
    console = Console()
    console.print(table)
    console.print(
        f"agreement: {len(found & exact)} common, {len(found - exact)} only ours, "
        f"{len(exact - found)} only the peer's; speed ratio ours/peer "
        f"{peer_seconds / seconds:.1f}×"
    )


if __name__ == "__main__":
    main()
