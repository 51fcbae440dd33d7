"""Every command that takes a release takes a version X.Y.Z of the project as well as a folder
(README): ``corpus diff``, ``hub publish``, ``convert`` and ``annotate resolve`` said "release
folder not found" or "annotation set not found" for one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from claimwire.cli.root import app

from .helpers import REPO, make_project, run_cli

NOT_RELEASES = {
    ("corpus build", "version"),  # the new release's version
    ("corpus build", "parent"),
    ("hub load", "source"),  # X.Y.Z there is a version on the Hub
    ("hub load", "repo_id"),
}
"""Parameters whose help names X.Y.Z without taking a release of the project."""


def release_parameters() -> set[tuple[str, str]]:
    """(command, parameter) of every parameter whose help says it takes X.Y.Z."""
    root = typer.main.get_command(app)
    context = root.make_context("claimwire", [], resilient_parsing=True)
    found: set[tuple[str, str]] = set()

    def walk(command: object, path: str) -> None:
        for param in command.get_params(context):  # type: ignore[attr-defined]
            if "X.Y.Z" in (getattr(param, "help", None) or ""):
                found.add((path, str(param.name)))
        if isinstance(command, TyperGroup):
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                walk(getattr(sub, "real", sub), f"{path} {name}".strip())

    walk(root, "")
    return found - NOT_RELEASES


def invocations(out: Path) -> dict[tuple[str, str], list[str | Path]]:
    """One call per release parameter, naming release 1.0.0 by its version (outputs in
    ``out``; those that need more than a release stop after choosing it)."""
    gold = out / "releases" / "1.0.0"
    return {
        ("corpus validate", "path"): ["corpus", "validate", "1.0.0"],
        ("corpus stats", "path"): ["corpus", "stats", "1.0.0"],
        ("corpus diff", "old"): ["corpus", "diff", "1.0.0", "1.1.0"],
        ("corpus diff", "new"): ["corpus", "diff", "1.1.0", "1.0.0"],
        ("annotate resolve", "release"): [
            "annotate", "resolve", REPO / "annotation" / "gold", "--release", "1.0.0",
            "--out", out / "resolved",
        ],
        ("annotate agree", "release"): ["annotate", "agree", gold, gold, "--release", "1.0.0"],
        ("annotate adjudicate", "release"): [
            "annotate", "adjudicate", gold, gold, "--release", "1.0.0", "--out", out / "adj",
        ],
        ("annotate push", "release"): ["annotate", "push", "1.0.0", "--project", "p"],
        ("annotate pull", "release"): [
            "annotate", "pull", "--from-file", out / "export.json", "--release", "1.0.0",
            "--out", out / "pulled",
        ],
        ("eval check", "release"): [
            "eval", "check", gold, "--release", "1.0.0", "--task", "claims",
        ],
        ("eval score", "release"): [
            "eval", "score", gold, "--release", "1.0.0", "--task", "claims",
        ],
        ("hub export", "release"): ["hub", "export", "1.0.0", "--out", out / "hub"],
        ("hub publish", "release"): ["hub", "publish", "1.0.0", "--repo-id", "a/b", "--dry-run"],
        ("convert", "source"): ["convert", "1.0.0", "--to", "brat", "--out", out / "brat"],
        ("convert", "release"): [
            "convert", gold, "--to", "brat", "--release", "1.0.0", "--out", out / "brat2",
        ],
        ("run", "release"): ["run", "nosuchsystem", "--release", "1.0.0", "--out", out / "r"],
        ("benchmark", "release"): [
            "benchmark", "--release", "1.0.0", "--system", "nosuchsystem",
            "--runs", out / "runs", "--leaderboard", out / "l.md", "--html", out / "r.html",
        ],
    }  # fmt: skip


def test_every_release_parameter_is_walked(tmp_path: Path) -> None:
    """A new command taking a release must be added here, so it is tried with a version."""
    assert set(invocations(tmp_path)) == release_parameters()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project outside the repository with releases 1.0.0 and 1.1.0 (the repository's)."""
    root = make_project(tmp_path_factory.mktemp("versions") / "p")
    for version in ("1.0.0", "1.1.0"):
        shutil.copytree(
            REPO / "corpus" / "releases" / version, root / "corpus" / "releases" / version
        )
    shutil.copy(REPO / "annotation" / "schema.yaml", root / "annotation" / "schema.yaml")
    return root


@pytest.mark.parametrize("called", sorted(invocations(Path("OUT"))), ids=" ".join)
def test_a_version_names_the_projects_release(
    called: tuple[str, str], project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(project / "corpus" / "releases", out / "releases")  # gold sets to read
    (out / "export.json").write_text("[]", encoding="utf-8")
    args = invocations(out)[called]
    result = run_cli(
        *args,
        cwd=project,
        env={"LABEL_STUDIO_URL": "http://127.0.0.1:9", "LABEL_STUDIO_API_KEY": "x"},
    )
    shown = f"release 1.0.0 ({Path('corpus') / 'releases' / '1.0.0'})"
    assert shown in result.stderr, result.stderr
    assert "not found" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
