"""Synthetic press releases for speed measurements only (never shipped as data): shuffled
paragraphs of the seed and of the hard segmentation set, under random datelines."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from claimwire.corpus.segment_eval import load_gold

REPO = Path(__file__).resolve().parent.parent
CITIES = ["PÉKIN", "PARIS", "MONTRÉAL", "GENÈVE", "ASTANA", "BRUXELLES", "DAKAR", "LYON"]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "septembre"]


def paragraph_pool() -> list[str]:
    seed = (REPO / "corpus" / "raw" / "release-fr.txt").read_text(encoding="utf-8")
    pool = [p.strip() for p in seed.split("\n\n")[1:-3] if p.strip()]
    hard = load_gold(REPO / "tests" / "data" / "segmentation-hard-fr.txt")
    pool += [hard.text[s:e] for s, e in hard.paragraphs]
    return pool


def synthetic_texts(documents: int, rng: random.Random) -> Iterator[str]:
    """``documents`` releases of 8 to 30 paragraphs each."""
    pool = paragraph_pool()
    for i in range(documents):
        dateline = (
            f"{rng.choice(CITIES)}, {rng.randint(1, 28)} {rng.choice(MONTHS)} "
            f"{rng.randint(2019, 2026)} (GLOBE NEWSWIRE) — Le document synthétique n° {i} "
            "a été généré pour mesurer la vitesse."
        )
        body = rng.sample(pool, rng.randint(8, 30))
        yield "\n\n".join(
            [
                f"Titre du communiqué {i}",
                dateline,
                *body,
                f"GlobeNewswire Distribution ID {1_000_000 + i}",
            ]
        )
