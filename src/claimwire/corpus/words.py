"""Word boundaries: where a span may start and end without cutting a word in two.

Scripts written without spaces between words (Chinese, Japanese kana, Thai, Lao, Khmer,
Burmese) have no boundary a character class can see: any place next to one of their
characters may end a word, so a span there is never said to cut one.
"""

from __future__ import annotations

from bisect import bisect_right

_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x303B, 0x303C),  # 〻 〼
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0x20000, 0x323AF),  # CJK Unified Ideographs Extensions B–H
)
"""The code-point ranges of scripts written without spaces between words."""
_EDGES = [edge for first, last in _UNSPACED for edge in (first, last + 1)]
UNSPACED_CLASS = "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in _UNSPACED)
"""The same ranges as the body of a regular-expression character class (``[...]``)."""


def _is_word(character: str) -> bool:
    return character.isalnum()


def _unspaced(character: str) -> bool:
    """Whether ``character`` belongs to a script written without spaces between words."""
    return bisect_right(_EDGES, ord(character)) % 2 == 1


def _cuts(text: str, at: int) -> bool:
    """Whether a span edge at ``at`` falls between two characters of one word."""
    if not 0 < at < len(text):
        return False
    before, after = text[at - 1], text[at]
    return _is_word(before) and _is_word(after) and not _unspaced(before) and not _unspaced(after)


def on_word_boundaries(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` neither starts nor ends inside a word."""
    return not _cuts(text, start) and not _cuts(text, end)


def occurrences(text: str, quote: str) -> list[int]:
    """Every start offset of ``quote`` in ``text``, overlapping occurrences included."""
    positions = []
    at = text.find(quote)
    while at >= 0:
        positions.append(at)
        at = text.find(quote, at + 1)
    return positions


def find_all(text: str, quote: str, whole_words: bool = True) -> list[int]:
    """Start offsets of ``quote`` in ``text``; with ``whole_words``, only the matches that
    start and end on word boundaries."""
    return [
        at
        for at in occurrences(text, quote)
        if not whole_words or on_word_boundaries(text, at, at + len(quote))
    ]
