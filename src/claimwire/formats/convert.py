"""Import from and export to other tools' formats: the library behind ``claimwire convert``.

An import reads the tool's files, locates every record in them, and passes the records through
the format checker (unknown labels, offsets outside the text, text mismatch → located
problems, nothing written). An export writes through a temporary file or folder, so a failure
leaves nothing half-written. Both return what the format could not carry.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import tempfile
from array import array
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from claimwire import strict_json
from claimwire.annotation.schema import Schema
from claimwire.corpus.normalize import check_utf8
from claimwire.engine import batches
from claimwire.errors import ClaimwireError, shown
from claimwire.eval.checker import AnnotationSet, check_rows, not_empty, prediction_files
from claimwire.eval.completed import completed_path
from claimwire.eval.tasks import Task
from claimwire.files import (
    atomic_directory,
    atomic_files,
    errors_named,
    folders_removed_on_error,
    not_a_file,
    output_target,
)
from claimwire.formats import brat, cas, conll, doccano, label_studio_min, spacy_docbin
from claimwire.formats.base import FileStems, Imported, Loss, Losses, Place, by_document, met_twice
from claimwire.formats.texts import TextCheck
from claimwire.grouping import RecordIndex
from claimwire.lines import text_lines
from claimwire.model import Annotation, Document, Relation, iter_json_lines, record_line
from claimwire.outputs import mark_export
from claimwire.storage import stop_on_sigterm

SHOWN_PROBLEMS = 30
NOT_JSON_MIN = (
    "not a JSON-MIN export (objects with 'data' and 'annotations' are the full JSON "
    "export: `claimwire annotate pull --from-file` reads it)"
)
BATCH_DOCUMENTS = 256
BUCKETS = 16
"""An import's document and id hashes are compared a sixteenth at a time."""
Key = TypeVar("Key", bound=Hashable)
Where = TypeVar("Where")


@dataclass(frozen=True, slots=True)
class Options:
    """What some formats need: the span labels of a flat format (BIO, doc.ents), its scheme."""

    labels: tuple[str, ...] | None = None
    scheme: str = "IOB2"

    def flat_labels(self, schema: Schema) -> tuple[str, ...]:
        chosen = self.labels or tuple(schema.span_labels())
        unknown = [label for label in chosen if label not in schema.span_labels()]
        if unknown:
            raise ClaimwireError(
                f"--labels: {', '.join(unknown)} not span label(s) of the schema; expected "
                f"some of {', '.join(schema.span_labels())}"
            )
        return chosen


Reader = Callable[[Path, Mapping[str, Document], Schema, str, Options], Iterator[Imported]]
"""A format's reader: what it read, one unit (a file, a line, a task: one document's
records) at a time."""
Batch = tuple[Sequence[Document], AnnotationSet]
"""Documents and the records on them, an export's unit: a corpus is written batch by batch."""
Writer = Callable[[Path, Iterable[Batch], Schema, Options, Losses], None]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    read: Reader
    write: Writer
    folder: bool
    """Whether an export is a folder of files (else one file)."""
    file_suffix: str | None = None
    """When set, an export to a path with this suffix is one file, to any other a folder."""
    note: str | None = None
    """What the format never carries, told on every import (nothing of a file is lost)."""
    looked_for: str = "no document"
    """What an import that met no document looked for, said in its error."""

    def writes_folder(self, out: Path) -> bool:
        return self.folder if self.file_suffix is None else out.suffix != self.file_suffix


@dataclass(frozen=True, slots=True)
class ImportResult:
    annotation_set: AnnotationSet
    losses: list[Loss]


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.is_dir():
        raise ClaimwireError("expected a JSONL file, got a folder", file=path)
    return iter_json_lines(path)


def _read_doccano(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> Iterator[Imported]:
    return doccano.from_doccano(_json_lines(path), documents, schema, path, author)


def _write_doccano(
    out: Path, batches: Iterable[Batch], schema: Schema, options: Options, losses: Losses
) -> None:
    with out.open("w", encoding="utf-8") as handle:
        number = 1
        for documents, found in batches:
            lines, lost = doccano.to_doccano(documents, found.annotations, found.relations, number)
            handle.write("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
            losses.extend(lost)
            number += len(lines)


def _read_json_min(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> Iterator[Imported]:
    """A JSON-MIN export's tasks, one at a time (the file is read a part at a time)."""
    annotators: set[str] = set()
    texts = TextCheck()
    number = 0
    for number, task in enumerate(export_tasks(path), start=1):
        if not label_studio_min.is_json_min([task]):
            check_export(path)  # a fault of the file or a task's shape comes first
            raise ClaimwireError(NOT_JSON_MIN, file=path)
        out = Imported()
        problems: list[str] = []
        found = label_studio_min.from_task(
            number, task, documents, schema, str(path), problems, out.losses, texts
        )
        out.problems += map(_refused, problems)
        if found is not None:
            out.meet(str(task.get("doc_id")), Place(path, "item", number))
            annotators.add(found[0])
            out.annotations += [(path, number, a) for a in found[1].annotations]
            out.relations += [(path, number, r) for r in found[1].relations]
        yield out
    if not number:
        raise ClaimwireError(NOT_JSON_MIN, file=path)
    if len(annotators) > 1:
        raise ClaimwireError(
            f"{len(annotators)} annotators in one export; `claimwire annotate pull "
            "--from-file` writes one annotation set per annotator",
            file=path,
        )


_LEFT_OUT = re.compile(r"; (?:relation skipped|skipped|attribute left out)$")
"""What a Label Studio pull says of a result it leaves out and pulls on without: an import
that has a problem writes nothing, so its problems do not say so."""


def _refused(problem: str) -> str:
    """A problem of a pulled task as an import's (which writes nothing) says it."""
    return _LEFT_OUT.sub("", problem)


def _write_json_min(
    out: Path, batches: Iterable[Batch], schema: Schema, options: Options, losses: Losses
) -> None:
    """One JSON list of tasks, written a task at a time: the bytes ``json.dumps(tasks,
    indent=2)`` gives (a JSON string holds no line break, so each line of a task is
    indented one level)."""
    with out.open("w", encoding="utf-8") as handle:
        number = 0
        for documents, found in batches:
            spans, links = by_document(found.annotations, found.relations)
            for document in documents:
                record, lost = label_studio_min.to_json_min(
                    document, spans.get(document.id, []), links.get(document.id, []), schema
                )
                number += 1
                task = json.dumps(record | {"id": number}, ensure_ascii=False, indent=2)
                handle.write("[\n" if number == 1 else ",\n")
                handle.write("\n".join("  " + line for line in task.split("\n")))
                losses.extend(lost)
        handle.write("\n]" if number else "[]")


def export_tasks(path: Path) -> Iterator[dict[str, Any]]:
    """The tasks of a Label Studio export file (full or JSON-MIN), one at a time, as the
    server's export is read (:func:`strict_json.list_items`): memory holds one task, never the
    file. A file that is not a list of tasks is one located error: a fault of its JSON at its
    line and column (wherever it is: the rest of the file is read on after a task of the
    wrong shape, without holding it), else the first task of the wrong shape, by number."""
    number, problem = 0, None
    try:
        with path.open(encoding="utf-8-sig") as handle:  # a BOM is dropped
            for number, task in enumerate(strict_json.list_items(handle), start=1):
                problem = problem or _numbered(number, _task_shape(task))
                if problem is None:
                    yield task
    except strict_json.NotJSONError as error:
        if isinstance(error, strict_json.NotUTF8Error):
            check_utf8(path)  # the bad byte found again, at its line (UTF-16 named)
        raise ClaimwireError(
            f"not a Label Studio JSON export: {error.reason} (column {error.column})",
            file=path,
            line=error.line,
        ) from None
    except OSError as error:
        what = not_a_file(path)
        if what == "missing":
            raise ClaimwireError("not found", file=path) from None
        if what is not None:
            raise ClaimwireError(
                f"is {what}, not a file: expected a Label Studio JSON export", file=path
            ) from None
        raise ClaimwireError(f"cannot be read: {error.strerror}", file=path) from None
    except ValueError as error:  # in a task: a key twice, NaN, nested too deeply
        raise ClaimwireError(
            f"not a Label Studio JSON export: task {number + 1}: {error}", file=path
        ) from None
    if problem is not None:
        raise ClaimwireError(f"not a Label Studio JSON export: {problem}", file=path)


def check_export(path: Path) -> None:
    """Read a Label Studio export file through, a task at a time: its fault, if any, is
    raised (:func:`export_tasks`)."""
    for _ in export_tasks(path):
        pass


def _numbered(number: int, problem: str | None) -> str | None:
    return None if problem is None else f"task {number}: {problem}"


def _task_shape(task: Any) -> str | None:
    """What is wrong with the shape of one exported task (full or JSON-MIN), or None."""
    if not isinstance(task, dict):
        return f"expected an object, got {type(task).__name__}"
    if not isinstance(task.get("data", {}), dict):
        return f"'data' must be an object, got {type(task['data']).__name__}"
    for key in ("annotations", "predictions"):
        items = task.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return f"'{key}' must be a list of objects"
        for item in items:
            if not isinstance(item.get("result", []), list):
                return f"'{key}[].result' must be a list of results"
    return None


def _read_brat(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> Iterator[Imported]:
    if not path.is_dir():
        raise ClaimwireError("expected a brat folder of .txt and .ann files", file=path)
    return brat.read_brat_folder(path, documents, schema, author)


def _write_brat(
    out: Path, batches: Iterable[Batch], schema: Schema, options: Options, losses: Losses
) -> None:
    stems = FileStems(out, ".txt")
    for documents, found in batches:
        losses.extend(
            brat.write_brat_folder(
                out, documents, found.annotations, found.relations, schema, stems
            )
        )


def _read_conll(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> Iterator[Imported]:
    if path.is_dir():
        raise ClaimwireError("expected a CoNLL file, got a folder", file=path)
    lines = (line for _, line in text_lines(path))  # not UTF-8: located, UTF-16 named
    yield from conll.from_conll(lines, documents, schema, path, author)


def _write_conll(
    out: Path, batches: Iterable[Batch], schema: Schema, options: Options, losses: Losses
) -> None:
    if options.scheme not in conll.SCHEMES:
        raise ClaimwireError(
            f"unknown scheme {options.scheme!r}; expected {' or '.join(conll.SCHEMES)}"
        )
    labels = options.flat_labels(schema)
    with out.open("w", encoding="utf-8", newline="") as handle:
        for documents, found in batches:
            lines, lost = conll.to_conll(documents, found.annotations, labels, options.scheme)
            handle.writelines(lines)
            losses.extend(lost)
            losses.extend(Loss("relation", r.id, r.type) for r in found.relations)


def _read_spacy(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> Iterator[Imported]:
    """A ``.spacy`` file, or a folder of them (what ``--to spacy`` writes to a folder), one
    DocBin at a time, the files in name order."""
    for file in spacy_docbin.docbin_files(path):
        yield from spacy_docbin.from_docbin(file.read_bytes(), documents, schema, file, author)


def _write_spacy(
    out: Path, batches: Iterable[Batch], schema: Schema, options: Options, losses: Losses
) -> None:
    """One DocBin, or (``out`` a folder) one per :data:`spacy_docbin.FILE_DOCUMENTS`
    documents: spaCy serializes a DocBin whole, so a single file grows with the corpus (its
    token arrays, not the documents), a folder with the documents of one of its files."""
    labels = options.flat_labels(schema)
    with spacy_docbin.DocBinWriter(out, out.is_dir()) as writer:
        for documents, found in batches:
            losses.extend(writer.add(documents, found.annotations, found.relations, labels))


def _read_cas(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> Iterator[Imported]:
    if not path.is_dir():
        raise ClaimwireError("expected a folder of .xmi files and TypeSystem.xml", file=path)
    return cas.read_cas_folder(path, documents, schema, author)


def _write_cas(
    out: Path, batches: Iterable[Batch], schema: Schema, options: Options, losses: Losses
) -> None:
    stems = FileStems(out, ".xmi")
    for documents, found in batches:
        losses.extend(
            cas.write_cas_folder(out, documents, found.annotations, found.relations, schema, stems)
        )


FORMATS: dict[str, Format] = {
    "brat": Format(
        "brat",
        _read_brat,
        _write_brat,
        folder=True,
        looked_for="no DOC.ann file in the folder or its subfolders (brat's standoff: "
        "DOC.txt and DOC.ann)",
    ),
    "inception": Format(
        "inception",
        _read_cas,
        _write_cas,
        folder=True,
        looked_for="no DOC.xmi file in the folder (INCEpTION's UIMA CAS XMI export)",
    ),
    "conll": Format(
        "conll",
        _read_conll,
        _write_conll,
        folder=False,
        looked_for=f"no document: expected a '{conll.DOCSTART}<TAB>doc_id' line before each "
        "document's 'TOKEN<TAB>TAG' lines",
    ),
    "spacy": Format(
        "spacy",
        _read_spacy,
        _write_spacy,
        folder=False,
        file_suffix=".spacy",
        looked_for="no doc in the DocBin",
    ),
    "doccano": Format(
        "doccano",
        _read_doccano,
        _write_doccano,
        folder=False,
        looked_for="no line: expected one JSON object per document",
    ),
    "label-studio-min": Format(
        "label-studio-min",
        _read_json_min,
        _write_json_min,
        folder=False,
        note=label_studio_min.NOTE,
        looked_for="no task",
    ),
}


def get_format(name: str) -> Format:
    if name not in FORMATS:
        raise ClaimwireError(f"unknown format {name!r}; expected one of {', '.join(FORMATS)}")
    return FORMATS[name]


def checking_task(schema: Schema) -> Task:
    """Every label of the schema: an import keeps whatever the schema defines."""
    return Task("import", "every label of the schema", "spans", tuple(schema.labels), split=None)


def checked_batches(
    name: str,
    path: Path,
    documents: Mapping[str, Document],
    schema: Schema,
    author: str = "gold",
    options: Options | None = None,
    losses: Losses | None = None,
    *,
    whole: bool = False,
) -> Iterator[AnnotationSet]:
    """Read ``path`` in format ``name`` and check it :data:`BATCH_DOCUMENTS` documents at a
    time (all at once when ``whole``): each batch's records, while no problem was found;
    problems raise one error listing them at the end, what was lost goes to ``losses``. A
    batch is checked as the whole import would be: a reader's unit holds the records of the
    one document it met, a document met twice is refused, and so is an id in two batches
    (two documents' records whose ids a format's keys made the same). An import that met no
    document at all (an empty or mistyped folder, an empty file) is an error saying what it
    looked for: an empty set would stand for files that hold none."""
    if not path.exists():
        raise ClaimwireError("not found", file=path)
    task = checking_task(schema)
    spec = get_format(name)
    met_any = False
    size = None if whole else BATCH_DOCUMENTS

    def read_units() -> Iterator[Imported]:
        for unit in spec.read(path, documents, schema, author, options or Options()):
            met = {doc_id for doc_id, _ in unit.met}
            assert all(row[2].doc_id in met for row in unit.rows()), "a unit's own document"
            yield unit

    def read_ids() -> Iterator[tuple[tuple[bool, str], tuple[Path, int]]]:
        for batch in _batched(read_units(), size):
            for file, line, record in batch.rows():
                yield (isinstance(record, Relation), record.id), (file, line)

    read, checked = _Problems(), _Problems()  # the reader's first, then the checks' (as whole)
    # the hashes of the documents the reader met and of the records' ids wait on disk, each
    # with its number: one that comes twice is a document met twice, or an id in two batches
    numbers, rows = itertools.count(), itertools.count()
    with tempfile.TemporaryFile() as met, tempfile.TemporaryFile() as ids:
        for batch in _batched(read_units(), size):
            met_any = met_any or bool(batch.met)
            pairs = ((hash(doc_id), next(numbers)) for doc_id, _ in batch.met)
            array("q", itertools.chain.from_iterable(pairs)).tofile(met)
            if losses is not None:
                losses.add(batch)
            found = batch.rows()
            keys = ((hash((isinstance(r[2], Relation), r[2].id)), next(rows)) for r in found)
            array("q", itertools.chain.from_iterable(keys)).tofile(ids)
            report = check_rows(path, found, documents, schema, task)
            read.add(batch.problems)
            checked.add(report.problems)
            if not read.count + checked.count:
                assert report.annotation_set is not None
                documents_met = frozenset(doc_id for doc_id, _ in batch.met)
                yield replace(report.annotation_set, completed=documents_met)
        twice = _first_again(met, (found for unit in read_units() for found in unit.met))
        if twice is not None:
            raise ClaimwireError(met_twice(*twice))
        _raise_problems(read, checked)  # an id twice in a batch is one of its problems
        if not met_any:
            raise ClaimwireError(f"{spec.looked_for}; nothing written", file=path)
        if (again := _first_again(ids, read_ids())) is not None:
            raise ClaimwireError(_id_twice(*again))


def _first_again(
    pairs: IO[bytes], keyed: Iterable[tuple[Key, Where]]
) -> tuple[Key, Where, Where, int] | None:
    """The first key of ``keyed`` that an earlier one had, when the ``(hash, number)`` pairs
    in ``pairs`` (numbered as ``keyed`` gives them) say there is one: the key, where it was
    first and again, and how many other keys come twice. ``keyed`` is read up to it. None
    when none comes twice (or two keys only share a 64-bit hash)."""
    count, hashed, again = _met_again(pairs)
    if again < 0:
        return None
    seen: dict[Key, Where] = {}
    for (key, where), _ in zip(keyed, range(again + 1), strict=False):
        if hash(key) == hashed:
            seen.setdefault(key, where)
    if (first := seen.get(key)) is not None and first is not where:
        return key, first, where, count - 1
    return None


def _id_twice(
    key: tuple[bool, str], first: tuple[Path, int], again: tuple[Path, int], others: int
) -> str:
    """The one line refusing an import whose records' id ``key`` (whether a relation's, the
    id) came in two batches, at ``first`` and ``again`` (file, line)."""
    relation, record_id = key
    more = f"; {others} more id(s) given twice" if others else ""
    return (
        f"{again[0]}:{again[1]}: field 'id': duplicate {'relation' if relation else 'annotation'} "
        f"id {shown(record_id)} (first at {first[0]}:{first[1]}{more}); nothing written"
    )


@dataclass(slots=True)
class _Problems:
    """Problems counted, the first :data:`SHOWN_PROBLEMS` held."""

    count: int = 0
    first: list[str] = field(default_factory=list)

    def add(self, problems: Sequence[str]) -> None:
        self.count += len(problems)
        self.first += problems[: SHOWN_PROBLEMS - len(self.first)]


def _raise_problems(read: _Problems, checked: _Problems) -> None:
    """One error listing the reader's problems, then the checks', when there are any."""
    count = read.count + checked.count
    if count:
        shown = read.first + checked.first[: SHOWN_PROBLEMS - len(read.first)]
        more = count - len(shown)
        raise ClaimwireError(
            f"{count} problem(s); nothing written:\n  "
            + "\n  ".join(shown)
            + (f"\n  … and {more} more" if more else "")
        )


def _bucket(handle: IO[bytes], bucket: int, at_once: int, width: int = 1) -> Any:
    """The rows of ``width`` int64s in ``handle`` whose first is in ``bucket`` (by its low
    bits), read ``at_once`` rows at a time."""
    handle.seek(0)
    chosen = [np.zeros((0, width), np.int64)]
    while block := handle.read(8 * width * at_once):
        read = np.frombuffer(block, np.int64).reshape(-1, width)
        chosen.append(read[(read[:, 0] & (BUCKETS - 1)) == bucket])
    found = np.concatenate(chosen)
    return found[:, 0] if width == 1 else found


def _met_again(handle: IO[bytes], at_once: int = 1 << 20) -> tuple[int, int, int]:
    """Of the ``(hash, unit number)`` int64 pairs in ``handle``: how many hashes come twice
    or more, and the hash and number of the earliest unit whose hash an earlier unit had
    (0, 0, -1 when none), a bucket of hashes sorted at a time."""
    count, first = 0, (0, -1)
    for bucket in range(BUCKETS):
        pairs = _bucket(handle, bucket, at_once, width=2)
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
        again = pairs[1:, 0] == pairs[:-1, 0]
        count += int(np.count_nonzero(again[1:] & ~again[:-1])) + int(again[:1].sum())
        if again.any():
            at = pairs[1:][again][np.argmin(pairs[1:, 1][again])]
            if first[1] < 0 or at[1] < first[1]:
                first = (int(at[0]), int(at[1]))
    return count, *first


def _batched(units: Iterable[Imported], size: int | None) -> Iterator[Imported]:
    """``units`` joined ``size`` at a time (all of them when None); at least one batch."""
    batch, joined = Imported(), 0
    for unit in units:
        batch.absorb(unit)
        joined += 1
        if size is not None and joined >= size:
            yield batch
            batch, joined = Imported(), 0
    yield batch


def import_set(
    name: str,
    path: Path,
    documents: Mapping[str, Document],
    schema: Schema,
    author: str = "gold",
    options: Options | None = None,
) -> ImportResult:
    """Read ``path`` in format ``name`` and check it, all of it at once; problems raise one
    error listing them. :func:`import_to` writes an import without holding it."""
    losses = Losses()
    [annotation_set] = checked_batches(
        name, path, documents, schema, author, options, losses, whole=True
    )
    return ImportResult(annotation_set, losses.first)


def import_to(
    name: str,
    path: Path,
    out: Path,
    documents: Mapping[str, Document],
    schema: Schema,
    author: str = "gold",
    options: Options | None = None,
    *,
    keep: int | None = None,
    completed: bool = False,
) -> tuple[int, int, Losses]:
    """Read ``path`` in format ``name``, check it and write its records to the JSONL ``out``
    as :func:`import_set`'s set would be written (annotations, then relations), a batch of
    documents at a time: the relations wait in a temporary file, and ``out`` appears only
    when every batch passed (nothing is written on error). Returns how many annotations and
    relations were written and what was lost (the first ``keep`` held). An import that read
    no record but lost some is refused. SIGTERM ends it as an error does: nothing left beside
    ``out`` nor in ``TMPDIR``. ``completed``: also write the list of the documents the import
    holds, records or none, beside ``out`` (:func:`~claimwire.eval.completed.completed_path`);
    without it, a list an earlier import left there is removed (it would list another set's
    documents). The set and its list are replaced as one (:func:`~claimwire.files.atomic_files`:
    the list first, so the set never appears without it): if either cannot be put in place,
    the earlier set and list are left as they were."""
    stop_on_sigterm()
    listing = completed_path(out)
    written, removed = ([listing, out], []) if completed else ([out], [listing])
    with (
        folders_removed_on_error(out.parent),  # made for the temporary files
        atomic_files(written, removed) as handles,
        tempfile.TemporaryFile("w+", encoding="utf-8") as links,
    ):
        handle, listed = handles[-1], handles[0] if completed else None
        losses = Losses(keep)
        spans = relations = 0
        imported = checked_batches(name, path, documents, schema, author, options, losses)
        for found in imported:
            handle.writelines(map(record_line, found.annotations))
            links.writelines(map(record_line, found.relations))
            if listed is not None:
                listed.writelines(f"{doc_id}\n" for doc_id in sorted(found.completed))
            spans += len(found.annotations)
            relations += len(found.relations)
        links.seek(0)
        shutil.copyfileobj(links, handle)
        _refuse_nothing_read(path, spans + relations, losses)
    return spans, relations, losses


def _refuse_nothing_read(path: Path, records: int, losses: Losses) -> None:
    """One error when an import read no record while its files held annotations it could not
    carry: an empty set would stand for them."""
    if records or not losses:
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in losses.summary().items())
    first = f" (the first: {losses.first[0]})" if losses.first else ""
    raise ClaimwireError(
        f"no record read, and not carried: {counts}{first}; nothing written", file=path
    )


def export_set(
    name: str,
    out: Path,
    documents: Sequence[Document],
    annotation_set: AnnotationSet,
    schema: Schema,
    *,
    replace: bool = False,
    options: Options | None = None,
) -> list[Loss]:
    """Write ``annotation_set`` on ``documents`` in format ``name`` to ``out`` (atomically)."""
    batches = [(documents, annotation_set)]
    return export_batches(name, out, batches, schema, replace=replace, options=options).first


def export_batches(
    name: str,
    out: Path,
    batches: Iterable[Batch],
    schema: Schema,
    *,
    replace: bool = False,
    options: Options | None = None,
    keep: int | None = None,
) -> Losses:
    """Write each batch's records on its documents in format ``name`` to ``out`` (atomically),
    a batch at a time; the losses are counted, the first ``keep`` held (all when None).
    SIGTERM ends it as an error does: no staging copy, nor folder made for ``out``, is left."""
    stop_on_sigterm()
    spec = get_format(name)
    losses = Losses(keep)
    with folders_removed_on_error(out.parent):  # made for the export
        if spec.writes_folder(out):
            with atomic_directory(out, replace=replace) as staging:
                spec.write(staging, _at_least_one(batches), schema, options or Options(), losses)
                mark_export(staging, f"convert --to {name}")
            return losses
        target = output_target(out)  # through a symbolic link
        if target.exists() and not replace:
            raise ClaimwireError("already exists (--force replaces it)", file=out)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.tmp")
        try:
            with errors_named(out, staging):
                spec.write(staging, _at_least_one(batches), schema, options or Options(), losses)
            staging.replace(target)
        finally:
            staging.unlink(missing_ok=True)
        return losses


def _at_least_one(batches: Iterable[Batch]) -> Iterator[Batch]:
    """The batches, or one empty batch: an export of no document still writes its frame
    (a folder's configuration, an empty list)."""
    empty = True
    for batch in batches:
        empty = False
        yield batch
    if empty:
        yield (), AnnotationSet("", (), ())


def set_batches(
    path: Path, documents: Iterable[Document], size: int | None = None
) -> Iterator[Batch]:
    """``documents`` ``size`` (:data:`BATCH_DOCUMENTS`) at a time, each batch with the records
    an annotation set (a file, a folder, or a release's gold) has on them: the set is indexed
    by document in one pass and each batch reads its own lines back, so neither is held."""
    with RecordIndex(prediction_files(path, "annotation set"), check_ids=False) as index:
        not_empty(index.count, path, allow_empty=None)
        for batch in batches(documents, size or BATCH_DOCUMENTS):
            records = [record for _, _, record in index.rows([d.id for d in batch])]
            annotations = tuple(r for r in records if isinstance(r, Annotation))
            relations = tuple(r for r in records if isinstance(r, Relation))
            yield batch, AnnotationSet(path.name, annotations, relations)
        for _ in index.leftover():  # the records no batch read are read (and checked) too
            pass
