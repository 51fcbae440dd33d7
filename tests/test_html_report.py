"""The HTML error-analysis page, loaded in real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.corpus.release import build_release, open_release
from claimwire.model import Annotation, Quote

from .helpers import run_cli

TEXT = (
    "Titre <b>gras</b> et <script>window.pwned = 1</script>\n\n"
    "PARIS, 3 mars 2025 (GLOBE NEWSWIRE) — Le commerce a atteint 12 milliards d’euros. "
    "Selon l’Insee, 90 % des personnes interrogées approuvent. La croissance est forte."
)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    if os.environ.get("CI"):
        pytest.fail("Chromium is not installed; .ci/run installs Debian's chromium package")
    pytest.skip("Chromium is not installed (apt-get install chromium); CI installs it")


def span(doc_id: str, text: str, ann_id: str, exact: str) -> Annotation:
    start = text.index(exact)
    end = start + len(exact)
    return Annotation(
        ann_id,
        doc_id,
        "claims",
        "CLAIM",
        start,
        end,
        Quote.from_text(text, start, end),
        {"claim_type": "quantity", "checkworthy": True},
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("html")
    raw = root / "raw"
    raw.mkdir()
    (raw / "doc.jsonl").write_text(json.dumps({"text": TEXT, "split": "test"}) + "\n", "utf-8")
    gold_claims = [
        "Le commerce a atteint 12 milliards d’euros",
        "90 % des personnes interrogées approuvent",
        "La croissance est forte",
    ]

    def gold(documents):  # type: ignore[no-untyped-def]
        [document] = list(documents)
        return [span(document.id, document.text, f"g{i}", c) for i, c in enumerate(gold_claims)]

    schema = Path(__file__).resolve().parent.parent / "annotation" / "schema.yaml"
    build_release(raw, root / "releases", "1.0.0", gold=gold, schema_file=schema)
    release = root / "releases" / "1.0.0"
    [document] = list(open_release(release).documents())
    predictions = [
        span(
            document.id, document.text, "p0", "Le commerce a atteint 12 milliards d’euros"
        ),  # matched
        span(document.id, document.text, "p1", "90 % des personnes"),  # partial (boundary)
        span(document.id, document.text, "p2", "<script>window.pwned = 1</script>"),  # spurious
    ]  # the third gold claim is missed
    path = root / "preds.jsonl"
    path.write_text(
        "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in predictions)
    )
    html = root / "report.html"
    result = run_cli(
        "eval", "score", path, "--task", "claims", "--release", release, "--html", html
    )
    assert result.returncode == 0, result.stderr
    return html


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with its profile in ``profile`` (a test's own temporary folder)."""
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_page_renders_highlights_in_chromium(report: Path, tmp_path: Path) -> None:
    done = run_chromium(
        tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", report.as_uri()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    classes = re.findall(r'<mark class="(\w+)"', dom)
    gold_part, system_part = dom.split('class="text gold"')[1].split('class="text system"')
    assert re.findall(r'<mark class="(\w+)"', gold_part) == ["matched", "partial", "missed"]
    assert re.findall(r'<mark class="(\w+)"', system_part.split("</section>")[0]) == [
        "spurious",
        "matched",
        "partial",
    ]
    assert len(classes) >= 6
    # corpus text is text: the <script> and <b> of the document are escaped, never elements
    assert "<script>" not in dom and "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in dom
    assert "<b>gras</b>" not in dom and "&lt;b&gt;gras&lt;/b&gt;" in dom
    console_errors = [
        line
        for line in done.stderr.splitlines()
        if "CONSOLE" in line and ("Error" in line or "Uncaught" in line)
    ]
    assert console_errors == []


def test_screenshot_is_a_real_picture(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = run_chromium(
        tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,900", report.as_uri()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def _marked_by_definition(text: str, spans: list[tuple[int, int, str, str, str]]) -> str:
    """Each piece between span boundaries, marked by the innermost span covering it."""
    from collections import Counter
    from html import escape
    from itertools import pairwise

    cuts = sorted({0, len(text), *(s for s, *_ in spans), *(e for _, e, *_ in spans)})
    pieces = []
    for start, end in pairwise(cuts):
        covering = [s for s in spans if s[0] <= start and end <= s[1]]
        chunk = escape(text[start:end])
        if covering:
            inner = min(covering, key=lambda s: s[1] - s[0])
            groups = Counter((label, outcome) for _, _, outcome, label, _ in covering)
            title = "; ".join(
                f"{label} ({outcome})" + (f" ×{n:,}" if n > 1 else "")
                for (label, outcome), n in sorted(groups.items())
            )
            chunk = (
                f'<mark class="{inner[2]}" data-label="{escape(inner[3])}" '
                f'data-id="{escape(inner[4])}" title="{escape(title)}">{chunk}</mark>'
            )
        pieces.append(chunk)
    return "".join(pieces)


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="ab<&é \n", max_size=40).flatmap(
        lambda text: st.tuples(
            st.just(text),
            st.lists(
                st.tuples(
                    st.integers(0, len(text)),
                    st.integers(0, len(text)),
                    st.sampled_from(["matched", "missed", "spurious"]),
                    st.sampled_from(["CLAIM", "SOURCE"]),
                ),
                max_size=6,
            ),
        )
    )
)
def test_marked_text_marks_each_piece_by_its_innermost_span(
    case: tuple[str, list[tuple[int, int, str, str]]],
) -> None:
    from claimwire.eval.pages import marked_text

    text, drawn = case
    spans = [(min(a, b), max(a, b), o, label, f"i{k}") for k, (a, b, o, label) in enumerate(drawn)]
    assert marked_text(text, spans) == _marked_by_definition(text, spans)


def test_a_piece_under_thousands_of_spans_has_a_tag_of_bounded_size() -> None:
    """Spans piled on one piece are counted in its title, not listed one by one: 5,000
    spurious CLAIMs over one word made a 90,000-character title (a 33 MB page and 546 MB for
    100,000 spans on one document; now 25 KB and 174 MB)."""
    from claimwire.eval.pages import marked_text

    spans = [(0, 5, "spurious", "CLAIM", f"p{i}") for i in range(5000)]
    spans.append((0, 9, "matched", "CLAIM", "m"))
    marked = marked_text("Astana 2025", spans)
    assert len(marked) < 300, len(marked)
    assert 'title="CLAIM (matched); CLAIM (spurious) ×5,000"' in marked
    assert 'data-id="p0"' in marked and 'data-id="m"' in marked


ARABIC = "قالت الوزارة إن 90 % من المشاركين يؤيدون الاتفاق. وارتفعت التجارة بنسبة 12 %.\n"


def test_a_right_to_left_document_is_laid_out_from_the_right(tmp_path: Path) -> None:
    """An Arabic document's text blocks carry its language and ``dir=auto``: Chromium lays
    them out right to left (before, the page's ``lang=en`` made them left to right, the
    sentence-final stop at the left)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    line = {"text": ARABIC, "split": "test", "lang": "ar"}
    (raw / "ar.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n", "utf-8")
    claim = "إن 90 % من المشاركين يؤيدون الاتفاق"

    def gold(documents):  # type: ignore[no-untyped-def]
        [document] = list(documents)
        return [span(document.id, document.text, "g0", claim)]

    schema = Path(__file__).resolve().parent.parent / "annotation" / "schema.yaml"
    build_release(raw, tmp_path / "releases", "1.0.0", gold=gold, schema_file=schema)
    release = tmp_path / "releases" / "1.0.0"
    [document] = list(open_release(release).documents())
    predicted = tmp_path / "preds.jsonl"
    predicted.write_text(json.dumps(span(document.id, ARABIC, "p0", claim).to_dict()) + "\n")
    html = tmp_path / "report.html"
    result = run_cli(
        "eval", "score", predicted, "--task", "claims", "--release", release, "--html", html
    )
    assert result.returncode == 0, result.stderr
    probe = "".join(  # the page, with a script that writes each text block's direction
        (
            html.read_text("utf-8").removesuffix("</body></html>"),
            "<script>document.title = Array.from(document.querySelectorAll('.text'), ",
            "e => getComputedStyle(e).direction + ':' + e.lang).join(' ')</script>",
            "</body></html>",
        )
    )
    (tmp_path / "probe.html").write_text(probe, "utf-8")
    done = run_chromium(tmp_path / "profile", "--dump-dom", (tmp_path / "probe.html").as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<title>rtl:ar rtl:ar</title>" in done.stdout
