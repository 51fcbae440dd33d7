"""A compressed file is known by its name's suffix in any case: ``run.jsonl.ZST`` is zstd as
``run.jsonl.zst`` is, ``run.jsonl.GZ`` gzip (before: the record readers took it for plain text
and refused its first line as "not valid UTF-8", and the writers wrote plain text under a
``.ZST`` or ``.gz`` name)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import zstandard

from claimwire.build import is_annotation_set
from claimwire.eval.completed import completed_path
from claimwire.model import read_mixed, write_records

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
RUN = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"


@pytest.mark.parametrize("name", ["run.jsonl.ZST", "run.JSONL.Zst", "run.jsonl.gz", "run.jsonl.GZ"])
def test_a_compressed_prediction_file_scores_as_its_plain_file(tmp_path: Path, name: str) -> None:
    packed = tmp_path / name
    compress = gzip.compress if name.lower().endswith(".gz") else zstandard.compress
    packed.write_bytes(compress(RUN.read_bytes()))
    args = ("--task", "claims", "--release", RELEASE)
    checked = run_cli("eval", "check", packed, *args)
    assert checked.returncode == 0, checked.stderr
    scored = [
        run_cli(
            "eval", "score", path, *args, "--name", "x", "--format", "json", "--bootstrap", "20"
        )
        for path in (packed, RUN)
    ]
    assert scored[0].returncode == scored[1].returncode == 0, scored[0].stderr
    assert scored[0].stdout == scored[1].stdout


@pytest.mark.parametrize("suffix", [".ZST", ".gz", ".Gz"])
def test_records_written_to_a_compressed_name_are_compressed(tmp_path: Path, suffix: str) -> None:
    records = [record for _, record in read_mixed(RUN)]
    plain, packed = tmp_path / "copy.jsonl", tmp_path / f"copy.jsonl{suffix}"
    assert write_records(plain, records) == write_records(packed, records) == len(records)
    if suffix.lower() == ".gz":
        assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
        again = tmp_path / f"again.jsonl{suffix}"
        write_records(again, records)
        assert again.read_bytes() == packed.read_bytes()  # no time inside: the same bytes
    else:
        decompressed = zstandard.ZstdDecompressor().stream_reader(packed.read_bytes()).read()
        assert decompressed == plain.read_bytes()
    assert [record for _, record in read_mixed(packed)] == records


def test_a_set_in_capitals_has_its_list_beside_it_and_is_a_set(tmp_path: Path) -> None:
    for name in ("alice.JSONL", "alice.jsonl.ZST", "alice.Jsonl.zst", "alice.JSON"):
        assert completed_path(tmp_path / name) == tmp_path / "alice.completed.txt", name
        assert name.endswith("JSON") or is_annotation_set(tmp_path / name), name
    assert completed_path(tmp_path / "alice.zst") == tmp_path / "alice.zst.completed.txt"
    assert not is_annotation_set(tmp_path / "gold.yaml")
