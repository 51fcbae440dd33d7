"""``claimwire convert --to``: a batch of documents and the records on them at a time, so an
export of a million documents holds a batch, not the corpus or the annotation set."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claimwire import lines as line_reading
from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import AnnotationSet, load_annotation_set
from claimwire.formats import brat, cas, conll, convert, doccano, label_studio_min, spacy_docbin
from claimwire.formats.convert import FORMATS, Options, export_batches, export_set
from claimwire.model import Document

from .helpers import REPO, release_with_test_claims, watch_document_reads, watch_gold_reads

BUNDLED = REPO / "corpus" / "releases" / "1.0.0"
DOCUMENTS = 100
BATCH = 8
FIRST_WRITE = {
    "brat": (brat, "to_brat"),
    "inception": (cas, "to_cas"),
    "conll": (conll, "tags_of"),
    "spacy": (spacy_docbin, "_doc"),
    "doccano": (doccano, "to_doccano"),
    "label-studio-min": (label_studio_min, "to_json_min"),
}
"""The function each format calls as it writes a document (doccano: a batch of them)."""


@pytest.mark.parametrize("name", FORMATS)
def test_an_export_reads_a_batch_of_documents_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    folder = release_with_test_claims(tmp_path, DOCUMENTS)
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 512)  # a few documents a block read
    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", BATCH)
    whole, _ = watch_gold_reads(monkeypatch)
    read = watch_document_reads(monkeypatch)
    ahead: list[int] = []
    module, function = FIRST_WRITE[name]
    write = getattr(module, function)

    def noted(*args: Any, **kwargs: Any) -> Any:
        ahead.append(read[0])
        return write(*args, **kwargs)

    monkeypatch.setattr(module, function, noted)
    out = tmp_path / f"export-{name}"
    argv = ["claimwire", "convert", str(folder), "--to", name, "--release", str(folder)]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(out)])
    from claimwire.cli import main

    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert whole == []  # the set's records: read a batch's documents at a time
    assert ahead and ahead[0] <= 3 * BATCH, ahead  # before: every document, read first


def written(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir())}
    return {path.name: path.read_bytes()}


@pytest.mark.parametrize("name", FORMATS)
def test_an_export_in_batches_is_the_export_in_one(tmp_path: Path, name: str) -> None:
    documents = list(open_release(BUNDLED).documents())
    gold = load_annotation_set(BUNDLED)
    schema = load_schema(BUNDLED / "schema.yaml")
    whole = export_set(name, tmp_path / "one" / "x", documents, gold, schema)

    def batches() -> Iterator[tuple[list[Document], AnnotationSet]]:
        for start in range(0, len(documents), 3):
            chunk = documents[start : start + 3]
            ids = {d.id for d in chunk}
            annotations = tuple(a for a in gold.annotations if a.doc_id in ids)
            relations = tuple(r for r in gold.relations if r.doc_id in ids)
            yield chunk, AnnotationSet(gold.name, annotations, relations)

    losses = export_batches(name, tmp_path / "batched" / "x", batches(), schema)
    assert written(tmp_path / "batched" / "x") == written(tmp_path / "one" / "x")
    assert sorted(map(str, losses.first)) == sorted(map(str, whole))
    assert len(losses) == len(whole)


@pytest.mark.parametrize("name", ["label-studio-min", "doccano", "conll"])
def test_an_export_of_no_document_is_the_empty_frame(tmp_path: Path, name: str) -> None:
    schema = load_schema(BUNDLED / "schema.yaml")
    empty = AnnotationSet("x", (), ())
    export_batches(name, tmp_path / "x", iter(()), schema)
    export_set(name, tmp_path / "y", [], empty, schema)
    assert (tmp_path / "x").read_bytes() == (tmp_path / "y").read_bytes()


@pytest.mark.parametrize("name", ["brat", "inception"])
@pytest.mark.parametrize("ids", [("a:b", "a_b"), ("a_b", "a:b")])
def test_two_ids_with_one_file_name_are_refused_across_batches(
    tmp_path: Path, name: str, ids: tuple[str, str]
) -> None:
    schema = load_schema(BUNDLED / "schema.yaml")
    empty = AnnotationSet("x", (), ())
    batches = [([Document(i, "Un texte.", "fr", "test", (), ())], empty) for i in ids]
    with pytest.raises(ClaimwireError, match="would share the file name 'a_b'"):
        export_batches(name, tmp_path / "out", iter(batches), schema, options=Options())
    assert not (tmp_path / "out").exists()  # nothing half-written
