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
