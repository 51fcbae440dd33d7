import json
from pathlib import Path

import pytest

from claimwire.errors import ClaimwireError
from claimwire.model import (
    Annotation,
    Document,
    Quote,
    Relation,
    read_records,
    write_records,
)


def test_records_round_trip_through_jsonl(tmp_path: Path) -> None:
    text = "Selon l’Insee, le PIB a augmenté de 0,3\u00a0%."
    document = Document("insee-abc", text, "fr", "test", ((0, len(text)),), ((0, len(text)),))
    annotation = Annotation(
        "a1",
        "insee-abc",
        "attribution",
        "SOURCE",
        6,
        13,
        Quote.from_text(text, 6, 13),
        {"named": True},
        "alice",
    )
    document_level = Annotation("a2", "insee-abc", "statistics", "SURVEY")
    relation = Relation("r1", "insee-abc", "attributed_to", "a2", "a1")
    for records, kind in (
        ([document], Document),
        ([annotation, document_level], Annotation),
        ([relation], Relation),
    ):
        path = tmp_path / f"{kind.__name__}.jsonl"
        write_records(path, records)
        assert list(read_records(path, kind)) == records
    assert annotation.quote is not None and annotation.quote.exact == "l’Insee"
    assert "\u00a0" in (tmp_path / "Document.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ({"doc_id": "d", "layer": "x", "label": "y"}, "id", "missing"),
        ({"id": 3, "doc_id": "d", "layer": "x", "label": "y"}, "id", "expected str"),
        ({"id": "a", "doc_id": "d", "layer": "x", "label": "y", "start": 1}, "end", "both"),
        (
            {"id": "a", "doc_id": "d", "layer": "x", "label": "y", "start": True, "end": 2},
            "start",
            "expected int",
        ),
        (
            {"id": "a", "doc_id": "d", "layer": "x", "label": "y", "quote": {"prefix": ""}},
            "quote.exact",
            "missing",
        ),
    ],
)
def test_bad_records_name_file_line_and_field(
    tmp_path: Path, line: dict[str, object], field: str, expected: str
) -> None:
    good = {"id": "ok", "doc_id": "d", "layer": "x", "label": "y"}
    path = tmp_path / "annotations.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(ClaimwireError) as caught:
        list(read_records(path, Annotation))
    error = caught.value
    assert (error.file, error.line, error.field) == (str(path), 3, field)
    assert expected in error.message


def test_malformed_json_line_is_located(tmp_path: Path) -> None:
    path = tmp_path / "relations.jsonl"
    good = {"id": "r", "doc_id": "d", "type": "t", "head": "a", "tail": "b"}
    path.write_text(json.dumps(good) + '\n{"id": \n', encoding="utf-8")
    with pytest.raises(ClaimwireError) as caught:
        list(read_records(path, Relation))
    assert caught.value.line == 2
    assert "not valid JSON" in caught.value.message
