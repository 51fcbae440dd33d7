"""Scores, intervals and paired tests against naive re-implementations and scikit-learn."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from claimwire.annotation.schema import load_schema
from claimwire.eval import metrics
from claimwire.eval.matching import SpanSet, overlap_credit_by_unit
from claimwire.eval.metrics import (
    approximate_randomization,
    bootstrap_interval,
    overlap_prf,
    paired_bootstrap,
    percentile_interval,
    resample_weights,
    resampled_totals,
    span_prf,
)
from claimwire.eval.scoring import stance_scores, values_agree
from claimwire.eval.tasks import find_task

RNG = np.random.default_rng(7)
UNITS = 40
STATS_A = RNG.integers(0, 5, size=(UNITS, 5)).astype(float)
STATS_B = RNG.integers(0, 5, size=(UNITS, 5)).astype(float)


def f1(stats: np.ndarray) -> np.ndarray:
    return np.asarray(span_prf(stats)[2])


def test_bootstrap_interval_equals_a_naive_loop() -> None:
    weights = resample_weights(UNITS, 500, seed=3)
    naive = []
    for row in weights:
        sample = np.repeat(np.arange(UNITS), row.astype(int))
        naive.append(float(f1(STATS_A[sample].sum(0))))
    naive.sort()
    interval = bootstrap_interval(STATS_A, f1, resamples=500, seed=3)
    assert interval.low == pytest.approx(naive[int(np.floor(0.025 * 499))])
    assert interval.high == pytest.approx(naive[int(np.ceil(0.975 * 499))])
    assert interval.low <= float(f1(STATS_A.sum(0))) <= interval.high
    assert weights.sum(1).tolist() == [UNITS] * 500


def test_paired_bootstrap_is_sacrebleus_variant() -> None:
    weights = resample_weights(UNITS, 300, seed=5)
    observed = float(f1(STATS_A.sum(0)) - f1(STATS_B.sum(0)))
    deltas = np.array([float(f1(w @ STATS_A) - f1(w @ STATS_B)) for w in weights])
    expected = (np.sum(np.abs(deltas - deltas.mean()) >= abs(observed)) + 1) / 301
    result = paired_bootstrap(STATS_A, STATS_B, f1, resamples=300, seed=5)
    assert result.delta == pytest.approx(observed)
    assert result.p_value == pytest.approx(expected)


def test_approximate_randomization_matches_a_naive_loop() -> None:
    trials = 400
    result = approximate_randomization(STATS_A, STATS_B, f1, trials=trials, seed=9, chunk=trials)
    rng = np.random.default_rng(9)
    swaps = rng.random((trials, UNITS)) < 0.5
    observed = float(f1(STATS_A.sum(0)) - f1(STATS_B.sum(0)))
    count = 0
    for swap in swaps:
        a = np.where(swap[:, None], STATS_B, STATS_A).sum(0)
        b = np.where(swap[:, None], STATS_A, STATS_B).sum(0)
        count += abs(float(f1(a) - f1(b))) >= abs(observed)
    assert result.p_value == pytest.approx((count + 1) / (trials + 1))
    identical = approximate_randomization(STATS_A, STATS_A, f1, trials=200, seed=1)
    assert identical.delta == 0 and identical.p_value == 1.0


def test_no_nan_on_empty_statistics() -> None:
    assert [float(x) for x in span_prf(np.zeros(5))] == [0.0, 0.0, 0.0]
    assert [float(x) for x in overlap_prf(np.zeros(4))] == [0.0, 0.0, 0.0]
    interval = bootstrap_interval(np.zeros((3, 5)), f1, resamples=50)
    assert (interval.low, interval.high) == (0.0, 0.0)


def test_overlap_credit_fixes_the_ptc_recall_defect() -> None:
    """PTC's per-technique recall reuses the precision numerator: gold [0,100), prediction
    [0,10) prints R = 1.0. Here R = 10/100."""
    gold = SpanSet.from_tuples([(0, 0, 0, 100, 0)])
    pred = SpanSet.from_tuples([(0, 0, 0, 10, 0)])
    precision, recall, _ = overlap_prf(overlap_credit_by_unit(gold, pred, 1).sum(0))
    assert (float(precision), float(recall)) == (1.0, pytest.approx(0.1))
    # a prediction over two gold spans of the same label earns credit from both (PTC's sum)
    gold = SpanSet.from_tuples([(0, 0, 0, 10, 0), (0, 0, 20, 30, 0)])
    pred = SpanSet.from_tuples([(0, 0, 5, 25, 0), (0, 1, 0, 10, 0)])  # second: other label
    stats = overlap_credit_by_unit(gold, pred, 1).sum(0)
    assert stats.tolist() == [pytest.approx(10 / 20), 2, pytest.approx(0.5 + 0.5), 2]


@pytest.mark.parametrize("seed", range(5))
def test_stance_scores_equal_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    classes = ["FAVOR", "AGAINST", "NONE"]
    gold = rng.choice(classes, size=60, p=[0.5, 0.2 if seed else 0.0, 0.3 if seed else 0.5])
    pred = rng.choice(classes, size=60)
    confusion = confusion_matrix(gold, pred, labels=classes).astype(float).reshape(-1)
    ours = stance_scores(confusion, classes, ["FAVOR", "AGAINST"])
    assert float(ours["f_avg"]) == pytest.approx(
        f1_score(gold, pred, labels=["FAVOR", "AGAINST"], average="macro", zero_division=0)
    )
    assert float(ours["macro_f1"]) == pytest.approx(
        f1_score(gold, pred, labels=classes, average="macro", zero_division=0)
    )
    p, r, f, _ = precision_recall_fscore_support(gold, pred, labels=classes, zero_division=0)
    assert np.allclose(ours["precision"], p) and np.allclose(ours["recall"], r)
    assert np.allclose(ours["f1"], f)


def test_small_bootstraps_keep_their_multinomial_weights() -> None:
    """Below the dense limit the totals are the multinomial weights' (results unchanged)."""
    totals = resampled_totals(STATS_A, 500, seed=3)
    assert np.array_equal(totals, resample_weights(UNITS, 500, seed=3) @ STATS_A)


def test_large_bootstraps_draw_poisson_weights_in_unit_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the limit, each unit's weight is Poisson(1), drawn a batch of units at a time: the
    totals equal the dense matrix of those same draws (unit by unit, in the seed's order), and
    the interval is close to the multinomial bootstrap's."""
    stats = np.random.default_rng(1).integers(0, 5, size=(3000, 5)).astype(float)
    dense = resampled_totals(stats, 400, seed=8)
    monkeypatch.setattr(metrics, "DENSE_CELLS", 0)
    monkeypatch.setattr(metrics, "UNIT_BATCH", 700)
    weights = metrics.poisson_one(np.random.default_rng(8), (3000, 400)).T.astype(float)
    poisson = resampled_totals(stats, 400, seed=8)
    assert np.array_equal(poisson, weights @ stats)
    assert abs(weights.sum(1).mean() - 3000) < 10  # sizes vary: mean 3000, sd √3000
    multinomial_ci = percentile_interval(f1(dense))
    poisson_ci = percentile_interval(f1(poisson))
    width = multinomial_ci.high - multinomial_ci.low
    assert abs(poisson_ci.low - multinomial_ci.low) < 0.25 * width
    assert abs(poisson_ci.high - multinomial_ci.high) < 0.25 * width
    paired = paired_bootstrap(stats, stats[::-1].copy(), f1, resamples=400, seed=8)
    assert 0.0 < paired.p_value <= 1.0


@pytest.mark.parametrize(
    ("gold", "predicted", "agree"),
    [
        ("94.8", "94.8", True),
        ("94.8", "95.274", True),  # +0.5 % exactly
        ("94.8", "94.326", True),  # -0.5 % exactly
        ("94.8", "95.275", False),
        ("94.8", "94.325", False),
        ("1012", "1017", True),
        ("1012", "1018", False),
        ("0", "0.0001", False),
        ("94.8", "about 95", False),
    ],
)
def test_values_agree_within_half_a_percent_of_the_gold(
    gold: str, predicted: str, agree: bool
) -> None:
    """The statistics task's value tolerance: |predicted − gold| ≤ 0.5 % of |gold|, exact
    decimals (no float rounding at the boundary)."""
    assert values_agree(gold, predicted, "decimal", 0.005) is agree
    assert find_task("statistics", load_schema()).value_tolerance == 0.005


def test_poisson_one_thresholds_give_poissons_probabilities() -> None:
    """Each count's probability under the quantised CDF is Poisson(1)'s to within 2⁻³², and
    no count past the last threshold has a probability of 2⁻³² or more."""
    from scipy.stats import poisson

    edges = np.array([0, *metrics.POISSON_ONE, 2**32], dtype=np.float64)
    quantised = np.diff(edges) / 2**32
    assert np.all(np.abs(quantised - poisson.pmf(np.arange(len(quantised)), 1.0)) <= 2**-32)
    assert poisson.sf(len(quantised) - 1, 1.0) < 2**-32


def _chi_square_p(draws: np.ndarray) -> float:
    from scipy.stats import chisquare, poisson

    counts = np.bincount(draws.ravel(), minlength=6)
    observed = np.append(counts[:5], counts[5:].sum())
    expected = np.append(poisson.pmf(np.arange(5), 1.0), poisson.sf(4, 1.0)) * draws.size
    return float(chisquare(observed, expected).pvalue)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_poisson_one_draws_pass_the_test_numpys_poisson_passes(seed: int) -> None:
    """2,000,000 draws: a chi-square goodness of fit to Poisson(1) that numpy's own sampler
    passes with the same seed, a mean and a variance of 1."""
    ours = metrics.poisson_one(np.random.default_rng(seed), (2000, 1000))
    numpys = np.random.default_rng(seed).poisson(1.0, size=(2000, 1000))
    assert ours.dtype == np.uint8
    assert _chi_square_p(numpys) > 1e-3 and _chi_square_p(ours) > 1e-3
    assert abs(ours.mean() - 1) < 0.003 and abs(ours.var() - 1) < 0.005


def test_large_bootstraps_do_not_depend_on_the_unit_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same seed, same totals whatever the batch; another seed, other totals."""
    stats = np.random.default_rng(4).integers(0, 5, size=(1000, 5)).astype(float)
    monkeypatch.setattr(metrics, "DENSE_CELLS", 0)
    by_batch = {}
    for batch in (1, 333, 1000, 4096):
        monkeypatch.setattr(metrics, "UNIT_BATCH", batch)
        by_batch[batch] = resampled_totals(stats, 200, seed=9)
    assert all(np.array_equal(by_batch[1], totals) for totals in by_batch.values())
    assert np.array_equal(resampled_totals(stats, 200, seed=9), by_batch[1])
    assert not np.array_equal(resampled_totals(stats, 200, seed=10), by_batch[1])
    first = bootstrap_interval(stats, f1, resamples=200, seed=9)
    assert first == bootstrap_interval(stats, f1, resamples=200, seed=9)
    assert first != bootstrap_interval(stats, f1, resamples=200, seed=10)


def test_large_bootstraps_hold_one_batch_of_weights_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the limit, the traced peak is about one batch's float64 weights and its draw: a
    batch's weights kept alive while the next batch draws would add a second matrix."""
    monkeypatch.setattr(metrics, "DENSE_CELLS", 0)
    monkeypatch.setattr(metrics, "UNIT_BATCH", 1000)
    stats = np.random.default_rng(5).integers(0, 5, size=(5000, 3)).astype(float)
    one_batch = 1000 * 400 * 8  # float64 weights of one batch
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        resampled_totals(stats, 400, seed=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # one batch: its float64 weights, or (before them) its uint32 draw with the counts
    assert peak < 1.5 * one_batch
