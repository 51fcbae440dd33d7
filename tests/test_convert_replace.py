"""``convert --from … --force`` over an earlier import replaces the set and its list of
completed documents together: when the set cannot be put in place, the earlier set and its
list are left exactly as they were (before: the new list had replaced the earlier one, or the
earlier one had been removed, and the failure then removed the list, so the earlier set stood
without it)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from claimwire.corpus.release import open_release
from claimwire.eval.completed import completed_path

from .helpers import one_error_line, release_with_test_claims, run_cli


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A release of 4 documents, its gold exported as BRAT, and an import of it with its list
    (``--completed``)."""
    release = release_with_test_claims(tmp_path, 4, claimed="all")
    gold = tmp_path / "gold.jsonl"
    claims = [a.to_dict() for a in open_release(release).annotations()]
    gold.write_text("".join(json.dumps(c) + "\n" for c in claims), encoding="utf-8")
    exported = tmp_path / "brat"
    made = run_cli("convert", gold, "--to", "brat", "--out", exported, "--release", release)
    assert made.returncode == 0, made.stderr
    out = tmp_path / "sets" / "a.jsonl"
    first = run_cli(
        "convert", exported, "--from", "brat", "--out", out, "--release", release, "--completed"
    )
    assert first.returncode == 0, first.stderr
    assert completed_path(out).exists()
    return release, exported, out


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Files made immutable (``chattr +i``: not even root may replace them) for the test,
    mutable again after it."""
    made: list[Path] = []
    yield made
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def _freeze(path: Path, made: list[Path]) -> None:
    try:
        subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("chattr +i is not allowed here (it needs CAP_LINUX_IMMUTABLE)")
    made.append(path)


@pytest.mark.parametrize("completed", [True, False], ids=["with its list", "without a list"])
def test_a_set_that_cannot_be_replaced_leaves_the_earlier_set_and_list_as_they_were(
    imported: tuple[Path, Path, Path], immutable: list[Path], completed: bool
) -> None:
    release, exported, out = imported
    before = {p.name: p.read_bytes() for p in out.parent.iterdir()}
    assert sorted(before) == ["a.completed.txt", "a.jsonl"]
    for ann in sorted(exported.glob("*.ann"))[2:]:  # another export: 2 documents
        ann.unlink()
        ann.with_suffix(".txt").unlink()
    _freeze(out, immutable)  # the set's final rename fails, after the list's
    args = ("convert", exported, "--from", "brat", "--out", out, "--release", release, "--force")
    failed = run_cli(*args, *(["--completed"] if completed else []))
    assert failed.returncode == 1 and one_error_line(failed.stderr), failed.stderr
    assert f"{out}: " in failed.stderr
    assert {p.name: p.read_bytes() for p in out.parent.iterdir()} == before
