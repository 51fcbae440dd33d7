"""Every validator code, each triggered by a broken copy of the seed release."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from claimwire import grouping
from claimwire.corpus.gold_columns import COLUMNS_KEY, ColumnsUnavailable, write_columns
from claimwire.corpus.identity import HASH_CHARS
from claimwire.corpus.release import DIGEST, manifest_digest
from claimwire.corpus.validate import CODES, WARNINGS, validate_release
from claimwire.errors import ClaimwireError
from claimwire.files import sha256

from .helpers import REPO, release_with_test_claims, run_cli


class Editor:
    """Edit a release's files as JSON and keep its manifest's checksums and counts in step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.manifest: dict[str, Any] = json.loads((path / "MANIFEST.json").read_text())

    def records(self, name: str) -> list[dict[str, Any]]:
        text = (self.path / name).read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def write(self, name: str, records: list[dict[str, Any]], *, lines: list[str] = ()) -> None:  # type: ignore[assignment]
        body = [json.dumps(r, ensure_ascii=False) for r in records] + list(lines)
        (self.path / name).write_text("".join(line + "\n" for line in body), encoding="utf-8")
        self.manifest["files"][name]["records"] = len(body)
        if name in ("annotations.jsonl", "documents.jsonl") and COLUMNS_KEY in self.manifest:
            self.columns_in_step()
        self.sync()

    def columns_in_step(self) -> None:
        """The gold's columns written again from the annotations and the documents (dropped,
        as a release without them, when they cannot be read as columns)."""
        listed = self.manifest[COLUMNS_KEY]
        try:
            write_columns(self.path, ["annotations.jsonl"], ["documents.jsonl"])
        except (ColumnsUnavailable, ClaimwireError):
            for name in listed.values():
                (self.path / name).unlink(missing_ok=True)
                self.manifest["files"].pop(name, None)
            del self.manifest[COLUMNS_KEY]

    def sync(self) -> None:
        for name, entry in self.manifest["files"].items():
            if (self.path / name).exists():
                entry["sha256"] = sha256(self.path / name)
        self.save_manifest()

    def save_manifest(self) -> None:
        """Write the manifest with its counts, splits and digest kept in step with the files."""
        self._recount()
        if DIGEST in self.manifest:
            self.manifest[DIGEST] = manifest_digest(self.manifest)
        (self.path / "MANIFEST.json").write_text(json.dumps(self.manifest), encoding="utf-8")

    def _recount(self) -> None:
        counts = self.manifest["counts"]
        for key in ("annotations", "relations"):
            path = self.path / f"{key}.jsonl"
            if path.exists():
                counts[key] = sum(1 for line in path.read_text().splitlines() if line.strip())
        try:
            documents = self.records("documents.jsonl")
        except (OSError, json.JSONDecodeError):
            return
        counts.update(
            documents=len(documents),
            paragraphs=sum(len(d["paragraphs"]) for d in documents),
            sentences=sum(len(d["sentences"]) for d in documents),
            characters=sum(len(d["text"]) for d in documents),
        )
        self.manifest["splits"] = dict(Counter(d["split"] for d in documents))

    def save_manifest_as_is(self) -> None:
        (self.path / "MANIFEST.json").write_text(json.dumps(self.manifest), encoding="utf-8")

    def document(self) -> dict[str, Any]:
        return self.records("documents.jsonl")[0]

    def span_annotation(self, **changes: Any) -> dict[str, Any]:
        doc = self.document()
        start, end = doc["sentences"][0]
        record = {
            "id": "a1",
            "doc_id": doc["id"],
            "layer": "claims",
            "label": "CLAIM",
            "start": start,
            "end": end,
            "quote": {"exact": doc["text"][start:end], "prefix": "", "suffix": ""},
        }
        record.update(changes)
        return record

    def edit_document(self, change: Callable[[dict[str, Any]], None]) -> None:
        doc = self.document()
        change(doc)
        self.write("documents.jsonl", [doc])


def _relation(editor: Editor, **changes: Any) -> dict[str, Any]:
    doc_id = editor.document()["id"]
    record = {"id": "r1", "doc_id": doc_id, "type": "attributed_to", "head": "a1", "tail": "a1"}
    record.update(changes)
    return record


def _with_parent(editor: Editor, parent: str, *, annotation: bool = False) -> None:
    parent_path = editor.path.parent / parent
    shutil.copytree(editor.path, parent_path)
    if annotation:
        parent_editor = Editor(parent_path)
        parent_editor.manifest["version"] = parent
        parent_editor.write("annotations.jsonl", [parent_editor.span_annotation(id="gone")])
    editor.manifest["parent"] = parent
    editor.save_manifest()


def _swap_char(doc: dict[str, Any], old: str, new: str) -> None:
    doc["text"] = doc["text"].replace(old, new, 1)


def _overlap(doc: dict[str, Any]) -> None:
    doc["sentences"][1][0] = doc["sentences"][0][1] - 3


def _untrimmed(doc: dict[str, Any]) -> None:
    doc["sentences"][-1][0] -= 1


def _cross_paragraph(doc: dict[str, Any]) -> None:
    third, fourth = doc["sentences"][2], doc["sentences"][3]  # end of p1, start of p2
    doc["sentences"][2:4] = [[third[0], fourth[1]]]


def _cut_word(editor: Editor) -> None:
    record = editor.span_annotation()
    record["start"] += 1
    record["quote"] = {"exact": record["quote"]["exact"][1:], "prefix": "", "suffix": ""}
    editor.write("annotations.jsonl", [record])


def _stale_columns(editor: Editor) -> None:
    """The columns of a span that ends one character later than its JSONL record, their
    checksum in the manifest."""
    editor.write("annotations.jsonl", [editor.span_annotation()])
    path = editor.path / editor.manifest[COLUMNS_KEY]["annotations.jsonl"]
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["end"] = arrays["end"] + 1
    with path.open("wb") as out:
        np.savez(out, **arrays)
    editor.sync()


def _linked(editor: Editor) -> None:
    """The changelog replaced by a link to an identical copy outside the release."""
    outside = editor.path.parent / "outside-CHANGES.md"
    shutil.copyfile(editor.path / "CHANGES.md", outside)
    (editor.path / "CHANGES.md").unlink()
    (editor.path / "CHANGES.md").symlink_to(outside)


BREAKERS: dict[str, Callable[[Editor], None]] = {
    "linked-file": _linked,
    "missing-file": lambda e: (e.path / "relations.jsonl").unlink(),
    "manifest-invalid": lambda e: (e.path / "MANIFEST.json").write_text("{", encoding="utf-8"),
    "version-mismatch": lambda e: (e.manifest.update(version="0.2.0"), e.save_manifest()),
    "checksum-mismatch": lambda e: (e.path / "CHANGES.md").write_text("edited", encoding="utf-8"),
    "bad-json": lambda e: e.write("annotations.jsonl", [], lines=["{oops"]),
    "bad-record": lambda e: e.write("annotations.jsonl", [{"id": "a", "doc_id": "d"}]),
    "count-mismatch": lambda e: (
        e.manifest["files"]["documents.jsonl"].update(records=2),
        e.save_manifest(),
    ),
    "duplicate-id": lambda e: e.write("annotations.jsonl", [e.span_annotation()] * 2),
    "doc-id-mismatch": lambda e: e.edit_document(lambda d: _swap_char(d, "Astana", "Astanb")),
    "text-not-normalized": lambda e: e.edit_document(lambda d: _swap_char(d, " ", "\r")),
    "bad-split": lambda e: e.edit_document(lambda d: d.update(split="holdout")),
    "unknown-document": lambda e: e.write("annotations.jsonl", [e.span_annotation(doc_id="x")]),
    "offset-out-of-range": lambda e: e.write(
        "annotations.jsonl", [e.span_annotation(end=10**6, quote=None)]
    ),
    "quote-mismatch": lambda e: e.write(
        "annotations.jsonl", [e.span_annotation(quote={"exact": "autre chose"})]
    ),
    "unknown-annotation": lambda e: e.write("relations.jsonl", [_relation(e, head="nope")]),
    "columns-mismatch": _stale_columns,
    "cross-document-relation": lambda e: (
        e.write("annotations.jsonl", [e.span_annotation()]),
        e.write("relations.jsonl", [_relation(e, doc_id="other-doc")]),
    ),
    "span-order": lambda e: e.edit_document(_overlap),
    "span-untrimmed": lambda e: e.edit_document(_untrimmed),
    "uncovered-text": lambda e: e.edit_document(lambda d: d["sentences"].pop(5)),
    "sentence-outside-paragraph": lambda e: e.edit_document(_cross_paragraph),
    "span-not-on-word-boundary": _cut_word,
    "parent-not-found": lambda e: (e.manifest.update(parent="0.0.9"), e.save_manifest()),
    "version-not-newer": lambda e: _with_parent(e, "0.2.0"),
    "annotation-unaccounted": lambda e: _with_parent(e, "0.0.1", annotation=True),
    "manifest-digest-mismatch": lambda e: (
        e.manifest.update(created="1999"),
        e.save_manifest_as_is(),
    ),
    "unlisted-file": lambda e: (e.path / "notes.txt").write_text("x", encoding="utf-8"),
    "manifest-mismatch": lambda e: _forged_counts(e),
}
# Codes a broken copy of a release in place cannot show, each tested where it can be.
ELSEWHERE = {
    "staging-folder": "test_integrity.py::test_a_staging_folder_never_validates",
    "bad-task": "test_release_tasks.py::test_validate_loads_the_release_tasks",
}


def _forged_counts(editor: Editor) -> None:
    """Counts edited, digest recomputed to match: only the recount catches it."""
    editor.manifest["counts"]["sentences"] = 1
    editor.manifest[DIGEST] = manifest_digest(editor.manifest)
    editor.save_manifest_as_is()


def test_every_code_has_a_broken_fixture() -> None:
    assert set(BREAKERS) | set(ELSEWHERE) == set(CODES) and not set(BREAKERS) & set(ELSEWHERE)


def test_seed_release_passes(seed_release: Path) -> None:
    assert validate_release(seed_release) == []
    result = run_cli("corpus", "validate", seed_release)
    assert result.returncode == 0
    assert result.stdout.strip().splitlines()[-1] == "PASSED"


def test_a_span_cutting_a_word_is_a_warning(seed_release: Path) -> None:
    _cut_word(Editor(seed_release))
    assert validate_release(seed_release) == []
    [warning] = validate_release(seed_release, warnings=True)
    assert warning.code == "span-not-on-word-boundary" and warning.level == 4
    assert validate_release(seed_release, max_level=3, warnings=True) == []


@pytest.mark.parametrize("code", sorted(set(BREAKERS) - WARNINGS))
def test_broken_release_reports_code(seed_release: Path, code: str) -> None:
    BREAKERS[code](Editor(seed_release))
    problems = validate_release(seed_release)
    found = {p.code for p in problems}
    assert code in found, f"expected {code}, got {found}"
    level = CODES[code][0]
    assert all(p.level == CODES[p.code][0] for p in problems)
    assert validate_release(seed_release, max_level=level - 1) == [] or level == 1

    result = run_cli("corpus", "validate", seed_release)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"FAILED with {len(problems)} errors"
    line = next(line for line in lines if f" L{level} {code}: " in line)
    assert line.startswith("[")
    assert "Traceback" not in result.stderr


def test_a_parent_record_starting_with_a_byte_order_mark_is_refused(seed_release: Path) -> None:
    """The parent's annotations are read as every record file is: a line starting with a
    BOM is a located error (before: the parent check read it as the raw inputs are read)."""
    editor = Editor(seed_release)
    _with_parent(editor, "0.0.1", annotation=True)
    parent = seed_release.parent / "0.0.1" / "annotations.jsonl"
    parent.write_bytes(b"\xef\xbb\xbf" + parent.read_bytes())
    with pytest.raises(ClaimwireError, match=r"annotations\.jsonl:1: .*byte order mark"):
        validate_release(seed_release)


def test_json_output_and_levels(seed_release: Path) -> None:
    BREAKERS["quote-mismatch"](Editor(seed_release))
    result = run_cli("corpus", "validate", seed_release, "--json")
    report = json.loads(result.stdout)
    assert report["passed"] is False
    problem = report["problems"][0]
    assert problem["code"] == "quote-mismatch"
    assert problem["file"] == "annotations.jsonl" and problem["line"] == 1
    assert problem["ann"] == "a1"
    assert run_cli("corpus", "validate", seed_release, "--level", "1").returncode == 0


def _where(problems: list[Any]) -> list[tuple[Any, ...]]:
    return [(p.code, p.file, p.line, p.doc, p.ann) for p in problems]


def test_a_relations_line_that_is_not_json_leaves_the_counts_alone(seed_release: Path) -> None:
    """The files cannot be indexed, so their records are not counted: the manifest's counts
    are not said to differ (before: "counts.annotations is 2, the files hold 0")."""
    editor = Editor(seed_release)
    editor.write("annotations.jsonl", [editor.span_annotation(), editor.span_annotation(id="a2")])
    editor.write("relations.jsonl", [], lines=["{oops", json.dumps(_relation(editor))])
    assert _where(validate_release(seed_release)) == [
        ("bad-json", "relations.jsonl", 1, None, None)
    ]


def test_a_bad_first_relation_is_located_by_its_document_and_counted(seed_release: Path) -> None:
    """A relation of the wrong shape names its document and its own id (before: its id as
    the document), and counts as one of the file's relations (before: "counts.relations is
    2, the files hold 1")."""
    editor = Editor(seed_release)
    editor.write("annotations.jsonl", [editor.span_annotation()])
    headless = {k: v for k, v in _relation(editor).items() if k != "head"}
    editor.write("relations.jsonl", [headless, _relation(editor, id="r2")])
    doc = editor.document()["id"]
    problems = validate_release(seed_release)
    assert _where(problems) == [("bad-record", "relations.jsonl", 1, doc, "r1")]
    assert problems[0].message == "field 'head': missing; every record needs it"


def test_an_annotation_in_the_relations_file_is_a_bad_record(seed_release: Path) -> None:
    """An annotation line in relations.jsonl with the id of an annotation: one located
    problem (before: an internal error, its id's hash taken for a repeat that then could not
    be read back as a relation)."""
    editor = Editor(seed_release)
    editor.write("annotations.jsonl", [editor.span_annotation()])
    editor.write("relations.jsonl", [editor.span_annotation(), _relation(editor)])
    doc = editor.document()["id"]
    assert _where(validate_release(seed_release)) == [
        ("bad-record", "relations.jsonl", 1, doc, "a1")
    ]
    result = run_cli("corpus", "validate", seed_release)
    assert result.returncode == 1 and "internal error" not in result.stderr
    assert result.stdout.strip().splitlines()[-1] == "FAILED with 1 errors"


@pytest.mark.parametrize(
    "change", [{"text": 5}, {"split": 7}, {"lang": 5}, {"paragraphs": "p"}, {"meta": []}]
)
def test_a_bad_document_is_counted_in_its_file(seed_release: Path, change: dict[str, Any]) -> None:
    """A document of the wrong shape is one bad-record: it counts in its file with what of it
    is readable, a count it leaves unknown is not compared, and its annotations do not name
    an unknown document (before: "splits say {...}, the documents have {...}", "counts.documents
    is N, the files hold N-1" and an unknown-document per annotation)."""
    editor = Editor(seed_release)
    editor.write("annotations.jsonl", [editor.span_annotation()])
    first = editor.document()
    text = "X" + first["text"][1:]  # a second document, its text one letter apart
    second = {**first, "id": f"{first['id'][: -HASH_CHARS - 1]}-{sha256(text)[:HASH_CHARS]}"}
    editor.write("documents.jsonl", [first, {**second, "text": text, "split": "train"}])
    assert validate_release(seed_release) == []
    documents = editor.records("documents.jsonl")
    documents[0].update(change)
    body = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents)
    (seed_release / "documents.jsonl").write_text(body, encoding="utf-8")
    editor.manifest["files"]["documents.jsonl"]["sha256"] = sha256(seed_release / "documents.jsonl")
    if DIGEST in editor.manifest:
        editor.manifest[DIGEST] = manifest_digest(editor.manifest)
    editor.save_manifest_as_is()
    problems = validate_release(seed_release)
    assert _where(problems) == [("bad-record", "documents.jsonl", 1, documents[0]["id"], None)], [
        (p.code, p.message) for p in problems
    ]


def test_a_bad_record_is_reported_once(seed_release: Path) -> None:
    """A record of the wrong shape is one problem, in the text and in ``--json`` (before:
    twice, once more when the parent check read its document back to find a kept
    annotation, ``a1``; and its parent's copy was said to be unaccounted for: it is kept,
    of the wrong shape)."""
    editor = Editor(seed_release)
    bad = editor.span_annotation(id="a2", start="zero")
    editor.write("annotations.jsonl", [editor.span_annotation(), bad])
    _with_parent(editor, "0.0.1")  # its annotation a1 is kept
    doc = editor.document()["id"]
    result = run_cli("corpus", "validate", seed_release)
    assert result.returncode == 1
    assert [line for line in result.stdout.splitlines() if "bad-record" in line] == [
        f"[annotations.jsonl line 2 doc {doc} ann a2] L1 bad-record: "
        "field 'start': expected int, got str"
    ]
    report = json.loads(run_cli("corpus", "validate", seed_release, "--json").stdout)
    assert [(p["code"], p["line"]) for p in report["problems"]] == [("bad-record", 2)]


def test_the_parent_check_reads_no_document_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Level 5 joins the parent's annotation ids with this release's on disk: no document's
    records are read back for it (before: one read per parent annotation whose document had
    left the lookup's cache — on a parent not written document by document, every one:
    quadratic in a document's size). The parent's annotations this release lacks are said
    in the parent's order."""
    release = release_with_test_claims(tmp_path, 6)
    editor = Editor(release)
    [claim] = editor.records("annotations.jsonl")
    documents = [d["id"] for d in editor.records("documents.jsonl")]
    kept = [{**claim, "id": f"x{k}-{d}", "doc_id": d} for k in range(3) for d in documents]
    editor.write("annotations.jsonl", sorted(kept, key=lambda a: documents.index(a["doc_id"])))
    _with_parent(editor, "0.0.1")
    parent = Editor(tmp_path / "releases" / "0.0.1")
    gone = [{**kept[0], "id": "gone-1"}, {**kept[0], "id": "gone-2"}]
    parent.write("annotations.jsonl", kept[:9] + gone[:1] + kept[9:] + gone[1:])  # cycling
    monkeypatch.setattr(grouping, "RECENT_DOCUMENTS", 2)
    read = grouping.read_lines
    reads = Counter[int]()

    def counted(lines: Any, *args: Any) -> Any:
        reads[level] += 1
        return read(lines, *args)

    monkeypatch.setattr(grouping, "read_lines", counted)
    for level in (4, 5):
        problems = validate_release(release, max_level=level)
    assert reads[5] == reads[4] > 0
    assert [(p.file, p.line, p.ann) for p in problems if p.level == 5] == [
        ("0.0.1/annotations.jsonl", 10, "gone-1"),
        ("0.0.1/annotations.jsonl", 20, "gone-2"),
    ]


def test_changes_that_are_not_ids_are_problems(seed_release: Path) -> None:
    """The manifest's lists of removed and renamed annotations hold what a user wrote:
    what is not an id is a located problem (before: an internal error, "unhashable type")."""
    editor = Editor(seed_release)
    _with_parent(editor, "0.0.1", annotation=True)
    editor.manifest["changes"] = {
        "annotations": {"removed": [["gone"]], "renamed": [1], "orphaned": "x"}
    }
    editor.save_manifest()
    result = run_cli("corpus", "validate", seed_release)
    assert result.returncode == 1 and result.stderr.count("\n") <= 1, result.stderr
    assert [line for line in result.stdout.splitlines() if "L1 manifest-invalid" in line] == [
        "[MANIFEST.json] L1 manifest-invalid: changes.annotations.removed[0] is ['gone'], "
        "not an annotation id",
        "[MANIFEST.json] L1 manifest-invalid: changes.annotations.orphaned is 'x', not a list",
        "[MANIFEST.json] L1 manifest-invalid: changes.annotations.renamed[0] is 1, "
        "not an annotation id",
    ]
    assert "L5 annotation-unaccounted" in result.stdout  # "gone" is not explained


def test_validate_checks_the_schema_s_checksum_before_reading_it(seed_release: Path) -> None:
    """An edited schema (here a link to a file outside that does not load) is reported as a
    level-1 problem in the report, --json too; before, validate read it first and stopped with
    its content's error, printing nothing on stdout."""
    editor = Editor(seed_release)  # the release carries its schema, listed
    shutil.copyfile(REPO / "annotation" / "schema.yaml", seed_release / "schema.yaml")
    editor.manifest["files"]["schema.yaml"] = {}
    editor.sync()
    assert validate_release(seed_release) == []
    outside = seed_release.parent / "outside.yaml"
    outside.write_text("name: x\nversion: '1'\nlayers: {a: {labels: {B: {scope: SECRET}}}}\n")
    (seed_release / "schema.yaml").unlink()
    (seed_release / "schema.yaml").symlink_to(outside)
    result = run_cli("corpus", "validate", seed_release, "--json")
    assert result.returncode == 1 and "SECRET" not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [(p["file"], p["code"]) for p in report["problems"]] == [("schema.yaml", "linked-file")]
    outside.unlink()
    (seed_release / "schema.yaml").unlink()
    (seed_release / "schema.yaml").write_text("name: x\nlayers: {}\n", encoding="utf-8")
    report = json.loads(run_cli("corpus", "validate", seed_release, "--json").stdout)
    assert [(p["file"], p["code"]) for p in report["problems"]] == [
        ("schema.yaml", "checksum-mismatch")
    ]
