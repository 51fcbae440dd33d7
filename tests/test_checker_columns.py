"""The format checker's column checks: whatever they pass, the record-at-a-time checks they
stand in for would pass too (so they are never less strict), and a batch they pass is never
checked record by record."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.annotation.schema import load_schema
from claimwire.eval import checker
from claimwire.eval.checker import CheckReport, check_rows
from claimwire.eval.tasks import find_task
from claimwire.model import Annotation, Document, Relation

PATH = Path("p.jsonl")


def _rows(records: list[Annotation | Relation]) -> list[tuple[Path, int, Annotation | Relation]]:
    return [(PATH, line, record) for line, record in enumerate(records, 1)]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), max_size=8),
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.integers(0, 2)), max_size=8),
    st.booleans(),
)
def test_relations_passed_as_columns_pass_one_by_one(
    notes: list[tuple[int, int]], links: list[tuple[int, int, int]], elsewhere: bool
) -> None:
    """Heads and tails drawn among existing and missing ids, in the relation's document or
    another: when the column check passes, the per-relation check finds nothing."""
    annotations = [
        Annotation(f"a{i}", f"d{doc}", "claims", "CLAIM") for i, (doc, _) in enumerate(notes)
    ]
    relations = [
        Relation(f"r{i}", f"d{doc}", "attributed_to", f"a{head}", f"a{tail}")
        for i, (head, tail, doc) in enumerate(links)
    ]
    where = {("relation", r.id): (PATH, i) for i, r in enumerate(relations)}
    report = CheckReport(PATH)
    lookup = (lambda _: "d0") if elsewhere else None
    checker._check_links(annotations, relations, where, report, lookup)
    if checker._linked_at_home(annotations, relations):
        assert not report.problems


def test_a_batch_whose_relations_are_at_home_is_not_checked_relation_by_relation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = load_schema()
    task = find_task("attribution", schema)
    text = "Le maire a dit que tout va bien."
    document = Document("d0", text, "fr", "test", ((0, len(text)),), ((0, len(text)),))
    records: list[Annotation | Relation] = [
        Annotation("s", "d0", "attribution", "SOURCE", 0, 8),
        Annotation("c", "d0", "attribution", "CLAIM", 19, len(text) - 1),
        Relation("r", "d0", "attributed_to", "c", "s", {"quote_type": "indirect"}),
    ]

    def one_by_one(*args: object) -> None:
        raise AssertionError("relations checked one by one")

    monkeypatch.setattr(checker, "_check_links", one_by_one)
    report = check_rows(PATH, _rows(records), {"d0": document}, schema, task)
    assert report.relations == 1
    broken = [*records[:2], Relation("r", "d0", "attributed_to", "c", "nobody")]
    with pytest.raises(AssertionError, match="one by one"):
        check_rows(PATH, _rows(broken), {"d0": document}, schema, task)


SCHEMA = load_schema()
_ENDS = ["s0", "s1", "c0", "k0", "missing"]
relation = st.builds(
    lambda kind, head, tail, quote_type, cue, doc: Relation(
        "",
        f"d{doc}",
        kind,
        head,
        tail,
        {
            **({"quote_type": quote_type} if quote_type else {}),
            **({"cue": cue} if cue else {}),
        },
    ),
    st.sampled_from(["attributed_to", "evidence_of", "cites"]),
    st.sampled_from(_ENDS),
    st.sampled_from(_ENDS),
    st.sampled_from(["indirect", "direct", "shouted", 3, None]),
    st.sampled_from([None, "k0", "s0", "missing"]),
    st.integers(0, 1),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(relation, max_size=12))
def test_relation_findings_equal_each_relation_checked_alone(drawn: list[Relation]) -> None:
    """Relations of one key (type, ends' labels, attributes) are checked once: the findings
    are those of each relation checked alone, in order."""
    annotations = [
        Annotation("s0", "d0", "attribution", "SOURCE", 0, 2),
        Annotation("s1", "d1", "attribution", "SOURCE", 0, 2),
        Annotation("c0", "d0", "attribution", "CLAIM", 3, 9),
        Annotation("k0", "d0", "attribution", "CUE", 10, 12),
    ]
    relations = [
        Relation(f"r{i}", r.doc_id, r.type, r.head, r.tail, r.attributes)
        for i, r in enumerate(drawn)
    ]
    by_id = {a.id: a for a in annotations}
    alone = [
        (r.id, code, message)
        for r in relations
        for code, message in SCHEMA._relation_problems(r, by_id)
    ]
    found = [
        (f.record.id, f.code, f.message)
        for f in SCHEMA.findings(annotations, relations)
        if isinstance(f.record, Relation)
    ]
    assert found == alone


def test_relations_of_one_key_are_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    annotations = [
        Annotation("s", "d0", "attribution", "SOURCE", 0, 2),
        *(Annotation(f"c{i}", "d0", "claims", "CLAIM", 3 + i, 4 + i) for i in range(5)),
    ]
    relations = [
        Relation(f"r{i}", "d0", "attributed_to", f"c{i}", "s", {"quote_type": "indirect"})
        for i in range(5)
    ]
    calls: list[str] = []
    checked = type(SCHEMA)._relation_problems

    def counted(self: object, relation: Relation, by_id: object) -> object:
        calls.append(relation.id)
        return checked(self, relation, by_id)  # type: ignore[arg-type]

    monkeypatch.setattr(type(SCHEMA), "_relation_problems", counted)
    assert not [f for f in SCHEMA.findings(annotations, relations) if f.code != "missing-attribute"]
    assert calls == ["r0"]


def test_a_row_given_twice_is_a_duplicate_id() -> None:
    """The same row object twice in a batch is one id twice: refused, not scored twice."""
    schema = load_schema()
    task = find_task("claims", schema)
    text = "Le maire a dit que tout va bien."
    document = Document("d0", text, "fr", "test", ((0, len(text)),), ((0, len(text)),))
    rows = _rows([Annotation("c", "d0", "claims", "CLAIM", 0, 8)])
    report = check_rows(PATH, [rows[0], *rows], {"d0": document}, schema, task)
    assert report.problems == ["p.jsonl:1: field 'id': duplicate annotation id 'c'"]
