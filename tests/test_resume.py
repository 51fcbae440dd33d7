"""A run's ``.done`` file after faults: a torn last line, offsets the output contradicts."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from claimwire.corpus.release import Release, open_release
from claimwire.errors import ClaimwireError
from claimwire.systems.base import DONE_SUFFIX, RunContext, run_system
from claimwire.systems.rules import RulesSystem

from .helpers import figures_release, run_cli
from .terminated import terminated


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """Six documents, each with a figure the rules system finds."""
    return open_release(figures_release(tmp_path_factory.mktemp("resume")))


def _run(out: Path) -> None:
    release = open_release(out.parent / "release")
    run_system(RulesSystem(), RunContext.for_split(release, "all"), out, reproducible=True)


@pytest.fixture
def finished(tmp_path: Path, release: Release) -> tuple[Path, bytes, bytes]:
    """A complete run: its output and its ``.done`` file."""
    (tmp_path / "release").symlink_to(release.path)
    out = tmp_path / "run.jsonl"
    _run(out)
    done = out.with_name(out.name + DONE_SUFFIX)
    assert len(done.read_text().splitlines()) > 3
    return out, out.read_bytes(), done.read_bytes()


def test_a_torn_last_line_of_done_loses_nothing(finished: tuple[Path, bytes, bytes]) -> None:
    """A kill while the last ``DOC<TAB>OFFSET`` line was written leaves ``DOC<TAB>1``: the
    document is not finished. Before: it counted as finished at offset 1, the output was cut
    at the previous document and its records were lost."""
    out, full, done_bytes = finished
    done = out.with_name(out.name + DONE_SUFFIX)
    lines = done_bytes.decode().splitlines()
    doc_id, offset = lines[-1].split("\t")
    assert len(offset) > 1 and full.endswith(b"\n")
    done.write_text("\n".join(lines[:-1]) + f"\n{doc_id}\t{offset[0]}", encoding="utf-8")
    _run(out)
    assert out.read_bytes() == full
    assert done.read_bytes() == done_bytes  # the torn piece is gone, not glued to a new line


def test_an_offset_past_the_end_is_an_error_not_a_huge_file(
    finished: tuple[Path, bytes, bytes],
) -> None:
    """Before: ``truncate(offset)`` grew the output to the offset (a sparse file of any size)."""
    out, full, done_bytes = finished
    done = out.with_name(out.name + DONE_SUFFIX)
    lines = done_bytes.decode().splitlines()
    doc_id, _ = lines[-1].split("\t")
    done.write_text("\n".join([*lines[:-1], f"{doc_id}\t{50 * 2**30}"]) + "\n", encoding="utf-8")
    with pytest.raises(ClaimwireError, match=r"past the end of run\.jsonl") as error:
        _run(out)
    assert error.value.line == len(lines) and error.value.file == str(done)
    assert out.read_bytes() == full


@pytest.mark.parametrize("line", ["no tab here", "doc\tabc", "doc\t-5", "doc\t0"])
def test_a_malformed_or_backward_line_is_located(
    finished: tuple[Path, bytes, bytes], line: str
) -> None:
    out, full, done_bytes = finished
    done = out.with_name(out.name + DONE_SUFFIX)
    done.write_bytes(done_bytes + line.encode() + b"\n")
    with pytest.raises(ClaimwireError) as error:
        _run(out)
    assert error.value.line == len(done_bytes.splitlines()) + 1
    assert out.read_bytes() == full


def _run_streamed(out: Path) -> None:
    """The run with the split's documents read from the release as batches go."""
    release = open_release(out.parent / "release")
    context = RunContext.for_split(release, "all", hold=False)
    run_system(RulesSystem(), context, out, reproducible=True)


@pytest.mark.parametrize("runs", [_run, _run_streamed], ids=["held", "streamed"])
def test_an_offset_inside_a_record_is_located(
    finished: tuple[Path, bytes, bytes], runs: Callable[[Path], None]
) -> None:
    """Before: the output was cut inside its first record and the run appended to it
    (``{"id"{"id": …``): exit 0, a file that is not JSONL."""
    out, full, done_bytes = finished
    done = out.with_name(out.name + DONE_SUFFIX)
    first = done_bytes.decode().splitlines()[0].split("\t")[0]
    done.write_bytes(f"{first}\t5\n".encode())
    with pytest.raises(ClaimwireError, match=r"offset 5 is not the start of a line") as error:
        runs(out)
    assert error.value.line == 1 and error.value.file == str(done)
    assert out.read_bytes() == full and done.read_bytes() == f"{first}\t5\n".encode()


@pytest.mark.parametrize("runs", [_run, _run_streamed], ids=["held", "streamed"])
@pytest.mark.parametrize("second", ["not in the split", "the split's third"])
def test_a_document_out_of_the_splits_order_is_located(
    finished: tuple[Path, bytes, bytes], runs: Callable[[Path], None], second: str
) -> None:
    """A run finishes the split's documents in order: line i of ``.done`` names the split's
    i-th. Before: a document the split does not have counted as finished in silence, and a
    ``.done`` that skipped one (its line lost or edited out) was taken as it was: the skipped
    document ran last and the resumed output was no longer the uninterrupted run's."""
    out, full, done_bytes = finished
    done = out.with_name(out.name + DONE_SUFFIX)
    lines = done_bytes.decode().splitlines()
    _, offset = lines[1].split("\t")
    line = f"not-a-document\t{offset}" if second == "not in the split" else lines[2]
    named = line.split("\t")[0]
    done.write_text(f"{lines[0]}\n{line}\n", encoding="utf-8")
    with pytest.raises(ClaimwireError, match=rf"document '{named}' is not the split's document 2"):
        runs(out)
    assert out.read_bytes() == full


@pytest.mark.parametrize("runs", [_run, _run_streamed], ids=["held", "streamed"])
def test_a_run_cut_after_some_documents_resumes_whole(
    finished: tuple[Path, bytes, bytes], runs: Callable[[Path], None]
) -> None:
    out, full, done_bytes = finished
    done = out.with_name(out.name + DONE_SUFFIX)
    lines = done_bytes.decode().splitlines()
    done.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    runs(out)
    assert out.read_bytes() == full and done.read_bytes() == done_bytes


@pytest.mark.parametrize("block", [1, 3, 64])
def test_offsets_are_checked_across_read_blocks(
    finished: tuple[Path, bytes, bytes], monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """The output is read a block at a time to check each offset: with blocks smaller than
    a record, every line start is still found and a record's inside still refused."""
    monkeypatch.setattr("claimwire.systems.base._BlockReader.BLOCK", block)
    out, full, done_bytes = finished
    done = out.with_name(out.name + DONE_SUFFIX)
    lines = done_bytes.decode().splitlines()
    done.write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    _run(out)
    assert out.read_bytes() == full and done.read_bytes() == done_bytes
    doc_id, offset = lines[3].split("\t")
    inside = int(offset) + 2
    done.write_text("\n".join([*lines[:3], f"{doc_id}\t{inside}"]) + "\n", encoding="utf-8")
    with pytest.raises(ClaimwireError, match=rf"offset {inside} is not the start of a line"):
        _run(out)


def test_a_removed_output_starts_afresh_with_its_done_file(
    finished: tuple[Path, bytes, bytes],
) -> None:
    """Before: the run started afresh but appended to the ``.done`` file left beside the
    removed output (two runs' lines; the next resume was refused)."""
    out, full, done_bytes = finished
    out.unlink()
    _run(out)
    assert out.read_bytes() == full
    assert out.with_name(out.name + DONE_SUFFIX).read_bytes() == done_bytes


def test_a_second_run_into_the_same_output_is_refused_while_the_first_runs(
    finished: tuple[Path, bytes, bytes], tmp_path: Path
) -> None:
    """Before: both ran, both appended (duplicate records, a ``.done`` the next resume
    refused) and both exited 0."""
    out, full, _ = finished
    release = out.parent / "release"
    args = ["run", "rules", "--release", release, "--split", "all", "--out", out, "--overwrite"]

    def paused() -> None:  # the first run holds the output, here, before it reads anything
        second = run_cli(*args)
        assert second.returncode == 1, second.stderr
        assert f"{out}: another claimwire process is writing here" in second.stderr
        assert "Traceback" not in second.stderr

    pause_at = tmp_path / "pause"
    pause_at.mkdir()
    # `run` needs no clean exit: whatever ends it, the next run resumes
    terminated(args, pause_at, "claimwire.systems.base:_completed", paused, code=-signal.SIGTERM)
    _run(out)  # resumed by the next run, once the first is gone
    assert out.read_bytes() == full
