"""Corpus build and validation speed and memory, side by side with spaCy's ``senter``.

Generates a synthetic corpus (shuffled paragraphs of the seed and of the hard segmentation
set, with random datelines: for speed only, never shipped as data), then measures in one
process:

* the full build (ingest + metadata + language + segmentation + write + validation of the
  staged release) in documents/s and MB/s of text, and its peak RSS at two corpus sizes
  (memory should not grow with the corpus: the build streams);
* ``corpus validate`` in MB/s of release files;
* sentence segmentation alone: our rules vs spaCy ``fr_core_news_sm`` with only ``senter``
  enabled (the peer), on the same paragraphs, and the speed ratio.

Targets: build >= 0.5 MB/s, peak RSS < 500 MB for 10,000 documents, validate >= 5 MB/s.
Run: ``make bench`` or ``python benchmarks/bench_corpus.py [--documents N]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from measure import MB, PeakRss
from rich.console import Console
from rich.table import Table
from synthetic import synthetic_texts

from claimwire.corpus.release import build_release
from claimwire.corpus.segment import RuleSegmenter, paragraphs
from claimwire.corpus.segment_eval import evaluate_segmenter, load_gold
from claimwire.corpus.segment_spacy import SenterSegmenter
from claimwire.corpus.validate import validate_release

REPO = Path(__file__).resolve().parent.parent


def bench_build(workdir: Path, documents: int, rng: random.Random) -> dict[str, float]:
    raw = workdir / f"raw-{documents}"
    raw.mkdir()
    characters = 0
    for i, text in enumerate(synthetic_texts(documents, rng)):
        (raw / f"release-{i:05d}.txt").write_text(text, encoding="utf-8")
        characters += len(text)
    releases = workdir / f"releases-{documents}"
    with PeakRss() as memory:
        start = time.perf_counter()
        build_release(
            raw,
            releases,
            "0.1.0",
            validate=lambda path: [str(p) for p in validate_release(path)],
        )
        build_seconds = time.perf_counter() - start
    release = releases / "0.1.0"
    size = sum(f.stat().st_size for f in release.iterdir())
    start = time.perf_counter()
    problems = validate_release(release)
    validate_seconds = time.perf_counter() - start
    assert not problems, problems[:3]
    return {
        "documents": documents,
        "characters": characters,
        "build_s": build_seconds,
        "peak_rss_mb": memory.peak / MB,
        "validate_mb_s": size / MB / validate_seconds,
        "release_mb": size / MB,
    }


def bench_segmenters(texts: list[str]) -> tuple[float, float, SenterSegmenter]:
    """Sentence segmentation only (paragraphs given), ours vs spaCy senter: chars/s each."""
    spans = [(text, paragraphs(text)) for text in texts]
    characters = sum(len(text) for text in texts)
    ours = RuleSegmenter()
    start = time.perf_counter()
    for text, paras in spans:
        for s, e in paras:
            ours.sentences(text, s, e)
    ours_seconds = time.perf_counter() - start
    senter = SenterSegmenter()
    start = time.perf_counter()
    for text, paras in spans:
        chunks = [text[s:e] for s, e in paras]
        for doc in senter.nlp.pipe(chunks, batch_size=64):
            list(doc.sents)
    senter_seconds = time.perf_counter() - start
    return characters / ours_seconds, characters / senter_seconds, senter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--senter-documents", type=int, default=500)
    args = parser.parse_args()
    console = Console()
    rng = random.Random(12345)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        small = bench_build(workdir, max(1, args.documents // 5), rng)
        large = bench_build(workdir, args.documents, rng)
        files = sorted((workdir / f"raw-{args.documents}").iterdir())
        texts = [path.read_text(encoding="utf-8") for path in files[: args.senter_documents]]
    ours_cps, senter_cps, senter = bench_segmenters(texts)
    hard = load_gold(REPO / "tests" / "data" / "segmentation-hard-fr.txt")
    ours_f1 = evaluate_segmenter(hard, RuleSegmenter())[1]
    senter_f1 = evaluate_segmenter(hard, senter)[1]

    table = Table(title="claimwire corpus build (one core)")
    for column in ("documents", "MB of text", "docs/s", "MB/s", "peak RSS MB", "validate MB/s"):
        table.add_column(column, justify="right")
    for row in (small, large):
        table.add_row(
            f"{row['documents']:,.0f}",
            f"{row['characters'] / MB:.1f}",
            f"{row['documents'] / row['build_s']:,.0f}",
            f"{row['characters'] / MB / row['build_s']:.2f}",
            f"{row['peak_rss_mb']:.0f}",
            f"{row['validate_mb_s']:.1f}",
        )
    console.print(table)
    segment = Table(title=f"sentence segmentation only ({len(texts)} documents)")
    for column in ("segmenter", "MB/s", "ratio", f"F1, {len(hard.sentences)} hard sentences"):
        segment.add_column(column, justify="right")
    segment.add_row(
        "claimwire rules", f"{ours_cps / MB:.2f}", f"{ours_cps / senter_cps:.0f}×", f"{ours_f1:.3f}"
    )
    segment.add_row(
        "spaCy fr_core_news_sm senter", f"{senter_cps / MB:.2f}", "1×", f"{senter_f1:.3f}"
    )
    console.print(segment)
    build_mb_s = large["characters"] / MB / large["build_s"]
    verdicts = [
        ("build ≥ 0.5 MB/s", build_mb_s >= 0.5),
        ("peak RSS < 500 MB", large["peak_rss_mb"] < 500),
        ("validate ≥ 5 MB/s", large["validate_mb_s"] >= 5),
    ]
    for name, ok in verdicts:
        console.print(f"{'[green]met' if ok else '[red]MISSED'}[/]: {name}")


if __name__ == "__main__":
    main()
