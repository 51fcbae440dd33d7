"""The stance baselines read the gold of a batch's documents only, and the majority baseline
learns from a pass over the training split that keeps no pair: a run over a million
documents holds a batch's gold, not the release's."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from claimwire.corpus.release import build_release
from claimwire.model import Annotation, Document, Relation
from claimwire.systems import base, stance
from claimwire.systems.base import DocumentOutput, RunContext
from claimwire.systems.stance import MajoritySystem, StanceItem

from .helpers import watch_gold_reads

DOCUMENTS = 96
BATCH = 8
CLAIMS = 5  # gold annotations of each document besides its STANCE
LABELS = ("AGAINST", "AGAINST", "FAVOR")  # of the training documents, in turn
SPLITS = ("train", "test")


def _alive(kind: type) -> int:
    return sum(type(o) is kind for o in gc.get_objects())


def _gold(documents: Iterable[Document]) -> Iterator[Annotation | Relation]:
    for n, document in enumerate(documents):
        for i in range(CLAIMS):
            yield Annotation(f"{document.id}:c{i}", document.id, "claims", "CLAIM", 0, 5)
        label = LABELS[n % len(LABELS)] if document.split == "train" else "NONE"
        yield Annotation(
            f"{document.id}:s",
            document.id,
            "stance",
            "STANCE",
            attributes={"holder": "issuer", "target": "t", "stance": label},
        )


class CountingMajority(MajoritySystem):
    """The majority baseline, noting the gold annotations and stance pairs alive as each
    batch begins (after the first, once the index and the model are made)."""

    def __init__(self, **options: str) -> None:
        super().__init__(**options)
        self.alive: list[tuple[int, int]] = []

    def annotate(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        self.alive.append((_alive(Annotation), _alive(StanceItem)))
        return super().annotate(documents, context)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stance-streaming")
    raw = root / "raw"
    raw.mkdir()
    lines = (
        json.dumps({"text": f"Communiqué {i}. Le PIB a augmenté.", "split": SPLITS[i % 2]})
        for i in range(DOCUMENTS)
    )
    (raw / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return build_release(raw, root / "releases", "0.1.0", gold=_gold).path


def test_stance_run_holds_a_batch_of_gold_and_no_training_pair(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stance, "TRAINING_BATCH", BATCH)
    whole, asked = watch_gold_reads(monkeypatch)
    system = CountingMajority(min_train="10")
    monkeypatch.setattr(base, "load_system", lambda name, options: system)
    out = tmp_path / "run.jsonl"
    argv = ["claimwire", "run", "stance-majority", "--release", str(release)]
    argv += ["--split", "test", "--out", str(out), "--batch-size", str(BATCH)]
    monkeypatch.setattr(sys, "argv", argv)
    from claimwire.cli import main

    before = _alive(StanceItem)  # any other test's still alive
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    tests = DOCUMENTS // 2
    assert len(system.alive) == tests // BATCH
    # before: the release's gold read whole at the first batch, and the 48 training pairs
    # held once trained
    assert whole == []
    assert asked and max(asked) <= BATCH, asked
    assert sum(asked) == DOCUMENTS  # each test batch, and the training split batch by batch
    held = [s - before for _, s in system.alive[1:]]
    assert max(held) == 0, held
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == tests  # one pair a test document, labelled as most training pairs
    assert {r["attributes"]["stance"] for r in records} == {"AGAINST"}


def test_gold_of_reads_what_the_release_holds_for_each_document(release: Path) -> None:
    from claimwire.corpus.release import open_release

    opened = open_release(release)
    context = RunContext.for_split(opened, "all", hold=False)
    every = list(opened.annotations())
    ids = [d.id for d in opened.documents()]
    asked = [ids[5], ids[2], "not-a-document", ids[5]]
    annotations, relations = context.gold_of(asked)
    expected = [a for d in (ids[5], ids[2]) for a in every if a.doc_id == d]
    assert annotations == expected and relations == []
    batch = [d for d in opened.documents() if d.id in (ids[7], ids[3])]
    found = {d.id: gold for d, gold in context.gold_by_document(batch)}
    assert found[ids[7]][0] == [a for a in every if a.doc_id == ids[7]]
    context.close()
