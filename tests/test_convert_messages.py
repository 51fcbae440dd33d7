"""``convert``'s error lines name the user's file or folder and suggest only options the
command has; a document id too long for a file name still exports (a hostile release) —
each through the real CLI."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from claimwire.corpus.release import manifest_digest
from claimwire.files import sha256

from .helpers import REPO, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
RUN = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"


def renamed_release(root: Path, new_id: str) -> tuple[Path, str]:
    """A copy of release 1.1.0 whose first document is called ``new_id`` everywhere, its
    manifest's checksums made again (as anyone sending a release can)."""
    release = root / "hostile"
    shutil.copytree(RELEASE, release)
    old = json.loads((release / "documents.jsonl").read_text("utf-8").splitlines()[0])["id"]
    manifest = json.loads((release / "MANIFEST.json").read_text("utf-8"))
    for name, entry in manifest["files"].items():
        path = release / name
        if name.endswith(".jsonl"):
            path.write_text(path.read_text("utf-8").replace(old, new_id), "utf-8")
        entry.update(sha256=sha256(path), bytes=path.stat().st_size)
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (release / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return release, new_id


def test_an_empty_set_suggests_no_option_the_command_lacks(tmp_path: Path) -> None:
    """convert and annotate agree said "pass --allow-empty", which neither has."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", "utf-8")
    for args in (
        ["convert", empty, "--to", "doccano", "--out", tmp_path / "e.jsonl"],
        ["annotate", "agree", empty, RUN],
    ):
        result = run_cli(*args)
        assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
        assert f"{empty}: no annotation or relation records" in result.stderr
        assert "--allow-empty" not in result.stderr
    scored = run_cli("eval", "score", empty, "--task", "claims", "--release", RELEASE)
    assert "pass --allow-empty" in scored.stderr  # eval score has it


@pytest.mark.parametrize("fmt", ["brat", "inception"])
def test_a_document_id_too_long_for_a_file_name_exports(tmp_path: Path, fmt: str) -> None:
    """A 300-character id made a 304-byte file name: "File name too long", naming the
    staging folder claimwire made. The stem keeps 189 characters and a digest of the id;
    the import finds the document by it."""
    release, long_id = renamed_release(tmp_path, "x" * 300)
    gold = release / "annotations.jsonl"
    out = tmp_path / fmt
    result = run_cli("convert", gold, "--release", release, "--to", fmt, "--out", out)
    assert result.returncode == 0, result.stderr
    names = [p.name for p in out.iterdir() if p.name.startswith("xxx")]
    assert names and all(len(n.encode()) < 256 for n in names)
    if fmt == "brat":
        back = tmp_path / "back.jsonl"
        imported = run_cli("convert", out, "--from", "brat", "--release", release, "--out", back)
        assert imported.returncode == 0, imported.stderr
        assert f'"doc_id":"{long_id}"' in back.read_text("utf-8")


@pytest.mark.parametrize("fmt", ["brat", "inception", "spacy"])
def test_a_file_size_limit_names_the_export_folder(tmp_path: Path, fmt: str) -> None:
    """A folder export past ``ulimit -f`` said "error: File too large" (a write's error
    names no file); it names the folder given, and leaves nothing."""
    out = tmp_path / "made" / fmt

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = subprocess.run(
        [sys.executable, "-m", "claimwire", "convert", str(RUN), "--to", fmt, "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "200", "NO_COLOR": "1"},
        preexec_fn=limit,
        check=False,
    )
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"error: {out}: File too large" in result.stderr
    assert list(tmp_path.iterdir()) == []
