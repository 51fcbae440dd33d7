"""Import from and export to other tools' formats: the library behind ``claimwire convert``.

An import reads the tool's files, locates every record in them, and passes the records through
the format checker (unknown labels, offsets outside the text, text mismatch → located
problems, nothing written). An export writes through a temporary file or folder, so a failure
leaves nothing half-written. Both return what the format could not carry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claimwire import strict_json
from claimwire.annotation.schema import Schema
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import AnnotationSet, check_rows
from claimwire.eval.tasks import Task
from claimwire.files import atomic_directory
from claimwire.formats import brat, cas, conll, doccano, label_studio_min, spacy_docbin
from claimwire.formats.base import Imported, Loss
from claimwire.model import Document, iter_json_lines

SHOWN_PROBLEMS = 30


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


Reader = Callable[[Path, Mapping[str, Document], Schema, str, Options], tuple[Imported, list[str]]]
Writer = Callable[[Path, Sequence[Document], AnnotationSet, Schema, Options], list[Loss]]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    read: Reader
    write: Writer
    folder: bool
    """Whether an export is a folder of files (else one file)."""


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
) -> tuple[Imported, list[str]]:
    return doccano.from_doccano(_json_lines(path), documents, schema, path, author)


def _write_doccano(
    out: Path,
    documents: Sequence[Document],
    annotation_set: AnnotationSet,
    schema: Schema,
    options: Options,
) -> list[Loss]:
    lines, losses = doccano.to_doccano(
        documents, annotation_set.annotations, annotation_set.relations
    )
    out.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    return losses


def _read_json_min(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> tuple[Imported, list[str]]:
    tasks = read_json_export(path)
    if not label_studio_min.is_json_min(tasks):
        raise ClaimwireError(
            "not a JSON-MIN export (objects with 'data' and 'annotations' are the full JSON "
            "export: `claimwire annotate pull --from-file` reads it)",
            file=path,
        )
    pulled, losses = label_studio_min.from_json_min(tasks, documents, schema, str(path))
    if len(pulled.sets) > 1:
        raise ClaimwireError(
            f"{len(pulled.sets)} annotators in one export; `claimwire annotate pull "
            "--from-file` writes one annotation set per annotator",
            file=path,
        )
    imported = Imported(losses=losses)
    item = {str(task.get("doc_id")): n for n, task in enumerate(tasks, start=1)}
    for converted in pulled.sets.values():
        imported.annotations += [(path, item[a.doc_id], a) for a in converted.annotations]
        imported.relations += [(path, item[r.doc_id], r) for r in converted.relations]
    return imported, pulled.problems


def _write_json_min(
    out: Path,
    documents: Sequence[Document],
    annotation_set: AnnotationSet,
    schema: Schema,
    options: Options,
) -> list[Loss]:
    records, losses = [], []
    for number, document in enumerate(documents, start=1):
        annotations = [a for a in annotation_set.annotations if a.doc_id == document.id]
        relations = [r for r in annotation_set.relations if r.doc_id == document.id]
        record, lost = label_studio_min.to_json_min(document, annotations, relations, schema)
        records.append(record | {"id": number})
        losses += lost
    out.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    return losses


def read_json_export(path: Path) -> list[Any]:
    """A Label Studio export file (a JSON list), or a located error."""
    try:
        data = strict_json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ClaimwireError(f"not a Label Studio JSON export: {error}", file=path) from None
    if not isinstance(data, list):
        raise ClaimwireError(
            f"not a Label Studio JSON export: expected a list of tasks, got {type(data).__name__}",
            file=path,
        )
    for number, task in enumerate(data, start=1):
        problem = _task_shape(task)
        if problem:
            raise ClaimwireError(
                f"not a Label Studio JSON export: task {number}: {problem}", file=path
            )
    return data


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
) -> tuple[Imported, list[str]]:
    if not path.is_dir():
        raise ClaimwireError("expected a brat folder of .txt and .ann files", file=path)
    return brat.read_brat_folder(path, documents, schema, author)


def _write_brat(
    out: Path,
    documents: Sequence[Document],
    annotation_set: AnnotationSet,
    schema: Schema,
    options: Options,
) -> list[Loss]:
    return brat.write_brat_folder(
        out, documents, annotation_set.annotations, annotation_set.relations, schema
    )


def _read_conll(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> tuple[Imported, list[str]]:
    if path.is_dir():
        raise ClaimwireError("expected a CoNLL file, got a folder", file=path)
    with path.open(encoding="utf-8", newline="") as handle:
        return conll.from_conll(handle, documents, schema, path, author)


def _write_conll(
    out: Path,
    documents: Sequence[Document],
    annotation_set: AnnotationSet,
    schema: Schema,
    options: Options,
) -> list[Loss]:
    if options.scheme not in conll.SCHEMES:
        raise ClaimwireError(
            f"unknown scheme {options.scheme!r}; expected {' or '.join(conll.SCHEMES)}"
        )
    lines, losses = conll.to_conll(
        documents, annotation_set.annotations, options.flat_labels(schema), options.scheme
    )
    with out.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(lines)
    return losses + [Loss("relation", r.id, r.type) for r in annotation_set.relations]


def _read_spacy(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> tuple[Imported, list[str]]:
    if path.is_dir():
        raise ClaimwireError("expected a .spacy file, got a folder", file=path)
    return spacy_docbin.from_docbin(path.read_bytes(), documents, schema, path, author)


def _write_spacy(
    out: Path,
    documents: Sequence[Document],
    annotation_set: AnnotationSet,
    schema: Schema,
    options: Options,
) -> list[Loss]:
    data, losses = spacy_docbin.to_docbin(
        documents,
        annotation_set.annotations,
        annotation_set.relations,
        options.flat_labels(schema),
    )
    out.write_bytes(data)
    return losses


def _read_cas(
    path: Path, documents: Mapping[str, Document], schema: Schema, author: str, options: Options
) -> tuple[Imported, list[str]]:
    if not path.is_dir():
        raise ClaimwireError("expected a folder of .xmi files and TypeSystem.xml", file=path)
    return cas.read_cas_folder(path, documents, schema, author)


def _write_cas(
    out: Path,
    documents: Sequence[Document],
    annotation_set: AnnotationSet,
    schema: Schema,
    options: Options,
) -> list[Loss]:
    return cas.write_cas_folder(
        out, documents, annotation_set.annotations, annotation_set.relations, schema
    )


FORMATS: dict[str, Format] = {
    "brat": Format("brat", _read_brat, _write_brat, folder=True),
    "inception": Format("inception", _read_cas, _write_cas, folder=True),
    "conll": Format("conll", _read_conll, _write_conll, folder=False),
    "spacy": Format("spacy", _read_spacy, _write_spacy, folder=False),
    "doccano": Format("doccano", _read_doccano, _write_doccano, folder=False),
    "label-studio-min": Format("label-studio-min", _read_json_min, _write_json_min, folder=False),
}


def get_format(name: str) -> Format:
    if name not in FORMATS:
        raise ClaimwireError(f"unknown format {name!r}; expected one of {', '.join(FORMATS)}")
    return FORMATS[name]


def checking_task(schema: Schema) -> Task:
    """Every label of the schema: an import keeps whatever the schema defines."""
    return Task("import", "every label of the schema", "spans", tuple(schema.labels), split=None)


def import_set(
    name: str,
    path: Path,
    documents: Mapping[str, Document],
    schema: Schema,
    author: str = "gold",
    options: Options | None = None,
) -> ImportResult:
    """Read ``path`` in format ``name`` and check it; problems raise one error listing them."""
    if not path.exists():
        raise ClaimwireError("not found", file=path)
    imported, problems = get_format(name).read(
        path, documents, schema, author, options or Options()
    )
    report = check_rows(path, imported.rows(), documents, schema, checking_task(schema))
    problems += report.problems
    if problems:
        shown = problems[:SHOWN_PROBLEMS]
        more = len(problems) - len(shown)
        raise ClaimwireError(
            f"{len(problems)} problem(s); nothing written:\n  "
            + "\n  ".join(shown)
            + (f"\n  … and {more} more" if more else "")
        )
    assert report.annotation_set is not None
    return ImportResult(report.annotation_set, imported.losses)


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
    spec = get_format(name)
    if spec.folder:
        with atomic_directory(out, replace=replace) as staging:
            return spec.write(staging, documents, annotation_set, schema, options or Options())
    if out.exists() and not replace:
        raise ClaimwireError("already exists (--force replaces it)", file=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.tmp")
    try:
        losses = spec.write(staging, documents, annotation_set, schema, options or Options())
        staging.replace(out)
    finally:
        staging.unlink(missing_ok=True)
    return losses
