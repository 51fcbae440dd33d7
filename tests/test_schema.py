"""The schema loader, its level-4 checks and the disclosure scores."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from claimwire.annotation.schema import CODES, Schema, load_schema
from claimwire.errors import ClaimwireError
from claimwire.model import Annotation, Quote, Relation

from .helpers import REPO

SCHEMA = REPO / "annotation" / "schema.yaml"


@pytest.fixture(scope="module")
def schema():  # type: ignore[no-untyped-def]
    return load_schema(SCHEMA)


def test_schema_defines_every_layer(schema) -> None:  # type: ignore[no-untyped-def]
    assert set(schema.layers) == {"claims", "attribution", "statistics", "stance"}
    assert schema.labels_of("attribution") == ["SOURCE", "CUE", "CONTENT"]
    assert schema.attribute("CLAIM", "claim_type").values[-1] == "not_a_claim"
    # stance targets are TARGET items of each document, not a list in the schema
    assert schema.stance_targets == {}
    assert schema.attribute("STANCE", "target").labels == ("TARGET",)
    assert schema.labels["TARGET"].scope == "either" and schema.labels["TARGET"].may_span
    assert schema.attribute("STANCE", "stance").values == ("FAVOR", "AGAINST", "NONE")
    survey = schema.labels["SURVEY"]
    assert not survey.is_span and schema.is_survey("SURVEY")
    core = [f for f, spec in schema.disclosure_fields.items() if spec.tier == "core"]
    assert core == ["conductor", "sponsor", "sample_size", "fieldwork_dates", "population", "mode"]
    assert len(schema.disclosure_fields) == 15


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = SCHEMA.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "schema.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message", "field"),
    [
        (
            "type: boolean",
            "type: flag",
            "unknown type 'flag'",
            "layers.claims.labels.CLAIM.attributes.checkworthy.type",
        ),
        (
            "CLAIM:\n        scope: span",
            "CLAIM:\n        scope: paragraph",
            "expected scope span, document or either",
            "layers.claims.labels.CLAIM.scope",
        ),
        (
            "tail: [SOURCE]",
            "tail: [SOURCES]",
            "expected known labels",
            "relations.attributed_to.tail",
        ),
        ("values_from: disclosure", "values_from: checklist", "expected one of", None),
        (
            "tier: core",
            "tier: central",
            "expected tier core or extended",
            "disclosure.fields.conductor.tier",
        ),
        ("version: 1.1.0", "version: [1]", "expected a string", "version"),
    ],
)
def test_broken_schema_is_a_located_error(
    tmp_path: Path, old: str, new: str, message: str, field: str | None
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ClaimwireError) as caught:
        load_schema(path)
    error = caught.value
    assert message in error.message
    assert error.file == str(path) and error.line is not None
    if field:
        assert error.field == field


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text("name: x\nversion: [1.0\nlayers: {}\n", encoding="utf-8")
    with pytest.raises(ClaimwireError) as caught:
        load_schema(path)
    assert caught.value.line == 3 and "not valid YAML" in caught.value.message


def _span(label: str, layer: str, **attributes: object) -> Annotation:
    return Annotation(f"d:{label}", "d", layer, label, 0, 4, Quote("abcd"), attributes)


def _codes(schema, annotations, relations=()):  # type: ignore[no-untyped-def]
    return {f.code for f in schema.findings(annotations, list(relations))}


def test_findings_cover_every_code(schema) -> None:  # type: ignore[no-untyped-def]
    source = _span("SOURCE", "attribution", source_kind="person", named=True)
    cue = _span("CUE", "attribution")
    claim = _span("CLAIM", "claims", claim_type="quantity", checkworthy=True)
    assert _codes(schema, [source, cue, claim]) == set()
    cases = {
        "unknown-label": [_span("RUMOUR", "claims")],
        "wrong-layer": [_span("CUE", "claims")],
        "wrong-scope": [
            Annotation(
                "d:s",
                "d",
                "stance",
                "STANCE",
                0,
                3,
                None,
                {"holder": "issuer", "target": "BRI", "stance": "NONE"},
            )
        ],
        "missing-attribute": [_span("CLAIM", "claims", claim_type="quantity")],
        "unknown-attribute": [_span("CUE", "attribution", strength="high")],
        "bad-attribute-value": [_span("CLAIM", "claims", claim_type="rumour", checkworthy=True)],
        "bad-reference": [
            source,
            cue,
            Annotation(
                "d:st",
                "d",
                "stance",
                "STANCE",
                None,
                None,
                None,
                {"holder": cue.id, "target": "BRI", "stance": "FAVOR"},
            ),
        ],
    }
    for code, records in cases.items():
        assert code in _codes(schema, records), code
    relation = Relation(
        "d:r", "d", "attributed_to", claim.id, source.id, {"quote_type": "indirect", "cue": cue.id}
    )
    assert _codes(schema, [source, cue, claim], [relation]) == set()
    backwards = Relation("d:r", "d", "attributed_to", source.id, claim.id, {"quote_type": "direct"})
    assert "relation-label" in _codes(schema, [source, claim], [backwards])
    assert "unknown-relation" in _codes(
        schema, [source, claim], [Relation("d:x", "d", "quotes", claim.id, source.id)]
    )
    wrong_cue = Relation(
        "d:r", "d", "attributed_to", claim.id, source.id, {"quote_type": "direct", "cue": source.id}
    )
    assert "bad-reference" in _codes(schema, [source, claim], [wrong_cue])
    survey = Annotation(
        "d:survey", "d", "statistics", "SURVEY", attributes=_survey_attributes(schema)
    )
    assert "evidence-mismatch" in _codes(schema, [survey])
    evidence = _span("DISCLOSURE", "statistics", field="conductor")
    linked = Relation("d:e", "d", "evidence_of", evidence.id, survey.id)
    assert _codes(schema, [survey, evidence], [linked]) == set()
    covered = {
        "unknown-label",
        "wrong-layer",
        "wrong-scope",
        "missing-attribute",
        "unknown-attribute",
        "bad-attribute-value",
        "bad-reference",
        "relation-label",
        "unknown-relation",
        "evidence-mismatch",
    }
    assert covered == set(CODES)


def _survey_attributes(schema) -> dict[str, object]:  # type: ignore[no-untyped-def]
    attributes: dict[str, object] = {f: "absent" for f in schema.disclosure_fields}
    attributes.update(
        conductor="present",
        subgroup_bases="not_applicable",
        name="poll",
        sampling_type="unknown",
        self_selected=False,
        sponsor_is_interested_party="yes",
        sponsor_is_publisher=False,
    )
    return attributes


def test_disclosure_scores(schema) -> None:  # type: ignore[no-untyped-def]
    attributes = _survey_attributes(schema)
    attributes.update(sponsor="partial", fieldwork_dates="partial", question_wording="partial")
    survey = Annotation("s", "d", "statistics", "SURVEY", attributes=attributes)
    scores = schema.disclosure_scores(survey)
    assert scores["core"] == pytest.approx(2 / 6)
    # core: weight 2 × (1 + 0.5 + 0.5) over 6 fields; extended: 0.5 over 8 applicable fields
    assert scores["full"] == pytest.approx((2 * 2.0 + 0.5) / (2 * 6 + 8))
    summary = schema.summarize([survey], [])
    assert summary["surveys"][0]["flags"] == ["sponsor_is_interested_party"]
    survey.attributes["sponsor_is_interested_party"] = "unknown"  # the text does not say
    assert schema.summarize([survey], [])["surveys"][0]["flags"] == []
    assert summary["layers"]["statistics"] == 1


def test_targets_belong_to_their_document(schema) -> None:  # type: ignore[no-untyped-def]
    anchored = _span("TARGET", "stance", name="the treaty")
    floating = Annotation("d:t2", "d", "stance", "TARGET", attributes={"name": "cooperation"})
    assert _codes(schema, [anchored, floating]) == set()  # offsets optional
    stance = Annotation(
        "d:s", "d", "stance", "STANCE", attributes={"holder": "issuer", "target": floating.id}
    )
    stance.attributes["stance"] = "FAVOR"
    assert _codes(schema, [floating, stance]) == set()
    elsewhere = Annotation("e:t", "e", "stance", "TARGET", attributes={"name": "cooperation"})
    stance.attributes["target"] = elsewhere.id
    assert _codes(schema, [floating, elsewhere, stance]) == {"bad-reference"}
    stance.attributes["target"] = "BRI"  # the schema lists no targets any more
    assert _codes(schema, [floating, stance]) == {"bad-reference"}


_VALUES = st.one_of(
    st.sampled_from(["quantity", "other", "FAVOR", "issuer", "t1", "", " "]),
    st.booleans(),
    st.integers(-1, 2),
    st.sampled_from([0.0, -0.0, 1.0, float("nan")]),
    st.lists(st.just("x"), max_size=1),
    st.none(),
)


def _assert_shared_findings_are_each_ones(schema: Schema, annotations: list[Annotation]) -> None:
    """Findings computed for a batch at once equal each annotation's checked alone."""
    together = [(f.record.id, f.code, f.message) for f in schema.findings(annotations, [])]
    alone = [
        (f.record.id, f.code, f.message)
        for a in annotations
        for f in schema.findings([a], [], context=annotations)
    ]
    assert together == alone


@settings(max_examples=200, deadline=None)
@example(  # equal values of another type, or shown otherwise, are not the same finding
    [
        ("CLAIM", "claims", True, {"checkworthy": True, "claim_type": 0.0}),
        ("CLAIM", "claims", True, {"checkworthy": 1, "claim_type": -0.0}),
        ("CLAIM", "claims", True, {"checkworthy": 1, "claim_type": 0.0}),
    ]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["CLAIM", "STANCE", "TARGET", "SURVEY", "NOPE"]),
            st.sampled_from(["claims", "stance", "statistics"]),
            st.booleans(),
            st.dictionaries(
                st.sampled_from(["claim_type", "checkworthy", "holder", "target", "stance", "x"]),
                _VALUES,
                max_size=3,
            ),
        ),
        max_size=25,
    )
)
def test_findings_shared_by_equal_annotations_are_each_ones_own(
    drawn: list[tuple[str, str, bool, dict[str, object]]],
) -> None:
    """Annotations saying the same thing share their findings; each one checked alone (the
    others as context, so references resolve the same) finds the same."""
    schema = load_schema()
    annotations = [
        Annotation(
            f"a{i}", "d", layer, label, *((0, 4) if span else (None, None)), attributes=attributes
        )
        for i, (label, layer, span, attributes) in enumerate(drawn)
    ]
    _assert_shared_findings_are_each_ones(schema, annotations)


def test_equal_annotations_are_checked_once_per_batch(
    schema,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    checked: list[str] = []
    problems = Schema._annotation_problems

    def spy(self, annotation, by_id):  # type: ignore[no-untyped-def]
        checked.append(annotation.id)
        return problems(self, annotation, by_id)

    monkeypatch.setattr(Schema, "_annotation_problems", spy)
    annotations = [
        Annotation(
            f"c{i}",
            "d",
            "claims",
            "CLAIM",
            i,
            i + 1,
            attributes={"claim_type": "quantity" if i % 2 else "oops"},
        )
        for i in range(100)
    ]
    found = list(schema.findings(annotations, []))
    assert len(checked) == 2  # one per distinct (label, layer, scope, attributes)
    assert sorted({f.record.id for f in found if f.code == "bad-attribute-value"}) == sorted(
        f"c{i}" for i in range(0, 100, 2)
    )


def test_a_batch_shares_findings_only_between_values_of_one_json_text_and_type() -> None:
    """Values whose JSON text is the same but that are not the same value — NaN and null,
    a Decimal and its string — keep their own findings (the batch's keys fall back to each
    annotation's own)."""
    schema = load_schema()
    sets = [
        [
            {"checkworthy": True, "claim_type": float("nan")},
            {"checkworthy": True, "claim_type": None},
        ],
        [
            {"checkworthy": Decimal("1"), "claim_type": "other"},
            {"checkworthy": "1", "claim_type": "other"},
        ],
    ]
    for attribute_sets in sets:
        annotations = [
            Annotation(f"a{i}", "d", "claims", "CLAIM", 0, 4, attributes=attributes)
            for i, attributes in enumerate(attribute_sets)
        ]
        _assert_shared_findings_are_each_ones(schema, annotations)


def test_a_decimal_attribute_must_be_finite(schema) -> None:  # type: ignore[no-untyped-def]
    """ "NaN", "Infinity" and "sNaN" parse as decimals but are not numbers a figure can have
    (before: they passed, and crashed the interval sums downstream)."""

    def figure(value: str) -> list[Annotation]:
        return [_span("NUM_STAT", "statistics", value=value, unit="count", qualifier="exact")]

    for value in ("NaN", "Infinity", "-Infinity", "inf", "sNaN"):
        [finding] = schema.findings(figure(value), [])
        assert finding.code == "bad-attribute-value" and "not a finite decimal" in finding.message
    for value in ("92.4", "-3", "1e999"):
        assert _codes(schema, figure(value)) == set()


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [  # each name once became a path, a BRAT type or a Label Studio control it could not undo
        (
            "      CLAIM:\n",
            "      KEY__FIG:\n",
            "layers.claims.labels.KEY__FIG",
            "joined by single",
        ),
        ("      CLAIM:\n", "      MY LABEL:\n", "layers.claims.labels.MY LABEL", "got 'MY LABEL'"),
        ("  claims:\n", "  a/b:\n", "layers.a/b", "got 'a/b'"),
        ("  claims:\n", "  full:\n", "layers.full", "(full.xml) has that name"),
        ("  statistics:\n", "  Claims:\n", "layers.Claims", "layer 'claims' has that name"),
        (
            "          claim_type:\n",
            "          claim_:\n",
            "CLAIM.attributes.claim_",
            "got 'claim_'",
        ),
        ("  attributed_to:\n", "  attributed to:\n", "relations.attributed to", "got 'attri"),
        ("    conductor:\n", "    conduc__tor:\n", "disclosure.fields.conduc__tor", "got 'con"),
        ("[FAVOR, AGAINST", "[FAV=OR, AGAINST", "STANCE.attributes.stance.values", "no '='"),
        ("  evidence_of:\n", "  Attributed_to:\n", "relations.Attributed_to", "relation 'attri"),
    ],
)
def test_schema_names_are_refused_where_they_cannot_come_back(
    tmp_path: Path, old: str, new: str, field: str, expected: str
) -> None:
    path = _broken(tmp_path, old, new)
    line = 1 + path.read_text(encoding="utf-8").split(new)[0].count("\n")
    with pytest.raises(ClaimwireError) as caught:
        load_schema(path)
    error = caught.value
    assert error.file == str(path) and error.line == line and error.field is not None
    assert error.field.endswith(field) and expected in str(error)


def test_a_release_s_own_schema_is_read_as_it_was_built(tmp_path: Path) -> None:
    """The name rules apply to a schema given to build, config, push: a schema a release
    carries (built before them) is read without them, so the release still reads; a choice
    value with '=' is refused only in stance values, the one place it is a separator."""
    path = _broken(
        tmp_path, "      CLAIM:\n", "      KEY__FIG:\n        scope: span\n      CLAIM:\n"
    )
    with pytest.raises(ClaimwireError, match="KEY__FIG"):
        load_schema(path)
    assert load_schema(path, strict=False).labels["KEY__FIG"].layer == "claims"
    path = _broken(tmp_path, "[quantity, correlation", "[quantity, '>=65', correlation")
    assert load_schema(path).attribute("CLAIM", "claim_type").values[1] == ">=65"


def test_a_release_built_before_the_name_rules_still_reads(seed_release: Path) -> None:
    """A release whose shipped schema names a label ``KEY__FIG`` (built before the rules,
    listed with its checksum) still opens with that schema: every reader gets it through
    ``release_schema``, which reads it as it was built."""
    import json

    from claimwire.annotation.checks import release_schema
    from claimwire.corpus.release import DIGEST, manifest_digest
    from claimwire.files import sha256

    schema = seed_release / "schema.yaml"
    text = SCHEMA.read_text(encoding="utf-8")
    schema.write_text(
        text.replace("      CLAIM:\n", "      KEY__FIG:\n        scope: span\n      CLAIM:\n", 1),
        encoding="utf-8",
    )
    manifest = json.loads((seed_release / "MANIFEST.json").read_text(encoding="utf-8"))
    manifest["files"]["schema.yaml"] = {"sha256": sha256(schema), "bytes": schema.stat().st_size}
    manifest[DIGEST] = manifest_digest(manifest)
    (seed_release / "MANIFEST.json").write_text(json.dumps(manifest), encoding="utf-8")
    read = release_schema(seed_release)
    assert read is not None and read.labels["KEY__FIG"].layer == "claims"
