"""Where a span may start and end: never inside a word, but scripts written without spaces
have no visible word inside which a span could start (before, every Chinese quote not
bounded by punctuation was refused as cutting a word, and `corpus validate` warned of every
such span)."""

from __future__ import annotations

import re

import pytest

from claimwire.corpus.words import (
    _UNSPACED,
    UNSPACED_CLASS,
    _unspaced,
    find_all,
    on_word_boundaries,
)

FRENCH = "Les Parisiens ont voté : 12 % des inscrits."
CHINESE = "国家统计局表示，今年经济增长了百分之五。"
THAI = "สำนักงานสถิติแห่งชาติระบุว่าเศรษฐกิจเติบโต"
JAPANESE = "政府はカタカナとひらがなで発表した。"


def test_a_span_cutting_a_latin_word_is_refused_and_whole_words_pass() -> None:
    at = FRENCH.index("Paris")
    assert not on_word_boundaries(FRENCH, at, at + len("Paris"))
    assert on_word_boundaries(FRENCH, at, at + len("Parisiens"))
    assert find_all(FRENCH, "Paris") == [] and find_all(FRENCH, "Paris", whole_words=False)


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        (CHINESE, "经济增长"),
        (THAI, "เศรษฐกิจ"),
        (JAPANESE, "カタカナ"),
        (JAPANESE, "ひらがな"),
        ("人々が二〇二五年に", "人々"),
        ("人々が二〇二五年に", "二〇二五年"),
    ],
)
def test_a_span_in_a_script_without_spaces_is_on_word_boundaries(text: str, quote: str) -> None:
    at = text.index(quote)
    assert on_word_boundaries(text, at, at + len(quote))
    assert find_all(text, quote) == [at]


def test_a_latin_word_next_to_a_han_character_ends_there() -> None:
    text = "AI技术"
    assert on_word_boundaries(text, 0, 2)  # "AI" before 技
    assert not on_word_boundaries(text, 0, 1)  # "A" cuts "AI"


def test_the_script_ranges_are_closed_at_both_ends() -> None:
    for first, last in _UNSPACED:
        assert _unspaced(chr(first)) and _unspaced(chr(last))
        assert not _unspaced(chr(first - 1)) or any(a <= first - 1 <= b for a, b in _UNSPACED)
    assert not any(map(_unspaced, "Aé9ßЖ한글"))  # Latin, Cyrillic, Hangul: spaced scripts


def test_the_regex_class_holds_the_same_characters() -> None:
    """``UNSPACED_CLASS`` (what the number reader uses) is the ranges, not a copy of them."""
    character_class = re.compile(f"[{UNSPACED_CLASS}]")
    edges = {c + d for first, last in _UNSPACED for c in (first, last) for d in (-1, 0, 1)}
    for code in sorted(edges) + [ord(c) for c in "Aé9ßЖ한글٣"]:
        assert bool(character_class.fullmatch(chr(code))) == _unspaced(chr(code)), hex(code)
