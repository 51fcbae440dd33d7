"""Paragraph and sentence segmentation with exact character offsets.

Paragraphs come first (blank lines; inside a block, heading lines and list items stand alone;
hard-wrapped prose is joined), then sentences inside each paragraph. Every span is a trimmed
``[start, end)`` slice of the text: paragraphs tile the text's non-space characters, sentences
tile their paragraph's, and nothing overlaps.

The sentence splitter is rule-based and tuned for French (and English) press releases: it
knows honorifics and abbreviations (M., Mme, art., p., av. J.-C., S.A.), keeps « … » and
closing quotes with their sentence, never starts a sentence with a lowercase letter and never
splits inside URLs, e-mail addresses, decimals or ordinals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

from claimwire.model import Span

_TERMINAL = ".!?…"
# Sentence-final punctuation, then closing quotes or brackets (French puts a no-break space
# before »), then the white space that separates the next sentence.
_BOUNDARY = re.compile(r"[.!?…]+((?:[ \u00a0\u202f]?[»”\"’)\]])*)(\s+)(?=\S)")
_WORD_BEFORE = re.compile(r"(\S+)\Z")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-–—•*▪●·]|\d{1,2}[.)])[ \t]+")
_INITIALISM = re.compile(r"(?:[A-ZÀ-Ý]\.-?)+[A-ZÀ-Ý]|[A-ZÀ-Ý]")
_LOWER_INITIALISM = re.compile(r"(?:[a-z]\.)+[a-z]")  # e.g, i.e, p.m, c.-à-d

# Abbreviations after which a period does not end a sentence (compared without the period).
ABBREVIATIONS = frozenset(
    """
    M MM Mme Mmes Mlle Mlles Me Mgr Dr Drs Pr Pre St Ste Sts Cie Ets Éts
    art arts al av apr ap env cf chap coll éd ed fig hab ill no nos n° p pp s ss sq suiv t vol vols
    tél Tél tel Tel Ibid ibid op cit ex Sté Stés Bd bd fg dép min
    lun mar mer jeu ven sam dim
    Mr Mrs Ms Messrs Prof Gen Gén Col Lt Capt Sgt Rev Hon Jr Sr Sen Rep Gov Dept Ave Blvd
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec janv févr avr juil sept oct nov déc
    Inc Ltd Corp Co Bros vs approx ca resp
    """.split()
)
# After an initialism (S.A., U.S., J.-C.) a capitalized word usually continues the sentence;
# these common sentence openers show that a new sentence begins after all.
SENTENCE_OPENERS = frozenset(
    """
    Le La Les L’ L' Il Elle Ils Elles Ce Cet Cette Ces C’ C' Cela Ceci Nous Vous On Un Une Des
    Au Aux À En Dans Pour Par Selon Mais Et Or Donc Ainsi Depuis Lors Après Avant Son Sa Ses
    Leur Leurs Notre Nos Votre Vos Tous Toutes Chaque Plusieurs Enfin Puis Cependant Toutefois
    The This That These Those It He She They We Its Their Our In On At For By But And According
    """.split()
)


class SentenceSegmenter(Protocol):
    """Anything that splits one paragraph of a text into sentence spans."""

    def sentences(self, text: str, start: int, end: int) -> list[Span]: ...


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _lines(text: str) -> Iterator[Span]:
    """Yield each line's ``[start, end)`` without its newline."""
    start = 0
    while start <= len(text):
        newline = text.find("\n", start)
        end = len(text) if newline < 0 else newline
        yield start, end
        if newline < 0:
            return
        start = newline + 1


def ends_with_terminal(text: str, also: str = "") -> bool:
    """True when ``text`` ends with . ! ? … (or a character of ``also``), closing quotes aside."""
    stripped = text.rstrip(' \t\u00a0\u202f»”"’)')
    return bool(stripped) and stripped[-1] in _TERMINAL + also


def _ends_sentence(line: str) -> bool:
    return ends_with_terminal(line, also=":;")


def _is_hard_wrapped(lines: list[str]) -> bool:
    """A block of prose wrapped at a fixed width: many lines end mid-sentence."""
    if len(lines) < 3:
        return False
    inner = lines[:-1]
    longest = max(len(line) for line in lines)
    mid_sentence = sum(1 for line in inner if not _ends_sentence(line))
    return longest <= 100 and mid_sentence * 2 >= len(inner)


def _block_paragraphs(text: str, block: list[Span]) -> Iterator[Span]:
    """Split one block (lines with no blank line between them) into paragraphs."""
    lines = [text[s:e].strip() for s, e in block]
    wrapped = _is_hard_wrapped(lines)
    width = max(len(line) for line in lines)
    group_start = block[0][0]
    for i, (_, line_end) in enumerate(block):
        last = i == len(block) - 1
        # In wrapped prose a short line closes its paragraph (a heading, or a paragraph's
        # last line) and a list item opens one; otherwise each line is a paragraph.
        breaks_after = (
            last
            or not wrapped
            or len(lines[i]) < 0.6 * width
            or _LIST_ITEM.match(lines[i + 1]) is not None
        )
        if breaks_after:
            span = _trim(text, group_start, line_end)
            if span:
                yield span
            if not last:
                group_start = block[i + 1][0]


def paragraphs(text: str) -> list[Span]:
    """Trimmed paragraph spans, in order: blank lines separate blocks, see module docstring."""
    result: list[Span] = []
    block: list[Span] = []
    for line in _lines(text):
        if text[line[0] : line[1]].strip():
            block.append(line)
        elif block:
            result.extend(_block_paragraphs(text, block))
            block = []
    if block:
        result.extend(_block_paragraphs(text, block))
    return result


def is_abbreviation(word: str) -> bool:
    """True for a word (without its period) after which a period does not end a sentence:
    "M", "art" (also "(art" or "L’art"), "e.g", "p.m"."""
    word = re.split(r"[’']", word.lstrip("(«“\"'["))[-1]
    return word in ABBREVIATIONS or _LOWER_INITIALISM.fullmatch(word) is not None


class _Quotation:
    """Is a « opened in the current sentence and closed later in the paragraph? Counted
    incrementally (each character once per paragraph), so a long quotation stays linear."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.end = text, end
        self.counted_to = start
        self.opened = 0
        self.next_close = -2  # not looked for yet; -1: no » until the paragraph's end

    def restart(self, sentence_start: int) -> None:
        self.counted_to, self.opened = sentence_start, 0

    def open_until_later(self, split_at: int) -> bool:
        text = self.text
        self.opened += text.count("«", self.counted_to, split_at) - text.count(
            "»", self.counted_to, split_at
        )
        self.counted_to = split_at
        if self.opened <= 0:
            return False
        if self.next_close != -1 and self.next_close < split_at:
            self.next_close = text.find("»", split_at, self.end)
        return self.next_close >= 0


class RuleSegmenter:
    """The default sentence splitter: fast rules, exact offsets, no model."""

    name = "rules"

    def sentences(self, text: str, start: int, end: int) -> list[Span]:
        spans: list[Span] = []
        sentence_start = start
        quotation = _Quotation(text, start, end)
        for match in _BOUNDARY.finditer(text, start, end):
            split_at = match.start(2)  # after the punctuation and any closing quotes
            next_start = match.end(2)
            if self._continues(text, start, match.start(), next_start, end) or (
                quotation.open_until_later(split_at)
            ):
                continue
            span = _trim(text, sentence_start, split_at)
            if span:
                spans.append(span)
            sentence_start = next_start
            quotation.restart(next_start)
        last = _trim(text, sentence_start, end)
        if last:
            spans.append(last)
        return spans

    @staticmethod
    def _continues(text: str, para_start: int, punct_at: int, next_at: int, end: int) -> bool:
        """True when the punctuation at ``punct_at`` does not end the sentence."""
        following = text[next_at]
        if following.islower():
            return True
        if text[punct_at] != ".":
            return False
        word_match = _WORD_BEFORE.search(text, max(para_start, punct_at - 40), punct_at)
        word = word_match.group(1) if word_match else ""
        if is_abbreviation(word):
            return True
        if word_match and word_match.start() == para_start and word.isdigit() and len(word) <= 2:
            return True  # "1. Premier point" opens a numbered item
        if _INITIALISM.fullmatch(word):
            next_word = text[next_at : next_at + 20].split(maxsplit=1)[0] if next_at < end else ""
            opener = next_word.rstrip(",;:")
            return opener not in SENTENCE_OPENERS and opener[:2] not in SENTENCE_OPENERS
        return False


def segment(text: str, segmenter: SentenceSegmenter | None = None) -> tuple[list[Span], list[Span]]:
    """Return ``(paragraphs, sentences)`` for ``text``."""
    splitter = segmenter or RuleSegmenter()
    paras = paragraphs(text)
    sentences: list[Span] = []
    for start, end in paras:
        sentences.extend(splitter.sentences(text, start, end))
    return paras, sentences
