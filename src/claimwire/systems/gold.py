"""The gold of a batch of documents, for systems whose task gives gold as input (the stance
task's pairs and their attribution).

A release's gold is indexed by document in one pass (:class:`claimwire.grouping.RecordIndex`:
a few numbers per run of lines, no record held), and each batch reads back the lines of its
own documents only. Gold given in memory (a caller that already holds it) is grouped once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from claimwire.corpus.release import ANNOTATIONS, RELATIONS, Release
from claimwire.grouping import RecordIndex
from claimwire.model import Annotation, Relation

Gold = tuple[list[Annotation], list[Relation]]
"""Gold annotations and relations (of one or more documents)."""


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


class ReleaseGold:
    """A release's gold, read back a batch of documents at a time."""

    def __init__(self, release: Release) -> None:
        annotations, relations = release.parts(ANNOTATIONS), release.parts(RELATIONS)
        self._index = RecordIndex(
            [release.path / part for part in (*annotations, *relations)],
            check_ids=False,
            kinds=[Annotation] * len(annotations) + [Relation] * len(relations),
        )

    def of(self, doc_ids: Sequence[str]) -> dict[str, Gold]:
        found: dict[str, Gold] = {}
        for _, _, record in self._index.rows(doc_ids):
            pair = found.setdefault(record.doc_id, ([], []))
            if isinstance(record, Annotation):
                pair[0].append(record)
            else:
                pair[1].append(record)
        return found

    def close(self) -> None:
        self._index.close()
