"""Cross-batch lookups of ``eval score``: relations whose ends are in other batches.

A prediction set is made of a release's predicted spans (``annotations.jsonl``, linked, not
copied) and ``--relations`` relations, each on one document with its head and tail on the
document half the release away in file order: every end is a question to the other batches
(the check's answer: "annotation … is in document …"). The set is checked by the local pass
(:class:`OtherBatches` over the pass's index) or, with ``--distributed``, by the stage Ray's
workers run (:class:`ScoreBatches`), here in this process. Printed: questions, CPU seconds of
the whole check, peak RSS, and the file descriptors still open after it.

Run: ``python benchmarks/bench_cross_batch.py /tmp/syn/10k/releases/1.0.0
/tmp/syn/10k/predictions.jsonl --relations 100000 [--distributed]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import MB, PeakRss

from claimwire.engine import LocalEngine
from claimwire.errors import ClaimwireError
from claimwire.eval.evaluate import Evaluation


class InProcess(LocalEngine):
    """An engine whose stage runs here, but as on a distributed engine's workers: each batch
    read back from where its lines are (what a Ray worker does)."""

    name = "in-process"
    distributed = True


def ends_by_document(predictions: Path) -> dict[str, tuple[str, str]]:
    """A claim and a source of each document of the predictions, in file order."""
    found: dict[str, dict[str, str]] = {}
    with predictions.open("rb") as handle:
        for line in handle:
            record = json.loads(line)
            if "head" in record:
                continue
            found.setdefault(record["doc_id"], {}).setdefault(record["label"], record["id"])
    return {d: (ends["CLAIM"], ends["SOURCE"]) for d, ends in found.items() if len(ends) > 1}


def write_set(folder: Path, predictions: Path, relations: int) -> None:
    """``folder``: the predictions linked as ``annotations.jsonl`` and ``relations``
    relations pointing half the release away."""
    folder.mkdir()
    (folder / "annotations.jsonl").symlink_to(predictions.absolute())
    ends = ends_by_document(predictions)
    documents = list(ends)
    with (folder / "relations.jsonl").open("w", encoding="utf-8") as out:
        for r in range(relations):
            doc = documents[r % len(documents)]
            head, tail = ends[documents[(r + len(documents) // 2) % len(documents)]]
            record = {"id": f"x{r}", "doc_id": doc, "type": "attributed_to"}
            out.write(json.dumps({**record, "head": head, "tail": tail}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path)
    parser.add_argument("predictions", type=Path)
    parser.add_argument("--relations", type=int, default=100_000)
    parser.add_argument("--distributed", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "set"
        write_set(folder, args.predictions, args.relations)
        engine: Any = InProcess() if args.distributed else None
        evaluation = Evaluation.open(args.release, "attribution", engine=engine)
        start = time.process_time()
        problems = 0
        with PeakRss() as rss:
            try:
                evaluation.check(folder)
            except ClaimwireError as error:
                problems = int(str(error).split(" problems", 1)[0].rsplit(" ", 1)[-1])
        cpu = time.process_time() - start
        fds = len(os.listdir("/proc/self/fd"))
    print(
        f"{'distributed' if args.distributed else 'local'}: {2 * args.relations} questions, "
        f"{problems} problems, {cpu:.1f} CPU s, peak RSS {rss.peak / MB:.0f} MB, "
        f"{fds} fds open after"
    )


if __name__ == "__main__":
    main()
