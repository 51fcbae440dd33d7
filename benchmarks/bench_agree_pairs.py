"""Peak memory of ``annotate agree --json`` as the annotators grow, on a crowd layout: one
synthetic release, each document annotated by 3 of N annotators (``synthetic_crowd.py``).

Each run is its own process; peak RSS and CPU seconds come from the kernel's accounting of
that child (``os.wait4``, what ``/usr/bin/time -v`` reports).

Run: ``python benchmarks/bench_agree_pairs.py OUT [--documents 2000] [--annotators 50 200
500]``: the release is built once in ``OUT/syn``, the sets of each N in ``OUT/N``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from measure import MB
from synthetic_crowd import write_sets
from synthetic_release import build

SCRIPT = str(Path(sys.executable).with_name("claimwire"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--documents", type=int, default=2_000)
    parser.add_argument("--annotators", type=int, nargs="+", default=[50, 200, 500])
    args = parser.parse_args()
    release = args.out / "syn" / "releases" / "1.0.0"
    if not release.is_dir():
        release = build(args.out / "syn", args.documents)[0]
    for annotators in args.annotators:
        sets = args.out / str(annotators)
        paths = sorted(sets.glob("*.jsonl")) or write_sets(release, sets, annotators, 3)
        command = [SCRIPT, "annotate", "agree", *map(str, paths), "--release", str(release)]
        with open(os.devnull, "wb") as devnull:
            child = subprocess.Popen([*command, "--json"], stdout=devnull)
            _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status):
            sys.exit(f"annotate agree failed with {annotators} annotators")
        pairs = annotators * (annotators - 1) // 2
        print(
            f"{annotators} annotators ({pairs:,} pairs): peak RSS "
            f"{usage.ru_maxrss * 1024 / MB:,.0f} MB, "
            f"{usage.ru_utime + usage.ru_stime:.1f} s CPU",
            flush=True,
        )


if __name__ == "__main__":
    main()
