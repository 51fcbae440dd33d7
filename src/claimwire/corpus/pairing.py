"""How a build pairs its documents with its parent release's: by the user's own id
(``meta.source_id``, from a raw JSONL line's ``id``), else by input (file, and line in a JSONL
input). A paired document is the same document's new version: it keeps the parent's split."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from claimwire.corpus.changes import DocumentKey
from claimwire.errors import ClaimwireError
from claimwire.files import sha256
from claimwire.model import Document
from claimwire.spool import Spool, spilled_sorted

SOURCE_ID = "source_id"
"""The ``meta`` key of a document's id in the user's own data."""
SOURCE_ID_CHARS = 256
"""The longest such id, in characters."""


def source_key(meta: Mapping[str, Any]) -> str:
    """The input a document was read from: its file, and ``#L<line>`` in a JSONL input."""
    line = meta.get("source_line")
    return str(meta.get("source_file")) + (f"#L{line}" if line else "")


def id_key(source_id: str) -> str:
    """The key of a document with a user's id, apart from every input's (no file name holds
    a NUL)."""
    return "\x00" + source_id


def pairing_key(meta: Mapping[str, Any]) -> str:
    """The key a released document is paired by: its user's id, else its input."""
    source_id = meta.get(SOURCE_ID)
    return id_key(source_id) if isinstance(source_id, str) else source_key(meta)


def candidate_keys(source_id: str | None, source: str) -> tuple[str, ...]:
    """The keys a new document is paired with a parent document by, in turn: its user's id,
    then its input (the parent's document there has no id when the parent was built before
    ids were kept); its input alone when it has no id. Unpaired, it goes by the first."""
    return (source,) if source_id is None else (id_key(source_id), source)


def _document_key(document: Document) -> DocumentKey:
    return DocumentKey(document.id, sha256(document.text), document.split)


def pairing_keys(documents: Iterable[Document]) -> Iterator[tuple[str, DocumentKey]]:
    """``(pairing key, key)`` of each document (:func:`pairing_key`): a parent's side."""
    for document in documents:
        yield pairing_key(document.meta), _document_key(document)


def new_pairing_keys(
    documents: Iterable[Document],
) -> Iterator[tuple[tuple[str, ...], DocumentKey]]:
    """``(keys, key)`` of each document (:func:`candidate_keys`): a new version's side."""
    for document in documents:
        source_id = document.meta.get(SOURCE_ID)
        given = source_id if isinstance(source_id, str) else None
        yield candidate_keys(given, source_key(document.meta)), _document_key(document)


class ParentDocuments:
    """The parent release's documents by pairing key (a key and a :class:`DocumentKey` held
    for each)."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.keys: dict[str, DocumentKey] = dict(pairing_keys(documents))

    def pair(self, source_id: str | None, source: str) -> tuple[str, DocumentKey | None]:
        """The key a new document goes by, and the parent document it is a version of, if
        any: the first of its :func:`candidate_keys` that a parent document has."""
        keys = candidate_keys(source_id, source)
        found = next((key for key in keys if key in self.keys), None)
        return (keys[0], None) if found is None else (found, self.keys[found])


def check_unique_ids(found: Spool, root: Path) -> None:
    """Refuse an id that names two documents of a build: ``found`` holds ``[id, file,
    line]`` per document with one (sorted on disk, so memory holds a run of them)."""
    earlier: list[Any] | None = None
    for entry in spilled_sorted(found):
        if earlier is not None and earlier[0] == entry[0]:
            raise ClaimwireError(
                f"{entry[0]!r} is already the id of {root / earlier[1]} line {earlier[2]}: an "
                "id names one document",
                file=root / entry[1],
                line=entry[2],
                field="id",
            )
        earlier = entry
