"""``corpus build``, ``hub export`` and ``annotate pull`` ended by SIGTERM (a timeout, a
cancelled job) while their staging folder is open: exit 143, no traceback, no staging folder
and no folder made for ``--out`` left — each in a real process."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import REPO, SEED_RAW
from .terminated import terminated

# where each command pauses: a function it calls once its staging folder exists
CASES = {
    "corpus build": (
        "claimwire.corpus.release:_ingest",
        lambda out: ["corpus", "build", "--version", "1.0.0", "--raw", SEED_RAW, "--out", out],
    ),
    "hub export": (
        "claimwire.hub.export:write_parquet",
        lambda out: ["hub", "export", REPO / "corpus/releases/1.1.0", "--out", out],
    ),
    "annotate pull": (
        "claimwire.cli.label_studio:_set_file",
        lambda out: [
            "annotate",
            "pull",
            "--from-file",
            REPO / "tests/data/formats/label_studio_json_min.json",
            "--release",
            REPO / "corpus/releases/1.1.0",
            "--out",
            out,
        ],
    ),
}


@pytest.mark.parametrize("command", CASES)
def test_a_terminated_writer_leaves_nothing(tmp_path: Path, command: str) -> None:
    pause_in, arguments = CASES[command]
    out = tmp_path / "made" / "out"

    def paused() -> None:
        staging = [p for p in tmp_path.rglob("*") if ".claimwire-" in p.name]
        assert staging, "paused before its staging folder was made"

    terminated(arguments(out), tmp_path, pause_in, paused)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paused"]
