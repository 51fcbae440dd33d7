import pytest

from claimwire.corpus.normalize import decode_utf8, normalize_text, split_date_marker
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
