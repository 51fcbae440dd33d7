"""The annotation round trip at scale, against a real local Label Studio server.

For N synthetic documents (``--documents``, several sizes allowed; default 500 and 10,000):

* push: N new tasks imported in batches;
* re-push: the same N documents again (one listing, nothing imported);
* predictions: a run's predictions pushed onto the N existing tasks (``annotate push
  --predictions`` on a project that has the tasks), against the SDK's bulk
  ``projects.import_predictions`` alone, given the same prediction payloads ready-made, in the
  same batches, on a twin project: the ratio is printed;
* pull: N annotated tasks exported through a snapshot, streamed and converted (``annotate
  pull``), beside the SDK's synchronous ``exports.download_sync`` alone (download only);
* Krippendorff's α_u: 3 annotators × 50,000 units (target < 1 s).

Wall-clock seconds on a shared 2-core machine (the server and the client share the cores):
run it alone, under ``nice``. Run: ``python benchmarks/bench_label_studio.py [--documents N
…]`` (``make bench``); it starts Label Studio from ``.venv-ls`` (``make test`` creates it).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from measure import MB, PeakRss
from rich.console import Console
from synthetic import synthetic_texts

from claimwire.annotation.label_studio import server
from claimwire.annotation.label_studio.client import (
    BATCH,
    Connection,
    Session,
    client,
    convert_export,
    existing_tasks,
    push,
    users_by_id,
)
from claimwire.annotation.label_studio.config import configs
from claimwire.annotation.label_studio.convert import to_results
from claimwire.annotation.label_studio.export import exported_tasks
from claimwire.annotation.schema import Schema, load_schema
from claimwire.corpus.ingest import RawDocument, build_document
from claimwire.eval.unitizing import category_alpha
from claimwire.model import Annotation, Document, Quote, Relation

Predictions = dict[str, tuple[list[Annotation], list[Relation]]]


def claims(document: Document, count: int = 5) -> list[Annotation]:
    return [
        Annotation(
            f"{document.id}:c{i}",
            document.id,
            "claims",
            "CLAIM",
            s,
            e,
            Quote.from_text(document.text, s, e),
            {"claim_type": "other", "checkworthy": True},
        )
        for i, (s, e) in enumerate(document.sentences[:count])
    ]


def timed(what: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = what()
    return result, time.perf_counter() - start


def sdk_predictions(
    connection: Connection,
    title: str,
    xml: str,
    documents: list[Document],
    schema: Schema,
    predicted: Predictions,
) -> float:
    """The SDK's bulk prediction import alone, on a twin project (payloads made beforehand)."""
    push(connection, title, xml, documents, None, None, schema)
    ls = client(connection)
    with Session(connection) as session:
        project = next(p for p in ls.projects.list(title=title) if p.title == title)
        tasks = existing_tasks(session, project.id, versions=False)
    payloads = []
    for document in documents:
        annotations, relations = predicted[document.id]
        payloads.append(
            {
                "task": tasks[document.id].task_id,
                "model_version": "bench",
                "result": to_results(annotations, relations, schema, document.text),
            }
        )
    start = time.perf_counter()
    for first in range(0, len(payloads), BATCH):
        ls.projects.import_predictions(id=project.id, request=payloads[first : first + BATCH])
    return time.perf_counter() - start


def annotated_project(
    connection: Connection, title: str, xml: str, documents: list[Document], schema: Schema
) -> int:
    ls = client(connection)
    project = ls.projects.create(title=title, label_config=xml)
    me = ls.users.whoami()
    for first in range(0, len(documents), 500):
        batch = []
        for document in documents[first : first + 500]:
            result = to_results(claims(document), [], schema, document.text)
            batch.append(
                {
                    "data": {"text": document.text, "doc_id": document.id},
                    "annotations": [{"result": result, "completed_by": me.id}],
                }
            )
        ls.projects.import_tasks(id=project.id, request=batch)
    return int(project.id)


def measure(
    connection: Connection, documents: list[Document], schema: Schema, console: Console
) -> None:
    n = len(documents)
    xml = configs(schema)["claims.xml"]
    predicted: Predictions = {d.id: (claims(d), []) for d in documents}
    _, push_s = timed(lambda: push(connection, f"push {n}", xml, documents, None, None, schema))
    again, repush_s = timed(
        lambda: push(connection, f"push {n}", xml, documents, None, None, schema)
    )
    assert again.imported == 0 and again.skipped == n
    report, ours_s = timed(
        lambda: push(connection, f"push {n}", xml, documents, predicted, "bench", schema)
    )
    assert report.predictions == n
    sdk_s = sdk_predictions(connection, f"sdk {n}", xml, documents, schema, predicted)

    annotated_project(connection, f"pull {n}", xml, documents, schema)
    by_id = {d.id: d for d in documents}

    def pull() -> Any:
        with Session(connection) as session:
            users = users_by_id(session)
            with exported_tasks(session, f"pull {n}") as stream:
                return convert_export(stream, by_id, schema, users)

    with PeakRss() as rss:
        pulled, pull_s = timed(pull)
    annotations = sum(len(s.annotations) for s in pulled.sets.collected().values())
    ls = client(connection)
    project = next(p for p in ls.projects.list(title=f"pull {n}") if p.title == f"pull {n}")
    try:
        _, sync_s = timed(
            lambda: b"".join(
                ls.projects.exports.download_sync(
                    id=project.id, export_type="JSON", download_all_tasks=True
                )
            )
        )
        sync = f"{sync_s:.1f} s"
    except Exception as error:  # the SDK's own 60 s timeout: what the old pull met
        sync = f"failed ({type(error).__name__})"

    console.print(f"[bold]{n:,} tasks[/]")
    console.print(
        f"  push (new tasks, batches of {BATCH:,}): {push_s:.1f} s ({n / push_s:,.0f} tasks/s)"
    )
    console.print(f"  re-push (all there, one listing): {repush_s:.1f} s")
    console.print(
        f"  predictions onto existing tasks: claimwire push {ours_s:.1f} s, SDK import_predictions "
        f"alone {sdk_s:.1f} s → {ours_s / sdk_s:.2f}× the SDK's time"
    )
    console.print(
        f"  pull (snapshot, streamed, converted): {pull_s:.1f} s for {pulled.tasks:,} tasks, "
        f"{annotations:,} annotations, {len(pulled.problems)} problems; peak RSS "
        f"{rss.peak / MB:.0f} MB; SDK download_sync alone: {sync}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, nargs="+", default=[500, 10_000])
    args = parser.parse_args()
    console = Console(soft_wrap=True)
    schema = load_schema()
    executable = server.binary()
    if executable is None:
        raise SystemExit(server.MISSING)
    with (
        tempfile.TemporaryDirectory() as tmp,
        server.label_studio(executable, Path(tmp)) as running,
    ):
        connection = Connection(running.url, running.token)
        for count in args.documents:
            documents = [
                build_document(RawDocument(text, f"synthetic-{count}-{i}.txt", "0" * 64))
                for i, text in enumerate(synthetic_texts(count, random.Random(12345)))
            ]
            measure(connection, documents, schema, console)

    rng = np.random.default_rng(0)
    length = 5_000_000
    coders = []
    for _ in range(3):
        starts = np.sort(rng.choice(length // 100, size=50_000, replace=False)) * 100
        coders.append([(int(s), int(s) + int(rng.integers(5, 90))) for s in starts])
    start = time.perf_counter()
    alpha = category_alpha(coders, 0, length)
    alpha_seconds = time.perf_counter() - start
    console.print(
        f"α_u, 3 annotators × 50,000 units: {alpha_seconds:.3f} s (α = {alpha.alpha:.3f}); "
        f"{'[green]met' if alpha_seconds < 1 else '[red]MISSED'}[/] < 1 s"
    )


if __name__ == "__main__":
    main()
