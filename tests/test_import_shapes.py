"""Imports read what a line gives in every shape the tool writes, or refuse it: a doccano
line with spans under two keys, a brat offset in other digits, a brat span given twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .bundled import DOCUMENT, JSON_MIN, RELEASE, brat_folder
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


def brat_import(tmp_path: Path, lines: list[str]) -> tuple[Path, Path, Any]:
    folder = brat_folder(tmp_path / "collection", lines)
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", folder, "--from", "brat", "--release", RELEASE, "--out", out)
    return folder / f"{DOCUMENT.id}.ann", out, result


@pytest.mark.parametrize("offsets", ["２２ 39", "0 1_0", "+0 10", "0 ١٠"])
def test_brat_offsets_are_ascii_digits(tmp_path: Path, offsets: str) -> None:
    """stranger r16 #14: `SOURCE ２２ 39` was read as 22 39 (``int`` reads any digits)."""
    start, end = (int(x) for x in offsets.split())
    ann, out, result = brat_import(tmp_path, [f"T1\tCLAIM {offsets}\t{TEXT[start:end]}"])
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"{ann}:1: expected 'T<n>\\tLABEL START END" in result.stderr
    assert not out.exists()


def test_a_brat_span_given_twice_is_read_once_with_a_note(tmp_path: Path) -> None:
    """stranger r16 #14: a T line repeating another's label and offsets was imported twice,
    no note. Read once, as spaCy's span groups; what names the repeat names the span."""
    source = f"SOURCE {ASTANA[0]} {ASTANA[1]}\t{TEXT[ASTANA[0] : ASTANA[1]]}"
    lines = [
        f"T1\tCLAIM 0 10\t{TEXT[:10]}",
        f"T2\t{source}",
        f"T3\tCLAIM 0 10\t{TEXT[:10]}",
        "A1\tclaim_type T3 quantity",
        "R1\tattributed_to Arg1:T3 Arg2:T2",
    ]
    _, out, result = brat_import(tmp_path, lines)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    spans = [r for r in rows if "label" in r]
    assert sorted((r["label"], r["start"]) for r in spans) == [("CLAIM", 0), ("SOURCE", ASTANA[0])]
    claim = next(r for r in spans if r["label"] == "CLAIM")
    assert claim["attributes"] == {"claim_type": "quantity"}
    [relation] = [r for r in rows if "head" in r]
    assert relation["head"] == claim["id"]
    assert "note: 1 T line(s) giving the label and offsets an earlier T line" in result.stderr


def test_a_json_min_import_refused_does_not_say_skipped(tmp_path: Path) -> None:
    """stranger r16 #14: "nothing written: … region r1: …; skipped" said both; the import
    writes nothing, so its problems say no region was skipped."""
    tasks = json.loads(JSON_MIN.read_text(encoding="utf-8"))
    tasks[0]["label"][0]["labels"] = ["NOPE"]
    export = tmp_path / "min.json"
    export.write_text(json.dumps(tasks), encoding="utf-8")
    out = tmp_path / "set.jsonl"
    result = run_cli(
        "convert", export, "--from", "label-studio-min", "--release", RELEASE, "--out", out
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "nothing written" in result.stderr and "got labels ['NOPE']" in result.stderr
    assert "skipped" not in result.stderr and not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["convert", "--from", "label-studio-min", "--out", "set.jsonl"],
        ["annotate", "pull", "--out", "sets", "--from-file"],
    ],
    ids=["convert", "pull"],
)
def test_a_missing_export_file_is_said_not_found(tmp_path: Path, args: list[str]) -> None:
    """`pull --from-file missing.json` said "not a Label Studio JSON export: [Errno 2] …";
    it says what convert says."""
    missing = tmp_path / "missing.json"
    at = 1 if args[0] == "convert" else len(args)
    result = run_cli(*args[:at], missing, *args[at:], "--release", RELEASE, cwd=tmp_path)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"error: {missing}: not found\n" in result.stderr and "Errno" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
