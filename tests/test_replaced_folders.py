"""Replacing a folder (files.atomic_directory with replace, as `--force` does): the new one
swapped in at once, the old one removed an entry at a time (claimwire.removal), never outside
itself, at any depth, in memory that does not grow with its size; and an output a killed
writer swapped out is put back, never removed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import pytest

from claimwire import files
from claimwire.files import atomic_directory

from .helpers import REPO, run_cli
from .terminated import terminated

RELEASE = REPO / "corpus/releases/1.1.0"
RUN = REPO / "eval/runs/rules/predictions.jsonl"


def _files(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for n in range(count):
        os.close(os.open(folder / f"{n:06d}.ann", os.O_CREAT | os.O_WRONLY, 0o644))


def _replaced(final: Path) -> None:
    with atomic_directory(final, replace=True) as staging:
        (staging / "new.txt").write_text("new\n", encoding="utf-8")


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_replaced_folder_is_removed_without_listing_its_names(tmp_path: Path) -> None:
    """Before: shutil.rmtree listed each folder's entries (30,000 names: ~4 MB held;
    10⁶: 150 MB; 10⁷: ~1.5 GB)."""
    final = tmp_path / "out"
    _files(final / "files", 30_000)
    tracemalloc.start()
    try:
        _replaced(final)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 512_000, peak
    assert _left(final) == ["new.txt"] and _left(tmp_path) == ["out"]


def test_a_deep_folder_is_removed_whole(tmp_path: Path) -> None:
    """1,500 nested folders, deeper than the recursion limit and longer than PATH_MAX as a
    path (before: RecursionError out of shutil.rmtree, a traceback)."""
    final = tmp_path / "out"
    final.mkdir()
    fd = os.open(final, os.O_RDONLY)
    for _ in range(1_500):
        os.mkdir("deep", dir_fd=fd)
        os.close(os.open("f.txt", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
        inner = os.open("deep", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    try:
        _replaced(final)
        assert _left(final) == ["new.txt"] and _left(tmp_path) == ["out"]
    finally:  # pytest's own clean-up (shutil.rmtree) cannot remove such a tree
        subprocess.run(["rm", "-rf", final], check=True)


def test_a_link_out_of_the_folder_is_removed_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "mine"
    _files(outside, 3)
    final = tmp_path / "out"
    (final / "a" / "b").mkdir(parents=True)
    (final / "a" / "b" / "link").symlink_to(outside, target_is_directory=True)
    (final / "file-link").symlink_to(outside / "000000.ann")
    _replaced(final)
    assert _left(final) == ["new.txt"]
    assert _left(outside) == ["000000.ann", "000001.ann", "000002.ann"]


def _exported(out: Path) -> list[str]:
    """``convert --to brat --out OUT --force``; the export's files."""
    args = ["convert", RUN, "--to", "brat", "--out", out, "--release", RELEASE, "--force"]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return _left(out)


def test_a_writer_killed_at_the_swap_leaves_an_output(tmp_path: Path) -> None:
    """Before: killed between its two renames (old folder aside, new one in), `--out` was
    absent and the earlier export lay in `.out.claimwire-XXXXXXXX.old`, which the next
    writer deleted. Now the two are exchanged in one step (renameat2 RENAME_EXCHANGE)."""
    out = tmp_path / "out"
    exported = _exported(out)
    (out / "earlier.txt").write_text("the earlier export\n", encoding="utf-8")
    args = ["convert", RUN, "--to", "brat", "--out", out, "--release", RELEASE, "--force"]
    swap = "os:rename,claimwire.files:exchange"  # the first step of the swap, either way
    terminated(args, tmp_path, swap, lambda: None, after=True)
    assert _left(out) == exported  # the new export, whole
    _exported(tmp_path / "other")  # the next writer there finds nothing to clean up
    assert _left(tmp_path) == ["other", "out", "paused"]


def test_an_output_swapped_out_by_a_killed_writer_is_put_back(tmp_path: Path) -> None:
    """What a writer killed between its two renames leaves where the file system cannot
    exchange two folders: `out` absent, the earlier export in `.out.claimwire-XXXXXXXX.old/out`.
    Before: the next writer in the folder deleted it."""
    out = tmp_path / "out"
    exported = _exported(out)
    aside = tmp_path / ".out.claimwire-abcd_123.old"
    aside.mkdir()
    out.rename(aside / "out")
    _exported(tmp_path / "other")
    assert _left(tmp_path) == ["other", "out"] and _left(out) == exported


def test_a_swapped_out_folder_whose_output_is_back_is_removed(tmp_path: Path) -> None:
    """Killed after both renames: the output is the new one, the old one goes."""
    out = tmp_path / "out"
    _exported(out)
    aside = tmp_path / ".out.claimwire-abcd_123.old"
    shutil.copytree(out, aside / "out")
    _exported(tmp_path / "other")
    assert _left(tmp_path) == ["other", "out"]


def test_without_an_exchange_two_renames_replace_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system without RENAME_EXCHANGE (vfat, some network file systems)."""
    monkeypatch.setattr(files, "exchange", lambda first, second: False)
    final = tmp_path / "out"
    _files(final / "files", 100)
    _replaced(final)
    assert _left(final) == ["new.txt"] and _left(tmp_path) == ["out"]


def test_a_folder_output_that_is_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    """``--out latest`` where ``latest`` links to an earlier export: ``--force`` replaces
    the export it points to and the link stays a link, as a file output through a link is
    written (before: the link became a folder and the old export stayed); a link to nothing
    makes its target (before: "appeared while this one was being written")."""
    earlier = tmp_path / "exports" / "1.0.0"
    first = run_cli("hub", "export", RELEASE, "--out", earlier)
    assert first.returncode == 0, first.stderr
    (earlier / "stale.txt").write_text("old\n", encoding="utf-8")
    latest = tmp_path / "latest"
    latest.symlink_to(earlier, target_is_directory=True)
    result = run_cli("hub", "export", RELEASE, "--out", latest, "--force")
    assert result.returncode == 0, result.stderr
    assert latest.is_symlink() and latest.resolve() == earlier
    assert (earlier / "README.md").exists() and not (earlier / "stale.txt").exists()
    dangling = tmp_path / "next"
    dangling.symlink_to(tmp_path / "exports" / "1.1.0", target_is_directory=True)
    made = run_cli("hub", "export", RELEASE, "--out", dangling, "--force")
    assert made.returncode == 0, made.stderr
    assert dangling.is_symlink() and (tmp_path / "exports" / "1.1.0" / "README.md").exists()
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["1.0.0", "1.1.0"]
