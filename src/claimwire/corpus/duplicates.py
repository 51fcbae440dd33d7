"""Duplicate releases at ingest: exact (same normalized text) and near (MinHash LSH).

The same press release often arrives twice — as ``.txt`` and ``.html``, or re-sent with a
corrected figure. The first one ingested is kept; a later one is a duplicate of it when its
*normalized* text (case-folded words, no punctuation or spacing) hashes the same, or when the
Jaccard similarity of their word 5-gram shingles, estimated by MinHash, reaches the threshold.
In scripts written without spaces (Chinese, Japanese, Thai, …) each character is a word
(:func:`words`): their shingles are character 5-grams, so one changed character changes five
shingles, not a whole paragraph's.
Memory is about 230 bytes per kept document, its band keys and a few numbers: its id, its
digest and its MinHash signature go to anonymous temporary files, read back only for the few
documents a new one may duplicate. The texts are not kept.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import tempfile
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from claimwire.corpus.words import UNSPACED_CLASS
from claimwire.spool import temporary_writes

DEFAULT_THRESHOLD = 0.7
SHINGLE = 5
PERMUTATIONS = 128
_WORD = re.compile(f"[{UNSPACED_CLASS}]|[^\\W{UNSPACED_CLASS}]+")


def words(text: str) -> list[str]:
    """The text's words, case-folded: what a duplicate must share, whatever its markup. A
    character of a script written without spaces (:mod:`claimwire.corpus.words`: Chinese,
    Japanese kana and marks such as 々 〇, Thai, Lao, Khmer, Myanmar) is a word of its own, so
    shingles there are character 5-grams; a text in other scripts has the words of ``\\w+``."""
    return _WORD.findall(text.casefold())


def shingles(tokens: list[str], size: int = SHINGLE) -> set[bytes]:
    """Word ``size``-grams (the whole text when it is shorter)."""
    return set(shingle_stream(tokens, size))


def shingle_stream(tokens: list[str], size: int = SHINGLE) -> Iterator[bytes]:
    """:func:`shingles` one at a time, a repeated one again (the MinHash does not care)."""
    if len(tokens) < size:
        yield " ".join(tokens).encode("utf-8")
        return
    for i in range(len(tokens) - size + 1):
        yield " ".join(tokens[i : i + size]).encode("utf-8")


HASHED_AT_ONCE = 8192
"""Shingles hashed in one call: the MinHash's temporary matrix (shingles × permutations,
8 bytes each) stays at 8 MB whatever the document's length (all of a 5 MB document's at once
took 800 MB)."""


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
    banding: tuple[int, int] | None = None
    """The (bands, rows) :attr:`keys` were made with, if they were."""
    keys: list[int] | None = None
    """Its LSH band keys (:func:`band_keys`), made beside the MinHash: the build's driver,
    which admits documents one at a time, then does not (a third of its admitting)."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its MinHash as bytes: a numpy array pickles about 8 times slower, and
        every document's fingerprint crosses from an engine's worker to the driver."""
        values = self.hashvalues
        return _unpickled, (
            self.digest,
            values.tobytes(),
            values.dtype.str,
            self.banding,
            self.keys,
        )


def _unpickled(
    digest: bytes,
    values: bytes,
    dtype: str,
    banding: tuple[int, int] | None,
    keys: list[int] | None,
) -> Fingerprint:
    return Fingerprint(digest, np.frombuffer(values, dtype), banding, keys)


_PERMUTATIONS: dict[int, Any] = {}


def fingerprint(
    text: str, permutations: int = PERMUTATIONS, banding: tuple[int, int] | None = None
) -> Fingerprint:
    """The text's :class:`Fingerprint` (deterministic: fixed permutations, CRC-32 hashes),
    with its band keys for a :class:`DuplicateFinder`'s ``banding`` if given."""
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
    stream = shingle_stream(tokens)
    while batch := list(itertools.islice(stream, HASHED_AT_ONCE)):
        minhash.update_batch(batch)  # the minimum of minima: the same values as in one call
    digest = hashlib.sha256(" ".join(tokens).encode("utf-8")).digest()
    if banding is None:
        return Fingerprint(digest, minhash.hashvalues)
    keys = band_keys(minhash.hashvalues, *banding)
    return Fingerprint(digest, minhash.hashvalues, banding, keys)


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


class _BandTable:
    """Band keys → the numbers of the kept documents that have them, in 8 bytes a key: the
    newest keys in a dict (a key's first owner; the rare later ones apart), the rest in sorted
    numpy runs that merge as they double (each key is sorted O(log n) times; a lookup searches
    a run per doubling). A run keeps a key's upper 32 bits and its owner: two keys sharing
    them (about one lookup key in 2**32 / keys held) give a needless candidate, which the
    signatures then turn down."""

    FLUSH = 1 << 16
    """Keys held in the dicts before they become a sorted run."""

    def __init__(self) -> None:
        self._recent: dict[int, int] = {}
        self._more: dict[int, list[int]] = {}
        self._held = 0
        self._runs: list[tuple[NDArray[np.uint32], NDArray[np.int32]]] = []

    def add(self, keys: list[int], owner: int) -> None:
        fresh = dict.fromkeys(keys, owner)
        if not self._recent.keys().isdisjoint(fresh):
            for key in self._recent.keys() & fresh.keys():
                self._more.setdefault(key, []).append(owner)
                del fresh[key]
        self._recent.update(fresh)
        self._held += len(keys)
        if self._held >= self.FLUSH:
            self._flush()

    def owners(self, keys: list[int]) -> set[int]:
        return self.lookup(keys)[0]

    def lookup(self, keys: list[int]) -> tuple[set[int], list[int]]:
        """The owners of ``keys``, and how many each key has."""
        found: set[int] = set()
        counts = [0] * len(keys)
        if self._runs:
            asked = _fingerprints(np.array(keys, dtype=np.uint64))
            for run_keys, run_owners in self._runs:
                first = np.searchsorted(run_keys, asked, "left")
                hit = run_keys[np.minimum(first, len(run_keys) - 1)] == asked
                if hit.any():  # rare: only these are searched again for their last owner
                    last = np.searchsorted(run_keys, asked[hit], "right")
                    for at, start, end in zip(
                        np.flatnonzero(hit).tolist(),
                        first[hit].tolist(),
                        last.tolist(),
                        strict=True,
                    ):
                        found.update(run_owners[start:end].tolist())
                        counts[at] += end - start
        recent = self._recent
        if hits := recent.keys() & keys:
            for at, key in enumerate(keys):
                if key in hits:
                    more = self._more.get(key, ())
                    found.add(recent[key])
                    found.update(more)
                    counts[at] += 1 + len(more)
        return found, counts

    def _flush(self) -> None:
        pairs = [(key, owner) for key, owners in self._more.items() for owner in owners]
        count = len(self._recent) + len(pairs)
        keys = _fingerprints(
            np.fromiter(itertools.chain(self._recent, (k for k, _ in pairs)), np.uint64, count)
        )
        owners = np.fromiter(
            itertools.chain(self._recent.values(), (o for _, o in pairs)), np.int32, count
        )
        self._recent, self._more, self._held = {}, {}, 0
        while self._runs and len(self._runs[-1][0]) <= 2 * len(keys):
            older_keys, older_owners = self._runs.pop()
            keys = np.concatenate([older_keys, keys])
            owners = np.concatenate([older_owners, owners])
        order = np.lexsort((owners, keys))
        self._runs.append((keys[order], owners[order]))


def _text_key(digest: bytes) -> int:
    """A key of the text's words (its digest's first 8 bytes), held beside its band keys:
    the same words are found through it whatever the bands hold."""
    return int.from_bytes(digest[:8], "little")


def _fingerprints(keys: NDArray[np.uint64]) -> NDArray[np.uint32]:
    """The upper 32 bits of 64-bit band keys: what a sorted run keeps of a key."""
    return (keys >> np.uint64(32)).astype(np.uint32)


class _Spilled:
    """Values appended to an anonymous temporary file (removed when closed or when the process
    ends), each read back by its number: 8 bytes of memory a value, for its place."""

    BUFFER = 1 << 20

    def __init__(self) -> None:
        with temporary_writes():
            self._file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 (closed with the finder)
        self._ends = array("q", [0])
        self._pending = bytearray()

    def __len__(self) -> int:
        return len(self._ends) - 1

    def append(self, value: bytes) -> None:
        self._pending += value
        self._ends.append(self._ends[-1] + len(value))
        if len(self._pending) >= self.BUFFER:
            self._flush()

    def __getitem__(self, number: int) -> bytes:
        return self.read(number)

    def read(self, *numbers: int) -> bytes:
        """The values of ``numbers``, one after the other."""
        if self._pending:
            self._flush()
        ends, fd, read = self._ends, self._file.fileno(), os.pread
        return b"".join([read(fd, ends[n + 1] - ends[n], ends[n]) for n in numbers])

    def _flush(self) -> None:
        with temporary_writes():  # a full TMPDIR is not the release's disk
            self._file.write(self._pending)
        self._pending.clear()

    def close(self) -> None:
        self._file.close()


class DuplicateFinder:
    """Remembers the kept documents; :meth:`check` says whether a new one duplicates one.

    Near-duplicate candidates come from MinHash LSH banding (the bands and rows datasketch's
    ``MinHashLSH`` chooses, at a threshold 0.2 lower so that a pair at the threshold is not
    missed by banding), then the signatures decide; the first kept document with the highest
    similarity wins; a document with the same words as a kept one (the same digest) is an
    exact duplicate of it. A kept document costs about 230 bytes of memory: its bands' keys
    (:class:`_BandTable`) and the places of its id, digest and signature (uint32) in
    temporary files (:class:`_Spilled`), read back only for the candidates."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, permutations: int = PERMUTATIONS):
        if not 0 < threshold <= 1:
            raise ValueError("the near-duplicate threshold is a Jaccard similarity in (0, 1]")
        self.threshold = threshold
        self.permutations = permutations
        self._ids = _Spilled()
        self._digests = _Spilled()
        self._signatures = _Spilled()
        self._bands = _BandTable()
        from datasketch import MinHashLSH

        banding = MinHashLSH(threshold=max(0.05, threshold - 0.2), num_perm=permutations)
        self.bands, self.rows = int(banding.b), int(banding.r)

    @property
    def banding(self) -> tuple[int, int]:
        """(bands, rows): pass it to :func:`fingerprint` to have the band keys made there."""
        return self.bands, self.rows

    def check(self, doc_id: str, source: str, text: str) -> Duplicate | None:
        """``None`` (and the document is remembered as kept), or the duplicate it is."""
        return self.admit(doc_id, source, fingerprint(text, self.permutations))

    BUCKET = 8
    """The kept documents a band key remembers, the first kept: a band that more share is
    boilerplate (the wire's header, an issuer's "About us"), and remembering each of them
    would make every later document a candidate of every earlier one — a quadratic build.
    A near duplicate is still found through the bands its own words give it; an exact one
    through its text's key, which is never full."""

    def candidates(self, keys: list[int]) -> list[str]:
        """Kept documents that share a band with these band keys, first kept first."""
        return [self._name(number) for number in sorted(self._bands.owners(keys))]

    def _name(self, number: int) -> str:
        return self._ids[number].decode("utf-8")

    def close(self) -> None:
        """Remove the temporary files (also done when the process ends)."""
        for spilled in (self._ids, self._digests, self._signatures):
            spilled.close()

    def admit(self, doc_id: str, source: str, print_: Fingerprint) -> Duplicate | None:
        """:meth:`check` for a text whose :func:`fingerprint` was computed already."""
        hashvalues = print_.hashvalues
        keys = print_.keys
        if keys is None or print_.banding != self.banding:
            keys = band_keys(hashvalues, self.bands, self.rows)
        best: tuple[float, int] | None = None
        keys = [*keys, _text_key(print_.digest)]
        owners, counts = self._bands.lookup(keys)
        candidates = sorted(owners)
        signatures = np.frombuffer(self._signatures.read(*candidates), dtype=np.uint32)
        rows = signatures.reshape(len(candidates), len(hashvalues))
        agree = (rows == hashvalues).sum(axis=1).tolist()
        for candidate, same in zip(candidates, agree, strict=True):
            # the same words make the same signature: only then can the digests be equal
            if same == len(hashvalues) and self._digests[candidate] == print_.digest:
                return Duplicate(doc_id, source, self._name(candidate), "exact", 1.0)
            similarity = float(same / len(hashvalues))
            if similarity >= self.threshold and (best is None or similarity > best[0]):
                best = (similarity, candidate)
        if best is not None:
            return Duplicate(doc_id, source, self._name(best[1]), "near", best[0])
        number = len(self._ids)
        self._signatures.append(hashvalues.astype(np.uint32).tobytes())
        self._ids.append(doc_id.encode("utf-8"))
        self._digests.append(print_.digest)
        text_key = keys.pop()
        shared = [key for key, count in zip(keys, counts[:-1], strict=True) if count < self.BUCKET]
        self._bands.add([*shared, text_key], number)
        return None
