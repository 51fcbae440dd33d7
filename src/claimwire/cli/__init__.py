"""The ``claimwire`` command line: a thin layer over the library API."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from claimwire import __version__
from claimwire.cli.annotation import annotate_app, numbers
from claimwire.cli.common import report_error
from claimwire.cli.convert import convert_command
from claimwire.cli.corpus import corpus_app
from claimwire.cli.eval import eval_app
from claimwire.cli.hub import hub_app
from claimwire.cli.label_studio import label_studio_config, pull_command, push_command
from claimwire.cli.systems import benchmark_command, run, systems
from claimwire.errors import ClaimwireError
from claimwire.project import use_project

app = typer.Typer(
    name="claimwire",
    help="Claims, sources and survey statistics in wire press releases: corpus, annotation, "
    "evaluation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(corpus_app, name="corpus")
annotate_app.command("config")(label_studio_config)
annotate_app.command("push")(push_command)
annotate_app.command("pull")(pull_command)
app.add_typer(annotate_app, name="annotate")
app.add_typer(eval_app, name="eval")
app.add_typer(hub_app, name="hub")
app.command("convert")(convert_command)
app.command("numbers")(numbers)
app.command("run")(run)
app.command("systems")(systems)
app.command("benchmark")(benchmark_command)


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


def main() -> None:
    """Console entry point: user errors become one clear message and exit code 1."""
    try:
        app()
    except ClaimwireError as error:
        report_error(error)
        sys.exit(1)
