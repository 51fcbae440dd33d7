"""What claimwire used to accept in silence: each is now a located error or a counted,
reported warning."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from claimwire.annotation.label_studio.convert import from_results, to_results
from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
SCHEMA = load_schema(RELEASE / "schema.yaml")
DOCUMENT = next(open_release(RELEASE).documents())
GOLD = [a for a in open_release(RELEASE).annotations() if a.doc_id == DOCUMENT.id]


def _results(label: str, attribute: str | None = None) -> list[dict[str, Any]]:
    annotation = next(
        a for a in GOLD if a.label == label and (attribute is None or attribute in a.attributes)
    )
    return copy.deepcopy(to_results([annotation], [], SCHEMA, DOCUMENT.text))


def _region(results: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in results if r["type"] == "labels")


def _attribute(results: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in results if str(r["from_name"]).endswith(f"__{name}"))


def _default_labels(results: list[dict[str, Any]]) -> None:
    _region(results)["from_name"] = "labels"  # Label Studio's default span control


def _start_false(results: list[dict[str, Any]]) -> None:
    _region(results)["value"]["start"] = False


def _qualifier_outside(results: list[dict[str, Any]]) -> None:
    _attribute(results, "qualifier")["value"]["choices"] = ["roughly"]


def _value_not_a_number(results: list[dict[str, Any]]) -> None:
    _attribute(results, "value")["value"]["number"] = "lots"


def _two_labels(results: list[dict[str, Any]]) -> None:
    _region(results)["value"]["labels"] = ["NUM_STAT", "CLAIM"]


def _orphan_attribute(results: list[dict[str, Any]]) -> None:
    _attribute(results, "qualifier")["id"] = "nowhere"


@pytest.mark.parametrize(
    ("edit", "says", "kept"),
    [
        (_default_labels, "control 'label'", False),
        (_start_false, "start False", False),
        (_two_labels, "expected one label", False),
        (_qualifier_outside, "'roughly': expected one of exact", True),
        (_value_not_a_number, "'lots'", True),
        (_orphan_attribute, "belongs to no region", True),
    ],
)
def test_label_studio_results_outside_the_schema_are_reported(
    edit: Any, says: str, kept: bool
) -> None:
    results = _results("NUM_STAT", "qualifier")
    edit(results)
    converted = from_results(results, DOCUMENT, SCHEMA, "x", where="task 1: ")
    assert len(converted.problems) == 1 and says in converted.problems[0], converted.problems
    assert converted.problems[0].startswith("task 1: ")
    assert len(converted.annotations) == int(kept)
    for annotation in converted.annotations:
        assert annotation.start is not False
        assert annotation.attributes.get("qualifier") in (
            None,
            *SCHEMA.attribute("NUM_STAT", "qualifier").values,
        )  # type: ignore[union-attr]


def test_document_level_choices_outside_the_schema_are_reported() -> None:
    survey = next(a for a in GOLD if a.label == "SURVEY" and "sampling_type" in a.attributes)
    results = to_results([survey], [], SCHEMA, DOCUMENT.text)
    _attribute(results, "sampling_type")["value"]["choices"] = ["<script>"]
    results.append(
        {
            "id": "s1",
            "from_name": "issuer__stance",
            "type": "choices",
            "to_name": "text",
            "value": {"choices": ["T1=MAYBE"]},
        }
    )
    results.append(
        {
            "id": "s2",
            "from_name": "mood",
            "type": "choices",
            "to_name": "text",
            "value": {"choices": ["happy"]},
        }
    )
    converted = from_results(results, DOCUMENT, SCHEMA, "x")
    assert len(converted.problems) == 3, converted.problems
    assert [a for a in converted.annotations if a.label == "STANCE"] == []
    assert (
        "sampling_type"
        not in next(a for a in converted.annotations if a.label == "SURVEY").attributes
    )


def test_pull_counts_what_it_could_not_read(tmp_path: Path) -> None:
    """The CLI line says how many problems; each is printed (before: "0 problems")."""
    results = _results("NUM_STAT", "qualifier")
    _default_labels(results)
    export = [
        {
            "id": 7,
            "data": {"text": DOCUMENT.text, "doc_id": DOCUMENT.id},
            "annotations": [
                {
                    "id": 1,
                    "completed_by": {"id": 3, "email": "zoe@example.org"},
                    "result": results + _results("CLAIM"),
                },
            ],
        }
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    done = run_cli(
        "annotate", "pull", "--from-file", path, "--out", tmp_path / "sets", "--release", RELEASE
    )
    assert done.returncode == 0, done.stderr
    assert "0 problems" not in done.stdout and "problems" in done.stdout
    assert "control 'label'" in done.stderr


def test_a_json_min_span_control_of_another_name_is_a_reported_loss() -> None:
    from claimwire.formats.label_studio_min import from_json_min

    min_export = json.loads(
        (Path(__file__).parent / "data" / "formats" / "label_studio_json_min.json").read_text(
            encoding="utf-8"
        )
    )
    for task in min_export:
        task["labels"] = task.pop("label")  # Label Studio's default span control
    documents = {d.id: d for d in open_release(REPO / "corpus" / "releases" / "1.0.0").documents()}
    schema = load_schema(REPO / "corpus" / "releases" / "1.0.0" / "schema.yaml")
    _, losses = from_json_min(min_export, documents, schema, "min")
    assert [loss.kind for loss in losses].count("unknown-control") == len(min_export)
