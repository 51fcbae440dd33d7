"""What the primary scheme decided for each span of one system: a typed view of the match
that the HTML report draws and a notebook filters (``errors()``, ``to_pandas()``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from claimwire.eval.matching import OUTCOMES

if TYPE_CHECKING:
    from claimwire.eval.evaluate import SystemResult
    from claimwire.model import Annotation


@dataclass(frozen=True, slots=True)
class SpanOutcome:
    """One gold or predicted span and its outcome: ``cor``, ``inc``, ``par``, ``mis``, ``spu``."""

    side: str
    annotation: Annotation
    outcome: str

    @property
    def is_error(self) -> bool:
        return self.outcome != "cor"


@dataclass(frozen=True, slots=True)
class SpanMatch:
    """Every gold and predicted span of a system under the task's primary scheme."""

    system: str
    scheme: str
    gold: tuple[SpanOutcome, ...]
    predictions: tuple[SpanOutcome, ...]

    def errors(self) -> list[SpanOutcome]:
        """Missed, spurious, partial or wrongly typed spans, gold first, in text order."""
        wrong = [s for s in (*self.gold, *self.predictions) if s.is_error]
        return sorted(
            wrong, key=lambda s: (s.side != "gold", s.annotation.doc_id, s.annotation.start or 0)
        )

    def to_pandas(self) -> Any:
        """One row per span: side, outcome, document, label, offsets, text."""
        import pandas

        return pandas.DataFrame(
            [
                {
                    "system": self.system,
                    "side": s.side,
                    "outcome": s.outcome,
                    "doc_id": s.annotation.doc_id,
                    "label": s.annotation.label,
                    "start": s.annotation.start,
                    "end": s.annotation.end,
                    "id": s.annotation.id,
                }
                for s in (*self.gold, *self.predictions)
            ]
        )


def span_match(result: SystemResult) -> SpanMatch | None:
    """The typed match of a span task's result (None for a stance task)."""
    found = result.statistics.extra.get("primary_match")
    return None if found is None else match_of(result.system, result.task.primary, found)


def match_of(system: str, scheme: str, found: Any) -> SpanMatch:
    """The typed match from a span scorer's ``primary_match`` (gold rows, predicted rows and
    the primary scheme's outcomes)."""
    gold_rows, pred_rows, match = found

    def sides(side: str, rows: Any, outcomes: Any) -> tuple[SpanOutcome, ...]:
        return tuple(
            SpanOutcome(side, row, OUTCOMES[int(o)]) for row, o in zip(rows, outcomes, strict=True)
        )

    return SpanMatch(
        system,
        scheme,
        sides("gold", gold_rows, match.gold_outcome),
        sides("prediction", pred_rows, match.pred_outcome),
    )
