"""A ``.jsonl.gz`` raw input is read as the plain ``.jsonl`` it holds: the same documents,
line limits and located errors (file and line); a file that is not gzip, corrupt or cut short
is one line naming it; a gzip bomb is refused once it expands past its bound. Before, the
build left such a file out ("left out 1 file it does not read: feed.jsonl.gz")."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from claimwire.corpus import gunzip
from claimwire.corpus.ingest import read_raw
from claimwire.corpus.release import open_release
from claimwire.errors import ClaimwireError
from claimwire.lines import DOCUMENT_LINE

from .helpers import one_error_line, run_cli

LINES = [
    json.dumps({"id": f"A-{i}", "text": f"Release {i}\n\nAcme said sales rose {i}% in 2024."})
    for i in range(12)
]


def _raw(folder: Path, lines: list[str], name: str = "feed.jsonl.gz") -> Path:
    folder.mkdir(parents=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    (folder / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return folder


def _build(raw: Path, out: Path, tmp: Path) -> tuple[int, str]:
    """Build ``raw`` into ``out`` with ``tmp`` as the temporary folder: exit code, stderr."""
    tmp.mkdir(exist_ok=True)
    result = run_cli(
        "corpus", "build", "--version", "0.1.0", "--raw", raw, "--out", out, env={"TMPDIR": tmp}
    )
    assert list(tmp.iterdir()) == []  # the plain copy is removed, whatever happened
    return result.returncode, result.stderr


def test_a_gzip_input_gives_the_documents_of_its_plain_file(tmp_path: Path) -> None:
    plain, packed = _raw(tmp_path / "plain", LINES, "feed.jsonl"), _raw(tmp_path / "gz", LINES)
    for raw in (plain, packed):
        code, stderr = _build(raw, tmp_path / f"out-{raw.name}", tmp_path / "tmp")
        assert code == 0 and stderr == "", stderr
    read = {
        name: [d.to_dict() for d in open_release(tmp_path / name / "0.1.0").documents()]
        for name in ("out-plain", "out-gz")
    }
    assert len(read["out-gz"]) == len(LINES)
    for document in read["out-gz"]:
        assert document["meta"]["source_file"] == "feed.jsonl.gz"
        document["meta"]["source_file"] = "feed.jsonl"
        document["meta"]["source_sha256"] = None
    for document in read["out-plain"]:
        document["meta"]["source_sha256"] = None
    assert read["out-gz"] == read["out-plain"]


@pytest.mark.parametrize("fault", ["cut short", "corrupt", "not gzip"])
def test_a_broken_gzip_input_is_one_line_naming_it(tmp_path: Path, fault: str) -> None:
    raw = _raw(tmp_path / "raw", LINES)
    data = (raw / "feed.jsonl.gz").read_bytes()
    broken = {
        "cut short": data[: len(data) // 2],
        "corrupt": data[:30] + b"\x00garbage" * 20 + data[-8:],
        "not gzip": b"plain text\n",
    }[fault]
    (raw / "feed.jsonl.gz").write_bytes(broken)
    code, stderr = _build(raw, tmp_path / "out", tmp_path / "tmp")
    assert code == 1 and one_error_line(stderr), stderr
    said = {
        "cut short": "the gzip stream ends early: the file is cut short",
        "corrupt": "not a valid gzip file (Error -3 while decompressing data",
        "not gzip": "not a valid gzip file (Not a gzipped file",
    }[fault]
    assert f"{raw / 'feed.jsonl.gz'}: {said}" in stderr
    assert not (tmp_path / "out").exists()


def test_a_bad_line_is_named_by_the_gzip_input_and_its_line(tmp_path: Path) -> None:
    lines = [*LINES[:2], '{"text": "x", broken', *LINES[3:]]
    raw = _raw(tmp_path / "raw", lines)
    code, stderr = _build(raw, tmp_path / "out", tmp_path / "tmp")
    assert code == 1 and one_error_line(stderr), stderr
    assert f"{raw / 'feed.jsonl.gz'}:3: not valid JSON" in stderr


def test_a_line_over_the_document_limit_is_refused_at_its_line(tmp_path: Path) -> None:
    long = json.dumps({"text": "Acme " + "a" * DOCUMENT_LINE.bytes})
    raw = _raw(tmp_path / "raw", [LINES[0], long])
    with pytest.raises(ClaimwireError) as refused:
        list(read_raw(raw / "feed.jsonl.gz", raw))
    assert str(refused.value).startswith(
        f"{raw / 'feed.jsonl.gz'}:2: a line longer than {DOCUMENT_LINE.bytes:,} bytes"
    )


def test_a_gzip_bomb_is_refused_once_it_expands_past_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blank lines compress about 1,000 times: past the allowance (made small here), the
    plain bytes may be at most 200 times the compressed ones read."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "feed.jsonl.gz").write_bytes(gzip.compress(b"\n" * (8 << 20)))
    monkeypatch.setattr(gunzip, "GZIP_ALLOWANCE", 1 << 20)
    with pytest.raises(ClaimwireError) as refused:
        list(read_raw(raw / "feed.jsonl.gz", raw))
    assert str(refused.value) == (
        f"{raw / 'feed.jsonl.gz'}: expands more than 200 times its compressed size: not a file "
        "of documents (a gzip bomb?)"
    )
