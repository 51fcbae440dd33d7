"""Release validation in levels, after Universal Dependencies' ``validate.py``.

1. files and JSON format (manifest, checksums, record shapes, counts)
2. ids, references and offsets
3. segmentation tiling (paragraphs and sentences)
4. schema (labels and attributes), through a pluggable checker
5. against the parent release

Each problem is data (:class:`Problem`); problems are collected, not raised (on disk: a
hostile release may have millions, :class:`Problems`), and printed as
``[file line N doc D ann A] L2 code: message``. In a sharded release the file is the shard
and the line its own, as an editor opening the shard counts it.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from operator import attrgetter
from pathlib import Path
from typing import Any

from claimwire import strict_json
from claimwire.corpus.gold_columns import columns_problems
from claimwire.corpus.id_join import MissingIds
from claimwire.corpus.identity import HASH_CHARS, SPLIT_NAMES
from claimwire.corpus.left_out import left_out_problems
from claimwire.corpus.release import (
    ANNOTATIONS,
    DOCUMENTS,
    MANIFEST,
    RELATIONS,
    checksum_problems,
    parse_version,
    read_manifest,
    record_parts,
)
from claimwire.corpus.words import on_word_boundaries
from claimwire.errors import ClaimwireError, RecordError, shown
from claimwire.files import check_stamp, file_stamp, sha256
from claimwire.grouping import RecordIndex, Row
from claimwire.model import Annotation, Document, Relation, Span, iter_json_lines, read_numbered
from claimwire.spool import Mapped, Spooled

BATCH_DOCUMENTS = 256
"""Documents whose annotations are checked together."""

MAX_LEVEL = 5
# Codes that are reported but do not fail validation.
WARNINGS = frozenset({"span-not-on-word-boundary"})

# Every problem code, by level, with what it means (the documentation and tests use this).
CODES: dict[str, tuple[int, str]] = {
    "missing-file": (1, "a required release file is absent"),
    "manifest-invalid": (
        1,
        "MANIFEST.json is not valid JSON, lacks a required key, or lists a change not an id",
    ),
    "version-mismatch": (1, "the manifest's version is not the folder's name or not semver"),
    "checksum-mismatch": (1, "a file's sha256 differs from MANIFEST.json"),
    "linked-file": (1, "a listed file is a symbolic link, not a file of the release's own"),
    "manifest-digest-mismatch": (1, "MANIFEST.json's own sha256 does not match its content"),
    "unlisted-file": (1, "a file in the release folder is not listed in MANIFEST.json"),
    "manifest-mismatch": (1, "MANIFEST.json's counts or summary differ from the files"),
    "staging-folder": (1, "the folder is a build's staging folder, not a release"),
    "bad-json": (1, "a line is not a JSON object"),
    "bad-record": (1, "a record lacks a field or has one of the wrong type"),
    "count-mismatch": (1, "a file's record count differs from MANIFEST.json"),
    "duplicate-id": (2, "an id is used twice"),
    "doc-id-mismatch": (2, "a document id does not end with its text's hash"),
    "text-not-normalized": (2, "a text is not NFC or contains a carriage return"),
    "bad-split": (2, "a document's split is not train, dev or test"),
    "unknown-document": (2, "an annotation or relation names a document not in the release"),
    "offset-out-of-range": (2, "a span is empty, reversed or outside its text"),
    "quote-mismatch": (2, "an annotation's quote is not the text at its offsets"),
    "unknown-annotation": (2, "a relation's head or tail is not an annotation"),
    "cross-document-relation": (2, "a relation links annotations of different documents"),
    "columns-mismatch": (2, "the gold's columns file does not hold its annotation file's records"),
    "span-order": (3, "segments overlap or are out of order"),
    "span-untrimmed": (3, "a segment starts or ends with white space"),
    "uncovered-text": (3, "text outside every segment is not white space"),
    "sentence-outside-paragraph": (3, "a sentence crosses a paragraph boundary"),
    "span-not-on-word-boundary": (4, "a span starts or ends inside a word (a warning)"),
    "bad-task": (4, "a task definition the release carries does not load against its schema"),
    "parent-not-found": (5, "the parent release named in the manifest does not exist"),
    "version-not-newer": (5, "the release's version is not newer than its parent's"),
    "annotation-unaccounted": (
        5,
        "a parent annotation is missing and not listed as removed or orphaned",
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    level: int
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    doc: str | None = None
    ann: str | None = None

    @property
    def is_warning(self) -> bool:
        return self.code in WARNINGS

    def __str__(self) -> str:
        where = [self.file or "release"]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.doc:
            where.append(f"doc {self.doc}")
        if self.ann:
            where.append(f"ann {self.ann}")
        kind = " warning" if self.is_warning else ""
        return f"[{' '.join(where)}] L{self.level}{kind} {self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "severity": "warning" if self.is_warning else "error"}


_FIELDS = attrgetter(*(f.name for f in fields(Problem)))


class Problems(Spooled[Problem]):
    """Problems in the order found, on disk (a :class:`~claimwire.spool.Spool`, the first
    few held): ``corpus validate --json`` lists every one, its text output counts them by
    code, and memory holds none of them."""

    def __init__(self, problems: Iterable[Problem] = ()) -> None:
        super().__init__(Problem, _FIELDS)
        self.extend(problems)

    def errors(self) -> Problems:
        """The problems but the warnings (:data:`WARNINGS`), on disk again."""
        return Problems(p for p in self if not p.is_warning)

    def dicts(self) -> Sequence[dict[str, Any]]:
        """Each problem as :meth:`Problem.to_dict`, made when read (for JSON)."""
        return Mapped(self, Problem.to_dict)


Place = tuple[str, int]
"""Where a record is: its file's name (a shard's, in a sharded release) and its line."""

SchemaCheck = Callable[
    [list[Annotation], list[Relation]], Iterable[tuple[Annotation | Relation, str, str]]
]
"""Level 4: ``(record, code, message)`` for every problem of an annotation set."""


def _problem(code: str, message: str, **where: Any) -> Problem:
    return Problem(CODES[code][0], code, message, **where)


def _check_segments(
    text: str, spans: Iterable[Span], kind: str, where: dict[str, Any]
) -> Iterator[Problem]:
    """Spans in order, trimmed, not overlapping, with only white space between them."""
    previous_end = 0
    for index, (start, end) in enumerate(spans, start=1):
        if not 0 <= start < end <= len(text):
            yield _problem("offset-out-of-range", f"{kind} {index} [{start}, {end})", **where)
            continue
        if start < previous_end:
            yield _problem("span-order", f"{kind} {index} starts inside the previous one", **where)
        elif not text[previous_end:start].isspace() and previous_end != start:
            gap = text[previous_end:start].strip()
            yield _problem(
                "uncovered-text",
                f"text {gap[:30]!r} at {previous_end} before {kind} {index} is in no {kind}",
                **where,
            )
        if text[start].isspace() or text[end - 1].isspace():
            yield _problem(
                "span-untrimmed", f"{kind} {index} [{start}, {end}) has outer white space", **where
            )
        previous_end = max(previous_end, end)
    if text[previous_end:].strip():
        yield _problem(
            "uncovered-text", f"non-space text after the last {kind} is in no {kind}", **where
        )


def _check_sentences_in_paragraphs(document: Document, where: dict[str, Any]) -> Iterator[Problem]:
    paragraphs = document.paragraphs
    p = 0
    for index, (start, end) in enumerate(document.sentences, start=1):
        while p < len(paragraphs) and paragraphs[p][1] <= start:
            p += 1
        if p == len(paragraphs) or not (paragraphs[p][0] <= start and end <= paragraphs[p][1]):
            yield _problem(
                "sentence-outside-paragraph",
                f"sentence {index} [{start}, {end}) is not inside one paragraph",
                **where,
            )


class ReleaseValidator:
    """Validates one release folder up to a level; see the module docstring."""

    def __init__(
        self,
        path: Path,
        max_level: int = MAX_LEVEL,
        schema_check: SchemaCheck | None = None,
        staged: bool = False,
    ) -> None:
        self.path = path
        self.staged = staged  # a build validating its own staging folder
        self.max_level = max_level
        self.schema_check = schema_check
        self.problems = Problems()
        self.documents: set[str] = set()
        self.annotation_docs: dict[str, str] = {}
        self.manifest: dict[str, Any] = {}
        self._refused_documents: Counter[str] = Counter()
        self._refused_splits: Counter[str] = Counter()
        self._uncounted: set[str] = set()
        """Counts a refused document leaves unknown (``characters`` when its text is not a
        string, ``splits`` when its split is not): not compared with the manifest."""

    def run(self) -> Problems:
        if not self._check_manifest():
            return self.problems
        # Documents stream through; annotations and relations are read back a batch of
        # documents at a time (every check but uniqueness stays inside a document), so memory
        # does not grow with the corpus.
        index = self._index()
        counts: Counter[str] = Counter()
        splits: Counter[str] = Counter()
        batch: list[Document] = []
        for part, lineno, doc in self._records(DOCUMENTS, Document):
            if self.max_level >= 2:
                self._check_document(part, lineno, doc)
            self.documents.add(doc.id)
            counts.update(
                documents=1,
                paragraphs=len(doc.paragraphs),
                sentences=len(doc.sentences),
                characters=len(doc.text),
            )
            splits[doc.split] += 1
            batch.append(doc)
            if len(batch) == BATCH_DOCUMENTS:
                counts += self._check_batch(index, batch)
                batch = []
        counts += self._check_batch(index, batch)
        counts.update(self._refused_documents)
        splits.update(self._refused_splits)
        if index is not None:
            for rows in index.leftover():
                counts += self._check_records(index, [], rows)
            for duplicate in index.duplicates:  # counted, never read back
                counts[f"{duplicate.kind}s"] += 1
                if self.max_level >= 2:
                    self._add(
                        "duplicate-id",
                        f"{duplicate.kind} id used before",
                        file=duplicate.path.name,
                        line=duplicate.line,
                        doc=duplicate.doc_id,
                        ann=duplicate.id,
                    )
            self._check_part_counts(index)
            counts.update(annotations=0, relations=0)  # unknown when a line is not JSON
            counts.update(self._refused)
        self._check_counts(counts, splits)
        self._check_left_out()
        if self.max_level >= 2:
            self._check_columns()
        if self.max_level >= 5 and index is not None:
            self._check_parent(index)
        if index is not None:
            index.close()
        return self.problems

    def _index(self) -> RecordIndex | None:
        """Where each annotation and relation is, by document; ``None`` (and the problem
        said) when a line is not JSON at all."""
        parts = [(name, kind) for name, kind in ((ANNOTATIONS, Annotation), (RELATIONS, Relation))]
        files, kinds = [], []
        self._parts: dict[Path, str] = {}
        """Each record file's name (``annotations.jsonl``), by the path of its part."""
        self._refused: Counter[str] = Counter()
        """Records refused for their shape, by kind (``annotations``, ``relations``)."""
        for name, kind in parts:
            for part in record_parts(self.manifest, name):
                files.append(self.path / part)
                kinds.append(kind)
                self._parts[self.path / part] = name

        def bad(error: RecordError, lineno: int, obj: dict[str, Any]) -> None:
            """A record of the wrong shape: reported where it is, and counted in its file
            (the manifest counts it: the problem is its shape, not the count)."""
            field = f"field '{error.field}': " if error.field else ""
            doc, own = obj.get("doc_id"), obj.get("id")
            self._add(
                "bad-record",
                field + error.message,
                file=Path(str(error.file)).name,
                line=lineno,
                doc=doc if isinstance(doc, str) else None,
                ann=own if isinstance(own, str) else None,
            )
            self._refused[Path(self._parts[Path(str(error.file))]).stem] += 1

        try:
            index = RecordIndex(files, kinds=kinds, on_error=bad)
        except ClaimwireError as error:
            self._add("bad-json", error.message, file=Path(error.file or "").name, line=error.line)
            return None
        return index

    def _check_part_counts(self, index: RecordIndex) -> None:
        for path in self._parts:
            expected = self.manifest["files"].get(path.name, {}).get("records")
            count = index.records[list(self._parts).index(path)]
            if expected is not None and expected != count:
                self._add(
                    "count-mismatch", f"{count} records, manifest says {expected}", file=path.name
                )

    def _check_batch(self, index: RecordIndex | None, documents: list[Document]) -> Counter[str]:
        if index is None or not documents:
            return Counter()
        return self._check_records(index, documents, index.rows([d.id for d in documents]))

    def _check_records(
        self, index: RecordIndex, documents: list[Document], rows: list[Row]
    ) -> Counter[str]:
        """Offsets, ids, references and the schema of one batch's records (or, with no
        documents, of records naming a document the release does not have)."""
        annotations: list[tuple[Place, Annotation]] = []
        relations: list[tuple[Place, Relation]] = []
        for path, lineno, record in rows:
            if isinstance(record, Annotation):
                annotations.append(((path.name, lineno), record))
            else:
                relations.append(((path.name, lineno), record))
        if self.max_level >= 2:
            by_document: dict[str, list[tuple[Place, Annotation]]] = defaultdict(list)
            for place, ann in annotations:
                by_document[ann.doc_id].append((place, ann))
            for doc in documents:
                self._check_offsets(doc.text, by_document.get(doc.id, []))
            owners = self._check_annotation_ids(annotations)
            self._check_relations(relations, owners, index)
        if self.max_level >= 4 and self.schema_check is not None:
            self._check_schema(annotations, relations)
        return Counter(annotations=len(annotations), relations=len(relations))

    def _check_columns(self) -> None:
        """The gold's columns files (:mod:`claimwire.corpus.gold_columns`) hold what the
        annotation files hold: each built again from its JSONL and compared array by array
        (a record the JSONL refuses is a problem said where it is)."""
        manifest = self.manifest
        try:
            for name, problem in columns_problems(
                self.path,
                manifest,
                record_parts(manifest, ANNOTATIONS),
                record_parts(manifest, DOCUMENTS),
            ):
                self._add("columns-mismatch", f"{name}: {problem}", file=name)
        except ClaimwireError:
            pass  # a record the reading refuses: already a problem of its own

    def _add(self, code: str, message: str, **where: Any) -> None:
        self.problems.append(_problem(code, message, **where))

    def _check_manifest(self) -> bool:
        manifest_path = self.path / MANIFEST
        if not manifest_path.exists():
            self._add("missing-file", "MANIFEST.json is missing", file=MANIFEST)
            return False
        try:
            manifest = strict_json.loads(manifest_path.read_text(encoding="utf-8"))
        except ValueError as error:  # not JSON, not UTF-8, a key named twice
            duplicate = isinstance(error, strict_json.DuplicateKeyError)
            said = str(error) if duplicate else f"not valid JSON: {error}"
            self._add("manifest-invalid", said, file=MANIFEST)
            return False
        missing = [
            k
            for k in ("version", "files", "counts")
            if not isinstance(manifest, dict) or k not in manifest
        ]
        if missing or not isinstance(manifest["files"], dict):
            self._add("manifest-invalid", f"missing keys: {', '.join(missing)}", file=MANIFEST)
            return False
        self.manifest = manifest
        version = str(manifest["version"])
        try:
            parse_version(version)
        except ClaimwireError as error:
            self._add("version-mismatch", error.message, file=MANIFEST)
        if self.path.name.startswith(".") and not self.staged:
            self._add(
                "staging-folder", "a build's staging folder is never a release", file=MANIFEST
            )
        elif not self.staged and version != self.path.name:
            self._add(
                "version-mismatch",
                f"manifest says {version}, folder is {self.path.name}",
                file=MANIFEST,
            )
        ok = True
        for name, code, problem in checksum_problems(self.path, manifest):
            self._add(code, f"{name}: {problem}", file=name)
            ok = ok and code != "missing-file"
        return ok

    def _records(self, name: str, kind: type[Any]) -> Iterator[tuple[str, int, Any]]:
        """``(part, line, record)`` of record file ``name`` (each shard's own lines, in a
        sharded release), each part's record count checked."""
        for part in record_parts(self.manifest, name):
            count = 0

            def bad(error: RecordError, lineno: int, obj: dict[str, Any], part: str = part) -> None:
                nonlocal count
                count += 1
                field = f"field '{error.field}': " if error.field else ""
                self._add(
                    "bad-record",
                    field + error.message,
                    file=part,
                    line=lineno,
                    doc=obj.get("id"),
                )
                self._refuse_document(obj)

            try:
                for lineno, record in read_numbered(self.path / part, kind, bad):
                    count += 1
                    yield part, lineno, record
            except ClaimwireError as error:
                self._add("bad-json", error.message, file=part, line=error.line)
                return
            expected = self.manifest["files"].get(part, {}).get("records")
            if expected is not None and expected != count:
                self._add("count-mismatch", f"{count} records, manifest says {expected}", file=part)

    def _refuse_document(self, obj: dict[str, Any]) -> None:
        """A document of the wrong shape still counts in its file, with what of it is
        readable (its split, paragraphs, sentences, characters; a count it leaves unknown is
        not compared): the manifest counts it, and the problem is its shape, not the counts.
        Its id (a string) is known, so its annotations are not also said to name an unknown
        document."""
        self._refused_documents["documents"] += 1
        fields = (("paragraphs", "paragraphs", list), ("sentences", "sentences", list))
        for key, name, shape in (*fields, ("characters", "text", str)):
            value = obj.get(name)
            if isinstance(value, shape):
                self._refused_documents[key] += len(value)
            else:
                self._uncounted.add(key)
        if isinstance(split := obj.get("split"), str):
            self._refused_splits[split] += 1
        else:
            self._uncounted.add("splits")
        if isinstance(own := obj.get("id"), str):
            self.documents.add(own)

    def _check_counts(self, counts: Counter[str], splits: Counter[str]) -> None:
        """The manifest's counts and splits, recomputed from the files."""
        stated = self.manifest.get("counts")
        for key, value in stated.items() if isinstance(stated, dict) else []:
            if key in counts and key not in self._uncounted and counts[key] != value:
                self._add(
                    "manifest-mismatch",
                    f"counts.{key} is {value}, the files hold {counts[key]}",
                    file=MANIFEST,
                )
        stated_splits = self.manifest.get("splits")
        known = "splits" not in self._uncounted
        if stated_splits is not None and known and stated_splits != dict(splits):
            self._add(
                "manifest-mismatch",
                f"splits say {stated_splits}, the documents have {dict(sorted(splits.items()))}",
                file=MANIFEST,
            )

    def _check_left_out(self) -> None:
        """The duplicates its build left out: the manifest's counts, each line of the
        release's ``duplicates.jsonl`` (or a legacy manifest's list) and, from level 2, that
        each kept document is one of the release's."""
        documents = self.documents if self.max_level >= 2 else None
        for found in left_out_problems(self.path, self.manifest, documents):
            self._add(found.code, found.message, file=found.file, line=found.line, doc=found.doc)

    def _check_document(self, part: str, lineno: int, doc: Document) -> None:
        where = {"file": part, "line": lineno, "doc": doc.id}
        if doc.id in self.documents:
            self._add("duplicate-id", "document id used before", **where)
        if not doc.id.endswith("-" + sha256(doc.text)[:HASH_CHARS]):
            self._add("doc-id-mismatch", "id does not end with the text's sha256[:10]", **where)
        if "\r" in doc.text or not unicodedata.is_normalized("NFC", doc.text):
            self._add("text-not-normalized", "text must be NFC with LF line ends", **where)
        if doc.split not in SPLIT_NAMES:
            self._add("bad-split", f"'{doc.split}' is not one of train, dev, test", **where)
        if self.max_level >= 3:
            self.problems.extend(_check_segments(doc.text, doc.paragraphs, "paragraph", where))
            self.problems.extend(_check_segments(doc.text, doc.sentences, "sentence", where))
            self.problems.extend(_check_sentences_in_paragraphs(doc, where))

    def _check_offsets(self, text: str, annotations: list[tuple[Place, Annotation]]) -> None:
        for (part, lineno), ann in annotations:
            if not ann.is_span:
                continue
            assert ann.start is not None and ann.end is not None
            where = {"file": part, "line": lineno, "doc": ann.doc_id, "ann": ann.id}
            if not 0 <= ann.start < ann.end <= len(text):
                self._add(
                    "offset-out-of-range",
                    f"[{ann.start}, {ann.end}) must satisfy 0 <= start < end <= {len(text)}",
                    **where,
                )
            elif ann.quote is not None and ann.quote.exact != text[ann.start : ann.end]:
                self._add(
                    "quote-mismatch",
                    f"quote {ann.quote.exact[:40]!r} but the text there is "
                    f"{text[ann.start : ann.end][:40]!r}",
                    **where,
                )
            elif self.max_level >= 4 and not on_word_boundaries(text, ann.start, ann.end):
                self._add(
                    "span-not-on-word-boundary",
                    f"[{ann.start}, {ann.end}) {text[ann.start : ann.end][:40]!r} cuts a word",
                    **where,
                )

    def _check_annotation_ids(self, annotations: list[tuple[Place, Annotation]]) -> dict[str, str]:
        """Each annotation's document must be a document of the release; the batch's
        annotation ids with their documents."""
        owners: dict[str, str] = {}
        for (part, lineno), ann in annotations:
            owners[ann.id] = ann.doc_id
            if ann.doc_id not in self.documents:
                where = {"file": part, "line": lineno, "doc": ann.doc_id, "ann": ann.id}
                self._add("unknown-document", "doc_id is not a document of this release", **where)
        return owners

    def _check_relations(
        self,
        relations: list[tuple[Place, Relation]],
        owners: dict[str, str],
        index: RecordIndex,
    ) -> None:
        for (part, lineno), rel in relations:
            where = {"file": part, "line": lineno, "doc": rel.doc_id, "ann": rel.id}
            if rel.doc_id not in self.documents:
                self._add("unknown-document", "doc_id is not a document of this release", **where)
            for end_name, ann_id in (("head", rel.head), ("tail", rel.tail)):
                owner = owners.get(ann_id) or index.document_of(ann_id)
                if owner is None:
                    self._add("unknown-annotation", f"{end_name} '{ann_id}' not found", **where)
                elif owner != rel.doc_id:
                    self._add(
                        "cross-document-relation",
                        f"{end_name} '{ann_id}' belongs to document {owner}",
                        **where,
                    )

    def _check_schema(
        self,
        annotations: list[tuple[Place, Annotation]],
        relations: list[tuple[Place, Relation]],
    ) -> None:
        assert self.schema_check is not None
        places = {("a", ann.id): place for place, ann in annotations}
        places.update({("r", rel.id): place for place, rel in relations})
        findings = self.schema_check([a for _, a in annotations], [r for _, r in relations])
        for record, code, message in findings:
            kind, name = ("a", ANNOTATIONS) if isinstance(record, Annotation) else ("r", RELATIONS)
            part, line = places.get((kind, record.id), (name, None))
            self.problems.append(Problem(4, code, message, part, line, record.doc_id, record.id))

    def _check_parent(self, index: RecordIndex) -> None:
        parent = self.manifest.get("parent")
        if not parent:
            return
        parent_path = self.path.parent / str(parent)
        if not (parent_path / MANIFEST).exists():
            self._add("parent-not-found", f"no release {parent} beside this one", file=MANIFEST)
            return
        try:
            if parse_version(str(parent)) >= parse_version(str(self.manifest["version"])):
                self._add("version-not-newer", f"parent {parent} is not older", file=MANIFEST)
        except ClaimwireError:
            pass  # already reported at level 1
        try:
            parent_parts = record_parts(read_manifest(parent_path), ANNOTATIONS)
        except ClaimwireError as error:
            self._add("parent-not-found", error.message, file=MANIFEST)
            return
        files = [(f"{parent}/{part}", parent_path / part) for part in parent_parts]
        for name, lineno, ann_id in _unaccounted(index, files, self._explained()):
            self._add(
                "annotation-unaccounted",
                f"parent {parent} has it; this release neither keeps nor lists it",
                file=name,
                line=lineno,
                ann=ann_id,
            )

    def _explained(self) -> set[str]:
        """The parent's annotation ids the manifest's changes list as removed, orphaned or
        renamed; a list that is not one, or an entry that is not an id, is a problem."""
        changes = self.manifest.get("changes")
        listed = changes.get("annotations") if isinstance(changes, dict) else None
        explained: set[str] = set()
        if not isinstance(listed, dict):
            return explained
        for key in ("removed", "orphaned", "renamed"):
            where = f"changes.annotations.{key}"
            values = listed.get(key, [])
            if not isinstance(values, list):
                said = f"{where} is {shown(values)}, not a list"
                self._add("manifest-invalid", said, file=MANIFEST)
                continue
            for at, value in enumerate(values):
                entry = f"{where}[{at}]"
                if key == "renamed" and isinstance(value, dict):  # {"old": id, "new": id}
                    value, entry = value.get("old"), f"{entry}.old"
                if isinstance(value, str):
                    explained.add(value)
                else:
                    said = f"{entry} is {shown(value)}, not an annotation id"
                    self._add("manifest-invalid", said, file=MANIFEST)
        return explained


ASKED_AT_ONCE = 10_000
"""Parent annotations whose ids go to the join together."""


def _unaccounted(
    index: RecordIndex, files: list[tuple[str, Path]], explained: set[str]
) -> Iterator[tuple[str, int, Any]]:
    """``(file name, line, id)`` of each annotation of the parent's ``files`` (named, and
    where) that this release (``index``) has no annotation with the id of, and ``explained``
    does not list, in the parent's order. Linear: this release's ids and the parent's are
    joined on disk (:class:`MissingIds`), then the parent is read again (unchanged since,
    else a located error) to say where each one is."""
    join = MissingIds()
    for ids in index.annotation_ids():
        join.have(i for i in ids if isinstance(i, str))
    stamps = [file_stamp(path) for _, path in files]
    asked: list[tuple[int, str]] = []
    for number, (_, _, ann_id) in enumerate(_parent_ids(files)):
        if not (isinstance(ann_id, str) and ann_id in explained):
            asked.append((number, str(ann_id)))
        if len(asked) == ASKED_AT_ONCE:
            join.ask(asked)
            asked = []
    join.ask(asked)
    missing = join.missing()
    wanted = next(missing, None)
    for number, found in enumerate(_parent_ids(files)):
        if number == wanted:
            yield found
            wanted = next(missing, None)
    for (_, path), stamp in zip(files, stamps, strict=True):
        check_stamp(path, stamp, file_stamp(path))


def _parent_ids(files: list[tuple[str, Path]]) -> Iterator[tuple[str, int, Any]]:
    """``(file name, line, id)`` of each record of ``files``."""
    for name, path in files:
        for lineno, obj in iter_json_lines(path, records=True):
            yield name, lineno, obj.get("id")


def validate_release(
    path: Path,
    max_level: int = MAX_LEVEL,
    schema_check: SchemaCheck | None = None,
    warnings: bool = False,
    *,
    staged: bool = False,
) -> Problems:
    """All problems found in the release at ``path`` up to ``max_level`` (on disk, in the
    order found); warnings (:data:`WARNINGS`) only when asked for (``staged``: a build
    checking its own staging folder, the only time such a folder is validated)."""
    if not path.is_dir():
        raise ClaimwireError("release folder not found", file=path)
    problems = ReleaseValidator(path, max_level, schema_check, staged).run()
    return problems if warnings else problems.errors()


def summarize(problems: Iterable[Problem]) -> str:
    """``PASSED`` or ``FAILED with N errors`` (the last line ``validate`` prints); warnings
    are counted, never failed on."""
    counted = Counter(p.is_warning for p in problems)
    errors, warned = counted[False], counted[True]
    tail = f" ({warned} warnings)" if warned else ""
    return ("PASSED" if not errors else f"FAILED with {errors} errors") + tail


def cap_per_code(problems: Iterable[Problem], cap: int) -> tuple[list[Problem], Counter[str]]:
    """At most ``cap`` problems of each code, and how many of each were left out."""
    shown: list[Problem] = []
    seen: Counter[str] = Counter()
    for problem in problems:
        seen[problem.code] += 1
        if seen[problem.code] <= cap:
            shown.append(problem)
    hidden = Counter({code: n - cap for code, n in seen.items() if n > cap})
    return shown, hidden
