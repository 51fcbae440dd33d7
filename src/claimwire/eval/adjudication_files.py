"""Adjudication of annotation set files a batch of documents at a time, its output byte for
byte the whole merge's (:func:`claimwire.eval.adjudication.adjudicate`).

Each batch of the release's documents reads the sets' records naming them (in the
documents' order without an index, else through :class:`~claimwire.grouping.RecordIndex`;
then the documents no release has, which the checks refuse) and merges their items: an
item's versions all name its document. What the whole merge orders and numbers over every
document waits in a temporary SQLite database, keyed by where the item was first
named (set, file, line): the merged items and their conflicts, then, once every batch is
read, numbered in that order (``adj-N``) with the ``(set, id) → merged id`` pairs; the
references are renamed through those pairs (a reference or a relation's end may name an
item of another batch), the relations voted on grouped by their merged ends in the order
first named (``adj-rel-N``). The merged set lists the documents any set annotated as
completed (``completed.txt``: :mod:`claimwire.eval.completed`), so that a document every
annotator completed without a record still counts as annotated when the set is gold. The
files are written as they come, each renamed into place only when the merged set passed the
schema's checks, the list before the annotations. The database is a file SQLite
unlinks as it opens it (under ``SQLITE_TMPDIR`` or ``TMPDIR``), so no way the process ends
leaves it behind; SIGTERM ends the merge as Ctrl-C does, removing what it began to write.
Memory holds a batch's records and SQLite's page cache.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import msgspec

from claimwire.annotation.schema import Schema
from claimwire.corpus.release import DOCUMENTS, open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.adjudication import (
    Adjudication,
    Reference,
    Voting,
    check_policy,
    item_key,
    item_versions,
    merge_item,
    origins,
    reference_attributes,
    voted_relation,
    with_references,
)
from claimwire.eval.checker import TOLERATED, NamedSet, named_sets
from claimwire.eval.completed import COMPLETED, Met
from claimwire.eval.coverage import annotated_documents, annotators
from claimwire.files import atomic_writer, folders_removed_on_error
from claimwire.grouping import RecordIndex, Row
from claimwire.in_order import Batches, NotInOrder, RowsInOrder
from claimwire.model import Annotation, Relation, record_line
from claimwire.scratch_database import CACHE_KIB, disk_errors, temporary_database
from claimwire.spool import decode, encode
from claimwire.storage import stop_on_sigterm

BATCH_DOCUMENTS = 256
"""Documents merged at a time."""
CHECKED = 1000
"""Merged records checked against the schema at a time."""
_FILE_BITS, _SET_BITS = 40, 48
"""Where the file's and the set's numbers go in a position (line numbers below 2**40)."""
_ANNOTATION = msgspec.json.Decoder(Annotation)
_RELATION = msgspec.json.Decoder(Relation)
Vote = tuple[tuple[str, str, str], list[tuple[str, Relation]], list[str]]
"""A relation's type and merged ends, the sets' relations so, and the sets that annotated
its document."""


@dataclass
class Outcome:
    """What a merge wrote: its counts."""

    annotations: int = 0
    relations: int = 0
    conflicts: int = 0
    accepted: int = 0
    resolved: int = 0
    single: int = 0
    """Items of documents one set annotated alone, taken as that set's."""
    alone: dict[str, int] = field(default_factory=dict)
    """Each set's documents no other set annotated."""
    completed: int = 0
    """Documents the merged set lists as completed: those any set annotated."""


@dataclass
class _Problems:
    """The first problems of the merged set: the schema's, then documents not in the
    release (as the whole merge lists them)."""

    release: str
    schema: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)

    def found(self, kind: list[str], problem: str) -> None:
        if len(kind) < 10:
            kind.append(problem)

    def raise_any(self) -> None:
        problems = (self.schema + self.documents)[:10]
        if problems:
            raise ClaimwireError(
                "the merged set does not validate; nothing was written:\n  " + "\n  ".join(problems)
            )


def adjudicate_files(
    paths: Sequence[Path],
    release: Path,
    schema: Schema,
    out: Path,
    conflicts: Path,
    policy: str = "majority",
    *,
    author: str = "adjudicated",
    batch: int | None = None,
) -> Outcome:
    """Merge the sets at ``paths`` into ``out`` (annotations.jsonl, relations.jsonl) and
    list what the policy could not decide in ``conflicts``; ``batch`` documents at a time
    (None: :data:`BATCH_DOCUMENTS`). A merged set that does not validate raises one error
    listing its first problems, and nothing is written."""
    sets = named_sets(paths)
    names = [s.name for s in sets]
    voting = Voting(check_policy(policy, names), author, reference_attributes(schema))
    stop_on_sigterm()
    with disk_errors("the merge"):
        store = _Store(sets, voting)
        try:
            _read(store, sets, release, batch or BATCH_DOCUMENTS)
            return _write(store, schema, out, conflicts, _Problems(str(release)))
        finally:
            store.close()


def _not_empty(count: int, path: Path) -> None:
    if not count:
        raise ClaimwireError(
            "no annotation or relation records (the set is empty or blank); "
            "every set merged needs records: leave this one out",
            file=path,
        )


def _read(store: _Store, sets: list[NamedSet], release: Path, size: int) -> None:
    """Every batch merged into ``store``: in the documents' order without an index when
    the sets are written so, else through each set's index. A set's list of completed
    documents naming a document the release lacks is an error (:class:`Met`)."""
    opened = open_release(release)  # verified once
    try:
        batches = Batches([release / part for part in opened.parts(DOCUMENTS)], size)
        with contextlib.ExitStack() as stack:
            readers = [stack.enter_context(RowsInOrder(s.files, batches)) for s in sets]
            met = _merge_release(store, sets, readers, release, size)
            for reader, annotation_set in zip(readers, sets, strict=True):
                for _ in reader.leftover():  # raises if a record was not taken
                    pass
                _not_empty(reader.count, annotation_set.path)
    except (NotInOrder, ClaimwireError):
        store.reset()
    else:
        _raise_unmet(met, release)
        return
    with contextlib.ExitStack() as stack:
        indexes = [
            stack.enter_context(RecordIndex(s.files, check_relation_ids=False)) for s in sets
        ]
        for index, annotation_set in zip(indexes, sets, strict=True):
            _not_empty(index.count, annotation_set.path)
            if index.duplicates:
                first = index.duplicates[0]
                raise ClaimwireError(
                    f"annotation id {first.id!r} is used twice in the set: the merge takes "
                    "one record per annotation id (references and relations name annotations "
                    "by it); remove the repeated line or give each record its own id",
                    file=first.path,
                    line=first.line,
                )
        _raise_unmet(_merge_release(store, sets, indexes, release, size), release)
        for index in indexes:  # documents of no release: merged, then refused by the checks
            for ids in index.document_batches(size, fresh=True):
                store.merge([other.rows(ids) for other in indexes], True)
        for number, index in enumerate(indexes):
            for rows in index.leftover():
                store.merge([rows if n == number else [] for n in range(len(indexes))], True)


def _merge_release(
    store: _Store,
    sets: Sequence[NamedSet],
    readers: Sequence[RowsInOrder | RecordIndex],
    release: Path,
    size: int,
) -> list[Met]:
    """Merge the release's documents a batch at a time, noting those the sets annotated;
    which listed ids each set's list met."""
    met = [Met(s.completed) for s in sets]
    for ids in _document_batches(release, size):
        annotated = store.merge(
            [reader.rows(ids) for reader in readers], False, _completed(sets, ids)
        )
        store.note_annotated([doc_id for doc_id in ids if doc_id in annotated])
        for listed in met:
            listed.add(ids)
    return met


def _raise_unmet(met: Sequence[Met], release: Path) -> None:
    for listed in met:
        listed.raise_unmet(release)


def _completed(sets: Sequence[NamedSet], ids: Sequence[str]) -> list[set[str]]:
    """Those of ``ids`` each set's list of completed documents names (none without one)."""
    return [s.completed.among(ids) if s.completed is not None else set() for s in sets]


def _document_batches(release: Path, size: int) -> Iterator[list[str]]:
    documents = open_release(release, verify=False).documents()
    while batch := [d.id for d in itertools.islice(documents, size)]:
        yield batch


class _Store:
    """What the batches merged, on disk, keyed by position (set, file, line)."""

    def __init__(self, sets: list[NamedSet], voting: Voting) -> None:
        self.names = [s.name for s in sets]
        self.number = {s.name: n for n, s in enumerate(sets)}
        self.files = [{f: n for n, f in enumerate(s.files)} for s in sets]
        self.voting = voting
        self.tally = Adjudication()
        self.db = temporary_database(CACHE_KIB)
        self._tables()

    def _tables(self) -> None:
        """The tables, in one transaction that is never committed (nothing is kept)."""
        for table in (
            "items (position INTEGER PRIMARY KEY, doc TEXT, record BLOB, refs BLOB, names BLOB,"
            " outside INTEGER)",
            "relations (position INTEGER PRIMARY KEY, setno INTEGER, head TEXT, tail TEXT,"
            " type TEXT, record BLOB, voters BLOB)",
            "ids (setno INTEGER, id TEXT, merged TEXT)",
            "kept (number INTEGER PRIMARY KEY, id TEXT, position INTEGER)",
            "annotated (doc TEXT)",
        ):
            self.db.execute(f"CREATE TABLE {table}")

    def reset(self) -> None:
        """Forget what was merged (the sets are read again another way)."""
        for table in ("items", "relations", "ids", "kept", "annotated"):
            self.db.execute(f"DROP TABLE {table}")
        self._tables()
        self.tally = Adjudication()

    def close(self) -> None:
        self.tally.conflicts.close()
        self.db.close()

    def _position(self, setno: int, path: Path, line: int) -> int:
        return (setno << _SET_BITS) | (self.files[setno][path] << _FILE_BITS) | line

    def merge(
        self,
        rows: Sequence[Sequence[Row]],
        outside: bool,
        completed: Sequence[set[str]] | None = None,
    ) -> set[str]:
        """One batch: each set's rows naming its documents (``outside``: no release's), and
        those of the documents each set's list says were completed; the documents any set
        annotated."""
        first: dict[Any, int] = {}
        annotations: list[tuple[str, Annotation]] = []
        relations = []
        listed = completed or [set()] * len(rows)
        held = [
            annotated_documents((record for _, _, record in found), done)
            for found, done in zip(rows, listed, strict=True)
        ]
        self.tally.count_alone(self.names, held)
        voters: dict[str, list[str]] = {}
        for doc_id in set().union(*held):
            voters[doc_id] = annotators(doc_id, self.names, held)
        for setno, (name, found) in enumerate(zip(self.names, rows, strict=True)):
            for path, line, record in found:
                position = self._position(setno, path, line)
                if isinstance(record, Relation):
                    ends = (record.head, record.tail, record.type)
                    voted = encode(voters[record.doc_id])
                    relations.append((position, setno, *ends, encode(record), voted))
                    continue
                annotations.append((name, record))
                first.setdefault(item_key(record), position)
        items, conflicts = [], []
        for key, by_set in item_versions(annotations).items():
            position = first[key] << 1
            merged = merge_item(
                key,
                by_set,
                voters[key[0]],
                self.voting.preferred,
                self.tally,
                lambda conflict: conflicts.append((position, encode(conflict))),  # noqa: B023
            )
            if merged is not None:
                names = [(self.number[n], a.id) for n, a in by_set.items()]
                refs = origins(merged, by_set, self.voting.references)
                items.append(
                    (
                        position | 1,
                        key[0],
                        encode(merged),
                        encode(refs),
                        encode(names),
                        outside,
                    )
                )
        self.db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)", items)
        self.db.executemany("INSERT INTO items (position, record) VALUES (?, ?)", conflicts)
        self.db.executemany("INSERT INTO relations VALUES (?, ?, ?, ?, ?, ?, ?)", relations)
        return set(voters)

    def note_annotated(self, documents: Sequence[str]) -> None:
        """Documents of the release some set annotated, in the release's order."""
        self.db.executemany("INSERT INTO annotated VALUES (?)", ((d,) for d in documents))

    def annotated(self) -> Iterator[str]:
        """The documents noted, in order."""
        rows = self.db.execute("SELECT doc FROM annotated ORDER BY rowid")
        while chunk := rows.fetchmany(CHECKED):
            for (doc_id,) in chunk:
                yield doc_id

    def number_items(self, conflict: _Writer) -> None:
        """Number the kept items in the order first named, note which ids they merge, and
        write the items' conflicts (in that order)."""
        kept = 0
        rows = self.db.execute(
            "SELECT position, doc, names, IIF(position & 1, NULL, record) FROM items"
        )
        while chunk := rows.fetchmany(CHECKED):
            numbered, ids = [], []
            for position, doc, names, conflict_record in chunk:
                if conflict_record is not None:
                    conflict.write(conflict_record)
                    continue
                kept += 1
                new_id = f"{doc}:adj-{kept}"
                numbered.append((kept, new_id, position))
                ids += [(s, i, new_id) for s, i in decode(names)]
            self.db.executemany("INSERT INTO kept VALUES (?, ?, ?)", numbered)
            self.db.executemany("INSERT INTO ids VALUES (?, ?, ?)", ids)
        # an id is in one item of its set (a set with an id twice is refused)
        self.db.execute("CREATE INDEX ids_key ON ids (setno, id)")
        self.db.execute("CREATE INDEX kept_ids ON kept (id)")

    def lookup(self, name: str, item: str) -> str | None:
        setno = self.number.get(name)
        if setno is None:
            return None
        found = self.db.execute(
            "SELECT merged FROM ids WHERE setno = ? AND id = ?", (setno, item)
        ).fetchone()
        return None if found is None else str(found[0])

    def merged(self, ids: Iterable[Any]) -> list[Annotation]:
        """The merged items with these ids (for the checks: their document and label)."""
        found = []
        for new_id in dict.fromkeys(i for i in ids if isinstance(i, str)):
            row = self.db.execute(
                "SELECT i.record FROM kept k CROSS JOIN items i ON i.position = k.position"
                " WHERE k.id = ?",
                (new_id,),
            ).fetchone()
            if row is not None:
                found.append(msgspec.structs.replace(_ANNOTATION.decode(row[0]), id=new_id))
        return found

    def annotations(self) -> Iterator[tuple[Annotation, list[Reference], bool]]:
        """The kept items in order, numbered, with their references still to rename."""
        author = self.voting.author
        rows = self.db.execute(
            "SELECT k.id, i.record, i.refs, i.outside FROM kept k"
            " CROSS JOIN items i ON i.position = k.position ORDER BY k.number"
        )
        while chunk := rows.fetchmany(CHECKED):
            for new_id, record, refs, outside in chunk:
                merged = _ANNOTATION.decode(record)
                numbered = msgspec.structs.replace(merged, id=new_id, author=author)
                refs = [(name, origin, value) for name, origin, value in decode(refs)]
                yield numbered, refs, bool(outside)

    def votes(self) -> Iterator[Vote]:
        """The relations between kept items grouped by type and merged ends, in the order
        each group is first named, each group's in the sets' order, with the sets that
        annotated the document of the group's first."""
        self.db.execute(
            """
            CREATE TABLE votes AS
                SELECT r.position, r.type, h.merged AS head, t.merged AS tail, r.setno, r.record,
                       r.voters
                FROM relations r
                CROSS JOIN ids h ON h.setno = r.setno AND h.id = r.head
                CROSS JOIN ids t ON t.setno = r.setno AND t.id = r.tail
            """
        )
        self.db.execute("CREATE INDEX votes_ends ON votes (type, head, tail, position)")
        rows = self.db.execute(
            """
            SELECT MIN(position) OVER (PARTITION BY type, head, tail) AS first,
                   type, head, tail, setno, record, voters
            FROM votes ORDER BY first, position
            """
        )
        group: list[tuple[str, Relation]] = []
        vote: tuple[str, str, str] | None = None
        at: int | None = None
        voters: list[str] = []
        while chunk := rows.fetchmany(CHECKED):
            for first, kind, head, tail, setno, record, named in chunk:
                if first != at and vote is not None:
                    yield vote, group, voters
                    group = []
                if first != at:
                    voters = decode(named)
                at, vote = first, (kind, head, tail)
                group.append((self.names[setno], _RELATION.decode(record)))
        if vote is not None:
            yield vote, group, voters


class _Writer:
    """Conflicts written as JSON lines (as the whole merge's spool gives them back)."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.count = 0

    def write(self, encoded: bytes) -> None:
        self.handle.write(json.dumps(decode(encoded), ensure_ascii=False) + "\n")
        self.count += 1

    def add(self, conflict: dict[str, Any]) -> None:
        self.write(encode(conflict))


def _write(
    store: _Store, schema: Schema, out: Path, conflicts_path: Path, problems: _Problems
) -> Outcome:
    """Number, rename and check what ``store`` holds, writing the three files; each is
    renamed into place only if the merged set validates."""
    tally = store.tally
    outcome = Outcome(
        accepted=tally.accepted,
        resolved=tally.resolved,
        single=tally.single,
        alone={name: tally.alone[name] for name in store.names if tally.alone[name]},
    )
    with folders_removed_on_error(out, conflicts_path.parent), contextlib.ExitStack() as stack:
        annotations = stack.enter_context(atomic_writer(out / "annotations.jsonl"))
        relations = stack.enter_context(atomic_writer(out / "relations.jsonl"))
        conflicts = _Writer(stack.enter_context(atomic_writer(conflicts_path)))
        listed = stack.enter_context(atomic_writer(out / COMPLETED))  # in place first
        for doc_id in store.annotated():
            listed.write(f"{doc_id}\n")
            outcome.completed += 1
        store.number_items(conflicts)
        outcome.annotations = _write_annotations(store, schema, annotations, conflicts, problems)
        outcome.relations = _write_relations(store, schema, relations, conflicts, problems)
        outcome.conflicts = conflicts.count
        problems.raise_any()
    return outcome


def _write_annotations(
    store: _Store, schema: Schema, handle: TextIO, conflicts: _Writer, problems: _Problems
) -> int:
    count = 0
    items = store.annotations()
    while chunk := list(itertools.islice(items, CHECKED)):
        checked = []
        for merged, refs, outside in chunk:
            annotation = with_references(merged, refs, store.lookup, conflicts.add)
            handle.write(record_line(annotation))
            checked.append(annotation)
            if outside:
                problems.found(
                    problems.documents, f"{annotation.id}: not a document of {problems.release}"
                )
        targets = store.merged(
            v for a in checked for k, v in a.attributes.items() if k in store.voting.references
        )
        _check(schema, checked, [], targets, problems)
        count += len(chunk)
    return count


def _write_relations(
    store: _Store, schema: Schema, handle: TextIO, conflicts: _Writer, problems: _Problems
) -> int:
    count = 0
    votes = store.votes()
    while chunk := list(itertools.islice(votes, CHECKED)):
        checked = []
        for vote, supporters, voters in chunk:
            relation = voted_relation(
                vote, supporters, store.voting, voters, count + 1, store.lookup, conflicts.add
            )
            if relation is not None:
                handle.write(record_line(relation))
                checked.append(relation)
                count += 1
        ends = [
            v
            for r in checked
            for v in (r.head, r.tail, *(r.attributes.get(k) for k in store.voting.references))
        ]
        _check(schema, [], checked, store.merged(ends), problems)
    return count


def _check(
    schema: Schema,
    annotations: list[Annotation],
    relations: list[Relation],
    context: list[Annotation],
    problems: _Problems,
) -> None:
    """The schema's checks of merged records, their references' targets given."""
    if len(problems.schema) >= 10:
        return
    for finding in schema.findings(annotations, relations, context):
        if finding.code not in TOLERATED:
            problems.found(
                problems.schema, f"{finding.record.id}: {finding.code}: {finding.message}"
            )
