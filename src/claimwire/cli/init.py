"""``claimwire init``: scaffold a project."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from claimwire.cli.common import console


def init_command(
    folder: Path = typer.Argument(..., help="The new project's folder (new or empty)."),
    lang: str = typer.Option("fr", help="The language of the project's documents."),
) -> None:
    """Create a project: claimwire.toml, corpus/raw/, the default schema, guidelines and Label
    Studio configs generated from it, the benchmark tasks, a README and a .gitignore."""
    from claimwire.outputs import check_not_in_release, check_output
    from claimwire.scaffold import init_project

    if folder.is_dir() and not folder.is_symlink():  # filled in place, never replaced
        check_not_in_release(folder, "FOLDER")
    else:
        check_output(folder, option="FOLDER")
    files = init_project(folder, lang)
    console.print(f"[green]Created[/] project {escape(str(folder))} ({len(files)} files)")
    console.print(
        f"Next: put raw releases in {escape(str(folder / 'corpus' / 'raw'))}, then "
        "`claimwire corpus build --version 0.1.0` inside the project."
    )
