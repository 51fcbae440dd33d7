"""``claimwire run`` reads the release's documents batch by batch: a run over a million
documents holds a batch of them, not the corpus."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from claimwire import lines as line_reading
from claimwire.corpus import release
from claimwire.corpus.release import build_release
from claimwire.model import Document
from claimwire.systems import base
from claimwire.systems.base import DocumentOutput, RunContext

DOCUMENTS = 120
BATCH = 8


class CountingSystem:
    """Annotates nothing; notes how many documents were read ahead of it at each batch
    (records are not tracked by the collector: what is read is counted, not what lives)."""

    name = "counting"
    version = "1"
    tasks = ("claims",)

    def __init__(self) -> None:
        self.read = 0
        self.done = 0
        self.alive: list[int] = []

    def annotate(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        self.alive.append(self.read - self.done)
        self.done += len(documents)
        return [DocumentOutput(d.id, [], []) for d in documents]


def test_run_holds_a_batch_of_documents_not_the_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = (
        json.dumps({"text": f"Communiqué {i}. Le PIB a augmenté de {i},5 %."})
        for i in range(DOCUMENTS)
    )
    (raw / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_release(raw, tmp_path / "releases", "0.1.0")
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 512)  # a few documents a block read
    system = CountingSystem()
    monkeypatch.setattr(base, "load_system", lambda name, options: system)
    read_records = release.read_records

    def counted(path: Path, kind: type[Any]) -> Iterator[Any]:
        for record in read_records(path, kind):
            system.read += kind is Document
            yield record

    monkeypatch.setattr(release, "read_records", counted)
    out = tmp_path / "run.jsonl"
    argv = ["claimwire", "run", "counting", "--release", str(tmp_path / "releases" / "0.1.0")]
    argv += ["--split", "all", "--out", str(out), "--batch-size", str(BATCH)]
    monkeypatch.setattr(sys, "argv", argv)
    from claimwire.cli import main

    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert len(system.alive) == -(-DOCUMENTS // BATCH)
    assert max(system.alive) <= 4 * BATCH, system.alive  # before: every document, read first
    assert len(out.with_name(out.name + base.DONE_SUFFIX).read_text().splitlines()) == DOCUMENTS


def test_benchmark_runs_the_systems_a_batch_of_documents_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimwire import benchmark

    from .helpers import release_with_test_claims

    folder = release_with_test_claims(tmp_path, 8 * DOCUMENTS)  # about 90 test documents
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 512)  # a few documents a block read
    system = CountingSystem()
    monkeypatch.setattr(benchmark, "load_system", lambda name: system)
    read_records = release.read_records

    def counted(path: Path, kind: type[Any]) -> Iterator[Any]:
        for record in read_records(path, kind):
            system.read += kind is Document and record.split == "test"
            yield record

    monkeypatch.setattr(release, "read_records", counted)
    out = tmp_path / "eval"
    benchmark.benchmark(folder, out / "runs", out / "leaderboard.md", None, systems=("counting",))
    assert system.done > 64, system.done
    assert max(system.alive) <= 32, system.alive  # test documents ahead; before: the split


def test_benchmark_scores_the_tasks_with_gold_and_names_the_others(tmp_path: Path) -> None:
    """Gold for claims only (annotation goes a layer at a time): the benchmark scores claims
    and lists the tasks without gold (before: it stopped at the first, nothing written)."""
    from claimwire import benchmark

    from .helpers import release_with_test_claims

    folder = release_with_test_claims(tmp_path, 24)
    out = tmp_path / "eval"
    result = benchmark.benchmark(
        folder, out / "runs", out / "leaderboard.md", None, resamples=20, systems=("rules",)
    )
    assert list(result.results) == ["claims"]
    text = (out / "leaderboard.md").read_text("utf-8")
    without = text.split("## Tasks not scored", 1)[1]
    for task in ("attribution", "statistics"):
        assert f"- `{task}`: not scored: split 'test' has no gold" in without
    assert "claims" not in without


def _own_project(tmp_path: Path, layers: dict[str, object], *, keep_tasks: bool) -> Path:
    """A project whose schema's layers are ``layers`` (built-in ones replaced or kept), with
    30 short releases (some in each split); its own tasks removed unless ``keep_tasks``."""
    import yaml

    from .helpers import run_cli

    assert run_cli("init", "p", "--lang", "fr", cwd=tmp_path).returncode == 0
    project = tmp_path / "p"
    schema_path = project / "annotation" / "schema.yaml"
    schema = yaml.safe_load(schema_path.read_text("utf-8"))
    schema["layers"] = layers if not keep_tasks else {**schema["layers"], **layers}
    if not keep_tasks:
        schema["relations"] = {}
        for task in (project / "eval" / "tasks").glob("*.yaml"):
            task.unlink()
    schema_path.write_text(yaml.safe_dump(schema, sort_keys=False), "utf-8")
    for i in range(30):
        text = f"Communiqué numéro {i}.\n\nLe marché a progressé de {i + 2} % en 2024.\n"
        (project / "corpus" / "raw" / f"doc{i}.txt").write_text(text, "utf-8")
    return project


EVENTS = {
    "events": {
        "description": "e",
        "labels": {"EVENT": {"scope": "span", "description": "d", "anchor": "a"}},
    }
}


def test_systems_and_the_benchmark_on_a_schema_of_ones_own_labels(tmp_path: Path) -> None:
    """Only the user's own labels and no task: `run rules` is refused before writing (it
    was a KeyError with its files left behind), the benchmark says there is no task (it was
    a StopIteration)."""
    from .helpers import one_error_line, run_cli

    project = _own_project(tmp_path, EVENTS, keep_tasks=False)
    assert run_cli("corpus", "build", "--version", "0.1.0", cwd=project).returncode == 0
    ran = run_cli("run", "rules", "--out", tmp_path / "rules.jsonl", cwd=project)
    assert ran.returncode == 1 and one_error_line(ran.stderr), ran.stderr
    assert "system rules predicts SOURCE, CUE" in ran.stderr and "its labels: EVENT" in ran.stderr
    assert not list(tmp_path.glob("rules.jsonl*"))
    bench = run_cli("benchmark", "--bootstrap", "10", cwd=project)
    assert bench.returncode == 1 and one_error_line(bench.stderr), bench.stderr
    assert "the release defines no task" in bench.stderr


def test_the_benchmark_names_a_task_of_ones_own_that_no_system_predicts(tmp_path: Path) -> None:
    """The release's own task `events` has gold, the built-in tasks have none: the error
    gives each task's reason (it said no task had gold)."""
    import yaml

    from .helpers import one_error_line, run_cli

    project = _own_project(tmp_path, EVENTS, keep_tasks=True)
    task = {"name": "events", "description": "EVENT spans", "kind": "spans"}
    task |= {"labels": ["EVENT"], "schemes": ["strict"], "primary": "strict", "split": "all"}
    (project / "eval" / "tasks" / "events.yaml").write_text(yaml.safe_dump(task), "utf-8")
    gold = project / "annotation" / "gold"
    gold.mkdir(exist_ok=True)
    for i in range(30):
        event = {"id": f"e{i}", "label": "EVENT", "quote": "progressé"}
        item = {"source": f"doc{i}.txt", "author": "gold", "annotations": [event]}
        (gold / f"doc{i}.yaml").write_text(yaml.safe_dump(item, allow_unicode=True), "utf-8")
    built = run_cli("corpus", "build", "--version", "0.1.0", "--gold", gold, cwd=project)
    assert built.returncode == 0, built.stderr
    bench = run_cli("benchmark", "--bootstrap", "10", cwd=project)
    assert bench.returncode == 1 and one_error_line(bench.stderr), bench.stderr
    assert "'events': not scored: no system here predicts it" in bench.stderr
    assert "'claims': not scored: split" in bench.stderr
