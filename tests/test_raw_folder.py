"""How ``corpus build`` lists its raw folder: the order of ``sorted`` paths (a folder's files
where its name sorts), one directory at a time, with memory bounded by the largest directory
(past a bound, even that one is sorted on disk), at any depth."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from claimwire.corpus import raw_folder
from claimwire.corpus.raw_folder import raw_files
from claimwire.errors import ClaimwireError

from .helpers import one_error_line, run_cli

NAMES = ("a", "a.txt", "a-b.txt", "A.txt", "é.txt", "a b.txt", "Z", "10.txt", "9.txt", "ab.txt")
"""Names whose order differs between a sort of names and a sort of whole path strings."""


def _tree(root: Path, depth: int = 2) -> None:
    """Folders and files named :data:`NAMES` in each other, ``depth`` folders deep."""
    root.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        if "." in name:
            (root / name).write_text(f"{root.name} {name}\n", encoding="utf-8")
        elif depth:
            _tree(root / name, depth - 1)


def _listed(raw: Path) -> list[Path]:
    inputs = raw_files(raw)
    try:
        return list(inputs.files)
    finally:
        inputs.close()


def _expected(raw: Path) -> list[Path]:
    """What the build read before it walked the folder: every input, the paths sorted."""
    return sorted(path for path in raw.rglob("*.txt") if not path.name.startswith("."))


def test_a_nested_folder_is_listed_in_the_order_of_its_sorted_paths(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    _tree(raw)
    (raw / ".hidden").mkdir()
    (raw / ".hidden" / "in.txt").write_text("read: only hidden names are skipped\n")
    (raw / ".skipped.txt").write_text("hidden\n")
    listed = _listed(raw)
    assert listed == _expected(raw) and len(listed) == 8 * 7 + 1
    assert listed[:3] == [raw / ".hidden" / "in.txt", raw / "10.txt", raw / "9.txt"]
    assert listed.index(raw / "a" / "10.txt") < listed.index(raw / "a b.txt")


def test_a_folder_past_the_bound_is_sorted_on_disk_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    _tree(raw)
    in_memory = _listed(raw)
    monkeypatch.setattr(raw_folder, "SORTED_AT_ONCE", 3)
    assert _listed(raw) == in_memory == _expected(raw)


PEAK = """
import sys, tracemalloc
from pathlib import Path
from claimwire.corpus.raw_folder import raw_files
tracemalloc.start()
inputs = raw_files(Path(sys.argv[1]))
listed = sum(1 for _ in inputs.files)
print(listed, tracemalloc.get_traced_memory()[1])
"""
"""The files a listing gives, and its peak of traced memory (reading the list too), in a
fresh interpreter (in a long-lived one, pathlib's interned names can resize a large table)."""


def test_listing_holds_one_folder_not_the_whole_corpus(tmp_path: Path) -> None:
    """8,000 files in 80 folders: the listing is on disk (the whole list held took about 550
    bytes a file: 4.4 MB here)."""
    raw = tmp_path / "raw"
    for folder in range(80):
        (raw / f"f{folder:03d}").mkdir(parents=True)
        for i in range(100):
            (raw / f"f{folder:03d}" / f"r{i:03d}.txt").write_bytes(b"Acme.\n")
    found = subprocess.run(
        [sys.executable, "-c", PEAK, raw], capture_output=True, text=True, check=True
    )
    listed, peak = map(int, found.stdout.split())
    assert listed == 8_000 and peak < 2_000_000


def test_a_folder_1200_deep_is_listed(tmp_path: Path) -> None:
    """A walk by recursion stops at Python's recursion limit (a RecursionError's traceback).
    The tree is removed here, a folder at a time (``shutil.rmtree`` recurses too)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    depth = 1_200
    previous = Path.cwd()
    os.chdir(raw)
    try:
        for _ in range(depth):
            os.mkdir("d")
            os.chdir("d")
        Path("x.txt").write_text("Acme said sales rose 5% in 2024.\n")
        os.chdir(previous)
        assert _listed(raw) == [raw.joinpath(*["d"] * depth, "x.txt")]
    finally:
        os.chdir(raw)
        while os.path.isdir("d"):
            os.chdir("d")
        Path("x.txt").unlink(missing_ok=True)
        while Path.cwd() != raw:
            os.chdir("..")
            os.rmdir("d")
        os.chdir(previous)


def test_a_name_that_is_not_utf8_is_one_line_naming_it(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ok.txt").write_text("Acme said sales rose 5% in 2024.\n")
    bad = os.fsencode(raw) + b"/r\xff.txt"
    with open(bad, "w", encoding="utf-8") as handle:
        handle.write("Acme said sales fell 5% in 2024.\n")
    with pytest.raises(ClaimwireError, match=r"r\ufffd\.txt: the name is not UTF-8"):
        raw_files(raw)
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", tmp_path / "o")
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert "r\ufffd.txt: the name is not UTF-8" in result.stderr
    assert not (tmp_path / "o").exists()
