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
