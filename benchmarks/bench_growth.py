"""Paths that used to grow faster than their input, measured at doubling sizes.

For each: CPU seconds at n, 2n, 4n and the growth exponent log2(t(2n)/t(n)) (1 = linear,
2 = quadratic). Peak memory for the bootstrap (units × resamples was a dense matrix).
- overlap pairs when one gold span covers the whole document;
- the sentence splitter inside one long « … » quotation;
- the stance baselines (training gathered once per run, gold indexed by document);
- the rules system on one long document whose every sentence holds a cue and a figure (each
  figure's sentence and each sentence's attributions looked up by binary search, were
  scans of the document: an 8 MB digest of 150,000 such sentences ran past 10 minutes);
- bootstrap totals at 1,000 resamples (Poisson weights in unit batches past the dense limit);
- ``corpus build``'s listing of a raw folder of one ``.txt`` per release (README's first
  journey): CPU, and its peak of traced memory (the whole listing was held: ~550 bytes a file).
Run: ``python benchmarks/bench_growth.py``.
"""

from __future__ import annotations

import math
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from measure import MB
from rich.console import Console
from rich.table import Table
from synthetic import REPO

from claimwire.corpus.ingest import RawDocument, build_document
from claimwire.corpus.raw_folder import raw_files
from claimwire.corpus.release import open_release
from claimwire.corpus.segment import RuleSegmenter
from claimwire.eval.matching import SpanSet, overlap_pairs
from claimwire.eval.metrics import resampled_totals
from claimwire.model import Annotation, replaced
from claimwire.systems.base import RunContext
from claimwire.systems.rules import RulesSystem
from claimwire.systems.stance import MajoritySystem


def cpu(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def covering_overlaps(n: int) -> Callable[[], object]:
    gold = SpanSet.from_tuples(
        [(0, 0, 0, 10 * n, 0), *((0, 0, 10 * i, 10 * i + 5, 0) for i in range(n))]
    )
    pred = SpanSet.from_tuples((0, 0, 10 * i + 1, 10 * i + 4, 0) for i in range(n))
    return lambda: overlap_pairs(gold, pred)


def long_quotation(sentences: int) -> Callable[[], object]:
    text = "Il a déclaré : « " + " ".join(["Le projet avance bien."] * sentences) + " » Fin."
    return lambda: RuleSegmenter().sentences(text, 0, len(text))


def stance_run(documents: int) -> Callable[[], object]:
    words = ["Nous saluons ce progrès remarquable.", "Nous condamnons cette décision injuste."]
    docs = [
        replaced(
            build_document(RawDocument(f"Communiqué {i}. {words[i % 2]}", "s.txt", "0" * 64)),
            split="train" if i % 4 else "test",
        )
        for i in range(documents)
    ]
    gold = [
        Annotation(
            f"{d.id}:s",
            d.id,
            "stance",
            "STANCE",
            attributes={"holder": "issuer", "target": "t", "stance": "FAVOR"},
        )
        for d in docs
    ]
    release = open_release(REPO / "corpus" / "releases" / "1.0.0")
    test = [d for d in docs if d.split == "test"]

    def run() -> None:
        system, context = MajoritySystem(), RunContext(release, test, "test", docs, gold)
        for start in range(0, len(test), 32):
            system.annotate(test[start : start + 32], context)

    return run


def long_digest(sentences: int) -> Callable[[], object]:
    sentence = "Selon l'Insee, les ventes ont progressé de 5 % en 2024. "
    text = "Bilan annuel\n\n" + sentence * sentences
    document = build_document(RawDocument(text, "digest.txt", "0" * 64))
    system = RulesSystem()
    system.annotate([build_document(RawDocument(sentence, "warm.txt", "0" * 64))])  # load once
    return lambda: system.annotate([document])


def raw_listing(files: int) -> Callable[[], object]:
    """A raw folder of ``files`` one-release texts in 100 folders, listed and read through as
    ``corpus build`` does (the folder is removed when the listing is dropped)."""
    folder = tempfile.TemporaryDirectory(prefix="bench-raw-")
    raw = Path(folder.name)
    for i in range(files):
        shelf = raw / f"{i % 100:02d}"
        shelf.mkdir(exist_ok=True)
        (shelf / f"r{i:07d}.txt").write_bytes(b"Acme said sales rose 5% in 2024.\n")

    def run() -> int:
        inputs = raw_files(Path(folder.name))  # the folder lives as long as this function
        listed = sum(1 for _ in inputs.files)
        inputs.close()
        return listed

    return run


def main() -> None:
    console = Console()
    table = Table(title="Growth at doubling sizes (CPU seconds)")
    for column in ("path", "n", "t(n)", "t(2n)", "t(4n)", "exponent"):
        table.add_column(column, justify="left" if column == "path" else "right")
    cases: list[tuple[str, int, Callable[[int], Callable[[], object]]]] = [
        ("overlap pairs, one span covering the document (spans)", 16_000, covering_overlaps),
        ("sentence splitter inside « … » (sentences)", 20_000, long_quotation),
        ("stance-majority run, batches of 32 (documents)", 4_000, stance_run),
        ("rules run, one document, a cue and a figure a sentence (sentences)", 4_000, long_digest),
        ("corpus build's raw folder listing (files)", 25_000, raw_listing),
    ]
    for name, n, make in cases:
        times = [cpu(make(n * k)) for k in (1, 2, 4)]
        exponent = math.log2(max(times[2], 1e-9) / max(times[1], 1e-9))
        table.add_row(name, f"{n:,}", *(f"{t:.3f}" for t in times), f"{exponent:.2f}")
    console.print(table)
    memory = Table(title="Bootstrap totals, 1,000 resamples, 5 columns")
    for column in ("units", "CPU s", "peak MB (tracemalloc)", "dense matrix would be MB"):
        memory.add_column(column, justify="right")
    for units in (10_000, 100_000, 400_000):
        stats = np.random.default_rng(1).integers(0, 5, size=(units, 5)).astype(float)
        tracemalloc.start()
        seconds = cpu(lambda stats=stats: resampled_totals(stats, 1000, 12345))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        memory.add_row(
            f"{units:,}", f"{seconds:.2f}", f"{peak / MB:.0f}", f"{units * 8000 / MB:,.0f}"
        )
    console.print(memory)
    listing = Table(title="corpus build's raw folder listing, one .txt a release, 100 folders")
    for column in ("files", "CPU s", "peak MB (tracemalloc)"):
        listing.add_column(column, justify="right")
    for files in (25_000, 100_000):
        run = raw_listing(files)
        tracemalloc.start()
        seconds = cpu(run)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        listing.add_row(f"{files:,}", f"{seconds:.2f}", f"{peak / MB:.1f}")
    console.print(listing)


if __name__ == "__main__":
    main()
