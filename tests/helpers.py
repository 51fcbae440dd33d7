"""Paths and a CLI runner shared by the tests."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claimwire.corpus.release import Sharding, build_release
from claimwire.model import Annotation, Document, Quote, Relation

REPO = Path(__file__).resolve().parent.parent
SEED_RAW = REPO / "corpus" / "raw"
DATA = Path(__file__).resolve().parent / "data"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> CliResult:
    """Run ``python -m claimwire ARGS`` as a user would, in a real process (``env``: more
    variables it sees; ``timeout``: seconds before it is killed, a failed test)."""
    completed = subprocess.run(
        [sys.executable, "-m", "claimwire", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={
            "COLUMNS": "200",
            "PATH": "/usr/bin:/bin",
            "NO_COLOR": "1",
            "PYTHONPATH": str(REPO / "src"),  # this checkout's code, not an installed copy
            **{k: v for k, v in os.environ.items() if k.startswith("LABEL_STUDIO_")},
            **(env or {}),
        },
        check=False,
        timeout=timeout,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def cli_peak(*args: str | Path, cwd: Path | None = None) -> tuple[int, int, str]:
    """Run ``python -m claimwire ARGS`` under a parent that measures it: its exit code, its
    peak RSS in KB (``getrusage`` of the child) and its stderr."""
    measure = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "print(done.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-m", "claimwire", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    first, stderr = done.stdout.split("\n", 1)
    status, peak_kb = map(int, first.split())
    return status, peak_kb, stderr


def canonical(annotations: list[Annotation], relations: list[Relation]) -> tuple[set, set]:  # type: ignore[type-arg]
    """What an annotation set says, independent of its ids."""
    by_id = {a.id: a for a in annotations}

    def name(ann_id: Any) -> Any:
        a = by_id.get(str(ann_id))
        return (a.label, a.start, a.end) if a is not None else ann_id

    items = set()
    for a in annotations:
        attributes = {k: name(v) if k == "holder" else v for k, v in a.attributes.items()}
        items.add((a.label, a.start, a.end, json.dumps(attributes, sort_keys=True, default=str)))
    links = {
        (
            r.type,
            name(r.head),
            name(r.tail),
            json.dumps(
                {k: name(v) if k == "cue" else v for k, v in r.attributes.items()},
                sort_keys=True,
                default=str,
            ),
        )
        for r in relations
    }
    return items, links


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """``folder``, made here, with a tmpfs of ``size`` (``300k``, ``1m``) mounted on it while
    the block runs: a small disk to fill. Skips the test where mounting is not allowed."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", folder],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("needs a tmpfs (root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", folder], check=False)


def make_project(root: Path) -> Path:
    """An empty claimwire project in ``root`` (what commands look for above the cwd)."""
    for folder in ("corpus", "annotation", "eval"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "claimwire.toml").write_text(f'name = "{root.name}"\n', encoding="utf-8")
    return root


def one_error_line(stderr: str) -> bool:
    """stderr holds exactly one error, on one line (notes such as the release used may precede
    it), and no traceback."""
    lines = stderr.strip().splitlines()
    return (
        "Traceback" not in stderr
        and len([line for line in lines if line.startswith("error:")]) == 1
        and lines[-1].startswith("error:")
    )


CLAIM_SENTENCE = "La société affirme que ses ventes ont progressé de 12 % en 2024."


def release_with_test_claims(
    root: Path, documents: int, *, claimed: str = "test", sharding: Sharding | None = None
) -> Path:
    """Release 0.1.0 of ``documents`` short releases in the splits their ids give them, with a
    CLAIM on each test document only (train and dev are left unannotated; ``claimed="all"``:
    on every document), its files written as ``sharding`` says."""
    raw = root / "raw"
    raw.mkdir()
    for i in range(documents):
        text = f"Communiqué numéro {i}.\n\n{CLAIM_SENTENCE}\n"
        (raw / f"doc{i:02}.txt").write_text(text, "utf-8")

    def gold(docs: list[Document]) -> list[Annotation]:
        claims = []
        for doc in docs:
            if claimed in ("all", doc.split):
                start, end = doc.text.index("ses ventes"), doc.text.index(" en 2024")
                quote = Quote.from_text(doc.text, start, end)
                attributes = {"claim_type": "quantity", "checkworthy": True}
                claims.append(
                    Annotation(
                        f"c-{doc.id}", doc.id, "claims", "CLAIM", start, end, quote, attributes
                    )
                )
        return claims

    build_release(raw, root / "releases", "0.1.0", gold=gold, sharding=sharding)
    return root / "releases" / "0.1.0"


def watch_gold_reads(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[int]]:
    """Watch how gold is read: the names of whole reads of a release's annotations or
    relations (which then read nothing), and how many documents each ``GoldReader.of`` call
    asks for. Records are not tracked by the collector: what is read is watched, not what
    lives."""
    from claimwire.corpus.gold_reader import GoldReader
    from claimwire.corpus.release import Release

    whole: list[str] = []
    for name in ("annotations", "relations"):
        monkeypatch.setattr(Release, name, lambda self, name=name: whole.append(name) or iter(()))
    asked: list[int] = []
    read_gold = GoldReader.of

    def of(self: GoldReader, doc_ids: Any) -> Any:
        asked.append(len(doc_ids))
        return read_gold(self, doc_ids)

    monkeypatch.setattr(GoldReader, "of", of)
    return whole, asked


def watch_checks(monkeypatch: pytest.MonkeyPatch, *modules: Any) -> list[list[str]]:
    """The document of each row of each ``check_rows`` call that ``modules`` make (each
    module's own name for the checker), a list per call, in call order."""
    from claimwire.eval.checker import check_rows

    calls: list[list[str]] = []

    def watched(path: Path, rows: list[Any], *args: Any, **kwargs: Any) -> Any:
        calls.append([row[2].doc_id for row in rows])
        return check_rows(path, rows, *args, **kwargs)

    for module in modules:
        monkeypatch.setattr(module, "check_rows", watched)
    return calls


def watch_document_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A one-item list counting the documents read from releases so far (through
    ``release.read_records``), for a test to note how far reading ran ahead of writing."""
    from claimwire.corpus import release

    read = [0]
    read_records = release.read_records

    def counted(path: Path, kind: type[Any]) -> Any:
        for record in read_records(path, kind):
            read[0] += kind is Document
            yield record

    monkeypatch.setattr(release, "read_records", counted)
    return read


def figures_release(root: Path) -> Path:
    """Release 0.1.0 (under ``root``) of six documents, each with a figure the rules system
    finds: a run writes a few records a document."""
    (root / "raw").mkdir()
    (root / "raw" / "docs.jsonl").write_text(
        "".join(
            json.dumps({"text": f"Document {i}. Selon l’Insee, le PIB a augmenté de {i},5 %."})
            + "\n"
            for i in range(1, 7)
        ),
        encoding="utf-8",
    )
    build_release(root / "raw", root / "releases", "0.1.0")
    return root / "releases" / "0.1.0"
