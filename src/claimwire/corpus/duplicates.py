"""Duplicate releases at ingest: exact (same normalized text) and near (MinHash LSH).

The same press release often arrives twice — as ``.txt`` and ``.html``, or re-sent with a
corrected figure. The first one ingested is kept; a later one is a duplicate of it when its
*normalized* text (case-folded words, no punctuation or spacing) hashes the same, or when the
Jaccard similarity of their word 5-gram shingles, estimated by MinHash, reaches the threshold.
Memory is one digest and one MinHash signature per kept document: the texts are not kept.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

DEFAULT_THRESHOLD = 0.7
SHINGLE = 5
PERMUTATIONS = 128
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The text's words, case-folded: what a duplicate must share, whatever its markup."""
    return _WORD.findall(text.casefold())


def shingles(tokens: list[str], size: int = SHINGLE) -> set[bytes]:
    """Word ``size``-grams (the whole text when it is shorter)."""
    if len(tokens) < size:
        return {" ".join(tokens).encode("utf-8")}
    return {" ".join(tokens[i : i + size]).encode("utf-8") for i in range(len(tokens) - size + 1)}


_MIX = (np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))


def band_keys(hashvalues: NDArray[np.uint64], bands: int, rows: int) -> list[int]:
    """One 64-bit key per LSH band (``rows`` MinHash values each): equal bands give equal
    keys; two different bands share one with a chance of about 2**-64 (a needless candidate,
    which the signatures then turn down). The band's number is mixed in, so one table holds
    every band."""
    values = hashvalues[: bands * rows].reshape(bands, rows).astype(np.uint64)
    keys = np.arange(1, bands + 1, dtype=np.uint64) * _MIX[1]
    for column in values.T:  # multiply-xorshift over the band's values
        keys = (keys ^ column) * _MIX[0]
        keys ^= keys >> np.uint64(33)
    return [int(key) for key in (keys * _MIX[1]) ^ (keys >> np.uint64(29))]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What duplicate finding needs of a text: the digest of its words and the MinHash of
    their shingles (computed anywhere: by an engine's worker, next to the document)."""

    digest: bytes
    hashvalues: NDArray[np.uint64]


_PERMUTATIONS: dict[int, Any] = {}


def fingerprint(text: str, permutations: int = PERMUTATIONS) -> Fingerprint:
    """The text's :class:`Fingerprint` (deterministic: fixed permutations, CRC-32 hashes)."""
    from datasketch import MinHash  # half a second of imports (scipy): only when building

    if permutations not in _PERMUTATIONS:
        seeded = MinHash(num_perm=permutations, seed=1, scheme="affine32")
        _PERMUTATIONS[permutations] = seeded.permutations
    tokens = words(text)
    minhash = MinHash(
        num_perm=permutations,
        hashfunc=zlib.crc32,
        permutations=_PERMUTATIONS[permutations],
        scheme="affine32",
    )
    minhash.update_batch(list(shingles(tokens)))
    digest = hashlib.sha256(" ".join(tokens).encode("utf-8")).digest()
    return Fingerprint(digest, minhash.hashvalues)


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A document left out, and the kept document it duplicates."""

    doc_id: str
    source: str
    kept: str
    kind: str  # "exact" or "near"
    similarity: float

    def describe(self) -> str:
        how = "same text" if self.kind == "exact" else f"~{self.similarity:.2f} similar"
        return f"{self.doc_id} ({self.source}) duplicates {self.kept} ({how})"


class DuplicateFinder:
    """Remembers the kept documents; :meth:`check` says whether a new one duplicates one.

    Near-duplicate candidates come from MinHash LSH banding (the bands and rows datasketch's
    ``MinHashLSH`` chooses, at a threshold 0.2 lower so that a pair at the threshold is not
    missed by banding), then the signatures decide; the first kept document with the highest
    similarity wins. The bands' keys live in one table of integers."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, permutations: int = PERMUTATIONS):
        if not 0 < threshold <= 1:
            raise ValueError("the near-duplicate threshold is a Jaccard similarity in (0, 1]")
        self.threshold = threshold
        self.permutations = permutations
        self._digests: dict[bytes, str] = {}
        self._signatures: dict[str, NDArray[np.uint32]] = {}
        self._buckets: dict[int, str | list[str]] = {}
        self._order: dict[str, int] = {}
        from datasketch import MinHashLSH

        banding = MinHashLSH(threshold=max(0.05, threshold - 0.2), num_perm=permutations)
        self.bands, self.rows = int(banding.b), int(banding.r)

    def check(self, doc_id: str, source: str, text: str) -> Duplicate | None:
        """``None`` (and the document is remembered as kept), or the duplicate it is."""
        return self.admit(doc_id, source, fingerprint(text, self.permutations))

    def candidates(self, keys: list[int]) -> list[str]:
        """Kept documents that share a band with these band keys, first kept first."""
        found: dict[str, None] = {}
        for key in keys:
            hit = self._buckets.get(key)
            if isinstance(hit, str):
                found[hit] = None
            elif hit is not None:
                found.update(dict.fromkeys(hit))
        return sorted(found, key=self._order.__getitem__) if len(found) > 1 else list(found)

    def admit(self, doc_id: str, source: str, print_: Fingerprint) -> Duplicate | None:
        """:meth:`check` for a text whose :func:`fingerprint` was computed already."""
        if print_.digest in self._digests:
            return Duplicate(doc_id, source, self._digests[print_.digest], "exact", 1.0)
        hashvalues = print_.hashvalues
        keys = band_keys(hashvalues, self.bands, self.rows)
        best: tuple[float, str] | None = None
        for candidate in self.candidates(keys):
            same = np.count_nonzero(self._signatures[candidate] == hashvalues)
            similarity = float(same / len(hashvalues))
            if similarity >= self.threshold and (best is None or similarity > best[0]):
                best = (similarity, candidate)
        if best is not None:
            return Duplicate(doc_id, source, best[1], "near", best[0])
        self._digests[print_.digest] = doc_id
        self._signatures[doc_id] = hashvalues.astype(np.uint32)
        self._order[doc_id] = len(self._order)
        buckets = self._buckets
        for key in keys:
            hit = buckets.get(key)
            if hit is None:
                buckets[key] = doc_id
            elif isinstance(hit, str):
                buckets[key] = [hit, doc_id]
            else:
                hit.append(doc_id)
        return None
