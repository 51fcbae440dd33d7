"""A key a record's kind does not have is never skipped in silence: a prediction with
``"atributes"`` was read as having no attributes and ``eval check`` said OK. In a release's
own files (a closed format) it is a located error; in predictions and sets, one warning per
key and file, naming its first line and the nearest known key."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import warnings
from pathlib import Path

import pytest

from claimwire import record_keys
from claimwire.errors import ClaimwireError
from claimwire.model import Annotation, read_mixed, read_records
from claimwire.record_keys import WARNED_KEYS, UnknownKeyWarning, warn_again, warn_unknown

from .helpers import REPO, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.0.0"
RUN = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"


def _misspelt(line: str, **extra: object) -> str:
    record = json.loads(line)
    record["atributes"] = record.pop("attributes")
    return json.dumps({**record, **extra})


def _run_with_typos(tmp: Path) -> Path:
    """The rules run, its lines 3–5 with ``atributes`` and line 4 with a ``score`` too."""
    lines = RUN.read_text(encoding="utf-8").splitlines()
    lines[2:5] = [_misspelt(lines[2]), _misspelt(lines[3], score=0.9), _misspelt(lines[4])]
    path = tmp / "run.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_eval_check_warns_once_per_key_and_file(tmp_path: Path) -> None:
    run = _run_with_typos(tmp_path)
    latest = REPO / "corpus" / "releases" / "1.1.0"  # the schema the rules run follows
    result = run_cli("eval", "check", run, "--task", "attribution", "--release", latest)
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 2, result.stderr
    assert warned[0].startswith(
        f"warning: {run}:3: field 'atributes': unknown key, ignored (did you mean 'attributes'?)"
    )
    assert warned[1].startswith(f"warning: {run}:4: field 'score': unknown key, ignored;")


def test_a_release_record_with_an_unknown_key_is_a_located_error(tmp_path: Path) -> None:
    copy = tmp_path / "1.0.0"
    shutil.copytree(RELEASE, copy)
    lines = (RELEASE / "annotations.jsonl").read_text(encoding="utf-8").splitlines()
    lines[1] = _misspelt(lines[1])
    data = ("\n".join(lines) + "\n").encode("utf-8")
    (copy / "annotations.jsonl").write_bytes(data)
    manifest = json.loads((copy / "MANIFEST.json").read_text(encoding="utf-8"))
    manifest["files"]["annotations.jsonl"].update(
        sha256=hashlib.sha256(data).hexdigest(), bytes=len(data)
    )
    (copy / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    result = run_cli("corpus", "validate", copy, "--level", "1")
    assert result.returncode == 1, result.stdout
    assert result.stdout.startswith("[annotations.jsonl line 2 "), result.stdout
    assert (
        "L1 bad-record: field 'atributes': unknown key (did you mean 'attributes'?)"
        in result.stdout
    ), result.stdout


def test_readers_refuse_or_warn_and_name_nested_keys(tmp_path: Path) -> None:
    first = json.loads(RUN.read_text(encoding="utf-8").splitlines()[0])
    first["quote"]["exakt"] = first["quote"].pop("exact")
    lines = [json.dumps(dict(first, id=f"a{i}")) for i in range(3)]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(
        ClaimwireError, match=re.escape(f"{path}:1: field 'quote.exakt': unknown key")
    ):
        list(read_records(path, Annotation))
    with pytest.raises(ClaimwireError, match=re.escape("field 'quote.exact': missing")):
        list(read_mixed(path))  # warned about first, then refused for the key it lacks


def test_a_clean_file_warns_of_nothing_and_a_key_is_warned_once(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(read_mixed(RUN))) > 0
    lines = RUN.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "scored.jsonl"
    path.write_text(
        "\n".join(json.dumps({**json.loads(line), "score": 1}) for line in lines) + "\n",
        encoding="utf-8",
    )
    with pytest.warns(UnknownKeyWarning) as caught:
        records = list(read_mixed(path))
    assert [str(w.message).split(": unknown")[0] for w in caught] == [f"{path}:1: field 'score'"]
    assert len(records) == len(lines)


def test_run_command_warns_of_a_key_its_program_misspells(tmp_path: Path) -> None:
    program = tmp_path / "misspelling.py"
    program.write_text(
        "import json, sys\n"
        "for line in sys.stdin:\n"
        "    doc = json.loads(line)['id']\n"
        "    for i in range(3):\n"
        "        print(json.dumps({'id': f'{doc}:{i}', 'doc_id': doc, 'layer': 'claims',\n"
        "                          'label': 'CLAIM', 'start': 0, 'end': 1, 'atributes': {}}))\n",
        encoding="utf-8",
    )
    latest = REPO / "corpus" / "releases" / "1.1.0"
    out = tmp_path / "out.jsonl"
    cmd = f"cmd={sys.executable} {program}"
    result = run_cli("run", "command", "-o", cmd, "--release", latest, "--out", out)
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1, result.stderr
    assert "'s answer for document " in warned[0]
    assert ">:1: field 'atributes': unknown key, ignored (did you mean" in warned[0]


def test_a_file_naming_a_new_key_on_every_line_warns_a_bounded_number_of_times(
    tmp_path: Path,
) -> None:
    """Before: one warning a line (every line's key was new)."""
    lines = RUN.read_text(encoding="utf-8").splitlines()
    assert len(lines) > WARNED_KEYS + 5
    path = tmp_path / "keys.jsonl"
    path.write_text(
        "".join(
            json.dumps({**json.loads(line), f"k{i}": 1}) + "\n" for i, line in enumerate(lines)
        ),
        encoding="utf-8",
    )
    with pytest.warns(UnknownKeyWarning) as caught:
        assert len(list(read_mixed(path))) == len(lines)
    said = [str(w.message) for w in caught]
    assert len(said) == WARNED_KEYS + 1
    assert f"more than {WARNED_KEYS} unknown keys in this file" in said[-1]


def test_warnings_handed_back_by_workers_count_for_the_file_they_counted_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two workers each read a batch of a program's answers and warn about the same key,
    counted for the answers, not the batch; handed back to the driver (another process,
    where nothing was warned yet), the key is warned about once."""
    handed_back = []
    for batch in ("batch-1.jsonl", "batch-2.jsonl"):
        monkeypatch.setattr(record_keys, "_warned", {})  # a worker: a process of its own
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warn_unknown(batch, 3, "scor", "an annotation", ("id", "score"), counted_as="answers")
        handed_back += [warning.message for warning in caught]
    assert len(handed_back) == 2
    monkeypatch.setattr(record_keys, "_warned", {})  # the driver
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for warning in handed_back:
            assert isinstance(warning, UnknownKeyWarning)
            warn_again(warning)
    assert [str(warning.message).split(":")[0] for warning in caught] == ["batch-1.jsonl"]
