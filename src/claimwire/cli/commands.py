"""The command tree's names and one-line helps, importing no command: the root group
registers its lazy commands from :data:`COMMANDS`, and shell completion of command names
answers from both tables (:mod:`claimwire.cli.completion`) without building any command;
:class:`Option` is the row of the generated options table (:mod:`claimwire.cli.options`).

``tests/test_completion.py`` checks that :data:`SUBCOMMANDS` is what the groups define
(names, order and the short help click shows); its failure prints the table to paste here.
"""

from __future__ import annotations

from typing import NamedTuple

COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "claimwire.cli.init:init_command",
        "Create a project: claimwire.toml, corpus/raw/, schema, guidelines, tasks.",
    ),
    "corpus": (
        "claimwire.cli.corpus:corpus_app",
        "Build, validate, inspect and compare corpus releases.",
    ),
    "annotate": (
        "claimwire.cli.annotation:annotate_app",
        "Annotation tools: gold, guidelines, agreement, adjudication, Label Studio.",
    ),
    "eval": (
        "claimwire.cli.eval:eval_app",
        "Check and score predictions against a release's gold.",
    ),
    "hub": (
        "claimwire.cli.hub:hub_app",
        "Export, publish and load the corpus as a Hugging Face dataset.",
    ),
    "convert": (
        "claimwire.cli.convert:convert_command",
        "Import from or export to BRAT, INCEpTION, doccano, Label Studio JSON-MIN, CoNLL, spaCy.",
    ),
    "numbers": (
        "claimwire.cli.annotation:numbers",
        "Print one JSON object per quantity found in a text.",
    ),
    "run": (
        "claimwire.cli.systems:run",
        "Run a system over a release split into a prediction file (resumable).",
    ),
    "systems": ("claimwire.cli.systems:systems", "List the registered systems."),
    "benchmark": (
        "claimwire.cli.systems:benchmark_command",
        "Run the built-in systems on every task; write the leaderboard and report.",
    ),
}
"""``name → (module:attribute, one-line help)`` of the root group's commands."""

SUBCOMMANDS: dict[str, dict[str, str]] = {
    "corpus": {
        "build": "Ingest raw inputs into a new, immutable...",
        "validate": "Check a release level by level (1 format,...",
        "stats": "Documents, paragraphs, sentences,...",
        "diff": "Documents added, removed or changed, and...",
    },
    "annotate": {
        "resolve": "Resolve quote-anchored gold to offsets,...",
        "guidelines": "Regenerate the guidelines' tables of...",
        "agree": "Inter-annotator agreement: pairwise F1 per...",
        "adjudicate": "Merge annotator sets into one gold set;...",
        "config": "Generate the Label Studio labeling configs...",
        "push": "Create or update a Label Studio project...",
        "pull": "Export a project (full JSON) and convert...",
    },
    "eval": {
        "check": "Run the format checker: JSON, ids,...",
        "score": "Score systems: SemEval schemes (strict,...",
    },
    "hub": {
        "export": "Write parquet per config and split, the...",
        "publish": "Upload the release in one commit and tag...",
        "load": "Load one config with `datasets` and print...",
    },
}
"""``group → {subcommand → short help}`` of the root's groups, in their order."""


class Option(NamedTuple):
    """One option of a command: its parameter, its names (click's order), whether it takes a
    value, whether it may be repeated, whether giving it is plain parsing (no callback, not
    eager, one value or none), and its help as Typer prints it for zsh, fish and PowerShell
    (None: no help). The help option's names (``unordered``) come from a set in click: their
    order is that of ``set(names)``, which changes with the process's hash seed."""

    param: str
    names: tuple[str, ...]
    unordered: bool
    takes_value: bool
    multiple: bool
    plain: bool
    zsh: str | None
    fish: str | None
    powershell: str | None
