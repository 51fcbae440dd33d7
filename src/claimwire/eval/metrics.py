"""Scores from sufficient statistics, and their uncertainty (sacreBLEU's definitions).

Every scorer first reduces each resampling unit (a document, a sentence or a paragraph) to a
row of counts. Corpus scores, bootstrap confidence intervals, paired bootstrap and
approximate randomization all re-aggregate those rows; nothing is re-matched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from claimwire.eval.resampling import DEFAULT_RESAMPLES as DEFAULT_RESAMPLES
from claimwire.eval.resampling import DEFAULT_SEED as DEFAULT_SEED
from claimwire.eval.resampling import DEFAULT_TRIALS as DEFAULT_TRIALS

Floats = NDArray[np.float64]
Metric = Callable[[Floats], Floats]
"""Maps summed statistics, shape ``(..., k)``, to one score per row, shape ``(...)``."""


def safe_divide(numerator: Floats, denominator: Floats) -> Floats:
    """``numerator / denominator``, 0 where the denominator is 0 (never NaN)."""
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def f_measure(precision: Floats, recall: Floats) -> Floats:
    return safe_divide(2 * precision * recall, precision + recall)


def span_prf(counts: Floats) -> tuple[Floats, Floats, Floats]:
    """Precision, recall, F1 from ``(..., 5)`` COR, INC, PAR, MIS, SPU counts (PAR: ½)."""
    cor, inc, par, mis, spu = (counts[..., i] for i in range(5))
    credit = cor + 0.5 * par
    precision = safe_divide(credit, cor + inc + par + spu)
    recall = safe_divide(credit, cor + inc + par + mis)
    return precision, recall, f_measure(precision, recall)


def overlap_prf(stats: Floats) -> tuple[Floats, Floats, Floats]:
    """Character-overlap P, R, F1 from ``(..., 4)``: P numerator, |S|, R numerator, |T|."""
    precision = safe_divide(stats[..., 0], stats[..., 1])
    recall = safe_divide(stats[..., 2], stats[..., 3])
    return precision, recall, f_measure(precision, recall)


@dataclass(frozen=True)
class Interval:
    """A bootstrap confidence interval around a score."""

    low: float
    high: float
    mean: float

    @property
    def half_width(self) -> float:
        """Half the interval's width: the "±" of a reported score."""
        return (self.high - self.low) / 2

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high, "mean": self.mean}

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> Interval:
        return cls(data["low"], data["high"], data["mean"])


def percentile_interval(scores: Floats, confidence: float = 0.95) -> Interval:
    """The central ``confidence`` interval of B bootstrap scores, as sacreBLEU's
    ``estimate_ci`` takes it: sorted scores ``[k]`` and ``[B − k − 1]`` (0-based) with
    k = ⌊B · (1 − confidence) / 2⌋ — at B = 1000 and 95 %, the 26th and the 975th."""
    ordered = np.sort(np.asarray(scores, dtype=np.float64))
    count = len(ordered)
    if count == 0:
        return Interval(0.0, 0.0, 0.0)
    # exact rational arithmetic: 1000 * 0.025 must give 25, not 24.999…
    tail = (1 - Fraction(str(confidence))) / 2
    low_index = min(math.floor(count * tail), count - 1)
    high_index = max(count - low_index - 1, low_index)
    return Interval(
        float(ordered[low_index]), float(ordered[high_index]), float(math.fsum(ordered) / count)
    )


DENSE_CELLS = 1 << 22
"""Up to this many units × resamples, bootstrap weights are the exact multinomial draw (one
matrix, as sacreBLEU-style bootstraps do); beyond, Poisson weights drawn in unit batches."""
UNIT_BATCH = 2048


def _poisson_one_thresholds() -> tuple[int, ...]:
    """Poisson(1)'s CDF at 0, 1, 2, … scaled to 2³² and rounded, up to the last below 2³²."""
    thresholds: list[int] = []
    probability = cumulative = math.exp(-1)
    while (threshold := round(cumulative * 2**32)) < 2**32:
        thresholds.append(threshold)
        probability /= len(thresholds)
        cumulative += probability
    return tuple(thresholds)


POISSON_ONE = _poisson_one_thresholds()
"""A 32-bit uniform integer u gives k = #{t ∈ POISSON_ONE : u ≥ t}: P(k) is Poisson(1)'s
probability to within 2⁻³² (the CDF's rounding)."""


def poisson_one(rng: np.random.Generator, shape: tuple[int, int]) -> NDArray[np.uint8]:
    """Poisson(1) draws by inversion of 32-bit uniform integers: a dozen vectorised compares
    (numpy's ``rng.poisson`` draws one variate at a time, ~15× slower)."""
    uniform = rng.integers(0, 2**32, size=shape, dtype=np.uint32)
    counts = np.zeros(shape, dtype=np.uint8)
    for threshold in POISSON_ONE:
        counts += uniform >= threshold
    return counts


def resample_weights(units: int, resamples: int, seed: int) -> Floats:
    """``(resamples, units)``: how often each unit is drawn in each bootstrap sample."""
    rng = np.random.default_rng(seed)
    if units == 0:
        return np.zeros((resamples, 0))
    return rng.multinomial(units, np.full(units, 1.0 / units), size=resamples).astype(np.float64)


def resampled_totals(stats: Floats, resamples: int, seed: int) -> Floats:
    """The statistics summed over each bootstrap sample: ``(resamples, *stats.shape[1:])``.

    Small inputs use :func:`resample_weights` (so results at a fixed seed are what they
    always were). Past :data:`DENSE_CELLS`, each unit's weight in each resample is drawn from
    Poisson(1) (:func:`poisson_one`), a batch of units at a time: memory is
    ``resamples × UNIT_BATCH``, never ``resamples × units``. Unit i takes the seed's draws
    ``i × resamples`` to ``(i + 1) × resamples − 1``, whatever the batch. The Poisson
    bootstrap's resamples vary in size (mean ``units``, standard deviation ``√units``) and
    approach the multinomial bootstrap as units grow.
    """
    stats = np.asarray(stats, dtype=np.float64)
    totals = resampled_columns([stats.reshape(len(stats), -1)], resamples, seed)
    return totals.reshape(resamples, *stats.shape[1:])


def resampled_columns(tables: Sequence[Floats], resamples: int, seed: int) -> Floats:
    """:func:`resampled_totals` of the tables side by side (``(units, k_i)`` each), as of
    ``np.hstack(tables)``: ``(resamples, Σ k_i)``. Past :data:`DENSE_CELLS` only a batch of
    units is put side by side at a time, so the tables are never copied whole."""
    units = len(tables[0])
    if units * resamples <= DENSE_CELLS:
        return resample_weights(units, resamples, seed) @ np.hstack(tables)
    rng = np.random.default_rng(seed)
    totals = np.zeros((resamples, sum(table.shape[1] for table in tables)))
    for start in range(0, units, UNIT_BATCH):
        block = np.hstack([table[start : start + UNIT_BATCH] for table in tables])
        # one unnamed temporary: a named one would keep last batch's weights alive
        totals += poisson_one(rng, (len(block), resamples)).astype(np.float64).T @ block
    return totals


def bootstrap_interval(
    stats: Floats,
    metric: Metric,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> Interval:
    """Percentile bootstrap over units: resample rows with replacement, re-aggregate."""
    return percentile_interval(metric(resampled_totals(stats, resamples, seed)), confidence)


@dataclass(frozen=True)
class Significance:
    """A paired test of system A against system B on the same units."""

    method: str
    delta: float
    p_value: float
    trials: int


def paired_bootstrap(
    stats_a: Floats,
    stats_b: Floats,
    metric: Metric,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Significance:
    """Paired bootstrap: p = (#{|Δ* − mean Δ*| ≥ |Δ|} + 1) / (B + 1), Δ* the signed
    differences A − B on each resample (centred: the null hypothesis of no difference).

    sacreBLEU (``_paired_bs_test``) centres the *absolute* differences instead,
    ``#{|Δ*| − mean |Δ*| > |Δ|}``, which compares a spread with a difference and rarely
    rejects; centring the signed differences shifts the bootstrap distribution onto the
    null hypothesis, the usual two-sided bootstrap test, and is what is done here."""
    observed = float(metric(stats_a.sum(0)) - metric(stats_b.sum(0)))
    columns = stats_a.shape[1]
    totals = resampled_totals(np.hstack([stats_a, stats_b]), resamples, seed)
    deltas = metric(totals[:, :columns]) - metric(totals[:, columns:])
    extreme = np.count_nonzero(np.abs(deltas - deltas.mean()) >= abs(observed) - 1e-12)
    return Significance("paired bootstrap", observed, (extreme + 1) / (resamples + 1), resamples)


def approximate_randomization(
    stats_a: Floats,
    stats_b: Floats,
    metric: Metric,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    chunk: int = 1000,
) -> Significance:
    """Swap the two systems' rows per unit with probability ½; p = (c + 1) / (R + 1) with
    c = #{|Δ_trial| ≥ |Δ_observed|}."""
    observed = float(metric(stats_a.sum(0)) - metric(stats_b.sum(0)))
    rng = np.random.default_rng(seed)
    total_a, difference = stats_a.sum(0), stats_b - stats_a
    extreme = 0
    for done in range(0, trials, chunk):
        swap = rng.random((min(chunk, trials - done), len(stats_a))) < 0.5
        swapped_a = total_a + swap.astype(np.float64) @ difference
        swapped_b = total_a + stats_b.sum(0) - swapped_a
        deltas = metric(swapped_a) - metric(swapped_b)
        extreme += int(np.count_nonzero(np.abs(deltas) >= abs(observed) - 1e-12))
    return Significance("approximate randomization", observed, (extreme + 1) / (trials + 1), trials)
