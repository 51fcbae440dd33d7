"""Agreement statistics as exact sums: added a batch of units at a time, in any order, they
give the same value to the last digit, one rounding at the end.

* :class:`KappaSums`: Cohen's κ from the integer contingency table of two coders' values;
* :class:`AlphaSums`: Krippendorff's α (nominal or interval) from the coincidences: a unit
  coded ``m`` times adds its disagreement over ordered pairs, divided by ``m − 1`` only at
  the end (integers for nominal values, exact fractions of the float values for interval);
* :class:`CreditSums`: the character-overlap credit Σ |s∩t|/|s|, an integer numerator per
  span length.

Each equals its peer (``sklearn.metrics.cohen_kappa_score``, ``krippendorff.alpha``, numpy's
sum of the credits) up to the float rounding the peers accumulate, which these do not.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from claimwire.eval.matching import SpanSet, merge_same_label, overlap_pairs

Level = Literal["nominal", "interval"]


@dataclass
class Statistic:
    """A value, or why there is none."""

    value: float | None
    reason: str = ""
    units: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "reason": self.reason or None, "units": self.units}


@dataclass
class KappaSums:
    """Cohen's κ of paired values (``None`` on either side: the pair is skipped), compared
    as strings: κ = 1 − N(N − Σ C_cc) / (N² − Σ_c r_c s_c)."""

    cells: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, left: Any, right: Any, times: int = 1) -> None:
        if left is not None and right is not None:
            self.cells[(str(left), str(right))] += times

    def result(self) -> Statistic:
        n = sum(self.cells.values())
        if not n:
            return Statistic(None, "no unit coded by both", 0)
        rows: Counter[str] = Counter()
        columns: Counter[str] = Counter()
        for (left, right), count in self.cells.items():
            rows[left] += count
            columns[right] += count
        values = rows.keys() | columns.keys()
        if len(values) < 2:
            return Statistic(None, f"both used only {next(iter(values))!r}: κ is undefined", n)
        agreed = sum(self.cells[(value, value)] for value in values)
        chance = n * n - sum(rows[value] * columns[value] for value in values)
        return Statistic(float(1 - Fraction(n * (n - agreed), chance)), units=n)


@dataclass
class AlphaSums:
    """Krippendorff's α over units of values (``None``: not coded), added unit by unit."""

    level: Level
    units: int = 0
    """Units coded at least twice (pairable)."""
    first: Any = None
    several: bool = False
    """Whether the coders used more than one value (over every unit)."""
    disagreement: defaultdict[int, Any] = field(default_factory=lambda: defaultdict(int))
    """Per ``m``: Σ over units coded ``m`` times of the distance over their ordered pairs
    (an integer for nominal values, a fraction for interval ones)."""
    counts: Counter[Any] = field(default_factory=Counter)
    """Nominal: how often each value was paired."""
    moments: list[Fraction] = field(default_factory=lambda: [Fraction(0)] * 3)
    """Interval: n, Σ v, Σ v² of the paired values."""

    def add(self, column: Sequence[Any], times: int = 1) -> None:
        """A unit's values (``times`` units alike)."""
        coded = [value for value in column if value is not None]
        if self.level == "interval":  # a value beyond a float's range counts as not coded
            coded = [value for value in coded if math.isfinite(float(value))]
        for value in coded:
            if self.first is None:
                self.first = value
            elif not self.several and value != self.first:
                self.several = True
        m = len(coded)
        if m < 2:
            return
        self.units += times
        if self.level == "nominal":
            counts = Counter(coded)
            self.disagreement[m] += times * (m * m - sum(c * c for c in counts.values()))
            for value, count in counts.items():
                self.counts[value] += times * count
            return
        exact = [Fraction(float(value)) for value in coded]
        total, squares = sum(exact, Fraction(0)), sum((v * v for v in exact), Fraction(0))
        self.disagreement[m] += times * 2 * (m * squares - total * total)
        for i, part in enumerate((Fraction(m), total, squares)):
            self.moments[i] += times * part

    def result(self) -> Statistic:
        if not self.units:
            return Statistic(None, "no unit was coded by two sets", 0)
        if not self.several:
            return Statistic(
                None, f"every coder used one value ({self.first!r}): α is undefined", self.units
            )
        observed = sum((Fraction(d, m - 1) for m, d in self.disagreement.items()), Fraction(0))
        if self.level == "nominal":
            n = sum(self.counts.values())
            expected = Fraction(n * n - sum(c * c for c in self.counts.values()), n - 1)
        else:
            paired, total, squares = self.moments
            expected = 2 * (paired * squares - total * total) / (paired - 1)
        if not expected:
            return Statistic(None, "α is undefined: the paired values are all one", self.units)
        return Statistic(float(1 - observed / expected), units=self.units)


@dataclass
class CreditSums:
    """The character-overlap credit of two span sets (``(Σ_s Σ_t |s∩t|/|s|, |S|,
    Σ_t Σ_s |s∩t|/|t|, |T|)``, as :func:`~claimwire.eval.matching.overlap_credit_by_unit`),
    each numerator kept as integers per span length."""

    precision: Counter[int] = field(default_factory=Counter)
    recall: Counter[int] = field(default_factory=Counter)
    predicted: int = 0
    gold: int = 0

    def add(self, gold: SpanSet, pred: SpanSet) -> None:
        precision, recall, predicted, golds = credit_parts(gold, pred)
        for numerators, found in ((self.precision, precision), (self.recall, recall)):
            for denominator, numerator in found:
                numerators[denominator] += numerator
        self.predicted += predicted
        self.gold += golds

    def stats(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        return credit_stats(self.precision.items(), self.predicted, self.recall.items(), self.gold)


def credit_parts(
    gold: SpanSet, pred: SpanSet
) -> tuple[list[tuple[int, int]], list[tuple[int, int]], int, int]:
    """What two span sets add to :class:`CreditSums`: the integer numerators of the
    precision credit per predicted span length and of the recall credit per gold span
    length, and how many predicted and gold spans there are (same-label overlaps merged)."""
    gold, pred = merge_same_label(gold), merge_same_label(pred)
    g, p, length = overlap_pairs(gold, pred, same_label=True)
    precision = _grouped((pred.end - pred.start)[p], length)
    recall = _grouped((gold.end - gold.start)[g], length)
    return precision, recall, len(pred), len(gold)


def credit_stats(
    precision: Iterable[tuple[int, int]],
    predicted: int,
    recall: Iterable[tuple[int, int]],
    gold: int,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``(Σ_s Σ_t |s∩t|/|s|, |S|, Σ_t Σ_s |s∩t|/|t|, |T|)`` from the numerators
    ``(length, numerator)`` (a length may repeat): each sum exact, rounded once."""

    def total(numerators: Iterable[tuple[int, int]]) -> float:
        return float(sum((Fraction(n, d) for d, n in numerators), Fraction(0)))

    return np.array([total(precision), predicted, total(recall), gold], np.float64)


def _grouped(keys: Any, values: Any) -> list[tuple[int, int]]:
    """Σ of the integer ``values`` per distinct key."""
    if not len(keys):
        return []
    distinct, inverse = np.unique(keys, return_inverse=True)
    sums = np.zeros(len(distinct), np.int64)
    np.add.at(sums, inverse, np.asarray(values, np.int64))
    return [(int(k), int(v)) for k, v in zip(distinct.tolist(), sums.tolist(), strict=True)]
