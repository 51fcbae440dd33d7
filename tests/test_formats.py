"""Other tools' formats: round trips, fixtures shaped as each tool writes them, the checker on
every import, and the losses each format reports instead of dropping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.errors import ClaimwireError
from claimwire.eval.checker import AnnotationSet, load_annotation_set
from claimwire.formats.base import summarize
from claimwire.formats.conll import sentence_tokens
from claimwire.formats.convert import Options, export_set, import_set
from claimwire.formats.label_studio_min import from_json_min, to_json_min
from claimwire.model import Annotation, Relation, replaced, write_records_atomically

from .bundled import DOCUMENT, DOCUMENTS, GOLD, JSON_MIN, RELEASE, SCHEMA, brat_folder
from .helpers import CliResult, canonical, one_error_line, run_cli


def spans_only(annotation_set: AnnotationSet) -> tuple[list[Annotation], list[Relation]]:
    """The gold as a format without attributes or document-level items can carry it."""
    kept = [
        Annotation(a.id, a.doc_id, a.layer, a.label, a.start, a.end, author=a.author)
        for a in annotation_set.annotations
        if a.is_span
    ]
    ids = {a.id for a in kept}
    links = [
        Relation(r.id, r.doc_id, r.type, r.head, r.tail, author=r.author)
        for r in annotation_set.relations
        if r.head in ids and r.tail in ids
    ]
    return kept, links


def round_trip(name: str, tmp_path: Path) -> tuple[AnnotationSet, dict[str, int]]:
    out = tmp_path / f"export.{name}"
    losses = export_set(name, out, list(DOCUMENTS.values()), GOLD, SCHEMA)
    back = import_set(name, out, DOCUMENTS, SCHEMA)
    return back.annotation_set, summarize(losses)


# ---- doccano ----------------------------------------------------------------------------------


def test_doccano_round_trip_keeps_spans_and_relations_and_reports_the_rest(
    tmp_path: Path,
) -> None:
    back, lost = round_trip("doccano", tmp_path)
    annotations, relations = spans_only(GOLD)
    assert canonical(list(back.annotations), list(back.relations)) == canonical(
        annotations, relations
    )
    # every attribute, every document-level item and every relation touching one is reported
    attributes = sum(len(a.attributes) for a in GOLD.annotations if a.is_span)
    assert lost["attribute"] == attributes > 0
    assert lost["document-item"] == sum(1 for a in GOLD.annotations if not a.is_span)
    assert lost["relation"] == len(GOLD.relations) - len(relations) > 0


def doccano_line(entities: list[dict[str, Any]], relations: list[dict[str, Any]]) -> str:
    """A line as doccano's relation-extraction export writes it (meta columns at top level)."""
    return json.dumps(
        {
            "id": 6400,
            "text": DOCUMENT.text,
            "doc_id": DOCUMENT.id,
            "Comments": [],
            "entities": entities,
            "relations": relations,
        },
        ensure_ascii=False,
    )


def test_doccano_exports_both_shapes_are_read(tmp_path: Path) -> None:
    claim = next(a for a in GOLD.annotations if a.label == "CLAIM")
    source = next(a for a in GOLD.annotations if a.label == "SOURCE")
    entities = [
        {"id": 1662, "label": "CLAIM", "start_offset": claim.start, "end_offset": claim.end},
        {"id": 1663, "label": "SOURCE", "start_offset": source.start, "end_offset": source.end},
    ]
    path = tmp_path / "admin.jsonl"
    relation = {"id": 273, "from_id": 1662, "to_id": 1663, "type": "attributed_to"}
    path.write_text(doccano_line(entities, [relation]) + "\n", encoding="utf-8")
    result = import_set("doccano", path, DOCUMENTS, SCHEMA, author="admin")
    labels = sorted(a.label for a in result.annotation_set.annotations)
    assert labels == ["CLAIM", "SOURCE"]
    [relation] = result.annotation_set.relations
    assert relation.type == "attributed_to" and relation.author == "admin"
    # the sequence-labelling export without relations: no doc_id, found by its text
    line = {"id": 2, "text": DOCUMENT.text, "label": [[claim.start, claim.end, "CLAIM"]]}
    path.write_text(json.dumps(line | {"Comments": []}) + "\n", encoding="utf-8")
    result = import_set("doccano", path, DOCUMENTS, SCHEMA, author="admin")
    [found] = result.annotation_set.annotations
    assert (found.label, found.start, found.end, found.doc_id) == (
        "CLAIM",
        claim.start,
        claim.end,
        DOCUMENT.id,
    )


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        (
            {"id": 1, "label": "PERSON", "start_offset": 0, "end_offset": 4},
            "unknown-label: 'PERSON'",
        ),
        ({"id": 1, "label": "CUE", "start_offset": 0, "end_offset": 10**6}, "field 'end'"),
        (
            {"id": 1, "label": "CUE", "start_offset": True, "end_offset": 4},
            "item 1: expected start_offset, end_offset (integers)",
        ),
    ],
)
def test_doccano_import_goes_through_the_checker(
    tmp_path: Path, entity: dict[str, Any], expected: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(doccano_line([entity], []) + "\n", encoding="utf-8")
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", path, "--from", "doccano", "--release", RELEASE, "--out", out)
    assert result.returncode == 1
    assert f"{path}:1: " in result.stderr and expected in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_doccano_text_mismatch_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "edited.jsonl"
    record = json.loads(doccano_line([], []))
    record["text"] = DOCUMENT.text.replace("Astana", "Astana!", 1)
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(ClaimwireError, match=rf"{path}:1: field 'text'"):
        import_set("doccano", path, DOCUMENTS, SCHEMA)


# ---- Label Studio JSON-MIN -------------------------------------------------------------------


def gold_without(lost_keys: set[str]) -> tuple[list[Annotation], list[Relation]]:
    """The gold minus what JSON-MIN cannot place (attributes given per label) and minus its
    relations, except those a Label Studio project implies (one SURVEY per document)."""
    annotations = [
        Annotation(
            a.id,
            a.doc_id,
            a.layer,
            a.label,
            a.start,
            a.end,
            a.quote,
            {k: v for k, v in a.attributes.items() if f"{a.label}__{k}" not in lost_keys},
            a.author,
        )
        for a in GOLD.annotations
        if not (a.label == "STANCE" and a.attributes.get("holder") != "issuer")
    ]
    relations = [r for r in GOLD.relations if r.type in ("from_survey", "evidence_of")]
    return annotations, relations


def test_a_real_json_min_export_is_read(tmp_path: Path) -> None:
    """The fixture is what Label Studio 1.23 wrote (JSON_MIN) for the gold of the seed."""
    tasks = json.loads(JSON_MIN.read_text(encoding="utf-8"))
    pulled, losses = from_json_min(tasks, DOCUMENTS, SCHEMA, "min")
    assert pulled.problems == []
    [(author, converted)] = pulled.sets.collected().items()
    assert author == "user1"
    lost_keys = {loss.detail.split(":")[0] for loss in losses if loss.kind == "unplaced-value"}
    assert lost_keys == {
        "CLAIM__numeric_category",
        "NUM_STAT__time_reference",
        "SOURCE__stance__BRI",
        "SOURCE__stance__CHINA_CENTRAL_ASIA",
        "SOURCE__stance__CHINA_CENTRAL_ASIA_TREATY",
    }
    assert "relation" not in summarize(losses)  # the file holds none to lose: a note says so
    expected = gold_without({"CLAIM__numeric_category", "NUM_STAT__time_reference"})
    got = canonical(converted.annotations, converted.relations)
    assert got == canonical(*expected)


@pytest.mark.parametrize("bom", [False, True])
def test_annotate_pull_reads_a_json_min_export(tmp_path: Path, bom: bool) -> None:
    """Also when the export starts with a byte order mark (as some editors save JSON)."""
    out, export = tmp_path / "sets", tmp_path / "export.json"
    export.write_bytes(b"\xef\xbb\xbf" * bom + JSON_MIN.read_bytes())
    result = run_cli("annotate", "pull", "--from-file", export, "--out", out, "--release", RELEASE)
    assert result.returncode == 0, result.stderr
    assert "None is not a document" not in result.stderr
    assert len(load_annotation_set(out / "user1.jsonl").annotations) == 72
    assert "JSON-MIN exports carry no relations" in result.stderr


def test_a_pull_where_no_task_is_a_document_fails(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps([{"id": 1, "data": {"doc_id": "nope"}, "annotations": []}]))
    result = run_cli(
        "annotate", "pull", "--from-file", path, "--out", tmp_path / "x", "--release", RELEASE
    )
    assert result.returncode == 1 and "'nope' is not a document" in result.stderr


def test_json_min_round_trip_matches_the_real_export() -> None:
    record, losses = to_json_min(DOCUMENT, GOLD.annotations, GOLD.relations, SCHEMA)
    real = json.loads(JSON_MIN.read_text(encoding="utf-8"))[0]
    volatile = {"created_at", "updated_at", "lead_time"}
    assert record == {k: v for k, v in real.items() if k not in volatile}
    assert len(losses) == len(GOLD.relations)
    pulled, _ = from_json_min([record], DOCUMENTS, SCHEMA)
    [converted] = pulled.sets.collected().values()
    assert canonical(converted.annotations, converted.relations) == canonical(
        *gold_without({"CLAIM__numeric_category", "NUM_STAT__time_reference"})
    )


def _from_json_min(exported: Path, out: Path) -> CliResult:
    """``convert`` of a JSON-MIN export back to a set of the release's documents."""
    return run_cli(
        "convert", exported, "--from", "label-studio-min", "--release", RELEASE, "--out", out
    )


def test_convert_cli_round_trip_through_json_min(tmp_path: Path) -> None:
    exported = tmp_path / "min.json"
    first = run_cli(
        "convert", RELEASE, "--to", "label-studio-min", "--release", RELEASE, "--out", exported
    )
    assert first.returncode == 0, first.stderr
    assert "relation" in first.stderr  # the loss is reported
    again = run_cli(
        "convert", RELEASE, "--to", "label-studio-min", "--release", RELEASE, "--out", exported
    )
    assert again.returncode == 1 and "--force" in again.stderr
    back = _from_json_min(exported, tmp_path / "b.jsonl")
    assert back.returncode == 0, back.stderr
    imported = load_annotation_set(tmp_path / "b.jsonl")
    assert len(imported.annotations) == 72
    # the export lost (and counted) the relations; the import counts only what it lost, and
    # says once what the format cannot carry (it counted "1 relation" more)
    [counted] = [line for line in back.stderr.splitlines() if line.startswith("not carried")]
    assert counted == "not carried: 5 unplaced-value"
    assert back.stderr.count("note: JSON-MIN exports carry no relations") == 1


def test_a_json_min_import_of_spans_alone_lost_nothing(tmp_path: Path) -> None:
    spans = tmp_path / "spans.jsonl"
    kept = [replaced(a, attributes={}) for a in GOLD.annotations if a.is_span]
    write_records_atomically(spans, kept)
    exported = tmp_path / "min.json"
    there = run_cli(
        "convert", spans, "--to", "label-studio-min", "--release", RELEASE, "--out", exported
    )
    assert there.returncode == 0 and "nothing lost" in there.stdout, there.stderr
    back = _from_json_min(exported, tmp_path / "b.jsonl")
    assert back.returncode == 0, back.stderr
    assert f"{len(kept)} annotations, 0 relations" in back.stdout
    assert "nothing lost" in back.stdout and "not carried" not in back.stderr
    assert "note: JSON-MIN exports carry no relations" in back.stderr


# ---- BRAT standoff ---------------------------------------------------------------------------


def without_document_items(
    annotation_set: AnnotationSet,
) -> tuple[list[Annotation], list[Relation]]:
    kept = [a for a in annotation_set.annotations if a.is_span]
    ids = {a.id for a in kept}
    return kept, [r for r in annotation_set.relations if r.head in ids and r.tail in ids]


def test_brat_round_trip_keeps_spans_attributes_and_relations(tmp_path: Path) -> None:
    back, lost = round_trip("brat", tmp_path)
    assert canonical(list(back.annotations), list(back.relations)) == canonical(
        *without_document_items(GOLD)
    )
    assert lost == {
        "document-item": sum(1 for a in GOLD.annotations if not a.is_span),
        "relation": len(GOLD.relations) - len(without_document_items(GOLD)[1]),
    }
    conf = (tmp_path / "export.brat" / "annotation.conf").read_text(encoding="utf-8")
    assert "attributed_to\tArg1:CLAIM|CONTENT|SURVEY_STAT|NUM_STAT, Arg2:SOURCE" in conf
    assert "checkworthy\tArg:CLAIM, Value:true|false" in conf
    assert "SURVEY\n" not in conf  # document-level labels are not brat entities


def test_brat_fragments_notes_and_what_is_lost(tmp_path: Path) -> None:
    text = DOCUMENT.text
    paragraph_end = text.index("\n\n")
    first = (paragraph_end - 20, paragraph_end)
    second = (paragraph_end + 2, paragraph_end + 12)
    far = (text.index("Astana"), text.index("Astana") + len("Astana"))
    ann = "\n".join(
        [
            # one span across a paragraph break: brat splits it at the newlines
            f"T1\tCLAIM {first[0]} {first[1]};{second[0]} {second[1]}\t"
            f"{text[first[0] : first[1]]} {text[second[0] : second[1]]}",
            "A1\tclaim_type T1 quantity",
            "A2\tcheckworthy T1 false",
            "A3\tNegation T1",  # an attribute the schema does not define
            # a truly discontinuous span: two CLAIM spans and a reported loss
            f"T2\tCLAIM {first[0]} {first[1]};{far[0]} {far[1]}\t{text[first[0] : first[1]]} Astana",
            f"T3\tSOURCE {far[0]} {far[1]}\tAstana",
            "R1\tattributed_to Arg1:T1 Arg2:T3",
            '#1\tAnnotatorNotes R1\t{"quote_type": "indirect"}',
            "#2\tAnnotatorNotes T3\tcheck this one",
            "E1\tCLAIM:T1",
            "A4\tclaim_type E1 quantity",  # an event's attribute goes with the event
            "N1\tReference T3 Wikidata:Q1520\tAstana",
        ]
    )
    result = import_set(
        "brat", brat_folder(tmp_path / "collection", ann + "\n"), DOCUMENTS, SCHEMA, "brat"
    )
    spans = sorted((a.label, a.start, a.end) for a in result.annotation_set.annotations)
    assert spans == sorted(
        [("CLAIM", first[0], second[1]), ("CLAIM", *first), ("CLAIM", *far), ("SOURCE", *far)]
    )
    t1 = next(a for a in result.annotation_set.annotations if a.end == second[1])
    assert t1.attributes == {"claim_type": "quantity", "checkworthy": False}
    [relation] = result.annotation_set.relations
    assert relation.head == t1.id and relation.attributes == {"quote_type": "indirect"}
    assert summarize(result.losses) == {
        "attribute": 2,
        "discontinuous": 1,
        "note": 1,
        "event": 1,
        "normalization": 1,
    }


def test_brat_attribute_of_a_missing_span_is_a_located_error(tmp_path: Path) -> None:
    ann = "T1\tSOURCE 0 4\t" + DOCUMENT.text[:4] + "\nA1\tclaim_type T9 quantity\n"
    with pytest.raises(ClaimwireError, match=r"\.ann:2: attribute 'claim_type' of 'T9'"):
        import_set("brat", brat_folder(tmp_path / "collection", ann), DOCUMENTS, SCHEMA)


def test_brat_text_that_is_not_the_release_is_refused(tmp_path: Path) -> None:
    ann = "T1\tSOURCE 0 4\tXXXX\n"
    folder = brat_folder(tmp_path / "collection", ann)
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", folder, "--from", "brat", "--release", RELEASE, "--out", out)
    assert result.returncode == 1 and f"{DOCUMENT.id}.ann:1: field 'text'" in result.stderr
    assert not out.exists()
    (folder / f"{DOCUMENT.id}.txt").write_text("another text", encoding="utf-8")
    with pytest.raises(ClaimwireError, match="not the text of document"):
        import_set("brat", folder, DOCUMENTS, SCHEMA)


def test_brat_files_with_windows_line_ends_and_a_bom_read_as_brat_saved_them(
    tmp_path: Path,
) -> None:
    out = tmp_path / "export.brat"
    export_set("brat", out, list(DOCUMENTS.values()), GOLD, SCHEMA)
    saved = canonical(*_records(import_set("brat", out, DOCUMENTS, SCHEMA).annotation_set))
    for ann in out.glob("*.ann"):  # git's autocrlf, an editor on Windows
        ann.write_bytes(b"\xef\xbb\xbf" + ann.read_bytes().replace(b"\n", b"\r\n"))
    assert canonical(*_records(import_set("brat", out, DOCUMENTS, SCHEMA).annotation_set)) == saved
    txt = out / f"{DOCUMENT.id}.txt"
    txt.write_bytes(txt.read_bytes().replace(b"\n", b"\r\n"))
    with pytest.raises(ClaimwireError, match=r"\.txt: .*Windows line ends \(CRLF\)"):
        import_set("brat", out, DOCUMENTS, SCHEMA)


def test_brat_txt_an_editor_saved_with_a_final_newline_is_read_with_a_note(
    tmp_path: Path,
) -> None:
    """vim, nano add a final newline the export never writes; the offsets are unchanged by
    it: the import is the same, with a note; two newlines are still another text."""
    out = tmp_path / "export.brat"
    export_set("brat", out, list(DOCUMENTS.values()), GOLD, SCHEMA)
    saved = canonical(*_records(import_set("brat", out, DOCUMENTS, SCHEMA).annotation_set))
    txt = out / f"{DOCUMENT.id}.txt"
    txt.write_bytes(txt.read_bytes() + b"\n")
    assert canonical(*_records(import_set("brat", out, DOCUMENTS, SCHEMA).annotation_set)) == saved
    result = run_cli(
        "convert", out, "--from", "brat", "--release", RELEASE, "--out", tmp_path / "s"
    )
    assert result.returncode == 0, result.stderr
    assert "note: 1 .txt file(s) end in a newline the release's text has not" in result.stderr
    txt.write_bytes(txt.read_bytes() + b"\n")
    with pytest.raises(ClaimwireError, match="not the text of document"):
        import_set("brat", out, DOCUMENTS, SCHEMA)


def _records(annotation_set: AnnotationSet) -> tuple[list[Annotation], list[Relation]]:
    return list(annotation_set.annotations), list(annotation_set.relations)


# ---- CoNLL / BIO -----------------------------------------------------------------------------

FLAT = ("CLAIM", "SOURCE", "CUE")


def conll_blocks(text: str) -> list[list[tuple[str, str]]]:
    """Sentences of (token, tag) as a CoNLL reader sees them (-DOCSTART- lines skipped)."""
    sentences, current = [], []
    for line in text.split("\n"):
        if line.startswith("-DOCSTART-") or not line.strip():
            if current:
                sentences.append(current)
            current = []
            continue
        token, tag = line.split("\t")
        current.append((token, tag))
    return sentences


@pytest.mark.parametrize("scheme", ["IOB2", "BIOES"])
def test_conll_round_trip_of_flat_labels(tmp_path: Path, scheme: str) -> None:
    out = tmp_path / "gold.conll"
    options = Options(FLAT, scheme)
    losses = export_set("conll", out, list(DOCUMENTS.values()), GOLD, SCHEMA, options=options)
    assert "expanded" not in summarize(losses) and "overlap" not in summarize(losses)
    assert summarize(losses)["relation"] == len(GOLD.relations)
    tags = {
        tag for sentence in conll_blocks(out.read_text(encoding="utf-8")) for _, tag in sentence
    }
    assert ("S-CUE" in tags) == (scheme == "BIOES") and "B-CLAIM" in tags
    back = import_set("conll", out, DOCUMENTS, SCHEMA)
    expected = {(a.label, a.start, a.end) for a in GOLD.annotations if a.label in FLAT}
    assert {(a.label, a.start, a.end) for a in back.annotation_set.annotations} == expected
    # the same file with Windows line ends and a byte-order mark reads the same
    out.write_bytes(b"\xef\xbb\xbf" + out.read_bytes().replace(b"\n", b"\r\n"))
    back = import_set("conll", out, DOCUMENTS, SCHEMA)
    assert {(a.label, a.start, a.end) for a in back.annotation_set.annotations} == expected


def test_conll_reports_what_bio_cannot_hold() -> None:
    from claimwire.formats.conll import tags_of

    astana = DOCUMENT.text.index("Astana")
    cut = Annotation("cut", DOCUMENT.id, "attribution", "SOURCE", astana + 1, astana + 4)
    inner = next(a for a in GOLD.annotations if a.label == "NUM_STAT")
    claim = next(
        a for a in GOLD.annotations if a.label == "CLAIM" and a.start <= inner.start < a.end
    )
    _, tags, losses = tags_of(DOCUMENT, [cut, claim, inner], ("SOURCE", "CLAIM", "NUM_STAT"))
    assert {(loss.kind, loss.where) for loss in losses if loss.kind != "attribute"} == {
        ("expanded", "cut"),
        ("overlap", inner.id),
    }
    assert sum(tag == "B-SOURCE" for sentence in tags for tag in sentence) == 1


def test_a_token_classifiers_output_is_read_back_as_character_spans(tmp_path: Path) -> None:
    gold = tmp_path / "gold.conll"
    export_set("conll", gold, [DOCUMENT], GOLD, SCHEMA, options=Options(("SOURCE",)))
    # a tagger's "token gold predicted" lines (conlleval's columns, space-separated) that
    # found only the first SOURCE
    lines, state = [], "before"
    for line in gold.read_text(encoding="utf-8").split("\n"):
        if line.startswith("-DOCSTART-") or not line:
            lines.append(line)
            continue
        token, tag = line.split("\t")
        if (state, tag) == ("before", "B-SOURCE") or (state, tag) == ("inside", "I-SOURCE"):
            state, predicted = "inside", tag
        else:
            state, predicted = ("after" if state != "before" else "before"), "O"
        lines.append(f"{token} {tag} {predicted}")
    output = tmp_path / "predicted.txt"
    output.write_text("\n".join(lines), encoding="utf-8")
    back = import_set("conll", output, DOCUMENTS, SCHEMA, author="tagger")
    first = min((a for a in GOLD.annotations if a.label == "SOURCE"), key=lambda a: a.start or 0)
    assert [(a.label, a.start, a.end, a.author) for a in back.annotation_set.annotations] == [
        ("SOURCE", first.start, first.end, "tagger")
    ]


def test_conll_tokens_that_are_not_the_documents_are_located(tmp_path: Path) -> None:
    path = tmp_path / "other.conll"
    path.write_text(f"-DOCSTART-\t{DOCUMENT.id}\n\nCGTN\tB-SOURCE\nn'a\tO\n", encoding="utf-8")
    out = tmp_path / "set.jsonl"
    result = run_cli("convert", path, "--from", "conll", "--release", RELEASE, "--out", out)
    assert (
        result.returncode == 1
        and f"{path}:4: token 2 of {DOCUMENT.id}: expected 'a'" in result.stderr
    )
    assert not out.exists()
    path.write_text(f"-DOCSTART-\t{DOCUMENT.id}\n\nCGTN\tX-SOURCE\n", encoding="utf-8")
    with pytest.raises(ClaimwireError, match="tag 'X-SOURCE'"):
        import_set("conll", path, DOCUMENTS, SCHEMA)


TOKENS = sentence_tokens(DOCUMENT)


@st.composite
def token_spans(draw: st.DrawFn) -> list[tuple[int, int, str]]:
    """Random non-overlapping spans of whole tokens inside sentences: (start, end, label)."""
    spans = []
    for sentence in draw(st.lists(st.sampled_from(range(len(TOKENS))), max_size=6, unique=True)):
        tokens = TOKENS[sentence]
        position = 0
        while position < len(tokens):
            position += draw(st.integers(0, 6))
            length = draw(st.integers(1, 5))
            if position + length > len(tokens) or draw(st.booleans()):
                break
            label = draw(st.sampled_from(FLAT))
            spans.append((tokens[position][1], tokens[position + length - 1][2], label))
            position += length
    return spans


@settings(max_examples=60, deadline=None)
@given(gold=token_spans(), predicted=token_spans(), scheme=st.sampled_from(["IOB2", "BIOES"]))
def test_strict_span_scores_equal_seqeval_on_bio_round_trips(
    gold: list[tuple[int, int, str]], predicted: list[tuple[int, int, str]], scheme: str
) -> None:
    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2, IOBES

    from claimwire.eval.matching import SpanSet, match
    from claimwire.eval.metrics import span_prf
    from claimwire.formats.conll import tags_of

    def tag_lists(spans: list[tuple[int, int, str]]) -> list[list[str]]:
        annotations = [
            Annotation(f"a{i}", DOCUMENT.id, "x", lab, s, e) for i, (s, e, lab) in enumerate(spans)
        ]
        _, tags, losses = tags_of(DOCUMENT, annotations, FLAT, scheme)
        assert not [loss for loss in losses if loss.kind != "attribute"]
        return tags

    def span_set(spans: list[tuple[int, int, str]]) -> SpanSet:
        return SpanSet.from_tuples((0, FLAT.index(lab), s, e, 0) for s, e, lab in spans)

    y_true, y_pred = tag_lists(gold), tag_lists(predicted)
    counts = match(span_set(gold), span_set(predicted), "strict").counts_by_unit(
        span_set(gold), span_set(predicted), 1
    )[0]
    ours = [float(x) for x in span_prf(counts)]
    mode = {"IOB2": IOB2, "BIOES": IOBES}[scheme]
    theirs = [
        metric(y_true, y_pred, mode="strict", scheme=mode, zero_division=0)
        for metric in (precision_score, recall_score, f1_score)
    ]
    assert ours == pytest.approx(theirs, abs=1e-12)


# ---- spaCy DocBin ----------------------------------------------------------------------------


def test_spacy_docbin_loads_as_a_training_corpus_and_round_trips(tmp_path: Path) -> None:
    import spacy
    from spacy.training import Corpus

    out = tmp_path / "train.spacy"
    losses = export_set(
        "spacy", out, list(DOCUMENTS.values()), GOLD, SCHEMA, options=Options(("CLAIM", "SOURCE"))
    )
    lost = summarize(losses)
    assert "expanded" not in lost and lost["relation"] == len(GOLD.relations)
    assert lost["document-item"] == sum(1 for a in GOLD.annotations if not a.is_span)
    nlp = spacy.blank("fr")
    [example] = list(Corpus(str(out))(nlp))  # what `spacy train` reads
    doc = example.reference
    assert doc.user_data["doc_id"] == DOCUMENT.id
    spans = {(s.label_, s.start_char, s.end_char) for s in doc.spans["sc"]}
    assert spans == {(a.label, a.start, a.end) for a in GOLD.annotations if a.is_span}
    assert {e.label_ for e in doc.ents} == {"CLAIM", "SOURCE"}
    assert len(list(doc.sents)) == len(DOCUMENT.sentences)
    back = import_set("spacy", out, DOCUMENTS, SCHEMA)
    assert canonical(list(back.annotation_set.annotations), []) == canonical(
        spans_only(GOLD)[0], []
    )


def test_spacy_spans_cutting_tokens_are_expanded_and_reported(tmp_path: Path) -> None:
    astana = DOCUMENT.text.index("Astana")
    cut = Annotation("cut", DOCUMENT.id, "attribution", "SOURCE", astana + 1, astana + 4)
    subset = AnnotationSet("x", (cut,), ())
    out = tmp_path / "cut.spacy"
    [loss] = export_set("spacy", out, [DOCUMENT], subset, SCHEMA, options=Options(("SOURCE",)))
    assert (loss.kind, loss.where) == ("expanded", "cut")
    [back] = import_set("spacy", out, DOCUMENTS, SCHEMA).annotation_set.annotations
    assert (back.start, back.end) == (astana, astana + len("Astana"))
    out.write_bytes(b"not a docbin")
    with pytest.raises(ClaimwireError, match="not a spaCy DocBin"):
        import_set("spacy", out, DOCUMENTS, SCHEMA)


# ---- INCEpTION / WebAnno (UIMA CAS XMI) ------------------------------------------------------


def test_inception_round_trip_and_the_cas_loads_with_cassis(tmp_path: Path) -> None:
    from cassis import load_cas_from_xmi, load_typesystem

    back, lost = round_trip("inception", tmp_path)
    assert canonical(list(back.annotations), list(back.relations)) == canonical(
        *without_document_items(GOLD)
    )
    assert lost == {
        "document-item": sum(1 for a in GOLD.annotations if not a.is_span),
        "relation": len(GOLD.relations) - len(without_document_items(GOLD)[1]),
    }
    folder = tmp_path / "export.inception"
    with (folder / "TypeSystem.xml").open("rb") as handle:
        ts = load_typesystem(handle)
    with (folder / f"{DOCUMENT.id}.xmi").open("rb") as handle:
        cas = load_cas_from_xmi(handle, typesystem=ts)
    assert cas.typecheck() == []
    relation_type = ts.get_type("webanno.custom.ClaimwireRelation")
    assert {"Governor", "Dependent"} <= {f.name for f in relation_type.all_features}
    for relation in cas.select("webanno.custom.ClaimwireRelation"):
        assert (relation.begin, relation.end) == (relation.Dependent.begin, relation.Dependent.end)
    sentences = cas.select("de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Sentence")
    assert [(s.begin, s.end) for s in sentences] == [tuple(s) for s in DOCUMENT.sentences]
    assert cas.select("de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Token")
    claim = next(iter(cas.select("webanno.custom.Claimwire")))
    assert claim.label == "CLAIM" and claim.checkworthy is True


def test_cas_offsets_are_utf16_in_the_xmi_and_code_points_in_claimwire(tmp_path: Path) -> None:
    from claimwire.model import replaced

    text = "🚀 Le sommet 😀 s’est tenu à Astana, selon 𝒳 l’agence."
    document = replaced(DOCUMENT, id="emoji", text=text, sentences=((0, len(text)),))
    start = text.index("Astana")
    source = Annotation(
        "s",
        "emoji",
        "attribution",
        "SOURCE",
        start,
        start + 6,
        attributes={"source_kind": "organization", "named": True},
    )
    subset = AnnotationSet("x", (source,), ())
    folder = tmp_path / "cas"
    export_set("inception", folder, [document], subset, SCHEMA)
    xmi = (folder / "emoji.xmi").read_text(encoding="utf-8")
    astral_before = 2  # 🚀 and 😀 are two UTF-16 code units each
    assert f'begin="{start + astral_before}" end="{start + astral_before + 6}"' in xmi
    back = import_set("inception", folder, {"emoji": document}, SCHEMA)
    [annotation] = back.annotation_set.annotations
    assert (annotation.start, annotation.end) == (start, start + 6)
    assert text[annotation.start : annotation.end] == "Astana"
    assert annotation.attributes == {"source_kind": "organization", "named": True}


def test_an_inception_export_with_other_layers_is_read_and_they_are_reported(
    tmp_path: Path,
) -> None:
    """An XMI as INCEpTION writes it: the sofa, DocumentMetaData, our layer, another layer."""
    from xml.sax.saxutils import quoteattr

    from claimwire.formats.cas import type_system

    ts = type_system(SCHEMA)
    sentiment = ts.create_type("webanno.custom.Sentiment")
    ts.create_feature(sentiment, "Polarity", "uima.cas.String")
    folder = tmp_path / "inception"
    folder.mkdir()
    (folder / "TypeSystem.xml").write_text(ts.to_xml(), encoding="utf-8")
    source = next(a for a in GOLD.annotations if a.label == "SOURCE")
    (folder / "release.xmi").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<xmi:XMI xmlns:tcas="http:///uima/tcas.ecore" xmlns:xmi="http://www.omg.org/XMI" '
        'xmlns:cas="http:///uima/cas.ecore" xmlns:custom="http:///webanno/custom.ecore" '
        'xmlns:type2="http:///de/tudarmstadt/ukp/dkpro/core/api/metadata/type.ecore" '
        'xmi:version="2.0"><cas:NULL xmi:id="0"/>'
        f'<type2:DocumentMetaData xmi:id="1" sofa="12" begin="0" end="{len(DOCUMENT.text)}" '
        # INCEpTION names the document by its file name: it is found by its text
        'language="fr" documentTitle="release-fr.txt" documentId="release-fr.txt" '
        'isLastSegment="false"/>'
        f'<custom:Claimwire xmi:id="2" sofa="12" begin="{source.start}" end="{source.end}" '
        'label="SOURCE" source_kind="person" named="true"/>'
        '<custom:Sentiment xmi:id="3" sofa="12" begin="0" end="4" Polarity="positive"/>'
        f'<cas:Sofa xmi:id="12" sofaNum="1" sofaID="_InitialView" mimeType="text" '
        f"sofaString={quoteattr(DOCUMENT.text)}/>"
        '<cas:View sofa="12" members="1 2 3"/></xmi:XMI>',
        encoding="utf-8",
    )
    result = import_set("inception", folder, DOCUMENTS, SCHEMA, author="annotator1")
    [annotation] = result.annotation_set.annotations
    assert (annotation.label, annotation.start, annotation.end) == (
        "SOURCE",
        source.start,
        source.end,
    )
    assert annotation.attributes == {"source_kind": "person", "named": True}
    assert summarize(result.losses) == {"layer webanno.custom.Sentiment": 1}


def test_brat_writes_a_span_across_lines_as_fragments_and_reads_it_whole(tmp_path: Path) -> None:
    start = DOCUMENT.text.index("\n\n") - 10
    across = Annotation(
        "x",
        DOCUMENT.id,
        "attribution",
        "CONTENT",
        start,
        start + 25,
        attributes={"quote_type": "direct"},
    )
    folder = tmp_path / "brat"
    export_set("brat", folder, [DOCUMENT], AnnotationSet("x", (across,), ()), SCHEMA)
    ann = (folder / f"{DOCUMENT.id}.ann").read_text(encoding="utf-8")
    assert f"T1\tCONTENT {start} {start + 10};{start + 12} {start + 25}\t" in ann
    [back] = import_set("brat", folder, DOCUMENTS, SCHEMA).annotation_set.annotations
    assert (back.start, back.end, back.attributes) == (start, start + 25, {"quote_type": "direct"})


def test_convert_needs_one_direction_and_a_known_format(tmp_path: Path) -> None:
    out = tmp_path / "x"
    both = run_cli(
        "convert", RELEASE, "--from", "brat", "--to", "brat", "--out", out, "--release", RELEASE
    )
    assert both.returncode == 1 and "exactly one of --from" in both.stderr
    unknown = run_cli("convert", RELEASE, "--to", "xml", "--out", out, "--release", RELEASE)
    assert (
        unknown.returncode == 1 and "unknown format 'xml'; expected one of brat" in unknown.stderr
    )
    assert not out.exists() and "Traceback" not in both.stderr + unknown.stderr


def test_two_documents_with_one_file_name_are_refused(tmp_path: Path) -> None:
    from claimwire.model import replaced

    twins = [replaced(DOCUMENT, id="a/b"), replaced(DOCUMENT, id="a_b")]
    for name in ("brat", "inception"):
        with pytest.raises(ClaimwireError, match="would share the file name 'a_b'"):
            export_set(name, tmp_path / name, twins, AnnotationSet("x", (), ()), SCHEMA)
        assert not (tmp_path / name).exists()


def test_flat_labels_must_be_span_labels(tmp_path: Path) -> None:
    with pytest.raises(ClaimwireError, match="--labels: SURVEY, PERSON not span label"):
        export_set(
            "conll",
            tmp_path / "x.conll",
            [DOCUMENT],
            GOLD,
            SCHEMA,
            options=Options(("SURVEY", "PERSON")),
        )
    assert not (tmp_path / "x.conll").exists()


@pytest.mark.parametrize(("doc_id", "expected"), [(None, "missing"), (7, "str")])
def test_export_refuses_a_record_naming_no_document_it_cannot_place(
    tmp_path: Path, doc_id: object, expected: str
) -> None:
    """A record whose doc_id is missing or not a string names no batch's document: it is
    still read and refused with its line, and nothing is written."""
    gold = (RELEASE / "annotations.jsonl").read_text(encoding="utf-8").splitlines()
    bad = json.loads(gold[0])
    bad["id"] = "orphan"
    if doc_id is None:
        del bad["doc_id"]
    else:
        bad["doc_id"] = doc_id
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join([*gold, json.dumps(bad, ensure_ascii=False)]) + "\n")
    out = tmp_path / "out.json"
    result = run_cli("convert", path, "--to", "doccano", "--release", RELEASE, "--out", out)
    assert result.returncode == 1
    assert one_error_line(result.stderr), result.stderr
    assert f"set.jsonl:{len(gold) + 1}" in result.stderr and "doc_id" in result.stderr
    assert expected in result.stderr
    assert not out.exists()


def test_a_cas_import_writes_the_same_bytes_whatever_the_hash_seed(tmp_path: Path) -> None:
    """Each span's attributes come in the type system's order (before: in the order of a
    set of names, which changes with the interpreter's hash seed, so two imports of one
    folder differed)."""
    from .helpers import release_with_test_claims

    release = release_with_test_claims(tmp_path, 6)
    export = tmp_path / "xmi"
    gold = release / "annotations.jsonl"
    done = run_cli("convert", gold, "--to", "inception", "--out", export, "--release", release)
    assert done.returncode == 0, done.stderr
    imports = []
    for seed in range(4):
        out = tmp_path / f"imported-{seed}.jsonl"
        env = {"PYTHONHASHSEED": str(seed)}
        done = run_cli(
            *("convert", export, "--from", "inception", "--out", out, "--release", release), env=env
        )
        assert done.returncode == 0, done.stderr
        imports.append(out.read_bytes())
    assert b'"claim_type"' in imports[0] and len(set(imports)) == 1
