"""A self-contained error-analysis page: scores, and each document's text with gold and
predicted spans side by side, coloured by outcome. No script, no external resource; every
piece of corpus text is HTML-escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from claimwire.eval.evaluate import Evaluation, SystemResult
from claimwire.eval.report import Leaderboard, leaderboard
from claimwire.files import atomic_write_text

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1d2330;max-width:1400px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}code{font-size:.85em}
table{border-collapse:collapse;margin:.5rem 0 1rem;display:block;max-width:100%;overflow-x:auto}
th,td{border:1px solid #ccd;padding:.25rem .6rem}
th{background:#eef1f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pair{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1.2rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere;border:1px solid #dde;padding:.8rem;
  border-radius:6px;background:#fcfcfd}
mark{border-radius:3px;padding:0 1px}
mark.matched{background:#b7ebc0}mark.partial{background:#ffe08a}
mark.missed{background:#ffb3b3}mark.spurious{background:#d9c2ff}
.legend mark{margin-right:.8rem}.notes li{color:#8a5a00}
"""


def _table(board: Leaderboard) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in board.header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{'' if i == 0 else ' class=num'}>{escape(c)}</td>" for i, c in enumerate(row)
        )
        + "</tr>"
        for row in board.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _confusion_svg(classes: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """A confusion-matrix heat map (rows gold, columns predicted) as inline SVG."""
    cell, margin = 64, 90
    size = margin + cell * len(classes)
    peak = max((v for row in matrix for v in row), default=0) or 1
    parts = [
        f'<svg class="confusion" xmlns="http://www.w3.org/2000/svg" width="{size + 10}" '
        f'height="{size + 10}" role="img" aria-label="confusion matrix">'
    ]
    for i, name in enumerate(classes):
        y = margin + i * cell + cell / 2 + 5
        x = margin + i * cell + cell / 2
        parts.append(f'<text x="{margin - 8}" y="{y}" text-anchor="end">{escape(name)}</text>')
        parts.append(f'<text x="{x}" y="{margin - 10}" text-anchor="middle">{escape(name)}</text>')
        for j, value in enumerate(matrix[i]):
            shade = int(255 - 180 * value / peak)
            parts.append(
                f'<rect x="{margin + j * cell}" y="{margin + i * cell}" width="{cell}" '
                f'height="{cell}" fill="rgb({shade},{shade},255)" stroke="#fff" '
                f'data-gold="{escape(name)}" data-pred="{escape(classes[j])}" '
                f'data-count="{value}"/>'
                f'<text x="{margin + j * cell + cell / 2}" y="{margin + i * cell + cell / 2 + 5}" '
                f'text-anchor="middle">{value}</text>'
            )
    parts.append('<text x="4" y="16">rows: gold · columns: predicted</text></svg>')
    return "".join(parts)


def _documents_section(result: SystemResult) -> str:
    """The kept document sections of a span task's result, and how many were left out."""
    kept = result.pages
    if kept is None:
        return ""
    shown = "".join(kept.sections())
    if kept.left_out:
        shown = (
            f"<p class=left-out>The {kept.seen - kept.left_out:,} documents with the most errors "
            f"of the {kept.seen:,} scored, in corpus order ({kept.left_out:,} left out; "
            "<code>--html-documents</code> sets how many are shown).</p>" + shown
        )
    return shown


def _task_section(evaluation: Evaluation, results: Sequence[SystemResult]) -> str:
    task = evaluation.task
    parts = [
        f'<section class="task" data-task="{escape(task.name)}">',
        f"<h1>Task <code>{escape(task.name)}</code></h1>",
        f"<p>{escape(task.description)}</p>",
        f"<p><code class=signature>{escape(evaluation.signature())}</code></p>",
        _table(leaderboard(results)),
    ]
    notes = dict.fromkeys(n for r in results for n in r.statistics.notes)
    if notes:
        parts.append("<ul class=notes>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    if task.kind == "spans":
        parts.append(
            "<p class=legend>Primary scheme <b>" + escape(task.primary) + "</b>: "
            '<mark class="matched">matched</mark><mark class="partial">partial / incorrect</mark>'
            '<mark class="missed">missed (gold only)</mark>'
            '<mark class="spurious">spurious (system only)</mark></p>'
        )
    for result in results:
        parts.append(
            f'<h2 class=system data-system="{escape(result.system)}">{escape(result.system)}</h2>'
        )
        if result.stance is not None:
            parts.append(_confusion_svg(result.stance.classes, result.stance.confusion))
        parts.append(_relations_table(result))
        parts.append(_documents_section(result))
    parts.append("</section>")
    return "".join(parts)


PAGE_BEGINS = "<!doctype html><html lang=en><head><meta charset=utf-8><title>claimwire — "
"""How every report page begins: an existing file that does not is a user's, never replaced
without ``--force``."""


def render_page(sections: Sequence[tuple[Evaluation, Sequence[SystemResult]]]) -> str:
    """One self-contained page with a section per task."""
    names = ", ".join(evaluation.task.name for evaluation, _ in sections)
    return (
        f"{PAGE_BEGINS}{escape(names)}</title><style>{STYLE}</style></head><body>"
        + "".join(_task_section(evaluation, results) for evaluation, results in sections)
        + "</body></html>"
    )


def render_html(evaluation: Evaluation, results: Sequence[SystemResult]) -> str:
    return render_page([(evaluation, results)])


def _relations_table(result: SystemResult) -> str:
    relations = result.scores.relations
    if not relations:
        return ""
    rows = "".join(
        f"<tr><td>{escape(kind)}</td><td>{escape(scheme)}</td>"
        f"<td class=num>{v.counts['tp']:.0f}</td><td class=num>{v.counts['predicted']:.0f}</td>"
        f"<td class=num>{v.counts['gold']:.0f}</td><td class=num>{v.f1:.3f}</td></tr>"
        for kind, by_scheme in relations.items()
        for scheme, v in by_scheme.items()
    )
    return (
        "<table class=relations><thead><tr><th>relation</th><th>scheme</th><th>correct</th>"
        f"<th>predicted</th><th>gold</th><th>F1</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def write_html_report(path: Path, evaluation: Evaluation, results: Sequence[SystemResult]) -> None:
    atomic_write_text(path, render_html(evaluation, results))
