"""Scoring a run made on another release than the one scored: the refusal says which release
the run's signature names, and how to score it."""

from __future__ import annotations

import shutil
from pathlib import Path

from .helpers import REPO, one_error_line, run_cli


def test_a_run_made_on_an_older_release_is_refused_naming_that_release(tmp_path: Path) -> None:
    """Before: "N problems … is not a document of the release", nothing more."""
    root = tmp_path / "project"
    for name in ("corpus", "annotation", "eval"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "claimwire.toml", root)
    made = run_cli(
        "run", "rules", "--release", "1.1.0", "--split", "all", "--out", "run.jsonl", cwd=root
    )
    assert made.returncode == 0, made.stderr
    raw = root / "corpus" / "raw" / "release-fr.txt"
    raw.write_text(raw.read_text(encoding="utf-8") + "\nFin du communiqué.\n", encoding="utf-8")
    built = run_cli("corpus", "build", "--version", "1.2.0", "--parent", "1.1.0", cwd=root)
    assert built.returncode == 0, built.stderr  # the document's id changed with its text
    score = ("eval", "score", "run.jsonl", "--task", "claims", "--split", "all")
    refused = run_cli(*score, cwd=root)
    assert refused.returncode == 1 and one_error_line(refused.stderr), refused.stderr
    assert "is not a document of the release" in refused.stderr
    assert refused.stderr.rstrip().endswith(
        "the run was made on 1.1.0 (run.jsonl.meta.json): score it with --release 1.1.0 or run "
        "the system again"
    ), refused.stderr
    scored = run_cli(*score, "--release", "1.1.0", cwd=root)
    assert scored.returncode == 0, scored.stderr
