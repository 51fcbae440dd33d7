"""Names and texts from data stay text in the Markdown claimwire writes (dataset card,
leaderboard): rendered by a real CommonMark renderer, no tag or link of theirs survives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release
from claimwire.eval.report import Leaderboard, markdown
from claimwire.hub.card import render_card
from claimwire.markup import md_code, md_text

from .helpers import REPO

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](http://evil.example/x.png)",
    "a | b\n| c",
    "`code` and *bold* and _em_ and ~~gone~~",
    "&lt;script&gt; already escaped",
]
RENDER = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def _safe(rendered: str) -> None:
    lowered = rendered.lower()
    for tag in ("<script", "<img", "<a ", "<em>", "<strong>", "<s>", "<del>"):
        assert tag not in lowered, rendered


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_renders_as_the_text_itself(text: str) -> None:
    rendered = RENDER.renderInline(md_text(text))
    _safe(rendered)
    plain = " ".join(text.split())
    unescaped = rendered.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert unescaped.replace("&amp;", "&") == plain
    _safe(RENDER.renderInline(md_code(text)))


def test_a_leaderboard_with_hostile_names_keeps_its_shape() -> None:
    board = Leaderboard(
        "claims — " + HOSTILE[0],
        ("system", "strict F1"),
        tuple((name, "0.500") for name in HOSTILE),
    )
    page = markdown(board, signature="task:x`<script>`|v:1")
    rendered = RENDER.render(page)
    _safe(rendered)
    assert rendered.count("<tr>") == len(HOSTILE) + 1  # no row cut or merged
    assert rendered.count("<td") == 2 * len(HOSTILE)


def test_the_dataset_card_escapes_the_release_and_schema_it_describes(tmp_path: Path) -> None:
    """Before: a survey named ``<script>…`` and a label description with a link went into the
    card as they were (the Hub renders the card)."""
    source = REPO / "corpus" / "releases" / "1.1.0"
    release = open_release(source)
    text = (source / "schema.yaml").read_text(encoding="utf-8")
    hostile_description = "The stance <script>alert(1)</script> [x](javascript:alert(1)) | cut"
    text = text.replace(
        "description: The stance of the issuer", f"description: '{hostile_description}' #", 1
    )
    (tmp_path / "schema.yaml").write_text(text, encoding="utf-8")
    schema = load_schema(tmp_path / "schema.yaml")
    manifest = dict(release.manifest)
    manifest["parent"] = "0.1.0`<img src=x onerror=alert(1)>"
    manifest["gold_summary"] = {
        "surveys": [
            {"name": name, "disclosure": {"core": 0.5, "full": 0.5}, "flags": [HOSTILE[2]]}
            for name in HOSTILE
        ]
    }
    card = render_card(
        dataclasses.replace(release, manifest=manifest),
        schema,
        [],
        [],
        "## Changes\n\n- <script>alert(2)</script> added\n- `id[1]` kept\n"
        "[click](javascript:alert(3))\n![x](http://evil.example/x.png)\n[r]: javascript:alert(4)\n"
        "[r]\n",
    )
    assert "<script>" not in card
    rendered = RENDER.render(card)
    _safe(rendered)
    assert "alert(1)" in rendered and "alert(2)" in rendered  # shown, as text
    assert "[click](javascript:alert(3))" in rendered and "[r]: javascript:alert(4)" in rendered
    assert "<a href" not in rendered and "<code>id[1]</code>" in rendered
