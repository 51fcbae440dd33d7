"""``annotate pull --from-file`` reads the export a task at a time, as the server's export is
read: its memory does not grow with the export's size (before: the file read whole, then the
whole list of tasks, about 7 times its size), and a bad export is one located error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claimwire.annotation.checks import schema_of
from claimwire.annotation.label_studio.convert import to_results
from claimwire.corpus.release import open_release

from .helpers import REPO, one_error_line, release_with_test_claims, run_cli

DOCUMENTS = 64
PADDING = 1 << 20
"""Characters of a data field pull does not read, on each task: a 64 MB export."""
GROWTH_KIB = 24 << 10
"""What the big export's pull may take beyond the small one's (the old reader: over 150 MB)."""


def _tasks(release: Path, padding: int) -> list[dict[str, Any]]:
    """A full export's tasks: each document's gold, by one annotator, its data padded."""
    opened = open_release(release)
    schema = schema_of(release)
    gold: dict[str, list[Any]] = {}
    for annotation in opened.annotations():
        gold.setdefault(annotation.doc_id, []).append(annotation)
    return [
        {
            "id": n,
            "data": {"doc_id": doc.id, "text": doc.text, "note": "x" * padding},
            "annotations": [
                {
                    "id": n,
                    "completed_by": {"id": 1, "email": "a@example.org"},
                    "result": to_results(gold.get(doc.id, []), [], schema, doc.text),
                }
            ],
        }
        for n, doc in enumerate(opened.documents(), start=1)
    ]


def _write(path: Path, tasks: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n" + ",\n".join(json.dumps(task) for task in tasks) + "\n]")
    return path


PEAK = """
import runpy, sys
try:
    runpy.run_module("claimwire", run_name="__main__")
finally:  # this process's own peak: ru_maxrss would be at least its parent's (the fork's)
    with open("/proc/self/status", encoding="ascii") as status:
        sys.stderr.write(next(line for line in status if line.startswith("VmHWM:")))
"""
"""``python -m claimwire``, telling its peak resident memory on its last line of stderr."""


def _peak_kib(export: Path, release: Path, out: Path) -> int:
    """Peak resident memory (KiB) of a real ``annotate pull --from-file`` process, which must
    succeed."""
    args = ["annotate", "pull", "--from-file", export, "--out", out, "--release", release]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stderr.splitlines()[-1].split()[1])


def test_a_large_export_is_pulled_in_the_memory_of_a_small_one(tmp_path: Path) -> None:
    """Before: a 64 MB export took about 200 MB more than a small one."""
    release = release_with_test_claims(tmp_path, DOCUMENTS)
    small = _write(tmp_path / "small.json", _tasks(release, 0))
    large = _write(tmp_path / "large.json", _tasks(release, PADDING))
    assert large.stat().st_size > DOCUMENTS * PADDING
    base = _peak_kib(small, release, tmp_path / "small")
    peak = _peak_kib(large, release, tmp_path / "large")
    assert peak - base < GROWTH_KIB, (base, peak)
    assert [p.read_bytes() for p in sorted((tmp_path / "large").iterdir())] == [
        p.read_bytes() for p in sorted((tmp_path / "small").iterdir())
    ]


def _spoiled(tasks: list[dict[str, Any]], how: str) -> str:
    lines = [json.dumps(task) for task in tasks[:3]]
    if how == "cut short":
        return "[\n" + ",\n".join(lines)[:-30]
    if how == "not a list":
        return "\n" + lines[0]
    if how == "a task not an object":
        return "[\n" + ",\n".join([*lines[:2], "[1, 2]", lines[2]]) + "\n]"
    if how == "a key twice":
        twice = lines[1].replace('"id": 2,', '"id": 2, "id": 3,', 1)
        return "[\n" + ",\n".join([lines[0], twice, lines[2]]) + "\n]"
    assert how == "a full export's task after a JSON-MIN item"
    item = {"id": 1, "doc_id": tasks[0]["data"]["doc_id"], "text": tasks[0]["data"]["text"]}
    return "[\n" + ",\n".join([json.dumps(item), lines[1]]) + "\n]"


SAYS = {
    "cut short": ":4: not a Label Studio JSON export: Unterminated string starting at (column ",
    "not a list": ":2: not a Label Studio JSON export: expected a JSON list (column 1)",
    "a task not an object": (
        ": not a Label Studio JSON export: task 3: expected an object, got list"
    ),
    "a key twice": ": not a Label Studio JSON export: task 2: key 'id' appears twice",
    "a full export's task after a JSON-MIN item": (
        ": task 2: a full export's task (with 'data' or 'annotations') in a JSON-MIN export"
    ),
}


@pytest.mark.parametrize("how", SAYS)
def test_a_bad_export_is_one_located_error_and_nothing_is_written(tmp_path: Path, how: str) -> None:
    release = release_with_test_claims(tmp_path, 4)
    export = tmp_path / "export.json"
    export.write_text(_spoiled(_tasks(release, 0), how), encoding="utf-8")
    out = tmp_path / "sets"
    done = run_cli("annotate", "pull", "--from-file", export, "--out", out, "--release", release)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert f"error: {export}{SAYS[how]}" in done.stderr, done.stderr
    assert not out.exists()
