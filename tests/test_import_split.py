"""``claimwire convert --from`` when a document's records would not be together: a document a
format's reader meets in two units (two doccano lines or JSON-MIN tasks far apart, a CoNLL
document given twice) is refused, naming both places; two documents' records whose ids the
format's keys made the same (a release's document ids and BRAT keys holding ``:``) are
refused naming both places, as the whole import refuses them. Each batch of documents is
checked on its own, never every document at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from claimwire.formats import convert
from claimwire.formats.base import file_stem
from claimwire.formats.convert import export_set, import_set, import_to
from claimwire.model import Document, replaced, write_records

from .helpers import watch_checks
from .test_import_streaming import SCHEMA, _copies, _error

Split = Callable[[Path], None]


def _split_doccano(path: Path) -> None:
    """The first line's entities that no relation names stay; the others and the relations
    go to a line of the same document at the end."""
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    first = lines[0]
    linked = {r[end] for r in first["relations"] for end in ("from_id", "to_id")}
    early = [e for e in first["entities"] if e["id"] not in linked]
    late = [e for e in first["entities"] if e["id"] in linked]
    assert early and late
    lines[0] = first | {"entities": early, "relations": []}
    lines.append(first | {"entities": late})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")


def _split_json_min(path: Path) -> None:
    """A last task on the first task's document, with one of its claims again (as the
    first region of its task: the first task's first region's id)."""
    tasks = json.loads(path.read_text("utf-8"))
    first = tasks[0]
    claim = next(span for span in first["label"] if span["labels"] == ["CLAIM"])
    keep = ("doc_id", "text", "annotator", "annotation_id")
    tasks.append({k: first[k] for k in keep} | {"id": len(tasks) + 1, "label": [claim]})
    path.write_text(json.dumps(tasks), "utf-8")


def _split_conll(path: Path) -> None:
    """The first document's block given again at the end."""
    text = path.read_text("utf-8")
    second = text.index("-DOCSTART-", 1)
    path.write_text(text + text[:second], "utf-8")


SPLITS: dict[str, tuple[str, Split]] = {
    "doccano": ("doccano.jsonl", _split_doccano),
    "label-studio-min": ("min.json", _split_json_min),
    "conll": ("export.conll", _split_conll),
}


def _whole(name: str, path: Path, documents: dict[str, Document], out: Path) -> str | None:
    """What the import checked whole writes to ``out``, or its error."""
    try:
        found = import_set(name, path, documents, SCHEMA)
    except convert.ClaimwireError as error:
        return str(error)
    write_records(out, [*found.annotation_set.annotations, *found.annotation_set.relations])
    return None


@pytest.mark.parametrize("name", SPLITS)
@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_a_split_document_is_refused_naming_both_places_never_all_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, batch: int
) -> None:
    """A document a format's reader meets in two units (two lines, tasks, blocks) is one
    error naming both, as the whole import gives it (was: merged, or its ids blamed)."""
    documents, gold = _copies()
    file, split = SPLITS[name]
    path = tmp_path / file
    export_set(name, path, list(documents.values()), gold, SCHEMA)
    split(path)
    error = _whole(name, path, documents, tmp_path / "whole.jsonl")
    unit = {"doccano": "line", "label-studio-min": "item", "conll": "line"}[name]
    assert error is not None and error.startswith(f"document copie-0: {unit}s 1 and "), error

    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", batch)
    checked = watch_checks(monkeypatch, convert)
    out = tmp_path / "sub" / "out.jsonl"
    assert _error(lambda: import_to(name, path, out, documents, SCHEMA)) == error
    assert not (tmp_path / "sub").exists()
    assert max(len(set(call)) for call in checked) <= batch  # never every document at once


def _keys_made_the_same(tmp_path: Path) -> tuple[dict[str, Document], Path]:
    """A release whose document ids hold ``:`` (``a`` and ``a:gold-T``, ``b`` and
    ``b:gold-T``), and a BRAT folder whose ``a.ann`` keys its span ``T:gold-T1`` and
    ``a_gold-T.ann`` ``T1``: both records' ids are ``a:gold-T:gold-T1`` (document, author,
    key), and so for ``b``."""
    seed = next(iter(_copies()[0].values()))
    ids = ["a", "a:gold-T", "b", "b:gold-T"]
    documents = {i: replaced(seed, id=i, text=f"{seed.text}\n{i}\n") for i in ids}
    folder = tmp_path / "brat"
    folder.mkdir()
    for doc_id, document in documents.items():
        stem = file_stem(doc_id)
        key = "T1" if ":" in doc_id else "T:gold-T1"
        (folder / f"{stem}.txt").write_text(document.text, "utf-8")
        (folder / f"{stem}.ann").write_text(f"{key}\tCLAIM 0 5\t{document.text[:5]}\n", "utf-8")
    return documents, folder


@pytest.mark.parametrize("batch", [1, 2])
def test_ids_a_format_s_keys_made_the_same_in_two_batches_are_one_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Two documents' records whose ids are the same, in two batches: refused with one line
    naming the first id given twice and both places (its records are each checked in their
    batch; the whole import lists every one). Before: the import was read again to disk and
    checked a batch of whole documents at a time (formats/regroup.py, removed)."""
    documents, folder = _keys_made_the_same(tmp_path)
    whole = _error(lambda: import_set("brat", folder, documents, SCHEMA))
    assert whole == (
        "2 problem(s); nothing written:\n"
        f"  {folder}/a_gold-T.ann:1: field 'id': duplicate annotation id 'a:gold-T:gold-T1'\n"
        f"  {folder}/b_gold-T.ann:1: field 'id': duplicate annotation id 'b:gold-T:gold-T1'"
    )
    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", batch)
    out = tmp_path / "out.jsonl"
    assert _error(lambda: import_to("brat", folder, out, documents, SCHEMA)) == (
        f"{folder}/a_gold-T.ann:1: field 'id': duplicate annotation id 'a:gold-T:gold-T1' "
        f"(first at {folder}/a.ann:1; 1 more id(s) given twice); nothing written"
    )
    assert not out.exists()


def test_ids_made_the_same_in_one_batch_are_the_whole_import_s_problems(tmp_path: Path) -> None:
    documents, folder = _keys_made_the_same(tmp_path)
    whole = _error(lambda: import_set("brat", folder, documents, SCHEMA))
    out = tmp_path / "out.jsonl"
    assert _error(lambda: import_to("brat", folder, out, documents, SCHEMA)) == whole
    assert not out.exists()
