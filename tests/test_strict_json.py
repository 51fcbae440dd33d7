"""``strict_json.loads`` (a whole text) and ``strict_json.list_items`` (a list read a chunk at
a time) decode with one decoder: they refuse the same texts with the same message."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from claimwire import strict_json

BAD = {
    "a key twice": '{"label": "CLAIM", "label": "X"}',
    "a key twice, nested": '{"a": [{"b": 1, "b": 2}]}',
    "NaN": '{"value": NaN}',
    "Infinity": "[Infinity]",
    "-Infinity": '{"value": -Infinity}',
    "a number no float holds": '{"value": 1e400}',
    "a negative one": "-1.5e999",
    "half of a surrogate pair": '{"text": "a\\ud800b"}',
    "its other half": '"\\udc00"',
    "a key with half a pair": '{"\\ud83d": 1}',
}


def _refusal(read: Any) -> str:
    with pytest.raises(ValueError) as raised:
        read()
    assert isinstance(
        raised.value, strict_json.DuplicateKeyError | strict_json.NotStandardJSONError
    )
    return str(raised.value)


@pytest.mark.parametrize("size", [1, 7, strict_json.CHUNK])
@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_loads_and_list_items_refuse_the_same_texts_alike(text: str, size: int) -> None:
    whole = _refusal(lambda: strict_json.loads(text))
    listed = _refusal(lambda: list(strict_json.list_items(io.StringIO(f'[1, {text}, "x"]'), size)))
    assert listed == whole
    assert _refusal(lambda: strict_json.loads(text.encode("utf-8"))) == whole


def test_both_decode_through_one_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """One definition of the hooks: the decoder the list reader keeps is the class
    :func:`loads` decodes with."""
    decoded: list[str] = []
    decode = strict_json.StrictDecoder.decode

    def spy(self: strict_json.StrictDecoder, text: str, *args: Any) -> Any:
        decoded.append(text)
        return decode(self, text, *args)

    monkeypatch.setattr(strict_json.StrictDecoder, "decode", spy)
    assert strict_json.loads('{"a": 1}') == {"a": 1} and decoded == ['{"a": 1}']
    assert isinstance(strict_json._DECODER, strict_json.StrictDecoder)


NUMBERS = '[-1.5, 2e9, -0.25E-3, 12, 1.5e+10, {"x": -3.75}, "7", -8]'


@pytest.mark.parametrize("size", range(1, len(NUMBERS) + 1))
def test_a_number_cut_by_the_chunk_is_read_whole(size: int) -> None:
    """A number the chunk cuts after its sign, point or exponent mark ("-1." then "5") is
    read on, not ended there (before: "-1" and then "expected ',' or ']'" at a "." the
    next chunk began with, depending on the chunk size)."""
    assert list(strict_json.list_items(io.StringIO(NUMBERS), size)) == json.loads(NUMBERS)


NOT_JSON = {
    "cut short": '[1,\n {"a": [2,\n  3',
    "a comma missing": '[\n  {"a": 1}\n  {"b": 2}\n]',
    "two commas": "[1,\n\n   2,,\n 3]",
    "an unknown word": '[\n {"a": tru}]',
    "a string cut": '[1, 2,\n "abc',
}


@pytest.mark.parametrize("size", [1, 2, 5, strict_json.CHUNK])
@pytest.mark.parametrize("text", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_list_that_is_not_json_is_located_as_the_whole_text_locates_it(
    text: str, size: int
) -> None:
    """Before: the position of the part read last ("line 1 column 3"), whatever the line."""
    with pytest.raises(json.JSONDecodeError) as whole:
        json.loads(text)
    with pytest.raises(strict_json.NotJSONError) as listed:
        list(strict_json.list_items(io.StringIO(text), size))
    fault = whole.value
    assert (listed.value.line, listed.value.column) == (fault.lineno, fault.colno)
    assert listed.value.reason == fault.msg


def test_what_is_not_a_list_is_located() -> None:
    for text, where in (('\n\n  {"a": 1}', (3, 3)), ("[1]\n x", (2, 2)), ("[1\n 2]", (2, 2))):
        for size in (1, strict_json.CHUNK):
            with pytest.raises(strict_json.NotJSONError) as listed:
                list(strict_json.list_items(io.StringIO(text), size))
            assert (listed.value.line, listed.value.column) == where, text


@pytest.mark.parametrize("size", [1, strict_json.CHUNK])
def test_bytes_not_utf8_are_located_no_later_than_they_are(size: int) -> None:
    handle = io.TextIOWrapper(io.BytesIO(b'[1,\n 2,\n "\xff"]'), encoding="utf-8")
    with pytest.raises(strict_json.NotJSONError) as listed:
        list(strict_json.list_items(handle, size))
    assert listed.value.reason.startswith("not UTF-8 (invalid start byte)")
    assert (listed.value.line, listed.value.column) <= (3, 3)
