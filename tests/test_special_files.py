"""Folders someone sent may hold, under an input's name, what is not a file: a FIFO (reading
it waits forever), a link to a device (``/dev/zero`` never ends), a link that loops. Every
folder reader refuses them with the entry named, before reading anything."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .helpers import REPO, SEED_RAW, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"


@pytest.fixture(scope="module")
def brat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled release's gold as a BRAT folder."""
    out = tmp_path_factory.mktemp("brat") / "brat"
    gold = RELEASE / "annotations.jsonl"
    result = run_cli("convert", gold, "--release", RELEASE, "--to", "brat", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def _replaced(brat: Path, folder: Path, suffix: str, kind: str) -> tuple[Path, Path]:
    """A copy of the BRAT folder whose ``suffix`` file is replaced by ``kind``."""
    copy = folder / "sent"
    shutil.copytree(brat, copy)
    entry = next(copy.glob(f"*{suffix}"))
    entry.unlink()
    if kind == "a FIFO":
        os.mkfifo(entry)
    elif kind == "a device":
        entry.symlink_to("/dev/null")  # read as empty before: the document's spans lost
    else:
        entry.symlink_to(entry.name)
    return copy, entry


@pytest.mark.parametrize("kind", ["a FIFO", "a device", "a symbolic link that loops"])
@pytest.mark.parametrize("suffix", [".ann", ".txt"])
def test_a_brat_folder_entry_that_is_not_a_file_is_named(
    brat: Path, tmp_path: Path, suffix: str, kind: str
) -> None:
    """Before: a FIFO hung the import forever; a link to /dev/zero read until memory ran
    out; a link to /dev/null was read as an empty file."""
    sent, entry = _replaced(brat, tmp_path, suffix, kind)
    out = tmp_path / "back.jsonl"
    args = ("convert", sent, "--from", "brat", "--release", RELEASE, "--out", out)
    result = run_cli(*args, timeout=60)
    assert result.returncode == 1, result.stderr
    assert one_error_line(result.stderr)
    assert f"{entry}: is {kind}, not a file" in result.stderr
    assert not out.exists()


def test_a_raw_input_that_is_not_a_file_is_named_not_skipped(tmp_path: Path) -> None:
    """Before: ``corpus build`` skipped it in silence (its listing kept regular files only)."""
    raw = tmp_path / "raw"
    shutil.copytree(SEED_RAW, raw)
    os.mkfifo(raw / "sent.txt")
    out = tmp_path / "releases"
    result = run_cli("corpus", "build", "--version", "1.0.0", "--raw", raw, "--out", out)
    assert result.returncode == 1, result.stderr
    assert f"{raw / 'sent.txt'}: is a FIFO, not a file" in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_an_output_link_that_loops_is_called_so(tmp_path: Path) -> None:
    """Before: "is not a regular file (a FIFO, a device…)"."""
    loop = tmp_path / "report.html"
    loop.symlink_to(loop.name)
    predictions = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
    args = ("eval", "score", predictions, "--release", RELEASE, "--task", "claims")
    result = run_cli(*args, "--html", loop)
    assert result.returncode == 1
    assert "is not a regular file (a symbolic link that loops)" in result.stderr
