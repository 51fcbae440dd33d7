"""The annotation round trip at scale, against a real local Label Studio server.

* push: 10,000 synthetic tasks imported in batches (target < 60 s);
* pull: export and convert 10,000 annotated tasks, one annotator (target < 30 s);
* Krippendorff's α_u: 3 annotators × 50,000 units (target < 1 s).

Run: ``python benchmarks/bench_label_studio.py [--documents N]`` (``make bench``); it starts
Label Studio from ``.venv-ls`` (``make test`` creates it).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from synthetic import synthetic_texts

from claimwire.annotation.label_studio import server
from claimwire.annotation.label_studio.client import (
    Connection,
    client,
    convert_export,
    export_tasks,
    push,
)
from claimwire.annotation.label_studio.config import configs
from claimwire.annotation.label_studio.convert import to_results
from claimwire.annotation.schema import load_schema
from claimwire.corpus.ingest import RawDocument, build_document
from claimwire.eval.unitizing import category_alpha
from claimwire.model import Annotation, Quote


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    args = parser.parse_args()
    console = Console()
    schema = load_schema()
    documents = [
        build_document(RawDocument(text, f"synthetic-{i}.txt", "0" * 64))
        for i, text in enumerate(synthetic_texts(args.documents, random.Random(12345)))
    ]
    executable = server.binary()
    if executable is None:
        raise SystemExit(server.MISSING)
    with (
        tempfile.TemporaryDirectory() as tmp,
        server.label_studio(executable, Path(tmp)) as running,
    ):
        connection = Connection(running.url, running.token)
        start = time.perf_counter()
        push(connection, "bench push", configs(schema)["claims.xml"], documents, None, None, schema)
        push_seconds = time.perf_counter() - start

        ls = client(connection)
        project = ls.projects.create(title="bench pull", label_config=configs(schema)["claims.xml"])
        me = ls.users.whoami()
        for first in range(0, len(documents), 500):
            batch = []
            for document in documents[first : first + 500]:
                claims = [
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
                    for i, (s, e) in enumerate(document.sentences[:5])
                ]
                batch.append(
                    {
                        "data": {"text": document.text, "doc_id": document.id},
                        "annotations": [
                            {
                                "result": to_results(claims, [], schema, document.text),
                                "completed_by": me.id,
                            }
                        ],
                    }
                )
            ls.projects.import_tasks(id=project.id, request=batch)
        start = time.perf_counter()
        tasks = export_tasks(connection, "bench pull")
        pulled = convert_export(tasks, {d.id: d for d in documents}, schema, {me.id: "bench"})
        pull_seconds = time.perf_counter() - start
    annotations = sum(len(s.annotations) for s in pulled.sets.values())

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
        f"push: {len(documents):,} tasks in {push_seconds:.1f} s "
        f"({len(documents) / push_seconds:,.0f} tasks/s)"
    )
    console.print(
        f"pull + convert: {len(tasks):,} annotated tasks, {annotations:,} annotations, "
        f"{len(pulled.problems)} problems, in {pull_seconds:.1f} s"
    )
    console.print(
        f"α_u, 3 annotators × 50,000 units: {alpha_seconds:.3f} s (α = {alpha.alpha:.3f})"
    )
    for name, ok in (
        ("push < 60 s", push_seconds < 60),
        ("pull + convert < 30 s", pull_seconds < 30),
        ("α_u < 1 s", alpha_seconds < 1),
    ):
        console.print(f"{'[green]met' if ok else '[red]MISSED'}[/]: {name}")


if __name__ == "__main__":
    main()
