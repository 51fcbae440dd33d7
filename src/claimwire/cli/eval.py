"""``claimwire eval``: check prediction files and score them against a release."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from claimwire.cli.common import chosen_release, console, err_console, print_json
from claimwire.cli.engine import ENGINE, RAY_ADDRESS
from claimwire.cli.lazy import MARKUP
from claimwire.errors import ClaimwireError
from claimwire.eval.pages import DEFAULT_PAGE_DOCUMENTS
from claimwire.eval.resampling import DEFAULT_RESAMPLES, DEFAULT_SEED, DEFAULT_TRIALS
from claimwire.eval.units import UNIT_KINDS
from claimwire.storage import as_given, is_uri, shown

if TYPE_CHECKING:
    from rich.table import Table

    from claimwire.eval.evaluate import Evaluation, SystemResult
    from claimwire.eval.report import Leaderboard

FORMATS = ("text", "json", "csv", "markdown")

eval_app = typer.Typer(
    add_completion=False,  # the root command installs completion for every command
    rich_markup_mode=MARKUP,
    help="Check and score predictions against a release's gold.",
)


def _rich(board: Leaderboard) -> Table:
    from rich.table import Table

    table = Table(title=escape(board.title))
    for i, column in enumerate(board.header):
        table.add_column(escape(column), justify="left" if i == 0 else "right")
    for row in board.rows:
        table.add_row(*(escape(cell) for cell in row))
    return table


def _detail_columns(board: Leaderboard, schemes: int) -> Leaderboard:
    """The columns of a span leaderboard after the per-scheme F1s."""
    from claimwire.eval.report import Leaderboard

    keep = [0, *range(schemes + 1, len(board.header))]
    return Leaderboard(
        "details",
        tuple(board.header[i] for i in keep),
        tuple(tuple(row[i] for i in keep) for row in board.rows),
    )


def say_release_task(evaluation: Evaluation) -> None:
    """Name the task definition on stderr when it is the release's own (it wins over the
    project's)."""
    path = evaluation.task.path
    if path is not None and path.parent == evaluation.release / "tasks":
        err_console.print(
            f"task {escape(evaluation.task.name)}: the release's own tasks/{escape(path.name)}",
            highlight=False,
        )


def print_leaderboard(results: list[SystemResult]) -> None:
    """The scheme table, then (span tasks) a second table with the other columns."""
    from claimwire.eval.report import leaderboard

    board = leaderboard(results)
    console.print(_rich(leaderboard(results, details=False)))
    schemes = len(results[0].task.schemes)
    if results[0].task.kind == "spans" and len(board.header) > schemes + 1:
        console.print(_rich(_detail_columns(board, schemes)))


@eval_app.command("check")
def check(
    predictions: str = typer.Argument(
        ..., help="A prediction JSONL file (or set folder), local or a URI (s3://BUCKET/KEY)."
    ),
    release: str | None = typer.Option(
        None,
        help="The release the predictions are for (folder or X.Y.Z) [default: the newest].",
    ),
    task: str = typer.Option(..., help="Task name (eval/tasks/NAME.yaml) or a task file."),
    fix_offsets: bool = typer.Option(
        False, "--fix-offsets", help="Re-anchor spans whose quote is elsewhere; say what moved."
    ),
    split: str | None = typer.Option(
        None, help="Split the predictions are for [default: the task's]; others are reported."
    ),
    allow_empty: bool = typer.Option(
        False, "--allow-empty", help="Accept a set without records (else an error)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="With --fix-offsets: write the re-anchored set to this JSONL file."
    ),
    force: bool = typer.Option(False, "--force", help="Replace --out if it exists."),
    engine: str = ENGINE,
    ray_address: str | None = RAY_ADDRESS,
) -> None:
    """Run the format checker: JSON, ids, offsets, quotes, labels, values, relations."""
    from claimwire.engine import open_engine
    from claimwire.errors import ClaimwireError
    from claimwire.eval.checker import write_fixed
    from claimwire.eval.completed import completed_path, local_set
    from claimwire.eval.evaluate import Evaluation
    from claimwire.lines import is_compressed
    from claimwire.outputs import check_output

    if out is not None and not fix_offsets:
        raise ClaimwireError("--out writes the re-anchored set: give --fix-offsets too")
    if out is not None and is_compressed(out):
        raise ClaimwireError(
            "--out writes plain JSONL: name it without .zst or .gz (compress it afterwards)",
            file=out,
        )
    check_output(out, inputs=[predictions], force=force)
    check_output(out and completed_path(out), inputs=[predictions], force=force)
    evaluation = Evaluation.open(chosen_release(release), task, split=split)
    say_release_task(evaluation)
    evaluation.engine = open_engine(engine, ray_address)  # once the release is known good
    given, predictions = predictions, str(local_set(predictions))
    report = evaluation.check(Path(predictions), fix_offsets=fix_offsets, allow_empty=allow_empty)
    for fix in report.fixes:
        console.print(f"[yellow]fixed[/] {escape(as_given(fix))}", soft_wrap=True)
    if out is not None:
        count = write_fixed(Path(predictions), report, out)
        console.print(
            f"[green]Wrote[/] {escape(str(out))}: {count} records, {len(report.fixed)} moved"
        )
    for label, count in sorted(report.ignored.items()):
        console.print(f"[yellow]ignored[/] {count} {label} annotations (not part of task {task})")
    if report.repeated_spans:
        console.print(
            f"[yellow]warning[/] {report.repeated_spans} span(s) with the label and offsets of "
            f"another on their document (first: {escape(report.first_repeated)}); as gold, "
            "each is a certain miss",
            soft_wrap=True,
        )
    if report.outside:
        console.print(
            f"[yellow]outside[/] {report.outside} annotations on {report.outside_documents} "
            f"documents not in split {escape(evaluation.split)} (they are not scored)"
        )
    console.print(
        f"[green]OK[/] {escape(shown(given) if is_uri(given) else given)}: {report.annotations} "
        f"annotations and {report.relations} relations for task {task}"
    )


@eval_app.command("score")
def score(
    predictions: list[str] = typer.Argument(
        ..., help="One prediction file per system, local or a URI (s3://BUCKET/KEY)."
    ),
    release: str | None = typer.Option(
        None,
        help="The release whose gold is the reference (folder or X.Y.Z) [default: the newest].",
    ),
    task: str = typer.Option(..., help="Task name (eval/tasks/NAME.yaml) or a task file."),
    gold: str | None = typer.Option(
        None, help="Score against this annotation set (file or URI) instead of the release's gold."
    ),
    split: str | None = typer.Option(None, help="Split to score [default: the task's]."),
    unit: str | None = typer.Option(
        None,
        help=f"Resampling unit: {', '.join(UNIT_KINDS)} [default: document from 30 "
        "documents up, else sentence (spans) or item (stance)].",
    ),
    bootstrap: int = typer.Option(
        DEFAULT_RESAMPLES, min=10, max=100_000, help="Bootstrap resamples."
    ),
    trials: int = typer.Option(DEFAULT_TRIALS, min=10, help="Approximate randomization trials."),
    seed: int = typer.Option(
        DEFAULT_SEED, min=0, max=2**32 - 1, help="Random seed for resampling."
    ),
    output: str = typer.Option(
        "text", "--format", "-f", help="Output: text (tables), json (one shape), csv, markdown."
    ),
    score_only: bool = typer.Option(
        False, "--score-only", "-b", help="Print only each system's primary score, one a line."
    ),
    width: int = typer.Option(
        3, "--width", "-w", min=0, max=12, help="Decimals of --score-only and csv scores."
    ),
    name: list[str] = typer.Option(
        [], "--name", help="A system's name, once per prediction file [default: file names]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Deprecated: use --format json."),
    as_markdown: bool = typer.Option(False, "--markdown", help="Same as --format markdown."),
    html: Path | None = typer.Option(None, help="Write a self-contained error-analysis page."),
    html_documents: int = typer.Option(
        DEFAULT_PAGE_DOCUMENTS,
        min=1,
        help="Documents the --html page shows: those with the most errors.",
    ),
    fix_offsets: bool = typer.Option(False, "--fix-offsets", help="Re-anchor by quote first."),
    allow_empty: bool = typer.Option(
        False, "--allow-empty", help="Score a prediction set without records (else an error)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing --html file that is not a report."
    ),
    engine: str = ENGINE,
    ray_address: str | None = RAY_ADDRESS,
) -> None:
    """Score systems: SemEval schemes (strict, exact, partial, type), character overlap,
    per label, relations, attributes, disclosure, stance — with bootstrap confidence
    intervals and, for several systems, paired significance against the first."""
    from claimwire.engine import open_engine
    from claimwire.eval.compare import score_systems
    from claimwire.eval.completed import local_set
    from claimwire.eval.evaluate import Evaluation
    from claimwire.eval.html import PAGE_BEGINS, write_html_report
    from claimwire.eval.report import leaderboard, markdown, significance_rows
    from claimwire.outputs import check_output, check_rewritable

    output = "markdown" if as_markdown else output
    if output not in FORMATS:
        raise ClaimwireError(f"expected one of {', '.join(FORMATS)}", field="--format")
    check_output(html, inputs=[*predictions, *([gold] if gold else [])], option="--html")
    check_rewritable(html, PAGE_BEGINS, force, "--html", "an HTML report")
    evaluation = Evaluation.open(
        chosen_release(release),
        task,
        gold=None if gold is None else local_set(gold),
        split=split,
        unit=unit,
        resamples=bootstrap,
        seed=seed,
        page_documents=html_documents if html is not None else None,
    )
    evaluation.engine = open_engine(engine, ray_address)  # once the release is known good
    say_release_task(evaluation)
    comparison = score_systems(
        evaluation,
        [local_set(path) for path in predictions],
        names=name,
        trials=trials,
        fix_offsets=fix_offsets,
        allow_empty=allow_empty,
    )
    for fix in comparison.fixes:
        err_console.print(f"[yellow]fixed[/] {escape(as_given(fix))}", soft_wrap=True)
    results = comparison.results
    if html is not None:
        write_html_report(html, evaluation, results)
    if as_json:  # the old shape: one object for one system, a list for several
        err_console.print("note: --json is deprecated; --format json always prints one shape")
        payload = [
            {**r.to_dict(), **({"significance": s} if (s := comparison.significance(i)) else {})}
            for i, r in enumerate(results)
        ]
        print_json(payload if len(payload) > 1 else payload[0])
    elif score_only:
        print("\n".join(comparison.score_lines(width)))
    elif output == "json":
        print_json(comparison.to_json())
    elif output == "csv":
        print(comparison.to_csv(width), end="")
    elif output == "markdown":
        print(markdown(leaderboard(results), evaluation.signature()), end="")
    else:
        print_leaderboard(results)
        if comparison.tests:
            tests = list(zip(results[1:], comparison.tests, strict=True))
            console.print(_rich(significance_rows(results[0], tests)))
        notes = dict.fromkeys(note for r in results for note in r.statistics.notes)
        for note in notes:
            console.print(f"[yellow]note:[/] {escape(note)}")
        console.print(f"[dim]{escape(evaluation.signature())}[/]", soft_wrap=True)
    if html is not None:
        err_console.print(f"HTML report: {escape(str(html))}")
