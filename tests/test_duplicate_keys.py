"""A key named twice in a record line is refused by every reader, fast path included.

The typed decoder (msgspec) keeps the last value of a repeated key; the fast path proves
each block free of repeats by counting its strings (claimwire.strict_json). These tests
write lines the way a hostile or careless producer would (whitespace around colons, keys
spelled with escapes, quotes and backslashes in values, values equal to key names, unknown
keys, nested objects) and check: a repeat anywhere is the located error naming the key; a
clean line reads exactly as the per-field checks read it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire import model
from claimwire.errors import ClaimwireError
from claimwire.lines import numbered_lines
from claimwire.model import (
    Annotation,
    Document,
    Quote,
    Relation,
    decode_numbered,
    read_mixed,
    read_numbered,
    read_records,
    write_records,
)
from claimwire.names import author_problem


class Pairs(list[tuple[str, Any]]):
    """A JSON object as written: keys in order, repeats allowed (a value may be Pairs too)."""


TRICKY = [
    "label",
    "id",
    "quote",
    '"',
    '\\"',
    "\\",
    '":',
    '" :',
    "\\u0022",
    '{"label":"X"}',
    "é",
    "« guillemets »",
    "\t",
]
WHITESPACE = ["", "", "", " ", "\t", "  ", "\r"]
KEYS = ["polarity", "hedged", "n", "label", "id", "exact", "é", 'a"b', "a\\b"]


def _text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(TRICKY), st.text(max_size=8))


def _scalar() -> st.SearchStrategy[Any]:
    return st.one_of(_text(), st.integers(-3, 3), st.booleans(), st.none(), st.floats(0, 1))


def _value() -> st.SearchStrategy[Any]:
    """Attribute values: scalars, lists and objects (as Pairs), a little nested."""
    return st.recursive(
        _scalar(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=3).map(_unique),
        ),
        max_leaves=6,
    )


def _unique(pairs: list[tuple[str, Any]]) -> Pairs:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        seen.setdefault(key, value)
    return Pairs(seen.items())


def _attributes() -> st.SearchStrategy[Pairs]:
    return st.lists(st.tuples(st.sampled_from(KEYS), _value()), max_size=4).map(_unique)


def _annotation() -> st.SearchStrategy[Pairs]:
    quote = st.one_of(
        st.none(),
        st.tuples(_text(), _text(), _text()).map(
            lambda t: Pairs([("exact", t[0]), ("prefix", t[1]), ("suffix", t[2])])
        ),
    )
    return st.tuples(
        st.lists(_text(), min_size=4, max_size=4),
        st.one_of(st.none(), st.integers(0, 50)),
        quote,
        _attributes(),
        _text().filter(lambda author: author_problem(author) is None),  # a name: not "\t"
    ).map(
        lambda t: Pairs(
            [
                ("id", t[0][0]),
                ("doc_id", t[0][1]),
                ("layer", t[0][2]),
                ("label", t[0][3]),
                ("start", t[1]),
                ("end", None if t[1] is None else t[1] + 3),
                ("quote", t[2]),
                ("attributes", t[3]),
                ("author", t[4]),
            ]
        )
    )


def _relation() -> st.SearchStrategy[Pairs]:
    return st.tuples(st.lists(_text(), min_size=5, max_size=5), _attributes()).map(
        lambda t: Pairs(
            [
                *zip(("id", "doc_id", "type", "head", "tail"), t[0], strict=True),
                ("attributes", t[1]),
                ("author", "gold"),
            ]
        )
    )


def _objects(pairs: Pairs) -> Iterator[Pairs]:
    """Every object of a record, the record first."""
    yield pairs
    for _, value in pairs:
        yield from _nested(value)


def _nested(value: Any) -> Iterator[Pairs]:
    if isinstance(value, Pairs):
        yield from _objects(value)
    elif isinstance(value, list):
        for item in value:
            yield from _nested(item)


def _encode_key(key: str, escape: bool) -> str:
    if not escape:
        return json.dumps(key, ensure_ascii=False)
    spelled = (f"\\u{ord(c):04x}" if c.isalnum() else json.dumps(c)[1:-1] for c in key)
    return '"' + "".join(spelled) + '"'


def _dump(value: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    """JSON text of ``value`` (Pairs as objects), with drawn whitespace and key spellings."""
    if isinstance(value, Pairs):
        items = []
        for key, item in value:
            space = draw(st.sampled_from(WHITESPACE)), draw(st.sampled_from(WHITESPACE))
            escape = draw(st.integers(0, 9)) == 0
            items.append(f"{_encode_key(key, escape)}{space[0]}:{space[1]}{_dump(item, draw)}")
        return "{" + ("," + draw(st.sampled_from(WHITESPACE))).join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(item, draw) for item in value) + "]"
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


def _with_repeat(pairs: Pairs, draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    """Name one key of one object twice (a value of the same kind, so the types accept it);
    return the key."""
    objects = [o for o in _objects(pairs) if o]
    target = draw(st.sampled_from(objects))
    key, value = draw(st.sampled_from(target))
    if draw(st.integers(0, 4)) == 0:  # an unknown key, named twice
        key, value = "unknown", 1
        target.insert(draw(st.integers(0, len(target))), (key, value))
    target.insert(draw(st.integers(0, len(target))), (key, value))
    return key


def _as_plain(value: Any) -> Any:
    """Pairs (no repeats) as the dicts ``json.loads`` gives."""
    if isinstance(value, Pairs):
        return {k: _as_plain(v) for k, v in value}
    if isinstance(value, list):
        return [_as_plain(v) for v in value]
    return value


OPTIONAL = ["start", "quote", "attributes", "author", "prefix", "suffix"]


def _leave_out(pairs: Pairs, names: set[str]) -> None:
    """Drop the fields ``names`` (start and end together) from a record and its quote."""
    if "start" in names:
        names = names | {"end"}
    pairs[:] = [(key, value) for key, value in pairs if key not in names]
    for key, value in pairs:
        if key == "quote" and value is not None:
            _leave_out(value, names & {"prefix", "suffix"})


READERS: dict[str, Callable[[Path], list[Any]]] = {
    "read_mixed": lambda p: [r for _, r in sorted(read_mixed(p), key=lambda x: x[0])],
    "decode_numbered": lambda p: [
        r
        for _, r in sorted(
            decode_numbered(p, numbered_lines(1, p.read_bytes())), key=lambda x: x[0]
        )
    ],
}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_repeated_key_anywhere_is_refused_and_clean_lines_read_as_before(
    data: st.DataObject,
) -> None:
    records = data.draw(
        st.lists(st.one_of(_annotation(), _relation()), min_size=1, max_size=6), label="records"
    )
    for pairs in records:  # fields with a default may be left out, or written with it
        _leave_out(pairs, data.draw(st.sets(st.sampled_from(OPTIONAL)), label="left out"))
    bad = data.draw(st.one_of(st.none(), st.integers(0, len(records) - 1)), label="bad line")
    key = _with_repeat(records[bad], data.draw) if bad is not None else None
    lines = [_dump(pairs, data.draw) for pairs in records]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "predictions.jsonl"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        for name, read in READERS.items():
            if key is None:
                expected = [
                    (Relation if "head" in r else Annotation).from_dict(r)
                    for r in map(_as_plain, records)
                ]
                assert read(path) == expected, name
                continue
            with pytest.raises(ClaimwireError) as caught:
                read(path)
            error = caught.value
            assert (error.file, error.line, error.field) == (str(path), bad + 1, key), name
            assert "appears twice" in str(error), name


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('{"label":"CLAIM","label":"SOURCE"}', "label"),
        ('{"label":"CLAIM","label" :"SOURCE"}', "label"),
        ('{"label":"CLAIM","la\\u0062el":"SOURCE"}', "label"),
        ('{"quote":{"exact":"a","exact":"b","prefix":"","suffix":""}}', "exact"),
        ('{"quote":{"exact":"a","prefix":"","suffix":"","prefix":""}}', "prefix"),
        ('{"attributes":{"n":1,"n":2}}', "n"),
        ('{"attributes":{"n":{"m":1,"m":2}}}', "m"),
        ('{"attributes":{"n":[{"m":1,"m":2}]}}', "m"),
        ('{"start":null,"start":3,"end":4}', "start"),
        ('{"author":"gold","author":"bob"}', "author"),
        ('{"x":1,"x":2}', "x"),
    ],
)
def test_each_reader_refuses_a_repeated_key(tmp_path: Path, line: str, key: str) -> None:
    """Every reader of record files: one kind, numbered, mixed and lines already read."""
    base = Annotation("a1", "d1", "claims", "CLAIM", 0, 3, Quote("abc"), {"k": "v"})
    good = json.dumps(base.to_dict(), separators=(",", ":"))
    changed = json.loads(good)
    fields = line[1:-1]
    for name in json.loads(line):  # the record without the fields the line names again
        changed.pop(name, None)
    rest = json.dumps(changed, separators=(",", ":"))[1:-1]
    hostile = "{" + fields + ("," + rest if rest else "") + "}"
    path = _write_lines(tmp_path / "p.jsonl", [good, hostile, good.replace("a1", "a2")])
    readers: list[Callable[[], object]] = [
        lambda: list(read_records(path, Annotation)),
        lambda: list(read_numbered(path, Annotation)),
        lambda: list(read_mixed(path)),
        lambda: list(decode_numbered(path, numbered_lines(1, path.read_bytes()))),
        lambda: list(decode_numbered(path, numbered_lines(1, path.read_bytes()), Annotation)),
    ]
    for read in readers:
        with pytest.raises(ClaimwireError) as caught:
            read()
        assert (caught.value.file, caught.value.line, caught.value.field) == (str(path), 2, key)


def test_a_repeated_key_in_a_document_line_is_refused(tmp_path: Path) -> None:
    document = Document("d1", "Bonjour.", "fr", "train", ((0, 8),), ((0, 8),), {"a": {"b": 1}})
    line = json.dumps(document.to_dict(), separators=(",", ":"))
    path = _write_lines(tmp_path / "documents.jsonl", [line.replace('"b":1', '"b":1,"b":2')])
    with pytest.raises(ClaimwireError) as caught:
        list(read_records(path, Document))
    assert (caught.value.line, caught.value.field) == (1, "b")


def test_the_fast_path_takes_what_claimwire_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No false alarm on the writer's own output, tricky strings and nested values included:
    those lines never reach the per-field checks."""
    records: list[Annotation | Relation] = [
        Annotation(
            f"a{i}",
            "d",
            "claims",
            text,
            i,
            i + 1,
            Quote(text, text, "") if i % 2 else None,
            {"k": text, "n": {"m": [text, 1, {"o": None}]}, text: i},
            author="label" if i % 3 else "gold",
        )
        for i, text in enumerate(TRICKY * 3)
    ] + [Relation("r1", "d", "attributed_to", "a1", "a2", {"id": "label"})]
    path = tmp_path / "predictions.jsonl"
    write_records(path, records)

    def refuse(record: object) -> Annotation:
        raise AssertionError("slow path taken for a valid file")

    for kind in (Annotation, Relation):
        monkeypatch.setattr(kind, "from_dict", classmethod(lambda cls, r: refuse(r)))
    got = [r for _, r in sorted(read_mixed(path), key=lambda x: x[0])]
    assert got == records


def test_the_fast_path_takes_lines_that_leave_defaults_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A producer that writes only the fields it has (no quote, no author…) is read by the
    typed decoder too, with the constructor's defaults, as ``from_dict`` reads it."""
    lines = [
        {"id": "a1", "doc_id": "d", "layer": "claims", "label": "CLAIM", "start": 0, "end": 3},
        {"id": "a2", "doc_id": "d", "layer": "claims", "label": "CLAIM", "author": "sys"},
        {"id": "a3", "doc_id": "d", "layer": "x", "label": "Y", "quote": {"exact": "abc"}},
        {"id": "a4", "doc_id": "d", "layer": "x", "label": "Y", "attributes": {"k": ["v"]}},
    ]
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(line) for line in lines])
    expected = [Annotation.from_dict(line) for line in lines]
    model._decoder(Annotation)  # the decoder of whole lines first: msgspec caches per class

    def refuse(record: object) -> Annotation:
        raise AssertionError("slow path taken for a valid file")

    monkeypatch.setattr(Annotation, "from_dict", classmethod(lambda cls, r: refuse(r)))
    got = list(read_records(path, Annotation))
    assert got == expected and {type(r) for r in got} == {Annotation}
    assert type(got[2].quote) is Quote
