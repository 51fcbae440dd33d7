"""Imports that build records from ids: an id given twice, an attribute given twice, an id
naming nothing is a located error (nothing written), never a value silently replaced."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from claimwire.errors import ClaimwireError
from claimwire.formats.base import summarize
from claimwire.formats.cas import RELATION
from claimwire.formats.convert import export_set, import_set

from .bundled import DOCUMENT, DOCUMENTS, GOLD, JSON_MIN, RELEASE, SCHEMA, brat_folder
from .helpers import run_cli

TEXT = DOCUMENT.text
ASTANA = (TEXT.index("Astana"), TEXT.index("Astana") + len("Astana"))


# ---- brat -------------------------------------------------------------------------------------


def span(key: str, label: str, start: int, end: int) -> str:
    return f"{key}\t{label} {start} {end}\t{TEXT[start:end]}"


CLAIM = span("T1", "CLAIM", 0, 10)
SOURCE = span("T2", "SOURCE", *ASTANA)


def test_a_repeated_span_id_in_an_export_is_a_located_error_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    """r14hostile M1: a second ``T1`` replaced the first span, which kept its attributes."""
    folder = tmp_path / "brat"
    export_set("brat", folder, list(DOCUMENTS.values()), GOLD, SCHEMA)
    ann = folder / f"{DOCUMENT.id}.ann"
    lines = ann.read_text(encoding="utf-8").splitlines()
    ann.write_text("\n".join([*lines, CLAIM]) + "\n", encoding="utf-8")
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", folder, "--from", "brat", "--release", RELEASE, "--out", out)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{ann}:{len(lines) + 1}: duplicate id T1 (first at line 1)" in result.stderr
    assert not out.exists()


def test_two_values_of_one_attribute_are_a_located_error_naming_both_lines(
    tmp_path: Path,
) -> None:
    """r14hostile M2: the last value won and the import said nothing was lost."""
    lines = [CLAIM, "A1\tclaim_type T1 quantity", "A9\tclaim_type T1 prediction"]
    folder = brat_folder(tmp_path / "collection", lines)
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", folder, "--from", "brat", "--release", RELEASE, "--out", out)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        f"{DOCUMENT.id}.ann:3: attribute 'claim_type' of 'T1' given twice: 'prediction' here, "
        "'quantity' at line 2" in result.stderr
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            [CLAIM, SOURCE, "A1\tnamed T2 true", "A1\tclaim_type T1 quantity"],
            r"\.ann:4: duplicate id A1 \(first at line 3\)",
            id="attribute id twice",
        ),
        pytest.param(
            [CLAIM, SOURCE, "R1\tattributed_to Arg1:T1 Arg2:T2", "E1\tCLAIM:T1", "E1\tCLAIM:T1"],
            r"\.ann:5: duplicate id E1 \(first at line 4\)",
            id="event id twice",
        ),
        pytest.param(
            [CLAIM, SOURCE, "#1\tAnnotatorNotes T1\tcheck", "#1\tAnnotatorNotes T2\tcheck"],
            r"\.ann:4: duplicate id #1 \(first at line 3\)",
            id="note id twice",
        ),
        pytest.param(
            [CLAIM, "A1\tclaim_type T1 quantity", '#1\tAnnotatorNotes T1\t{"claim_type": "x"}'],
            r"\.ann:3: attribute 'claim_type' of 'T1' given twice: 'x' here, 'quantity' at line 2",
            id="an attribute and a note",
        ),
        pytest.param(
            [
                CLAIM,
                SOURCE,
                "R1\tattributed_to Arg1:T1 Arg2:T2",
                '#1\tAnnotatorNotes R1\t{"quote_type": "direct"}',
                '#2\tAnnotatorNotes R1\t{"quote_type": "indirect"}',
            ],
            r"\.ann:5: attribute 'quote_type' of 'R1' given twice: 'indirect' here, 'direct'",
            id="two notes of a relation",
        ),
        pytest.param(
            [CLAIM, '#1\tAnnotatorNotes T1\t{"claim_type": "quantity", "claim_type": "x"}'],
            r"\.ann:2: note: key 'claim_type' appears twice in one object",
            id="a key twice in a note",
        ),
        pytest.param(
            [CLAIM, '#1\tAnnotatorNotes T9\t{"claim_type": "quantity"}'],
            r"\.ann:2: note of 'T9', which is not a text-bound annotation \(T\) or relation",
            id="a note of nothing",
        ),
        pytest.param(
            [CLAIM, "A1\tclaim_type E9 quantity"],
            r"\.ann:2: attribute 'claim_type' of 'E9', which is not a text-bound annotation",
            id="an attribute of an event the file lacks",
        ),
        pytest.param(
            [CLAIM, "A1\tclaim_type T1 quantity prediction"],
            r"\.ann:2: expected 'A<n>\\tNAME T<n> \[VALUE\]'",
            id="an attribute with two values",
        ),
        pytest.param(
            [
                CLAIM,
                SOURCE,
                span("T3", "SOURCE", 0, 4),
                "R1\tattributed_to Arg1:T1 Arg2:T2 Arg2:T3",
            ],
            r"\.ann:4: expected 'R<n>\\tTYPE Arg1:T<n> Arg2:T<n>'",
            id="a relation end given twice",
        ),
    ],
)
def test_brat_ids_and_values_given_twice_or_naming_nothing_are_located_errors(
    tmp_path: Path, lines: list[str], expected: str
) -> None:
    with pytest.raises(ClaimwireError, match=rf"^1 problem\(s\); nothing written:\n  .*{expected}"):
        import_set("brat", brat_folder(tmp_path / "collection", lines), DOCUMENTS, SCHEMA)


def test_brat_equivalences_share_their_id_and_events_keep_their_attributes_as_losses(
    tmp_path: Path,
) -> None:
    """``*`` is every equivalence's id; an attribute or note of an event is a loss with it."""
    lines = [
        CLAIM,
        SOURCE,
        span("T3", "SOURCE", *ASTANA),
        "*\tEquiv T2 T3",
        "*\tEquiv T3 T2",
        "E1\tCLAIM:T1",
        "A1\tclaim_type E1 quantity",
        "#1\tAnnotatorNotes E1\tan event",
    ]
    result = import_set("brat", brat_folder(tmp_path / "collection", lines), DOCUMENTS, SCHEMA)
    assert len(result.annotation_set.annotations) == 2  # T3 repeats T2's span: read once
    assert summarize(result.losses) == {"equivalence": 2, "event": 1, "attribute": 1, "note": 1}


# ---- INCEpTION (UIMA CAS XMI) -------------------------------------------------------------


def inception_export(tmp_path: Path) -> tuple[Path, str]:
    """The release's gold exported for INCEpTION: the folder and its XMI's text."""
    folder = tmp_path / "inception"
    export_set("inception", folder, list(DOCUMENTS.values()), GOLD, SCHEMA)
    return folder, next(folder.glob("*.xmi")).read_text(encoding="utf-8")


def first_ids(xmi: str, tag: str, count: int) -> list[str]:
    return re.findall(rf'<{tag} xmi:id="(\d+)"', xmi)[:count]


def test_an_xmi_id_given_twice_is_a_located_error_though_cassis_would_drop_one(
    tmp_path: Path,
) -> None:
    """The view's member list made to agree, cassis reads the file and keeps one of the two
    spans: the import lost a span and said nothing."""
    folder, xmi = inception_export(tmp_path)
    first, second = first_ids(xmi, "custom:Claimwire", 2)
    xmi = xmi.replace(f'xmi:id="{second}"', f'xmi:id="{first}"', 1)
    xmi = xmi.replace(f" {second} ", " ", 1)  # the view lists each id once
    path = next(folder.glob("*.xmi"))
    path.write_text(xmi, encoding="utf-8")
    expected = rf"{re.escape(str(path))}:2:\d+: duplicate xmi:id '{first}' \(first at line 2, "
    with pytest.raises(ClaimwireError, match=expected):
        import_set("inception", folder, DOCUMENTS, SCHEMA)


def test_a_cue_that_is_no_span_is_a_reported_loss(tmp_path: Path) -> None:
    folder, xmi = inception_export(tmp_path)
    [relation, other] = first_ids(xmi, "custom:ClaimwireRelation", 2)
    cue = re.search(rf'xmi:id="{relation}"[^>]* cue="(\d+)"', xmi)
    assert cue is not None
    xmi = xmi.replace(cue.group(0), cue.group(0).replace(f'cue="{cue[1]}"', f'cue="{other}"'))
    next(folder.glob("*.xmi")).write_text(xmi, encoding="utf-8")
    result = import_set("inception", folder, DOCUMENTS, SCHEMA)
    assert summarize(result.losses) == {"relation-attribute": 1}
    [loss] = result.losses
    assert loss.detail == f"cue: xmi:id {other} ({RELATION}) is not a span read"


def test_a_reference_to_no_element_is_named_as_such(tmp_path: Path) -> None:
    folder, xmi = inception_export(tmp_path)
    xmi = re.sub(r'Governor="\d+"', 'Governor="99999"', xmi, count=1)
    next(folder.glob("*.xmi")).write_text(xmi, encoding="utf-8")
    with pytest.raises(ClaimwireError, match="a reference to xmi:id 99999, which no element"):
        import_set("inception", folder, DOCUMENTS, SCHEMA)


# ---- doccano ----------------------------------------------------------------------------------


def entity(entity_id: object, label: str, start: int, end: int) -> dict[str, object]:
    return {"id": entity_id, "label": label, "start_offset": start, "end_offset": end}


def relation(relation_id: object, head: object, tail: object) -> dict[str, object]:
    return {"id": relation_id, "from_id": head, "to_id": tail, "type": "attributed_to"}


def doccano_file(tmp_path: Path, entities: list[Any], relations: list[Any]) -> Path:
    path = tmp_path / "admin.jsonl"
    line = {"id": 1, "text": TEXT, "doc_id": DOCUMENT.id, "entities": entities}
    path.write_text(json.dumps(line | {"relations": relations}) + "\n", encoding="utf-8")
    return path


CLAIM_ENTITY = entity(1, "CLAIM", 0, 10)
SOURCE_ENTITY = entity(2, "SOURCE", *ASTANA)


@pytest.mark.parametrize(
    ("entities", "relations", "expected"),
    [
        pytest.param(
            [CLAIM_ENTITY, SOURCE_ENTITY, entity(2, "SOURCE", 0, 4)],
            [relation(1, 1, 2)],
            "field 'entities': item 3: duplicate id 2 (first at item 2)",
            id="entity id twice",  # the relation went to the later SOURCE
        ),
        pytest.param(
            [CLAIM_ENTITY, SOURCE_ENTITY],
            [relation(7, 1, 2), relation(7, 2, 1)],
            "field 'relations': item 2: duplicate id 7 (first at item 1)",
            id="relation id twice",
        ),
        pytest.param(
            [{k: v for k, v in CLAIM_ENTITY.items() if k != "id"}, SOURCE_ENTITY],
            [{"id": 1, "to_id": 2, "type": "attributed_to"}],
            "field 'relations': item 1: from_id/to_id None/2 name no entity of the line",
            id="no from_id, an entity without id",  # None named the entity without an id
        ),
    ],
)
def test_doccano_ids_given_twice_or_naming_nothing_are_located_errors(
    tmp_path: Path, entities: list[Any], relations: list[Any], expected: str
) -> None:
    path = doccano_file(tmp_path, entities, relations)
    with pytest.raises(ClaimwireError, match=re.escape(f"{path}:1: {expected}")):
        import_set("doccano", path, DOCUMENTS, SCHEMA)


def test_a_doccano_id_that_is_a_list_is_an_id_not_a_crash(tmp_path: Path) -> None:
    path = doccano_file(
        tmp_path,
        [entity([1], "CLAIM", 0, 10), entity([2], "SOURCE", *ASTANA)],
        [relation(1, [1], [2])],
    )
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", path, "--from", "doccano", "--release", RELEASE, "--out", out)
    assert result.returncode == 0, result.stderr
    assert [r["type"] for r in map(json.loads, out.read_text().splitlines()) if "head" in r] == [
        "attributed_to"
    ]


# ---- Label Studio JSON-MIN ----------------------------------------------------------------


def test_a_second_value_for_one_region_is_a_reported_loss_the_first_kept(tmp_path: Path) -> None:
    """Values of a per-region control find their region by its offsets: a second one for the
    same region replaced the first, unsaid."""
    [task] = json.loads(JSON_MIN.read_text(encoding="utf-8"))
    first = task["NUM_STAT__value"][0]
    task["NUM_STAT__value"].append(first | {"number": first["number"] + 1})
    path = tmp_path / "min.json"
    path.write_text(json.dumps([task]), encoding="utf-8")
    result = import_set("label-studio-min", path, DOCUMENTS, SCHEMA)
    [number] = [a for a in result.annotation_set.annotations if a.start == first["start"]]
    assert number.attributes["value"] == "5" and first["number"] == 5
    [again] = [loss for loss in result.losses if loss.kind == "repeated-value"]
    assert again.detail.startswith(f"NUM_STAT__value at {first['start']}–{first['end']}: ")


# ---- spaCy DocBin -----------------------------------------------------------------------------


def test_a_span_given_twice_in_the_span_groups_is_read_once_with_a_note(tmp_path: Path) -> None:
    """A span in ``doc.ents`` and a span group is one annotation (what the export writes); one
    span twice in the span groups was read once unsaid."""
    import spacy
    from spacy.tokens import DocBin

    doc = spacy.blank("fr")(TEXT)
    claim = doc.char_span(0, 10, "CLAIM", alignment_mode="expand")
    doc.user_data["doc_id"] = DOCUMENT.id
    doc.spans["sc"] = [claim, claim]
    doc.ents = [claim]
    path = tmp_path / "train.spacy"
    docbin = DocBin(store_user_data=True)
    docbin.add(doc)
    path.write_bytes(docbin.to_bytes())
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", path, "--from", "spacy", "--release", RELEASE, "--out", out)
    assert result.returncode == 0, result.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    assert "note: 1 span(s) given again in a doc's span groups" in result.stderr
