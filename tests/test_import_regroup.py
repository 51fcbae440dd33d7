"""``claimwire convert --from`` when a document's records are not together (a reader's units
that name no document, an id in two batches): the import is read again to disk and checked a
batch of whole documents at a time, never as one batch of every document; what it writes,
and the error it gives, are the whole import's. A document a format's reader meets in two
units (two doccano lines or JSON-MIN tasks far apart, a CoNLL document given twice) is
refused, naming both places."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claimwire.formats import convert, regroup
from claimwire.formats.base import Imported
from claimwire.formats.convert import FORMATS, export_set, import_set, import_to
from claimwire.model import Document, replaced, write_records

from .helpers import watch_checks
from .test_import_streaming import SCHEMA, _copies, _error

Split = Callable[[Path], None]


def _split_doccano(path: Path) -> None:
    """The first line's entities that no relation names stay; the others and the relations
    go to a line of the same document at the end."""
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    first = lines[0]
    linked = {r[end] for r in first["relations"] for end in ("from_id", "to_id")}
    early = [e for e in first["entities"] if e["id"] not in linked]
    late = [e for e in first["entities"] if e["id"] in linked]
    assert early and late
    lines[0] = first | {"entities": early, "relations": []}
    lines.append(first | {"entities": late})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")


def _split_json_min(path: Path) -> None:
    """A last task on the first task's document, with one of its claims again (as the
    first region of its task: the first task's first region's id)."""
    tasks = json.loads(path.read_text("utf-8"))
    first = tasks[0]
    claim = next(span for span in first["label"] if span["labels"] == ["CLAIM"])
    keep = ("doc_id", "text", "annotator", "annotation_id")
    tasks.append({k: first[k] for k in keep} | {"id": len(tasks) + 1, "label": [claim]})
    path.write_text(json.dumps(tasks), "utf-8")


def _split_conll(path: Path) -> None:
    """The first document's block given again at the end."""
    text = path.read_text("utf-8")
    second = text.index("-DOCSTART-", 1)
    path.write_text(text + text[:second], "utf-8")


SPLITS: dict[str, tuple[str, Split]] = {
    "doccano": ("doccano.jsonl", _split_doccano),
    "label-studio-min": ("min.json", _split_json_min),
    "conll": ("export.conll", _split_conll),
}


def _whole(name: str, path: Path, documents: dict[str, Document], out: Path) -> str | None:
    """What the import checked whole writes to ``out``, or its error."""
    try:
        found = import_set(name, path, documents, SCHEMA)
    except convert.ClaimwireError as error:
        return str(error)
    write_records(out, [*found.annotation_set.annotations, *found.annotation_set.relations])
    return None


@pytest.mark.parametrize("name", SPLITS)
@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_a_split_document_is_refused_naming_both_places_never_all_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, batch: int
) -> None:
    """A document a format's reader meets in two units (two lines, tasks, blocks) is one
    error naming both, as the whole import gives it (was: merged, or its ids blamed)."""
    documents, gold = _copies()
    file, split = SPLITS[name]
    path = tmp_path / file
    export_set(name, path, list(documents.values()), gold, SCHEMA)
    split(path)
    error = _whole(name, path, documents, tmp_path / "whole.jsonl")
    unit = {"doccano": "line", "label-studio-min": "item", "conll": "line"}[name]
    assert error is not None and error.startswith(f"document copie-0: {unit}s 1 and "), error

    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", batch)
    checked = watch_checks(monkeypatch, convert, regroup)
    out = tmp_path / "sub" / "out.jsonl"
    assert _error(lambda: import_to(name, path, out, documents, SCHEMA)) == error
    assert not (tmp_path / "sub").exists()
    assert max(len(set(call)) for call in checked) <= batch  # never every document at once


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_every_kind_of_problem_of_a_split_import_comes_in_the_whole_import_s_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Repeated ids, a relation to another document's annotation, unknown labels and a
    dangling relation, on documents whose records come in several units far apart."""
    documents, gold = _copies()
    ids = list(documents)
    seed = gold.annotations[0]

    def note(k: int, doc: int, label: str = "CLAIM", ann_id: str | None = None) -> Any:
        return replaced(seed, id=ann_id or f"a{k}", doc_id=ids[doc], label=label)

    def link(k: int, doc: int, head: str, tail: str) -> Any:
        relation = next(r for r in gold.relations if r.type == "attributed_to")
        return replaced(relation, id=f"r{k}", doc_id=ids[doc], head=head, tail=tail)

    units = [
        Imported([(tmp_path / "u0", 1, note(0, 0)), (tmp_path / "u0", 2, note(1, 0, "NOPE"))]),
        Imported(
            [(tmp_path / "u1", 1, note(2, 1))], [(tmp_path / "u1", 3, link(0, 1, "a2", "a0"))]
        ),
        Imported([(tmp_path / "u2", 1, note(3, 2, "NOPE")), (tmp_path / "u2", 2, note(4, 2))]),
        Imported([(tmp_path / "u3", 1, note(5, 3, ann_id="a0"))]),  # a0 again
        Imported(
            [(tmp_path / "u4", 1, note(6, 0, "NOPE"))],
            [(tmp_path / "u4", 2, link(1, 0, "a6", "ghost"))],
        ),
        Imported(
            [(tmp_path / "u5", 1, note(7, 4))], [(tmp_path / "u5", 2, link(0, 4, "a7", "a7"))]
        ),
    ]
    spec = dataclasses.replace(FORMATS["doccano"], read=lambda *args: iter(units))
    monkeypatch.setitem(FORMATS, "doccano", spec)
    whole = _error(lambda: import_set("doccano", tmp_path, documents, SCHEMA))
    for expected in (
        "duplicate annotation id",
        "duplicate relation id",
        "is in document",
        "'ghost'",
        "unknown-label",
    ):
        assert expected in whole, whole
    monkeypatch.setattr(convert, "BATCH_DOCUMENTS", batch)
    checked = watch_checks(monkeypatch, convert, regroup)
    out = tmp_path / "out.jsonl"
    assert _error(lambda: import_to("doccano", tmp_path, out, documents, SCHEMA)) == whole
    assert max(len(set(call)) for call in checked) <= batch


def _failed_elsewhere(tmp_path: Path, case: str) -> list[Imported]:
    """Units where a relation names an annotation of another document that fails its own
    check: bad offsets (``cross``), or the failed first copy of a repeated id (``repeat``)."""
    documents, gold = _copies()
    ids = list(documents)
    seed = gold.annotations[0]
    relation = replaced(next(r for r in gold.relations if r.type == "attributed_to"), head="a1")
    far = replaced(seed, id="a0", doc_id=ids[0], start=5, end=10**6)
    units = [
        Imported([(tmp_path / "u0", 1, far)]),
        Imported(
            [(tmp_path / "u1", 1, replaced(seed, id="a1", doc_id=ids[1]))],
            [(tmp_path / "u1", 2, replaced(relation, id="r0", doc_id=ids[1], tail="a0"))],
        ),
        Imported([(tmp_path / "u2", 1, replaced(seed, id="a2", doc_id=ids[0]))]),  # doc 0 again
    ]
    if case == "repeat":  # a good copy of a0 later, in a third document
        units.append(Imported([(tmp_path / "u3", 1, replaced(seed, id="a0", doc_id=ids[2]))]))
    return units


def _same_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, units: list[Imported], batch: int
) -> tuple[str, str]:
    """The error of the import checked whole, and of the import regrouped ``batch``
    documents at a time, of the reader giving ``units``."""
    spec = dataclasses.replace(FORMATS["doccano"], read=lambda *args: iter(units))
    monkeypatch.setitem(FORMATS, "doccano", spec)
    documents, _ = _copies()
    whole = _error(lambda: import_set("doccano", tmp_path, documents, SCHEMA))
    with monkeypatch.context() as batched:
        batched.setattr(convert, "BATCH_DOCUMENTS", batch)
        out = tmp_path / "out.jsonl"
        return whole, _error(lambda: import_to("doccano", tmp_path, out, documents, SCHEMA))


@pytest.mark.parametrize("case", ["cross", "repeat"])
@pytest.mark.parametrize("batch", [1, 2])
def test_a_batch_s_check_does_not_see_what_the_whole_check_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, batch: int
) -> None:
    """A relation naming another document's annotation whose span is outside its text: the
    whole check has no such annotation, so neither has a batch's."""
    units = _failed_elsewhere(tmp_path, case)
    whole, regrouped = _same_problems(tmp_path, monkeypatch, units, batch)
    assert "field 'tail': no annotation with id 'a0'" in whole, whole
    assert regrouped == whole


def _random_units(tmp_path: Path, draw: random.Random) -> list[Imported]:
    """One document's records a unit, documents split across units, ids repeated, spans
    outside their text, relations and ``cue`` references across documents; one bad span at
    least (so the import is refused)."""
    documents, gold = _copies()
    ids = list(documents)
    seeds = list(gold.annotations[:12])
    relations = [r for r in gold.relations if "cue" in r.attributes][:1] + list(gold.relations[:3])
    pool = [f"a{k}" for k in range(8)]
    units = []
    for number in range(draw.randint(3, 8)):
        doc_id, file = draw.choice(ids), tmp_path / f"u{number}"
        spans = []
        for _ in range(draw.randint(1, 3)):
            span = replaced(draw.choice(seeds), id=draw.choice(pool), doc_id=doc_id)
            if draw.random() < 0.3 or (not units and not spans):
                span = replaced(span, start=5, end=10**6)
            spans.append(span)
        links = []
        for k in range(draw.randint(0, 2)):
            head, tail = draw.choice(pool), draw.choice(pool)
            link = replaced(draw.choice(relations), id=f"r{draw.randint(0, 5)}", doc_id=doc_id)
            cue = {"cue": draw.choice(pool)} if "cue" in link.attributes else {}
            link = replaced(link, head=head, tail=tail, attributes=link.attributes | cue)
            links.append((file, 10 + k, link))
        units.append(Imported([(file, k, a) for k, a in enumerate(spans, 1)], links))
    return units


def test_a_batch_s_check_gives_the_whole_check_s_problems_on_random_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeded random imports whose failed annotations are named from other documents: the
    regrouped check's problems (count, order, text) are the whole check's."""
    for seed in range(40):
        units = _random_units(tmp_path, random.Random(seed))
        for batch in (1, 2):
            whole, regrouped = _same_problems(tmp_path, monkeypatch, units, batch)
            assert regrouped == whole, (seed, batch)
