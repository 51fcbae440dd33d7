"""The format checker: every prediction file passes it before it is scored (CheckThat!'s way).

A prediction file is one JSONL annotation set: annotation records (``label``, offsets…)
and relation records (``type``, ``head``, ``tail``) mixed in any order. A folder with
``annotations.jsonl`` and ``relations.jsonl`` (an annotator's set, a release) works too.
"""

from __future__ import annotations

import contextlib
import os
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress
from operator import attrgetter, eq, not_
from pathlib import Path
from typing import Any, Protocol

from claimwire.annotation.schema import Schema
from claimwire.corpus.document_index import DocumentIndex
from claimwire.corpus.reanchor import find_quote
from claimwire.corpus.release import ANNOTATIONS, MANIFEST, RELATIONS, open_release
from claimwire.errors import ClaimwireError, shown
from claimwire.eval.completed import Completed, carry_completed, completed_ids, read_completed
from claimwire.eval.tasks import Task
from claimwire.grouping import Duplicate, RecordIndex
from claimwire.lines import plain_name
from claimwire.model import (
    Annotation,
    Document,
    Quote,
    Relation,
    read_mixed,
    replaced,
    write_records_atomically,
)

# Schema findings a prediction may have without being rejected: a system that predicts spans
# without every attribute is scored, not refused; disclosure evidence is not required.
TOLERATED = frozenset({"missing-attribute", "evidence-mismatch"})

Place = tuple[Path, int]
"""Where a record is: its file and line."""
Row = tuple[Path, int, Annotation | Relation]
"""A record with its file and line."""


@dataclass(frozen=True, slots=True)
class AnnotationSet:
    """A system's output, an annotator's work or gold: annotations and relations, and the
    documents its annotator completed (:mod:`claimwire.eval.completed`), where one was
    listed: those without records too."""

    name: str
    annotations: tuple[Annotation, ...]
    relations: tuple[Relation, ...]
    completed: frozenset[str] = frozenset()

    def to_pandas(self, records: str = "annotations") -> Any:
        """One row per annotation (or, with ``records="relations"``, per relation), their
        JSON fields flattened: ``quote.exact``, ``attributes.claim_type``…"""
        import pandas

        if records not in ("annotations", "relations"):
            raise ClaimwireError(f"expected annotations or relations, got {records!r}")
        rows = [r.to_dict() for r in getattr(self, records)]
        return pandas.json_normalize(rows, sep=".")


HELD_PROBLEMS = 100
"""Problems a whole pass's report holds (:meth:`CheckReport.absorb`); the rest are counted.
What a command shows is fewer (``eval score`` names 20)."""


@dataclass(slots=True)
class CheckReport:
    path: Path
    problems: list[str] = field(default_factory=list)
    """The problems held: all of one check (:func:`check_rows`, one batch's records); of a
    whole pass (:meth:`absorb`, :meth:`duplicates`), the first :data:`HELD_PROBLEMS`."""
    unheld: int = 0
    """Problems found past those held (counted, not kept: a hostile file may have millions)."""
    fixes: list[str] = field(default_factory=list)
    fixed: dict[str, Annotation] = field(default_factory=dict)
    """Re-anchored annotations by id (``--fix-offsets``)."""
    ignored: dict[str, int] = field(default_factory=dict)
    repeated_spans: int = 0
    """Spans with the label and offsets of an earlier one on their document (a set imported
    twice): a warning, not a problem; as gold, each is a certain miss."""
    first_repeated: str = ""
    """Where the first of them is, and what it repeats."""
    annotation_set: AnnotationSet | None = None
    """What passed (:func:`check_rows`); a streamed check keeps only its counts."""
    phases: list[int] = field(default_factory=list)
    """Where in :attr:`problems` each later group of :func:`check_rows`'s checks begins
    (links, schema, overlaps, stance)."""
    name: str = ""
    annotations: int = 0
    relations: int = 0
    outside: int = 0
    """Annotations that passed on documents outside the scored split, and on how many."""
    outside_documents: int = 0
    unannotated: int = 0
    """Annotations that passed on documents a gold set holds no record for (``--gold``), and
    on how many: not scored (:mod:`claimwire.eval.coverage`)."""
    unannotated_documents: int = 0
    gold_scored: int = 0
    """Gold annotations of the task's scored labels in the scored split."""
    statistics: Any = None
    """Per-unit statistics of what passed (:class:`claimwire.eval.scoring.Statistics`)."""
    pages: Any = None
    """The error-analysis page's document sections (:class:`claimwire.eval.pages.KeptSections`)."""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unheld

    @property
    def problem_count(self) -> int:
        """Every problem found, held or not."""
        return len(self.problems) + self.unheld

    def hold(self, problems: Sequence[str], count: int | None = None) -> None:
        """Add ``problems`` (or ``count`` problems of which they are the first), held while
        fewer than :data:`HELD_PROBLEMS` are."""
        room = max(HELD_PROBLEMS - len(self.problems), 0)
        self.problems += problems[:room]
        self.unheld += (len(problems) if count is None else count) - len(problems[:room])

    def absorb(self, other: CheckReport) -> None:
        """Add the findings and counts of a batch's check."""
        self.hold(other.problems)
        self.unheld += other.unheld
        self.fixes += other.fixes
        self.fixed.update(other.fixed)
        for label, count in other.ignored.items():
            self.ignored[label] = self.ignored.get(label, 0) + count
        self.annotations += other.annotations
        self.relations += other.relations
        self.repeated_spans += other.repeated_spans
        self.first_repeated = self.first_repeated or other.first_repeated

    def duplicates(self, found: Sequence[Duplicate]) -> None:
        """Add a problem for each repeated id (in file order), only the first few read back
        from ``found`` (on disk)."""
        first = found[: max(HELD_PROBLEMS - len(self.problems), 0)]
        self.hold(list(map(duplicate_problem, first)), len(found))


def duplicate_problem(duplicate: Duplicate) -> str:
    """The checker's problem for a record whose id an earlier record of its kind has."""
    return (
        f"{duplicate.path}:{duplicate.line}: field 'id': duplicate {duplicate.kind} id "
        f"{shown(duplicate.id)}"
    )


def prediction_files(path: Path, what: str = "prediction file") -> list[Path]:
    """The record files of a set, in reading order: a prediction file itself; a folder's
    ``annotations.jsonl`` then its ``relations.jsonl`` (if any); a release's annotation parts
    then its relation parts. A missing file, or a folder that is neither a release nor holds
    ``annotations.jsonl``, raises a located :class:`ClaimwireError` that calls the path
    ``what`` (the command's word for what the user passed: "prediction file", "set"); nothing
    is read."""
    if path.is_dir():
        if (path / MANIFEST).exists():
            release = open_release(path)
            return [path / p for name in (ANNOTATIONS, RELATIONS) for p in release.parts(name)]
        if not (path / ANNOTATIONS).exists():
            article = "an" if what[:1] in tuple("aeiou") else "a"
            raise ClaimwireError(
                f"no {ANNOTATIONS} in this folder (expected {article} {what}: a JSONL file of "
                f"records, or a folder with {ANNOTATIONS} and optionally {RELATIONS})",
                file=path,
            )
        return [f for f in (path / ANNOTATIONS, path / RELATIONS) if f.exists()]
    if not path.exists():
        raise ClaimwireError(f"{what} not found", file=path)
    return [path]


@dataclass(frozen=True, slots=True)
class NamedSet:
    """One of the sets a command compares or merges: its name, where it is, its record
    files (:func:`prediction_files`) and the list of its completed documents, if it has one
    (:func:`~claimwire.eval.completed.read_completed`)."""

    name: str
    path: Path
    files: list[Path]
    completed: Completed | None = None

    def with_completed(self, annotation_set: AnnotationSet, ids: Sequence[str]) -> AnnotationSet:
        """``annotation_set`` (this set's records on the documents ``ids``) with those of
        ``ids`` its list says were completed."""
        if self.completed is None:
            return annotation_set
        return replace(annotation_set, completed=frozenset(self.completed.among(ids)))


PAIR_JOIN = " vs "
"""What joins the names of two sets into a pair's name in the reports (``alice vs bob``)."""


def set_name(path: Path) -> str:
    """A set's name: its file's stem (``bob.jsonl.zst``: ``bob``) or its folder's name (``.``:
    the current folder's), in Unicode's composed form (NFC), so that a name typed as "é" and
    one a file system stored decomposed are one name."""
    if path.is_file():
        name = Path(plain_name(path.name)).stem
    else:
        name = Path(os.path.normpath(path.absolute())).name
    return unicodedata.normalize("NFC", name)


def named_sets(paths: Sequence[Path]) -> list[NamedSet]:
    """The sets at ``paths``, each named by :func:`set_name` (what
    ``annotate agree`` and ``annotate adjudicate`` report them as). Every path is checked
    first (the first that is not a set raises :func:`prediction_files`' located error), then
    two sets with one name are refused, naming both; no record is read (each set's list of
    completed documents is). A name holding :data:`PAIR_JOIN` is refused: pairs' names would
    collide."""
    sets = [NamedSet(set_name(p), p, prediction_files(p, "set"), read_completed(p)) for p in paths]
    first: dict[str, Path] = {}
    given: dict[tuple[int, int], Path] = {}
    for named in sets:
        found = named.path.stat()
        earlier = given.setdefault((found.st_dev, found.st_ino), named.path)
        if earlier is not named.path:
            raise ClaimwireError(
                f"one set is given twice: {earlier} and {named.path} are the same "
                f"{'folder' if named.path.is_dir() else 'file'}; give each set once"
            )
        if PAIR_JOIN in named.name:
            raise ClaimwireError(
                f"set {named.path} is named {named.name!r}, which holds {PAIR_JOIN!r}: the "
                f"reports name a pair of sets {PAIR_JOIN.join(('a', 'b'))!r}, so 'a' with "
                f"'b{PAIR_JOIN}c' and 'a{PAIR_JOIN}b' with 'c' would be one pair; rename it"
            )
        if named.name in first:
            raise ClaimwireError(
                f"two sets are named {named.name!r}: {first[named.name]} and {named.path} "
                "(a set is named after its file's stem or its folder's name); rename one"
            )
        first[named.name] = named.path
    return sets


def stream_records(
    path: Path, allow_empty: bool = False
) -> Iterator[tuple[Path, int, Annotation | Relation]]:
    """The records of a prediction file or folder, one at a time; malformed lines raise a
    located error, and so does a set without a single record (at its end) unless
    ``allow_empty``."""
    count = 0
    if path.is_dir() and (path / MANIFEST).exists():
        release = open_release(path)
        for i, annotation in enumerate(release.annotations(), 1):
            count += 1
            yield path / ANNOTATIONS, i, annotation
        for i, relation in enumerate(release.relations(), 1):
            count += 1
            yield path / RELATIONS, i, relation
    else:
        for file in prediction_files(path):
            for lineno, record in read_mixed(file):
                count += 1
                yield file, lineno, record
    not_empty(count, path, allow_empty)


def _records(
    path: Path, allow_empty: bool = False
) -> list[tuple[Path, int, Annotation | Relation]]:
    """Read a prediction file or folder (:func:`stream_records`)."""
    return list(stream_records(path, allow_empty))


def not_empty(count: int, path: Path, allow_empty: bool | None) -> None:
    """A set without a single record is an error unless ``allow_empty`` (None: the command
    has no ``--allow-empty``, so the error does not suggest it)."""
    if not count and not allow_empty:
        hint = "; pass --allow-empty to score an empty set" if allow_empty is False else ""
        raise ClaimwireError(
            f"no annotation or relation records (the set is empty or blank){hint}", file=path
        )


def check_predictions(
    path: Path,
    documents: Mapping[str, Document],
    schema: Schema,
    task: Task,
    *,
    fix_offsets: bool = False,
    name: str | None = None,
    context: tuple[Annotation, ...] = (),
    allow_empty: bool = False,
) -> CheckReport:
    """Check a prediction set against the release's documents, the schema and the task.

    ``context`` are annotations a prediction may refer to without containing them: the gold
    SOURCEs that the stance task gives as holders.
    """
    return check_rows(
        path,
        _records(path, allow_empty),
        documents,
        schema,
        task,
        fix_offsets=fix_offsets,
        name=name,
        context=context,
    )


def check_rows(
    path: Path,
    rows: list[tuple[Path, int, Annotation | Relation]],
    documents: Mapping[str, Document],
    schema: Schema,
    task: Task,
    *,
    fix_offsets: bool = False,
    name: str | None = None,
    context: tuple[Annotation, ...] = (),
    elsewhere: Callable[[str], str | None] | None = None,
) -> CheckReport:
    """:func:`check_predictions` on records already read, each with its file and line (an
    import from another tool's format locates them in that tool's files). ``elsewhere``
    names the document of an annotation id that is not among ``rows`` (a batch's check)."""
    report = CheckReport(path)
    where = _Places()
    annotations: list[Annotation] = []
    relations: list[Relation] = []
    annotation_at, relation_at = where.annotation, where.relation
    document_of = documents.get
    for row in rows:
        record = row[2]
        is_relation = isinstance(record, Relation)
        places = relation_at if is_relation else annotation_at
        if record.id in places:
            kind = "relation" if is_relation else "annotation"
            report.problems.append(
                f"{_at(row)}: field 'id': duplicate {kind} id {shown(record.id)}"
            )
            continue
        places[record.id] = row
        document = document_of(record.doc_id)
        if document is None:
            report.problems.append(
                f"{_at(row)}: field 'doc_id': {shown(record.doc_id)} is not a document of "
                "the release"
            )
            continue
        if isinstance(record, Relation):
            relations.append(record)
            continue
        begin, stop, text, quote = record.start, record.end, document.text, record.quote
        if (
            begin is None
            or stop is None
            or (
                0 <= begin < stop <= len(text)
                and (quote is None or quote.exact == text[begin:stop])
            )
        ):
            annotations.append(record)  # not a span, or a span where its quote is
            continue
        checked = _check_offsets(record, document, _at(row), report, fix_offsets)
        if checked is not None:
            annotations.append(checked)
    report.phases.append(len(report.problems))
    if relations and not _linked_at_home(annotations, relations):
        _check_links(annotations, relations, where, report, elsewhere)
    report.phases.append(len(report.problems))
    for finding in schema.findings(annotations, relations, context):
        if finding.code in TOLERATED:
            continue
        kind = "relation" if isinstance(finding.record, Relation) else "annotation"
        report.problems.append(
            f"{_at(where[(kind, finding.record.id)])}: {finding.code}: {finding.message}"
        )
    report.phases.append(len(report.problems))
    if task.forbid_overlap:
        _check_overlaps(annotations, task, where, report)
    report.phases.append(len(report.problems))
    if task.kind == "stance":
        _check_stance_pairs(annotations, task, context, where, report)
    wanted = set(task.related_labels) | schema.referenced_labels(task.labels)
    labels = list(map(_LABEL, annotations))
    wanted_flags = list(map(wanted.__contains__, labels))
    kept = list(compress(annotations, wanted_flags))
    ignored: Counter[str] = Counter()
    if len(kept) != len(annotations):
        ignored.update(compress(labels, map(not_, wanted_flags)))
    report.ignored = dict(ignored)
    report.repeated_spans, report.first_repeated = _repeated_spans(kept, where)
    kept_ids = set(map(_ID, kept)) if relations else set()
    links = [r for r in relations if r.head in kept_ids and r.tail in kept_ids]
    report.name = name or system_name(path, task)
    report.annotation_set = AnnotationSet(report.name, tuple(kept), tuple(links))
    report.annotations, report.relations = len(kept), len(links)
    return report


_ID, _DOC_ID, _LABEL, _HEAD, _TAIL = map(attrgetter, ("id", "doc_id", "label", "head", "tail"))


def _repeated_spans(
    annotations: list[Annotation], where: Mapping[tuple[str, str], Place]
) -> tuple[int, str]:
    """How many spans have the document, label and offsets of an earlier one, and where the
    first such is (and which it repeats)."""
    earlier: dict[tuple[str, str, int, int], str] = {}
    count, first = 0, ""
    for annotation in annotations:
        if annotation.start is None or annotation.end is None:
            continue
        key = (annotation.doc_id, annotation.label, annotation.start, annotation.end)
        seen = earlier.setdefault(key, annotation.id)
        if seen != annotation.id:
            count += 1
            first = first or (
                f"{_at(where[('annotation', annotation.id)])}: {annotation.label} "
                f"[{annotation.start}, {annotation.end}) repeats {shown(seen)}"
            )
    return count, first


def _linked_at_home(annotations: list[Annotation], relations: list[Relation]) -> bool:
    """Whether the head and the tail of every relation are annotations of ``annotations`` in
    the relation's own document (then :func:`_check_links` has nothing to say): columns
    compared in C, no record at a time."""
    owner = dict(zip(map(_ID, annotations), map(_DOC_ID, annotations), strict=True)).get
    homes = list(map(_DOC_ID, relations))
    return all(map(eq, map(owner, map(_HEAD, relations)), homes)) and all(
        map(eq, map(owner, map(_TAIL, relations)), homes)
    )


class OtherBatches:
    """The annotations of an index's other batches as the whole check knows them: those that
    pass the record checks (a document of the release, a span inside its text where its quote
    is); one that fails them, or a repeat of an id, is absent. Asked only for an id that is
    not in the batch (a relation's end, a reference attribute). ``documents``: the release's
    documents by id, asked for on the first such question."""

    def __init__(
        self,
        index: RecordIndex,
        documents: Callable[[], Mapping[str, Document]],
        fix_offsets: bool = False,
    ) -> None:
        self._index, self._documents, self._fix = index, documents, fix_offsets

    def annotation(self, annotation_id: str) -> Annotation | None:
        record = self._index.annotation_of(annotation_id)
        document = None if record is None else self._documents().get(record.doc_id)
        if record is None or document is None:  # none, or not on a document of the release
            return None
        return _check_offsets(record, document, "", CheckReport(Path()), self._fix)

    def document_of(self, annotation_id: str) -> str | None:
        found = self.annotation(annotation_id)
        return None if found is None else found.doc_id


class _Owners(Protocol):
    def document_of(self, annotation_id: str) -> str | None: ...


def elsewhere_of(
    rows: _Owners, documents: Callable[[], Mapping[str, Document]], fix_offsets: bool = False
) -> Callable[[str], str | None]:
    """The document of another batch's annotation, as the whole check knows it: through
    :class:`OtherBatches` when ``rows`` is a :class:`RecordIndex`, else its own answer."""
    if isinstance(rows, RecordIndex):
        return OtherBatches(rows, documents, fix_offsets).document_of
    return rows.document_of


@contextlib.contextmanager
def release_documents(release: Path) -> Iterator[Callable[[], Mapping[str, Document]]]:
    """The release's documents by id, opened on the first call (only a relation whose end is
    in another batch asks) and closed at the end."""
    opened: list[DocumentIndex] = []

    def documents() -> Mapping[str, Document]:
        if not opened:
            opened.append(open_release(release, verify=False).document_index())
        return opened[0]

    try:
        yield documents
    finally:
        for index in opened:
            index.close()


def _check_links(
    annotations: list[Annotation],
    relations: list[Relation],
    where: Mapping[tuple[str, str], Place],
    report: CheckReport,
    elsewhere: Callable[[str], str | None] | None,
) -> None:
    """Each relation's head and tail: an annotation of its own document (in ``annotations``,
    else where ``elsewhere`` says it is)."""
    by_id = {a.id: a for a in annotations}
    for relation in relations:
        for end in ("head", "tail"):
            target = getattr(relation, end)
            owner = by_id[target].doc_id if target in by_id else None
            if owner is None and elsewhere is not None:
                owner = elsewhere(target)
            if owner is None or (target not in by_id and owner == relation.doc_id):
                report.problems.append(
                    f"{_at(where[('relation', relation.id)])}: field '{end}': no annotation "
                    f"with id {shown(target)}"
                )
            elif owner != relation.doc_id:
                report.problems.append(
                    f"{_at(where[('relation', relation.id)])}: field '{end}': annotation "
                    f"{shown(target)} is in document {shown(owner)}, the relation in "
                    f"{shown(relation.doc_id)}; a relation links annotations of its own document"
                )


def _at(place: Place | Row) -> str:
    """``file:line``, the start of every problem."""
    return f"{place[0]}:{place[1]}"


class _Places(Mapping[tuple[str, str], Place]):
    """Where each record of a check is, by (kind, id): its row, kept as it was read (a
    place is made only for a record a problem names)."""

    def __init__(self) -> None:
        self.annotation: dict[str, Row] = {}
        self.relation: dict[str, Row] = {}

    def __getitem__(self, key: tuple[str, str]) -> Place:
        kind, record_id = key
        row = (self.relation if kind == "relation" else self.annotation)[record_id]
        return row[0], row[1]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield from (("annotation", i) for i in self.annotation)
        yield from (("relation", i) for i in self.relation)

    def __len__(self) -> int:
        return len(self.annotation) + len(self.relation)


GENERIC_STEMS = frozenset({"predictions", "annotations", "output", "run"})


def system_name(path: Path, task: Task) -> str:
    """``eval/runs/rules/predictions.jsonl`` or ``…/rules/claims.jsonl`` → ``rules``;
    ``preds-v2.jsonl`` (or ``preds-v2.jsonl.zst``) → ``preds-v2``; a release folder →
    ``gold@1.0.0``."""
    if path.is_dir():
        return f"gold@{path.name}" if (path / MANIFEST).exists() else path.name
    stem = Path(plain_name(path.name)).stem  # run.jsonl.zst → run
    generic = stem == task.name or stem in GENERIC_STEMS
    return path.parent.name if generic and path.parent.name else stem


def system_names(paths: Sequence[Path], task: Task) -> list[str]:
    """Each path's :func:`system_name`, made unique: where two paths give one name, each of
    them is named by the shortest end of its path that no other of them ends with — the whole
    file name (``sys.jsonl``, ``sys.jsonl.gz`` → those), else the name after its folders
    (``a/sys.jsonl``, ``b/sys.jsonl`` → ``a/sys``, ``b/sys``) — and never a name another path
    already has.
    Names are compared in Unicode's composed form (NFC). One file given twice is told apart by
    its place (``sys.jsonl#2``)."""
    names = [system_name(path, task) for path in paths]
    counts = Counter(_nfc(name) for name in names)
    taken = {_nfc(name) for name in names}
    chosen = list(names)
    clashing = [i for i, name in enumerate(names) if counts[_nfc(name)] > 1]
    options = {i: _name_options(paths[i], names[i]) for i in clashing}
    for i in clashing:
        others = {
            _nfc(option)
            for j in clashing
            if j != i and _nfc(names[j]) == _nfc(names[i])
            for option in options[j]
        }
        free = [o for o in options[i] if _nfc(o) not in others and _nfc(o) not in taken]
        name = free[0] if free else str(paths[i])
        if not free or _nfc(name) in taken:
            base, k = name, 2
            while _nfc(name) in taken:
                name, k = f"{base}#{k}", k + 1
        taken.add(_nfc(name))
        chosen[i] = name
    return chosen


def _name_options(path: Path, name: str) -> list[str]:
    """The longer names of ``path`` named ``name``, fewest parts first: the file's name, then
    ``name`` after its folder and the file's name after its folder, and so on up."""
    parts = list(Path(os.path.abspath(path)).parts[1:])  # no root: "/" or "C:\\"
    stem = Path(plain_name(path.name)).stem
    generic = name != stem and name == path.parent.name  # …/rules/predictions.jsonl: rules
    folders = parts[:-2] if generic else parts[:-1]
    options = []
    for k in range(1, len(parts) + 1):  # k parts of the path: the name first, then the file's
        if k > 1 and k - 1 <= len(folders):
            options.append("/".join([*folders[len(folders) - k + 1 :], name]))
        options.append("/".join(parts[len(parts) - k :]))
    return list(dict.fromkeys(o for o in options if o != name))


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _check_offsets(
    annotation: Annotation,
    document: Document,
    location: str,
    report: CheckReport,
    fix: bool,
) -> Annotation | None:
    if not annotation.is_span:
        return annotation
    assert annotation.start is not None and annotation.end is not None
    text = document.text
    in_range = 0 <= annotation.start < annotation.end <= len(text)
    if not in_range and not (fix and annotation.quote is not None):
        report.problems.append(
            f"{location}: {_bad_offsets(annotation.start, annotation.end, len(text))}"
        )
        return None
    quoted = annotation.quote
    if in_range and (quoted is None or quoted.exact == text[annotation.start : annotation.end]):
        return annotation
    if fix and quoted is not None:
        span = find_quote(text, quoted, near=annotation.start)
        if span is not None:
            report.fixes.append(
                f"{location}: moved {annotation.id!r} from [{annotation.start}, {annotation.end})"
                f" to [{span[0]}, {span[1]}) where its quote is"
            )
            moved = replaced(
                annotation, start=span[0], end=span[1], quote=Quote.from_text(text, *span)
            )
            report.fixed[annotation.id] = moved
            return moved
    if not in_range:
        report.problems.append(
            f"{location}: {_bad_offsets(annotation.start, annotation.end, len(text))}"
        )
    else:
        found = text[annotation.start : annotation.end][:40]
        report.problems.append(
            f"{location}: field 'quote': {quoted.exact[:40] if quoted else ''!r} but the text at "
            f"[{annotation.start}, {annotation.end}) is {found!r}"
            + ("" if fix else " (--fix-offsets re-anchors by quote)")
        )
    return None


def _bad_offsets(start: int, end: int, length: int) -> str:
    """Why ``[start, end)`` is not a span of a text of ``length`` characters."""
    span = f"[{start}, {end})"
    if start < 0:
        why = f"field 'start': {span} starts at a negative offset"
    elif start >= length:
        why = f"field 'start': {span} starts outside the document of {length} characters"
    elif end == start:
        why = f"field 'end': {span} is empty (zero-length)"
    elif end < start:
        why = f"field 'end': {span} is reversed (end before start)"
    else:
        why = f"field 'end': {span} is outside the document of {length} characters"
    return f"{why}; expected 0 <= start < end <= {length}"


def stance_key(annotation: Annotation, holders: Mapping[str, Annotation]) -> tuple[str, str, str]:
    """(document, holder, target), the holder named by its span when it is a SOURCE: two
    annotation sets with their own ids still name the same holder the same way."""
    holder = str(annotation.attributes.get("holder"))
    source = holders.get(holder)
    if source is not None and source.is_span:
        holder = f"span:{source.start}-{source.end}"
    return annotation.doc_id, holder, str(annotation.attributes.get("target"))


def _check_stance_pairs(
    annotations: list[Annotation],
    task: Task,
    context: tuple[Annotation, ...],
    where: Mapping[tuple[str, str], Place],
    report: CheckReport,
) -> None:
    """One answer per (holder, target) pair of a document: a second one is refused."""
    holders = {a.id: a for a in (*context, *annotations)}
    first: dict[tuple[str, str, str], Annotation] = {}
    for annotation in annotations:
        if annotation.label not in task.labels:
            continue
        key = stance_key(annotation, holders)
        if key in first:
            report.problems.append(
                f"{_at(where[('annotation', annotation.id)])}: field 'attributes': a second stance "
                f"for holder {shown(key[1])} and target {shown(key[2])} (the first is "
                f"{shown(first[key].id)}); give one stance per pair"
            )
        else:
            first[key] = annotation


def _check_overlaps(
    annotations: list[Annotation],
    task: Task,
    where: Mapping[tuple[str, str], Place],
    report: CheckReport,
) -> None:
    """Each span of a task's label that starts before the previous one of its document and
    label ends (in (start, end) order, groups in order of appearance): one stable lexsort."""
    import numpy as np

    spans = [
        a
        for a in annotations
        if a.label in task.labels and a.start is not None and a.end is not None
    ]
    if len(spans) < 2:
        return
    groups: dict[tuple[str, str], int] = {}
    group = np.array([groups.setdefault((a.doc_id, a.label), len(groups)) for a in spans])
    start = np.array([a.start for a in spans], dtype=np.int64)
    end = np.array([a.end for a in spans], dtype=np.int64)
    order = np.lexsort([np.arange(len(spans)), end, start, group])
    group, start, end = group[order], start[order], end[order]
    overlapping = np.flatnonzero((group[1:] == group[:-1]) & (start[1:] < end[:-1])) + 1
    for i in overlapping.tolist():
        before, after = spans[order[i - 1]], spans[order[i]]
        report.problems.append(
            f"{_at(where[('annotation', after.id)])}: field 'start': {after.label} "
            f"{after.id!r} overlaps {before.id!r}; task {task.name} forbids overlapping "
            f"spans of one label"
        )


def write_fixed(source: Path, report: CheckReport, out: Path) -> int:
    """Write every record of ``source`` to ``out`` (JSONL, atomically), the re-anchored
    annotations of ``report`` in place of the originals, and ``source``'s list of completed
    documents beside it, first (:func:`~claimwire.eval.completed.carry_completed`); return
    how many records were written."""
    records = (
        report.fixed.get(record.id, record) if isinstance(record, Annotation) else record
        for _, _, record in stream_records(source, allow_empty=True)
    )
    carried = carry_completed(source, out)
    try:
        return write_records_atomically(out, records)
    except BaseException:
        if carried is not None:  # never a list without its set
            carried.unlink(missing_ok=True)
        raise


def load_annotation_set(
    path: Path, name: str | None = None, allow_empty: bool = False
) -> AnnotationSet:
    """Read an annotation set without a release to check it against (gold of a release),
    with the documents its list names as completed (:mod:`claimwire.eval.completed`)."""
    rows = _records(path, allow_empty)
    annotations = tuple(r for _, _, r in rows if isinstance(r, Annotation))
    relations = tuple(r for _, _, r in rows if isinstance(r, Relation))
    return AnnotationSet(name or path.name, annotations, relations, completed_ids(path))


def filter_set(annotation_set: AnnotationSet, labels: tuple[str, ...]) -> AnnotationSet:
    """Only the annotations of ``labels`` and the relations between them."""
    wanted = set(labels).__contains__
    kept = tuple(
        compress(annotation_set.annotations, map(wanted, map(_LABEL, annotation_set.annotations)))
    )
    ids = set(map(_ID, kept))
    links = tuple([r for r in annotation_set.relations if r.head in ids and r.tail in ids])
    return AnnotationSet(annotation_set.name, kept, links)
