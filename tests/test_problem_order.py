"""``eval score`` lists a cause before its consequences: a record of an unknown document
(line 1) before the relation to it (line 3) that a batch's check found first."""

from __future__ import annotations

import json
from pathlib import Path

from claimwire.corpus.release import open_release

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"


def test_problems_are_listed_in_line_order(tmp_path: Path) -> None:
    document = next(open_release(RELEASE).documents())
    records = [
        {"id": "t", "doc_id": "nope", "layer": "sources", "label": "SOURCE", "start": 0, "end": 3},
        {
            "id": "c", "doc_id": document.id, "layer": "claims", "label": "CLAIM", "start": 0,
            "end": 5, "attributes": {"claim_type": "other", "checkworthy": True},
        },
        {"id": "r", "doc_id": document.id, "type": "attributed_to", "head": "c", "tail": "t"},
    ]  # fmt: skip
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    args = ("eval", "score", path, "--task", "attribution", "--release", RELEASE, "--split", "all")
    result = run_cli(*args)
    assert result.returncode == 1
    said = result.stderr
    assert "2 problems in the predictions" in said, said
    assert "p.jsonl:1: field 'doc_id'" in said and "p.jsonl:3: field 'tail'" in said, said
    assert said.index("p.jsonl:1:") < said.index("p.jsonl:3:"), said
