"""A JSON-MIN export's ``annotator`` is who annotated the task: label-studio-converter writes
the annotator's e-mail (``completed_by`` an object) or id; each is its own annotation set,
named as a pull from the server names it, and only a task without one is ``unknown``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claimwire.annotation.label_studio.client import annotator_name
from claimwire.eval.checker import load_annotation_set

from .helpers import one_error_line, run_cli
from .test_formats import RELEASE

EXPORT = Path(__file__).parent / "data" / "formats" / "label_studio_json_min.json"


def export(tmp_path: Path, *annotators: Any) -> Path:
    """The real JSON-MIN fixture's task once per annotator (``...``: the key left out)."""
    [task] = json.loads(EXPORT.read_text(encoding="utf-8"))
    tasks = []
    for number, annotator in enumerate(annotators, start=1):
        copy = {k: v for k, v in task.items() if k != "annotator"} | {"id": number}
        tasks.append(copy if annotator is ... else copy | {"annotator": annotator})
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


def test_two_annotators_given_by_e_mail_are_two_sets(tmp_path: Path) -> None:
    path, out = export(tmp_path, "alice@example.org", "bob@example.org"), tmp_path / "sets"
    pulled = run_cli("annotate", "pull", "--from-file", path, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    assert "2 tasks, 2 annotators, 0 problems" in pulled.stdout
    assert sorted(p.name for p in out.glob("*.jsonl")) == [
        "alice@example.org.jsonl",
        "bob@example.org.jsonl",
    ]
    for name in ("alice@example.org", "bob@example.org"):
        annotations = load_annotation_set(out / f"{name}.jsonl").annotations
        assert len(annotations) == 72 and {a.author for a in annotations} == {name}
    converted = tmp_path / "one.jsonl"
    refused = run_cli(
        "convert", path, "--from", "label-studio-min", "--out", converted, "--release", RELEASE
    )
    assert refused.returncode == 1 and one_error_line(refused.stderr)
    assert "2 annotators in one export" in refused.stderr and not converted.exists()


def test_one_annotators_e_mail_is_the_author_of_a_converted_set(tmp_path: Path) -> None:
    path, out = export(tmp_path, "alice@example.org"), tmp_path / "one.jsonl"
    converted = run_cli(
        "convert", path, "--from", "label-studio-min", "--out", out, "--release", RELEASE
    )
    assert converted.returncode == 0, converted.stderr
    assert {a.author for a in load_annotation_set(out).annotations} == {"alice@example.org"}


def test_an_unsafe_name_is_a_safe_file_name(tmp_path: Path) -> None:
    path, out = export(tmp_path, "../../x y", ...), tmp_path / "sets"
    pulled = run_cli("annotate", "pull", "--from-file", path, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    names = sorted(p.name for p in out.glob("*.jsonl"))
    assert len(names) == 2 and "unknown.jsonl" in names
    assert len(list(out.iterdir())) == 4  # and each set's list of completed documents
    [unsafe] = [name for name in names if name != "unknown.jsonl"]
    authors = {a.author for a in load_annotation_set(out / unsafe).annotations}
    assert unsafe.startswith("x_y-") and authors == {"../../x y"}
    assert not (tmp_path / "x y.jsonl").exists()


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("alice@example.org", "alice@example.org"),
        (7, "user7"),
        ("7", "user7"),  # label-studio-converter's id as text (its int_id=False)
        ({"id": 7, "email": "alice@example.org"}, "alice@example.org"),
        ({"id": 7, "email": ""}, "user7"),
        (None, "unknown"),
        ("", "unknown"),
        ("  ", "unknown"),
        (True, "unknown"),
        ("1" * 19, "user" + "1" * 19),
    ],
)
def test_annotator_names(given: Any, name: str) -> None:
    assert annotator_name({"completed_by": given}, {}) == name


HOSTILE = {
    "long": "a" * 10_000 + "@example.org",
    "lines": "alice@x.org\nbob@x.org: 0 annotations",
    "right-to-left": "\u202eelif@x.org",
    "escape": "eve\x1b[2J@x.org\x07",
    "digits": "1" * 5_000,  # was an internal error: int() of more than 4,300 digits
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_annotator_s_name_is_capped_and_on_one_visible_line(
    tmp_path: Path, case: str
) -> None:
    """The name is each record's author and part of its id, and is printed: it is kept to
    120 characters, with no line break, escape or direction override (each such character
    a ``_``, a digest of the whole appended). Before: 10,000 characters in every record (a
    set 45 times larger), a printed line broken in two, a direction override kept."""
    path, out = export(tmp_path, HOSTILE[case], "bob@example.org"), tmp_path / "sets"
    pulled = run_cli("annotate", "pull", "--from-file", path, "--out", out, "--release", RELEASE)
    assert pulled.returncode == 0, pulled.stderr
    assert "2 tasks, 2 annotators, 0 problems" in pulled.stdout
    assert all(line.isprintable() for line in pulled.stdout.splitlines())
    [hostile] = [p for p in out.glob("*.jsonl") if p.name != "bob@example.org.jsonl"]
    annotations = load_annotation_set(hostile).annotations
    [author] = {a.author for a in annotations}
    assert len(author) <= 120 and author.isprintable() and author != HOSTILE[case]
    assert all(f"{a.doc_id}:{author}-" in a.id for a in annotations)  # as its ids name it
    assert len(annotations) == 72 and len(hostile.name.encode()) <= 255


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_author_option_is_one_error_line(tmp_path: Path, case: str) -> None:
    path, out = export(tmp_path, "alice@example.org"), tmp_path / "one.jsonl"
    args = ("convert", path, "--from", "label-studio-min", "--out", out, "--release", RELEASE)
    refused = run_cli(*args, "--author", HOSTILE[case].replace("\x00", ""))
    assert refused.returncode == 1 and one_error_line(refused.stderr), refused.stderr
    assert "field '--author': expected a name of 1 to 120 characters" in refused.stderr
    assert not out.exists()
