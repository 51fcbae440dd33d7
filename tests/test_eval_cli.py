"""`claimwire eval check` and `eval score` as a user runs them, on the bundled release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimwire.corpus.release import open_release

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
EXAMPLE = REPO / "eval" / "runs" / "example" / "claims.jsonl"


@pytest.fixture(scope="module")
def document():  # type: ignore[no-untyped-def]
    return next(open_release(RELEASE).documents())


def claim(document, ann_id: str = "p1", **changes):  # type: ignore[no-untyped-def]
    start = document.text.index("En 2020")
    end = document.text.index("Chine-Asie centrale.", start) + len("Chine-Asie centrale")
    record = {
        "id": ann_id,
        "doc_id": document.id,
        "layer": "claims",
        "label": "CLAIM",
        "start": start,
        "end": end,
        "quote": {"exact": document.text[start:end]},
        "attributes": {"claim_type": "other", "checkworthy": True},
    }
    record.update(changes)
    return record


def write(tmp_path: Path, *records: dict | str) -> Path:  # type: ignore[type-arg]
    path = tmp_path / "preds.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_example_predictions_pass_the_checker() -> None:
    result = run_cli("eval", "check", EXAMPLE, "--task", "claims", "--release", RELEASE)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


@pytest.mark.parametrize(
    ("records", "task", "expected"),
    [
        (lambda d: ['{"id": "x", '], "claims", ":1: not valid JSON"),
        (lambda d: [claim(d, doc_id="nope")], "claims", ":1: field 'doc_id': 'nope' is not a"),
        (lambda d: [claim(d, end=10**6, quote=None)], "claims", ":1: field 'end': ["),
        (
            lambda d: [claim(d, quote={"exact": "ailleurs"})],
            "claims",
            ":1: field 'quote': 'ailleur",
        ),
        (lambda d: [claim(d, label="RUMOUR")], "claims", ":1: unknown-label"),
        (
            lambda d: [claim(d, attributes={"claim_type": "rumour", "checkworthy": True})],
            "claims",
            ":1: bad-attribute-value: 'claim_type' = 'rumour'",
        ),
        (lambda d: [claim(d), claim(d)], "claims", ":2: field 'id': duplicate annotation id 'p1'"),
        (
            lambda d: [
                claim(d),
                {
                    "id": "r",
                    "doc_id": d.id,
                    "type": "attributed_to",
                    "head": "p1",
                    "tail": "ghost",
                    "attributes": {"quote_type": "direct"},
                },
            ],
            "attribution",
            ":2: field 'tail': no annotation with id 'ghost'",
        ),
        (
            lambda d: [
                claim(
                    d,
                    "s1",
                    label="SOURCE",
                    layer="attribution",
                    attributes={"source_kind": "person", "named": True},
                ),
                claim(
                    d,
                    "s2",
                    label="SOURCE",
                    layer="attribution",
                    start=claim(d)["start"] + 3,
                    quote=None,
                    attributes={"source_kind": "person", "named": True},
                ),
            ],
            "attribution",
            "overlaps 's1'; task attribution forbids overlapping spans",
        ),
    ],
)
def test_checker_rejects_bad_predictions(tmp_path: Path, document, records, task, expected) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, *records(document))
    for command in ("check", "score"):
        result = run_cli("eval", command, path, "--task", task, "--release", RELEASE)
        assert result.returncode == 1
        assert expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_fix_offsets_reanchors_by_quote(tmp_path: Path, document) -> None:  # type: ignore[no-untyped-def]
    good = claim(document)
    moved = dict(good, start=good["start"] + 40, end=good["end"] + 40)
    path = write(tmp_path, moved)
    assert run_cli("eval", "check", path, "--task", "claims", "--release", RELEASE).returncode == 1
    result = run_cli(
        "eval", "check", path, "--task", "claims", "--release", RELEASE, "--fix-offsets"
    )
    assert result.returncode == 0, result.stderr
    assert f"to [{good['start']}, {good['end']})" in result.stdout


def test_score_json_has_every_scheme_and_a_signature() -> None:
    result = run_cli(
        "eval",
        "score",
        EXAMPLE,
        "--task",
        "claims",
        "--release",
        RELEASE,
        "--json",
        "--bootstrap",
        "200",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["schemes"]) == {"strict", "exact", "partial", "type", "overlap"}
    strict = data["schemes"]["strict"]
    assert {"precision", "recall", "f1", "cor", "inc", "par", "mis", "spu"} <= set(strict)
    assert strict["cor"] + strict["inc"] + strict["par"] + strict["mis"] == 19  # gold claims
    assert strict["ci"]["low"] <= strict["f1"] <= strict["ci"]["high"]
    assert data["signature"].startswith("task:claims@")
    assert "|scheme:strict|corpus:1.0.0@" in data["signature"]
    assert "|unit:sentence|bs:200|seed:12345|" in data["signature"]
    assert data["primary"]["value"] == strict["f1"]


def test_two_systems_get_paired_significance_and_markdown() -> None:
    args = (
        "eval",
        "score",
        EXAMPLE,
        RELEASE,
        "--task",
        "claims",
        "--release",
        RELEASE,
        "--bootstrap",
        "200",
        "--trials",
        "500",
    )
    data = json.loads(run_cli(*args, "--json").stdout)
    assert [d["system"] for d in data] == ["example", "gold@1.0.0"]
    significance = data[1]["significance"]
    assert significance["baseline"] == "example"
    assert 0 < significance["approximate_randomization"]["p_value"] <= 1
    table = run_cli(*args, "--markdown").stdout
    assert table.startswith("### claims") and "| example |" in table and "`task:claims" in table


def test_stance_task_states_its_degenerate_class(tmp_path: Path) -> None:
    gold = [a for a in open_release(RELEASE).annotations() if a.label == "STANCE"]
    records = [
        dict(a.to_dict(), id=f"p-{a.id}", attributes=dict(a.attributes, stance="NONE"))
        for a in gold
    ]
    path = write(tmp_path, *records)
    result = run_cli("eval", "score", path, "--task", "stance", "--release", RELEASE, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["stance"]["f_avg"] == 0.0  # everything predicted NONE
    assert data["stance"]["per_class"]["NONE"]["recall"] == 1.0
    assert any("AGAINST does not occur in the gold" in note for note in data["notes"])
    assert "|unit:item|" in data["signature"]


def test_gold_option_compares_two_annotation_sets(tmp_path: Path) -> None:
    result = run_cli(
        "eval",
        "score",
        EXAMPLE,
        "--task",
        "claims",
        "--release",
        RELEASE,
        "--gold",
        EXAMPLE,
        "--json",
    )
    data = json.loads(result.stdout)
    assert data["schemes"]["strict"]["f1"] == 1.0
    assert "|corpus:claims@" in data["signature"]


def test_fix_offsets_out_writes_the_reanchored_set(tmp_path: Path, document) -> None:  # type: ignore[no-untyped-def]
    """Before: --fix-offsets said what it moved but wrote nothing."""
    good = claim(document)
    moved = dict(good, start=good["start"] + 40, end=good["end"] + 40)
    other = claim(document, "p2")
    path = write(tmp_path, moved, other)
    fixed = tmp_path / "fixed.jsonl"
    result = run_cli(
        "eval",
        "check",
        path,
        "--task",
        "claims",
        "--release",
        RELEASE,
        "--fix-offsets",
        "--out",
        fixed,
    )
    assert result.returncode == 0, result.stderr
    assert "2 records, 1 moved" in result.stdout
    records = [json.loads(line) for line in fixed.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["start"], r["end"]) for r in records] == [
        ("p1", good["start"], good["end"]),
        ("p2", good["start"], good["end"]),
    ]
    assert run_cli("eval", "check", fixed, "--task", "claims", "--release", RELEASE).returncode == 0
    alone = run_cli("eval", "check", path, "--task", "claims", "--release", RELEASE, "--out", fixed)
    assert alone.returncode == 1 and "give --fix-offsets too" in alone.stderr
    packed = tmp_path / "fixed.jsonl.zst"  # was written plain under that name: unreadable
    args = ("eval", "check", path, "--task", "claims", "--release", RELEASE, "--fix-offsets")
    refused = run_cli(*args, "--out", packed)
    assert refused.returncode == 1 and "--out writes plain JSONL" in refused.stderr
    assert not packed.exists()


def test_a_compressed_prediction_file_is_named_without_its_suffixes(tmp_path: Path) -> None:
    """``preds-v2.jsonl.zst`` is system ``preds-v2`` (it was ``preds-v2.jsonl``)."""
    import zstandard

    packed = tmp_path / "preds-v2.jsonl.zst"
    packed.write_bytes(zstandard.ZstdCompressor().compress(Path(EXAMPLE).read_bytes()))
    args = ("eval", "score", packed, "--task", "claims", "--release", RELEASE, "--json")
    result = run_cli(*args, "--bootstrap", "10")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["system"] == "preds-v2"


def test_relations_ending_at_a_survey_are_scorable(tmp_path: Path) -> None:
    """A SURVEY has no span: from_survey / evidence_of match it by label in its document,
    so the gold scored against itself gets 1.0 (it got 0.0 before)."""
    task = tmp_path / "survey-links.yaml"
    task.write_text(
        "name: survey-links\ndescription: figures and evidence linked to their survey.\n"
        "kind: spans\nlabels: [SURVEY_STAT, DISCLOSURE]\nschemes: [strict]\nprimary: strict\n"
        "relations:\n  - {type: from_survey, head: [SURVEY_STAT], tail: [SURVEY]}\n"
        "  - {type: evidence_of, head: [DISCLOSURE], tail: [SURVEY]}\nsplit: test\n",
        encoding="utf-8",
    )
    newest = REPO / "corpus" / "releases" / "1.1.0"
    result = run_cli("eval", "score", newest, "--task", task, "--release", newest, "--json")
    assert result.returncode == 0, result.stderr
    relations = json.loads(result.stdout)["relations"]
    assert relations["from_survey"]["strict"]["f1"] == 1.0
    assert relations["from_survey"]["strict"]["gold"] == 2.0
    assert relations["evidence_of"]["strict"]["f1"] == 1.0
    assert relations["evidence_of"]["strict"]["tp"] == 5.0


def test_a_span_twice_is_a_warning_with_its_count_and_first_place(
    tmp_path: Path,
    document,  # type: ignore[no-untyped-def]
) -> None:
    """A set imported twice holds each span twice (new ids): not an error, a warning."""
    twice = [claim(document, "p1"), claim(document, "p2"), claim(document, "p3")]
    path = write(tmp_path, *twice)
    result = run_cli("eval", "check", path, "--task", "claims", "--release", RELEASE)
    assert result.returncode == 0, result.stderr
    first = twice[0]
    assert (
        f"warning 2 span(s) with the label and offsets of another on their document (first: "
        f"{path}:2: CLAIM [{first['start']}, {first['end']}) repeats 'p1'); as gold, each is a "
        "certain miss"
    ) in " ".join(result.stdout.split())
    once = run_cli(
        "eval", "check", write(tmp_path, first), "--task", "claims", "--release", RELEASE
    )
    assert once.returncode == 0 and "span(s) with the label" not in once.stdout
