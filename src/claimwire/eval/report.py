"""Leaderboard rows shared by the terminal table, Markdown and HTML reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from claimwire.eval.evaluate import SystemResult
from claimwire.eval.metrics import Interval, Significance
from claimwire.markup import md_code, md_text


@dataclass(frozen=True)
class Leaderboard:
    """A table: a header and one row of formatted cells per system."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _with_ci(value: float, interval: Interval) -> str:
    return f"{value:.3f}±{interval.half_width:.3f}"


def leaderboard(results: Sequence[SystemResult], details: bool = True) -> Leaderboard:
    """One row per system; span tasks show F1 per scheme (with ``details``, also macro F1,
    relations, attributes and disclosure), stance F_avg and per-class F1."""
    task = results[0].task
    if task.kind == "stance":
        header = ("system", "F_avg", "macro-F1", *(f"F1 {c}" for c in task.classes))
        rows = []
        for result in results:
            stance = result.stance
            assert stance is not None
            rows.append(
                (
                    result.system,
                    _with_ci(stance.f_avg, stance.f_avg_interval),
                    _with_ci(stance.macro_f1, stance.macro_f1_interval),
                    *(f"{stance.per_class[c].f1:.3f}" for c in task.classes),
                )
            )
        return Leaderboard(f"{task.name} — {task.description}", header, tuple(rows))
    if not details:
        header = ("system", *task.schemes)
        rows = [
            (
                r.system,
                *(_with_ci(r.spans[s].f1, r.spans[s].interval) for s in task.schemes),
            )
            for r in results
        ]
        return Leaderboard(f"{task.name}: F1 ± half the 95 % CI, per scheme", header, tuple(rows))
    return _details(results)


def _details(results: Sequence[SystemResult]) -> Leaderboard:
    task = results[0].task
    extra = [f"{r.type} F1 ({task.primary})" for r in task.relations]
    extra += [f"{name} F1" for name in task.attributes]
    if task.disclosure:
        extra.append("disclosure acc. / MAE")
    header = ("system", *(f"{s} F1" for s in task.schemes), f"macro F1 ({task.primary})", *extra)
    rows = []
    for result in results:
        scores = result.scores
        cells = [result.system]
        cells += [_with_ci(scores.spans[s].f1, scores.spans[s].interval) for s in task.schemes]
        cells.append(f"{scores.spans[task.primary].macro_f1:.3f}")
        for relation in task.relations:
            cells.append(f"{scores.relations[relation.type][task.primary].f1:.3f}")
        cells += [f"{scores.attributes[name].f1:.3f}" for name in task.attributes]
        if task.disclosure:
            disclosure = scores.disclosure
            mean = disclosure.mean_accuracy if disclosure else None
            mae = disclosure.core_score_mae if disclosure else None
            cells.append(f"{_or_dash(mean)} / {_or_dash(mae)}")
        rows.append(tuple(cells))
    return Leaderboard(f"{task.name} — {task.description}", header, tuple(rows))


def _or_dash(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def markdown_table(board: Leaderboard, left: int = 1) -> list[str]:
    """``board``'s header, alignment row and rows as Markdown lines; the first ``left``
    columns are left-aligned, the others right-aligned."""
    return [
        "| " + " | ".join(map(md_text, board.header)) + " |",
        "|" + "|".join("---" if i < left else "---:" for i in range(len(board.header))) + "|",
        *("| " + " | ".join(map(md_text, row)) + " |" for row in board.rows),
    ]


def markdown(board: Leaderboard, signature: str | None = None) -> str:
    """``board`` as a Markdown section; names from data are escaped (:mod:`claimwire.markup`)."""
    lines = [f"### {md_text(board.title)}", "", *markdown_table(board)]
    if signature:
        lines += ["", md_code(signature)]
    return "\n".join(lines) + "\n"


def significance_rows(
    baseline: SystemResult, others: Sequence[tuple[SystemResult, Sequence[Significance]]]
) -> Leaderboard:
    header = ("system", "vs", "Δ primary", "paired bootstrap p", "approx. randomization p")
    rows = []
    for result, tests in others:
        by_method = {t.method: t for t in tests}
        delta = tests[0].delta
        rows.append(
            (
                result.system,
                baseline.system,
                f"{delta:+.3f}",
                f"{by_method['paired bootstrap'].p_value:.4f}",
                f"{by_method['approximate randomization'].p_value:.4f}",
            )
        )
    return Leaderboard("Paired significance of the primary metric", header, tuple(rows))
