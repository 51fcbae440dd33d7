"""Reading and checking annotation records: the typed decoder against the per-field checks.

Synthetic records shaped like a release's annotations (a quote with 32 characters of context
each side, a few attributes; one in ten document-level, without offsets), written as JSONL.
Measured in one process: records per second for ``read_records`` (one kind, a release file),
``read_mixed`` (annotations and relations in any order, a prediction file) and the line-by-line
``from_dict`` path every bad line still goes through, in CPU seconds (the machine is
shared: wall time would measure the neighbours), and ``read_mixed`` of the same prediction
file with a model's ``score`` on every line (a key the records lack, read on the fast path
too). Target: ≥ 1,000,000 records/s. Two floors
are printed beside them: the same file decoded by msgspec alone, nothing proved or kept, into
the model's records and into gc-free Structs of the same fields; and ``read_records`` with
the collector's young generation collected every 100,000 allocations, as ``eval score``
reads. The readers' modules (numpy among them, which the proof uses) are imported before
the clock starts: a process pays that once, whatever it reads.
Run: ``python benchmarks/bench_reading.py [--records N]``.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import numpy  # noqa: F401  (imported before the clock starts: see the docstring)
from rich.console import Console
from rich.table import Table

from claimwire.collection import fewer_collections
from claimwire.lines import line_blocks
from claimwire.model import (
    Annotation,
    Quote,
    Relation,
    iter_json_lines,
    read_mixed,
    read_records,
    write_records,
)

TARGET = 1_000_000
WORDS = "le la les un une selon sondage pour cent millions hausse baisse".split()


def synthetic(records: int, seed: int = 12345) -> list[Annotation | Relation]:
    rng = random.Random(seed)
    out: list[Annotation | Relation] = []
    for i in range(records):
        doc = f"doc-{i // 40:06d}-0123456789"
        if i % 10 == 9:
            out.append(Relation(f"r{i}", doc, "attributed_to", f"a{i - 1}", f"a{i - 2}"))
            continue
        if i % 10 == 8:
            out.append(Annotation(f"a{i}", doc, "statistics", "SURVEY", attributes={"n": 1000}))
            continue
        words = lambda k: " ".join(rng.choice(WORDS) for _ in range(k))  # noqa: E731
        exact = words(rng.randint(2, 8))
        start = rng.randint(0, 5000)
        quote = Quote(exact, words(6)[-32:], words(6)[:32])
        attributes = {"polarity": rng.choice(["positive", "negative"]), "hedged": False}
        out.append(
            Annotation(
                f"a{i}", doc, "claims", "CLAIM", start, start + len(exact), quote, attributes
            )
        )
    return out


class _Quote(msgspec.Struct, gc=False):
    exact: str
    prefix: str
    suffix: str


class _Annotation(msgspec.Struct, gc=False):
    id: str
    doc_id: str
    layer: str
    label: str
    start: int | None
    end: int | None
    quote: _Quote | None
    attributes: dict[str, Any]
    author: str


def decoded_alone(path: Path, kind: type) -> int:
    """Records of ``path`` decoded by msgspec into ``kind``, in the readers' blocks of lines,
    the collector off, nothing proved or kept."""
    decoder = msgspec.json.Decoder(kind)
    gc.disable()
    count = sum(len(decoder.decode_lines(chunk)) for _, chunk in line_blocks(path))
    gc.enable()
    return count


def read_fewer(path: Path) -> Iterator[Annotation]:
    """:func:`read_records` inside :func:`fewer_collections`, the records let go one by one."""
    with fewer_collections():
        yield from read_records(path, Annotation)


def with_scores(path: Path) -> Path:
    """A copy of the prediction file ``path`` whose every line ends with a ``score``, as a
    model's output does: a key the records do not have, warned about once and dropped."""
    rng = random.Random(7)
    scored = path.with_name("scored.jsonl")
    with path.open("rb") as lines, scored.open("wb") as out:
        for line in lines:
            out.write(line[:-2] + b',"score":%.4f}\n' % rng.random())
    return scored


def quiet(path: Path) -> Iterator[object]:
    """:func:`read_mixed` with its warning about the extra key silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield from read_mixed(path)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    records = synthetic(args.records)
    annotations = [r for r in records if isinstance(r, Annotation)]
    with tempfile.TemporaryDirectory() as folder:
        single, mixed = Path(folder) / "annotations.jsonl", Path(folder) / "predictions.jsonl"
        write_records(single, annotations)
        write_records(mixed, records)
        scored = with_scores(mixed)
        total = len(annotations)
        del records, annotations  # a live heap would bill the garbage collector to the reader
        timings: dict[str, tuple[int, float]] = {}
        for name, read, path in (
            ("read_records (one kind)", lambda p: read_records(p, Annotation), single),
            ("read_mixed (prediction file)", read_mixed, mixed),
            ("read_mixed, a model's score on every line (a key records lack)", quiet, scored),
            (
                "read_records with fewer collections (as eval score reads)",
                read_fewer,
                single,
            ),
            (
                "floor: msgspec alone into the model's records",
                lambda p: range(decoded_alone(p, Annotation)),
                single,
            ),
            (
                "floor: msgspec alone into gc-free Structs",
                lambda p: range(decoded_alone(p, _Annotation)),
                single,
            ),
            (
                "per-field checks (json + from_dict)",
                lambda p: (Annotation.from_dict(obj) for _, obj in iter_json_lines(p)),
                single,
            ),
        ):
            start = time.process_time()
            count = sum(1 for _ in read(path))
            timings[name] = (count, time.process_time() - start)
    targeted = ("read_records (one kind)", "read_mixed (prediction file)")
    table = Table(title=f"Reading + checking {total:,} annotation records")
    for column in ("reader", "records", "CPU seconds", "records/s (CPU)", f"≥ {TARGET:,}/s"):
        table.add_column(column, justify="left" if column == "reader" else "right")
    for name, (count, seconds) in timings.items():
        met = ("met" if count / seconds >= TARGET else "MISSED") if name in targeted else ""
        table.add_row(name, f"{count:,}", f"{seconds:.2f}", rate(count, seconds), met)
    console = Console()
    console.print(table)
    slow = timings["per-field checks (json + from_dict)"]
    for name in targeted:
        count, seconds = timings[name]
        speed = count / seconds
        console.print(
            f"{name}: {speed:,.0f} records/s, {speed / (slow[0] / slow[1]):.1f}x the per-field "
            f"checks; target ≥ {TARGET:,}: {'met' if speed >= TARGET else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
