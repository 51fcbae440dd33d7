"""``run command``: what the external program sees, and what it may answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import REPO, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
SECRETS = {
    "LABEL_STUDIO_API_KEY": "ls-secret-0123456789",
    "HF_TOKEN": "hf_secret0123456789abcdef",
    "MY_MODEL_KEY": "model-secret-42",
}


def _run(tmp_path: Path, cmd: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``claimwire run command`` in a real process whose environment holds the secrets."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "claimwire",
            "run",
            "command",
            "-o",
            f"cmd={cmd}",
            *extra,
            "--release",
            str(RELEASE),
            "--out",
            str(tmp_path / "out.jsonl"),
        ],
        capture_output=True,
        text=True,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            "COLUMNS": "200",
            "PYTHONPATH": str(REPO / "src"),
            **SECRETS,
        },
        check=False,
    )


def _seen(tmp_path: Path, *extra: str) -> dict[str, str]:
    printed = tmp_path / "env.txt"
    printed.unlink(missing_ok=True)
    done = _run(tmp_path, f"sh -c 'env > {printed}'", *extra, "--overwrite")
    assert done.returncode == 0, done.stderr
    pairs = (line.partition("=") for line in printed.read_text(encoding="utf-8").splitlines())
    return {name: value for name, _, value in pairs}


def test_the_program_sees_only_the_basics_and_the_named_variables(tmp_path: Path) -> None:
    """Before: the program inherited every variable, tokens included."""
    plain = _seen(tmp_path)
    assert not set(SECRETS) & set(plain)
    assert {"PATH", "HOME", "LANG"} <= set(plain) and "PYTHONPATH" not in plain
    named = _seen(tmp_path, "--env", "MY_MODEL_KEY", "--env", "HF_TOKEN")
    assert named["MY_MODEL_KEY"] == SECRETS["MY_MODEL_KEY"]
    assert named["HF_TOKEN"] == SECRETS["HF_TOKEN"]
    assert "LABEL_STUDIO_API_KEY" not in named
    assert json.loads((tmp_path / "out.jsonl.meta.json").read_text())["options"]["env"] == (
        "MY_MODEL_KEY,HF_TOKEN"
    )  # names only, never values


def test_a_secret_the_program_prints_when_it_fails_is_masked(tmp_path: Path) -> None:
    done = _run(tmp_path, "sh -c 'echo key=$MY_MODEL_KEY >&2; exit 3'", "--env", "MY_MODEL_KEY")
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "exited with 3" in done.stderr and SECRETS["MY_MODEL_KEY"] not in done.stderr


def _answering(tmp_path: Path, line: str) -> str:
    program = tmp_path / "answer.py"
    program.write_text(f"import sys\nsys.stdin.read()\nprint({line!r})\n", encoding="utf-8")
    return f"{sys.executable} {program}"


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (
            '{"id": "x:1", "doc_id": "not-in-batch", "layer": "claims", "label": "CLAIM"}',
            "document 'not-in-batch', which is not among the",
        ),
        ("5", "expected a JSON object"),
        ("[1, 2]", "expected a JSON object"),
        ('{"id": 1}', "field 'id'"),
        (
            '{"id": "a", "id": "b", "doc_id": "x", "layer": "claims", "label": "CLAIM"}',
            "key 'id' appears twice",
        ),
    ],
    ids=["unknown document", "a number", "a list", "id a number", "duplicate key"],
)
def test_a_bad_answer_is_one_located_line(tmp_path: Path, answer: str, says: str) -> None:
    """Before: a record for another document was dropped and the run said it wrote the
    file; a number or a list was an internal error."""
    done = _run(tmp_path, _answering(tmp_path, answer))
    assert done.returncode == 1, done.stderr
    assert one_error_line(done.stderr) and says in done.stderr, done.stderr
    assert " stdout>:1: " in done.stderr


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["-o", "timeout=abc"], "option timeout 'abc'"),
        (["-o", "timeout=-1"], "option timeout '-1'"),
        (["--env", "A=B"], "--env 'A=B'"),
        (["--env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE: not set"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, options: list[str], says: str) -> None:
    done = _run(tmp_path, "true", *options)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert says in done.stderr


def test_an_unbalanced_command_line_and_env_for_another_system(tmp_path: Path) -> None:
    done = _run(tmp_path, "sh -c 'unclosed")
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "not a command line" in done.stderr
    other = run_cli(
        "run", "rules", "--env", "HF_TOKEN", "--release", RELEASE, "--out", tmp_path / "r.jsonl"
    )
    assert other.returncode == 1 and "--env is for the command system" in other.stderr
