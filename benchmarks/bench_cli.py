"""Start-up time of the ``claimwire`` command, side by side with a bare ``python -c pass``.

Each command runs as a fresh process (the ``claimwire`` script beside the interpreter, as a
user types it), several times, interleaved with the bare interpreter so machine load hits
both alike. Printed per command: min and median seconds, the ratio to the bare interpreter's
and the difference.
Target: every difference within 0.25 s. The completion answers are what a shell's TAB asks
(``_CLAIMWIRE_COMPLETE=complete_bash``): a command name (``claimwire eval s``), an option of
a command (``claimwire eval score --ta``) and, for zsh, all of a command's options with their
helps wrapped at the console's width (``claimwire eval score --``), all answered from the
static tables (cli/commands.py, the generated cli/options.py) before Typer is imported.

Run: ``python benchmarks/bench_cli.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 0.25
SCRIPT = str(Path(sys.executable).with_name("claimwire"))
COMMANDS: dict[str, tuple[list[str], dict[str, str]]] = {
    "python -c pass": ([sys.executable, "-c", "pass"], {}),
    "claimwire --version": ([SCRIPT, "--version"], {}),
    "claimwire --help": ([SCRIPT, "--help"], {}),
    "completion (eval s<TAB>)": (
        [SCRIPT],
        {
            "_CLAIMWIRE_COMPLETE": "complete_bash",
            "COMP_WORDS": "claimwire eval s",
            "COMP_CWORD": "2",
        },
    ),
    "completion (score --ta<TAB>)": (
        [SCRIPT],
        {
            "_CLAIMWIRE_COMPLETE": "complete_bash",
            "COMP_WORDS": "claimwire eval score --ta",
            "COMP_CWORD": "3",
        },
    ),
    "completion zsh (score --<TAB>)": (
        [SCRIPT],
        {"_CLAIMWIRE_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "claimwire eval score --"},
    ),
}


def once(args: list[str], extra: dict[str, str]) -> float:
    env = {**os.environ, **extra, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for argv, extra in COMMANDS.values():  # warm the file cache once
        once(argv, extra)
    for _ in range(args.runs):
        for name, (argv, extra) in COMMANDS.items():
            times[name].append(once(argv, extra))
    base_min = min(times["python -c pass"])
    base_median = statistics.median(times["python -c pass"])
    print(f"{'command':<30} {'min s':>7} {'median s':>9} {'ratio':>7} {'Δ median s':>11}  target")
    for name, values in times.items():
        low, middle = min(values), statistics.median(values)
        delta = middle - base_median
        verdict = "" if name.startswith("python") else ("met" if delta <= TARGET else "MISSED")
        print(
            f"{name:<30} {low:7.3f} {middle:9.3f} {middle / base_median:6.1f}× {delta:11.3f}  "
            f"{verdict}"
        )
    print(f"({args.runs} runs each, interleaved; bare python min {base_min:.3f} s)")


if __name__ == "__main__":
    main()
