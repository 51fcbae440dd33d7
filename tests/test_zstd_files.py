"""zstd files cut short or far denser than records: a located error, never a shorter file
read in silence, never minutes and gigabytes spent on a small file."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
import zstandard

from claimwire.lines import ZSTD_RATIO

from .helpers import REPO, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
RUN = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"


def _check(path: Path) -> tuple[int, str]:
    result = run_cli("eval", "check", path, "--task", "claims", "--release", RELEASE)
    return result.returncode, result.stderr


@pytest.mark.parametrize("kept", [0.3, 0.6, 0.95])
def test_a_zstd_file_cut_short_is_named_not_read_as_a_shorter_one(
    tmp_path: Path, kept: float
) -> None:
    """Before: read to where it was cut and taken as the whole file ("the set is empty", or
    the last line "not valid JSON", or nothing said when the cut fell on a line end)."""
    compressed = zstandard.ZstdCompressor().compress(RUN.read_bytes() * 30)
    path = tmp_path / "run.jsonl.zst"
    path.write_bytes(compressed[: int(len(compressed) * kept)])
    # what libzstd's own reader gives of it, without a word: the lines before the cut
    readable = zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read()
    code, stderr = _check(path)
    assert code == 1 and one_error_line(stderr), stderr
    cut_at = readable.count(b"\n") + 1  # the line the stream breaks in
    assert f"{path}:{cut_at}: the zstd stream ends inside a frame: the file is cut short" in stderr


def test_a_zstd_file_with_garbage_after_its_frames_names_the_line_it_breaks_at(
    tmp_path: Path,
) -> None:
    lines = RUN.read_bytes()
    path = tmp_path / "run.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(lines) + b"not zstd" * 100)
    code, stderr = _check(path)
    assert code == 1 and one_error_line(stderr), stderr
    after_the_frames = lines.count(b"\n") + 1
    assert f"{path}:{after_the_frames}: not a valid zstd file" in stderr


def test_frames_one_after_another_are_read_whole(tmp_path: Path) -> None:
    """``cat a.zst b.zst`` is a valid zstd file: every frame is read, none taken as an end."""
    lines = RUN.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    path = tmp_path / "run.jsonl.zst"
    compressor = zstandard.ZstdCompressor()
    path.write_bytes(
        b"".join(compressor.compress(b"".join(p)) for p in (lines[:half], lines[half:]))
    )
    plain = tmp_path / "run.jsonl"
    plain.write_bytes(RUN.read_bytes())
    assert _check(path)[0] == 0
    read = run_cli(
        "convert", path, "--release", RELEASE, "--to", "doccano", "--out", tmp_path / "a"
    )
    again = run_cli(
        "convert", plain, "--release", RELEASE, "--to", "doccano", "--out", tmp_path / "b"
    )
    assert read.returncode == again.returncode == 0, read.stderr
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_a_zstd_bomb_is_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    """2 GB of blank lines after the records compress to ~60 KB: before, ``eval check`` spent
    minutes of CPU on them (and the release readers gigabytes of temporary disk)."""
    path = tmp_path / "run.jsonl.zst"
    with path.open("wb") as out:
        out.write(zstandard.ZstdCompressor().compress(RUN.read_bytes()))
        with zstandard.ZstdCompressor(level=19).stream_writer(out, closefd=False) as bomb:
            for _ in range(2048):
                bomb.write(b"\n" * (1 << 20))
    assert path.stat().st_size < 1 << 20
    start = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    code, stderr = _check(path)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - start < 30
    assert code == 1 and one_error_line(stderr), stderr
    assert f"expands more than {ZSTD_RATIO:,} times its compressed size" in stderr
