import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimwire.corpus import normalize
from claimwire.corpus.normalize import (
    check_utf8,
    decode_utf8,
    normalize_text,
    split_date_marker,
)
from claimwire.errors import ClaimwireError


def test_bom_is_dropped_and_line_ends_become_lf() -> None:
    text = decode_utf8("\ufeffa\r\nb\rc\n".encode(), "f.txt")
    assert normalize_text(text) == "a\nb\nc\n"


def test_nfc_composes_but_typography_is_kept() -> None:
    decomposed = "e\u0301te\u0301 30\u1d49 \u00ab\u202fOui\u202f\u00bb l\u2019art 1\u00a0004"
    normalized = normalize_text(decomposed)
    assert normalized == "\u00e9t\u00e9 30\u1d49 \u00ab\u202fOui\u202f\u00bb l\u2019art 1\u00a0004"


def test_invalid_utf8_names_file_line_and_byte_offset() -> None:
    data = "ligne un\nligne deux \u00e9".encode() + b"\xff\xfe fin"
    with pytest.raises(ClaimwireError) as caught:
        decode_utf8(data, "raw/bad.txt")
    error = caught.value
    assert error.file == "raw/bad.txt"
    assert error.line == 2
    offset = data.index(b"\xff")
    assert f"byte offset {offset}" in error.message
    assert "0xff" in error.message


@pytest.mark.parametrize(
    ("raw", "marker", "rest"),
    [
        (" date 2025-06 CGTN a publié", "2025-06", "CGTN a publié"),
        ("date 2025-06-19\nPÉKIN, 19 juin", "2025-06-19", "PÉKIN, 19 juin"),
        ("  date 2024-01  \nTitre", "2024-01", "Titre"),
        ("Une date 2025-06 plus loin", None, "Une date 2025-06 plus loin"),
        ("date de parution inconnue", None, "date de parution inconnue"),
    ],
)
def test_date_marker(raw: str, marker: str | None, rest: str) -> None:
    assert split_date_marker(raw) == (marker, rest)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "é", "\n", "€", "😀", "日"]), max_size=30),
    st.integers(min_value=0),
    st.sampled_from([b"\x80", b"\xff", b"\xc3", b"\xe2\x82", b""]),
    st.integers(min_value=1, max_value=9),
)
def test_a_file_checked_a_block_at_a_time_is_refused_as_decoding_it_whole_refuses_it(
    characters: list[str], at: int, bad: bytes, block: int
) -> None:
    """``check_utf8`` reads a block at a time, characters cut across blocks; its error is
    the one decoding the whole file gives (same byte, offset and line)."""
    data = "".join(characters).encode()
    at %= len(data) + 1
    data = data[:at] + bad + data[at:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "raw.txt"
        path.write_bytes(data)
        errors = []
        for check in (lambda: check_utf8(path), lambda: decode_utf8(data, path)):
            try:
                check()
                errors.append("")
            except ClaimwireError as error:
                errors.append(str(error))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(normalize, "_CHECK_BLOCK", block)
            try:
                check_utf8(path)
                errors.append("")
            except ClaimwireError as error:
                errors.append(str(error))
    assert errors[0] == errors[1] == errors[2]


def test_a_bad_byte_at_the_end_of_a_large_input_is_found_without_holding_it(
    tmp_path: Path,
) -> None:
    """Before: the whole file was read again to name the byte (a 40 MB input, 40 MB)."""
    path = tmp_path / "big.jsonl"
    line = ('{"text": "Un communiqué de presse."}\n').encode()
    with path.open("wb") as out:
        for _ in range(40):
            out.write(line * (1_000_000 // len(line)))
        out.write(b"\xff\n")
    tracemalloc.start()
    try:
        with pytest.raises(ClaimwireError) as caught:
            check_utf8(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.line == 40 * (1_000_000 // len(line)) + 1
    assert peak < 2_000_000, peak


@pytest.mark.parametrize("marker", ["2025-13", "2025-00", "2025-06-31", "2025-02-30"])
def test_a_date_marker_that_is_not_a_date_is_refused_where_it_is(
    tmp_path: Path, marker: str
) -> None:
    """Before: kept as ``meta.date_marker`` as written, where a sidecar's ``published`` of
    the same value is a located error."""
    from .helpers import one_error_line, run_cli

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(f"date {marker}\nPARIS, le 3 juin. Un communiqué.\n", "utf-8")
    result = run_cli("corpus", "build", "--raw", raw, "--out", tmp_path / "r", "--version", "0.1.0")
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"{raw / 'a.txt'}:1: date marker '{marker}' is not a date" in result.stderr
    (raw / "a.txt").unlink()
    lines = ['{"text": "Un communiqué."}', f'{{"text": "date {marker} Un autre."}}']
    (raw / "b.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    result = run_cli("corpus", "build", "--raw", raw, "--out", tmp_path / "r", "--version", "0.1.0")
    assert f"{raw / 'b.jsonl'}:2: date marker '{marker}' is not a date" in result.stderr


def test_a_date_marker_that_is_a_date_is_kept() -> None:
    assert split_date_marker("date 2024-02-29 Texte") == ("2024-02-29", "Texte")
    assert split_date_marker("date 2025-12\nTexte") == ("2025-12", "Texte")
