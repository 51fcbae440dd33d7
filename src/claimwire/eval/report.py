"""Leaderboard rows shared by the terminal table, Markdown and HTML reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from claimwire.eval.evaluate import SystemResult
from claimwire.eval.metrics import Interval, Significance


@dataclass(frozen=True)
class Leaderboard:
    """A table: a header and one row of formatted cells per system."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _with_ci(value: float, ci: dict[str, float] | None) -> str:
    if not ci:
        return f"{value:.3f}"
    return f"{value:.3f}±{Interval.from_dict(ci).half_width:.3f}"


def leaderboard(results: Sequence[SystemResult], details: bool = True) -> Leaderboard:
    """One row per system; span tasks show F1 per scheme (with ``details``, also macro F1,
    relations, attributes and disclosure), stance F_avg and per-class F1."""
    task = results[0].task
    if task.kind == "stance":
        header = ("system", "F_avg", "macro-F1", *(f"F1 {c}" for c in task.classes))
        rows = []
        for result in results:
            stance = result.scores["stance"]
            rows.append(
                (
                    result.system,
                    _with_ci(stance["f_avg"], stance["ci"]["f_avg"]),
                    _with_ci(stance["macro_f1"], stance["ci"]["macro_f1"]),
                    *(f"{stance['per_class'][c]['f1']:.3f}" for c in task.classes),
                )
            )
        return Leaderboard(f"{task.name} — {task.description}", header, tuple(rows))
    if not details:
        header = ("system", *task.schemes)
        rows = [
            (
                r.system,
                *(
                    _with_ci(r.scores["schemes"][s]["f1"], r.scores["schemes"][s].get("ci"))
                    for s in task.schemes
                ),
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
        schemes = result.scores["schemes"]
        cells = [result.system]
        cells += [_with_ci(schemes[s]["f1"], schemes[s].get("ci")) for s in task.schemes]
        cells.append(f"{schemes[task.primary]['macro_f1']:.3f}")
        for relation in task.relations:
            cells.append(f"{result.scores['relations'][relation.type][task.primary]['f1']:.3f}")
        cells += [f"{result.scores['attributes'][name]['f1']:.3f}" for name in task.attributes]
        if task.disclosure:
            disclosure = result.scores.get("disclosure", {})
            values = [v for v in disclosure.get("field_accuracy", {}).values() if v is not None]
            mae = disclosure.get("core_score_mae")
            accuracy = f"{sum(values) / len(values):.3f}" if values else "—"
            cells.append(f"{accuracy} / {mae:.3f}" if mae is not None else f"{accuracy} / —")
        rows.append(tuple(cells))
    return Leaderboard(f"{task.name} — {task.description}", header, tuple(rows))


def markdown_table(board: Leaderboard, left: int = 1) -> list[str]:
    """``board``'s header, alignment row and rows as Markdown lines; the first ``left``
    columns are left-aligned, the others right-aligned."""
    return [
        "| " + " | ".join(board.header) + " |",
        "|" + "|".join("---" if i < left else "---:" for i in range(len(board.header))) + "|",
        *("| " + " | ".join(row) + " |" for row in board.rows),
    ]


def markdown(board: Leaderboard, signature: str | None = None) -> str:
    lines = [f"### {board.title}", "", *markdown_table(board)]
    if signature:
        lines += ["", f"`{signature}`"]
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
