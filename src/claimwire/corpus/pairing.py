"""How a build pairs its documents with its parent release's. A document whose own id is a
parent document's is that document (the id hashes the text); else it goes by the user's id
(``meta.source_id``, from a raw JSONL line's ``id``), then by input (file, and line in a
JSONL input; ``x.jsonl``, ``x.jsonl.gz`` and ``x.jsonl.zst`` are one input). A paired
document is the same document's next version: it keeps the parent's split."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from claimwire.corpus.changes import AnnotationChanges, DocumentChanges, DocumentKey
from claimwire.corpus.raw_folder import RawInputs
from claimwire.errors import ClaimwireError
from claimwire.files import sha256
from claimwire.model import Document
from claimwire.spool import Spool, spilled_sorted

SOURCE_ID = "source_id"
"""The ``meta`` key of a document's id in the user's own data."""
SOURCE_ID_CHARS = 256
"""The longest such id, in characters."""
_COMPRESSED = re.compile(r"\.jsonl(?:\.gz|\.zst)?(#L[0-9]+)?$", re.IGNORECASE)
"""A JSONL input's name ending (compressed or not, in any case), with its line if given."""


def input_name(source: str) -> str:
    """``source`` (a file, and ``#L<line>``) as one input whatever its compression:
    ``x.JSONL.zst#L3`` → ``x.jsonl#L3``; any other name as it is."""
    return _COMPRESSED.sub(r".jsonl\1", source)


def source_key(meta: Mapping[str, Any]) -> str:
    """The input a document was read from: its file, and ``#L<line>`` in a JSONL input
    (:func:`input_name`)."""
    line = meta.get("source_line")
    return input_name(str(meta.get("source_file")) + (f"#L{line}" if line else ""))


def id_key(source_id: str) -> str:
    """The key of a document with a user's id, apart from every input's (no file name holds
    a NUL)."""
    return "\x00" + source_id


def document_key(doc_id: str) -> str:
    """The key of a document by its own id (its text's hash), apart from the others."""
    return "\x01" + doc_id


def pairing_key(meta: Mapping[str, Any]) -> str:
    """The key a released document is paired by after its own id: its user's id, else its
    input."""
    source_id = meta.get(SOURCE_ID)
    return id_key(source_id) if isinstance(source_id, str) else source_key(meta)


def candidate_keys(source_id: str | None, source: str) -> tuple[str, ...]:
    """The keys a new document is paired with a parent document by after its own id, in
    turn: its user's id, then its input (the parent's document there has no id when the
    parent was built before ids were kept); its input alone when it has no id."""
    source = input_name(source)
    return (source,) if source_id is None else (id_key(source_id), source)


def _document_key(document: Document) -> DocumentKey:
    return DocumentKey(document.id, sha256(document.text), document.split)


def pairing_keys(documents: Iterable[Document]) -> Iterator[tuple[tuple[str, str], DocumentKey]]:
    """``(keys, key)`` of each document of a parent: its own id's, then its
    :func:`pairing_key`."""
    for document in documents:
        yield (document_key(document.id), pairing_key(document.meta)), _document_key(document)


def new_keys(doc_id: str, source_id: str | None, source: str) -> tuple[str, ...]:
    """The keys a new document is paired by, in turn: its own id's, then its
    :func:`candidate_keys`."""
    return (document_key(doc_id), *candidate_keys(source_id, source))


def new_pairing_keys(
    documents: Iterable[Document],
) -> Iterator[tuple[tuple[str, ...], DocumentKey]]:
    """``(keys, key)`` of each document (:func:`new_keys`): a new version's side."""
    for document in documents:
        source_id = document.meta.get(SOURCE_ID)
        given = source_id if isinstance(source_id, str) else None
        keys = new_keys(document.id, given, source_key(document.meta))
        yield keys, _document_key(document)


class _Pair(NamedTuple):
    at: int
    """The new document's place in the build."""
    new: DocumentKey
    keys: tuple[str, ...]
    """Its keys after its own id's (empty when it is paired by its own id)."""


class ParentDocuments:
    """The parent release's documents by their keys (:func:`pairing_keys`), and the new
    documents paired with them so far: one each. A new document with a parent document's own
    id is paired with it, taking it from one paired by another key, which then tries its keys
    again (so the build pairs as ``corpus diff`` does, whatever the order)."""

    def __init__(self, keyed: Iterable[tuple[Sequence[str], DocumentKey]]) -> None:
        self.documents: dict[str, DocumentKey] = {}
        """By own id key, in the parent's order."""
        self.inputs: dict[str, str] = {}
        """Own id key of the first parent document of each further key."""
        self.more: dict[str, list[str]] = {}
        """The others of a key two parent documents have (two files that are one input)."""
        for keys, key in keyed:
            own, *others = keys
            self.documents.setdefault(own, key)
            for other in others:
                if self.inputs.setdefault(other, own) != own:
                    self.more.setdefault(other, []).append(own)
        self.pairs: dict[str, _Pair] = {}
        self.added: list[tuple[int, str]] = []

    def pair(self, at: int, keys: Sequence[str], new: DocumentKey) -> DocumentKey | None:
        """Pair the build's ``at``-th document (``keys``, :func:`new_keys`): the parent
        document it is a version of, if any."""
        own, *others = keys
        before = self.documents.get(own)
        if before is None:
            return self._by_input(_Pair(at, new, tuple(others)))
        taken = self.pairs.get(own)
        self.pairs[own] = _Pair(at, new, ())
        if taken is not None:  # paired with it by input, the same text has come
            self._by_input(taken)
        return before

    def _by_input(self, pair: _Pair) -> DocumentKey | None:
        for key in pair.keys:
            first = self.inputs.get(key)
            owners = () if first is None else (first, *self.more.get(key, ()))
            found = next((own for own in owners if own not in self.pairs), None)
            if found is not None:
                self.pairs[found] = pair
                return self.documents[found]
        self.added.append((pair.at, pair.new.doc_id))
        return None

    def changes(self) -> DocumentChanges:
        """What changed: each list in its side's order (removed in the parent's, the rest
        in the build's)."""
        changes = DocumentChanges()
        changed: list[tuple[int, tuple[str, str]]] = []
        for own, before in self.documents.items():
            pair = self.pairs.get(own)
            if pair is None:
                changes.removed.append(before.doc_id)
            elif pair.new.text_sha256 != before.text_sha256:
                changed.append((pair.at, (before.doc_id, pair.new.doc_id)))
            else:
                changes.unchanged += 1
        changes.changed = [pair for _, pair in sorted(changed)]
        changes.added = [doc_id for _, doc_id in sorted(self.added)]
        return changes


SHOWN_UNPAIRED = 5
"""Parent documents a refused build names among those no longer paired."""


def check_gold_kept(parent: str, documents: DocumentChanges, gold: AnnotationChanges) -> None:
    """Refuse a build that would drop more than half of ``parent``'s gold annotations (its
    documents no longer pair, or their quotes are gone from edited texts): a raw file
    renamed and edited, or left out, would otherwise drop it with exit 0. The error counts
    what would be lost and names the first documents no longer paired."""
    orphaned = len(gold.orphaned)
    lost = len(gold.removed) + orphaned
    if lost * 2 <= lost + gold.kept + len(gold.reanchored):
        return
    unpaired = documents.removed
    first = ", ".join(unpaired[:SHOWN_UNPAIRED]) + (" …" if len(unpaired) > SHOWN_UNPAIRED else "")
    why = (
        [
            f"{len(unpaired):,} of its documents "
            f"{'pairs' if len(unpaired) == 1 else 'pair'} with none of this build (neither their "
            f"text, your id nor their input, file and line, is there: {first})"
        ]
        if unpaired
        else []
    )
    if orphaned:
        why.append(f"{orphaned:,} annotations' quotes are gone from edited texts")
    raise ClaimwireError(
        f"this build would drop {lost:,} of {parent}'s {lost + gold.kept + len(gold.reanchored):,} "
        f"gold annotations: {' and '.join(why)}; nothing was written. Restore the raw inputs "
        "that held them, or pass --allow-gold-loss to build without that gold"
    )


def check_one_input_per_name(inputs: RawInputs) -> None:
    """Refuse two raw files that are one input (:func:`input_name`: ``x.jsonl`` beside
    ``x.jsonl.zst``): their lines would be paired by the same keys. Their names are sorted on
    disk, so memory holds a run of them."""
    jsonl = (relative for _, relative in inputs.listed if _COMPRESSED.search(relative))
    earlier: list[str] | None = None
    with contextlib.closing(Spool([input_name(name), name] for name in jsonl)) as names:
        for entry in spilled_sorted(names):
            if earlier is not None and earlier[0] == entry[0]:
                raise ClaimwireError(
                    f"{earlier[1]} and {entry[1]} are one input (the same JSONL file, "
                    "compressed or not): keep one of them in the raw folder",
                    file=inputs.folder / entry[1],
                )
            earlier = entry


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
