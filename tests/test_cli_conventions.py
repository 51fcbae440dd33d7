"""Command-line habits: -h and -V, help notes shown literally, systems listed two ways."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from claimwire import __version__
from claimwire.cli.common import user_error

from .helpers import REPO, run_cli


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_flags(flag: str) -> None:
    result = run_cli(flag)
    assert result.returncode == 0 and result.stdout.strip() == f"claimwire {__version__}"


@pytest.mark.parametrize("args", [["-h"], ["eval", "-h"], ["eval", "score", "-h"], ["run", "-h"]])
def test_short_help_flag(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ") and "claimwire" in result.stdout


def test_bracketed_notes_and_environment_variables_survive_in_help() -> None:
    push = run_cli("annotate", "push", "-h").stdout
    assert "[env LABEL_STUDIO_URL]" in push and "[env LABEL_STUDIO_API_KEY]" in push
    assert "[default: the newest]" in push
    root = run_cli("-h").stdout
    assert "[default: found from the working directory upwards]" in " ".join(root.split())
    assert "CLAIMWIRE_PROJECT" in root


def test_systems_are_listed_by_systems_and_by_run_list() -> None:
    listed = run_cli("systems")
    assert listed.returncode == 0 and "rules" in listed.stdout
    assert run_cli("run", "--list").stdout == listed.stdout
    assert "--list" in run_cli("run", "-h").stdout


RUN = REPO / "eval" / "runs" / "example" / "claims.jsonl"
SCORE = ("eval", "score", "--task", "claims", "--bootstrap", "50", "--trials", "50")


def _closed_stdout(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The CLI run with its standard output closed, as ``claimwire ARGS >&-`` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "claimwire", *map(str, args)],
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.close(1),
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"},
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["systems"],
        ["corpus", "stats"],
        ["eval", "score", "--task", "claims", "--bootstrap", "10", "--format", "json", RUN],
    ],
    ids=["version", "table", "stats", "json"],
)
def test_a_closed_standard_output_is_an_error_not_output_lost(args: list[str | Path]) -> None:
    result = _closed_stdout(*args)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == "error: cannot write the output: standard output is closed"
    assert "Traceback" not in result.stderr


def test_json_has_one_shape_whatever_the_number_of_systems() -> None:
    one = json.loads(run_cli(*SCORE, RUN, "--format", "json").stdout)
    two = json.loads(
        run_cli(*SCORE, RUN, RUN, "--format", "json", "--name", "a", "--name", "b").stdout
    )
    assert set(one) == set(two) == {"task", "signature", "systems"}
    assert [s["system"] for s in two["systems"]] == ["a", "b"]
    assert one["systems"][0]["significance"] is None
    assert two["systems"][1]["significance"]["baseline"] == "a"
    assert one["systems"][0]["primary"] == two["systems"][0]["primary"]


def test_score_only_and_width_print_bare_scores_like_sacrebleu() -> None:
    full = json.loads(run_cli(*SCORE, RUN, "--format", "json").stdout)
    value = full["systems"][0]["primary"]["value"]
    assert run_cli(*SCORE, RUN, "-b").stdout == f"{value:.3f}\n"
    assert run_cli(*SCORE, RUN, RUN, "-b", "-w", "5").stdout == f"{value:.5f}\n" * 2


def test_csv_rows_carry_score_interval_and_signature() -> None:
    rows = list(csv.DictReader(io.StringIO(run_cli(*SCORE, RUN, "--format", "csv").stdout)))
    full = json.loads(run_cli(*SCORE, RUN, "--format", "json").stdout)["systems"][0]
    assert len(rows) == 1 and rows[0]["system"] == full["system"]
    assert float(rows[0]["value"]) == round(full["primary"]["value"], 3)
    assert float(rows[0]["ci_low"]) <= float(rows[0]["value"]) <= float(rows[0]["ci_high"])
    assert rows[0]["signature"] == full["signature"]


@pytest.mark.parametrize("name", ["=1+2", "@SUM(1+1)", "+cmd", "-2+3"])
def test_csv_names_a_spreadsheet_would_run_are_written_inert(name: str) -> None:
    result = run_cli(*SCORE, RUN, "--name", name, "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["system"] == f"'{name}"
    assert run_cli(*SCORE, RUN, "--name", "plain", "--format", "csv").stdout.count("'") == 0


def test_names_must_match_the_files_and_json_is_deprecated_but_works() -> None:
    wrong = run_cli(*SCORE, RUN, "--name", "a", "--name", "b")
    assert wrong.returncode == 1 and "2 --name for 1 prediction files" in wrong.stderr
    old = run_cli(*SCORE, RUN, "--json")
    assert old.returncode == 0 and "deprecated" in old.stderr
    assert json.loads(old.stdout)["system"] == "example"


@pytest.mark.parametrize(
    ("raised", "said"),
    [
        (OSError("socket path too long: /tmp/x"), "socket path too long: /tmp/x"),
        (FileNotFoundError(2, "No such file or directory", "a.jsonl"), "No such file or directory"),
        (OSError(), "OSError"),
    ],
)
def test_a_system_error_keeps_what_it_says(raised: OSError, said: str) -> None:
    """An OSError raised with a message only (no errno) was reported as a bare "OSError"."""
    error = user_error(raised)
    assert error is not None and said in str(error)


@pytest.mark.parametrize("lineno", [100, 1234])
def test_line_100_is_not_an_emoji(tmp_path: Path, lineno: int) -> None:
    """Before: rich read ``:100:`` and ``:1234:`` as emoji codes: an error on line 100 of a
    file printed ``p.jsonl💯 field 'id'…``."""
    run = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
    lines = run.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "p.jsonl"
    path.write_text("\n" * (lineno - 1) + '{"id": 5}\n' + lines[0] + "\n", encoding="utf-8")
    release = REPO / "corpus" / "releases" / "1.0.0"
    done = run_cli("eval", "check", path, "--release", release, "--task", "claims")
    assert done.returncode == 1 and f"{path}:{lineno}: field 'id'" in done.stderr, done.stderr
