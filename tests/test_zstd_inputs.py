"""A ``.jsonl.zst`` raw input is read as the plain ``.jsonl`` it holds, decompressed as it is
read (memory flat in its size, no temporary copy): the same documents, line limits and
located errors (file and line); a file that is not zstd, corrupt or cut short is one line
naming it. Before, the build left such a file out ("left out 1 file it does not read:
feed.jsonl.zst")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from claimwire.corpus.ingest import RawFiles, read_raw
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.files import sha256
from claimwire.lines import DOCUMENT_LINE

from .helpers import REPO, one_error_line, run_cli

LINES = [
    json.dumps({"id": f"A-{i}", "text": f"Release {i}\n\nAcme said sales rose {i}% in 2024."})
    for i in range(12)
]


def _raw(folder: Path, lines: list[str], name: str = "feed.jsonl.zst") -> Path:
    folder.mkdir(parents=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    compressed = name.lower().endswith(".zst")
    (folder / name).write_bytes(zstandard.ZstdCompressor().compress(data) if compressed else data)
    return folder


def _build(raw: Path, out: Path) -> tuple[int, str]:
    result = run_cli("corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", out)
    return result.returncode, result.stderr


def test_a_zstd_input_gives_the_documents_of_its_plain_file(tmp_path: Path) -> None:
    plain, packed = _raw(tmp_path / "plain", LINES, "feed.jsonl"), _raw(tmp_path / "zst", LINES)
    for raw in (plain, packed):
        code, stderr = _build(raw, tmp_path / f"out-{raw.name}")
        assert code == 0 and stderr == "", stderr
    read = {
        name: [d.to_dict() for d in open_release(tmp_path / name / "0.1.0").documents()]
        for name in ("out-plain", "out-zst")
    }
    assert len(read["out-zst"]) == len(LINES)
    for document in read["out-zst"]:
        assert document["meta"]["source_file"] == "feed.jsonl.zst"
        assert document["meta"]["source_sha256"] == sha256(packed / "feed.jsonl.zst")
        document["meta"]["source_file"] = "feed.jsonl"
        document["meta"]["source_sha256"] = None
    for document in read["out-plain"]:
        document["meta"]["source_sha256"] = None
    assert read["out-zst"] == read["out-plain"]


def _two_frames_the_second_cut(data: bytes) -> bytes:
    frame = zstandard.ZstdCompressor().compress(data)
    return frame + frame[: len(frame) // 2]


@pytest.mark.parametrize(
    ("fault", "line", "said"),
    [
        ("cut short", 1, "the zstd stream ends inside a frame: the file is cut short"),
        ("cut in its second frame", 13, "the zstd stream ends inside a frame"),
        ("corrupt", 1, "not a valid zstd file (zstd decompressor error: Data corruption"),
        ("not zstd", 1, "not a valid zstd file (zstd decompressor error: Unknown frame"),
    ],
)
def test_a_broken_zstd_input_is_one_line_naming_it(
    tmp_path: Path, fault: str, line: int, said: str
) -> None:
    raw = _raw(tmp_path / "raw", LINES)
    data = (raw / "feed.jsonl.zst").read_bytes()
    plain = ("\n".join(LINES) + "\n").encode("utf-8")
    broken = {
        "cut short": data[: len(data) // 2],
        "cut in its second frame": _two_frames_the_second_cut(plain),
        "corrupt": data[:20] + b"\x00garbage" * 20 + data[-8:],
        "not zstd": b"plain text\n",
    }[fault]
    (raw / "feed.jsonl.zst").write_bytes(broken)
    code, stderr = _build(raw, tmp_path / "out")
    assert code == 1 and one_error_line(stderr), stderr
    assert f"{raw / 'feed.jsonl.zst'}:{line}: {said}" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("line", "said"),
    [(b'{"text": "x", broken', "not valid JSON"), (b'{"text": "\xff"}', "not valid UTF-8")],
    ids=["bad JSON", "bad UTF-8"],
)
def test_a_bad_line_is_named_by_the_zstd_input_and_its_line(
    tmp_path: Path, line: bytes, said: str
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    data = b"\n".join([*(s.encode("utf-8") for s in LINES[:2]), b"", line, b"{}"])
    (raw / "feed.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    code, stderr = _build(raw, tmp_path / "out")
    assert code == 1 and one_error_line(stderr), stderr
    assert f"{raw / 'feed.jsonl.zst'}:4: {said}" in stderr


def test_a_line_over_the_document_limit_is_refused_at_its_line(tmp_path: Path) -> None:
    long = json.dumps({"text": "Acme " + "a" * DOCUMENT_LINE.bytes})
    raw = _raw(tmp_path / "raw", [LINES[0], long])
    with pytest.raises(ClaimwireError) as refused:
        list(read_raw(raw / "feed.jsonl.zst", raw))
    assert str(refused.value).startswith(
        f"{raw / 'feed.jsonl.zst'}:2: a line longer than {DOCUMENT_LINE.bytes:,} bytes"
    )


def test_a_zstd_bomb_is_refused_at_its_line(tmp_path: Path) -> None:
    """40 MiB of blank lines in a few KB: refused past 1,000 times its size (after 16 MiB)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "feed.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(b"\n" * (40 << 20)))
    with pytest.raises(ClaimwireError) as refused:
        list(read_raw(raw / "feed.jsonl.zst", raw))
    assert "expands more than 1,000 times its compressed size" in str(refused.value)
    assert str(refused.value).startswith(f"{raw / 'feed.jsonl.zst'}:")


def test_a_zstd_name_in_capitals_is_read_as_zstd(tmp_path: Path) -> None:
    """A zstd input is known by its suffix in any case: ``FEED.JSONL.ZST`` is read as
    ``feed.jsonl.zst`` is (before: refused, "its name must end in .zst in lower case")."""
    for name in ("FEED.JSONL.ZST", "FEED.JSONL.zst", "feed.jsonl.Zst"):
        raw = _raw(tmp_path / name, LINES, name)
        assert len(list(read_raw(raw / name, raw))) == len(LINES)
        assert _build(raw, tmp_path / f"out-{name}") == (0, "")


def test_a_zstd_input_is_one_piece_read_from_its_start(tmp_path: Path) -> None:
    """The engine's pieces: a compressed input is not cut into ranges of lines (each would
    decompress from the start), it is one piece, its lines numbered in the file."""
    raw = _raw(tmp_path / "raw", LINES)
    (piece,) = RawFiles(raw, ((0, raw / "feed.jsonl.zst"),)).pieces(5)
    read = [(index, doc.source_line, doc.source_id) for index, doc in piece]  # type: ignore[union-attr]
    assert read == [(0, i + 1, f"A-{i}") for i in range(len(LINES))]


def test_a_large_zstd_input_is_read_in_memory_flat_in_its_size(tmp_path: Path) -> None:
    """64 MB of documents (hexadecimal noise: it compresses about twice) read by a child
    process: the peak stays near the interpreter's, under the plain bytes (a 200 MB input
    peaked at 40 MB, as the plain .jsonl does: docs/security.md)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    noise = os.urandom(32 << 20).hex()
    step = 64 << 10
    lines = (
        json.dumps({"text": "Acme " + noise[i : i + step]}) for i in range(0, len(noise), step)
    )
    with zstandard.ZstdCompressor(level=1).stream_writer((raw / "feed.jsonl.zst").open("wb")) as w:
        for line in lines:
            w.write(line.encode("ascii") + b"\n")
    del noise
    read = (
        "import sys; from pathlib import Path; from claimwire.corpus.ingest import read_raw; "
        "raw = Path(sys.argv[1]); print(sum(1 for _ in read_raw(raw / 'feed.jsonl.zst', raw)))"
    )
    measure = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(done.stdout.strip(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
        "repr(done.stderr))"
    )
    done = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-c", read, str(raw)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    documents, peak_kb, stderr = done.stdout.split(" ", 2)
    assert documents == str((64 << 20) // step), stderr
    assert int(peak_kb) < 80_000, peak_kb  # about 40 MB: the interpreter and its modules
