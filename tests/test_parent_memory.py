"""A build on a parent release looks its documents up on disk: memory holds neither the
parent's documents (their keys, ids and text digests) nor the pairs made, so it does not grow
with the parent (before: dicts of about 1 KB a parent document, 9.4 MB at 10,000 synthetic
documents)."""

from __future__ import annotations

import tracemalloc

from claimwire.corpus.changes import DocumentKey
from claimwire.corpus.pairing import ParentDocuments, id_key, new_keys

LONG_ID = "wire-release-" + "x" * 200
"""Users' ids as long as a long URL: what an index of them in memory would hold."""


def _parent(count: int) -> list[tuple[tuple[str, str], DocumentKey]]:
    return [
        (
            (f"\x01doc-{k:07d}", id_key(f"{LONG_ID}-{k}")),
            DocumentKey(f"doc-{k:07d}", f"{k:064x}", "train"),
        )
        for k in range(count)
    ]


def _traced_peak(count: int) -> int:
    """The traced peak of pairing a parent of ``count`` documents with as many new ones
    (every third edited, by the user's id; the last ten new)."""
    parent = _parent(count)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        pairs = ParentDocuments(iter(parent))
        for at in range(count + 10):
            edited = at % 3 == 0 or at >= count
            doc_id = f"new-{at:07d}" if edited else f"doc-{at:07d}"
            keys = new_keys(doc_id, f"{LONG_ID}-{at}", f"releases.jsonl#L{at + 1}")
            pairs.pair(at, keys, DocumentKey(doc_id, f"{'e' if edited else ''}{at:064x}"))
        changes = pairs.changes()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert changes.unchanged == count - len(changes.changed)
    assert len(changes.changed) == (count + 2) // 3 and len(changes.added) == 10
    assert changes.removed == []
    return peak


def test_pairing_with_a_parent_holds_nothing_per_parent_document() -> None:
    """1,000 and 10,000 parent documents: the same traced peak within 1 MB (before: 0.66 and
    6.3 MB)."""
    small, large = _traced_peak(1_000), _traced_peak(10_000)
    assert large - small < 1_000_000, (small, large)
