"""A CoNLL import reads spans as seqeval reads them: a blank line (a sentence's end) ends every
span, and an ``I-`` that continues no span opens one (IOB1 input, a tagger's sentence that
starts with ``I-``), told in a note."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from claimwire.eval.checker import AnnotationSet
from claimwire.formats.conll import OPENED_BY_I, sentence_tokens, spans_of
from claimwire.formats.convert import Options, export_set, import_set
from claimwire.model import Annotation

from .helpers import run_cli
from .test_formats import DOCUMENT, DOCUMENTS, RELEASE, SCHEMA

Sentences = list[list[tuple[str, str]]]


def read_blocks(path: Path) -> dict[str, Sentences]:
    """Each document's sentences of ``(token, tag)``, as a CoNLL reader splits the file."""
    blocks: dict[str, Sentences] = {}
    sentences: Sentences = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("-DOCSTART-"):
            sentences = blocks.setdefault(line.split("\t")[1], [])
        elif not line.strip():
            if sentences and sentences[-1]:
                sentences.append([])
        else:
            token, tag = line.split("\t")
            if not sentences:
                sentences.append([])
            sentences[-1].append((token, tag))
    return {doc_id: [s for s in sentences if s] for doc_id, sentences in blocks.items()}


def write_blocks(path: Path, blocks: dict[str, Sentences]) -> None:
    lines = []
    for doc_id, sentences in blocks.items():
        lines += [f"-DOCSTART-\t{doc_id}", ""]
        for sentence in sentences:
            lines += [f"{token}\t{tag}" for token, tag in sentence] + [""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def as_iob1(sentences: Sentences) -> Sentences:
    """IOB1 (CoNLL-2003's scheme): ``B-`` only where a span follows one of its label."""
    iob1 = []
    for sentence in sentences:
        tags = [tag for _, tag in sentence]
        iob1.append(
            [
                (token, tag)
                if tag.startswith("B-") and i and tags[i - 1][2:] == tag[2:]
                else (token, "I-" + tag[2:] if tag.startswith("B-") else tag)
                for i, (token, tag) in enumerate(sentence)
            ]
        )
    return iob1


def seqeval_spans(blocks: dict[str, Sentences]) -> set[tuple[str, int, int, str]]:
    """``(document, start, end, label)`` of every entity seqeval finds (default mode)."""
    found = set()
    for doc_id, sentences in blocks.items():
        tokens = [t for sentence in sentence_tokens(DOCUMENTS[doc_id]) for t in sentence]
        # seqeval joins a list of sentences with an "O" after each: index i of the joined
        # list is token i minus the sentences before it
        joined_to_token = [i for i, s in enumerate(sentences) for _ in range(len(s) + 1)]
        for label, first, last in get_entities([[tag for _, tag in s] for s in sentences]):
            before_first, before_last = joined_to_token[first], joined_to_token[last]
            found.add(
                (doc_id, tokens[first - before_first][1], tokens[last - before_last][2], label)
            )
    return found


def sentence_claims() -> list[Annotation]:
    """CLAIMs as a sentence classifier tags them: whole sentences one after another (every
    third left out), every fourth cut in two adjacent CLAIMs."""
    claims = []
    for number, tokens in enumerate(sentence_tokens(DOCUMENT)):
        cuts = [0, len(tokens) // 2, len(tokens)] if number % 4 == 1 else [0, len(tokens)]
        if number % 3 == 2 or len(tokens) < 2:
            continue
        for first, last in itertools.pairwise(cuts):
            start, end = tokens[first][1], tokens[last - 1][2]
            claims.append(Annotation(f"c{len(claims)}", DOCUMENT.id, "claims", "CLAIM", start, end))
    return claims


def test_iob1_spans_end_at_each_sentence_as_seqeval_reads_them(tmp_path: Path) -> None:
    claims = sentence_claims()
    iob2 = tmp_path / "iob2.conll"
    found = AnnotationSet("claims", tuple(claims), ())
    assert not export_set("conll", iob2, [DOCUMENT], found, SCHEMA, options=Options(("CLAIM",)))
    iob1 = tmp_path / "iob1.conll"
    blocks = {doc_id: as_iob1(sentences) for doc_id, sentences in read_blocks(iob2).items()}
    write_blocks(iob1, blocks)
    sentences = blocks[DOCUMENT.id]
    # sentences whose first I- follows the I- that ends the sentence before, and B- in IOB1
    assert sum(s[0][1] == t[-1][1] == "I-CLAIM" for t, s in itertools.pairwise(sentences)) > 5
    assert any(tag == "B-CLAIM" for s in sentences for _, tag in s)
    opened_by_i = sum(
        tag == "I-CLAIM" and (not i or s[i - 1][1] == "O")
        for s in sentences
        for i, (_, tag) in enumerate(s)
    )
    expected = {(a.doc_id, a.start, a.end, a.label) for a in claims}
    for path in (iob2, iob1):
        back = import_set("conll", path, DOCUMENTS, SCHEMA).annotation_set.annotations
        spans = {(a.doc_id, a.start, a.end, a.label) for a in back}
        assert spans == seqeval_spans(read_blocks(path)) == expected
    out = tmp_path / "back.jsonl"
    result = run_cli("convert", iob1, "--from", "conll", "--release", RELEASE, "--out", out)
    assert result.returncode == 0, result.stderr
    assert f"note: {opened_by_i} {OPENED_BY_I}" in result.stderr
    result = run_cli(
        "convert", iob2, "--from", "conll", "--release", RELEASE, "--out", out, "--force"
    )
    assert result.returncode == 0 and OPENED_BY_I not in result.stderr


TAGS = st.sampled_from(["O"] + [f"{p}-{label}" for p in "BIES" for label in ("CLAIM", "CUE")])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(TAGS, min_size=1, max_size=8), max_size=6))
def test_spans_of_equals_seqeval_on_any_tags(sentences: list[list[str]]) -> None:
    tags = [tag for sentence in sentences for tag in sentence]
    starts, breaks = 0, set()
    for sentence in sentences:
        breaks.add(starts)
        starts += len(sentence)
    # seqeval's indices count an "O" after each sentence
    joined_to_token = [i for i, s in enumerate(sentences) for _ in range(len(s) + 1)]
    theirs = {
        (first - joined_to_token[first], last - joined_to_token[last] + 1, label)
        for label, first, last in get_entities(sentences)
    }
    assert set(spans_of(tags, breaks)) == theirs
