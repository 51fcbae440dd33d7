"""``claimwire corpus``: build, validate, inspect and compare releases."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from claimwire.cli.common import console, print_json, progress_bar
from claimwire.corpus.release import build_release, diff_releases, open_release
from claimwire.corpus.stats import release_stats
from claimwire.corpus.validate import (
    CODES,
    MAX_LEVEL,
    cap_per_code,
    summarize,
    validate_release,
)

corpus_app = typer.Typer(help="Build, validate, inspect and compare corpus releases.")

RAW_DIR = Path("corpus/raw")
RELEASES_DIR = Path("corpus/releases")


def _validation_messages(path: Path, parent: str | None) -> list[str]:
    return [str(problem) for problem in validate_release(path)]


@corpus_app.command("build")
def build(
    version: str = typer.Option(..., "--version", help="The new release's version, X.Y.Z."),
    raw: Path = typer.Option(RAW_DIR, help="Folder of raw inputs (.txt, .html, .jsonl)."),
    out: Path = typer.Option(RELEASES_DIR, help="Folder that holds the releases."),
    parent: str | None = typer.Option(None, help="The release this one follows, X.Y.Z."),
) -> None:
    """Ingest raw inputs into a new, immutable release folder OUT/VERSION.

    The release is staged and validated, then renamed into place: an interrupted or invalid
    build leaves nothing behind. The corpus changelog beside OUT is regenerated.
    """
    with progress_bar() as progress:
        task = progress.add_task("Building", total=None, detail="")

        def on_progress(files_done: int, files_total: int, documents: int) -> None:
            progress.update(
                task, completed=files_done, total=files_total, detail=f"{documents} documents"
            )

        report = build_release(
            raw, out, version, parent=parent, progress=on_progress, validate=_validation_messages
        )
    counts = report.manifest["counts"]
    changes = report.documents
    console.print(
        f"[green]Built[/] release [bold]{version}[/] in {escape(str(report.path))}\n"
        f"  documents {counts['documents']} (added {len(changes.added)}, removed "
        f"{len(changes.removed)}, changed {len(changes.changed)}), paragraphs "
        f"{counts['paragraphs']}, sentences {counts['sentences']}, annotations "
        f"{counts['annotations']}, relations {counts['relations']}\n"
        f"  changelog: {escape(str(report.changelog))}"
    )


@corpus_app.command("validate")
def validate(
    path: Path = typer.Argument(..., help="A release folder, e.g. corpus/releases/0.1.0."),
    level: int = typer.Option(MAX_LEVEL, min=1, max=MAX_LEVEL, help="Highest level to check."),
    as_json: bool = typer.Option(False, "--json", help="Print problems as JSON."),
    max_per_code: int = typer.Option(20, min=1, help="Show at most this many of each code."),
) -> None:
    """Check a release level by level (1 format, 2 ids/offsets, 3 tiling, 4 schema, 5 parent).

    Prints one line per problem and PASSED or FAILED with N errors; exits 1 on failure.
    """
    problems = validate_release(path, level)
    if as_json:
        print_json(
            {"passed": not problems, "summary": summarize(problems),
             "problems": [p.to_dict() for p in problems]}
        )  # fmt: skip
    else:
        shown, hidden = cap_per_code(problems, max_per_code)
        for problem in shown:
            console.print(escape(str(problem)), style="red", highlight=False, soft_wrap=True)
        for code, count in sorted(hidden.items()):
            console.print(f"... {count} more {code} ({CODES[code][1]})", style="yellow")
        style = "bold green" if not problems else "bold red"
        console.print(summarize(problems), style=style)
    if problems:
        raise typer.Exit(1)


@corpus_app.command("stats")
def stats(
    path: Path = typer.Argument(..., help="A release folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
) -> None:
    """Documents, paragraphs, sentences, characters and label counts per split."""
    data = release_stats(open_release(path))
    if as_json:
        print_json(data)
        return
    splits = data["splits"]
    table = Table(title=f"claimwire corpus {data['version']}")
    table.add_column("")
    for split in splits:
        table.add_column(split, justify="right")
    for row in ("documents", "paragraphs", "sentences", "characters"):
        table.add_row(row, *(f"{splits[s][row]:,}" for s in splits))
    for kind in ("labels", "relations"):
        names = sorted({name for s in splits.values() for name in s[kind]})
        if names:
            table.add_section()
        for name in names:
            table.add_row(name, *(str(splits[s][kind].get(name, 0)) for s in splits))
    console.print(table)


@corpus_app.command("diff")
def diff(
    old: Path = typer.Argument(..., help="The older release folder."),
    new: Path = typer.Argument(..., help="The newer release folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the changes as JSON."),
) -> None:
    """Documents added, removed or changed, and annotations kept, moved, added or removed."""
    documents, annotations = diff_releases(open_release(old), open_release(new))
    if as_json:
        print_json({"documents": documents.to_dict(), "annotations": annotations.to_dict()})
        return
    table = Table(title=f"{old.name} → {new.name}")
    table.add_column("")
    table.add_column("count", justify="right")
    rows = [
        ("documents added", len(documents.added)),
        ("documents removed", len(documents.removed)),
        ("documents changed", len(documents.changed)),
        ("documents unchanged", documents.unchanged),
        ("annotations added", len(annotations.added)),
        ("annotations removed", len(annotations.removed)),
        ("annotations moved", len(annotations.reanchored)),
        ("annotations kept", annotations.kept),
        ("relations added", annotations.relations_added),
        ("relations removed", len(annotations.relations_removed)),
    ]
    for name, count in rows:
        table.add_row(name, str(count))
    console.print(table)
