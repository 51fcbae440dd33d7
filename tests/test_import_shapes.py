"""Imports read what a line gives in every shape the tool writes, or refuse it: a doccano
line with spans under two keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .bundled import DOCUMENT, RELEASE
from .helpers import one_error_line, run_cli

TEXT = DOCUMENT.text
ASTANA = (TEXT.index("Astana"), TEXT.index("Astana") + len("Astana"))
CLAIM = {"id": 1, "label": "CLAIM", "start_offset": 0, "end_offset": 10}


def doccano_import(tmp_path: Path, **spans: Any) -> tuple[Path, Path, Any]:
    """A doccano line of ``DOCUMENT`` holding ``spans`` (its keys), imported by the CLI."""
    path = tmp_path / "admin.jsonl"
    line = {"id": 1, "text": TEXT, "doc_id": DOCUMENT.id, **spans, "Comments": []}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", path, "--from", "doccano", "--release", RELEASE, "--out", out)
    return path, out, result


def labels_of(out: Path) -> list[tuple[str, int, int]]:
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return sorted((r["label"], r["start"], r["end"]) for r in rows)


@pytest.mark.parametrize("empty", ["entities", "relations"])
def test_doccano_label_spans_beside_an_empty_entities_list_are_read(
    tmp_path: Path, empty: str
) -> None:
    """stranger r16 #7: `"entities": []` beside `"label"` imported nothing, "nothing lost"."""
    spans: dict[str, Any] = {"entities": [], "label": [[0, 10, "CLAIM"], [*ASTANA, "SOURCE"]]}
    if empty == "relations":
        spans["relations"] = []
    _, out, result = doccano_import(tmp_path, **spans)
    assert result.returncode == 0, result.stderr
    assert labels_of(out) == [("CLAIM", 0, 10), ("SOURCE", *ASTANA)]


@pytest.mark.parametrize(
    ("spans", "keys"),
    [
        (
            {"entities": [CLAIM], "relations": [], "label": [[*ASTANA, "SOURCE"]]},
            "'entities' and 'label'",
        ),
        ({"label": [[0, 10, "CLAIM"]], "labels": [[*ASTANA, "SOURCE"]]}, "'label' and 'labels'"),
    ],
    ids=["entities and label", "label and labels"],
)
def test_a_doccano_line_giving_spans_under_two_keys_is_refused_naming_both(
    tmp_path: Path, spans: dict[str, Any], keys: str
) -> None:
    """The SOURCE under the second key was dropped and the import said "nothing lost"."""
    path, out, result = doccano_import(tmp_path, **spans)
    assert result.returncode == 1 and one_error_line(result.stderr.replace("\n  ", " ")), (
        result.stderr
    )
    assert f"{path}:1: fields {keys} both give spans" in result.stderr
    assert not out.exists()
