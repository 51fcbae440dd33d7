"""annotate agree and annotate adjudicate name their sets one way (a file's stem, a folder's
name) and check them one way: every path is a set first, then no two sets share a name."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import one_error_line, release_with_test_claims, run_cli

COMMANDS = ["agree", "adjudicate"]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_with_test_claims(tmp_path_factory.mktemp("names"), 4)


def _run(command: str, release: Path, tmp_path: Path, *sets: Path) -> tuple[int, str]:
    extra = ["--out", tmp_path / "out"] if command == "adjudicate" else []
    result = run_cli("annotate", command, *sets, "--release", release, *extra)
    assert one_error_line(result.stderr), result.stderr
    assert not (tmp_path / "out").exists()
    return result.returncode, result.stderr.strip().splitlines()[-1]


def _set(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", "utf-8")
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_two_sets_with_one_name_are_refused_naming_both(
    command: str, release: Path, tmp_path: Path
) -> None:
    first, second = _set(tmp_path / "a" / "alice.jsonl"), _set(tmp_path / "b" / "alice.jsonl")
    bob = _set(tmp_path / "bob" / "annotations.jsonl").parent
    code, error = _run(command, release, tmp_path, first, bob, second)
    assert code == 1
    assert error == (
        f"error: two sets are named 'alice': {first} and {second} (a set is named after its "
        "file's stem or its folder's name); rename one"
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_and_a_file_with_one_name_are_refused(
    command: str, release: Path, tmp_path: Path
) -> None:
    folder = _set(tmp_path / "alice" / "annotations.jsonl").parent
    file = _set(tmp_path / "b" / "alice.jsonl")
    assert "two sets are named 'alice'" in _run(command, release, tmp_path, folder, file)[1]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("missing_at", [0, 2])
def test_a_missing_set_is_named_before_two_sets_with_one_name(
    command: str, missing_at: int, release: Path, tmp_path: Path
) -> None:
    """Whatever its place, the path that is not a set is what the user hears first: the
    name clash may be the same file given twice by a typo in the other path."""
    sets = [_set(tmp_path / "a" / "alice.jsonl"), _set(tmp_path / "b" / "alice.jsonl")]
    sets.insert(missing_at, tmp_path / "carol.jsonl")
    code, error = _run(command, release, tmp_path, *sets)
    assert code == 1
    assert error == (
        f"error: {tmp_path / 'carol.jsonl'}: not found (expected a set: a JSONL file of "
        "records, or a folder with annotations.jsonl)"
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_that_is_not_a_set_is_named_before_the_clash(
    command: str, release: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    sets = [_set(tmp_path / "a" / "alice.jsonl"), _set(tmp_path / "b" / "alice.jsonl"), empty]
    error = _run(command, release, tmp_path, *sets)[1]
    assert error.startswith(f"error: {empty}: no annotations.jsonl in this folder")
