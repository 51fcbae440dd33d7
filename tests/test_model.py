import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from claimwire import lines as line_reading
from claimwire import model
from claimwire.errors import ClaimwireError
from claimwire.model import (
    Annotation,
    Document,
    Quote,
    Relation,
    read_mixed,
    read_numbered,
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


def _annotation_line(i: int, **extra: object) -> dict[str, object]:
    return {"id": f"a{i}", "doc_id": "d", "layer": "x", "label": "y", **extra}


def test_typed_decoder_reads_without_the_per_field_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Valid files never reach ``from_dict``: the typed decoder checks them as it parses."""
    path = tmp_path / "annotations.jsonl"
    records = [
        Annotation(f"a{i}", "d", "x", "y", i, i + 1, Quote("z"), {"k": i}) for i in range(50)
    ]
    write_records(path, records)

    def refuse(record: object) -> Annotation:
        raise AssertionError("slow path taken for a valid file")

    monkeypatch.setattr(Annotation, "from_dict", classmethod(lambda cls, r: refuse(r)))
    assert list(read_records(path, Annotation)) == records


def test_blocks_keep_line_numbers_and_lenient_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Across small blocks, with blank lines and records only the slow path accepts (null
    attributes, a null quote prefix), reading gives what ``from_dict`` gives, line for line."""
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 64)
    lines = [_annotation_line(i) for i in range(30)]
    lines[7]["attributes"] = None
    lines[12]["quote"] = {"exact": "q", "prefix": None}
    text = "".join(json.dumps(line) + ("\n\n" if i == 20 else "\n") for i, line in enumerate(lines))
    path = tmp_path / "annotations.jsonl"
    path.write_text(text, encoding="utf-8")
    expected = [Annotation.from_dict(line) for line in lines]
    assert list(read_records(path, Annotation)) == expected
    numbered = list(read_numbered(path, Annotation))
    assert [n for n, _ in numbered] == [*range(1, 22), *range(23, 32)]
    assert [r for _, r in numbered] == expected
    bad = dict(lines[25], start=True, end=3)
    path.write_text(text.replace(json.dumps(lines[25]), json.dumps(bad)), encoding="utf-8")
    with pytest.raises(ClaimwireError) as caught:
        list(read_records(path, Annotation))
    assert (caught.value.line, caught.value.field) == (27, "start")


def test_mixed_file_reads_both_kinds_with_their_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 100)
    relation = {"id": "r", "doc_id": "d", "type": "t", "head": "a0", "tail": "a1"}
    lines = [_annotation_line(0), relation, _annotation_line(1, label="head"), _annotation_line(2)]
    path = tmp_path / "predictions.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    read = sorted(read_mixed(path), key=lambda row: row[0])
    assert read == [
        (1, Annotation.from_dict(lines[0])),
        (2, Relation.from_dict(relation)),
        (3, Annotation.from_dict(lines[2])),
        (4, Annotation.from_dict(lines[3])),
    ]
    path.write_text(json.dumps(lines[0]) + "\n" + json.dumps({**relation, "tail": 3}) + "\n")
    with pytest.raises(ClaimwireError) as caught:
        list(read_mixed(path))
    assert (caught.value.line, caught.value.field) == (2, "tail")


@given(
    st.lists(
        st.fixed_dictionaries(
            {"id": st.text(), "doc_id": st.text(), "layer": st.text(), "label": st.text()},
            optional={
                "start": st.one_of(st.none(), st.integers(), st.booleans(), st.floats()),
                "end": st.one_of(st.none(), st.integers(-5, 5)),
                "attributes": st.one_of(st.none(), st.dictionaries(st.text(), st.integers())),
                "author": st.one_of(st.none(), st.text(), st.integers()),
                "quote": st.one_of(
                    st.none(),
                    st.fixed_dictionaries({"exact": st.one_of(st.text(), st.none())}),
                ),
            },
        ),
        max_size=5,
    )
)
@example([{"id": "a", "doc_id": "d", "layer": "claims", "label": "CLAIM", "start": float("inf")}])
@example([{"id": "a", "doc_id": "d", "layer": "claims", "label": "CLAIM", "start": "x"}])
def test_fast_and_slow_paths_agree(lines: list[dict[str, object]]) -> None:
    """Whatever the typed decoder accepts, ``from_dict`` accepts with the same result; what it
    refuses gets the per-field error, and a line holding NaN or Infinity (not JSON) the
    not-JSON error, which names no field."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "annotations.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        decoded: list[Annotation] = []
        expected: list[Annotation] | str = decoded
        for line in lines:
            try:
                json.dumps(line, allow_nan=False)
            except ValueError:  # NaN or Infinity: not JSON, refused without a field
                expected = ""
                break
            try:
                decoded.append(Annotation.from_dict(line))
            except ClaimwireError as error:
                expected = error.field or ""
                break
        try:
            got: list[Annotation] | str = list(read_records(path, Annotation))
        except ClaimwireError as error:
            got = error.field or ""
        assert got == expected


def test_records_are_frozen_gc_free_and_behave_as_values() -> None:
    """The record classes are frozen and not tracked by the collector (no cycle can hold
    one: see ``model._Record``); a call fills the constructor's defaults, ``None`` for a
    mapping is an empty one, and equality, hashing, pickling and ``replaced`` work on the
    fields."""
    import gc
    import pickle

    quote = Quote("x")
    annotation = Annotation("a", "d", "claims", "CLAIM", quote=quote, attributes=None)
    assert not gc.is_tracked(annotation) and not gc.is_tracked(quote)
    assert annotation.attributes == {} and annotation.author == "gold" and quote.prefix == ""
    assert annotation == Annotation("a", "d", "claims", "CLAIM", None, None, Quote("x", "", ""))
    assert hash(quote) == hash(Quote("x", "", "")) and quote != Quote("y")
    assert pickle.loads(pickle.dumps(annotation)) == annotation
    moved = model.replaced(annotation, start=1, end=2)
    assert (moved.start, moved.end, moved.id, annotation.start) == (1, 2, "a", None)
    assert repr(quote) == "Quote(exact='x', prefix='', suffix='')"
    with pytest.raises(AttributeError):
        annotation.label = "X"  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing required argument: 'label'"):
        Annotation("a", "d", "claims")  # type: ignore[call-arg]
    document = Document("d", "t", None, "test", ((0, 1),), ((0, 1),))
    assert document.meta == {} and not gc.is_tracked(document)


def test_an_empty_author_is_refused_by_the_types_and_read_as_gold(tmp_path: Path) -> None:
    """The typed decoder refuses an empty author (no scan of the records): the block is read
    by ``from_dict``, which reads it as ``gold``."""
    path = tmp_path / "a.jsonl"
    write_records(
        path, [Annotation("a", "d", "x", "y", author=""), Relation("r", "d", "t", "a", "b")]
    )
    with pytest.raises(Exception, match="length"):
        model._decoder(Annotation).decode_lines(path.read_bytes().split(b"\n")[0])
    assert [r.author for _, r in read_mixed(path)] == ["gold", "gold"]


def test_a_mixed_file_is_split_by_kind_without_a_line_by_line_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """read_mixed finds the relation lines of a block with one scan: the lines are never
    listed one by one; lines that only look like relations (an attribute or a label named
    ``head``, a relation naming only ``tail``) go to the line by line path, which decides."""
    path = tmp_path / "predictions.jsonl"
    records: list[Annotation | Relation] = []
    for i in range(300):
        records.append(Annotation(f"a{i}", "d", "x", "y", i, i + 1, Quote("z"), {"k": i}))
        if i % 7 == 0:
            records.append(Relation(f"r{i}", "d", "t", f"a{i}", "a0"))
    write_records(path, records)
    listed = model.line_columns

    def refuse(first: int, chunk: bytes) -> object:
        raise AssertionError("lines listed one by one for a valid file")

    monkeypatch.setattr(model, "line_columns", refuse)
    got = sorted(read_mixed(path), key=lambda row: row[0])
    assert [r for _, r in got] == records and [n for n, _ in got] == list(range(1, 344))
    monkeypatch.setattr(model, "line_columns", listed)
    odd = [
        _annotation_line(0, label="head"),
        {**_annotation_line(1), "attributes": {"tail": 1, "head": 2}},
        {"id": "r", "doc_id": "d", "type": "t", "head": "a0", "tail": "a1"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in odd), encoding="utf-8")
    kinds = [Annotation, Annotation, Relation]
    assert sorted(read_mixed(path), key=lambda row: row[0]) == [
        (i + 1, kind.from_dict(line)) for i, (kind, line) in enumerate(zip(kinds, odd, strict=True))
    ]
    path.write_text(json.dumps({"id": "r", "doc_id": "d", "type": "t", "tail": "a1"}) + "\n")
    with pytest.raises(ClaimwireError) as caught:
        list(read_mixed(path))
    assert (caught.value.line, caught.value.field) == (1, "head")


def test_reading_holds_one_small_block_and_counts_no_lines_it_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 3 MB file is read a small block at a time (the traced peak stays far below the
    file's size: blocks of megabytes were fresh memory each time), and the lines of a
    block the typed decoder proved are numbered from its records (or, in a prediction file,
    from the line ends that split it by kind), never counted again."""
    import tracemalloc

    records = [
        Annotation(f"a{i}", f"d{i // 40}", "claims", "CLAIM", i, i + 9, Quote("x" * 9), {"k": i})
        for i in range(20_000)
    ]
    path = tmp_path / "annotations.jsonl"
    write_records(path, records)
    assert path.stat().st_size > 3_000_000

    def counted(chunk: bytes) -> int:
        raise AssertionError("the lines of a proved block were counted")

    monkeypatch.setattr(model, "lines_in", counted)
    tracemalloc.start()
    try:
        read = sum(1 for _ in read_records(path, Annotation))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read == len(records)
    assert peak < 2_000_000
    numbered = list(read_numbered(path, Annotation))
    assert [n for n, _ in numbered] == list(range(1, len(records) + 1))
    assert [r for _, r in numbered] == records
    mixed = tmp_path / "predictions.jsonl"
    relations = [Relation(f"r{i}", r.doc_id, "t", r.id, "a0") for i, r in enumerate(records)]
    write_records(mixed, [r for pair in zip(records, relations, strict=True) for r in pair])
    read_back = sorted(read_mixed(mixed), key=lambda row: row[0])
    assert [r for _, r in read_back[::2]] == records
    assert [r for _, r in read_back[1::2]] == relations
    assert [n for n, _ in read_back] == list(range(1, 2 * len(records) + 1))


def _read_line_by_line(path: Path) -> list[tuple[int, Annotation | Relation]]:
    """What the per-field checks read from each line of a prediction file, alone: the
    reference every block of :func:`read_mixed` must agree with."""
    lines = path.read_text(encoding="utf-8").split("\n")
    objects = [(n, json.loads(line)) for n, line in enumerate(lines, start=1) if line.strip()]
    return [
        (n, (Relation if "head" in obj or "tail" in obj else Annotation).from_dict(obj))
        for n, obj in objects
    ]


@pytest.mark.parametrize("block", [64, 300, 1000, 1 << 16])
@pytest.mark.parametrize("final_break", [True, False])
def test_relation_lines_are_cut_out_wherever_they_fall_in_a_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, final_break: bool
) -> None:
    """A block's relation lines are cut out where their key is found: first or last in a
    block, one after another, a block of relations only, the file's last line without a line
    break, a relation whose attributes name ``start``, ``end`` and ``head`` (the key found
    twice on its line) and an annotation whose label is ``start``. Every record comes with its
    line number, as the line by line reading gives it, each kind in file order, and no
    block is listed line by line."""
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", block)
    records: list[Annotation | Relation] = []
    for i in range(60):
        records.append(Annotation(f"a{i}", "d", "x", "start" if i % 4 else "y", i, i + 2))
        for j in range(3 if i % 5 == 2 else int(i % 7 == 0)):
            attributes = {"end": None, "start": "s", "head": "a0"} if j == 1 else {}
            records.append(Relation(f"r{i}.{j}", "d", "t", f"a{i}", "a0", attributes))
    records += [Relation(f"z{i}", "d", "t", "a1", "a2") for i in range(12)]
    path = tmp_path / "predictions.jsonl"
    write_records(path, records)
    if not final_break:
        path.write_bytes(path.read_bytes()[:-1])
    monkeypatch.setattr(model, "line_columns", None)  # no block goes line by line
    read = list(read_mixed(path))
    assert sorted(read, key=lambda row: row[0]) == list(enumerate(records, start=1))
    for kind in (Annotation, Relation):
        numbers = [n for n, r in read if isinstance(r, kind)]
        assert numbers == sorted(numbers)


def test_a_mixed_block_with_a_blank_line_or_a_line_of_neither_kind_reads_as_before(
    tmp_path: Path,
) -> None:
    """A blank line among a block's relations and annotations is skipped and the lines after
    it keep their numbers; a line that is neither kind (no ``layer``, no ``head``) is the
    per-field error naming its line and field, wherever it is in the block."""
    records: list[Annotation | Relation] = []
    for i in range(20):
        records.append(Annotation(f"a{i}", "d", "x", "y", i, i + 1, Quote("q"), {"k": i}))
        if i % 3 == 0:
            records.append(Relation(f"r{i}", "d", "t", f"a{i}", "a0"))
    path = tmp_path / "predictions.jsonl"
    write_records(path, records)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for blank in (0, 1, 5, len(lines)):
        path.write_text("".join([*lines[:blank], "\n", *lines[blank:]]), encoding="utf-8")
        assert sorted(read_mixed(path), key=lambda row: row[0]) == _read_line_by_line(path)
    neither = json.dumps({"id": "n", "doc_id": "d", "start": 1, "end": 2}) + "\n"
    for at in (0, 1, 4, len(lines)):
        path.write_text("".join([*lines[:at], neither, *lines[at:]]), encoding="utf-8")
        with pytest.raises(ClaimwireError) as caught:
            list(read_mixed(path))
        assert (caught.value.line, caught.value.field) == (at + 1, "layer")
