from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.corpus import segment as segment_module
from claimwire.corpus.normalize import normalize_text, split_date_marker
from claimwire.corpus.segment import RuleSegmenter, paragraphs, segment
from claimwire.corpus.segment_eval import evaluate_segmenter, load_gold
from claimwire.corpus.segment_spacy import SenterSegmenter

from .helpers import DATA, SEED_RAW

HARD_SET = DATA / "segmentation-hard-fr.txt"


def assert_tiles(text: str, spans: list[tuple[int, int]], within: tuple[int, int]) -> None:
    """Spans are trimmed, ordered, disjoint, inside ``within``, and cover its non-space text."""
    position = within[0]
    for start, end in spans:
        assert within[0] <= start < end <= within[1]
        assert not text[start].isspace() and not text[end - 1].isspace()
        assert text[position:start].strip() == ""
        position = end
    assert text[position : within[1]].strip() == ""


def seed_text() -> str:
    raw = (SEED_RAW / "release-fr.txt").read_text(encoding="utf-8")
    return split_date_marker(normalize_text(raw))[1]


def test_seed_segmentation_is_exact() -> None:
    text = seed_text()
    paras, sentences = segment(text)
    expected_paragraphs = [p.strip() for p in text.split("\n\n")]
    assert [text[s:e] for s, e in paras] == expected_paragraphs
    assert len(sentences) == 32
    assert text[slice(*sentences[0])] == (
        "CGTN a publié un article sur le deuxième Sommet Chine-Asie centrale qui s’est tenu à "
        "Astana."
    )
    quote = next(text[s:e] for s, e in sentences if "« C’est" in text[s:e])
    assert quote.startswith("Xi Jinping a ajouté : « C’est une étape")
    assert quote.endswith("de l’Ouzbékistan.")


def test_rules_are_at_least_as_good_as_spacy_senter_on_the_hard_set() -> None:
    gold = load_gold(HARD_SET)
    assert len(gold.sentences) >= 150
    rule_paragraph_f1, rule_f1, _ = evaluate_segmenter(gold, RuleSegmenter())
    senter_paragraph_f1, senter_f1, _ = evaluate_segmenter(gold, SenterSegmenter())
    assert rule_paragraph_f1 == senter_paragraph_f1 == 1.0
    assert rule_f1 >= senter_f1
    assert rule_f1 >= 0.98


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Titre court\nLe premier paragraphe commence ici.", ["Titre court", "Le premier"]),
        ("Un.\n\n\n  Deux.  \n\nTrois.", ["Un.", "Deux.", "Trois."]),
        (
            "Le texte que voici a été coupé à une largeur fixe de soixante\n"
            "caractères environ, comme dans les vieux courriels et les\n"
            "dépêches reçues par télex au siècle dernier, bien avant\n"
            "le web.\n"
            "Un paragraphe court.\n"
            "Intertitre\n"
            "Un autre paragraphe a été coupé de la même façon, sur deux\n"
            "lignes seulement.",
            ["Le texte que voici", "Un paragraphe court.", "Intertitre", "Un autre paragraphe"],
        ),
        ("- premier point ;\n- second point.", ["- premier point ;", "- second point."]),
    ],
)
def test_paragraphs(text: str, expected: list[str]) -> None:
    found = [text[s:e] for s, e in paragraphs(text)]
    assert [f[: len(e)] for f, e in zip(found, expected, strict=True)] == expected
    assert_tiles(text, paragraphs(text), (0, len(text)))


@pytest.mark.parametrize(
    ("paragraph", "sentences"),
    [
        ("M. Durand est arrivé. Il a parlé.", ["M. Durand est arrivé.", "Il a parlé."]),
        ("Voir https://a.fr/x.html. Puis lire.", ["Voir https://a.fr/x.html.", "Puis lire."]),
        ("Écrire à a.b@c.fr. Merci.", ["Écrire à a.b@c.fr.", "Merci."]),
        ("« Vraiment ? » a-t-il dit. Oui.", ["« Vraiment ? » a-t-il dit.", "Oui."]),
        ("Il a dit : « Oui. Non. » Fin.", ["Il a dit : « Oui. Non. »", "Fin."]),
        ("Le 1er mai. Le 30ᵉ jour.", ["Le 1er mai.", "Le 30ᵉ jour."]),
        ("Hausse de 2,5 %. Baisse de 1,3 %.", ["Hausse de 2,5 %.", "Baisse de 1,3 %."]),
        ("En 52 av. J.-C. Les Romains.", ["En 52 av. J.-C.", "Les Romains."]),
        ("Acme S.A. Carrefour suit.", ["Acme S.A. Carrefour suit."]),
        ("Il est 3 p.m. Texas time.", ["Il est 3 p.m. Texas time."]),
        ("Attendez… Non ! Si ?", ["Attendez…", "Non !", "Si ?"]),
        ("« Oui », dit-il. « Non. »", ["« Oui », dit-il.", "« Non. »"]),
    ],
)
def test_sentences(paragraph: str, sentences: list[str]) -> None:
    spans = RuleSegmenter().sentences(paragraph, 0, len(paragraph))
    assert [paragraph[s:e] for s, e in spans] == sentences


@st.composite
def press_text(draw: st.DrawFn) -> str:
    pieces = st.sampled_from(
        [
            "M.",
            "Dupont",
            "a",
            "dit",
            ".",
            "!",
            "?",
            "…",
            "«",
            "»",
            "\u00a0",
            "\u202f",
            " ",
            "\n",
            "\n\n",
            "\t",
            "2,5",
            "%",
            "art.",
            "S.A.",
            "https://x.fr/a.b",
            "Le",
            "il",
            "1.",
            "- ",
            "J.-C.",
            "’",
            "(",
            ")",
            "é",
            "\r\n",
        ]
    )
    return normalize_text("".join(draw(st.lists(pieces, max_size=60))))


@settings(max_examples=300, deadline=None)
@given(press_text())
def test_segmentation_invariants(text: str) -> None:
    paras, sentences = segment(text)
    assert_tiles(text, paras, (0, len(text)))
    index = 0
    for paragraph in paras:
        inside = [s for s in sentences if paragraph[0] <= s[0] < paragraph[1]]
        assert sentences[index : index + len(inside)] == inside
        index += len(inside)
        assert_tiles(text, inside, paragraph)
    assert index == len(sentences)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_segmentation_invariants_on_any_text(text: str) -> None:
    text = normalize_text(text)
    paras, sentences = segment(text)
    assert_tiles(text, paras, (0, len(text)))
    for start, end in sentences:
        assert any(ps <= start and end <= pe for ps, pe in paras)


def test_hard_set_file_exists() -> None:
    assert Path(HARD_SET).stat().st_size > 5000


def _sentences_counting_from_each_start(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The quotation rule as first written (recounting « » from the sentence start at every
    boundary): the oracle for the incremental count."""
    rules = RuleSegmenter()
    spans, sentence_start = [], start
    for match in segment_module._BOUNDARY.finditer(text, start, end):
        split_at, next_start = match.start(2), match.end(2)
        opened = text.count("«", sentence_start, split_at) - text.count(
            "»", sentence_start, split_at
        )
        inside = opened > 0 and text.find("»", split_at, end) >= 0
        if rules._continues(text, start, match.start(), next_start, end) or inside:
            continue
        if span := segment_module._trim(text, sentence_start, split_at):
            spans.append(span)
        sentence_start = next_start
    if last := segment_module._trim(text, sentence_start, end):
        spans.append(last)
    return spans


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["Il a dit", " « Oui.", " Non !", " » ", "Elle.", " Fin", "».", " « "]),
        max_size=30,
    )
)
def test_quotation_count_is_incremental_and_unchanged(pieces: list[str]) -> None:
    text = "".join(pieces).strip()
    assert RuleSegmenter().sentences(text, 0, len(text)) == _sentences_counting_from_each_start(
        text, 0, len(text)
    )
