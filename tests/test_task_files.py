"""A user's task file (``eval score --task my-task.yaml``) is read as strictly as the schema:
before, ``forbid_overlap: "false"`` (quoted) forbade overlaps, a misspelt ``splitt`` was
ignored and the task scored every split (train included), ``bootstrap`` and ``unit`` were
ignored in silence, ``labels: []`` ended in a gold error naming no label, and every error
said line 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwire.annotation.schema import load_schema
from claimwire.errors import ClaimwireError
from claimwire.eval.tasks import find_task, load_task

from .helpers import REPO

SCHEMA = load_schema(REPO / "annotation" / "schema.yaml")
BASE = "name: t\nkind: spans\nlabels: [CLAIM]\nschemes: [strict, partial]\nprimary: strict\n"


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return load_task(path, SCHEMA)


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (BASE + 'forbid_overlap: "false"\n', 6, "forbid_overlap", "expected true or false"),
        (BASE + "forbid_overlap: 0\n", 6, "forbid_overlap", "expected true or false"),
        (BASE + "splitt: dev\n", 6, "splitt", "unknown key (did you mean 'split'?)"),
        (BASE + "split: test\nbootstrap: 10\n", 7, "bootstrap", "a task has only name,"),
        (BASE.replace("labels: [CLAIM]", "labels: []"), 3, "labels", "at least one label"),
        (BASE + "split: [test]\n", 6, "split", "expected a split name"),
        (BASE.replace("schemes: [strict, partial]", "schemes: strict"), 4, "schemes", "list"),
    ],
)
def test_a_task_file_is_refused_at_the_line_and_field_at_fault(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(ClaimwireError) as caught:
        _load(tmp_path, text)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert message in str(caught.value)


def test_a_task_file_without_a_split_scores_the_test_split(tmp_path: Path) -> None:
    task = _load(tmp_path, BASE + "forbid_overlap: true\n")
    assert task.split == "test" and task.forbid_overlap is True  # type: ignore[attr-defined]
    assert _load(tmp_path, BASE + "split: all\n").split == "all"  # type: ignore[attr-defined]


def test_the_bundled_tasks_still_load() -> None:
    for name in ("claims", "attribution", "statistics", "stance"):
        assert find_task(name, SCHEMA).name == name
