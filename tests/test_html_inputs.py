"""What ``corpus build`` makes of an HTML page's structure: a page nested deeper than the
parser reads is refused by name, never read with its deep text silently lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwire.corpus.ingest import read_raw
from claimwire.errors import ClaimwireError

from .helpers import make_project, one_error_line, run_cli

FIRST = "First paragraph of the page is here with words."
DEEP = "Deep paragraph with important words here."


def _page(depth: int) -> str:
    return (
        f"<html><body><p>{FIRST}</p>"
        + "<div>" * depth
        + f"<p>{DEEP}</p>"
        + "</div>" * depth
        + "</body></html>"
    )


def test_a_deep_but_readable_page_keeps_its_deep_paragraph(tmp_path: Path) -> None:
    (tmp_path / "d.html").write_text(_page(250), encoding="utf-8")
    [raw] = read_raw(tmp_path / "d.html", tmp_path)
    assert raw.text == f"{FIRST}\n\n{DEEP}"


def test_a_page_nested_deeper_than_the_parser_reads_is_refused_by_name(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    raw = root / "corpus" / "raw"
    raw.mkdir(parents=True)
    (raw / "deep.html").write_text(_page(256), encoding="utf-8")
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert result.stderr.strip() == (
        "error: corpus/raw/deep.html: HTML elements nested deeper than the parser reads (256 "
        "levels or more, at line 1): the text below would be lost; flatten the page or save "
        "its text as .txt"
    )
    assert not (root / "corpus" / "releases").exists()


CP1252_TEXT = "Le chiffre d’affaires a progressé de 12 % — « un record »."


def _cp1252_page(head: str) -> bytes:
    page = (
        f"<html><head>{head}<title>Résultats</title></head><body><p>{CP1252_TEXT}</p></body></html>"
    )
    return page.encode("cp1252")


def test_a_page_in_the_charset_it_declares_is_read_in_it(tmp_path: Path) -> None:
    heads = {
        "meta.html": '<meta charset="windows-1252">',
        "equiv.html": '<meta http-equiv="Content-Type" content="text/html; charset=Windows-1252">',
    }
    for name, head in heads.items():
        (tmp_path / name).write_bytes(_cp1252_page(head))
        [raw] = read_raw(tmp_path / name, tmp_path)
        assert raw.text == CP1252_TEXT, name


def test_a_page_not_utf8_declaring_no_charset_is_still_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    raw = root / "corpus" / "raw"
    raw.mkdir(parents=True)
    (raw / "bare.html").write_bytes(_cp1252_page(""))
    result = run_cli("corpus", "build", "--version", "0.1.0", cwd=root)
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert "error: corpus/raw/bare.html:1: not valid UTF-8: byte 0xe9" in result.stderr
    assert not (root / "corpus" / "releases").exists()


@pytest.mark.parametrize("declared", ["hex", "base64", "rot13", "zlib"])
def test_a_page_declaring_a_codec_of_bytes_is_refused_naming_it(
    tmp_path: Path, declared: str
) -> None:
    """``<meta charset="hex">`` on a page that is not UTF-8 was an internal error (LookupError:
    'hex' is not a text encoding) naming no input."""
    (tmp_path / "page.html").write_bytes(_cp1252_page(f'<meta charset="{declared}">'))
    with pytest.raises(ClaimwireError) as raised:
        list(read_raw(tmp_path / "page.html", tmp_path))
    assert f"its declared charset {declared!r} is not a text encoding" in str(raised.value)
