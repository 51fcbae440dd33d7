"""`run` appends to and truncates its output and `.done` file in place: through a hard link
(a `cp -al` or `rsync --link-dest` snapshot of the project) the snapshot's copy changed too.
Now a linked file is first given a file of its own, and the run says so once."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from .helpers import figures_release, run_cli
from .terminated import terminated


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six documents, each with a figure the rules system finds."""
    return figures_release(tmp_path_factory.mktemp("linked"))


def _args(release: Path, out: Path) -> list[str | Path]:
    return ["run", "rules", "--release", release, "--split", "all", "--out", out]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def snapshot(tmp_path: Path, release: Path) -> tuple[Path, bytes]:
    """A run cut after two documents (`proj/p.jsonl`), a `cp -al` snapshot of it (`snap/`);
    and the whole run's output."""
    out = tmp_path / "proj" / "p.jsonl"
    assert run_cli(*_args(release, out)).returncode == 0
    full = out.read_bytes()
    done = out.with_name("p.jsonl.done")
    lines = done.read_text(encoding="utf-8").splitlines(keepends=True)[:2]
    done.write_text("".join(lines), encoding="utf-8")
    os.truncate(out, int(lines[-1].split("\t")[1]))
    shutil.copytree(out.parent, tmp_path / "snap", copy_function=os.link)
    assert out.stat().st_nlink == 2
    return out, full


@pytest.mark.parametrize("overwrite", [False, True], ids=["resumed", "--overwrite"])
def test_a_run_leaves_a_hard_linked_snapshot_as_it_was(
    snapshot: tuple[Path, bytes], release: Path, overwrite: bool
) -> None:
    """Before: the snapshot's p.jsonl grew from 5,250 to 17,226 bytes and its .done from 94
    to 285 (--overwrite: its .done emptied)."""
    out, full = snapshot
    snap = out.parent.parent / "snap"
    before = _files(snap)
    result = run_cli(*_args(release, out), *(["--overwrite"] if overwrite else []))
    assert result.returncode == 0, result.stderr
    assert _files(snap) == before
    assert out.read_bytes() == full
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "other hard links" in warned[0], result.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(before)  # nothing left
    again = run_cli(*_args(release, out))  # its own files now: nothing to say
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr


def test_a_second_run_is_refused_while_the_first_holds_its_own_copy(
    snapshot: tuple[Path, bytes], release: Path, tmp_path: Path
) -> None:
    """The lock is taken again on the `.done` file's own copy: a second run still waits."""
    out, full = snapshot

    def paused() -> None:  # the first run, past the copies, holds the new .done's lock
        second = run_cli(*_args(release, out))
        assert second.returncode == 1, second.stderr
        assert f"{out}: another claimwire process is writing here" in second.stderr

    pause_at = tmp_path / "pause"
    pause_at.mkdir()
    pause_in = "claimwire.systems.base:_completed"
    terminated(_args(release, out), pause_at, pause_in, paused, code=-signal.SIGTERM)
    assert run_cli(*_args(release, out)).returncode == 0
    assert out.read_bytes() == full
