"""Peak memory of whole ``claimwire`` commands at two corpus sizes: flat means the larger
release's peak within 1.5× the smaller's, and under 1 GB.

Each command runs as its own process (the ``claimwire`` script beside the interpreter) on a
synthetic release with gold and predictions (``synthetic_release.py``); peak RSS and CPU
seconds come from the kernel's accounting of that child (``os.wait4``). Printed per command:
both peaks, their ratio and the CPU seconds.

Run: ``python benchmarks/bench_memory.py SMALL LARGE`` with two folders written by
``python benchmarks/synthetic_release.py OUT --documents N`` (10,000 and 100,000 for the issue's
target; building the larger takes several minutes, so they are built once and reused).
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


def commands(folder: Path, scratch: Path) -> dict[str, list[str]]:
    release = str(folder / "releases" / VERSION)
    return {
        "eval score": [
            *("eval", "score", "--release", release, "--task", "claims"),
            *(str(folder / "predictions.jsonl"), "--format", "json"),
        ],
        "corpus validate": ["corpus", "validate", release],
        "corpus stats": ["corpus", "stats", release, "--json"],
        "corpus diff": ["corpus", "diff", release, release, "--json"],
        "hub export": ["hub", "export", release, "--out", str(scratch / "hub"), "--force"],
    }


def measure(args: list[str]) -> tuple[int, float, float]:
    """Peak RSS (bytes), CPU seconds (user + system) and wall seconds of one child."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        child = subprocess.Popen([SCRIPT, *args], stdout=devnull, stderr=subprocess.PIPE)
        assert child.stderr is not None
        error = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"claimwire {' '.join(args)} failed:\n{error.decode()[-2000:]}")
    return usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", help="synthetic_release.py outputs")
    parser.add_argument("--only", action="append", help="measure only these commands")
    args = parser.parse_args()
    results: dict[str, list[tuple[int, float, float]]] = {}
    sizes = []
    for folder in args.folders:
        manifest = (folder / "releases" / VERSION / "MANIFEST.json").read_text()
        sizes.append(int(manifest.split('"documents": ', 1)[1].split(",", 1)[0]))
        with tempfile.TemporaryDirectory() as scratch:
            for name, command in commands(folder, Path(scratch)).items():
                if args.only and name not in args.only:
                    continue
                results.setdefault(name, []).append(measure(command))
                peak, cpu, _ = results[name][-1]
                print(f"{name} @ {sizes[-1]:,}: {peak / MB:,.0f} MB, {cpu:.1f} s CPU", flush=True)
    table = Table(title="peak RSS of whole commands (MB) and CPU seconds, per release size")
    table.add_column("command")
    for size in sizes:
        table.add_column(f"{size:,} docs", justify="right")
    table.add_column("peak ratio", justify="right")
    table.add_column("target", justify="right")
    for name, runs in results.items():
        ratio = runs[-1][0] / runs[0][0]
        met = ratio <= FLAT and all(peak < CEILING for peak, _, _ in runs)
        table.add_row(
            name,
            *(f"{peak / MB:,.0f} MB, {cpu:.1f} s" for peak, cpu, _ in runs),
            f"{ratio:.2f}×",
            ("met" if met else "NOT met") + f" (≤ {FLAT}×, < 1 GB)",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
