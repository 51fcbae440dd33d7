"""A hand-typed gold quote that is in the text with other apostrophes, quotation marks or
spaces is not found, and the error says so, showing the text's form to copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwire.annotation.gold import GoldError, resolve_gold
from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release

from .helpers import REPO


def _problems(tmp_path: Path, quote: str) -> list[str]:
    path = tmp_path / "gold.yaml"
    body = f'  - {{id: a, label: CUE, quote: "{quote}"}}\n'
    path.write_text(f"source: release-fr.txt\nannotations:\n{body}", encoding="utf-8")
    documents = open_release(REPO / "corpus" / "releases" / "0.1.0").documents()
    with pytest.raises(GoldError) as caught:
        resolve_gold([path], documents, load_schema())
    return [str(p) for p in caught.value.problems]


def test_a_quote_typed_with_a_straight_apostrophe_shows_the_text_s_form(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "les cinq pays d'Asie centrale")
    assert problem.startswith(f"{tmp_path / 'gold.yaml'}:3: ")
    assert "quote not found in " in problem
    assert (
        "the text has it with other apostrophes, quotation marks or spaces (’ for ', « » for \", "
        "a no-break space for a space): 'les cinq pays d’Asie centrale'"
    ) in problem


def test_a_quote_with_other_words_gets_no_hint(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "les six pays d'Asie centrale")
    assert "quote not found in " in problem and "other apostrophes" not in problem
