"""``claimwire init .`` killed (SIGKILL, from outside) at each step, then run again; and two
at once. The child is the real CLI, stopped (SIGSTOP, by itself) at a chosen call, so that
the test's SIGKILL lands where it means to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from claimwire.project import read_project

from .helpers import REPO, run_cli

PROJECT = [".gitignore", "README.md", "annotation", "claimwire.toml", "corpus", "eval"]

CHILD = textwrap.dedent(
    """
    import os, runpy, signal, sys
    import claimwire.scaffold as scaffold
    where, after = sys.argv[1], int(sys.argv[2])

    def stopped(real):
        calls = 0
        def call(*args, **kwargs):
            nonlocal calls
            if calls == after:
                os.kill(os.getpid(), signal.SIGSTOP)
            calls += 1
            return real(*args, **kwargs)
        return call

    if where == "writing":
        scaffold.write_configs = stopped(scaffold.write_configs)
    else:
        try:
            import claimwire.in_place as moves
        except ImportError:  # before round 14, the moves were scaffold's
            moves = scaffold
        moves.rename_no_replace = stopped(moves.rename_no_replace)
    sys.argv = ["claimwire", "init", ".", "--lang", "en"]
    runpy.run_module("claimwire", run_name="__main__")
    """
)


def _stopped_init(folder: Path, where: str, after: int) -> subprocess.Popen[str]:
    """A real ``claimwire init .`` in ``folder``, stopped at the call ``after`` (0: the first)
    of the configs' writing (``writing``) or of the moves up (``moving``)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, where, str(after)],
        cwd=folder,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status = os.waitpid(child.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), child.communicate()
    return child


def _killed_init(folder: Path, where: str, after: int) -> list[str]:
    child = _stopped_init(folder, where, after)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    ("where", "after", "moved"),
    [("writing", 0, 0), ("moving", 0, 0), ("moving", 3, 3), ("moving", 5, 5)],
    ids=["while writing", "before the moves", "3 entries moved", "5 of 6 moved"],
)
def test_init_dot_after_a_killed_one_succeeds(
    tmp_path: Path, where: str, after: int, moved: int
) -> None:
    """Before: the killed init's hidden staging folder stayed, and the next `init .` said
    "is not empty" (and the entries it had moved up stayed too)."""
    folder = tmp_path / "proj"
    folder.mkdir()
    inode = folder.stat().st_ino
    left = _killed_init(folder, where, after)
    assert len(left) == 1 + moved and left[0].startswith(".claimwire-init-"), left
    assert left[1:] == PROJECT[:moved]

    result = run_cli("init", ".", "--lang", "fr", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == PROJECT
    assert folder.stat().st_ino == inode
    assert read_project(folder / "claimwire.toml").lang == "fr"  # this run's, not the killed


@pytest.mark.parametrize("change", ["a file added", "a file edited"])
def test_what_a_user_changed_after_a_kill_is_never_removed(tmp_path: Path, change: str) -> None:
    """What the killed init had moved up is removed only when all of it is as it left it."""
    folder = tmp_path / "proj"
    folder.mkdir()
    _killed_init(folder, "moving", 3)  # .gitignore, README.md and annotation/ moved up
    if change == "a file added":
        (folder / "annotation" / "notes.md").write_text("mine\n", encoding="utf-8")
    else:
        with (folder / ".gitignore").open("a", encoding="utf-8") as handle:
            handle.write("data/\n")
    result = run_cli("init", ".", cwd=folder)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is not empty" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == PROJECT[:3]  # the staging folder went
    if change == "a file added":
        assert (folder / "annotation" / "notes.md").read_text(encoding="utf-8") == "mine\n"
    else:
        assert (folder / ".gitignore").read_text(encoding="utf-8").endswith("\ndata/\n")


def test_a_second_init_while_the_first_runs_is_refused_and_touches_nothing(
    tmp_path: Path,
) -> None:
    """The first one's staging folder is not a dead one's: the second is refused, the first
    then finishes. Before: refused as "is not empty", which a cleaning of staging folders
    without the lock would have turned into removing a live one."""
    folder = tmp_path / "proj"
    folder.mkdir()
    first = _stopped_init(folder, "moving", 0)
    try:
        (staging,) = folder.iterdir()
        held = sorted(p.relative_to(staging) for p in staging.rglob("*"))
        second = run_cli("init", ".", cwd=folder)
        assert second.returncode == 1 and second.stderr.count("\n") == 1, second.stderr
        assert "another claimwire process is writing here" in second.stderr
        assert sorted(p.relative_to(staging) for p in staging.rglob("*")) == held
    finally:
        first.send_signal(signal.SIGCONT)
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 0, stderr
    assert sorted(p.name for p in folder.iterdir()) == PROJECT
