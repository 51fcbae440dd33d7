"""A record's ``author`` in JSONL is a name as ``convert --author`` takes one: at most 120
characters on one visible line, or one error naming the file, the line and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimwire.errors import ClaimwireError
from claimwire.model import Annotation, Quote, Relation, read_mixed, read_records, write_records

from .helpers import REPO, one_error_line, run_cli

BAD_AUTHORS = ["a" * 121, "eve\x1b[2J", "alice\u202egold", "bob\nmallory", "   "]


def _records(bad: str, count: int = 200) -> list[Annotation | Relation]:
    """Valid records, then, on line ``count + 1``, one whose author is ``bad``."""
    records: list[Annotation | Relation] = [
        Annotation(f"a{i}", "d", "claims", "CLAIM", i, i + 1, Quote("x"), author="alice")
        for i in range(count)
    ]
    return [*records, Relation("r", "d", "attributed_to", "a0", "a1", author=bad)]


@pytest.mark.parametrize(
    "bad", BAD_AUTHORS, ids=["121 characters", "escape", "RTL override", "line break", "blank"]
)
def test_an_author_that_is_not_a_name_is_a_located_error(bad: str, tmp_path: Path) -> None:
    """Before: any string was read, kept in every record and written on (a 1 MB name a
    record, carried into releases, exports and file names)."""
    path = tmp_path / "set.jsonl"
    write_records(path, _records(bad))
    with pytest.raises(ClaimwireError) as caught:
        list(read_mixed(path))
    assert (caught.value.line, caught.value.field) == (201, "author")
    assert "expected a name of 1 to 120 characters" in str(caught.value)
    only = tmp_path / "annotations.jsonl"
    write_records(only, [Annotation("a", "d", "claims", "CLAIM", author=bad)])
    with pytest.raises(ClaimwireError) as caught:
        list(read_records(only, Annotation))
    assert (caught.value.line, caught.value.field) == (1, "author")


def test_names_within_the_cap_are_read_on_the_fast_path(tmp_path: Path) -> None:
    """120 characters, non-Latin letters, spaces inside: names; an empty one is ``gold``."""
    names = ["a" * 120, "Zoë Ōtsuka", "李雷", "model v2 (beam 4)", ""]
    path = tmp_path / "set.jsonl"
    write_records(path, [Annotation(f"a{i}", "d", "x", "y", author=n) for i, n in enumerate(names)])
    assert [r.author for _, r in read_mixed(path)] == [*names[:-1], "gold"]


def test_eval_check_names_the_line_of_a_megabyte_author(tmp_path: Path) -> None:
    """The CLI: one error line (file, line, field, what is expected, the length), exit 1."""
    run = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
    lines = run.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[2])
    record["author"] = "A" * 1_000_000
    lines[2] = json.dumps(record)
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    release = REPO / "corpus" / "releases" / "1.1.0"
    result = run_cli("eval", "check", predictions, "--release", release, "--task", "claims")
    assert result.returncode == 1 and one_error_line(result.stderr)
    assert f"{predictions}:3: field 'author': expected a name of 1 to 120" in result.stderr
    assert "(1000000 characters)" in result.stderr and len(result.stderr) < 1000
