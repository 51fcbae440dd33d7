"""The Ray engine against the local one: ``corpus build``, ``run rules``, ``eval score``.

Synthetic releases (JSONL files of at most 10,000 lines) are built into a release by each
engine, then ``rules`` runs over every document of it with each engine; a synthetic release
with gold and predictions (``synthetic_release.py``) is scored by each. Printed per size:
documents per wall second for each engine and their ratio, whether the outputs are identical
(every release file; the prediction file; the scores' JSON), the driver's peak RSS (Ray's
workers are other processes: the driver should stay flat as the corpus grows), and the CPU of
every process of each run (driver, raylet, actors, Ray Data's own actors: what a shared
machine does not distort; on 2 cores the ratio is at most 2 × local's / Ray's). Ray's start-up
is timed apart.
Staged-release validation is left out (it is the same serial pass for both engines).

Target (issue 14): Ray on 2 cores ≥ 1.7x the local engine at 100,000 documents.
Run: ``make bench`` or ``python benchmarks/bench_ray.py [--documents N ...] [--cpus C]
[--stages build,run,score]``; each row is also printed as soon as it is measured.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import synthetic_release
from measure import MB, PeakRss, TreeCpu
from rich.console import Console
from rich.table import Table
from synthetic import synthetic_texts

from claimwire.corpus.release import build_release, open_release
from claimwire.engine import Engine, open_engine
from claimwire.eval.evaluate import Evaluation
from claimwire.systems.base import RunContext, run_system
from claimwire.systems.rules import RulesSystem

LINES_PER_FILE = 10_000
SAMPLE = 0.05
"""Seconds between two samples of the driver's memory."""
ENGINES = ("local", "ray")
STAGES = ("build", "run", "score")


def write_raw(raw: Path, documents: int) -> None:
    raw.mkdir()
    handle = None
    for i, text in enumerate(synthetic_texts(documents, random.Random(12345))):
        if i % LINES_PER_FILE == 0:
            if handle:
                handle.close()
            handle = (raw / f"feed-{i // LINES_PER_FILE:04d}.jsonl").open("w", encoding="utf-8")
        assert handle is not None
        handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    if handle:
        handle.close()


class PeakPrivate(PeakRss):
    """Peak of the process's private resident memory (``RssAnon``): without the pages of Ray's
    shared object store that the driver maps to read results."""

    @staticmethod
    def current() -> int:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
        return 0


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def build(raw: Path, out: Path, engine: Engine) -> None:
    build_release(raw, out, "0.1.0", engine=engine)


def run_rules(release: Path, out: Path, engine: Engine, batch_size: int) -> None:
    context = RunContext.for_split(open_release(release), "all", hold=False)  # as `claimwire run`
    run_system(RulesSystem(), context, out, batch_size=batch_size, reproducible=True, engine=engine)


def score(release: Path, out: Path, engine: Engine) -> None:
    """``eval score`` of the synthetic predictions (beside ``releases/``), JSON to ``out``."""
    predictions = release.parents[1] / "predictions.jsonl"
    evaluation = Evaluation.open(release, "claims", split="all", engine=engine)
    result = evaluation.score(evaluation.check(predictions))
    out.write_text(json.dumps(result.to_dict(), sort_keys=True), encoding="utf-8")


def one(stage: str, engine_name: str, source: Path, out: Path, cpus: int, batch: int) -> None:
    """In a fresh process: one stage with one engine; prints its JSON measurements."""
    import ray

    start = time.perf_counter()
    if engine_name == "ray":
        from claimwire.engine.ray_data import WORKER_NICENESS

        os.environ.setdefault(WORKER_NICENESS, "0")  # as the engine's own start does
        ray.init(
            num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR
        )
    engine = open_engine(engine_name)
    startup = time.perf_counter() - start
    cpu = time.process_time()
    # samplers every 50 ms, not 10: at 10 ms the two cost 2.3% of a core, which a Ray run
    # with both cores busy pays and a local one mostly takes from the idle core
    with PeakRss(SAMPLE) as memory, PeakPrivate(SAMPLE) as private, TreeCpu() as everything:
        start = time.perf_counter()
        if stage == "build":
            build(source, out, engine)
        elif stage == "score":
            score(source, out, engine)
        else:
            run_rules(source, out, engine, batch)
        seconds = time.perf_counter() - start
    measures = {
        "seconds": seconds,
        "driver_cpu": time.process_time() - cpu,
        "all_cpu": everything.seconds,
        "peak": memory.peak,
        "private": private.peak,
        "startup": startup,
    }
    print(json.dumps(measures))
    if engine_name == "ray":
        ray.shutdown()


def measured(stage: str, engine: str, source: Path, out: Path, args: argparse.Namespace) -> Any:
    command = [sys.executable, __file__, "--one", stage, engine, str(source), str(out)]
    command += ["--cpus", str(args.cpus), "--batch-size", str(args.batch_size)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, nargs="+", default=[2_500, 10_000])
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help=f"comma-separated, of {', '.join(STAGES)} (run rules needs a release: without "
        "build, the local engine builds it, unmeasured)",
    )
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    stages = args.stages.split(",")
    if not set(stages) <= set(STAGES):
        parser.error(f"--stages: expected some of {', '.join(STAGES)}, got {args.stages!r}")
    os.environ["SOURCE_DATE_EPOCH"] = "1767225600"  # both builds stamp the same time
    if args.one:
        stage, engine, source, out = args.one
        one(stage, engine, Path(source), Path(out), args.cpus, args.batch_size)
        return
    console = Console(width=150)
    table = Table(
        title=f"Ray engine ({args.cpus} CPUs) vs local: wall time, each in its own process"
    )
    for column in ("stage", "documents", "local docs/s", "Ray docs/s", "ratio", "identical"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    table.add_column("driver peak RSS local / Ray", justify="right")
    table.add_column("of it private", justify="right")
    table.add_column("driver CPU s local / Ray", justify="right")
    table.add_column("all processes' CPU ms/doc local / Ray", justify="right")
    startups = []
    for documents in args.documents:
        with tempfile.TemporaryDirectory(prefix="claimwire-bench-ray-") as tmp:
            root = Path(tmp)
            write_raw(root / "raw", documents)
            rows: list[tuple[str, dict[str, Any], bool]] = []
            if "build" in stages:
                built = {n: measured("build", n, root / "raw", root / n, args) for n in ENGINES}
                rows.append(("corpus build", built, files(root / "local") == files(root / "ray")))
            elif "run" in stages:
                build(root / "raw", root / "local", open_engine("local"))
            if "run" in stages:
                release = root / "local" / "0.1.0"
                ran = {n: measured("run", n, release, root / f"{n}.jsonl", args) for n in ENGINES}
                same = (root / "local.jsonl").read_bytes() == (root / "ray.jsonl").read_bytes()
                rows.append(("run rules", ran, same))
            if "score" in stages:
                scored, _ = synthetic_release.build(root / "scored", documents)
                scores = {
                    n: measured("score", n, scored, root / f"{n}.json", args) for n in ENGINES
                }
                same = (root / "local.json").read_bytes() == (root / "ray.json").read_bytes()
                rows.append(("eval score", scores, same))
            for stage, timing, same in rows:
                local, remote = timing["local"], timing["ray"]
                startups.append(remote["startup"])
                row = (
                    stage,
                    f"{documents:,}",
                    f"{documents / local['seconds']:,.1f}",
                    f"{documents / remote['seconds']:,.1f}",
                    f"{local['seconds'] / remote['seconds']:.2f}x",
                    "yes" if same else "NO",
                    f"{local['peak'] / MB:,.0f} / {remote['peak'] / MB:,.0f} MB",
                    f"{local['private'] / MB:,.0f} / {remote['private'] / MB:,.0f} MB",
                    f"{local['driver_cpu']:,.1f} / {remote['driver_cpu']:,.1f}",
                    f"{1000 * local['all_cpu'] / documents:.2f} / "
                    f"{1000 * remote['all_cpu'] / documents:.2f}",
                )
                table.add_row(*row)
                # as it comes too: a run stopped before the end keeps what it measured
                print(" | ".join(row), f"| load {os.getloadavg()[0]:.1f}", flush=True)
    console.print(table)
    console.print(
        f"Ray start-up (ray.init + engine), not in the rates: {min(startups, default=0):.1f}–"
        f"{max(startups, default=0):.1f} s. Load average when done: {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores."
    )
    console.print("Target: Ray ≥ 1.7x local at 100,000 documents on 2 cores (issue 14).")


if __name__ == "__main__":
    main()
