"""The overlap check of a task that forbids overlapping spans, on arrays: the same problems,
in the same order, as the per-group sort it replaces."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.annotation.schema import load_schema
from claimwire.eval.checker import CheckReport, _check_overlaps
from claimwire.eval.tasks import find_task
from claimwire.model import Annotation

TASK = find_task("statistics", load_schema())


def _old_problems(annotations: list[Annotation]) -> list[tuple[str, str]]:
    """The rule replaced: spans grouped by (document, label) in order of appearance, each
    group sorted by (start, end), a span overlapping the one before it reported."""
    groups: dict[tuple[str, str], list[Annotation]] = defaultdict(list)
    for a in annotations:
        if a.is_span and a.label in TASK.labels:
            groups[(a.doc_id, a.label)].append(a)
    found = []
    for spans in groups.values():
        spans.sort(key=lambda a: (a.start or 0, a.end or 0))
        for before, after in itertools.pairwise(spans):
            if (after.start or 0) < (before.end or 0):
                found.append((after.id, before.id))
    return found


span = st.builds(
    lambda doc, label, start, length, item: Annotation(
        "",
        f"d{doc}",
        "statistics",
        label,
        None if item else start,
        None if item else start + length,
    ),
    st.integers(0, 2),
    st.sampled_from(["SURVEY_STAT", "NUM_STAT", "SURVEY"]),
    st.integers(0, 20),
    st.integers(1, 6),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(span, max_size=30))
def test_overlaps_are_the_per_group_sorts(drawn: list[Annotation]) -> None:
    annotations = [
        Annotation(f"a{i}", a.doc_id, a.layer, a.label, a.start, a.end) for i, a in enumerate(drawn)
    ]
    where = {("annotation", a.id): (Path("p.jsonl"), i + 1) for i, a in enumerate(annotations)}
    report = CheckReport(Path("p.jsonl"))
    _check_overlaps(annotations, TASK, where, report)
    expected = [
        f"p.jsonl:{int(after[1:]) + 1}: field 'start': "
        f"{annotations[int(after[1:])].label} {after!r} overlaps {before!r}; task statistics "
        "forbids overlapping spans of one label"
        for after, before in _old_problems(annotations)
    ]
    assert report.problems == expected
