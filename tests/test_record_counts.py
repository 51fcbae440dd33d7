"""A release whose record files disagree with its manifest's record counts (a shard emptied,
a line cut, then every checksum and the manifest's digest recomputed) is refused by every
reader with one line naming the file and both counts, as a bad checksum is; blank lines,
which readers skip, are not records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zstandard

from claimwire.corpus.release import MANIFEST, Sharding, manifest_digest, open_release
from claimwire.errors import ClaimwireError
from claimwire.files import sha256

from .helpers import one_error_line, release_with_test_claims, run_cli


def _resigned(release: Path) -> None:
    """Every listed file's checksum and size, and the manifest's digest, made again (what
    someone who edits a release can do); the record counts left as they were."""
    manifest = json.loads((release / MANIFEST).read_text("utf-8"))
    for name, entry in manifest["files"].items():
        entry.update(sha256=sha256(release / name), bytes=(release / name).stat().st_size)
    manifest.pop("manifest_sha256")
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (release / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")


def _sharded(tmp_path: Path) -> Path:
    return release_with_test_claims(tmp_path, 12, claimed="all", sharding=Sharding(5, True))


def test_an_emptied_shard_is_refused_by_every_reader(tmp_path: Path) -> None:
    """Before: ``corpus stats``, ``eval score`` and ``corpus diff`` read 10 of 12 claims,
    exit 0 (only ``corpus validate`` and ``hub export`` refused it)."""
    release = _sharded(tmp_path)
    shard = release / "annotations-00002.jsonl.zst"
    shard.write_bytes(zstandard.ZstdCompressor().compress(b""))
    _resigned(release)
    expected = f"{shard}: record count check failed: 0 records, MANIFEST.json says 2"
    with pytest.raises(ClaimwireError) as caught:
        open_release(release)
    assert str(caught.value) == expected
    predictions = tmp_path / "runs.jsonl"
    predictions.write_text("", "utf-8")
    for args in (
        ("corpus", "stats", release),
        ("eval", "score", predictions, "--task", "claims", "--release", release),
        ("corpus", "diff", release, release),
    ):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 1 and one_error_line(result.stderr), (args, result.stderr)
        assert result.stderr.strip().splitlines()[-1] == f"error: {expected}", args


@pytest.mark.parametrize(("edit", "found"), [("cut", 11), ("blank", 12)])
def test_a_plain_file_is_counted_by_its_records_not_its_blank_lines(
    tmp_path: Path, edit: str, found: int
) -> None:
    """A line cut is refused; blank lines added (readers skip them) hold no records."""
    release = release_with_test_claims(tmp_path, 12, claimed="all")
    annotations = release / "annotations.jsonl"
    lines = annotations.read_bytes().splitlines(keepends=True)
    edited = lines[1:] if edit == "cut" else [b"\n", *lines[:3], b"  \n", *lines[3:], b" "]
    annotations.write_bytes(b"".join(edited))
    _resigned(release)
    if found == 12:
        assert len(list(open_release(release).annotations())) == 12
        return
    with pytest.raises(ClaimwireError, match=r"11 records, MANIFEST\.json says 12$"):
        open_release(release)
