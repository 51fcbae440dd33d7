"""INCEpTION imports of spans on layers other than claimwire's own (the built-in Named Entity
layer), and of annotations no layer of ours carries: read, or counted by type; an import that
reads nothing of what its files hold is refused. The XMI is written by dkpro-cassis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from claimwire.eval.checker import load_annotation_set
from claimwire.formats.cas import METADATA, SENTENCE, TOKEN, type_system
from claimwire.model import Document

from .bundled import DOCUMENT, RELEASE, SCHEMA, brat_folder
from .helpers import one_error_line, run_cli

NAMED_ENTITY = "de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity"
POS = "de.tudarmstadt.ukp.dkpro.core.api.lexmorph.type.pos.POS"
SENTIMENT = "webanno.custom.Sentiment"


def write_folder(folder: Path, document: Document, spans: list[tuple[str, int, int, str]]) -> None:
    """A folder as INCEpTION exports it (``TypeSystem.xml`` and one XMI) holding ``spans``
    (type, begin, end, tag) beside DKPro's metadata, sentences and tokens."""
    from cassis import Cas

    ts = type_system(SCHEMA)
    named = ts.create_type(NAMED_ENTITY)
    ts.create_feature(named, "value", "uima.cas.String")
    ts.create_feature(named, "identifier", "uima.cas.String")
    ts.create_feature(ts.create_type(POS), "PosValue", "uima.cas.String")
    ts.create_feature(ts.create_type(SENTIMENT), "Polarity", "uima.cas.String")
    cas = Cas(typesystem=ts)
    cas.sofa_string = document.text
    cas.add(ts.get_type(METADATA)(begin=0, end=len(document.text), documentId=document.id))
    cas.add_all([ts.get_type(SENTENCE)(begin=s, end=e) for s, e in document.sentences])
    cas.add(ts.get_type(TOKEN)(begin=0, end=4))
    features = {NAMED_ENTITY: "value", POS: "PosValue", SENTIMENT: "Polarity"}
    for name, begin, end, tag in spans:
        fs: Any = ts.get_type(name)(begin=begin, end=end, **{features[name]: tag})
        cas.add(fs)
    folder.mkdir()
    (folder / "TypeSystem.xml").write_text(ts.to_xml(), encoding="utf-8")
    cas.to_xmi(folder / f"{document.id}.xmi")


def test_spans_on_the_named_entity_layer_are_read_and_other_types_counted(
    tmp_path: Path,
) -> None:
    """Named Entity spans whose ``value`` is a schema label are read as that label; a Named
    Entity of another value, a part of speech and another custom layer are counted by their
    type (before: nothing read, "nothing lost")."""
    claim = DOCUMENT.text.index(" article") + len(" article")
    source = DOCUMENT.text.index("Astana")
    folder = tmp_path / "ne"
    write_folder(
        folder,
        DOCUMENT,
        [
            (NAMED_ENTITY, 0, claim, "CLAIM"),
            (NAMED_ENTITY, source, source + 6, "SOURCE"),
            (NAMED_ENTITY, 0, 4, "PER"),
            (POS, 0, 4, "NOUN"),
            (SENTIMENT, 0, 4, "positive"),
        ],
    )
    out = tmp_path / "ne.jsonl"
    done = run_cli("convert", folder, "--from", "inception", "--out", out, "--release", RELEASE)
    assert done.returncode == 0, done.stderr
    assert "2 annotations, 0 relations" in done.stdout
    assert "nothing lost" not in done.stdout + done.stderr
    assert f"1 layer {NAMED_ENTITY}, 1 layer {POS}, 1 layer {SENTIMENT}" in done.stderr
    assert "value='PER': not a span label of the schema" in done.stderr
    read = load_annotation_set(out).annotations
    assert sorted((a.label, a.layer, a.start, a.end, a.attributes) for a in read) == [
        ("CLAIM", SCHEMA.labels["CLAIM"].layer, 0, claim, {}),
        ("SOURCE", SCHEMA.labels["SOURCE"].layer, source, source + 6, {}),
    ]


def test_an_import_reading_nothing_of_what_its_files_hold_is_refused(tmp_path: Path) -> None:
    """Named Entity spans of no schema label only: one error naming the folder and what was
    not carried, nothing written (before: "0 annotations", an empty set, exit 0)."""
    folder = tmp_path / "ne"
    huge = "PER" * 10_000
    write_folder(folder, DOCUMENT, [(NAMED_ENTITY, 0, 4, huge), (NAMED_ENTITY, 5, 9, "LOC")])
    out = tmp_path / "ne.jsonl"
    done = run_cli("convert", folder, "--from", "inception", "--out", out, "--release", RELEASE)
    assert done.returncode == 1
    assert one_error_line(done.stderr), done.stderr
    assert f"{folder}: no record read, and not carried: 2 layer {NAMED_ENTITY}" in done.stderr
    assert "nothing written" in done.stderr and not out.exists()
    assert "(30000 characters)" in done.stderr and len(done.stderr) < 1000  # a value cut
    assert list(tmp_path.iterdir()) == [folder]


def test_a_brat_import_of_events_only_is_refused_as_well(tmp_path: Path) -> None:
    """The rule is every importer's: a BRAT folder whose ``.ann`` holds only an event."""
    folder = brat_folder(tmp_path / "brat", "E1\tCLAIM:T1\n")
    out = tmp_path / "brat.jsonl"
    done = run_cli("convert", folder, "--from", "brat", "--out", out, "--release", RELEASE)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "no record read, and not carried: 1 event" in done.stderr and not out.exists()


def test_relations_of_another_layer_between_spans_read_are_read(tmp_path: Path) -> None:
    """A relation layer attached to the Named Entity layer (Governor, Dependent): one whose
    ``value`` is a relation type of the schema is read with its attributes, one of another
    value is counted by its type."""
    from cassis import load_cas_from_xmi, load_typesystem

    claim_end = DOCUMENT.text.index(" article") + len(" article")
    source = DOCUMENT.text.index("Astana")
    folder = tmp_path / "ne"
    write_folder(
        folder,
        DOCUMENT,
        [(NAMED_ENTITY, 0, claim_end, "CLAIM"), (NAMED_ENTITY, source, source + 6, "SOURCE")],
    )
    with (folder / "TypeSystem.xml").open("rb") as handle:
        ts = load_typesystem(handle)
    link = ts.create_type("webanno.custom.Attribution")
    for name, range_type in (("Governor", NAMED_ENTITY), ("Dependent", NAMED_ENTITY)):
        ts.create_feature(link, name, range_type)
    ts.create_feature(link, "value", "uima.cas.String")
    ts.create_feature(link, "quote_type", "uima.cas.String")
    xmi = folder / f"{DOCUMENT.id}.xmi"
    with xmi.open("rb") as handle:
        cas = load_cas_from_xmi(handle, typesystem=ts)
    claim, said = sorted(cas.select(NAMED_ENTITY), key=lambda fs: fs.begin)
    for value in ("attributed_to", "knows"):
        ends = {"Governor": claim, "Dependent": said, "begin": said.begin, "end": said.end}
        cas.add(link(value=value, quote_type="indirect", **ends))
    cas.to_xmi(xmi)
    (folder / "TypeSystem.xml").write_text(ts.to_xml(), encoding="utf-8")
    out = tmp_path / "ne.jsonl"
    done = run_cli("convert", folder, "--from", "inception", "--out", out, "--release", RELEASE)
    assert done.returncode == 0, done.stderr
    assert "2 annotations, 1 relations" in done.stdout
    assert "1 layer webanno.custom.Attribution" in done.stderr
    assert "value='knows': not a relation type of the schema" in done.stderr
    read = load_annotation_set(out)
    spans = {a.id: a.label for a in read.annotations}
    [relation] = read.relations
    assert (relation.type, spans[relation.head], spans[relation.tail]) == (
        "attributed_to",
        "CLAIM",
        "SOURCE",
    )
    assert relation.attributes == {"quote_type": "indirect"}
