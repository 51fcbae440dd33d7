"""The Ray engine gives what the local engine gives, byte for byte, on a local Ray of 2 CPUs:
the same release, the same predictions, the same scores; a worker that dies is replaced and
its batch redone, nothing lost or written twice; user errors stay one located line."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synthetic import synthetic_texts
from claimwire.corpus.raw_folder import RawInputs
from claimwire.corpus.release import Sharding, build_release, open_release
from claimwire.engine import LocalEngine, open_engine
from claimwire.errors import ClaimwireError
from claimwire.eval import evaluate
from claimwire.eval.evaluate import Evaluation
from claimwire.model import Document
from claimwire.record_keys import UnknownKeyWarning
from claimwire.systems.base import DocumentOutput, RunContext, run_system
from claimwire.systems.rules import RulesSystem

from .helpers import REPO, one_error_line

ray = pytest.importorskip("ray")

DOCUMENTS = 300


def _raw(root: Path, documents: int = DOCUMENTS) -> Path:
    """Synthetic releases as text files and as JSONL lines, with a few exact duplicates."""
    raw = root / "raw"
    (raw / "wire").mkdir(parents=True)
    texts = list(synthetic_texts(documents, random.Random(14)))
    half = documents // 2
    for i, text in enumerate(texts[:half]):
        (raw / "wire" / f"release-{i:04d}.txt").write_text(text, encoding="utf-8")
    lines = [json.dumps({"text": text}, ensure_ascii=False) for text in texts[half:] + texts[:3]]
    (raw / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return raw


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def engine() -> Iterator[object]:
    """One local Ray of 2 CPUs for the module, shut down after it, its workers no nicer than
    this process (as ``claimwire --engine ray`` starts them): at Ray's default, 15 steps
    nicer, beside the suite's other worker or a busy machine they got a sliver of a core."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RAY_worker_niceness", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the dying system below
    try:
        yield open_engine("ray")
    finally:
        ray.shutdown()
        mp.undo()


@pytest.fixture(scope="module")
def built(engine: object, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same raw inputs built by both engines: (local releases, Ray releases)."""
    root = tmp_path_factory.mktemp("ray-build")
    raw = _raw(root)
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", "1767225600")
    # batches of 32 (blocks of 256): a few blocks, as a large corpus in blocks of 1,024 has
    mp.setattr("claimwire.corpus.release.BUILD_BATCH", 32)
    mp.setattr(ray.data, "read_datasource", _no_read_task)
    try:
        build_release(raw, root / "local", "0.1.0")
        build_release(raw, root / "ray", "0.1.0", engine=engine)  # type: ignore[arg-type]
    finally:
        mp.undo()
    return root / "local", root / "ray"


def test_local_engine_keeps_parts_and_batches_in_order() -> None:
    seen: list[list[int]] = []

    def double(batch: list[int]) -> list[int]:
        seen.append(batch)
        return [2 * x for x in batch]

    out = list(LocalEngine().map(double, [range(5), [], range(5, 7)], batch_size=2))
    assert out == [0, 2, 4, 6, 8, 10, 12]
    assert seen == [[0, 1], [2, 3], [4], [5, 6]]  # batches never span two parts


def _no_read_task(*args: object, **kwargs: object) -> None:
    raise AssertionError("the build's inputs are read by the actors, not by a read task")


def test_ray_keeps_order_across_parts_and_batches(engine: object) -> None:
    parts = [range(0, 500), [], range(500, 731)]
    out = list(engine.map(_square, parts, batch_size=7))  # type: ignore[attr-defined]
    assert out == [x * x for x in range(731)]


def _square(batch: list[int]) -> list[int]:
    return [x * x for x in batch]


def _worker(batch: list[int]) -> list[int]:
    time.sleep(0.02)  # long enough that a second actor is asked before the first is free
    return [os.getpid()] * len(batch)


def _batch_size(batch: list[int]) -> list[int]:
    return [len(batch)] * len(batch)


def test_ray_spreads_one_part_over_every_worker_a_block_at_a_time(engine: object) -> None:
    """One part (a run's documents are one) still fills every actor: a block carries a few
    batches (256 items), so the driver also gets results back block by block, not a part
    at once."""
    pids = list(engine.map(_worker, [range(2000)], batch_size=10))  # type: ignore[attr-defined]
    assert len(pids) == 2000
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert min(pids.count(pid) for pid in set(pids)) >= 500  # both did a real share


def test_ray_sends_a_few_batches_a_block_and_calls_the_stage_batch_by_batch(
    engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray Data's own work is per block: small batches travel 256 items to a block, and the
    stage still sees the batches the local engine gives it."""
    blocks: list[int] = []
    iterate = ray.data.Dataset.iter_batches

    def counted(dataset: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for table in iterate(dataset, *args, **kwargs):
            blocks.append(table.num_rows)
            yield table

    monkeypatch.setattr(ray.data.Dataset, "iter_batches", counted)
    sizes = list(engine.map(_batch_size, [range(1000)], batch_size=32))  # type: ignore[attr-defined]
    assert sizes == [32] * 992 + [8] * 8
    assert blocks == [1] * 4  # 8 batches a block (the last 3 and a short one), not 32 blocks


class _Cut:
    """A divisible part of ``size`` numbers that notes, here in the driver, each piece it
    cuts: the build's raw inputs cut themselves so (a JSONL input into ranges of lines)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.cut: list[int] = []

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.size))

    def pieces(self, items: int) -> Iterator[range]:
        for start in range(0, self.size, items):
            self.cut.append(start)
            yield range(start, min(self.size, start + items))


def test_ray_cuts_a_divisible_part_only_as_pieces_are_taken(engine: object) -> None:
    """The driver held every piece of the inputs before the first was worked on (its memory
    grew with the number of raw files); now a window of pieces, 2 a worker, is in flight."""
    part = _Cut(1000)
    out = engine.map(_square, [part], batch_size=5)  # type: ignore[attr-defined]
    assert next(out) == 0
    assert len(part.cut) <= 2 * 2 + 1  # not 200
    assert [0, *out] == [x * x for x in range(1000)]
    assert len(part.cut) == 200


class _ExitsOnce:
    """Squares, in a worker process that exits hard in its second batch, once (a marker
    file says it happened)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker
        self.batches = 0

    def __call__(self, batch: list[int]) -> list[int]:
        self.batches += 1
        if self.batches == 2 and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os._exit(1)
        return _square(batch)


def test_a_worker_killed_on_a_piece_is_restarted_and_the_piece_redone(
    engine: object, tmp_path: Path
) -> None:
    marker = tmp_path / "died"
    out = list(engine.map(_ExitsOnce(marker), [_Cut(300)], batch_size=10))  # type: ignore[attr-defined]
    assert marker.exists() and int(marker.read_text()) != os.getpid()
    assert out == [x * x for x in range(300)]


def test_ray_builds_the_local_release_byte_for_byte(built: tuple[Path, Path]) -> None:
    """The actors read their own pieces of the inputs (a JSONL input in ranges of lines):
    no read task (the fixture refuses one), and the release is still the local one."""
    local, ray_built = built
    files = _files(local)
    assert files == _files(ray_built)  # MANIFEST.json and the corpus changelog included
    manifest = json.loads(files["0.1.0/MANIFEST.json"])
    assert manifest["counts"]["documents"] == DOCUMENTS
    assert manifest["duplicates"]["exact"] + manifest["duplicates"]["near"] == 3
    assert files["0.1.0/duplicates.jsonl"].count(b"\n") == 3  # the same way, in the same order
    assert manifest["created"] == "2026-01-01T00:00:00Z"  # SOURCE_DATE_EPOCH


def test_ray_runs_the_local_predictions_byte_for_byte(
    built: tuple[Path, Path], engine: object, tmp_path: Path
) -> None:
    release = open_release(built[0] / "0.1.0")
    local = tmp_path / "local.jsonl"
    run_system(RulesSystem(), RunContext.for_split(release, "all"), local, reproducible=True)
    remote = tmp_path / "ray.jsonl"
    context = RunContext.for_split(release, "all", hold=False)
    assert context.documents == []  # the workers read them from the release
    run_system(RulesSystem(), context, remote, reproducible=True, engine=engine)  # type: ignore[arg-type]
    assert local.read_bytes() == remote.read_bytes()
    assert local.stat().st_size > 0
    for suffix in (".done", ".meta.json"):
        assert Path(f"{local}{suffix}").read_bytes() == Path(f"{remote}{suffix}").read_bytes()


class _DiesOnce(RulesSystem):
    """The rules, in a worker process that exits hard in its second batch, once (a marker
    file says it happened): Ray Data must restart the actor and redo that batch."""

    def __init__(self, marker: Path) -> None:
        super().__init__()
        self.marker = marker
        self.batches = 0

    def annotate(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        self.batches += 1
        if self.batches == 2 and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os._exit(1)
        return super().annotate(documents, context)


def test_a_killed_worker_is_retried_and_nothing_is_lost_or_duplicated(
    built: tuple[Path, Path], engine: object, tmp_path: Path
) -> None:
    release = open_release(built[0] / "0.1.0")
    local = tmp_path / "local.jsonl"
    run_system(RulesSystem(), RunContext.for_split(release, "test"), local, reproducible=True)
    marker = tmp_path / "died"
    remote = tmp_path / "ray.jsonl"
    context = RunContext.for_split(release, "test", hold=False)
    run_system(_DiesOnce(marker), context, remote, batch_size=4, engine=engine)  # type: ignore[arg-type]
    assert marker.exists()  # a worker did die
    assert int(marker.read_text()) != os.getpid()
    assert local.read_bytes() == remote.read_bytes()
    done = [line.split("\t")[0] for line in Path(f"{remote}.done").read_text().splitlines()]
    assert len(done) == len(set(done)) == sum(1 for d in release.documents() if d.split == "test")


def _build_errors(raw: Path, out: Path, engine: Any) -> list[str]:
    """The error of a build of ``raw`` with the local engine, then with ``engine``; neither
    leaves a release behind."""
    errors = []
    for name, chosen in (("local", None), ("ray", engine)):
        with pytest.raises(ClaimwireError) as raised:
            build_release(raw, out / name, "0.1.0", engine=chosen)
        errors.append(str(raised.value))
        assert not (out / name / "0.1.0").exists()
    return errors


def test_a_user_error_in_a_worker_is_the_local_one_line_error(
    engine: object, tmp_path: Path
) -> None:
    raw = _raw(tmp_path, 40)
    feed = raw / "feed.jsonl"
    lines = feed.read_text(encoding="utf-8").splitlines()
    lines[6] = json.dumps({"text": 42})
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = _build_errors(raw, tmp_path, engine)
    assert errors[0] == errors[1]
    assert errors[0].endswith("feed.jsonl:7: field 'text': expected a non-empty string")


def test_a_temp_folder_too_long_for_rays_sockets_is_one_located_line(tmp_path: Path) -> None:
    """Ray puts its sockets under TMPDIR; a path past the 107 bytes of AF_UNIX was a bare
    "error: OSError"."""
    deep = tmp_path / ("t" * 110)
    deep.mkdir()
    raw, out = _raw(tmp_path, 3), tmp_path / "out"
    command = ["corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", out]
    done = subprocess.run(
        [sys.executable, "-m", "claimwire", *map(str, command), "--engine", "ray"],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(deep), "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 1
    assert one_error_line(done.stderr), done.stderr
    assert "could not start or join Ray at this machine" in done.stderr
    assert "AF_UNIX path length" in done.stderr and "set TMPDIR to a shorter folder" in done.stderr
    assert not out.exists()


def test_without_ray_installed_engine_ray_says_what_to_install(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    raw, out = _raw(tmp_path, 3), tmp_path / "out"
    command = ["corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", out]
    done = subprocess.run(
        [sys.executable, "-m", "claimwire", *map(str, command), "--engine", "ray"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{REPO / 'src'}", "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode != 0
    assert one_error_line(done.stderr), done.stderr
    assert "pip install 'claimwire[ray]'" in done.stderr
    assert not out.exists()


def test_an_unknown_engine_names_the_option_and_the_choices() -> None:
    with pytest.raises(ClaimwireError) as raised:
        open_engine("spark")
    assert (
        str(raised.value) == "field '--engine': unknown engine 'spark'; expected one of local, ray"
    )


# ---- eval score -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A synthetic release of 300 documents (test and train) with gold, written twice (one
    file per kind; zstd shards of 70 records), its predictions and a second system's."""
    root = tmp_path_factory.mktemp("ray-score")
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(REPO / "benchmarks"))
    try:
        import synthetic_release

        single, predictions = synthetic_release.build(
            root / "single", DOCUMENTS, splits=("test", "test", "train")
        )
        sharded, _ = synthetic_release.build(
            root / "sharded",
            DOCUMENTS,
            splits=("test", "test", "train"),
            sharding=Sharding(70, compress=True),
        )
    finally:
        mp.undo()
    records = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines()]
    linked = {r[end] for r in records if "head" in r for end in ("head", "tail")}
    unlinked = [r["id"] for r in records if r.get("label") == "CLAIM" and r["id"] not in linked]
    left_out = set(unlinked[::3])  # a third of the claims no relation names
    other = root / "other.jsonl"
    kept = [json.dumps(r) for r in records if r["id"] not in left_out]
    other.write_text("\n".join(kept) + "\n", "utf-8")
    return {"single": single, "sharded": sharded, "predictions": predictions, "other": other}


def _outputs(release: Path, engine: object, predictions: list[Path], **options: Any) -> str:
    """Every format ``eval score`` prints, for these systems on this release."""
    from claimwire.eval.compare import score_systems
    from claimwire.eval.report import leaderboard, markdown

    evaluation = Evaluation.open(release, "claims", resamples=200, engine=engine, **options)  # type: ignore[arg-type]
    comparison = score_systems(evaluation, predictions, trials=200)
    board = markdown(leaderboard(comparison.results), evaluation.signature())
    return "\n".join([json.dumps(comparison.to_json()), comparison.to_csv(6), board])


def test_ray_scores_the_local_scores_byte_for_byte(scored: dict[str, Path], engine: object) -> None:
    systems = [scored["predictions"], scored["other"]]
    for release in (scored["single"], scored["sharded"]):
        for split in ("test", "all"):
            local = _outputs(release, None, systems, split=split)
            assert local == _outputs(release, engine, systems, split=split), (release, split)
    result = json.loads(local.split("\n")[0])["systems"]
    assert 0 < result[0]["schemes"]["strict"]["f1"] < 1  # a real score, not an empty one
    assert result[1]["schemes"]["strict"]["f1"] != result[0]["schemes"]["strict"]["f1"]
    gold = {"gold": scored["predictions"]}  # another annotation set as gold: checked on workers
    local = _outputs(scored["sharded"], None, [scored["other"]], **gold)
    assert local == _outputs(scored["sharded"], engine, [scored["other"]], **gold)
    assert 0 < json.loads(local.split("\n")[0])["systems"][0]["schemes"]["strict"]["f1"] < 1


def test_ray_makes_the_local_error_page(scored: dict[str, Path], engine: object) -> None:
    """The page's document sections are made on the workers, where the documents are, and
    the driver keeps the same ones as the local pass: the same page, byte for byte."""
    from claimwire.eval.html import render_html

    pages = []
    for chosen in (None, engine):
        evaluation = Evaluation.open(
            scored["single"],
            "claims",
            resamples=100,
            engine=chosen,
            page_documents=20,  # type: ignore[arg-type]
        )
        result = evaluation.score(evaluation.check(scored["predictions"]))
        pages.append(render_html(evaluation, [result]))
    assert pages[0] == pages[1]
    assert pages[0].count('<section class="document"') == 20 and "left out" in pages[0]


def test_eval_score_engine_ray_prints_the_local_json(
    scored: dict[str, Path], engine: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from claimwire.cli.root import app

    command = ["eval", "score", str(scored["predictions"]), "--release", str(scored["single"])]
    command += ["--task", "claims", "--format", "json", "--bootstrap", "100"]
    printed = []
    for extra in ([], ["--engine", "ray"]):  # in this process: the module's Ray is joined
        with pytest.raises(SystemExit) as done:
            app([*command, *extra])
        assert done.value.code == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1] and json.loads(printed[0])["systems"]


def test_a_key_the_workers_read_is_warned_about_once_as_the_local_pass_does(
    scored: dict[str, Path], engine: object, tmp_path: Path
) -> None:
    """A ``score`` a model adds, read by the workers: warned about where the user sees it,
    once, naming the line the local pass names (before: not at all, the warning went to a
    worker's stderr)."""
    lines = scored["predictions"].read_text(encoding="utf-8").splitlines()
    lines[4000:] = [json.dumps({**json.loads(line), "score": 0.5}) for line in lines[4000:]]
    said = []
    for chosen in (None, engine):
        path = tmp_path / str(chosen is None) / "scored.jsonl"  # a file warned about afresh
        path.parent.mkdir()
        path.write_text("\n".join(lines) + "\n", "utf-8")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _outputs(scored["single"], chosen, [path])
        keys = [w for w in caught if issubclass(w.category, UnknownKeyWarning)]
        said.append([str(w.message).replace(str(path), "P") for w in keys])
    assert said[0] == said[1]
    assert [text.split(": unknown key")[0] for text in said[0]] == ["P:4001: field 'score'"]


def _broken(predictions: Path, tmp_path: Path, change: dict[str, Any]) -> tuple[Path, int]:
    """The predictions with ``change`` made to the first annotation past line 4,000 (an
    ``id`` of ``None``: the id of an annotation before it)."""
    lines = predictions.read_text(encoding="utf-8").splitlines()
    line = next(n for n in range(4000, len(lines)) if '"head"' not in lines[n - 1])
    if change.get("id", "") is None:
        before = next(x for x in reversed(lines[: line - 1]) if '"head"' not in x)
        change = {"id": json.loads(before)["id"]}
    lines[line - 1] = json.dumps({**json.loads(lines[line - 1]), **change})
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path, line


def _errors_of_both(release: Path, engine: object, predictions: Path) -> list[str]:
    """The error the local engine and ``engine`` each raise on ``predictions``: the same."""
    errors = []
    for chosen in (None, engine):
        with pytest.raises(ClaimwireError) as raised:
            _outputs(release, chosen, [predictions])
        errors.append(str(raised.value))
    assert errors[0] == errors[1]
    return errors


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"start": "x"}, "broken.jsonl:{line}: field 'start'"),
        ({"end": 10**6}, "in the predictions; nothing was scored"),
        ({"id": None}, "broken.jsonl:{line}: field 'id': duplicate annotation id"),
    ],
)
def test_a_bad_prediction_file_is_the_local_located_error(
    scored: dict[str, Path],
    engine: object,
    tmp_path: Path,
    change: dict[str, Any],
    expected: str,
) -> None:
    broken, line = _broken(scored["predictions"], tmp_path, change)
    errors = _errors_of_both(scored["sharded"], engine, broken)
    assert expected.format(line=line) in errors[0]
    assert f"broken.jsonl:{line}:" in errors[0]


def test_a_relation_to_another_batchs_document_is_named_by_the_worker(
    scored: dict[str, Path], engine: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = scored["predictions"].read_text(encoding="utf-8").splitlines()
    far = next(json.loads(x) for x in reversed(lines) if '"head"' not in x)
    relation = next(json.loads(x) for x in lines if '"head"' in x)
    assert far["doc_id"] != relation["doc_id"]
    lines.append(json.dumps({**relation, "id": "r-far", "tail": far["id"]}))
    path = tmp_path / "far.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 16)
    errors = _errors_of_both(scored["single"], engine, path)
    assert f"field 'tail': annotation {far['id']!r} is in document {far['doc_id']!r}" in errors[0]


def test_a_relation_to_another_batch_s_rejected_annotation_is_absent_to_the_worker(
    scored: dict[str, Path], engine: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The annotation it names has a span outside its text: the whole check has none."""
    lines = scored["predictions"].read_text(encoding="utf-8").splitlines()
    at, far = next((k, json.loads(x)) for k, x in enumerate(lines) if '"head"' not in x)
    relation = next(json.loads(x) for x in reversed(lines) if '"head"' in x)
    assert far["doc_id"] != relation["doc_id"]
    lines[at] = json.dumps({**far, "end": 10**6})
    lines.append(json.dumps({**relation, "id": "r-far", "tail": far["id"]}))
    path = tmp_path / "far.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 16)
    errors = _errors_of_both(scored["single"], engine, path)
    assert f"field 'tail': no annotation with id {far['id']!r}" in errors[0]


class _DiesInABatch:
    """A stage that exits hard in a batch past the first hundred lines of the documents,
    once (a marker file says it happened): Ray must run that batch again elsewhere."""

    def __init__(self, stage: Any, marker: Path) -> None:
        self.stage = stage
        self.marker = marker

    def __call__(self, batch: list[Any]) -> list[Any]:
        if batch[0].documents[0].runs[0][2] > 100 and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os._exit(1)
        return list(self.stage(batch))


class _KillingEngine:
    """The Ray engine, its streamed stages wrapped in :class:`_DiesInABatch`."""

    def __init__(self, engine: Any, marker: Path) -> None:
        self.engine, self.marker = engine, marker
        self.name, self.workers, self.distributed = "ray", engine.workers, True

    def stream(self, stage: Any, items: Any, batch_size: int = 1) -> Any:
        return self.engine.stream(_DiesInABatch(stage, self.marker), items, batch_size)


def test_a_worker_killed_while_scoring_is_retried_and_nothing_is_lost_or_counted_twice(
    scored: dict[str, Path], engine: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 16)
    systems = [scored["predictions"]]
    local = _outputs(scored["single"], None, systems, split="all")
    marker = tmp_path / "died"
    remote = _outputs(scored["single"], _KillingEngine(engine, marker), systems, split="all")
    assert marker.exists() and int(marker.read_text()) != os.getpid()  # a worker did die
    assert local == remote


# ---- files that change or vanish under a worker ---------------------------------------------


def _cli_error(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """The one error line ``claimwire command`` prints (run in this process: it joins the
    module's Ray), which must exit with a user error's code."""
    from claimwire.cli import main

    monkeypatch.setattr(sys, "argv", ["claimwire", *command])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 1
    stderr = capsys.readouterr().err
    assert one_error_line(stderr), stderr
    return stderr


@pytest.mark.parametrize(
    ("line", "bad", "expected"),
    [
        (11, json.dumps({"text": 42}), "feed.jsonl:11: field 'text': expected a non-empty string"),
        (14, '{"text": "d\xe9j\xe0"}', "feed.jsonl:14: not valid UTF-8: byte 0xe9"),
    ],
)
def test_a_bad_line_in_a_later_range_is_the_local_error(
    engine: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: int, bad: str,
    expected: str,
) -> None:  # fmt: skip
    """Ranges of 4 lines: the bad line is in the third or fourth, read by an actor that
    numbers its lines from where its range starts; bad bytes come first, as the local engine
    checks a file's bytes before its lines (here after a bad line 2)."""
    monkeypatch.setattr("claimwire.corpus.release.BUILD_BATCH", 4)
    raw = _raw(tmp_path, 40)
    feed = raw / "feed.jsonl"
    lines = feed.read_bytes().splitlines()
    lines[line - 1] = bad.encode("latin-1")
    if line == 14:
        lines[1] = b'{"text": ""}'
    feed.write_bytes(b"\n".join(lines) + b"\n")
    errors = _build_errors(raw, tmp_path, engine)
    assert errors[0] == errors[1]
    assert expected in errors[0]


@pytest.mark.parametrize("name", ["wire/release-0007.txt", "feed.jsonl"])
def test_a_raw_file_a_worker_does_not_find_is_one_line_naming_it(
    engine: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    """The driver lists the file, then it is gone: a text file is read by a worker (a node
    that does not see the inputs), a JSONL file by the driver, which cuts it into pieces as
    the workers take them; either way one line names it and nothing is built."""
    from claimwire.corpus import release as release_module

    raw = _raw(tmp_path, 40)
    listed = release_module.raw_files

    def listed_then_gone(folder: Path) -> RawInputs:
        files = listed(folder)
        (raw / name).unlink()
        return files

    monkeypatch.setattr(release_module, "raw_files", listed_then_gone)
    out = tmp_path / "releases"
    command = ["corpus", "build", "--version", "0.1.0", "--raw", str(raw), "--out", str(out)]
    stderr = _cli_error([*command, "--engine", "ray"], capsys, monkeypatch)
    where = (
        "cannot open: No such file or directory"
        if name.endswith(".jsonl")
        else "No such file or directory on Ray worker"
    )
    assert f"{raw / name}: {where}" in stderr and len(stderr.strip().splitlines()) == 1
    assert not (out / "0.1.0").exists()


def _after_first_batch(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """``change()`` runs once the driver has described the first batch of documents (its
    indexes are made; no worker has read anything yet)."""
    described = evaluate.document_lines

    def then_changed(*args: Any, **kwargs: Any) -> Iterator[Any]:
        batches = described(*args, **kwargs)
        first = next(batches)
        change()
        yield first
        yield from batches

    monkeypatch.setattr(evaluate, "document_lines", then_changed)


def test_a_prediction_file_gone_before_a_worker_reads_it_is_one_line_naming_it(
    scored: dict[str, Path],
    engine: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_bytes(scored["predictions"].read_bytes())
    _after_first_batch(monkeypatch, predictions.unlink)
    command = ["eval", "score", str(predictions), "--release", str(scored["single"])]
    command += ["--task", "claims", "--format", "json", "--engine", "ray"]
    stderr = _cli_error(command, capsys, monkeypatch)
    assert f"{predictions}: No such file or directory on Ray worker" in stderr


def test_a_prediction_file_replaced_after_it_was_indexed_is_refused(
    scored: dict[str, Path], engine: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver found the lines' offsets in the file it indexed; a worker reading them from
    a file put in its place would read other lines (here: the same bytes, lines reversed)."""
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_bytes(scored["predictions"].read_bytes())
    lines = predictions.read_bytes().splitlines(keepends=True)
    replacement = tmp_path / "replacement.jsonl"
    replacement.write_bytes(b"".join(reversed(lines)))
    indexed = predictions.stat().st_mtime_ns
    os.utime(replacement, ns=(indexed + 10**9, indexed + 10**9))
    _after_first_batch(monkeypatch, lambda: os.replace(replacement, predictions))
    with pytest.raises(ClaimwireError) as raised:
        _outputs(scored["single"], engine, [predictions])
    assert str(raised.value).startswith(f"{predictions}: changed while this command was reading")
    assert f"was {len(b''.join(lines))} bytes" in str(raised.value)


def test_a_release_file_replaced_during_a_run_is_refused(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """``run``'s workers read the documents from the release: one replaced since the run
    began (a release is never edited) is refused, not annotated."""
    import shutil

    from claimwire.systems.base import SplitDocuments

    release = tmp_path / "0.1.0"
    shutil.copytree(built[0] / "0.1.0", release)
    documents = release / "documents.jsonl"
    stamps = ((documents.stat().st_size, documents.stat().st_mtime_ns),)
    part = SplitDocuments(release, ("documents.jsonl",), "all", stamps=stamps)
    assert len(list(part)) == DOCUMENTS
    text = documents.read_bytes()
    documents.write_bytes(text[: text.index(b"\n") + 1])  # one document left
    with pytest.raises(ClaimwireError, match=r"documents\.jsonl: changed while this command"):
        list(part)


def test_eval_check_engine_ray_says_and_writes_what_the_local_check_does(
    scored: dict[str, Path],
    engine: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``eval check --fix-offsets --out`` on workers: the same moves, lines and file."""
    from claimwire.cli import common, main

    # lines as long as they come: a wrap falling inside OUT's path (a longer temporary folder,
    # as a pytest-xdist worker's) would keep the path from being replaced
    monkeypatch.setattr(common.console, "width", 100_000)
    lines = scored["predictions"].read_text(encoding="utf-8").splitlines()
    for number in range(0, len(lines), 7):
        record = json.loads(lines[number])
        if "head" not in record:  # an annotation one character off its quote
            lines[number] = json.dumps(
                {**record, "start": record["start"] + 1, "end": record["end"] + 1}
            )
    shifted = tmp_path / "shifted.jsonl"
    shifted.write_text("\n".join(lines) + "\n", "utf-8")
    said, written = [], []
    for number, name in enumerate(("local", "ray")):
        out = tmp_path / f"out-{number}.jsonl"
        command = ["eval", "check", str(shifted), "--release", str(scored["sharded"])]
        command += ["--task", "claims", "--fix-offsets", "--out", str(out), "--engine", name]
        monkeypatch.setattr(sys, "argv", ["claimwire", *command])
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code == 0
        said.append(capsys.readouterr().out.replace(str(out), "OUT"))
        written.append(out.read_bytes())
    assert said[0] == said[1] and written[0] == written[1]
    assert said[0].count("\nfixed ") > 20 and written[0] != shifted.read_bytes()


def test_ray_started_by_the_engine_runs_its_workers_as_nice_as_the_command() -> None:
    """Ray's default starts workers 15 steps nicer than the command: on a shared machine they
    then get a fraction of the CPU the command would. Checked in a fresh process (this
    module's Ray is started by the test, not by the engine)."""
    script = (
        "import os, ray\n"
        "from claimwire.engine import open_engine\n"
        "open_engine('ray')\n"
        "seen = ray.remote(lambda: (os.nice(0), os.environ.get('RAY_worker_niceness')))\n"
        "print(os.nice(0), *ray.get(seen.remote()))\n"
        "ray.shutdown()\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_worker_niceness")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=lambda: os.nice(2),  # a command run under nice, as benchmarks are
        check=True,
    )
    driver, worker, setting = done.stdout.split()
    assert worker == driver and setting == "0"  # (under nice 17 or more, only the setting tells)


_STOPPED = """
import sys, time
from pathlib import Path
from claimwire.engine import open_engine

STARTED = Path(sys.argv[1])  # sent with the stage: a worker's argv is not this one


def stage(batch):
    STARTED.touch()
    time.sleep(120)
    return batch

try:
    list(open_engine("ray").stream(stage, range(4)))
except KeyboardInterrupt:
    sys.exit(130)  # as claimwire's command line
"""


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_ray_command_stopped_by_a_signal_ends_as_the_local_one(
    stop: signal.Signals, tmp_path: Path
) -> None:
    """SIGTERM while the workers run: the local engine's exit (143), no stack dump. Ray's
    core worker had put a native handler on SIGTERM in the driver that printed a stack dump
    twice and aborted (exit 134). Ctrl-C (SIGINT): exit 130, as the command line says.
    Either way the local Ray's session folder is gone with it: every command had left a
    ``ray/session_*`` in the temporary folder, and no Ray process is left."""
    started = tmp_path / "started"
    temp = Path(tempfile.mkdtemp(prefix="cw", dir="/tmp"))  # short: Ray's sockets are in it
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "CLAIMWIRE_DEBUG")}
    child = subprocess.Popen(
        [sys.executable, "-c", _STOPPED, str(started)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "TMPDIR": str(temp), "PYTHONPATH": str(REPO / "src")},
    )
    deadline = time.monotonic() + 120
    while not started.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    child.send_signal(stop)
    _, stderr = child.communicate(timeout=60)
    left = list(temp.iterdir())
    shutil.rmtree(temp, ignore_errors=True)
    assert child.returncode == 128 + stop, stderr
    assert "received at time" not in stderr and "Aborted" not in stderr, stderr
    assert left == []
    assert _processes_naming(temp) == []


def _processes_naming(path: Path) -> list[str]:
    """The command lines of this machine's processes that name ``path``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        if str(path) in line:
            found.append(line)
    return found


_DYING_SYSTEM = """
import os
from pathlib import Path

from claimwire.systems.rules import RulesSystem


class Dies(RulesSystem):
    \"\"\"The rules, in a worker process that notes its pid and exits hard in every batch.\"\"\"

    name = "dies"

    def annotate(self, documents, context):
        with Path(os.environ["DIED"]).open("a") as died:
            died.write(f"{os.getpid()}\\n")
        os._exit(3)
"""


def _registered(folder: Path, name: str, module: str, source: str) -> Path:
    """``folder`` holding ``module`` (``source``) and a distribution registering its class
    ``Dies`` as the system ``name``, as an installed plug-in is found (an entry point)."""
    folder.mkdir()
    (folder / f"{module}.py").write_text(source, encoding="utf-8")
    info = folder / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[claimwire.systems]\n{name} = {module}:Dies\n")
    return folder


def test_a_worker_that_dies_every_time_is_given_up_in_one_line(tmp_path: Path) -> None:
    """A system whose actor dies in every batch (a crash in native code, the OOM killer):
    Ray Data replaced the actor for ever (its default) and the command never ended; now the
    worker is replaced and its batch run again 3 times, then ``run`` ends with one line
    naming the system, exit 1, and its output holds nothing half-written (a valid empty
    run, as an interrupted one leaves: a re-run resumes it)."""
    build_release(_raw(tmp_path, 6), tmp_path / "releases", "0.1.0")
    plugins = _registered(tmp_path / "plugins", "dies", "dying_system", _DYING_SYSTEM)
    died, out = tmp_path / "died", tmp_path / "run" / "dies.jsonl"
    temp = Path(tempfile.mkdtemp(prefix="cw", dir="/tmp"))  # short: Ray's sockets are in it
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "CLAIMWIRE_DEBUG")}
    command = ["run", "dies", "--release", tmp_path / "releases" / "0.1.0", "--split", "all"]
    command += ["--out", out, "--engine", "ray"]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "claimwire", *map(str, command)],
            capture_output=True,
            text=True,
            env={
                **env,
                "TMPDIR": str(temp),
                "PYTHONPATH": f"{plugins}{os.pathsep}{REPO / 'src'}",
                "DIED": str(died),
                "NO_COLOR": "1",
            },
            timeout=300,  # before: no end
            check=False,
        )
        left = list(temp.iterdir())
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: the Ray worker running system 'dies' kept dying: it was replaced and its work "
        "run again 3 times, then the command gave up (a crash in native code, os._exit, the "
        "OOM killer; rerun with CLAIMWIRE_DEBUG=1 to keep Ray's logs)"
    )
    pids = died.read_text().split()
    assert len(set(pids)) >= 4 and str(os.getpid()) not in pids  # 1 + 3 tries, in workers
    assert out.read_bytes() == b"" and Path(f"{out}.done").read_bytes() == b""
    assert left == [] and _processes_naming(temp) == []
