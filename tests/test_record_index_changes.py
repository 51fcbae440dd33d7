"""A record file changed while a :class:`RecordIndex` reads it back (a user rewriting
predictions during a long run): never records read silently from the wrong offsets. The
file held open is read as it was indexed; one rewritten in place is a located error, even
with its size and modification time kept; a change of metadata only is not refused."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from claimwire import grouping
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.eval import evaluate
from claimwire.eval.evaluate import Evaluation
from claimwire.grouping import RecordIndex

from .helpers import REPO, one_error_line, release_with_test_claims, run_cli

SRC = REPO / "src"


def _records(path: Path, documents: int = 4) -> Path:
    records = [
        {"id": f"a{d}-{k}", "doc_id": f"d{d}", "layer": "claims", "label": "CLAIM"}
        for d in range(documents)
        for k in range(3)
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", "utf-8")
    return path


def _rewrite_in_place(path: Path, old: bytes, new: bytes, keep_time: bool = True) -> None:
    """``old`` → ``new`` in the file itself (the same inode); its modification time set
    back to what it was when ``keep_time``."""
    noted = path.stat()
    time.sleep(0.05)  # past the clock tick of the file's change time
    data = path.read_bytes()
    with path.open("r+b") as handle:
        handle.write(data.replace(old, new))
    if keep_time:
        os.utime(path, ns=(noted.st_atime_ns, noted.st_mtime_ns))
    assert path.stat().st_ctime_ns != noted.st_ctime_ns


def _ids(rows: list[Any]) -> list[str]:
    return [record.id for _, _, record in rows]


def test_an_edit_in_place_that_keeps_size_and_time_is_refused(tmp_path: Path) -> None:
    """d1's and d2's records swap names, byte for byte: read at d1's offsets, they were
    d2's records, given as d1's."""
    path = _records(tmp_path / "p.jsonl")
    with RecordIndex([path]) as index:
        assert _ids(index.rows(["d0"])) == ["a0-0", "a0-1", "a0-2"]
        _rewrite_in_place(path, b'"d1"', b'"d9"')
        assert path.stat().st_size == len(path.read_bytes())
        with pytest.raises(ClaimwireError) as raised:
            index.rows(["d1"])
        assert str(raised.value) == (
            f"{path}: changed while this command was reading it: its bytes differ from when "
            "they were indexed (its size and modification time are the same): leave inputs "
            "as they are until the command ends, and rerun it"
        )
        with pytest.raises(ClaimwireError, match="changed while"):
            index.document_of("a2-0")


def test_an_edit_in_place_of_another_size_is_refused(tmp_path: Path) -> None:
    path = _records(tmp_path / "p.jsonl")
    with RecordIndex([path]) as index:
        _rewrite_in_place(path, b'"d1"', b'"d10"', keep_time=False)
        with pytest.raises(
            ClaimwireError, match=r"p\.jsonl(:\d+)?: changed while this command .*was"
        ):
            index.rows(["d3"])


def test_a_change_of_metadata_only_is_read_as_indexed(tmp_path: Path) -> None:
    """A permission and a hard link (a backup's ``cp -al``) move the change time alone: the
    bytes are verified once, and read."""
    path = _records(tmp_path / "p.jsonl")
    with RecordIndex([path]) as index:
        noted = path.stat()
        time.sleep(0.05)
        path.chmod(0o600)
        os.link(path, tmp_path / "backup.jsonl")
        assert path.stat().st_ctime_ns != noted.st_ctime_ns
        assert _ids(index.rows(["d1", "d2"])) == ["a1-0", "a1-1", "a1-2", "a2-0", "a2-1", "a2-2"]
        assert index.document_of("a3-1") == "d3"
        _rewrite_in_place(path, b'"d1"', b'"d9"')  # still seen after the verification
        with pytest.raises(ClaimwireError, match="changed while"):
            index.rows(["d1"])


def test_a_file_replaced_is_read_as_indexed_and_never_mixed_with_the_new_one(
    tmp_path: Path,
) -> None:
    """Another file put at its path (an editor's save): the records read back are the held
    file's, as indexed; what is read again from the path (the owners of annotations, on the
    first question about another batch) is the other file's, and refused."""
    path = _records(tmp_path / "p.jsonl")
    with RecordIndex([path]) as index:
        other = _records(tmp_path / "other.jsonl")
        other.write_bytes(path.read_bytes().replace(b'"a1-', b'"b1-'))
        other.replace(path)
        assert _ids(index.rows(["d1"])) == ["a1-0", "a1-1", "a1-2"]
        with pytest.raises(ClaimwireError) as raised:
            index.document_of("a2-0")
        assert str(raised.value).startswith(f"{path}: changed while this command was reading")
        assert "(read again from its path)" in str(raised.value)


def test_a_touched_file_is_verified_and_read_as_indexed(tmp_path: Path) -> None:
    """``touch`` moves the modification time alone: the bytes are verified, not refused."""
    path = _records(tmp_path / "p.jsonl")
    with RecordIndex([path]) as index:
        time.sleep(0.05)
        os.utime(path)
        assert _ids(index.rows(["d1"])) == ["a1-0", "a1-1", "a1-2"]
        _rewrite_in_place(path, b'"d2"', b'"d9"', keep_time=False)  # an edit is still seen
        with pytest.raises(ClaimwireError, match=r"bytes differ .*\(its size is the same\)"):
            index.rows(["d2"])


@pytest.mark.parametrize("after_scan", ["removed", "saved again"])
def test_a_file_removed_or_saved_again_while_indexed_is_read_as_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after_scan: str
) -> None:
    """The path no longer names the file held once the scan ends (removed, or the same
    bytes saved as a new file): the held file's bytes are the ones indexed, so it is read."""
    path = _records(tmp_path / "p.jsonl")
    scan = grouping.line_blocks

    def then_changed(source: Path) -> Any:
        yield from scan(source)
        data = source.read_bytes()
        source.unlink()
        if after_scan == "saved again":
            source.write_bytes(data)

    monkeypatch.setattr(grouping, "line_blocks", then_changed)
    with RecordIndex([path]) as index:
        assert _ids(index.rows(["d3"])) == ["a3-0", "a3-1", "a3-2"]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_with_test_claims(tmp_path_factory.mktemp("changes"), 12)


def test_predictions_rewritten_during_eval_score_are_an_error(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 4 documents; once the first batch's predictions are read, they are edited
    in place (size and time kept): the next batch's read refuses them, where it read the
    edited records. (In reverse order: read through the index, not as they come.)"""
    [claim] = open_release(release).annotations()
    path = tmp_path / "p.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for document in reversed(list(open_release(release).documents())):
            start, end = document.text.index("ses ventes"), document.text.index(" en 2024")
            moved = {"id": f"c-{document.id}", "doc_id": document.id, "start": start, "end": end}
            out.write(json.dumps({**claim.to_dict(), **moved, "quote": None}) + "\n")
    monkeypatch.setattr(evaluate, "BATCH_DOCUMENTS", 4)
    rows = RecordIndex.rows
    read: list[int] = []

    def rewritten_after_the_first(index: RecordIndex, doc_ids: Any) -> Any:
        if index.files == [path] and len(read) == 1:
            _rewrite_in_place(path, b'"quantity"', b'"QUANTITY"')
        read.append(len(doc_ids))
        return rows(index, doc_ids)

    monkeypatch.setattr(RecordIndex, "rows", rewritten_after_the_first)
    evaluation = Evaluation.open(release, "claims", split="all")
    with pytest.raises(ClaimwireError, match=r"p\.jsonl: changed while this command"):
        evaluation.check(path)
    assert read == [4, 4]


REWRITE_AFTER_INDEXING = '''
"""Imported at start-up: the file named by CLAIMWIRE_TEST_REWRITE is rewritten in place once
an index of it is built (a user editing it while the command runs)."""
import os
from pathlib import Path

from claimwire import grouping

target = Path(os.environ["CLAIMWIRE_TEST_REWRITE"])
built = grouping.RecordIndex.__init__


def rewritten_once_indexed(index, files, **options):
    built(index, files, **options)
    if target in files:
        data = target.read_bytes()
        with target.open("r+b") as handle:  # the first line longer: every later one moves
            handle.write(b"{ " + data[1:])


grouping.RecordIndex.__init__ = rewritten_once_indexed
'''


def test_a_release_rewritten_during_corpus_diff_is_a_located_error(
    release: Path, tmp_path: Path
) -> None:
    """The old release's annotations are rewritten in place once indexed: the documents'
    names read back from them (``document_batches``, before any batch) are one located
    error, exit 1 (before: msgspec's "Input data was truncated", an internal error, exit 2)."""
    old = tmp_path / "old"
    shutil.copytree(release, old)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(REWRITE_AFTER_INDEXING, "utf-8")
    target = old / "annotations.jsonl"
    env = {"PYTHONPATH": f"{SRC}{os.pathsep}{hook}", "CLAIMWIRE_TEST_REWRITE": str(target)}
    result = run_cli("corpus", "diff", old, release, env=env)
    assert result.returncode == 1, result.stderr
    assert one_error_line(result.stderr)
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: {target}:1: changed while this command was reading it (was ")
    )


def test_a_batch_read_back_checks_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``fstat`` per file a batch, whatever its runs (before: one per run, and two per
    file to find the runs)."""
    files = [_records(tmp_path / "a.jsonl", 8), _records(tmp_path / "b.jsonl", 8)]
    files[1].write_bytes(files[1].read_bytes().replace(b'"a', b'"b'))  # ids of its own
    with RecordIndex(files) as index:
        calls: list[int] = []
        fstat = os.fstat

        def counted(handle: int) -> os.stat_result:
            calls.append(handle)
            return fstat(handle)

        monkeypatch.setattr(grouping.os, "fstat", counted)
        assert len(index.rows(["d0", "d2", "d4", "d6"])) == 24
        assert len(calls) == 2
        calls.clear()
        assert index.rows(["nothing"]) == [] and len(calls) == 2
        calls.clear()
        assert list(index.document_batches(4)) == [
            [f"d{d}" for d in range(4)],
            ["d4", "d5", "d6", "d7"],
        ]
        assert len(calls) == 4
