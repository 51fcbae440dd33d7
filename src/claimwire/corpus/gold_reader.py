"""A release folder's gold read back a batch of documents at a time: indexed by document in
one pass (:class:`claimwire.grouping.RecordIndex`: a few numbers per run of lines, no record
held), then each batch reads the lines of its own documents only::

    with GoldReader(folder, annotation_parts, relation_parts) as gold:
        for batch in batches(gold.documents, 256):
            found = gold.of(batch)  # {document: (annotations, relations)}
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from claimwire.grouping import RecordIndex
from claimwire.model import Annotation, Relation

Gold = tuple[list[Annotation], list[Relation]]
"""Gold annotations and relations (of one or more documents)."""


class GoldReader:
    def __init__(self, folder: Path, annotations: Sequence[str], relations: Sequence[str]) -> None:
        self._index = RecordIndex(
            [folder / part for part in (*annotations, *relations)],
            check_ids=False,
            kinds=[Annotation] * len(annotations) + [Relation] * len(relations),
        )

    @property
    def documents(self) -> list[str]:
        """The documents the gold names, in the order they first come (annotations first)."""
        return self._index.documents

    def of(self, doc_ids: Sequence[str]) -> dict[str, Gold]:
        """Each of these documents' gold, in file order (only documents that have some)."""
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

    def __enter__(self) -> GoldReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
