"""One batch of a release's documents with their annotations, indexed as the tables need,
and what an export saw of them all."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Any

from datasets import Features, Value

from claimwire.model import Annotation, Document, Relation

Row = tuple[str, dict[str, Any]]
"""A table row and the split it belongs to."""


def row_features(**fields: Any) -> Features:
    """A row of an annotation table: its id, its document and split, then ``fields``."""
    return Features(
        {"id": Value("string"), "doc_id": Value("string"), "split": Value("string"), **fields}
    )


def by_split(rows: Iterable[Row]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for split, row in rows:
        grouped[split].append(row)
    return dict(grouped)


class Gold:
    """The annotations and relations of a batch of documents; ``carried``: the labels the
    fixed configs read (:meth:`labelled` gives only those)."""

    def __init__(
        self,
        documents: list[Document],
        annotations: Iterable[Annotation],
        relations: Iterable[Relation],
        carried: Container[str],
    ) -> None:
        self.documents = {d.id: d for d in documents}
        self.annotations = list(annotations)
        self.relations = list(relations)
        self.carried = carried
        self.by_id = {a.id: a for a in self.annotations}
        self.heads: dict[str, list[Relation]] = defaultdict(list)
        for relation in self.relations:
            self.heads[relation.head].append(relation)

    def text(self, annotation: Annotation | None) -> str | None:
        if annotation is None or annotation.start is None:
            return None
        return self.documents[annotation.doc_id].text[annotation.start : annotation.end]

    def split(self, annotation: Annotation | Relation) -> str:
        return self.documents[annotation.doc_id].split

    def row(self, record: Annotation | Relation, fields: dict[str, Any]) -> Row:
        """A table row of ``record``: its split, and its id, document and split, then ``fields``."""
        split = self.split(record)
        return split, {"id": record.id, "doc_id": record.doc_id, "split": split, **fields}

    def labelled(self, *labels: str) -> list[Annotation]:
        """The annotations of ``labels`` that the fixed configs read."""
        return [a for a in self.annotations if a.label in labels and a.label in self.carried]


SEEN_NAMES = 2
"""Issuers and gold authors an export keeps: the card says "one" or "several"."""


@dataclass
class Seen:
    """What an export saw of a release while writing it, in memory flat in its size: its
    documents' splits and languages, and up to :data:`SEEN_NAMES` issuers and gold authors."""

    documents: int = 0
    splits: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    issuers: set[str] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)

    def add(self, gold: Gold) -> None:
        for document in gold.documents.values():
            self.documents += 1
            self.splits.add(document.split)
            if document.lang:
                self.languages.add(str(document.lang))
            issuer = document.meta.get("issuer")
            if issuer and len(self.issuers) < SEEN_NAMES:
                self.issuers.add(str(issuer))
        for annotation in gold.annotations:
            if len(self.authors) >= SEEN_NAMES:
                break
            self.authors.add(annotation.author)
