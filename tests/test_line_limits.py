"""A record line is bounded: one over its limit is refused with its file, line and the
limit as soon as that much of it is read, plainly or through zstd, so memory never holds a
hostile line whole (a 320 MB line cost 1.7–2.7 GB; a 30 KB zstd shard 1.3 GB). A corrupt
zstd shard, or one whose frame asks for a huge window, is one located line too."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.errors import ClaimwireError
from claimwire.lines import DOCUMENT_LINE, RECORD_LINE, LineLimit, line_blocks
from claimwire.model import (
    Annotation,
    Document,
    iter_json_lines,
    read_mixed,
    read_records,
    write_records,
)

from .helpers import REPO, cli_peak, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
RUN = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
SAYS = f"a line longer than {RECORD_LINE.bytes:,} bytes, the most a record line may hold"


def _huge_line(size: int) -> bytes:
    """A prediction line of about ``size`` bytes (one attribute value holds them)."""
    record = json.loads(RUN.read_text(encoding="utf-8").splitlines()[0])
    record["id"] = "huge"
    record["attributes"] = {"note": ""}
    line = json.dumps(record)
    return line.replace('"note": ""', '"note": "' + "x" * (size - len(line)) + '"').encode()


def _run_with_huge_second_line(folder: Path, size: int, name: str = "run.jsonl") -> Path:
    first = RUN.read_bytes().splitlines(keepends=True)[0]
    data = first + _huge_line(size) + b"\n"
    path = folder / name
    if name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["eval", "check", "{run}", "--task", "attribution"],
        ["annotate", "agree", "{run}", str(RUN)],
        ["convert", "{run}", "--to", "doccano", "--out", "{out}"],
    ],
    ids=["eval check", "annotate agree", "convert"],
)
def test_a_record_line_over_the_limit_is_one_located_error(
    command: list[str], tmp_path: Path
) -> None:
    run = _run_with_huge_second_line(tmp_path, RECORD_LINE.bytes + 2)
    args = [part.format(run=run, out=tmp_path / "out.jsonl") for part in command]
    result = run_cli(*args, "--release", RELEASE, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert one_error_line(result.stderr), result.stderr
    assert f"{run.name}:2: {SAYS}" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_a_huge_line_in_a_zstd_file_is_refused_with_memory_bounded(tmp_path: Path) -> None:
    """100 MB of one line in a shard of a few KB: refused after its first MiB, decompressed
    a block at a time (it peaked at 5 times the line)."""
    run = _run_with_huge_second_line(tmp_path, 100 << 20, "run.jsonl.zst")
    assert run.stat().st_size < 100_000
    status, peak_kb, stderr = cli_peak(
        "eval", "check", run, "--task", "claims", "--release", RELEASE, cwd=tmp_path
    )
    assert status == 1, stderr
    assert f"{run.name}:2: {SAYS}" in stderr
    assert peak_kb < 160_000, peak_kb  # about 60 MB: the interpreter and its modules


@pytest.mark.parametrize("suffix", ["", ".zst"])
def test_a_line_of_the_limit_is_read_and_one_byte_more_is_not(tmp_path: Path, suffix: str) -> None:
    lines = [b"{}"] * 1000 + [b"y" * RECORD_LINE.bytes, b"{}", b"z" * (RECORD_LINE.bytes + 1)]
    data = b"\n".join(lines)
    path = tmp_path / f"set.jsonl{suffix}"
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if suffix else data)
    read = b""
    with pytest.raises(ClaimwireError) as caught:
        for _, chunk in line_blocks(path):
            read += chunk
    assert read == b"\n".join(lines[:-1]) + b"\n"
    assert str(caught.value).startswith(f"{path}:1003: {SAYS}")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=1, max_size=30),
    st.integers(1, 30),
    st.booleans(),
)
def test_the_first_line_over_any_limit_is_named(
    lengths: list[int], limit: int, final_break: bool
) -> None:
    """Whatever the limit (also under the block size), every line up to it is read as it
    is, and the first line past it is named by its number."""
    lines = [bytes([97 + i % 26]) * n for i, n in enumerate(lengths)]
    data = b"\n".join(lines) + (b"\n" if final_break else b"")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "set.jsonl"
        path.write_bytes(data)
        over = [i for i, n in enumerate(lengths) if n > limit]
        blocks = line_blocks(path, limit=LineLimit(limit, "record"))
        if not over:
            assert b"".join(chunk for _, chunk in blocks) == data
            return
        with pytest.raises(ClaimwireError) as caught:
            list(blocks)
        assert caught.value.line == over[0] + 1


def test_a_document_line_has_its_own_larger_limit(tmp_path: Path) -> None:
    text = "Texte. " * (RECORD_LINE.bytes // 7 + 1000)  # over a record line's limit
    document = Document("d", text, "fr", "test", ((0, len(text)),), ((0, len(text)),))
    path = tmp_path / "documents.jsonl"
    write_records(path, [document])
    assert list(read_records(path, Document)) == [document]
    assert [obj["id"] for _, obj in iter_json_lines(path)] == ["d"]  # a raw input's lines
    with pytest.raises(ClaimwireError, match=SAYS):
        list(iter_json_lines(path, records=True))
    note = Annotation("a", "d", "claims", "CLAIM", attributes={"note": text})
    notes = tmp_path / "annotations.jsonl"
    write_records(notes, [note])
    for read in (lambda: list(read_records(notes, Annotation)), lambda: list(read_mixed(notes))):
        with pytest.raises(ClaimwireError, match=f"{notes}:1: {SAYS}"):
            read()
    assert DOCUMENT_LINE.bytes > RECORD_LINE.bytes


def _zstd_cases(tmp: Path) -> list[tuple[Path, str]]:
    data = RUN.read_bytes() * 20
    compressed = zstandard.ZstdCompressor().compress(data)
    corrupt = tmp / "corrupt.jsonl.zst"
    middle = len(compressed) // 2
    corrupt.write_bytes(compressed[:middle] + bytes(200) + compressed[middle + 200 :])
    greedy = tmp / "greedy.jsonl.zst"  # a frame asking for a 128 MiB window (zstd --long)
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=27)
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(
        greedy.open("wb")
    ) as out:
        out.write(data)  # streamed: the frame names its window, not its size
    return [(corrupt, "not a valid zstd file"), (greedy, "asks for a window over 8 MiB")]


def test_a_corrupt_or_greedy_zstd_file_is_one_located_error(tmp_path: Path) -> None:
    for path, says in _zstd_cases(tmp_path):
        result = run_cli("eval", "check", path, "--task", "claims", "--release", RELEASE)
        assert result.returncode == 1, result.stderr
        assert one_error_line(result.stderr), result.stderr
        assert f"{path}:" in result.stderr
        assert says in result.stderr
