"""``claimwire convert --from`` ended by SIGTERM (a timeout, a cancelled job) while it reads:
it exits 143 and leaves nothing, neither in ``TMPDIR`` nor beside ``--out`` (its temporary
file, the folder made for it); ``--to`` leaves no staging copy."""

from __future__ import annotations

import os
from pathlib import Path

from claimwire.corpus.release import open_release
from claimwire.eval.checker import load_annotation_set
from claimwire.formats.convert import export_set

from .terminated import terminated
from .test_import_streaming import BUNDLED, SCHEMA

_PAUSES = {  # where the command pauses
    "export": "claimwire.formats.doccano:to_doccano",  # the staging copy open, nothing written
    "batch": "claimwire.formats.convert:check_rows",  # the first batch read, not checked
}
_A_LINE_A_BATCH = "claimwire.formats.convert:BATCH_DOCUMENTS=1"


def test_a_terminated_import_leaves_nothing(tmp_path: Path) -> None:
    export = tmp_path / "doccano.jsonl"
    gold = load_annotation_set(BUNDLED)
    export_set("doccano", export, list(open_release(BUNDLED).documents()), gold, SCHEMA)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    out = tmp_path / "made" / "out.jsonl"
    args = ["convert", str(export), "--from", "doccano", "--out", str(out)]

    def paused() -> None:
        assert [path.name for path in out.parent.iterdir()] != []  # the temporary file

    args += ["--release", str(BUNDLED)]
    terminated(
        args, tmp_path, _PAUSES["batch"], paused, settings=_A_LINE_A_BATCH, TMPDIR=str(temporary)
    )
    assert os.listdir(temporary) == []
    assert not out.parent.exists()


def test_a_terminated_export_leaves_nothing(tmp_path: Path) -> None:
    """``convert --to`` ended by SIGTERM while it writes: exit 143, no staging copy left,
    nor the folder made for it."""
    out = tmp_path / "made" / "doccano.jsonl"
    args = ["convert", str(BUNDLED), "--to", "doccano", "--out", str(out)]

    def paused() -> None:
        assert os.listdir(out.parent) != []  # the staging copy

    args += ["--release", str(BUNDLED)]
    terminated(args, tmp_path, _PAUSES["export"], paused, settings=_A_LINE_A_BATCH)
    assert not out.parent.exists()  # nor the folder made for it
