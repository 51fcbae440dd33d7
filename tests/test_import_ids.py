"""Imports that build records from ids: an id given twice, an attribute given twice, an id
naming nothing is a located error (nothing written), never a value silently replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval.checker import load_annotation_set
from claimwire.formats.base import summarize
from claimwire.formats.convert import export_set, import_set

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
SCHEMA = load_schema(RELEASE / "schema.yaml")
DOCUMENTS = {d.id: d for d in open_release(RELEASE).documents()}
DOCUMENT = next(iter(DOCUMENTS.values()))
GOLD = load_annotation_set(RELEASE)
GOLD = load_annotation_set(RELEASE)
TEXT = DOCUMENT.text
ASTANA = (TEXT.index("Astana"), TEXT.index("Astana") + len("Astana"))


# ---- brat -------------------------------------------------------------------------------------


def span(key: str, label: str, start: int, end: int) -> str:
    return f"{key}\t{label} {start} {end}\t{TEXT[start:end]}"


CLAIM = span("T1", "CLAIM", 0, 10)
SOURCE = span("T2", "SOURCE", *ASTANA)


def brat_folder(tmp_path: Path, lines: list[str]) -> Path:
    """A brat collection of the release's document: its ``.txt`` and an ``.ann`` of ``lines``."""
    folder = tmp_path / "collection"
    folder.mkdir()
    (folder / f"{DOCUMENT.id}.txt").write_bytes(TEXT.encode("utf-8"))
    (folder / f"{DOCUMENT.id}.ann").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


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
    folder = brat_folder(tmp_path, lines)
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
        import_set("brat", brat_folder(tmp_path, lines), DOCUMENTS, SCHEMA)


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
    result = import_set("brat", brat_folder(tmp_path, lines), DOCUMENTS, SCHEMA)
    assert len(result.annotation_set.annotations) == 3
    assert summarize(result.losses) == {"equivalence": 2, "event": 1, "attribute": 1, "note": 1}
