"""The gold of a batch of documents, for systems whose task gives gold as input (the stance
task's pairs and their attribution).

A release's gold is read back a batch of documents at a time
(:class:`claimwire.corpus.gold_reader.GoldReader`); gold given in memory (a caller that
already holds it) is grouped once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from claimwire.corpus.gold_reader import Gold, GoldReader
from claimwire.corpus.release import ANNOTATIONS, RELATIONS, Release
from claimwire.model import Annotation, Relation


class GoldSource(Protocol):
    def of(self, doc_ids: Sequence[str]) -> dict[str, Gold]:
        """Each of these documents' gold (only documents that have some)."""
        ...

    def close(self) -> None: ...


class HeldGold:
    """Gold the caller holds, grouped by document."""

    def __init__(self, annotations: Iterable[Annotation], relations: Iterable[Relation]) -> None:
        self._by_document: dict[str, Gold] = {}
        for annotation in annotations:
            self._by_document.setdefault(annotation.doc_id, ([], []))[0].append(annotation)
        for relation in relations:
            self._by_document.setdefault(relation.doc_id, ([], []))[1].append(relation)

    def of(self, doc_ids: Sequence[str]) -> dict[str, Gold]:
        return {d: self._by_document[d] for d in doc_ids if d in self._by_document}

    def close(self) -> None:
        pass


def release_gold(release: Release) -> GoldReader:
    """A release's gold, read back a batch of documents at a time."""
    return GoldReader(release.path, release.parts(ANNOTATIONS), release.parts(RELATIONS))
