"""``claimwire convert --from``: each reader gives one document's records at a time, and they
are checked and written a batch of documents at a time, so an import of a million documents
holds a batch, not the import; what it writes is what the import checked whole would be."""

from __future__ import annotations

import dataclasses
import io
import json
import sys
import tempfile
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import AnnotationSet, load_annotation_set
from claimwire.formats import convert
from claimwire.formats.base import DocumentLookup, Imported, file_stem
from claimwire.formats.convert import FORMATS, export_set, import_set, import_to
from claimwire.model import Document, replaced, write_records

from .helpers import REPO, release_with_test_claims, watch_checks

BUNDLED = REPO / "corpus" / "releases" / "1.0.0"
SCHEMA = load_schema(BUNDLED / "schema.yaml")
COPIES = 7


def _copies() -> tuple[dict[str, Document], AnnotationSet]:
    """The bundled document seven times (each text with its own ending), with its gold:
    annotations and relations on every document."""
    [seed] = open_release(BUNDLED).documents()
    gold = load_annotation_set(BUNDLED)
    documents: dict[str, Document] = {}
    annotations, relations = [], []
    for k in range(COPIES):
        doc_id = f"copie-{k}"
        documents[doc_id] = replaced(seed, id=doc_id, text=f"{seed.text}\n{k}\n")
        ids = {a.id: f"{doc_id}.{a.id}" for a in gold.annotations}
        annotations += [replaced(a, id=ids[a.id], doc_id=doc_id) for a in gold.annotations]
        for r in gold.relations:
            cue = {"cue": ids[r.attributes["cue"]]} if "cue" in r.attributes else {}
            attributes = r.attributes | cue
            head, tail = ids[r.head], ids[r.tail]
            copy = replaced(r, id=f"{doc_id}.{r.id}", doc_id=doc_id, head=head, tail=tail)
            relations.append(replaced(copy, attributes=attributes))
    return documents, AnnotationSet("gold", tuple(annotations), tuple(relations))


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("batch", [1, 3])
def test_an_import_in_batches_writes_what_the_whole_import_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, batch: int
) -> None:
    documents, gold = _copies()
    exported = tmp_path / f"export-{name}"
    export_set(name, exported, list(documents.values()), gold, SCHEMA)
    whole = import_set(name, exported, documents, SCHEMA)
    assert whole.annotation_set.annotations  # something on each document
    write_records(
        tmp_path / "whole.jsonl",
        [*whole.annotation_set.annotations, *whole.annotation_set.relations],
    )

    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", batch)
    checked = watch_checks(monkeypatch, convert)
    out = tmp_path / "streamed.jsonl"
    annotations, relations, losses = import_to(name, exported, out, documents, SCHEMA)
    assert out.read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert (annotations, relations) == (
        len(whole.annotation_set.annotations),
        len(whole.annotation_set.relations),
    )
    assert list(map(str, losses.first)) == list(map(str, whole.losses))
    # before: one check of every document
    assert max(len(set(call)) for call in checked) <= batch < COPIES


def _spy_units(monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[list[int], list[int]]:
    """How many units the reader of ``name`` gave, and how many it had given when the first
    record was written."""
    given, ahead = [0], []
    spec = FORMATS[name]

    def counted(*args: Any) -> Iterator[Imported]:
        for unit in spec.read(*args):
            given[0] += 1
            yield unit

    monkeypatch.setitem(FORMATS, name, dataclasses.replace(spec, read=counted))
    record_line = convert.record_line

    def noted(record: Any) -> str:
        if not ahead:
            ahead.append(given[0])
        return record_line(record)

    monkeypatch.setattr(convert, "record_line", noted)
    return given, ahead


DOCUMENTS = 60
BATCH = 4
EXPORTS = {name: name + (".txt" if name == "conll" else "") for name in FORMATS}


@pytest.mark.parametrize("name", FORMATS)
def test_an_import_writes_before_it_has_read_every_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from claimwire.cli import main

    folder = release_with_test_claims(tmp_path, DOCUMENTS)
    exported = tmp_path / EXPORTS[name]
    argv = ["claimwire", "convert", "--release", str(folder)]
    monkeypatch.setattr(sys, "argv", [*argv, str(folder), "--to", name, "--out", str(exported)])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", BATCH)
    given, ahead = _spy_units(monkeypatch, name)
    out = tmp_path / "sub" / "imported.jsonl"
    monkeypatch.setattr(sys, "argv", [*argv, str(exported), "--from", name, "--out", str(out)])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert given[0] >= DOCUMENTS and ahead and ahead[0] <= 2 * BATCH + 1, (given, ahead)
    assert len(out.read_text("utf-8").splitlines()) == len(
        list(load_annotation_set(folder).annotations)
    )


def _doccano(tmp_path: Path, lines: list[dict[str, Any]]) -> Path:
    path = tmp_path / "doccano.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    return path


def _line(document: Document, label: str = "CLAIM") -> dict[str, Any]:
    entity = {"id": 1, "start_offset": 0, "end_offset": 10, "label": label}
    return {"doc_id": document.id, "text": document.text, "entities": [entity], "relations": []}


def _twice_doccano(exported: Path) -> str:
    lines = exported.read_text("utf-8").splitlines(keepends=True)
    exported.write_text("".join([*lines, lines[0]]), "utf-8")
    return f"lines 1 and {len(lines) + 1} of {exported}"


def _twice_conll(exported: Path) -> str:
    text = exported.read_text("utf-8")
    exported.write_text(text + "-DOCSTART-" + text.split("-DOCSTART-")[1], "utf-8")
    return f"lines 1 and {text.count(chr(10)) + 1} of {exported}"


def _twice_json_min(exported: Path) -> str:
    tasks = json.loads(exported.read_text("utf-8"))
    exported.write_text(json.dumps([*tasks, tasks[0]]), "utf-8")
    return f"items 1 and {len(tasks) + 1} of {exported}"


def _twice_inception(exported: Path) -> str:
    (exported / "zz.xmi").write_bytes((exported / "copie-0.xmi").read_bytes())  # read last
    return f"files {exported / 'copie-0.xmi'} and {exported / 'zz.xmi'}"


def _twice_spacy(exported: Path) -> str:
    first = min(exported.glob("*.spacy"))
    (exported / "zz.spacy").write_bytes(first.read_bytes())
    more = f"({COPIES - 1} more document(s) met twice)"  # the file's other documents
    return f"doc 1 of {first} and doc 1 of {exported / 'zz.spacy'} {more}"


TWICE = {
    "doccano": _twice_doccano,
    "conll": _twice_conll,
    "label-studio-min": _twice_json_min,
    "inception": _twice_inception,
    "spacy": _twice_spacy,
}  # brat: a document is found by its file's stem alone, one file name a document


@pytest.mark.parametrize("name", TWICE)
def test_a_document_met_twice_is_one_error_naming_both_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Two annotators' exports concatenated, a file copied: the document's spans would all be
    there twice (doccano merged them in silence; CoNLL and INCEpTION blamed the ids the
    importer made). One line names the document and both places; nothing is written."""
    documents, gold = _copies()
    exported = tmp_path / f"export-{name}"
    export_set(name, exported, list(documents.values()), gold, SCHEMA)
    where = TWICE[name](exported)
    expected = f"document copie-0: {where} — one document per set"
    whole = _error(lambda: import_set(name, exported, documents, SCHEMA))
    assert whole.startswith(expected) and "\n" not in whole, whole
    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", 2)
    out = tmp_path / "out.jsonl"
    assert _error(lambda: import_to(name, exported, out, documents, SCHEMA)) == whole
    assert not out.exists()


def test_documents_met_twice_are_counted_and_the_first_met_again_is_named(
    tmp_path: Path,
) -> None:
    documents, _ = _copies()
    first, second, *others = documents.values()
    lines = [_line(first), _line(second), *map(_line, others), _line(second), _line(first)]
    path = _doccano(tmp_path, lines)
    error = _error(lambda: import_to("doccano", path, tmp_path / "o.jsonl", documents, SCHEMA))
    assert error.startswith(
        f"document copie-1: lines 2 and {COPIES + 1} of {path} (1 more document(s) met twice)"
    )


def test_a_hash_that_repeats_without_a_document_twice_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ids with one 64-bit hash (made to collide here) are two documents: the places
    looked for show no document met twice, and the import goes on."""
    documents, gold = _copies()
    exported = tmp_path / "export.doccano"
    export_set("doccano", exported, list(documents.values()), gold, SCHEMA)
    whole = import_set("doccano", exported, documents, SCHEMA)
    monkeypatch.setattr(convert, "hash", lambda value: 7, raising=False)
    assert import_set("doccano", exported, documents, SCHEMA) == whole


def _error(call: Any) -> str:
    with pytest.raises(ClaimwireError) as caught:
        call()
    return str(caught.value)


@pytest.mark.parametrize("batch", [1, 2, 100])
def test_problems_across_batches_are_all_counted_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    documents, _ = _copies()
    lines = [
        _line(d, "NOT-A-LABEL" if k % 2 else "CLAIM") for k, d in enumerate(documents.values())
    ]
    path = _doccano(tmp_path, lines)
    whole = _error(lambda: import_set("doccano", path, documents, SCHEMA))
    assert whole.startswith(f"{COPIES // 2} problem(s); nothing written:")
    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", batch)
    out = tmp_path / "new" / "out.jsonl"
    assert _error(lambda: import_to("doccano", path, out, documents, SCHEMA)) == whole
    assert not (tmp_path / "new").exists()  # nothing written, not even the folder


@pytest.mark.parametrize("shown", [2, 30])
def test_the_reader_problems_of_a_later_batch_come_before_the_check_problems_as_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shown: int
) -> None:
    documents, _ = _copies()
    lines = [_line(d, "NOPE" if k < 3 else "CLAIM") for k, d in enumerate(documents.values())]
    lines[-1] |= {"doc_id": "ghost", "text": "no document has this text"}  # a reader problem
    path = _doccano(tmp_path, lines)
    monkeypatch.setattr(convert, "SHOWN_PROBLEMS", shown)
    whole = _error(lambda: import_set("doccano", path, documents, SCHEMA))
    assert whole.split("\n")[1].strip().startswith(f"{path}:{COPIES}: field 'doc_id'"), whole
    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", 2)
    out = tmp_path / "out.jsonl"
    assert _error(lambda: import_to("doccano", path, out, documents, SCHEMA)) == whole


def test_a_failed_import_leaves_no_folder_it_made_and_every_one_that_was_there(
    tmp_path: Path,
) -> None:
    documents, _ = _copies()
    path = _doccano(tmp_path, [_line(d, "NOT-A-LABEL") for d in documents.values()])
    (tmp_path / "a").mkdir()
    out = tmp_path / "a" / "b" / "c" / "d" / "out.jsonl"
    assert "nothing written" in _error(lambda: import_to("doccano", path, out, documents, SCHEMA))
    assert (tmp_path / "a").is_dir() and not (tmp_path / "a" / "b").exists()


def _full_cut_short(tasks: list[Any]) -> str:
    return json.dumps([{"data": {}, "annotations": []}, *tasks[1:]])[:-40]


def _full_then_bad_shape(tasks: list[Any]) -> str:
    return json.dumps([{"data": {}, "annotations": []}, tasks[1], {"annotations": 5}, *tasks[3:]])


def _bad_shape_then_junk(tasks: list[Any]) -> str:
    return json.dumps([*tasks[:4], {"annotations": 5}, *tasks[5:]]) + " junk"


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (_full_cut_short, "as json.loads"),
        (_full_then_bad_shape, "export: task 3: 'annotations' must be a list of objects"),
        (_bad_shape_then_junk, ":1: not a Label Studio JSON export: extra data after the list"),
    ],
)
def test_a_json_min_import_names_the_fault_of_the_file_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spoil: Any, says: str
) -> None:
    """A fault of the file's JSON (its line and column), wherever it is, then a task of the
    wrong shape (its number), then a full export given as JSON-MIN: as reading the file
    through names them, a task at a time."""
    documents, gold = _copies()
    path = tmp_path / "min.json"
    export_set("label-studio-min", path, list(documents.values()), gold, SCHEMA)
    path.write_text(spoil(json.loads(path.read_text("utf-8"))), "utf-8")
    read = _error(lambda: convert.check_export(path))
    if says == "as json.loads":  # the fault where Python's reader of the whole text puts it
        with pytest.raises(json.JSONDecodeError) as whole:
            json.loads(path.read_text("utf-8"))
        fault = whole.value
        says = f":{fault.lineno}: not a Label Studio JSON export: {fault.msg} "
        says += f"(column {fault.colno})"
    assert read.startswith(str(path)) and says in read, read
    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", 2)
    out = tmp_path / "out.jsonl"
    assert _error(lambda: import_to("label-studio-min", path, out, documents, SCHEMA)) == read
    assert not out.exists()


LIST = '[{"a": 1, "b": [1.5, "x\\u00e9"]}, 12345, "deux", {"c": {"d": null}}, [], true]'


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1 << 20])
def test_a_json_list_read_a_part_at_a_time_is_the_list(size: int) -> None:
    from claimwire import strict_json

    assert list(strict_json.list_items(io.StringIO(f" \n{LIST}\n"), size)) == json.loads(LIST)
    assert list(strict_json.list_items(io.StringIO("[]"), size)) == []
    for bad in ('{"a": 1}', "[1, 2", "[1 2]", "[1,]", '[{"a": 1, "a": 2}]', "[NaN]", "[1] x"):
        with pytest.raises(ValueError):
            list(strict_json.list_items(io.StringIO(bad), size))


class _CountingDecoder:
    """The strict decoder, counting the characters each parse starts from."""

    def __init__(self, decoder: json.JSONDecoder) -> None:
        self.decoder, self.parsed = decoder, 0

    def raw_decode(self, text: str, at: int) -> tuple[Any, int]:
        self.parsed += len(text) - at
        return self.decoder.raw_decode(text, at)


def test_a_large_item_is_parsed_a_few_times_not_once_a_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from claimwire import strict_json

    text = json.dumps([{"k": "x" * (20 << 20)}, 1])  # a 20 MB task, read 1 MB at a time
    counting = _CountingDecoder(strict_json._DECODER)
    monkeypatch.setattr(strict_json, "_DECODER", counting)
    assert list(strict_json.list_items(io.StringIO(text))) == json.loads(text)
    assert counting.parsed < 4 * len(text), counting.parsed / len(text)  # once a part: ~11×


@pytest.mark.parametrize("at_once", [1, 2, 5, 1 << 20])
def test_the_first_document_met_again_is_found_a_part_at_a_time(at_once: int) -> None:
    """Pairs (hash, unit number): how many hashes repeat, and the earliest unit whose hash
    an earlier one had, whatever bucket it falls in."""
    hashes = [5, -3, 17, 16, 5, 16, 99, -3, 5]  # 5 met again at 4, 16 at 5, -3 at 7
    with tempfile.TemporaryFile() as handle:
        array("q", [v for n, h in enumerate(hashes) for v in (h, n)]).tofile(handle)
        assert convert._met_again(handle, at_once) == (3, 5, 4)
    with tempfile.TemporaryFile() as handle:
        array("q", [v for n, h in enumerate([1, 2, 3]) for v in (h, n)]).tofile(handle)
        assert convert._met_again(handle, at_once) == (0, 0, -1)


def test_files_named_as_their_documents_need_no_table_of_stems(tmp_path: Path) -> None:
    documents, _ = _copies()
    lookup = DocumentLookup(documents)
    assert all(lookup.by_stem(doc_id) is document for doc_id, document in documents.items())
    assert lookup._stems == {}  # only the stems an id is not equal to are held


@pytest.mark.parametrize("later", ["a b", "a_b"])
def test_of_two_documents_with_one_stem_the_later_is_found(later: str) -> None:
    ids = ["a_b", "a b"] if later == "a b" else ["a b", "a_b"]
    documents = {i: Document(i, "t " + i, None, "test", (), (), {}) for i in ids}
    assert file_stem("a b") == "a_b"
    found = DocumentLookup(documents).by_stem("a_b")
    assert found is not None and found.id == later
    assert DocumentLookup(documents).by_stem("a b") is None


def test_a_folder_s_files_are_listed_in_name_order_a_part_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimwire.formats import base

    names = [f"doc-{k}.ann" for k in (3, 11, 2, 20, 1)] + ["é.ann", "z\udcff.ann", "A.ann"]
    for name in [*names, "doc-1.txt", "annotation.conf"]:
        (tmp_path / name).write_bytes(b"")
    held: list[int] = []
    spilled_sorted = base.spilled_sorted

    def noted(values: Any, key: Any = None, run: int | None = None) -> Any:
        held.append(run or 0)
        return spilled_sorted(values, key, run)

    monkeypatch.setattr(base, "spilled_sorted", noted)
    monkeypatch.setattr(base, "NAMES_HELD", 2)
    assert list(base.file_names(tmp_path, ".ann")) == sorted(names)  # as sorted() orders them
    assert held == [2]  # sorted two names at a time (before: every name held and sorted)
