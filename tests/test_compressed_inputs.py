"""A compressed raw input (``.jsonl.gz``, ``.jsonl.zst``) is read as the plain ``.jsonl`` it
holds: the same documents, line limits and located errors (file and line); a file that is not
of its kind, corrupt or cut short is one line naming it; a bomb is refused once it expands
past its bound; nothing is left in the temporary folder. Before, the build left such a file
out ("left out 1 file it does not read: feed.jsonl.gz"). Each test runs for both codecs
unless it is about one of them (both are decompressed as they are read, with no copy)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import zstandard

from claimwire import lines
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
PLAIN = ("\n".join(LINES) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Codec:
    """A compression raw inputs may come in, and how its reader names a broken file."""

    suffix: str
    compress: Callable[[bytes], bytes]
    broken: dict[str, tuple[Callable[[bytes], bytes], int | None, str]]
    """A fault's name → (the file made of a good one, the line named or None, what is said)."""


def _two_frames_the_second_cut(_: bytes) -> bytes:
    frame = zstandard.ZstdCompressor().compress(PLAIN)
    return frame + frame[: len(frame) // 2]


GZIP = Codec(
    ".gz",
    gzip.compress,
    {
        "cut short": (
            lambda data: data[: len(data) // 2],
            1,
            "the gzip stream ends early: the file is cut short",
        ),
        "corrupt": (
            lambda data: data[:30] + b"\x00garbage" * 20 + data[-8:],
            1,
            "not a valid gzip file (Error -3 while decompressing data",
        ),
        "not of its kind": (
            lambda _: b"plain text\n",
            1,
            "not a valid gzip file (Not a gzipped file",
        ),
    },
)
ZSTD = Codec(
    ".zst",
    zstandard.ZstdCompressor().compress,
    {
        "cut short": (
            lambda data: data[: len(data) // 2],
            1,
            "the zstd stream ends inside a frame: the file is cut short",
        ),
        "cut in its second frame": (
            _two_frames_the_second_cut,
            13,
            "the zstd stream ends inside a frame",
        ),
        "corrupt": (
            lambda data: data[:20] + b"\x00garbage" * 20 + data[-8:],
            1,
            "not a valid zstd file (zstd decompressor error: Data corruption",
        ),
        "not of its kind": (
            lambda _: b"plain text\n",
            1,
            "not a valid zstd file (zstd decompressor error: Unknown frame",
        ),
    },
)
CODECS = [pytest.param(GZIP, id="gzip"), pytest.param(ZSTD, id="zstd")]


def _raw(folder: Path, data: bytes, name: str) -> Path:
    """A raw folder holding one input called ``name``: ``data``, compressed as its name says."""
    folder.mkdir(parents=True)
    codec = next((c for c in (GZIP, ZSTD) if name.lower().endswith(c.suffix)), None)
    (folder / name).write_bytes(codec.compress(data) if codec else data)
    return folder


def _build(raw: Path, out: Path, tmp: Path) -> tuple[int, str]:
    """Build ``raw`` into ``out`` with ``tmp`` as the temporary folder: exit code, stderr."""
    tmp.mkdir(exist_ok=True)
    result = run_cli(  # outside a project: its English lines keep the language detected
        "corpus",
        "build",
        "--version",
        "0.1.0",
        "--raw",
        raw,
        "--out",
        out,
        cwd=tmp.parent,
        env={"TMPDIR": tmp},
    )
    assert list(tmp.iterdir()) == []  # a plain copy, if one was made, is removed
    return result.returncode, result.stderr


@pytest.mark.parametrize("codec", CODECS)
def test_a_compressed_input_gives_the_documents_of_its_plain_file(
    tmp_path: Path, codec: Codec
) -> None:
    name = f"feed.jsonl{codec.suffix}"
    plain, packed = _raw(tmp_path / "plain", PLAIN, "feed.jsonl"), _raw(tmp_path / "c", PLAIN, name)
    for raw in (plain, packed):
        code, stderr = _build(raw, tmp_path / f"out-{raw.name}", tmp_path / "tmp")
        assert code == 0 and stderr == "", stderr
    read = {
        folder: [d.to_dict() for d in open_release(tmp_path / folder / "0.1.0").documents()]
        for folder in ("out-plain", "out-c")
    }
    assert len(read["out-c"]) == len(LINES)
    for document in read["out-c"]:
        assert document["meta"]["source_file"] == name
        assert document["meta"]["source_sha256"] == sha256(packed / name)
        document["meta"]["source_file"] = "feed.jsonl"
        document["meta"]["source_sha256"] = None
    for document in read["out-plain"]:
        document["meta"]["source_sha256"] = None
    assert read["out-c"] == read["out-plain"]


@pytest.mark.parametrize(
    ("codec", "fault"),
    [pytest.param(GZIP, fault, id=f"gzip {fault}") for fault in GZIP.broken]
    + [pytest.param(ZSTD, fault, id=f"zstd {fault}") for fault in ZSTD.broken],
)
def test_a_broken_compressed_input_is_one_line_naming_it(
    tmp_path: Path, codec: Codec, fault: str
) -> None:
    name = f"feed.jsonl{codec.suffix}"
    raw = _raw(tmp_path / "raw", PLAIN, name)
    broken, line, said = codec.broken[fault]
    (raw / name).write_bytes(broken((raw / name).read_bytes()))
    code, stderr = _build(raw, tmp_path / "out", tmp_path / "tmp")
    assert code == 1 and one_error_line(stderr), stderr
    where = f"{raw / name}:{line}" if line is not None else f"{raw / name}"
    assert f"{where}: {said}" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    ("line", "said"),
    [(b'{"text": "x", broken', "not valid JSON"), (b'{"text": "\xff"}', "not valid UTF-8")],
    ids=["bad JSON", "bad UTF-8"],
)
def test_a_bad_line_is_named_by_the_compressed_input_and_its_line(
    tmp_path: Path, codec: Codec, line: bytes, said: str
) -> None:
    name = f"feed.jsonl{codec.suffix}"
    data = b"\n".join([*(s.encode("utf-8") for s in LINES[:2]), b"", line, b"{}"])
    raw = _raw(tmp_path / "raw", data, name)
    code, stderr = _build(raw, tmp_path / "out", tmp_path / "tmp")
    assert code == 1 and one_error_line(stderr), stderr
    assert f"{raw / name}:4: {said}" in stderr


@pytest.mark.parametrize("codec", CODECS)
def test_a_line_over_the_document_limit_is_refused_at_its_line(
    tmp_path: Path, codec: Codec
) -> None:
    name = f"feed.jsonl{codec.suffix}"
    long = json.dumps({"text": "Acme " + "a" * DOCUMENT_LINE.bytes})
    raw = _raw(tmp_path / "raw", f"{LINES[0]}\n{long}\n".encode(), name)
    with pytest.raises(ClaimwireError) as refused:
        list(read_raw(raw / name, raw))
    assert str(refused.value).startswith(
        f"{raw / name}:2: a line longer than {DOCUMENT_LINE.bytes:,} bytes"
    )


def test_a_gzip_bomb_is_refused_once_it_expands_past_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blank lines compress about 1,000 times: past the allowance (made small here), the
    plain bytes may be at most 200 times the compressed ones read."""
    raw = _raw(tmp_path / "raw", b"\n" * (8 << 20), "feed.jsonl.gz")
    monkeypatch.setattr(lines, "GZIP_ALLOWANCE", 1 << 20)
    with pytest.raises(ClaimwireError) as refused:
        list(read_raw(raw / "feed.jsonl.gz", raw))
    assert str(refused.value).startswith(f"{raw / 'feed.jsonl.gz'}:")
    assert str(refused.value).endswith(
        ": expands more than 200 times its compressed size: not a file of records or "
        "documents (a gzip bomb?)"
    )


def test_a_zstd_bomb_is_refused_at_its_line(tmp_path: Path) -> None:
    """40 MiB of blank lines in a few KB: refused past 1,000 times its size (after 16 MiB)."""
    raw = _raw(tmp_path / "raw", b"\n" * (40 << 20), "feed.jsonl.zst")
    with pytest.raises(ClaimwireError) as refused:
        list(read_raw(raw / "feed.jsonl.zst", raw))
    assert "expands more than 1,000 times its compressed size" in str(refused.value)
    assert str(refused.value).startswith(f"{raw / 'feed.jsonl.zst'}:")


@pytest.mark.parametrize("codec", CODECS)
def test_a_name_in_capitals_is_read_as_its_compression(tmp_path: Path, codec: Codec) -> None:
    """A compressed input is known by its suffix in any case: ``FEED.JSONL.ZST`` is read as
    ``feed.jsonl.zst`` is (before: refused, "its name must end in .zst in lower case")."""
    upper, mixed = codec.suffix.upper(), "." + codec.suffix[1:].capitalize()
    for name in (f"FEED.JSONL{upper}", f"FEED.JSONL{codec.suffix}", f"feed.jsonl{mixed}"):
        raw = _raw(tmp_path / name, PLAIN, name)
        assert len(list(read_raw(raw / name, raw))) == len(LINES)
        assert _build(raw, tmp_path / f"out-{name}", tmp_path / "tmp") == (0, "")


def test_a_zstd_input_is_one_piece_read_from_its_start(tmp_path: Path) -> None:
    """The engine's pieces: a compressed input is not cut into ranges of lines (each would
    decompress from the start), it is one piece, its lines numbered in the file."""
    raw = _raw(tmp_path / "raw", PLAIN, "feed.jsonl.zst")
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


@pytest.mark.parametrize("codec", CODECS)
def test_a_compressed_input_needs_no_temporary_disk(tmp_path: Path, codec: Codec) -> None:
    """Read by a process that may write no file over 1 MiB (``RLIMIT_FSIZE``): 8 MiB of
    documents are read all the same (before: a gzip input was first decompressed into a
    temporary file as large as its plain bytes, refused here as "File too large", and a
    ``$TMPDIR`` smaller than the corpus failed the build)."""
    name = f"feed.jsonl{codec.suffix}"
    line = {"text": "Release\n\n" + "Acme said its sales rose 5% in 2024. " * 200}
    count = (8 << 20) // len(json.dumps(line))
    raw = _raw(tmp_path / "raw", (json.dumps(line) + "\n").encode() * count, name)
    read = (
        "import resource, sys; from pathlib import Path; "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20)); "
        "from claimwire.corpus.ingest import read_raw; raw = Path(sys.argv[1]); "
        "print(sum(1 for _ in read_raw(raw / sys.argv[2], raw)))"
    )
    (tmp_path / "tmp").mkdir()
    done = subprocess.run(
        [sys.executable, "-c", read, str(raw), name],
        capture_output=True,
        text=True,
        env={
            "PYTHONPATH": str(REPO / "src"),
            "PATH": "/usr/bin:/bin",
            "TMPDIR": str(tmp_path / "tmp"),
        },
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(count)
