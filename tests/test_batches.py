"""A batch described by where its lines are reads back, in another process, exactly what the
local pass reads: the records of its documents (plain files and zstd shards, duplicates left
out) and the documents themselves, with the same located errors."""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path

import pytest
import zstandard

from claimwire.corpus.release import read_parts
from claimwire.errors import ClaimwireError
from claimwire.eval.batches import read_documents
from claimwire.grouping import RecordIndex, document_lines, read_lines
from claimwire.model import Document


def _records(documents: int) -> list[str]:
    lines = []
    for d in range(documents):
        for k in range(3):
            record = {"id": f"a{d}-{k}", "doc_id": f"d{d}", "layer": "claims", "label": "CLAIM"}
            lines.append(json.dumps(record))
        relation = {"id": f"r{d}", "doc_id": f"d{d}", "type": "t", "head": f"a{d}-0", "tail": "x"}
        lines.append(json.dumps(relation))
    return lines


def _write(path: Path, lines: list[str]) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    if path.name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["p.jsonl", "p.jsonl.zst"])
def test_where_then_read_lines_gives_what_rows_reads(tmp_path: Path, name: str) -> None:
    lines = _records(30)
    random.Random(3).shuffle(lines)
    lines[5:5] = ["", "  "]
    lines.append(next(x for x in lines if '"a0-1"' in x))  # reported, never read back
    path = _write(tmp_path / name, lines)
    asked = [f"d{d}" for d in range(0, 30, 4)]
    with RecordIndex([path]) as index, RecordIndex([path]) as twin:
        expected = index.rows(asked)
        described = pickle.loads(pickle.dumps(twin.where(asked)))  # as a worker gets it
        assert len(twin.duplicates) == 1
    assert expected and [row for lines in described for row in read_lines(lines)] == expected
    assert all((lines.data is not None) == name.endswith(".zst") for lines in described)


def _document(i: int) -> str:
    text = f"Texte {i}."
    span = ((0, len(text)),)
    return json.dumps(Document(f"doc-{i}", text, "fr", "test", span, span).to_dict())


def test_document_lines_batch_the_documents_across_shards(tmp_path: Path) -> None:
    first = _write(tmp_path / "documents-00000.jsonl.zst", [_document(i) for i in range(7)])
    second = _write(tmp_path / "documents-00001.jsonl", [_document(i) for i in range(7, 12)])
    second.write_text(second.read_text() + "\n", encoding="utf-8")  # a blank line at the end
    parts = [first.name, second.name]
    expected = list(read_parts(tmp_path, parts, Document))
    batches = list(document_lines([first, second], 5))
    assert [len(ids) for ids, _ in batches] == [5, 5, 2]
    assert [len(lines) for _, lines in batches] == [1, 2, 1]  # the second spans both files
    read = [d for _, lines in batches for part in lines for d in read_documents(part)]
    assert read == expected
    assert [i for ids, _ in batches for i in ids] == [d.id for d in expected]


def _read_error(folder: Path) -> str:
    with pytest.raises(ClaimwireError) as read:
        list(read_parts(folder, ["documents.jsonl"], Document))
    return str(read.value)


def test_a_bad_document_is_the_readers_located_error(tmp_path: Path) -> None:
    lines = [_document(i) for i in range(4)]
    lines[2] = lines[2].replace('"split": "test"', '"split": 3')
    path = _write(tmp_path / "documents.jsonl", lines)
    with pytest.raises(ClaimwireError) as described:
        for _, parts in document_lines([path], 2):  # the scan decodes ids only
            for part in parts:
                read_documents(part)  # the worker decodes the rest
    assert str(described.value) == _read_error(tmp_path)
    assert f"{path}:3: field 'split'" in str(described.value)
    _write(path, [*lines[:2], "[1, 2]"])  # not an object: the scan itself says so
    with pytest.raises(ClaimwireError) as scanned:
        list(document_lines([path], 2))
    assert str(scanned.value) == _read_error(tmp_path)
    assert str(scanned.value).startswith(f"{path}:3:")
