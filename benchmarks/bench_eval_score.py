"""Whole-process ``claimwire eval score`` against nervaluate's ``evaluate()`` alone, on the same
spans of a synthetic release (``synthetic_release.py``: 10,000 documents, ~250,000 gold and
~250,000 predicted CLAIM spans).

claimwire runs as a user runs it — a fresh process: start-up, reading and checking every
record, scoring (four SemEval schemes, overlap, per label, attributes) and 1,000 bootstrap
resamples — its CPU seconds taken from the kernel's accounting of the child. nervaluate 1.x is
given its input already built in memory (per document, dicts with inclusive ends) and only its
``Evaluator(...).evaluate()`` is timed. The counts of every scheme must be identical.
Target: claimwire ≥ 5× faster.

The floor printed next to the ratio: the CPU seconds that only decoding the three files
``eval score`` reads (the release's documents and gold, the predictions) takes with the
fastest decoder here — msgspec into gc-free Structs of every field, whole lines a block at a
time, no check, no object kept — and the ratio to nervaluate that this alone would allow.
Below it, the least work any scorer keeping ``eval score``'s guarantees does: decoding only the
fields scoring reads (the decoder skips the rest), verifying the release's checksums, and
starting Python with the decoder and numpy — no check and no scoring at all. Last, the same
least work were the release to carry its gold as ready columns (the format change considered
to reach 5×): only the predictions and the documents' texts decoded, the documents hashed.
Run: ``python benchmarks/bench_eval_score.py FOLDER``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
from nervaluate import Evaluator
from rich.console import Console
from rich.table import Table
from synthetic_release import VERSION

from claimwire.corpus.release import ANNOTATIONS, DOCUMENTS, RELATIONS, open_release
from claimwire.files import sha256
from claimwire.lines import line_blocks
from claimwire.model import Annotation, read_mixed

SCRIPT = str(Path(sys.executable).with_name("claimwire"))
TARGET = 5.0
FIELDS = ("cor", "inc", "par", "mis", "spu")
NERVALUATE = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}


def claimwire(release: Path, predictions: Path) -> tuple[float, float, dict]:  # type: ignore[type-arg]
    """CPU seconds (user + system) and wall seconds of the whole command, and its JSON."""
    args = [SCRIPT, "eval", "score", str(predictions), "--release", str(release)]
    args += ["--task", "claims", "--format", "json", "--bootstrap", "1000"]
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit("claimwire eval score failed")
    data = json.loads(out)
    data = data["systems"][0] if "systems" in data else data
    return usage.ru_utime + usage.ru_stime, wall, data


class _Quote(msgspec.Struct, gc=False):
    exact: str
    prefix: str = ""
    suffix: str = ""


class _Record(msgspec.Struct, gc=False):
    """Every field of an annotation or a relation (a prediction file mixes them)."""

    id: str
    doc_id: str
    layer: str = ""
    label: str = ""
    start: int | None = None
    end: int | None = None
    quote: _Quote | None = None
    type: str = ""
    head: str = ""
    tail: str = ""
    attributes: dict[str, Any] = {}
    author: str = "gold"


class _Document(msgspec.Struct, gc=False):
    id: str
    text: str
    lang: str | None
    split: str
    paragraphs: list[tuple[int, int]]
    sentences: list[tuple[int, int]]
    meta: dict[str, Any]


class _Exact(msgspec.Struct, gc=False):
    exact: str


class _Read(msgspec.Struct, gc=False):
    """Only what scoring reads of an annotation or a relation: the decoder skips every other
    key unread (a gold record's quote too: it was checked when the release was built)."""

    id: str
    doc_id: str
    layer: str = ""
    label: str = ""
    start: int | None = None
    end: int | None = None
    head: str = ""
    tail: str = ""
    attributes: dict[str, Any] = {}


class _Checked(_Read, gc=False):
    """:class:`_Read` and the quote's text, which a prediction's check compares."""

    quote: _Exact | None = None


class _Text(msgspec.Struct, gc=False):
    id: str
    text: str
    split: str


class LeastWork(NamedTuple):
    """CPU seconds of the parts of the least work a checked scorer does."""

    gold: float
    """Decoding the fields scoring reads of the release's gold annotations and relations."""
    inputs: float
    """Decoding the documents' texts and the prediction fields a check and scoring read."""
    gold_checksums: float
    document_checksums: float
    start_up: float

    @property
    def total(self) -> float:
        return self.gold + self.gold_checksums + self.without_gold

    @property
    def without_gold(self) -> float:
        """The same, were the gold stored as ready columns: nothing of it decoded or hashed."""
        return self.inputs + self.document_checksums + self.start_up


def least_work(release: Path, predictions: Path) -> LeastWork:
    """CPU seconds of what any scorer of these files that keeps ``eval score``'s guarantees
    must do, nothing else: decode only the fields scoring reads; verify the release's
    checksums; start an interpreter with the decoder and numpy. No check, no scoring."""
    opened = open_release(release)
    documents = [release / part for part in opened.parts(DOCUMENTS)]
    gold = [release / p for n in (ANNOTATIONS, RELATIONS) for p in opened.parts(n)]
    inputs = decoding_floor([*((p, _Text) for p in documents), (predictions, _Checked)])
    gold_decode = decoding_floor([(p, _Read) for p in gold])
    child = subprocess.Popen([sys.executable, "-c", "import msgspec, numpy"])
    _, _, usage = os.wait4(child.pid, 0)
    return LeastWork(
        gold_decode, inputs, hashing(gold), hashing(documents), usage.ru_utime + usage.ru_stime
    )


def hashing(paths: list[Path]) -> float:
    """CPU seconds to verify the checksums of ``paths``."""
    start = time.process_time()
    for path in paths:
        sha256(path)
    return time.process_time() - start


def decoding_floor(files: list[tuple[Path, type]]) -> float:
    """CPU seconds to decode ``files`` (each with its Struct) and let the records go, the
    garbage collector off."""
    gc.disable()
    start = time.process_time()
    for path, kind in files:
        decoder = msgspec.json.Decoder(kind)
        for _, chunk in line_blocks(path):
            decoder.decode_lines(chunk)
    seconds = time.process_time() - start
    gc.enable()
    return seconds


def spans(records: object, documents: list[str]) -> list[list[dict]]:  # type: ignore[type-arg]
    by_doc: dict[str, list[dict]] = defaultdict(list)  # type: ignore[type-arg]
    for record in records:  # type: ignore[attr-defined]
        if isinstance(record, Annotation) and record.label == "CLAIM" and record.is_span:
            by_doc[record.doc_id].append(
                {"label": "CLAIM", "start": record.start, "end": record.end - 1}
            )
    return [by_doc.get(d, []) for d in documents]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a synthetic_release.py output")
    args = parser.parse_args()
    release = args.folder / "releases" / VERSION
    predictions = args.folder / "predictions.jsonl"
    opened = open_release(release)
    documents = [d.id for d in opened.documents()]
    gold = spans(opened.annotations(), documents)
    pred = spans((r for _, r in read_mixed(predictions)), documents)
    start = time.process_time()
    theirs = Evaluator(gold, pred, tags=["CLAIM"], loader="dict").evaluate()
    nervaluate_cpu = time.process_time() - start
    our_cpu, wall, ours = claimwire(release, predictions)
    inputs = [(release / part, _Document) for part in opened.parts(DOCUMENTS)]
    inputs += [
        (release / part, _Record)
        for name in (ANNOTATIONS, RELATIONS)
        for part in opened.parts(name)
    ]
    floor = decoding_floor([*inputs, (predictions, _Record)])
    least = least_work(release, predictions)
    for scheme, name in NERVALUATE.items():
        got = [int(ours["schemes"][scheme][f]) for f in FIELDS]
        overall = theirs["overall"][name]
        expected = [
            overall.correct,
            overall.incorrect,
            overall.partial,
            overall.missed,
            overall.spurious,
        ]
        assert got == expected, (scheme, got, expected)
    ratio = nervaluate_cpu / our_cpu
    table = Table(
        title=f"eval score, whole process, vs nervaluate: {len(documents):,} documents, "
        f"{sum(map(len, gold)):,} gold and {sum(map(len, pred)):,} predicted CLAIM spans "
        "(counts identical in every scheme)"
    )
    for column in ("what", "CPU s", "ratio"):
        table.add_column(column, justify="left" if column == "what" else "right")
    table.add_row("nervaluate 1.2.1 Evaluator(...).evaluate() alone", f"{nervaluate_cpu:.2f}", "1×")
    table.add_row(
        "claimwire eval score (process: start-up, read, check, score, 1,000 resamples)",
        f"{our_cpu:.2f} (wall {wall:.2f})",
        f"{ratio:.2f}× as fast ({'faster' if ratio >= 1 else 'slower'}) — target {TARGET:g}× "
        + ("met" if ratio >= TARGET else "NOT met"),
    )
    table.add_row(
        "decoding the inputs alone with the fastest decoder here (msgspec, gc-free Structs)",
        f"{floor:.2f}",
        f"{nervaluate_cpu / floor:.2f}× — the most any reader of these files could reach",
    )
    table.add_row(
        "the least any checked scorer does: decode only the fields scoring reads "
        f"({least.gold + least.inputs:.2f}), verify the release's checksums "
        f"({least.gold_checksums + least.document_checksums:.2f}), start Python with msgspec "
        f"and numpy ({least.start_up:.2f}); no check, no score",
        f"{least.total:.2f}",
        _versus(nervaluate_cpu, least.total),
    )
    table.add_row(
        "the same were the release's gold stored as ready columns (nothing of it decoded or "
        f"hashed): the predictions and the documents' texts ({least.inputs:.2f}), the documents' "
        f"checksum ({least.document_checksums:.2f}), start-up ({least.start_up:.2f})",
        f"{least.without_gold:.2f}",
        _versus(nervaluate_cpu, least.without_gold),
    )
    console = Console()
    console.print(table)
    console.print(
        f"decoding the inputs alone with the fastest decoder here: {floor:.2f} s = "
        f"{nervaluate_cpu / floor:.2f}× nervaluate (claimwire's whole process: {ratio:.2f}×); "
        f"the least any checked scorer does: {least.total:.2f} s = "
        f"{nervaluate_cpu / least.total:.2f}×; with the gold as ready columns: "
        f"{least.without_gold:.2f} s = {nervaluate_cpu / least.without_gold:.2f}×"
    )


def _versus(nervaluate_cpu: float, seconds: float) -> str:
    ratio = nervaluate_cpu / seconds
    side = "above" if ratio >= TARGET else "below"
    return f"{ratio:.2f}× — {side} the {TARGET:g}× target before any check or score"


if __name__ == "__main__":
    main()
