"""Paths and a CLI runner shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED_RAW = REPO / "corpus" / "raw"
DATA = Path(__file__).resolve().parent / "data"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str | Path, cwd: Path | None = None) -> CliResult:
    """Run ``python -m claimwire ARGS`` as a user would, in a real process."""
    completed = subprocess.run(
        [sys.executable, "-m", "claimwire", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={
            "COLUMNS": "200",
            "PATH": "/usr/bin:/bin",
            "NO_COLOR": "1",
            "PYTHONPATH": str(REPO / "src"),  # this checkout's code, not an installed copy
            **{k: v for k, v in os.environ.items() if k.startswith("LABEL_STUDIO_")},
        },
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)
