"""``corpus build`` and ``hub export`` ended by SIGTERM (a timeout, a cancelled job) while
their staging folder is open: exit 143, no traceback, no staging folder and no folder made
for ``--out`` left — each in a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import REPO, SEED_RAW

_WRAPPED = """
import os, sys, time
from pathlib import Path
marker = Path(os.environ["PAUSE_AT"])
module_name, name = os.environ["PAUSE_IN"].split(":")
import importlib
module = importlib.import_module(module_name)
call = getattr(module, name)
def pause(*args, **kwargs):
    marker.touch()
    time.sleep(120)
    return call(*args, **kwargs)
setattr(module, name, pause)
sys.argv[0] = "claimwire"
from claimwire.cli import main
main()
"""

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
}


@pytest.mark.parametrize("command", CASES)
def test_a_terminated_writer_leaves_nothing(tmp_path: Path, command: str) -> None:
    pause_in, arguments = CASES[command]
    out = tmp_path / "made" / "out"
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "PAUSE_IN": pause_in,
        "PAUSE_AT": str(marker),
    }
    args = [sys.executable, "-c", _WRAPPED, *map(str, arguments(out))]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while not marker.exists() and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        staging = [p for p in tmp_path.rglob("*") if ".claimwire-" in p.name]
        assert staging, "paused before its staging folder was made"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert b"Traceback" not in stderr, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paused"]
