"""``claimwire convert --from`` ended by SIGTERM (a timeout, a cancelled job) while it reads:
it exits 143 and leaves nothing, neither in ``TMPDIR`` (the regrouped import's spool) nor
beside ``--out`` (its temporary file, the folder made for it); ``--to`` leaves no staging
copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from claimwire.corpus.release import open_release
from claimwire.eval.checker import load_annotation_set
from claimwire.formats.convert import export_set

from .helpers import REPO
from .test_import_regroup import _split_doccano
from .test_import_streaming import BUNDLED, SCHEMA

_WRAPPED = """
import os, sys, time
from pathlib import Path
from claimwire.formats import convert, regroup
marker = Path(os.environ["PAUSE_AT"])
convert.BATCH_DOCUMENTS = 1  # a line a batch: the split document is in two
from claimwire.formats import doccano
if os.environ["PAUSE_IN"] == "regroup":  # the records spooled, before they are checked
    paused, name = regroup.SpooledImport, "add"
elif os.environ["PAUSE_IN"] == "export":  # the staging copy open, before its first lines
    paused, name = doccano, "to_doccano"
else:  # the first batch read, before it is checked
    paused, name = convert, "check_rows"
call = getattr(paused, name)
def pause(*args, **kwargs):
    marker.touch()
    time.sleep(120)
    return call(*args, **kwargs)
setattr(paused, name, pause)
sys.argv[0] = "claimwire"
from claimwire.cli import main
main()
"""


def _terminated(args: list[str], env: dict[str, str], paused: Callable[[], None]) -> bytes:
    """Run ``claimwire ARGS`` until it pauses where ``env`` says, check it with ``paused``,
    end it with SIGTERM; its stderr, once it exited 143 without a traceback."""
    marker = Path(env["PAUSE_AT"])
    command = [sys.executable, "-c", _WRAPPED, *args]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while not marker.exists() and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        paused()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert b"Traceback" not in stderr, stderr
    return stderr


def _env(tmp_path: Path, pause_in: str, **more: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PAUSE_IN": pause_in, **more}
    env["PAUSE_AT"] = str(tmp_path / "paused")
    return env


@pytest.mark.parametrize("split", [True, False], ids=["regrouped", "in-batches"])
def test_a_terminated_import_leaves_nothing(tmp_path: Path, split: bool) -> None:
    export = tmp_path / "doccano.jsonl"
    gold = load_annotation_set(BUNDLED)
    export_set("doccano", export, list(open_release(BUNDLED).documents()), gold, SCHEMA)
    if split:
        _split_doccano(export)  # the document's records in two lines: read again to disk
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = _env(tmp_path, "regroup" if split else "batch", TMPDIR=str(temporary))
    out = tmp_path / "made" / "out.jsonl"
    args = ["convert", str(export), "--from", "doccano", "--out", str(out)]

    def paused() -> None:
        spool = [name for name in os.listdir(temporary) if name.startswith("claimwire-import-")]
        assert bool(spool) == split  # what SIGTERM must remove
        assert [path.name for path in out.parent.iterdir()] != []  # the temporary file

    _terminated([*args, "--release", str(BUNDLED)], env, paused)
    assert os.listdir(temporary) == []
    assert not out.parent.exists()


def test_a_terminated_export_leaves_nothing(tmp_path: Path) -> None:
    """``convert --to`` ended by SIGTERM while it writes: exit 143, no staging copy left,
    nor the folder made for it."""
    out = tmp_path / "made" / "doccano.jsonl"
    args = ["convert", str(BUNDLED), "--to", "doccano", "--out", str(out)]

    def paused() -> None:
        assert os.listdir(out.parent) != []  # the staging copy

    _terminated([*args, "--release", str(BUNDLED)], _env(tmp_path, "export"), paused)
    assert not out.parent.exists()  # nor the folder made for it
