"""A major version: a schema change the parent's carried gold no longer fits is refused with
its problems one a line, their count, where they came from and what to do."""

from __future__ import annotations

import json
import re
from pathlib import Path

from claimwire.build import SHOWN_PROBLEMS, build

from .helpers import REPO, one_error_line, run_cli

GOLD = REPO / "annotation" / "gold"
RAW = REPO / "corpus" / "raw"


def test_carried_gold_that_misfits_a_new_schema_is_listed_counted_and_explained(
    tmp_path: Path,
) -> None:
    """Before: one line of 10 problems, no count, naming lines of a staged file never
    written (here they happened to match the parent's), and nothing about the parent's gold."""
    releases = tmp_path / "releases"
    build(RAW, releases, "1.0.0", gold=GOLD)
    schema = (REPO / "annotation" / "schema.yaml").read_text(encoding="utf-8")
    renamed = schema.replace("values: [exact, about,", "values: [precise, about,").replace(
        "values: [direct, indirect, mixed]", "values: [direct, reported, mixed]"
    )
    assert renamed.count("precise") == 1 and renamed.count("reported") >= 1
    (tmp_path / "s2.yaml").write_text(renamed, encoding="utf-8")
    result = run_cli(
        "corpus", "build", "--version", "2.0.0", "--parent", "1.0.0", "--raw", RAW,
        "--out", releases, "--schema", tmp_path / "s2.yaml",
    )  # fmt: skip
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    lines = result.stderr.strip().splitlines()
    problems = [line for line in lines if " L4 bad-attribute-value: " in line]
    assert len(problems) == SHOWN_PROBLEMS, result.stderr
    for problem in problems:  # the parent's file and line, where the carried record came from
        place = re.match(r"\[(\S+) line ([0-9]+) doc \S+ ann (\S+)\]", problem)
        assert place is not None and Path(place[1]).parent == releases / "1.0.0", problem
        record = Path(place[1]).read_text(encoding="utf-8").splitlines()[int(place[2]) - 1]
        assert json.loads(record)["id"] == place[3]
    assert sum(line.count("'exact'") + line.count("'indirect'") for line in problems) == 10
    counted = re.search(r"does not validate \(([0-9]+) problems\)", lines[-1])
    assert counted is not None and int(counted[1]) > SHOWN_PROBLEMS, result.stderr
    assert lines[-2] == f"… and {int(counted[1]) - SHOWN_PROBLEMS} more", result.stderr
    assert lines[-1] == (
        f"error: {releases / '2.0.0'}: the built release does not validate ({counted[1]} "
        "problems); "
        "nothing was written; the parent's gold does not fit the new schema: fix the carried "
        "records and pass them with --gold"
    )
    assert sorted(p.name for p in releases.iterdir()) == ["1.0.0", "CHANGELOG.md"]
