"""``claimwire corpus``: build, validate, inspect and compare releases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from claimwire.annotation.checks import legacy_note
from claimwire.annotation.checks import validate as validate_release
from claimwire.annotation.schema import CODES as SCHEMA_CODES
from claimwire.build import build as build_project_release
from claimwire.cli.common import (
    chosen_release,
    console,
    err_console,
    print_json,
    progress_bar,
    project,
)
from claimwire.cli.engine import ENGINE, RAY_ADDRESS
from claimwire.cli.lazy import MARKUP
from claimwire.corpus.duplicates import DEFAULT_THRESHOLD
from claimwire.corpus.release import (
    DEFAULT_SHARD_RECORDS,
    Sharding,
    diff_releases,
    open_release,
)
from claimwire.corpus.stats import release_stats
from claimwire.corpus.validate import CODES, MAX_LEVEL, cap_per_code, summarize
from claimwire.engine import open_engine
from claimwire.outputs import check_output
from claimwire.project import find_project
from claimwire.storage import local

SHOWN_REPEATED = 5
"""Repeated annotation ids ``corpus diff`` names per side (``--json`` lists every one)."""

corpus_app = typer.Typer(
    add_completion=False,  # the root command installs completion for every command
    rich_markup_mode=MARKUP,
    help="Build, validate, inspect and compare corpus releases.",
)


def _surveys_table(summary: dict[str, Any]) -> Table | None:
    surveys = summary.get("surveys") or []
    if not surveys:
        return None
    table = Table(title="SURVEY disclosure (core: 6 fields; full: core ×2, extended ×1)")
    for column in ("survey", "core", "full", "risk flags"):
        table.add_column(column, justify="right" if column in ("core", "full") else "left")
    for survey in surveys:
        scores = survey["disclosure"]
        table.add_row(
            escape(str(survey.get("name") or survey["id"])),
            _score(scores["core"]),
            _score(scores["full"]),
            ", ".join(survey.get("flags") or []) or "none",
        )
    more = summary.get("more_surveys")
    if more:  # the surveys past those listed: their count, mean scores and flag counts
        table.add_section()
        flags = ", ".join(f"{name} {count}" for name, count in sorted(more["flags"].items()))
        table.add_row(
            f"… {more['count']:,} more (mean)",
            _score(more["mean_core"]),
            _score(more["mean_full"]),
            escape(flags) or "none",
        )
    return table


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@corpus_app.command("build")
def build(
    version: str = typer.Option(..., "--version", help="The new release's version, X.Y.Z."),
    raw: str | None = typer.Option(
        None,
        help="Folder of raw inputs (.txt, .html, .jsonl, .jsonl.gz, .jsonl.zst), or a URI prefix "
        "(s3://BUCKET/KEY) [default: the project's corpus/raw].",
    ),
    out: Path | None = typer.Option(
        None, help="Folder that holds the releases [default: the project's corpus/releases]."
    ),
    parent: str | None = typer.Option(
        None,
        help="The release this one follows, X.Y.Z (its gold is carried, its splits kept); "
        "needed once OUT holds a release, unless --no-parent.",
    ),
    no_parent: bool = typer.Option(
        False,
        "--no-parent",
        help="Start a new lineage where OUT already holds releases: no gold carried, splits "
        "drawn again.",
    ),
    allow_gold_loss: bool = typer.Option(
        False,
        "--allow-gold-loss",
        help="Build even if more than half of the parent's gold would be dropped (its "
        "documents no longer pair with the new ones, or their quotes are gone).",
    ),
    gold: str | None = typer.Option(
        None,
        help="Gold: quote-anchored YAML (annotation/gold) or an annotation set with offsets "
        "(e.g. `annotate adjudicate` output); else the parent's gold is kept, re-anchored.",
    ),
    schema: Path | None = typer.Option(
        None,
        help="Annotation schema to check gold with and ship [default: annotation/schema.yaml].",
    ),
    tasks: Path | None = typer.Option(
        None,
        help="Folder of task definitions (*.yaml) to ship in the release's tasks/ "
        "[default: the project's eval/tasks, when it exists].",
    ),
    near_duplicates: float = typer.Option(
        DEFAULT_THRESHOLD,
        min=0.01,
        max=1.0,
        help="Leave out a document whose word 5-gram Jaccard similarity (MinHash) with one "
        "already ingested reaches this; exact duplicates are always left out.",
    ),
    shard_records: int = typer.Option(
        DEFAULT_SHARD_RECORDS,
        min=1,
        help="Write a record file with more records than this as numbered shards of this size.",
    ),
    compress: bool = typer.Option(
        False, help="Write the record files as zstd-compressed shards (.jsonl.zst)."
    ),
    engine: str = ENGINE,
    ray_address: str | None = RAY_ADDRESS,
) -> None:
    """Ingest raw inputs into a new, immutable release folder OUT/VERSION.

    The release is staged and validated, then renamed into place: an interrupted or invalid
    build leaves nothing behind. The corpus changelog (OUT/CHANGELOG.md) is regenerated.
    """
    given = project().raw if raw is None else raw
    check_output(out, inputs=[given])  # a release among raw inputs is read by the next build
    raw_dir = local(given)
    out = out or project().releases
    runner = open_engine(engine, ray_address)
    with progress_bar() as progress:
        task = progress.add_task("Building", total=None, detail="")

        def on_progress(files_done: int, files_total: int, documents: int) -> None:
            progress.update(
                task, completed=files_done, total=files_total, detail=f"{documents} documents"
            )

        report = build_project_release(
            raw_dir,
            out,
            version,
            parent=parent,
            new_lineage=no_parent,
            allow_gold_loss=allow_gold_loss,
            gold=None if gold is None else local(gold),
            schema=schema,
            tasks=tasks,
            near_duplicates=near_duplicates,
            progress=on_progress,
            sharding=Sharding(shard_records, compress),
            engine=runner,
            lang=project_language(),
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
    for duplicate in report.duplicates.first:
        console.print(f"  [yellow]duplicate left out[/]: {escape(duplicate.describe())}")
    if len(report.duplicates) > len(report.duplicates.first):
        more = len(report.duplicates) - len(report.duplicates.first)
        console.print(
            f"  [yellow]… and {more} more duplicates left out[/] (listed in the release's "
            "duplicates.jsonl)"
        )
    if report.unread:
        err_console.print(
            f"[yellow]warning:[/] {escape(report.unread)}", highlight=False, soft_wrap=True
        )
    other = report.languages.note() if report.languages is not None else None
    if other:
        err_console.print(f"[yellow]note:[/] {escape(other)}", highlight=False, soft_wrap=True)


def project_language() -> str | None:
    """The language the project declares (``claimwire.toml``'s ``lang``), None outside a
    project or when it names none."""
    found = find_project()
    return found.lang if found is not None else None


@corpus_app.command("validate")
def validate(
    path: str | None = typer.Argument(
        None, help="A release folder, a URI (s3://BUCKET/KEY) or X.Y.Z [default: the newest]."
    ),
    level: int = typer.Option(MAX_LEVEL, min=1, max=MAX_LEVEL, help="Highest level to check."),
    as_json: bool = typer.Option(False, "--json", help="Print problems as JSON."),
    max_per_code: int = typer.Option(20, min=1, help="Show at most this many of each code."),
) -> None:
    """Check a release level by level (1 format, 2 ids/offsets, 3 tiling, 4 schema, 5 parent).

    Prints one line per problem and PASSED or FAILED with N errors; exits 1 on failure.
    """
    release = chosen_release(path, with_parent=True)
    problems = validate_release(release, level, warnings=True)
    failed = any(not p.is_warning for p in problems)
    legacy = legacy_note(release)
    if legacy:
        err_console.print(f"[yellow]warning:[/] {escape(legacy)}", highlight=False, soft_wrap=True)
    if as_json:
        print_json(
            {
                "passed": not failed,
                "summary": summarize(problems),
                "problems": problems.dicts(),  # read back from disk as printed
                "warnings": [legacy] if legacy else [],
            }
        )
    else:
        shown, hidden = cap_per_code(problems, max_per_code)
        for problem in shown:
            style = "yellow" if problem.is_warning else "red"
            console.print(escape(str(problem)), style=style, highlight=False, soft_wrap=True)
        for code, count in sorted(hidden.items()):
            meaning = CODES.get(code, (4, SCHEMA_CODES.get(code, "")))[1]
            console.print(f"... {count} more {code} ({meaning})", style="yellow")
        console.print(summarize(problems), style="bold red" if failed else "bold green")
    if failed:
        raise typer.Exit(1)


@corpus_app.command("stats")
def stats(
    path: str | None = typer.Argument(
        None, help="A release folder, a URI (s3://BUCKET/KEY) or X.Y.Z [default: the newest]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
) -> None:
    """Documents, paragraphs, sentences, characters and label counts per split."""
    release = open_release(chosen_release(path))
    data = release_stats(release)
    summary = release.manifest.get("gold_summary") or {}
    if summary:
        data["gold_summary"] = summary
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
    surveys = _surveys_table(summary)
    if surveys is not None:
        console.print(surveys)


@corpus_app.command("diff")
def diff(
    old: str = typer.Argument(..., help="The older release: a folder, a URI or X.Y.Z."),
    new: str = typer.Argument(..., help="The newer release: a folder, a URI or X.Y.Z."),
    as_json: bool = typer.Option(False, "--json", help="Print the changes as JSON."),
) -> None:
    """Documents added, removed or changed, and annotations kept, moved, added or removed."""
    before, after = open_release(chosen_release(old)), open_release(chosen_release(new))
    documents, annotations = diff_releases(before, after)
    if as_json:
        kept = lambda ids: ids  # noqa: E731 (a spooled list is printed as it is read back)
        print_json({"documents": documents.to_dict(kept), "annotations": annotations.to_dict(kept)})
        return
    table = Table(title=f"{before.path.name} → {after.path.name}")
    table.add_column("")
    table.add_column("count", justify="right")
    rows = [
        ("documents added", len(documents.added)),
        ("documents removed", len(documents.removed)),
        ("documents changed", len(documents.changed)),
        ("documents unchanged", documents.unchanged),
        ("annotations added", len(annotations.added)),
        ("annotations removed", len(annotations.removed)),
        ("annotations renamed (same label and span)", len(annotations.renamed)),
        ("annotations moved", len(annotations.reanchored)),
        ("annotations kept", annotations.kept),
        ("relations added", annotations.relations_added),
        ("relations removed", len(annotations.relations_removed)),
    ]
    rows += [
        (f"annotations left out, id repeated ({side} side)", len(repeated))
        for side, repeated in annotations.duplicates.items()
        if repeated
    ]
    for name, count in rows:
        table.add_row(name, str(count))
    console.print(table)
    for side, repeated in annotations.duplicates.items():
        if repeated:
            named = ", ".join(f"{r.where()} {r.id!r}" for r in repeated[:SHOWN_REPEATED])
            rest = len(repeated) - SHOWN_REPEATED
            more = f" and {rest} more" if rest > 0 else ""
            console.print(
                f"[yellow]note:[/] the {side} side repeats annotation ids, each left out after "
                f"its first (`corpus validate` lists them): {escape(named)}{more}"
            )
