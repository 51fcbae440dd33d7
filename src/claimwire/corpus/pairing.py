"""How a build pairs its documents with its parent release's. A document whose own id is a
parent document's is that document (the id hashes the text); else it goes by the user's id
(``meta.source_id``, from a raw JSONL line's ``id``), then by input (file, and line in a
JSONL input; ``x.jsonl``, ``x.jsonl.gz`` and ``x.jsonl.zst`` are one input). A paired
document is the same document's next version: it keeps the parent's split."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from claimwire.corpus.changes import AnnotationChanges, DocumentChanges, DocumentKey
from claimwire.corpus.raw_folder import RawInputs
from claimwire.errors import ClaimwireError
from claimwire.files import sha256
from claimwire.model import Document
from claimwire.scratch_database import temporary_database
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


PAIRING_CACHE_KIB = 2 * 1024
"""SQLite's page cache for a build's parent documents (the rest of them stay on disk)."""


class ParentDocuments:
    """The parent release's documents by their keys (:func:`pairing_keys`), and the new
    documents paired with them so far: one each. A new document with a parent document's own
    id is paired with it, taking it from one paired by another key, which then tries its keys
    again (so the build pairs as ``corpus diff`` does, whatever the order).

    Both sides are kept in a temporary database on disk
    (:func:`claimwire.scratch_database.temporary_database`): memory holds its page cache,
    not the parent's documents (before, about 1 KB a document of the parent in dicts: 95 MB
    at 100,000). The documents added are spooled (:class:`claimwire.spool.Spool`). Close it
    when done (:meth:`changes` does)."""

    def __init__(self, keyed: Iterable[tuple[Sequence[str], DocumentKey]]) -> None:
        self._db = temporary_database(PAIRING_CACHE_KIB)
        # documents: the parent's, by place (the first of an own id key); the pair of each,
        # once it has one: the new document's place, id, text hash and further keys
        self._db.execute(
            "CREATE TABLE documents (place INTEGER PRIMARY KEY, own TEXT UNIQUE, doc_id TEXT,"
            " text_sha256 TEXT, split TEXT, at INTEGER, new_id TEXT, new_sha256 TEXT,"
            " keys TEXT)"
        )
        # inputs: each further key of a parent document, in the parent's order
        self._db.execute("CREATE TABLE inputs (key TEXT, place INTEGER, own TEXT)")
        places = itertools.count()

        def rows() -> Iterator[tuple[int, str, str, str, str]]:
            for keys, key in keyed:
                place = next(places)
                others.extend((other, place, keys[0]) for other in keys[1:])
                yield place, keys[0], key.doc_id, key.text_sha256, key.split
                if len(others) >= _ROWS_AT_ONCE:
                    self._db.executemany("INSERT INTO inputs VALUES (?, ?, ?)", others)
                    others.clear()

        others: list[tuple[str, int, str]] = []
        self._db.executemany(
            "INSERT OR IGNORE INTO documents (place, own, doc_id, text_sha256,"
            " split) VALUES (?, ?, ?, ?, ?)",
            rows(),
        )
        self._db.executemany("INSERT INTO inputs VALUES (?, ?, ?)", others)
        self._db.execute("CREATE INDEX inputs_by_key ON inputs (key, place)")
        self.added = Spool()
        """``[at, doc_id]`` of each new document paired with none (in the order found)."""

    def pair(self, at: int, keys: Sequence[str], new: DocumentKey) -> DocumentKey | None:
        """Pair the build's ``at``-th document (``keys``, :func:`new_keys`): the parent
        document it is a version of, if any."""
        own, *others = keys
        found = self._db.execute(
            "SELECT doc_id, text_sha256, split, at, new_id, new_sha256, keys FROM documents"
            " WHERE own = ?",
            (own,),
        ).fetchone()
        if found is None:
            return self._by_input(at, new, others)
        self._db.execute(
            "UPDATE documents SET at = ?, new_id = ?, new_sha256 = ?, keys = '[]' WHERE own = ?",
            (at, new.doc_id, new.text_sha256, own),
        )
        if found[3] is not None:  # paired with it by input, the same text has come
            self._by_input(found[3], DocumentKey(found[4], found[5]), json.loads(found[6]))
        return DocumentKey(*found[:3])

    def _by_input(self, at: int, new: DocumentKey, keys: Sequence[str]) -> DocumentKey | None:
        for key in keys:
            found = self._db.execute(
                "SELECT documents.place, doc_id, text_sha256, split FROM inputs JOIN documents"
                " ON documents.own = inputs.own WHERE key = ? AND documents.at IS NULL"
                " ORDER BY inputs.place LIMIT 1",
                (key,),
            ).fetchone()
            if found is not None:
                self._db.execute(
                    "UPDATE documents SET at = ?, new_id = ?, new_sha256 = ?, keys = ?"
                    " WHERE place = ?",
                    (at, new.doc_id, new.text_sha256, json.dumps(list(keys)), found[0]),
                )
                return DocumentKey(*found[1:])
        self.added.append([at, new.doc_id])
        return None

    def changes(self) -> DocumentChanges:
        """What changed: each list in its side's order (removed in the parent's, the rest
        in the build's). Ends the look-ups (the database is closed)."""
        changes = DocumentChanges()
        changed: list[tuple[int, tuple[str, str]]] = []
        rows = self._db.execute(
            "SELECT doc_id, text_sha256, at, new_id, new_sha256 FROM documents ORDER BY place"
        )
        for doc_id, text_sha256, at, new_id, new_sha256 in rows:
            if at is None:
                changes.removed.append(doc_id)
            elif new_sha256 != text_sha256:
                changed.append((at, (doc_id, new_id)))
            else:
                changes.unchanged += 1
        changes.changed = [pair for _, pair in sorted(changed)]
        changes.added = Spool(doc_id for _, doc_id in spilled_sorted(self.added, key=itemgetter(0)))
        self.close()
        return changes

    def close(self) -> None:
        """Remove the database and the spool (nothing of them is kept)."""
        self._db.close()
        self.added.close()


_ROWS_AT_ONCE = 1_000
"""Rows of further keys inserted together."""


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
