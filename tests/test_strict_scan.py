"""The byte scans that prove a decoded block clean (no repeated or unknown key, one value a
line) counted with numpy: the same answers as counting the bytes one by one."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.model import _one_per_line
from claimwire.strict_json import quoted_strings

_RUN_BEFORE_A_QUOTE = re.compile(rb'(?<!\\)\\++(?=")')


def quotes_by_regex(data: bytes) -> int:
    """Quotes minus those after an odd run of backslashes, counted run by run."""
    return data.count(b'"') - sum(len(run) % 2 for run in _RUN_BEFORE_A_QUOTE.findall(data))


def one_per_line_by_counts(data: bytes, count: int) -> bool:
    """Every line break but a final one between ``}`` and ``{``, as many values as lines."""
    breaks = data.count(b"\n")
    separators = data.count(b"}\n{") + data.count(b"}\r\n{")
    final = data.endswith(b"\n")
    return breaks == separators + final and count == separators + 1


ALPHABET = b'"\\{}\n\r a'
JSONISH = st.binary(min_size=0, max_size=60).map(
    lambda raw: bytes(ALPHABET[byte % len(ALPHABET)] for byte in raw)
)


@settings(max_examples=500, deadline=None)
@given(JSONISH)
def test_quoted_strings_equal_a_count_run_by_run(data: bytes) -> None:
    assert quoted_strings(data) == quotes_by_regex(data)


@settings(max_examples=500, deadline=None)
@given(JSONISH, st.integers(min_value=0, max_value=6))
def test_one_value_a_line_equals_the_count_of_separators(data: bytes, count: int) -> None:
    assert _one_per_line(data, count) == one_per_line_by_counts(data, count)


def test_examples() -> None:
    assert quoted_strings(b'{"a":"b\\"c"}') == 4  # one escaped quote inside a string
    assert quoted_strings(b'{"a":"b\\\\"}') == 4  # an escaped backslash before the closing quote
    assert quoted_strings(b'{"a\\\\\\"":1}') == 2
    assert _one_per_line(b'{"a":1}\n{"a":2}\n', 2)
    assert _one_per_line(b'{"a":1}\r\n{"a":2}', 2)
    assert not _one_per_line(b'{"a":\n1}', 1)  # one value over two lines
    assert not _one_per_line(b'{"a":1} {"a":2}\n{"a":3}', 3)  # two values on one line
    assert not _one_per_line(b'\n{"a":1}', 1)
