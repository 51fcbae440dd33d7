"""``claimwire hub``: export, publish and load the corpus as a Hugging Face dataset."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from claimwire.cli.common import chosen_release, console, err_console
from claimwire.cli.lazy import MARKUP
from claimwire.storage import refuse_remote_out

if TYPE_CHECKING:
    from rich.table import Table

hub_app = typer.Typer(
    add_completion=False,  # the root command installs completion for every command
    rich_markup_mode=MARKUP,
    help="Export, publish and load the corpus as a Hugging Face dataset.",
)


def _files_table(title: str, files: list) -> Table:  # type: ignore[type-arg]
    from rich.table import Table

    table = Table(title=title)
    for column in ("file", "bytes", "sha256"):
        table.add_column(column, justify="right" if column == "bytes" else "left")
    for item in files:
        table.add_row(escape(item.path), f"{item.bytes:,}", item.sha256[:16] + "…")
    return table


@hub_app.command("export")
def export(
    release: str | None = typer.Argument(
        None, help="A release folder, a URI (s3://BUCKET/KEY) or X.Y.Z [default: the newest]."
    ),
    out: Path = typer.Option(..., help="Folder to write the Hub layout into."),
    force: bool = typer.Option(False, "--force", help="Replace a non-empty OUT."),
    repo_id: str | None = typer.Option(
        None, "--repo-id", help="The repository the card's loading example names, ORG/NAME."
    ),
) -> None:
    """Write parquet per config and split, the dataset card and croissant.json."""
    from claimwire.hub.export import export_release

    refuse_remote_out(out)
    folder = chosen_release(release, with_parent=True)
    files = export_release(folder, out, force=force, repo_id=repo_id)
    console.print(_files_table(f"exported {folder.name} to {out}", files))


@hub_app.command("publish")
def publish(
    release: str = typer.Argument(..., help="A release folder or X.Y.Z."),
    repo_id: str = typer.Option(..., "--repo-id", help="The dataset repository, ORG/NAME."),
    private: bool = typer.Option(False, "--private", help="Create the repository private."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would be uploaded."),
) -> None:
    """Upload the release in one commit and tag it vX.Y.Z (refused if the tag exists).

    The token comes from HF_TOKEN or the Hugging Face login and is never printed; without
    one nothing is sent and the exit code is 1 (with --dry-run, 0)."""
    from claimwire.hub.publish import publish as publish_release

    report = publish_release(
        chosen_release(release),
        repo_id,
        private=private,
        dry_run=dry_run,
        endpoint=os.environ.get("HF_ENDPOINT"),
    )
    title = (
        f"uploaded to {repo_id} as {report.tag}"
        if report.sent
        else f"would upload to {repo_id} and tag {report.tag} ({report.reason})"
    )
    console.print(_files_table(title, report.files))
    if report.sent:
        console.print(f"[green]Published[/] commit {report.commit}, tag {report.tag}: {report.url}")
    else:
        err_console.print(f"[yellow]Nothing was sent[/]: {report.reason}.")
        if not dry_run:  # a job that meant to publish must not pass
            raise typer.Exit(1)


@hub_app.command("load")
def load(
    source: str = typer.Argument(..., help="A release folder, an export folder, or X.Y.Z."),
    config: str = typer.Option(
        "documents",
        help="The config: documents, or one of the export's (an unknown name lists them).",
    ),
    repo_id: str | None = typer.Option(None, "--repo-id", help="The Hub repository, for X.Y.Z."),
) -> None:
    """Load one config with `datasets` and print its splits and columns."""
    from rich.table import Table

    from claimwire.hub.load import load_corpus

    dataset = load_corpus(source, config, repo_id=repo_id)
    table = Table(title=f"{source} · {config}")
    for column in ("split", "rows", "columns"):
        table.add_column(column)
    for split, part in dataset.items():
        table.add_row(split, str(part.num_rows), escape(", ".join(part.column_names)))
    console.print(table)
