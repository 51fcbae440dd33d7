"""Corpus statistics: sizes and per-label counts, per split."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from claimwire.corpus.release import Release

TOTAL = "all"
SIZES = ("documents", "paragraphs", "sentences", "characters")


def release_stats(release: Release) -> dict[str, Any]:
    """Counts of documents, paragraphs, sentences, characters and labels, per split and all."""
    sizes: dict[str, Counter[str]] = defaultdict(Counter)
    split_of: dict[str, str] = {}
    for document in release.documents():
        split_of[document.id] = document.split
        for key in (document.split, TOTAL):
            sizes[key].update(
                documents=1,
                paragraphs=len(document.paragraphs),
                sentences=len(document.sentences),
                characters=len(document.text),
            )
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    for annotation in release.annotations():
        name = f"{annotation.layer}/{annotation.label}"
        for key in (split_of.get(annotation.doc_id, "?"), TOTAL):
            labels[key][name] += 1
    relations: dict[str, Counter[str]] = defaultdict(Counter)
    for relation in release.relations():
        for key in (split_of.get(relation.doc_id, "?"), TOTAL):
            relations[key][relation.type] += 1
    splits = [*sorted(k for k in sizes if k != TOTAL), TOTAL]
    return {
        "version": release.version,
        "splits": {
            split: {
                **{k: sizes[split][k] for k in SIZES},
                "labels": dict(sorted(labels[split].items())),
                "relations": dict(sorted(relations[split].items())),
            }
            for split in splits
        },
    }
