from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.corpus.reanchor import Anchoring, OffsetMap, find_quote, reanchor
from claimwire.model import Annotation, Quote

TEXT = (
    "Selon le sondage de CGTN, 92,4 % des personnes interrogées estiment que l’initiative "
    "est utile. Selon le sondage de CGTN, 90 % soutiennent le mécanisme."
)


def annotation(text: str, exact: str, occurrence: int = 0, ann_id: str = "a") -> Annotation:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(exact, start + 1)
    end = start + len(exact)
    return Annotation(ann_id, "old", "x", "X", start, end, Quote.from_text(text, start, end))


def test_unchanged_text_keeps_everything() -> None:
    results = reanchor([annotation(TEXT, "92,4 %")], TEXT, TEXT, "new")
    assert [r.status for r in results] == [Anchoring.KEPT]
    assert results[0].annotation.doc_id == "new"


def test_insertion_before_moves_spans() -> None:
    new = "Communiqué. " + TEXT
    second = annotation(TEXT, "le sondage de CGTN", occurrence=1)
    [result] = reanchor([second], TEXT, new, "new")
    assert result.status is Anchoring.REANCHORED
    moved = result.annotation
    assert moved.start is not None and moved.end is not None
    assert new[moved.start : moved.end] == "le sondage de CGTN"
    assert moved.start == second.start + len("Communiqué. ")  # the second occurrence, not the first


def test_edited_quote_falls_back_to_search_then_orphans() -> None:
    figure = annotation(TEXT, "92,4 %")
    moved_text = TEXT.replace("92,4 % des", "selon les chiffres, 92,4 % des")
    assert reanchor([figure], TEXT, moved_text, "n")[0].status is Anchoring.REANCHORED
    gone = TEXT.replace("92,4 %", "93 %")
    [result] = reanchor([figure], TEXT, gone, "n")
    assert result.status is Anchoring.ORPHANED
    assert result.annotation == figure  # reported as it was, never silently changed


def test_find_quote_prefers_context() -> None:
    text = "a CGTN b. c CGTN d."
    quote = Quote("CGTN", prefix="c ", suffix=" d")
    assert find_quote(text, quote) == (12, 16)
    assert find_quote(text, Quote("absent")) is None


def test_document_level_annotations_move_with_their_document() -> None:
    survey = Annotation("s", "old", "statistics", "SURVEY")
    [result] = reanchor([survey], TEXT, "autre texte", "new")
    assert result.status is Anchoring.KEPT and result.annotation.doc_id == "new"


def test_offset_map_on_large_texts() -> None:
    old = "Le commerce a progressé. " * 4000  # 100 KB
    new = old[:50_000] + "INSERTION " + old[50_000:]
    offsets = OffsetMap(old, new)
    assert offsets.map(10) == 10
    assert offsets.map(60_000) == 60_010


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.text(alphabet="ab ,.«»’é", max_size=30),
    body=st.text(alphabet="xyz ", min_size=1, max_size=20),
    suffix=st.text(alphabet="ab ,.«»’é", max_size=30),
    inserted=st.text(alphabet="abcxyz ,", max_size=20),
    where=st.integers(min_value=0, max_value=100),
)
def test_reanchored_spans_always_quote_their_text(
    prefix: str, body: str, suffix: str, inserted: str, where: int
) -> None:
    old = prefix + "[" + body + "]" + suffix
    start, end = len(prefix), len(prefix) + len(body) + 2
    position = min(where, len(old))
    new = old[:position] + inserted + old[position:]
    original = Annotation("a", "d", "x", "X", start, end, Quote.from_text(old, start, end))
    [result] = reanchor([original], old, new, "d2")
    anchored = result.annotation
    if result.status is Anchoring.ORPHANED:
        assert old[start:end] not in new
    else:
        assert anchored.start is not None and anchored.end is not None
        assert new[anchored.start : anchored.end] == old[start:end]
        if position <= start or position >= end:
            assert new.count(old[start:end]) > 1 or anchored.start == start + (
                len(inserted) if position <= start else 0
            )
