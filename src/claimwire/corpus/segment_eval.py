"""Score a sentence segmenter against a gold file (one sentence a line, blank = paragraph)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claimwire.corpus.segment import SentenceSegmenter, segment
from claimwire.model import Span


@dataclass(frozen=True, slots=True)
class SegmentationGold:
    text: str
    paragraphs: list[Span]
    sentences: list[Span]


def load_gold(path: Path) -> SegmentationGold:
    """Build the text and its gold spans: sentences joined by a space, paragraphs by a blank
    line; lines starting with ``#`` are comments."""
    blocks: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    text = ""
    paragraphs: list[Span] = []
    sentences: list[Span] = []
    for block in (b for b in blocks if b):
        if text:
            text += "\n\n"
        paragraph_start = len(text)
        for i, sentence in enumerate(block):
            if i:
                text += " "
            sentences.append((len(text), len(text) + len(sentence)))
            text += sentence
        paragraphs.append((paragraph_start, len(text)))
    return SegmentationGold(text, paragraphs, sentences)


def span_f1(predicted: list[Span], gold: list[Span]) -> float:
    """F1 of exactly matching spans (1.0 when both are empty)."""
    if not predicted and not gold:
        return 1.0
    matched = len(set(predicted) & set(gold))
    if matched == 0:
        return 0.0
    precision, recall = matched / len(predicted), matched / len(gold)
    return 2 * precision * recall / (precision + recall)


def evaluate_segmenter(
    gold: SegmentationGold, segmenter: SentenceSegmenter | None = None
) -> tuple[float, float, list[tuple[str, str]]]:
    """``(paragraph F1, sentence F1, errors)``; errors pair a missed gold sentence with the
    predicted one that covers its start."""
    paragraphs, sentences = segment(gold.text, segmenter)
    missed = sorted(set(gold.sentences) - set(sentences))
    errors = []
    for start, end in missed:
        covering = next(((s, e) for s, e in sentences if s <= start < e), (start, start))
        errors.append((gold.text[start:end], gold.text[covering[0] : covering[1]]))
    return span_f1(paragraphs, gold.paragraphs), span_f1(sentences, gold.sentences), errors
