"""A record nested too deeply (a 4 KB line of 1,000 arrays inside one another) is a located
error: it was ``error: an input is nested too deeply to read``, naming no file and no line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claimwire.errors import ClaimwireError
from claimwire.grouping import RecordIndex
from claimwire.model import (
    Annotation,
    Document,
    iter_json_lines,
    read_mixed,
    read_numbered,
    read_records,
)

from .helpers import REPO, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
RUN = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
SAYS = "arrays or objects nested too deeply to read"


def _deep(tmp: Path, name: str = "deep.jsonl", source: Path = RUN) -> Path:
    """``source``'s first line, then a copy of it whose attribute holds 1,000 nested lists."""
    first = source.read_text(encoding="utf-8").splitlines()[0]
    record = dict(json.loads(first), id="deep")
    deep = json.dumps(record)[:-1] + ', "extra": ' + "[" * 1000 + "]" * 1000 + "}"
    path = tmp / name
    path.write_text(first + "\n" + deep + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["eval", "check", "{deep}", "--task", "attribution"],
        ["eval", "score", "{deep}", "--task", "attribution"],
        ["annotate", "agree", "{deep}", str(RUN)],
        ["convert", "{deep}", "--to", "doccano", "--out", "{out}"],
    ],
    ids=["eval check", "eval score", "annotate agree", "convert"],
)
def test_a_record_nested_too_deeply_is_named_by_file_and_line(
    command: list[str], tmp_path: Path
) -> None:
    deep = _deep(tmp_path)
    args = [part.format(deep=deep, out=tmp_path / "out.jsonl") for part in command]
    result = run_cli(*args, "--release", RELEASE, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert one_error_line(result.stderr), result.stderr
    assert f"{deep}:2: {SAYS}" in result.stderr


READERS: list[Callable[[Path], Any]] = [
    lambda path: list(read_mixed(path)),
    lambda path: list(read_records(path, Annotation)),
    lambda path: list(read_numbered(path, Annotation)),
    lambda path: list(iter_json_lines(path, records=True)),
    lambda path: RecordIndex([path]).close(),
]


@pytest.mark.parametrize("read", READERS)
def test_every_record_reader_names_the_line(read: Callable[[Path], Any], tmp_path: Path) -> None:
    deep = _deep(tmp_path)
    with pytest.raises(ClaimwireError, match=f"^{deep}:2: {SAYS}"):
        read(deep)


def test_a_document_nested_too_deeply_is_named_too(tmp_path: Path) -> None:
    deep = _deep(tmp_path, "documents.jsonl", RELEASE / "documents.jsonl")
    with pytest.raises(ClaimwireError, match=f"^{deep}:2: {SAYS}"):
        list(read_records(deep, Document))


def _deep_export(tmp: Path, shape: str) -> Path:
    """A Label Studio export, JSON-MIN or full, one of whose tasks holds 100,000 nested
    lists."""
    deep = "[" * 100_000 + "]" * 100_000
    tasks = {
        "min": '[{"doc_id": "d", "text": "t"}, {"doc_id": "d", "label": ' + deep + "}]",
        "full": '[{"data": {"doc_id": "d"}, "annotations": [{"result": ' + deep + "}]}]",
    }
    path = tmp / f"{shape}.json"
    path.write_text(tasks[shape], encoding="utf-8")
    return path


@pytest.mark.parametrize("shape", ["min", "full"])
def test_a_label_studio_export_nested_too_deeply_is_named(tmp_path: Path, shape: str) -> None:
    """Before: ``error: an input is nested too deeply to read``, naming no file."""
    export = _deep_export(tmp_path, shape)
    out = tmp_path / "out.jsonl"
    convert = ["convert", export, "--from", "label-studio-min", "--out", out]
    pull = ["annotate", "pull", "--from-file", export, "--out", tmp_path / "sets"]
    for command, where in ((convert, f"{export}: "), (pull, f"{export}: ")):
        done = run_cli(*command, "--release", RELEASE, cwd=tmp_path)
        assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
        assert where in done.stderr and SAYS in done.stderr, done.stderr
    done = run_cli(*convert, "--release", RELEASE, cwd=tmp_path)
    task = 2 if shape == "min" else 1
    assert f"not a Label Studio JSON export: task {task}: {SAYS}" in done.stderr


def test_a_yaml_file_nested_too_deeply_is_named_by_file_and_line(tmp_path: Path) -> None:
    """Before: ``deep.yaml: nested too deeply to read``, past Python's recursion limit."""
    schema = tmp_path / "deep.yaml"
    schema.write_text("".join("  " * i + "k:\n" for i in range(5000)) + "  " * 5000 + "k: 1\n")
    done = run_cli("annotate", "config", "--schema", schema, "--out", tmp_path / "configs")
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert f"{schema}:101: not valid YAML: nested too deeply to read" in done.stderr
    assert not (tmp_path / "configs").exists()
