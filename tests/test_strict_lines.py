"""JSON lines read as JSON lines: one value a line, and only what JSON allows.

The typed decoder takes a stream of values, so a line holding two objects, or one object
spread over lines, used to be read as records with the wrong line numbers; and ``NaN``, or
half of a surrogate pair, passed the strict reader but not the typed one, which ended in an
internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimwire.errors import ClaimwireError
from claimwire.grouping import RecordIndex
from claimwire.model import Annotation, loads_object, read_mixed, read_numbered, read_records

A = {"id": "a1", "doc_id": "d", "layer": "claims", "label": "CLAIM", "start": 0, "end": 1}


def line(**changes: object) -> str:
    return json.dumps({**A, **changes}, separators=(",", ":"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_line_holding_two_records_is_refused_by_every_reader(tmp_path: Path) -> None:
    path = write(tmp_path, line() + line(id="a2") + "\n" + line(id="a3") + "\n")
    readers = (
        lambda: list(read_records(path, Annotation)),
        lambda: list(read_numbered(path, Annotation)),
        lambda: list(read_mixed(path)),
    )
    for read in readers:
        with pytest.raises(ClaimwireError) as caught:
            read()
        assert str(caught.value).startswith(f"{path}:1: not valid JSON")


def test_two_records_on_a_line_cannot_hide_behind_a_record_spread_over_two(
    tmp_path: Path,
) -> None:
    spread = json.dumps(A, indent=None).replace(', "layer"', ',\n"layer"')
    path = write(tmp_path, line(id="a0") + line(id="a2") + "\n" + spread + "\n")
    with pytest.raises(ClaimwireError) as caught:
        list(read_numbered(path, Annotation))
    assert str(caught.value).startswith(f"{path}:1: not valid JSON")


def test_clean_lines_are_read_with_their_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "".join(line(id=f"a{i}") + "\n" for i in range(5)))
    assert [(n, r.id) for n, r in read_numbered(path, Annotation)] == [
        (i + 1, f"a{i}") for i in range(5)
    ]
    crlf = write(tmp_path, "".join(line(id=f"a{i}") + "\r\n" for i in range(3)))
    assert [r.id for r in read_records(crlf, Annotation)] == ["a0", "a1", "a2"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": [1, -Infinity]}', "-Infinity is not a JSON number"),
        ('{"a": "\\ud800"}', "half of a surrogate pair"),
        ('{"a": 1e400}', "1e400 is too large for a number"),
        ('{"a": [-2.5E+999]}', "-2.5E\\+999 is too large for a number"),
    ],
)
def test_what_json_does_not_allow_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ClaimwireError, match=reason):
        loads_object(text)


def test_a_whole_surrogate_pair_is_one_character() -> None:
    assert loads_object('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


@pytest.mark.parametrize("value", ["NaN", "Infinity", '"\\udfff"'])
def test_the_record_index_names_the_line_the_typed_reader_refuses(
    tmp_path: Path, value: str
) -> None:
    bad = line(id="a2")[:-1] + ',"attributes":{"v":' + value + "}}"
    path = write(tmp_path, line() + "\n" + bad.replace(',"attributes":{}', "") + "\n")
    with pytest.raises(ClaimwireError) as caught:
        RecordIndex([path])
    assert str(caught.value).startswith(f"{path}:2: not valid JSON")


@pytest.mark.parametrize("every_field", [True, False], ids=["every-field", "fields-left-out"])
@pytest.mark.parametrize("value", ["1e400", "-1E+309", "1" + "0" * 400 + ".5"])
def test_a_number_too_large_for_a_float_is_refused_on_the_fast_path_too(
    tmp_path: Path, value: str, every_field: bool
) -> None:
    """The typed decoder refuses such a number, and the strict reader, which reads the block
    again, names the line (it took the number as infinity)."""
    fields = {"quote": None, "author": "gold"} if every_field else {}
    bad = line(id="a2", **fields)[:-1] + ',"attributes":{"n":' + value + "}}"
    good = "".join(line(id=f"a{i}", **fields) + "\n" for i in range(2))
    path = write(tmp_path, good + bad + "\n")
    with pytest.raises(ClaimwireError) as caught:
        list(read_records(path, Annotation))
    assert str(caught.value).startswith(f"{path}:3: not valid JSON")
    assert "too large for a number" in str(caught.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_named_so(tmp_path: Path, encoding: str) -> None:
    """Windows PowerShell's ``>`` writes UTF-16: before, ``not valid JSON: ... invalid
    character (byte 0)``; now the error says what the file is and what to do, with or
    without a byte order mark, for predictions; for a raw JSONL input, when it has one (a
    raw text without one is refused as not UTF-8, or, all ASCII, for its NUL bytes)."""
    from .helpers import REPO, one_error_line, run_cli

    predictions = tmp_path / "p.jsonl"
    run = (REPO / "eval" / "runs" / "rules" / "predictions.jsonl").read_text(encoding="utf-8")
    predictions.write_text(run, encoding=encoding)
    release = REPO / "corpus" / "releases" / "1.1.0"
    checked = run_cli("eval", "check", predictions, "--task", "attribution", "--release", release)
    raw = tmp_path / "raw"
    raw.mkdir()
    line = json.dumps({"text": "Un communiqué."}, ensure_ascii=False)  # é: not UTF-8 once encoded
    (raw / "releases.jsonl").write_text(line + "\n", encoding)
    built = run_cli(
        "corpus", "build", "--raw", raw, "--out", tmp_path / "releases", "--version", "0.1.0"
    )
    for result, path in ((checked, predictions), (built, raw / "releases.jsonl")):
        assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
        assert f"{path}:1: not valid " in result.stderr, result.stderr
        assert "the file is UTF-16 (what Windows" in result.stderr, result.stderr


def test_a_gzip_set_or_prediction_file_not_named_gz_is_named_so(tmp_path: Path) -> None:
    """``gzip -c predictions.jsonl > carol.jsonl``: before, ``not valid UTF-8: invalid start
    byte``; now the error says it is gzip and what to do, for every record reader (a name
    ending in ``.gz`` is read decompressed: tests/test_compressed_names.py)."""
    import gzip

    from .helpers import REPO, one_error_line, run_cli

    run = (REPO / "eval" / "runs" / "rules" / "predictions.jsonl").read_bytes()
    packed = tmp_path / "carol.jsonl"
    packed.write_bytes(gzip.compress(run))
    release = REPO / "corpus" / "releases" / "1.1.0"
    for command in ("check", "score"):
        result = run_cli("eval", command, packed, "--task", "attribution", "--release", release)
        assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
        assert f"{packed}:1: a gzip file whose name does not end in .gz" in result.stderr
    with pytest.raises(ClaimwireError, match=r"rename it NAME\.gz"):
        list(read_records(packed, Annotation))
