"""``claimwire numbers`` and ``claimwire annotate``: schema, gold and guidelines tools."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from claimwire.annotation.gold import gold_files, resolve_gold
from claimwire.annotation.guidelines import sync_guidelines
from claimwire.annotation.numbers import find_quantities
from claimwire.annotation.schema import load_schema
from claimwire.cli.common import console, err_console
from claimwire.corpus.release import open_release
from claimwire.model import write_records_atomically


def numbers(
    text: str = typer.Argument(..., help="French (or English) text to read quantities from."),
    lang: str = typer.Option("fr", help="Language: 'fr' reads billion as 1e12, 'en' as 1e9."),
) -> None:
    """Print one JSON object per quantity: start, end, text, value, unit, qualifier."""
    for quantity in find_quantities(text, lang=lang):
        print(json.dumps(quantity.to_dict(), ensure_ascii=False))


annotate_app = typer.Typer(help="Annotation tools: resolve gold, generate guidelines tables.")


@annotate_app.command("resolve")
def resolve(
    gold: Path = typer.Argument(..., help="A gold YAML file or a folder of them."),
    release: Path = typer.Option(..., help="The release whose documents the gold annotates."),
    out: Path = typer.Option(..., help="Folder to write annotations.jsonl and relations.jsonl."),
    schema: Path | None = typer.Option(None, help="Schema [default: annotation/schema.yaml]."),
) -> None:
    """Resolve quote-anchored gold to offsets, checked against the schema.

    Every problem (quote not found, ambiguous quote without occurrence, value outside the
    schema) is reported with its file and line, and nothing is written.
    """
    rules = load_schema(schema)
    annotations, relations = resolve_gold(
        gold_files(gold), open_release(release).documents(), rules
    )
    out.mkdir(parents=True, exist_ok=True)
    write_records_atomically(out / "annotations.jsonl", annotations)
    write_records_atomically(out / "relations.jsonl", relations)
    console.print(
        f"[green]Resolved[/] {len(annotations)} annotations and {len(relations)} relations "
        f"into {escape(str(out))}"
    )


@annotate_app.command("guidelines")
def guidelines(
    path: Path = typer.Option(Path("annotation/guidelines.md"), help="The guidelines file."),
    schema: Path | None = typer.Option(None, help="Schema [default: annotation/schema.yaml]."),
    check: bool = typer.Option(False, "--check", help="Only check; exit 1 if out of date."),
) -> None:
    """Regenerate the guidelines' tables of labels, attributes and fields from the schema."""
    in_sync = sync_guidelines(path, load_schema(schema), check)
    if in_sync:
        console.print(f"{escape(str(path))} is in sync with the schema")
    elif check:
        err_console.print(
            f"[red]{escape(str(path))} is out of date[/]: run `claimwire annotate guidelines`"
        )
        raise typer.Exit(1)
    else:
        console.print(f"[green]Updated[/] the tables in {escape(str(path))}")
