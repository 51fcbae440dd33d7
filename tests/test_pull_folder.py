"""``annotate pull`` writes its --out folder whole: a pull that fails (a full disk, a file-size
limit) leaves the earlier pull's folder as it was and no staging folder; a folder holding what
no pull wrote is refused, never replaced — each through the real CLI."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import uuid
from pathlib import Path

from claimwire.annotation.label_studio.convert import to_results
from claimwire.annotation.schema import load_schema
from claimwire.corpus.release import open_release

from .helpers import REPO, run_cli, tmpfs

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
SCHEMA = load_schema(RELEASE / "schema.yaml")
DOCUMENT = next(open_release(RELEASE).documents())
GOLD = [a for a in open_release(RELEASE).annotations() if a.doc_id == DOCUMENT.id]


def export(path: Path, *emails: str, halves: int = 0) -> Path:
    """A Label Studio JSON export: one task, the gold's spans annotated by each of ``emails``
    (by the first ``halves`` of them, half the spans)."""
    results = to_results([a for a in GOLD if a.is_span], [], SCHEMA, DOCUMENT.text)
    annotations = [
        {
            "id": n,
            "completed_by": {"id": n, "email": email},
            "result": results[: len(results) // 2] if n <= halves else results,
        }
        for n, email in enumerate(emails, start=1)
    ]
    task = {"id": 1, "data": {"text": DOCUMENT.text, "doc_id": DOCUMENT.id}}
    path.write_text(json.dumps([{**task, "annotations": annotations}]), encoding="utf-8")
    return path


def pull(  # type: ignore[no-untyped-def]
    exported: Path, out: Path, *more: str, file_size: int | None = None, tmp: Path | None = None
):
    """``annotate pull --from-file`` (with ``more`` options) in a real process, under a
    file-size limit if given."""

    def limit() -> None:
        if file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    args = ["annotate", "pull", "--from-file", exported, "--out", out, "--release", RELEASE, *more]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "200", "NO_COLOR": "1"}
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    return subprocess.run(
        [sys.executable, "-m", "claimwire", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limit,
        check=False,
    )


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_a_pull_past_a_file_size_limit_leaves_the_earlier_folder(tmp_path: Path) -> None:
    """It wrote the two smaller of three sets into the earlier pull's folder and stopped at
    the third: the folder mixed two pulls."""
    out = tmp_path / "sets"
    first = pull(export(tmp_path / "one.json", "a@x.org", "b@x.org", "c@x.org"), out)
    assert first.returncode == 0, first.stderr
    before = digests(out)
    (tmp_path / "tmp").mkdir()
    again = export(tmp_path / "two.json", "a@y.org", "b@y.org", "c@y.org", halves=2)
    limit = (out / "c@x.org.jsonl").stat().st_size - 100  # the two halves fit
    failed = pull(again, out, file_size=limit, tmp=tmp_path / "tmp")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Traceback" not in failed.stderr
    [line] = [x for x in failed.stderr.splitlines() if x.startswith("error:")]
    assert "File too large" in line and line.startswith(("error: /", "error: $TMPDIR (/"))
    assert digests(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.json", "sets", "tmp", "two.json"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_full_disk_names_the_set_and_leaves_the_earlier_folder(tmp_path: Path) -> None:
    """On a small tmpfs (root only) that the new sets do not fit: the error names the user's
    set, not claimwire's staging folder; the earlier pull stays whole."""
    with tmpfs(tmp_path / "disk", "1m") as mount:
        out = mount / "sets"
        assert pull(export(tmp_path / "one.json", "a@x.org"), out).returncode == 0
        before = digests(out)
        size = (out / "a@x.org.jsonl").stat().st_size
        free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
        (mount / "fill").write_bytes(b"\0" * (free - 2 * size - 4096))  # two new sets fit
        emails = [f"{n}{uuid.uuid4().hex[:4]}@y.org" for n in range(4)]
        failed = pull(export(tmp_path / "two.json", *emails), out)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        [line] = [x for x in failed.stderr.splitlines() if x.startswith("error:")]
        assert f"error: {out}/" in line and ".jsonl: no space left" in line, line
        assert digests(out) == before
        assert sorted(p.name for p in mount.iterdir()) == ["fill", "sets"]


def test_a_folder_holding_what_no_pull_wrote_is_refused(tmp_path: Path) -> None:
    """The folder is replaced whole, so one holding anything else (notes, the export itself)
    is refused before any work, and left as it was (a pull wrote its sets beside them)."""
    out = tmp_path / "annotation"
    out.mkdir()
    (out / "notes.md").write_text("keep me", encoding="utf-8")
    refused = pull(export(tmp_path / "one.json", "a@x.org"), out)
    assert refused.returncode == 1
    assert "holds 'notes.md', which no pull wrote" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.md"]
    inside = run_cli(
        "annotate",
        "pull",
        "--from-file",
        export(out / "export.jsonl", "a@x.org"),
        "--out",
        out,
        "--release",
        RELEASE,
    )
    assert inside.returncode == 1 and "holds the input" in inside.stderr
    assert sorted(p.name for p in out.iterdir()) == ["export.jsonl", "notes.md"]


def test_a_new_pull_replaces_the_earlier_one_whole(tmp_path: Path) -> None:
    """An annotator gone from the project leaves no stale set beside the new ones (their
    completed documents are lost: only with --force)."""
    out = tmp_path / "sets"
    assert pull(export(tmp_path / "one.json", "a@x.org", "gone@x.org"), out).returncode == 0
    refused = pull(export(tmp_path / "two.json", "a@x.org"), out)
    assert refused.returncode == 1 and "(gone@x.org: 1; gone@x.org: " in refused.stderr
    assert len(list(out.iterdir())) == 4
    assert pull(tmp_path / "two.json", out, "--force").returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["a@x.org.completed.txt", "a@x.org.jsonl"]
