"""``claimwire numbers`` and ``claimwire annotate``: schema, gold and guidelines tools."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from claimwire.cli.common import chosen_release, console, err_console, print_json, project
from claimwire.cli.label_studio import label_studio_config, pull_command, push_command
from claimwire.cli.lazy import MARKUP
from claimwire.errors import ClaimwireError

if TYPE_CHECKING:
    from claimwire.eval.agreement import AgreementReport, Statistic


def numbers(
    text: str = typer.Argument(..., help="The text to read quantities from."),
    lang: str = typer.Option(
        "fr",
        help="Language: 'fr' (decimal comma, long scale: billion = 1e12); any other is read "
        "the English way (decimal point, short scale: billion = 1e9). In every language: "
        "Arabic-Indic digits, separators and percent signs, the full-width percent; a figure "
        "may touch a Chinese, Japanese or Thai letter; dates ('3 mars' in French, '3 March', "
        "'March 3, 2025', a month in any case before a year, and their Arabic and Chinese "
        "forms) are not quantities.",
    ),
) -> None:
    """Print one JSON object per quantity: start, end, text, value, unit, qualifier."""
    from claimwire.annotation.numbers import find_quantities

    for quantity in find_quantities(text, lang=lang):
        print(json.dumps(quantity.to_dict(), ensure_ascii=False))


annotate_app = typer.Typer(
    add_completion=False,  # the root command installs completion for every command
    rich_markup_mode=MARKUP,
    help="Annotation tools: resolve gold, generate guidelines tables.",
)


@annotate_app.command("resolve")
def resolve(
    gold: Path = typer.Argument(..., help="A gold YAML file or a folder of them."),
    release: Path = typer.Option(
        ..., help="The release whose documents the gold annotates (folder or X.Y.Z)."
    ),
    out: Path = typer.Option(..., help="Folder to write annotations.jsonl and relations.jsonl."),
    schema: Path | None = typer.Option(None, help="Schema [default: annotation/schema.yaml]."),
) -> None:
    """Resolve quote-anchored gold to offsets, checked against the schema.

    Every problem (quote not found, ambiguous quote without occurrence, value outside the
    schema) is reported with its file and line, and nothing is written.
    """
    from claimwire.annotation.gold import gold_files, resolve_gold
    from claimwire.annotation.schema import load_schema
    from claimwire.corpus.release import open_release
    from claimwire.model import write_records_atomically
    from claimwire.outputs import check_output

    for name in ("annotations.jsonl", "relations.jsonl"):
        check_output(out / name, inputs=[gold])
    rules = load_schema(schema)
    annotations, relations = resolve_gold(
        gold_files(gold), open_release(chosen_release(release)).documents(), rules
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
    path: Path | None = typer.Option(
        None, help="The guidelines file [default: the project's annotation/guidelines.md]."
    ),
    schema: Path | None = typer.Option(None, help="Schema [default: annotation/schema.yaml]."),
    check: bool = typer.Option(False, "--check", help="Only check; exit 1 if out of date."),
) -> None:
    """Regenerate the guidelines' tables of labels, attributes and fields from the schema."""
    from claimwire.annotation.guidelines import sync_guidelines
    from claimwire.annotation.schema import load_schema
    from claimwire.outputs import check_output

    check_output(None if check else path, option="--path")
    path = path or project().guidelines
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


@annotate_app.command("agree")
def agree(
    sets: list[Path] = typer.Argument(
        ..., help="Two or more annotation sets (JSONL files or folders)."
    ),
    release: Path | None = typer.Option(
        None, help="The release they annotate (folder or X.Y.Z) [default: the newest]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    missing: str = typer.Option(
        "both",
        help="An optional attribute one side left empty: 'skip' the span, count 'value' "
        "(empty) as a value, or report 'both'.",
    ),
) -> None:
    """Inter-annotator agreement: pairwise F1 per scheme (pooled and per label), unitizing α
    per label, relation agreement (attributed_to, cue, from_survey, evidence_of), κ and α on
    attributes and stance, and the survey's checklist, sampling type, risk flags and name.
    The sets are read a batch of documents at a time."""
    from claimwire.eval.agreement import MISSING_MODES, json_ready
    from claimwire.eval.agreement_files import agreement_sums_of_files

    if missing not in MISSING_MODES:
        raise ClaimwireError(
            f"--missing must be one of {', '.join(MISSING_MODES)}, got {missing!r}"
        )
    sums = agreement_sums_of_files(sets, chosen_release(release), missing)  # type: ignore[arg-type]
    if as_json:
        print_json(json_ready(sums.streamed()))
        return
    _print_agreement(sums.streamed())


def _value(statistic: Statistic) -> str:
    if statistic.value is None:
        return f"— ({statistic.reason})"
    return f"{statistic.value:.3f} (n={statistic.units})"


PAIRS_SHOWN = 10
"""Past this many pairs, the printed report summarises them: the distribution of pairwise
F1 and the worst pairs, pooled statistics only (``--json`` holds every pair)."""
WORST = 5


def _print_agreement(found: dict[str, Any]) -> None:
    from rich.table import Table

    from claimwire.eval.agreement import AgreementReport

    schemes = ["strict", "exact", "partial", "type", "overlap"]
    pairs = len(found["documents"].get("pairs", {}))
    if pairs > PAIRS_SHOWN:
        _print_pair_summary(found["pairwise_f1"], schemes)
    else:
        table = Table(title="pairwise F1 (one set as reference, the other as prediction)")
        table.add_column("pair")
        for scheme in schemes:
            table.add_column(scheme, justify="right")
        for pair, scores in found["pairwise_f1"].items():
            table.add_row(escape(pair), *(f"{scores[s]:.3f}" for s in schemes))
        console.print(table)
        for pair, labels in found["per_label_f1"].items():
            table = Table(title=f"F1 per label, {pair}")
            table.add_column("label")
            for scheme in schemes:
                table.add_column(scheme, justify="right")
            for label, scores in labels.items():
                table.add_row(label, *(f"{scores[s]:.3f}" for s in schemes))
            console.print(table)
    report = AgreementReport(found["sets"])
    report.unitizing, report.survey = found["unitizing_alpha"], found["survey"]
    report.disclosure, report.notes = found["disclosure"], found["notes"]
    kept = (lambda name: not name.startswith(("kappa ", "F1 "))) if pairs > PAIRS_SHOWN else None
    report.stance = _only(found["stance"], kept)
    report.attributes = {k: _only(v, kept) for k, v in found["attributes"].items()}
    report.relations = {k: _only(v, kept) for k, v in found["relations"].items()}
    if pairs > PAIRS_SHOWN:
        report.notes = [*report.notes, f"{pairs:,} pairs: per pair, F1 and κ are in --json."]
    _print_pooled(report)


def _only(group: Mapping[str, Any], kept: Callable[[str], bool] | None) -> dict[str, Any]:
    return {k: v for k, v in group.items() if kept is None or kept(k)}


def _print_pair_summary(pairwise: Mapping[str, dict[str, float]], schemes: list[str]) -> None:
    """The distribution of pairwise F1 per scheme, and the pairs of lowest strict F1."""
    import heapq

    import numpy as np
    from rich.table import Table

    scores = np.array([[s[scheme] for scheme in schemes] for s in pairwise.values()])
    worst = heapq.nsmallest(WORST, pairwise.items(), key=lambda item: item[1]["strict"])
    table = Table(title=f"pairwise F1 over {len(scores):,} pairs")
    table.add_column("")
    for scheme in schemes:
        table.add_column(scheme, justify="right")
    for name, q in (("min", 0), ("25%", 25), ("median", 50), ("75%", 75), ("max", 100)):
        table.add_row(name, *(f"{v:.3f}" for v in np.percentile(scores, q, axis=0)))
    for pair, values in worst:
        table.add_row(f"worst: {escape(pair)}", *(f"{values[s]:.3f}" for s in schemes))
    console.print(table)


def _print_pooled(report: AgreementReport) -> None:
    from rich.table import Table

    for title, group in (("unitizing α per label", report.unitizing), ("stance", report.stance)):
        if group:
            table = Table(title=title)
            table.add_column("what")
            table.add_column("value", justify="right")
            for name, statistic in group.items():
                table.add_row(escape(name), escape(_value(statistic)))
            console.print(table)
    if report.attributes:
        table = Table(title="attributes of strictly matched spans")
        for column in ("attribute", "statistic", "value"):
            table.add_column(column)
        for attribute, stats in report.attributes.items():
            for name, statistic in stats.items():
                table.add_row(escape(attribute), escape(name), escape(_value(statistic)))
        console.print(table)
    for title, groups in (("relations", report.relations), ("SURVEY attributes", report.survey)):
        if groups:
            table = Table(title=title)
            for column in ("what", "statistic", "value"):
                table.add_column(column)
            for what, stats in groups.items():
                for name, statistic in stats.items():
                    table.add_row(escape(what), escape(name), escape(_value(statistic)))
            console.print(table)
    if report.disclosure:
        table = Table(title="SURVEY disclosure fields")
        for column in ("field", "agreement", "alpha"):
            table.add_column(column)
        for name, stats in report.disclosure.items():
            table.add_row(name, escape(_value(stats["agreement"])), escape(_value(stats["alpha"])))
        console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")


@annotate_app.command("adjudicate")
def adjudicate_command(
    sets: list[Path] = typer.Argument(..., help="Two or more annotation sets to merge."),
    out: Path = typer.Option(
        ..., help="Folder for the merged gold (annotations.jsonl, relations.jsonl)."
    ),
    policy: str = typer.Option("majority", help="'majority' or 'prefer:NAME' (that set wins)."),
    conflicts: Path | None = typer.Option(
        None, help="Where to list what the policy could not decide [default: OUT/conflicts.jsonl]."
    ),
    release: Path | None = typer.Option(
        None, help="The release they annotate (folder or X.Y.Z) [default: the newest]."
    ),
    force: bool = typer.Option(False, "--force", help="Replace the files of an earlier merge."),
) -> None:
    """Merge annotator sets into one gold set; undecided items go to a conflicts file."""
    from claimwire.annotation.checks import schema_of
    from claimwire.eval.adjudication_files import adjudicate_files
    from claimwire.eval.completed import COMPLETED
    from claimwire.eval.coverage import EMPTY_NOTE
    from claimwire.outputs import check_output

    conflicts_path = conflicts or out / "conflicts.jsonl"
    outputs = [
        (out / name, "--out") for name in ("annotations.jsonl", "relations.jsonl", COMPLETED)
    ]
    for path, option in (*outputs, (conflicts_path, "--conflicts")):
        check_output(path, inputs=sets, force=force, option=option)
    release = chosen_release(release)
    merged = adjudicate_files(sets, release, schema_of(release), out, conflicts_path, policy)
    alone = f", {merged.single} of documents one set annotated alone" if merged.single else ""
    console.print(
        f"[green]Merged[/] {merged.annotations} annotations ({merged.accepted} unanimous, "
        f"{merged.resolved} by {policy}{alone}) and {merged.relations} relations into "
        f"{escape(str(out))}, {merged.completed} documents annotated listed in {COMPLETED}; "
        f"{merged.conflicts} conflicts in {escape(str(conflicts_path))}"
    )
    if merged.alone:
        counts = ", ".join(f"{name} {count}" for name, count in merged.alone.items())
        console.print(
            f"[yellow]note:[/] documents one set annotated alone were taken as that set's: "
            f"{escape(counts)}. {escape(EMPTY_NOTE)}",
            soft_wrap=True,
        )


annotate_app.command("config")(label_studio_config)
annotate_app.command("push")(push_command)
annotate_app.command("pull")(pull_command)
