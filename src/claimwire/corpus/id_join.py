"""Which asked ids a set of ids lacks, in memory that holds neither side: a hash join on disk::

    join = MissingIds()
    join.have(ids)  # the ids present, any number of calls
    join.ask(numbered)  # (number, id) pairs asked about
    for number in join.missing():  # the numbers whose id is not present, ascending
        ...

Each id becomes a 128-bit BLAKE2b digest keyed afresh in each process: two ids are one only
if their digests agree, which a file cannot be crafted for without the key. The digests go to
disk as they come; once both sides are in, they are dealt by their leading bytes into buckets
(about :data:`BUCKET_IDS` of the larger side in each, at most :data:`MAX_BUCKETS`), and each
bucket of present digests is sorted alone and searched for the asked ones of the same bucket.
Memory: a block of digests, a bucket, and a bit per asked number.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

DIGEST = np.dtype("S16")
"""An id's keyed digest."""
ASKED = np.dtype([("digest", DIGEST), ("number", "<i8")])
"""An asked id's digest and number."""
BUCKET_IDS = 1 << 18
"""Digests of the larger side in a bucket (4 MiB of present ones)."""
MAX_BUCKETS = 256
"""The most bucket files a side is dealt into."""
BLOCK_BITS = 1 << 23
"""Asked numbers :meth:`MissingIds.missing` unpacks at a time."""


class MissingIds:
    """The numbers of the asked ids that are not among the present ones (see the module)."""

    def __init__(self) -> None:
        self._key = os.urandom(16)
        self._present = tempfile.TemporaryFile()  # noqa: SIM115 (closed by missing)
        self._asked = tempfile.TemporaryFile()  # noqa: SIM115
        self._counts = [0, 0]
        self._last = -1
        """The largest number asked."""

    def _digest(self, record_id: str) -> bytes:
        data = record_id.encode("utf-8", "surrogatepass")
        return hashlib.blake2b(data, digest_size=16, key=self._key).digest()

    def have(self, ids: Iterable[str]) -> None:
        """More ids present."""
        digests = b"".join(map(self._digest, ids))
        self._present.write(digests)
        self._counts[0] += len(digests) // DIGEST.itemsize

    def ask(self, numbered: Iterable[tuple[int, str]]) -> None:
        """More ids asked about, each with its number (not negative)."""
        pairs = [(self._digest(record_id), number) for number, record_id in numbered]
        if pairs:
            np.array(pairs, dtype=ASKED).tofile(self._asked)
            self._counts[1] += len(pairs)
            self._last = max(self._last, max(number for _, number in pairs))

    def missing(self) -> Iterator[int]:
        """The numbers asked whose id is not present, ascending (once each). Ends the join."""
        buckets = min(MAX_BUCKETS, max(1, -(-max(self._counts) // BUCKET_IDS)))
        bits = np.zeros(self._last // 8 + 1, np.uint8)
        with self._present, self._asked, tempfile.TemporaryDirectory() as folder:
            present = _deal(self._present, DIGEST, buckets, Path(folder) / "present")
            asked = _deal(self._asked, ASKED, buckets, Path(folder) / "asked")
            for have, wanted in zip(present, asked, strict=True):
                ranked = np.sort(np.fromfile(have, dtype=DIGEST))
                questions = np.fromfile(wanted, dtype=ASKED)
                found = np.zeros(len(questions), bool)
                if len(ranked):
                    at = np.searchsorted(ranked, questions["digest"])
                    found = ranked[np.minimum(at, len(ranked) - 1)] == questions["digest"]
                lacking = questions["number"][~found]
                np.bitwise_or.at(bits, lacking >> 3, (1 << (lacking & 7)).astype(np.uint8))
        for first in range(0, len(bits), BLOCK_BITS // 8):
            block = np.unpackbits(bits[first : first + BLOCK_BITS // 8], bitorder="little")
            yield from (np.flatnonzero(block) + first * 8).tolist()


def _deal(spool: IO[bytes], kind: np.dtype[Any], buckets: int, stem: Path) -> list[Path]:
    """The values of ``spool`` (of dtype ``kind``, read from its start) dealt into
    ``buckets`` files by their digest's first two bytes; the files' paths."""
    paths = [stem.with_name(f"{stem.name}-{at}") for at in range(buckets)]
    handles = [path.open("wb") for path in paths]
    try:
        spool.seek(0)
        while len(block := np.fromfile(spool, dtype=kind, count=BUCKET_IDS)):
            digests = block if kind == DIGEST else block["digest"]
            lead = np.frombuffer(digests.tobytes(), np.uint8).reshape(-1, 16)[:, :2]
            owner = (lead[:, 0].astype(np.int64) << 8 | lead[:, 1]) * buckets >> 16
            order = np.argsort(owner, kind="stable")
            ends = np.searchsorted(owner[order], np.arange(1, buckets + 1))
            for handle, part in zip(handles, np.split(block[order], ends[:-1]), strict=True):
                part.tofile(handle)
    finally:
        for handle in handles:
            handle.close()
    return paths
