"""Word boundaries: where a span may start and end without cutting a word in two."""

from __future__ import annotations


def _is_word(character: str) -> bool:
    return character.isalnum()


def on_word_boundaries(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` neither starts nor ends inside a word."""
    cuts_start = 0 < start < len(text) and _is_word(text[start - 1]) and _is_word(text[start])
    cuts_end = 0 < end < len(text) and _is_word(text[end - 1]) and _is_word(text[end])
    return not cuts_start and not cuts_end


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
