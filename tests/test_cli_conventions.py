"""Command-line habits: -h and -V, help notes shown literally, systems listed two ways."""

from __future__ import annotations

import pytest

from claimwire import __version__

from .helpers import run_cli


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
