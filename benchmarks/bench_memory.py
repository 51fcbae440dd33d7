"""Peak memory of whole ``claimwire`` commands at two corpus sizes: flat means the larger
release's peak within 1.5× the smaller's, and under 1 GB.

Each command runs as its own process (the ``claimwire`` script beside the interpreter) on a
synthetic release with gold and predictions (``synthetic_release.py``); peak RSS and CPU
seconds come from the kernel's accounting of that child (``os.wait4``). Printed per command:
both peaks, their ratio and the CPU seconds.

Run: ``python benchmarks/bench_memory.py SMALL LARGE`` with two folders written by
``python benchmarks/synthetic_release.py OUT --documents N`` (10,000 and 100,000 for the issue's
target; building the larger takes several minutes, so they are built once and reused);
``--only NAME`` (repeatable) measures only those commands; an import also runs the export it
reads.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import MB
from rich.console import Console
from rich.table import Table
from synthetic_release import VERSION

SCRIPT = str(Path(sys.executable).with_name("claimwire"))
FLAT = 1.5
CEILING = 1_000 * MB


FORMATS = {
    "brat": ("brat", "brat"),
    "inception": ("inception", "inception"),
    "conll": ("conll", "conll.txt"),
    "spacy": ("spacy", "docs.spacy"),
    "spacy folder": ("spacy", "spacy-docs"),
    "doccano": ("doccano", "doccano.jsonl"),
    "label-studio-min": ("label-studio-min", "json-min.json"),
}
"""Each ``convert`` measured: its format and the name of its export (a folder or a file)."""


def commands(folder: Path, scratch: Path) -> dict[str, list[str]]:
    """Every command that reads a release or an annotation set and runs offline, in an order
    where each import reads the export measured before it."""
    release = str(folder / "releases" / VERSION)
    predictions = str(folder / "predictions.jsonl")
    on = ("--release", release)
    found: dict[str, list[str]] = {
        "eval score": [
            *("eval", "score", *on, "--task", "claims", predictions, "--format", "json"),
        ],
        "eval score --html": [
            *("eval", "score", *on, "--task", "claims", predictions, "--format", "json"),
            *("--html", str(scratch / "report.html")),
        ],
        "corpus validate": ["corpus", "validate", release],
        "corpus stats": ["corpus", "stats", release, "--json"],
        "corpus diff": ["corpus", "diff", release, release],
        "corpus diff --json": ["corpus", "diff", release, release, "--json"],
        "hub export": ["hub", "export", release, "--out", str(scratch / "hub"), "--force"],
    }
    for system in ("rules", "stance-majority"):
        found[f"run {system}"] = [
            *("run", system, *on, "--split", "test", "--out", str(scratch / f"{system}.jsonl")),
        ]
    for name, (form, export) in FORMATS.items():
        out = str(scratch / export)
        imported = str(scratch / f"from-{export}.jsonl")
        found[f"convert --to {name}"] = ["convert", predictions, "--to", form, "--out", out, *on]
        found[f"convert --from {name}"] = [
            *("convert", out, "--from", form, "--out", imported, *on),
        ]
    sets = (predictions, release)  # the run and the release's gold as two annotators
    found["annotate agree"] = ["annotate", "agree", *sets, *on, "--json"]
    found["annotate adjudicate"] = [
        *("annotate", "adjudicate", *sets, *on, "--out", str(scratch / "adjudicated")),
    ]
    found["benchmark"] = [
        *("benchmark", *on, "--runs", str(scratch / "runs"), "--bootstrap", "100"),
        *("--leaderboard", str(scratch / "leaderboard.md"), "--html", str(scratch / "b.html")),
        *("--system", "rules"),
    ]
    return found


def measure(args: list[str]) -> tuple[int, float, float] | None:
    """Peak RSS (bytes), CPU seconds (user + system) and wall seconds of one child; None (and
    its error printed) when it fails."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        child = subprocess.Popen([SCRIPT, *args], stdout=devnull, stderr=subprocess.PIPE)
        assert child.stderr is not None
        error = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        print(f"claimwire {' '.join(args)} failed:\n{error.decode()[-2000:]}", file=sys.stderr)
        return None
    return usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", help="synthetic_release.py outputs")
    parser.add_argument(
        "--only",
        action="append",
        help="measure only these commands (an import also measures the export it reads)",
    )
    args = parser.parse_args()
    wanted = set(args.only or ())
    wanted |= {
        name.replace("--from", "--to").split(",")[0]
        for name in wanted
        if name.startswith("convert --from")
    }
    results: dict[str, list[tuple[int, float, float] | None]] = {}
    sizes = []
    for folder in args.folders:
        manifest = (folder / "releases" / VERSION / "MANIFEST.json").read_text()
        sizes.append(int(manifest.split('"documents": ', 1)[1].split(",", 1)[0]))
        with tempfile.TemporaryDirectory() as scratch:
            for name, command in commands(folder, Path(scratch)).items():
                if wanted and name not in wanted:
                    continue
                run = measure(command)
                results.setdefault(name, []).append(run)
                shown = "failed" if run is None else f"{run[0] / MB:,.0f} MB, {run[1]:.1f} s CPU"
                print(f"{name} @ {sizes[-1]:,}: {shown}", flush=True)
    table = Table(title="peak RSS of whole commands (MB) and CPU seconds, per release size")
    table.add_column("command")
    for size in sizes:
        table.add_column(f"{size:,} docs", justify="right")
    table.add_column("peak ratio", justify="right")
    table.add_column("target", justify="right")
    for name, runs in results.items():
        done = [run for run in runs if run is not None]
        if len(done) < len(runs):
            table.add_row(name, *("failed" if r is None else "" for r in runs), "", "")
            continue
        ratio = done[-1][0] / done[0][0]
        met = ratio <= FLAT and all(peak < CEILING for peak, _, _ in done)
        table.add_row(
            name,
            *(f"{peak / MB:,.0f} MB, {cpu:.1f} s" for peak, cpu, _ in done),
            f"{ratio:.2f}×",
            ("met" if met else "NOT met") + f" (≤ {FLAT}×, < 1 GB)",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
