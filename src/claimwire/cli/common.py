"""What every command shares: consoles, error reports, progress bars, JSON output."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from claimwire.errors import ClaimwireError
from claimwire.project import SEMVER, Project, current_project

console = Console()
err_console = Console(stderr=True)
if not console.is_terminal and "COLUMNS" not in os.environ:
    console.width = 120  # logs and pipes get whole tables, not 80-column ones


def report_error(error: ClaimwireError) -> None:
    err_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout (never mixed with progress or colour)."""
    print(json.dumps(data, ensure_ascii=False, indent=2))


def progress_bar() -> Progress:
    """A progress bar on stderr that disappears when done."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def project() -> Project:
    """The project the command runs in (``--project``, else found from the cwd)."""
    return current_project()


def chosen_release(release: Path | None) -> Path:
    """The release a command works on: the one given (a folder, or a version X.Y.Z of the
    project), else the project's newest. Says which on stderr."""
    if release is None:
        release = current_project().newest_release()
    elif not release.exists() and SEMVER.fullmatch(str(release)):
        release = current_project().releases / str(release)
    err_console.print(f"release {escape(release.name)} ({escape(str(release))})", style="dim")
    return release
