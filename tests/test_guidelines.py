from pathlib import Path

from claimwire.annotation.guidelines import BEGIN, END, render_tables

from .helpers import REPO, run_cli

GUIDELINES = REPO / "annotation" / "guidelines.md"
SCHEMA = REPO / "annotation" / "schema.yaml"


def test_committed_guidelines_are_in_sync_with_the_schema() -> None:
    result = run_cli("annotate", "guidelines", "--check", "--path", GUIDELINES, "--schema", SCHEMA)
    assert result.returncode == 0, result.stderr


def test_a_schema_change_makes_the_check_fail_until_regenerated(tmp_path: Path) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text(
        SCHEMA.read_text(encoding="utf-8").replace(
            "values: [FAVOR, AGAINST, NONE]", "values: [FAVOR, AGAINST, NEUTRAL, NONE]"
        ),
        encoding="utf-8",
    )
    guidelines = tmp_path / "guidelines.md"
    guidelines.write_text(GUIDELINES.read_text(encoding="utf-8"), encoding="utf-8")
    args = ("annotate", "guidelines", "--path", guidelines, "--schema", schema)
    failed = run_cli(*args, "--check")
    assert failed.returncode == 1 and "out of date" in failed.stderr
    assert run_cli(*args).returncode == 0
    text = guidelines.read_text(encoding="utf-8")
    assert "`NEUTRAL`" in text and text.count(BEGIN) == 1 and text.count(END) == 1
    assert run_cli(*args, "--check").returncode == 0


def test_tables_list_every_label_and_field() -> None:
    from claimwire.annotation.schema import load_schema

    schema = load_schema(SCHEMA)
    tables = render_tables(schema)
    for name in [
        *schema.labels,
        *schema.relations,
        *schema.disclosure_fields,
        *schema.stance_targets,
    ]:
        assert f"`{name}`" in tables


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"\w+", text.casefold().replace("’", "'"))


def _shared_windows(text: str, size: int = 8) -> set[tuple[str, ...]]:
    """Runs of ``size`` words that ``text`` shares with a test-split document."""
    from claimwire.corpus.release import open_release

    words = _words(text)
    windows = {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}
    release = open_release(REPO / "corpus" / "releases" / "1.1.0")
    shared: set[tuple[str, ...]] = set()
    for document in release.documents():
        if document.split == "test":
            seen = _words(document.text)
            shared |= windows & {tuple(seen[i : i + size]) for i in range(len(seen) - size + 1)}
    return shared


def test_no_guideline_example_quotes_a_test_split_document() -> None:
    """Worked examples are written for the guidelines: no eight consecutive words of them
    occur in a document of the test split (the generated tables are the schema's words)."""
    text = GUIDELINES.read_text(encoding="utf-8").split(BEGIN)[0]
    assert _shared_windows(text) == set()
    quoted = text + "\nExample: « Ce Traité vise à consacrer par la loi le principe »."
    assert _shared_windows(quoted)  # the check catches a quoted sentence


def test_schema_text_stays_text_in_the_tables(tmp_path: Path) -> None:
    """A value holding ``|`` keeps its row's cells; a description's HTML and heading marks
    show as written (markdown-it-py renders what a reader sees)."""
    from markdown_it import MarkdownIt

    from claimwire.annotation.schema import load_schema

    schema = tmp_path / "schema.yaml"
    schema.write_text(
        SCHEMA.read_text(encoding="utf-8")
        .replace("values: [FAVOR, AGAINST, NONE]", "values: [FAVOR, P|Q, NONE]")
        .replace("Full Fact's claim type.", '"<script>alert(1)</script> # Heading"', 1),
        encoding="utf-8",
    )
    html = MarkdownIt("commonmark").enable("table").render(render_tables(load_schema(schema)))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; # Heading" in html
    stance_row = next(row for row in html.split("<tr>") if "P|Q" in row)
    assert stance_row.count("<td>") == 5 and "<code>P|Q</code>" in stance_row
