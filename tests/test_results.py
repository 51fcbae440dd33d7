"""Typed evaluation results: the scores are dataclasses, statistics tables have typed keys,
and the JSON, the leaderboards and the HTML report render from the dataclasses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimwire import __version__
from claimwire.eval.compare import score_systems
from claimwire.eval.evaluate import Evaluation, SystemResult
from claimwire.eval.html import render_html
from claimwire.eval.metrics import Interval
from claimwire.eval.report import leaderboard, markdown
from claimwire.eval.results import (
    ClassScore,
    DisclosureScores,
    PRFScore,
    PrimaryScore,
    RelationScore,
    SchemeScore,
    Scores,
    StanceScores,
)
from claimwire.eval.scoring import TableKey

from .helpers import DATA, REPO

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
RUNS = REPO / "eval" / "runs"
SPAN_RUNS = (RUNS / "rules" / "predictions.jsonl", RUNS / "example" / "claims.jsonl")
STANCE_RUNS = tuple(
    RUNS / name / "predictions.jsonl"
    for name in ("stance-lexicon", "stance-majority", "stance-sklearn")
)


def _json(task: str, runs: tuple[Path, ...]) -> str:
    evaluation = Evaluation.open(RELEASE, task)
    comparison = score_systems(evaluation, runs, allow_empty=True)
    text = json.dumps(comparison.to_json(), ensure_ascii=False, indent=2)
    return text.replace(f'|v:{__version__}"', '|v:VERSION"') + "\n"


@pytest.mark.parametrize("task", ["claims", "attribution", "statistics", "stance"])
def test_json_of_the_bundled_runs_keeps_its_shape(task: str) -> None:
    """``eval score --format json`` on release 1.1.0's committed runs, byte for byte (to
    regenerate after an intended change: ``claimwire eval score RUNS --task T --release
    corpus/releases/1.1.0 --allow-empty --format json``, version replaced by VERSION)."""
    runs = STANCE_RUNS if task == "stance" else SPAN_RUNS
    expected = (DATA / "scores" / f"1.1.0-{task}.json").read_text(encoding="utf-8")
    assert _json(task, runs) == expected


@pytest.fixture(scope="module")
def statistics_result() -> SystemResult:
    evaluation = Evaluation.open(RELEASE, "statistics")
    return evaluation.score(evaluation.check(SPAN_RUNS[0]))


@pytest.fixture(scope="module")
def stance_result() -> SystemResult:
    evaluation = Evaluation.open(RELEASE, "stance")
    return evaluation.score(evaluation.check(STANCE_RUNS[0]))


def test_span_scores_are_typed(statistics_result: SystemResult) -> None:
    result = statistics_result
    scores = result.scores
    assert isinstance(scores, Scores) and scores.stance is None
    strict = result.spans["strict"]
    assert isinstance(strict, SchemeScore) and isinstance(strict.interval, Interval)
    counts = strict.counts
    positive = counts["cor"] + counts["inc"] + counts["par"] + counts["mis"]
    assert strict.recall == pytest.approx(counts["cor"] / positive)
    assert strict.interval.low <= strict.f1 <= strict.interval.high
    assert all(isinstance(s, PRFScore) for s in strict.per_label.values())
    assert strict.macro_f1 == pytest.approx(
        sum(s.f1 for s in strict.per_label.values()) / len(strict.per_label)
    )
    assert set(scores.spans["overlap"].counts) == {"p_credit", "predicted", "r_credit", "gold"}
    assert result.primary_score == PrimaryScore("strict F1", strict.f1, strict.interval)
    assert scores.attributes and all(isinstance(a, PRFScore) for a in scores.attributes.values())
    assert isinstance(scores.disclosure, DisclosureScores)


def test_statistics_tables_have_typed_keys(statistics_result: SystemResult) -> None:
    keys = list(statistics_result.statistics.tables)
    assert all(isinstance(key, TableKey) for key in keys)
    assert TableKey("spans", "strict", None) in keys
    assert TableKey.spans("strict", "SURVEY_STAT") in keys
    assert TableKey.attribute("value") in keys
    assert {key.family for key in keys} == {"spans", "attributes"}


def test_relation_scores_are_typed() -> None:
    evaluation = Evaluation.open(RELEASE, "attribution")
    result = evaluation.score(evaluation.check(SPAN_RUNS[0]))
    assert TableKey.relation("attributed_to", "strict") in result.statistics.tables
    relation = result.scores.relations["attributed_to"]["strict"]
    assert isinstance(relation, RelationScore) and isinstance(relation.interval, Interval)
    assert set(relation.counts) == {"tp", "predicted", "gold"}


def test_stance_scores_are_typed(stance_result: SystemResult) -> None:
    stance = stance_result.stance
    assert isinstance(stance, StanceScores) and not stance_result.spans
    assert all(isinstance(c, ClassScore) for c in stance.per_class.values())
    assert sum(c.support for c in stance.per_class.values()) == sum(map(sum, stance.confusion))
    favor, against = stance.per_class["FAVOR"].f1, stance.per_class["AGAINST"].f1
    assert stance.f_avg == pytest.approx((favor + against) / 2)
    assert stance_result.primary_score.interval == stance.f_avg_interval


def test_to_pandas_has_a_row_per_scheme_and_label(statistics_result: SystemResult) -> None:
    frame = statistics_result.to_pandas()
    spans = frame[frame["family"] == "spans"]
    schemes = statistics_result.task.schemes
    labels = statistics_result.task.labels
    assert len(spans) == len(schemes) * (1 + len(labels))
    strict = spans[(spans["scheme"] == "strict") & spans["label"].isna()].iloc[0]
    assert strict["f1"] == statistics_result.spans["strict"].f1
    assert strict["ci_low"] == statistics_result.spans["strict"].interval.low


def test_stance_to_pandas(stance_result: SystemResult) -> None:
    frame = stance_result.to_pandas()
    per_class = frame[frame["label"].notna()]
    assert per_class["label"].tolist() == list(stance_result.task.classes)
    overall = frame[frame["label"].isna()].iloc[0]
    assert overall["f_avg"] == stance_result.primary


def _handmade(template: SystemResult) -> SystemResult:
    """A result whose scores were written by hand: what renders must come from them."""
    interval = Interval(0.25, 0.75, 0.5)
    counts = {"cor": 1.0, "inc": 0.0, "par": 0.0, "mis": 1.0, "spu": 0.0}
    label = PRFScore(1.0, 0.5, 0.625, counts)
    spans = {
        scheme: SchemeScore(
            1.0, 0.5, 0.625, counts, interval=interval, per_label={"CLAIM": label}, macro_f1=0.625
        )
        for scheme in template.task.schemes
    }
    attributes = {
        name: PRFScore(0.5, 0.5, 0.5, {"tp": 1.0, "predicted": 2.0, "gold": 2.0})
        for name in template.task.attributes
    }
    scores = Scores(PrimaryScore("strict F1", 0.625, interval), spans=spans, attributes=attributes)
    return SystemResult("handmade", template.task, template.signature, template.statistics, scores)


def test_reports_render_from_the_typed_scores() -> None:
    evaluation = Evaluation.open(RELEASE, "claims")
    result = _handmade(evaluation.score(evaluation.check(SPAN_RUNS[0])))
    board = leaderboard([result])
    assert board.rows[0][:2] == ("handmade", "0.625±0.250")
    assert board.rows[0][-1] == "0.500"  # the last attribute's F1
    assert "| handmade | 0.625±0.250 |" in markdown(board)
    assert result.to_dict()["schemes"]["strict"]["ci"] == {"low": 0.25, "high": 0.75, "mean": 0.5}
    assert "0.625±0.250" in render_html(evaluation, [result])
