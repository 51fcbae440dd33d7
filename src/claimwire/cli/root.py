"""The ``claimwire`` Typer application: the root group and its lazily loaded commands.

Each command's module is imported only when that command runs (:mod:`claimwire.cli.lazy`),
and heavy libraries only inside the functions that need them: the root's ``--version``,
``--help`` and completion import none of them (``benchmarks/bench_cli.py`` measures it).
"""

from __future__ import annotations

from pathlib import Path

import typer

from claimwire import __version__
from claimwire.cli.commands import COMMANDS
from claimwire.cli.lazy import MARKUP, lazy_group
from claimwire.project import use_project

app = typer.Typer(
    name="claimwire",
    help="Claims, sources and survey statistics in wire press releases: corpus, annotation, "
    "evaluation.",
    cls=lazy_group(COMMANDS),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=MARKUP,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"claimwire {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_show_version, is_eager=True, help="Print the version."
    ),
    project: Path | None = typer.Option(
        None,
        "--project",
        envvar="CLAIMWIRE_PROJECT",
        help="The project folder (holding claimwire.toml) [default: found from the working "
        "directory upwards].",
    ),
) -> None:
    """claimwire: an annotated corpus and evaluation toolkit for wire press releases."""
    use_project(project)
