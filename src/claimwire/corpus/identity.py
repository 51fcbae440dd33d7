"""Stable document ids and deterministic, hash-based split assignment."""

from __future__ import annotations

import re
import unicodedata

from claimwire.files import sha256

SPLITS: tuple[tuple[str, int], ...] = (("train", 70), ("dev", 15), ("test", 15))
"""Split names with their share (percent) of the hash space, in order."""
SPLIT_NAMES = tuple(name for name, _ in SPLITS)
_NON_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_WORDS = 6
SLUG_CHARS = 48
HASH_CHARS = 10


def slugify(text: str, words: int = SLUG_WORDS, limit: int = SLUG_CHARS) -> str:
    """A short ASCII slug of the first words: "Pékin, 19 juin" → "pekin-19-juin"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    parts = [part for part in _NON_SLUG.split(folded) if part][:words]
    slug = "-".join(parts)[:limit].strip("-")
    return slug or "doc"


def document_id(text: str, title: str | None = None) -> str:
    """``<slug>-<hash10>``: readable, and derived from the normalized text alone plus its title."""
    return f"{slugify(title or text)}-{sha256(text)[:HASH_CHARS]}"


def assign_split(doc_id: str) -> str:
    """The split a new document falls in, from the hash of its id (the same text, the same
    split); its next versions keep it (:mod:`claimwire.corpus.pairing`)."""
    bucket = int(sha256(doc_id)[:8], 16) % 100
    threshold = 0
    for name, share in SPLITS:
        threshold += share
        if bucket < threshold:
            return name
    return SPLITS[-1][0]
