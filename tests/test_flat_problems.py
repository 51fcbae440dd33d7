"""A hostile file with a million repeated ids or bad records: the checks count every problem
and hold the first few (what a command shows), and what lists every problem (``corpus
validate`` and ``corpus diff``) keeps them on disk, so memory does not grow with them."""

from __future__ import annotations

import json
import shutil
import tracemalloc
from collections.abc import Sized
from pathlib import Path

import pytest

from claimwire.corpus.diff import compare_files
from claimwire.corpus.validate import validate_release
from claimwire.errors import ClaimwireError
from claimwire.eval import checker
from claimwire.eval.checker import CheckReport
from claimwire.eval.evaluate import Evaluation
from claimwire.grouping import RecordIndex

from .helpers import REPO

RELEASE = REPO / "corpus" / "releases" / "1.1.0"


def _first_annotation() -> dict[str, object]:
    with (RELEASE / "annotations.jsonl").open(encoding="utf-8") as handle:
        return dict(json.loads(handle.readline()))


def _hostile(path: Path, repeats: int, bad: int) -> Path:
    """An annotation on no document of the release (so the file is read through the index,
    not in the documents' order), the first gold annotation and ``repeats`` copies of it
    (its id repeated), then ``bad`` annotations of their own ids with offsets past the
    text."""
    first = _first_annotation()
    lines = [json.dumps({**first, "id": "elsewhere", "doc_id": "nope"})]
    lines += [json.dumps(first)] * (repeats + 1)
    lines += [json.dumps({**first, "id": f"b{i}", "start": 10**6 + i}) for i in range(bad)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_pass_holds_its_first_problems_and_counts_the_rest(tmp_path: Path) -> None:
    report = CheckReport(tmp_path)
    for batch in range(3):
        report.absorb(CheckReport(tmp_path, [f"batch {batch} problem {i}" for i in range(60)]))
    held = checker.HELD_PROBLEMS
    assert report.problems == [f"batch {b} problem {i}" for b in range(3) for i in range(60)][:held]
    with RecordIndex([_hostile(tmp_path / "p.jsonl", 500, 0)]) as index:
        report.duplicates(index.duplicates)
    assert len(report.problems) == held and report.problem_count == 180 + 500
    assert not report.ok and CheckReport(tmp_path).ok


def _held_by_duplicates(path: Path) -> int:
    """Bytes a report still holds once told the repeats of ``path`` (traced)."""
    with RecordIndex([path]) as index:
        report = CheckReport(path)
        tracemalloc.start()
        try:
            report.duplicates(index.duplicates)
            held = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert report.problem_count == len(index.duplicates) > 1_000
    return held


def test_a_report_holds_no_message_per_repeat(tmp_path: Path) -> None:
    few = _held_by_duplicates(_hostile(tmp_path / "few.jsonl", 5_000, 0))
    many = _held_by_duplicates(_hostile(tmp_path / "many.jsonl", 45_000, 0))
    assert many - few < 40_000  # a message a repeat: about 250 bytes each, 10 MB more here


def test_eval_check_counts_every_problem_and_names_the_first_twenty(tmp_path: Path) -> None:
    """What ``eval check`` and ``eval score`` say of a hostile file, as before: how many
    problems, the first 20 (a batch's checks first, then the repeats), how many more."""
    path = _hostile(tmp_path / "p.jsonl", 45_000, 100)
    with pytest.raises(ClaimwireError) as error:
        Evaluation.open(RELEASE, "claims", split="all", resamples=10).check(path)
    said = error.value.message
    assert said.startswith("45101 problems in the predictions; nothing was scored:")
    assert said.endswith("… and 45081 more") and said.count("\n") == 21
    assert "p.jsonl:45003: field 'start': [1000000, 653) starts outside the document" in said


def _release_repeating(root: Path, repeats: int) -> Path:
    """The bundled release with its first annotation's line written ``repeats`` times more."""
    release = root / "1.1.0"
    shutil.copytree(RELEASE, release)
    with (release / "annotations.jsonl").open("a", encoding="utf-8") as handle:
        handle.write((json.dumps(_first_annotation()) + "\n") * repeats)
    return release


def _listed(command: str, release: Path) -> Sized:
    """The problems ``validate`` finds in ``release``, or the repeats ``diff`` lists."""
    if command == "validate":
        return validate_release(release, max_level=2)
    parts = [RELEASE / "annotations.jsonl"], [release / "annotations.jsonl"]
    return compare_files(*parts, [], []).duplicates["new"]


def _kept(command: str, release: Path) -> tuple[int, int]:
    """How many values :func:`_listed` returns and the bytes they hold (traced)."""
    tracemalloc.start()
    try:
        made = _listed(command, release)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return len(made), held


@pytest.mark.parametrize("command", ["validate", "diff"])
def test_validate_and_diff_keep_their_repeats_on_disk(tmp_path: Path, command: str) -> None:
    """``corpus validate`` and ``corpus diff`` list every repeat (their ``--json`` does),
    read back from disk: what they return holds a few of them, not one object each."""
    sizes = []
    for repeats in (5_000, 45_000):
        count, held = _kept(command, _release_repeating(tmp_path / str(repeats), repeats))
        assert count >= repeats
        sizes.append(held)
    assert sizes[1] - sizes[0] < 100_000  # a Problem or Repeated a repeat: 10 MB and more
