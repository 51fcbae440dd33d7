"""The line-based imports (brat's ``.ann``, CoNLL) read their files a block at a time, and a
line only up to :data:`~claimwire.lines.TEXT_LINE`: a hostile file of one endless line is one
located error at a bounded cost (before: the line was held whole, and decoded — a 300 MB
``.ann`` of one line peaked at 1,290 MB, a CoNLL one at 982 MB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwire.errors import ClaimwireError
from claimwire.lines import TEXT_LINE, text_lines

from .helpers import REPO, cli_peak, one_error_line, run_cli

RELEASE = REPO / "corpus" / "releases" / "1.1.0"
DOCUMENT = "cgtn-a-publie-un-article-sur-bf5a7044b3"
BLOCK = 1 << 16
SAYS = f"a line longer than {TEXT_LINE.bytes:,} bytes, the most a brat .ann or CoNLL line"


def _lines(path: Path, data: bytes) -> list[tuple[int, str]]:
    path.write_bytes(data)
    return list(text_lines(path))


def test_lines_end_at_lf_crlf_or_a_lone_cr_across_blocks(tmp_path: Path) -> None:
    """A ``\\r\\n`` cut by a block's end is one line end, a lone ``\\r`` there another."""
    first = b"a" * (BLOCK - 1) + b"\r"  # its \n begins the next block
    second = b"b" * (BLOCK - 1) + b"\r"  # a lone \r ends the second block
    data = first + b"\n" + second[1:] + b"c\rd\n\n\xef\xbb\xbfe"
    assert _lines(tmp_path / "x.conll", data) == [
        (1, first.decode() + "\n"),
        (2, second[1:].decode()),
        (3, "c\r"),
        (4, "d\n"),
        (5, "\n"),
        (6, "\ufeffe"),  # a byte order mark is dropped at the file's start only
    ]
    assert _lines(tmp_path / "y.conll", b"\xef\xbb\xbfx\r") == [(1, "x\r")]
    assert _lines(tmp_path / "z.conll", b"") == []


def test_a_line_of_the_limit_is_read_and_one_byte_more_is_not(tmp_path: Path) -> None:
    path = tmp_path / "x.ann"
    fits = b"y" * TEXT_LINE.bytes + b"\r\n"
    path.write_bytes(b"T1\r" + fits + b"z" * (TEXT_LINE.bytes + 1))
    read = []
    with pytest.raises(ClaimwireError) as caught:
        for number, line in text_lines(path):
            read.append((number, len(line)))
    assert read == [(1, 3), (2, len(fits))]
    assert str(caught.value).startswith(f"{path}:3: {SAYS}")


@pytest.mark.parametrize("over", [1, 60_000])
def test_a_line_over_the_limit_that_ends_in_a_later_block_is_refused(
    tmp_path: Path, over: int
) -> None:
    """Review LOW-1: a line up to a block longer than the limit was read when its end fell
    in the block after the one that reached the limit (1 MiB + 60,000 bytes as line 1)."""
    path = tmp_path / "x.ann"
    path.write_bytes(b"y" * (TEXT_LINE.bytes + over) + b"\nT1\n")
    with pytest.raises(ClaimwireError) as caught:
        list(text_lines(path))
    assert str(caught.value).startswith(f"{path}:1: {SAYS}")


def test_a_bad_byte_is_named_at_its_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "x.conll"
    path.write_bytes(b"ok\rok\r\nbad \xff\n")
    with pytest.raises(ClaimwireError) as caught:
        list(text_lines(path))
    assert str(caught.value).startswith(f"{path}:3: not valid UTF-8: byte 0xff at byte offset 11")


@pytest.mark.parametrize("kind", ["brat", "conll"])
def test_one_endless_line_is_refused_with_memory_bounded(tmp_path: Path, kind: str) -> None:
    """100 MB on one line: refused at its first MiB, about 60 MB peak (the interpreter and
    its modules); before, about 4 times the line."""
    if kind == "brat":
        source = tmp_path / "brat"
        source.mkdir()
        (source / f"{DOCUMENT}.ann").write_bytes(b"T1\tCLAIM 0 5\t" + b"a" * (100 << 20))
        named = source / f"{DOCUMENT}.ann"
    else:
        source = named = tmp_path / "one.conll"
        source.write_bytes(f"-DOCSTART-\t{DOCUMENT} ".encode() + b"a" * (100 << 20))
    out = tmp_path / "out.jsonl"
    status, peak_kb, stderr = cli_peak(
        "convert", source, "--from", kind, "--out", out, "--release", RELEASE, cwd=tmp_path
    )
    assert status == 1 and one_error_line(stderr), stderr
    assert f"{named}:1: {SAYS}" in stderr
    assert peak_kb < 160_000, peak_kb
    assert not out.exists()


def test_a_conll_line_over_the_limit_is_one_located_error(tmp_path: Path) -> None:
    conll = tmp_path / "x.conll"
    conll.write_bytes(f"-DOCSTART-\t{DOCUMENT}\nCGTN\tO\n".encode() + b"x" * (2 << 20))
    result = run_cli("convert", conll, "--from", "conll", "--out", tmp_path / "o.jsonl",
                     "--release", RELEASE)  # fmt: skip
    assert result.returncode == 1 and one_error_line(result.stderr), result.stderr
    assert f"{conll}:3: {SAYS}" in result.stderr
