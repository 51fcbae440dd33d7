"""Several systems scored by one evaluation, with paired tests against the first, and the
views the command line prints (one JSON shape whatever the number of systems, CSV, the bare
scores of ``--score-only``)::

    comparison = score_systems(Evaluation.open(release, "claims"), [Path("run.jsonl")])
    print(comparison.to_json()["systems"][0]["primary"]["value"])
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claimwire.errors import ClaimwireError
from claimwire.eval.checker import system_names
from claimwire.eval.evaluate import Evaluation, SystemResult
from claimwire.eval.metrics import DEFAULT_TRIALS, Significance

CSV_COLUMNS = ("system", "task", "score", "value", "ci_low", "ci_high", "signature")


@dataclass
class Comparison:
    """The results of each system, the paired tests of each later one against the first, and
    what the format checker fixed on the way (``--fix-offsets``)."""

    evaluation: Evaluation
    results: list[SystemResult]
    tests: list[Sequence[Significance]]
    fixes: list[str] = field(default_factory=list)

    def significance(self, index: int) -> dict[str, Any] | None:
        """The paired tests of system ``index`` against the first (None for the first)."""
        if index == 0:
            return None
        entry: dict[str, Any] = {"baseline": self.results[0].system}
        for test in self.tests[index - 1]:
            entry[test.method.replace(" ", "_")] = {
                "delta": test.delta,
                "p_value": test.p_value,
                "trials": test.trials,
            }
        return entry

    def to_json(self) -> dict[str, Any]:
        """``{"task", "signature", "systems": [...]}`` — the same shape for one system or many."""
        return {
            "task": self.evaluation.task.name,
            "signature": self.evaluation.signature(),
            "systems": [
                {**result.to_dict(), "significance": self.significance(i)}
                for i, result in enumerate(self.results)
            ],
        }

    def to_csv(self, width: int = 3) -> str:
        """One row per system: its primary score, the interval and the signature. A text cell
        that a spreadsheet would run as a formula (a system named ``=1+2``) is written with a
        leading ``'`` (OWASP's advice on CSV injection)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self._rows():
            writer.writerow(
                [f"{cell:.{width}f}" if isinstance(cell, float) else inert(cell) for cell in row]
            )
        return out.getvalue()

    def to_pandas(self) -> Any:
        """One row per system: the columns of :meth:`to_csv`, with numbers as floats and names
        as they are."""
        import pandas

        return pandas.DataFrame(list(self._rows()), columns=list(CSV_COLUMNS))

    def _rows(self) -> Iterator[tuple[str, str, str, float, float, float, str]]:
        for result in self.results:
            primary = result.primary_score
            yield (
                result.system,
                result.task.name,
                primary.name,
                primary.value,
                primary.interval.low,
                primary.interval.high,
                result.signature,
            )

    def score_lines(self, width: int = 3) -> list[str]:
        """sacreBLEU's ``--score-only``: each system's primary score, nothing else."""
        return [f"{result.primary:.{width}f}" for result in self.results]


def score_systems(
    evaluation: Evaluation,
    predictions: Sequence[Path],
    *,
    names: Sequence[str] = (),
    trials: int = DEFAULT_TRIALS,
    fix_offsets: bool = False,
    allow_empty: bool = False,
) -> Comparison:
    """Check and score each prediction file (named by ``names``, else by the file), then test
    each later system against the first."""
    if names and len(names) != len(predictions):
        raise ClaimwireError(
            f"{len(names)} --name for {len(predictions)} prediction files; give one per file",
            field="--name",
        )
    given = [unicodedata.normalize("NFC", n) for n in names]
    twice = next((n for n, count in Counter(given).items() if count > 1), None)
    if twice is not None:
        raise ClaimwireError(
            f"--name {twice!r} is given twice; give each prediction file a name of its own",
            field="--name",
        )
    names = list(names) or system_names(predictions, evaluation.task)
    results: list[SystemResult] = []
    fixes: list[str] = []
    for path, name in zip(predictions, names, strict=True):
        report = evaluation.check(path, fix_offsets=fix_offsets, name=name, allow_empty=allow_empty)
        fixes += report.fixes
        results.append(evaluation.score(report))
    tests = [evaluation.compare(r, results[0], trials) for r in results[1:]]
    return Comparison(evaluation, results, tests, fixes)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV cell as a formula."""


def inert(cell: str) -> str:
    """``cell`` as a spreadsheet shows it, never runs it."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell
