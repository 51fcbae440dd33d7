"""annotate agree and annotate adjudicate name their sets one way (a file's stem, a folder's
name) and check them one way: every path is a set first, then no two sets share a name."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwire.eval.adjudication import check_policy
from claimwire.eval.checker import named_sets

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
def test_a_set_named_with_the_pairs_join_is_refused(
    command: str, release: Path, tmp_path: Path
) -> None:
    """Sets 'a', 'b vs c', 'a vs b' and 'c' made two pairs named 'a vs b vs c': agree's JSON
    kept one of the two pairs' scores and its table printed two rows of one name."""
    sets = [_set(tmp_path / f"{name}.jsonl") for name in ("a", "b vs c", "a vs b", "c")]
    code, error = _run(command, release, tmp_path, *sets)
    assert code == 1
    assert error.startswith(f"error: set {sets[1]} is named 'b vs c', which holds ' vs '"), error


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
    assert error == f"error: {tmp_path / 'carol.jsonl'}: set not found"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_that_is_not_a_set_is_named_before_the_clash(
    command: str, release: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    sets = [_set(tmp_path / "a" / "alice.jsonl"), _set(tmp_path / "b" / "alice.jsonl"), empty]
    error = _run(command, release, tmp_path, *sets)[1]
    assert error == (
        f"error: {empty}: no annotations.jsonl in this folder (expected a set: a JSONL file of "
        "records, or a folder with annotations.jsonl and optionally relations.jsonl)"
    )


def _score(release: Path, *args: Path | str) -> str:
    result = run_cli("eval", "score", "--release", release, "--task", "attribution", *args)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_eval_score_calls_a_missing_path_a_prediction_file(release: Path, tmp_path: Path) -> None:
    """eval score shares the check with the annotate commands but speaks of what its user
    passed: a prediction file (the predictions, and --gold's file)."""
    missing = tmp_path / "missing.jsonl"
    assert _score(release, missing) == f"error: {missing}: prediction file not found"
    present = _set(tmp_path / "present.jsonl")
    assert _score(release, "--gold", missing, present) == (
        f"error: {missing}: prediction file not found"
    )
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert _score(release, empty) == (
        f"error: {empty}: no annotations.jsonl in this folder (expected a prediction file: a "
        "JSONL file of records, or a folder with annotations.jsonl and optionally "
        "relations.jsonl)"
    )


def test_convert_calls_a_missing_path_an_annotation_set(release: Path, tmp_path: Path) -> None:
    missing, out = tmp_path / "missing.jsonl", tmp_path / "exported"
    result = run_cli(
        "convert", missing, "--to", "label-studio-min", "--release", release, "--out", out
    )
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert result.stderr.strip().splitlines()[-1] == (f"error: {missing}: annotation set not found")
    assert not out.exists()


NFC, NFD = "\u00e9", "e\u0301"  # "é" composed, and decomposed as some file systems store it


@pytest.mark.parametrize("command", COMMANDS)
def test_names_that_differ_only_in_unicode_form_are_one_name(
    command: str, release: Path, tmp_path: Path
) -> None:
    first, second = _set(tmp_path / f"{NFC}.jsonl"), _set(tmp_path / f"{NFD}.jsonl")
    code, error = _run(command, release, tmp_path, first, second)
    assert code == 1
    assert error == (
        f"error: two sets are named '{NFC}': {first} and {second} (a set is named after its "
        "file's stem or its folder's name); rename one"
    )


def test_prefer_names_a_set_whatever_unicode_form_was_typed(tmp_path: Path) -> None:
    sets = named_sets([_set(tmp_path / f"{NFD}.jsonl"), _set(tmp_path / "bob.jsonl")])
    assert [s.name for s in sets] == [NFC, "bob"]
    names = [s.name for s in sets]
    assert check_policy(f"prefer:{NFD}", names) == NFC
    assert check_policy(f"prefer:{NFC}", names) == NFC


def test_a_set_given_as_a_dot_is_named_after_its_folder(tmp_path: Path) -> None:
    """``annotate agree . ../bob.jsonl`` run inside ``alice/`` named the set '' (``Path('.')``
    has no name); a compressed file's name is its stem without ``.jsonl.zst``."""
    alice = _set(tmp_path / "alice" / "annotations.jsonl").parent
    bob = _set(tmp_path / "bob.jsonl.zst")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(alice)
        assert [s.name for s in named_sets([Path("."), Path("../bob.jsonl.zst")])] == [
            "alice",
            "bob",
        ]
        assert bob.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_one_set_given_twice_is_refused(command: str, release: Path, tmp_path: Path) -> None:
    """``. ../alice`` from inside alice/ is one folder by two paths: before, it was scored
    against itself (F1 1.0, exit 0)."""
    alice = _set(tmp_path / "alice" / "annotations.jsonl").parent
    again = alice / ".." / "alice"
    code, error = _run(command, release, tmp_path, alice, again)
    assert code == 1
    assert error == (
        f"error: one set is given twice: {alice} and {again} are the same folder; "
        "give each set once"
    )
