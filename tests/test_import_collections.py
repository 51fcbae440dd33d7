"""brat keeps collections in subfolders: an import reads them (an import read only the top
level and wrote an empty set, "nothing lost"), and an import that finds no document at all
is an error saying what it looked for, nothing written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec
import pytest

from claimwire.errors import ClaimwireError
from claimwire.formats.convert import export_set, import_set

from .bundled import DOCUMENT, DOCUMENTS, GOLD, RELEASE, SCHEMA, brat_folder
from .helpers import one_error_line, run_cli

TEXT = DOCUMENT.text


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_brat_collection_in_subfolders_imports_as_the_flat_one(tmp_path: Path) -> None:
    """stranger r16 #3: `bsub/c1/DOC.ann` gave "0 annotations … nothing lost", exit 0."""
    flat = tmp_path / "brat"
    export_set("brat", flat, list(DOCUMENTS.values()), GOLD, SCHEMA)
    nested = tmp_path / "bsub" / "c1" / "c2"
    nested.mkdir(parents=True)
    for name in (f"{DOCUMENT.id}.ann", f"{DOCUMENT.id}.txt"):
        (nested / name).write_bytes((flat / name).read_bytes())
    outs = {}
    for folder in (flat, tmp_path / "bsub"):
        out = tmp_path / f"{folder.name}.jsonl"
        result = run_cli("convert", folder, "--from", "brat", "--release", RELEASE, "--out", out)
        assert result.returncode == 0, result.stderr
        outs[folder.name] = records(out)
    assert outs["bsub"] == outs["brat"] and len(outs["brat"]) > 10


def test_the_files_are_read_in_path_order_hidden_folders_and_inner_links_skipped(
    tmp_path: Path,
) -> None:
    from claimwire.formats.base import tree_file_names

    for relative in ("b.ann", "a/z.ann", "a/b/c.ann", "c.txt", ".git/x.ann", "aa.ann"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"")
    (tmp_path / "link").symlink_to(tmp_path / "a")  # its files are read where they are
    assert list(tree_file_names(tmp_path, ".ann")) == ["a/b/c.ann", "a/z.ann", "aa.ann", "b.ann"]


def test_a_link_to_a_folder_outside_is_a_located_error(tmp_path: Path) -> None:
    folder = brat_folder(tmp_path / "collection", [])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / "c1").symlink_to(elsewhere)
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", folder, "--from", "brat", "--release", RELEASE, "--out", out)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"{folder / 'c1'}: a symbolic link to a folder outside the folder read" in result.stderr
    assert not out.exists()


def test_a_path_under_the_folder_names_its_document_else_the_file_name(tmp_path: Path) -> None:
    """``c1/x.ann`` is the document ``c1/x`` (or the one exported as ``c1_x``), else ``x``."""
    documents = {
        doc_id: msgspec.structs.replace(DOCUMENT, id=doc_id) for doc_id in ("c1/x", "c2_y", "z")
    }
    folder = tmp_path / "collection"
    for relative in ("c1/x", "c2/y", "c3/z"):
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / f"{relative}.txt").write_text(TEXT, encoding="utf-8")
        (folder / f"{relative}.ann").write_text(f"T1\tCLAIM 0 10\t{TEXT[:10]}\n", "utf-8")
    found = import_set("brat", folder, documents, SCHEMA).annotation_set
    assert sorted(a.doc_id for a in found.annotations) == ["c1/x", "c2_y", "z"]
    (folder / "c3" / "w.ann").write_text("", "utf-8")
    with pytest.raises(ClaimwireError, match=r"'c3/w' is not a document of the release \(nor "):
        import_set("brat", folder, documents, SCHEMA)


@pytest.mark.parametrize(
    ("fmt", "make", "said"),
    [
        ("brat", lambda p: p.mkdir(), "no DOC.ann file in the folder or its subfolders"),
        ("brat", lambda p: (p / "c1").mkdir(parents=True), "no DOC.ann file in the folder"),
        ("conll", lambda p: p.write_text("", "utf-8"), "no document: expected a '-DOCSTART-"),
        ("doccano", lambda p: p.write_text("\n", "utf-8"), "no line: expected one JSON object"),
    ],
    ids=["empty folder", "empty subfolder", "empty conll", "doccano without lines"],
)
def test_an_import_that_finds_no_document_is_an_error_and_writes_nothing(
    tmp_path: Path, fmt: str, make: object, said: str
) -> None:
    source = tmp_path / "input"
    make(source)  # type: ignore[operator]
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", source, "--from", fmt, "--release", RELEASE, "--out", out)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"error: {source}: {said}" in result.stderr and "nothing written" in result.stderr
    assert not out.exists() and os.listdir(tmp_path) == ["input"]


def test_an_export_read_back_with_an_empty_ann_is_a_document_met(tmp_path: Path) -> None:
    """A document whose ``.ann`` is empty was met (``--completed`` counts it): no error."""
    folder = brat_folder(tmp_path / "collection", "")
    assert import_set("brat", folder, DOCUMENTS, SCHEMA).annotation_set.annotations == ()
