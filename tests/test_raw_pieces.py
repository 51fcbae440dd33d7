"""The build's raw inputs cut into pieces that each read their own documents (what the Ray
engine hands its actors): together, in order, exactly the documents the whole part reads,
numbered by their line in the file whatever range they fall in; errors located as before."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimwire.corpus import line_ranges as line_ranges_module
from claimwire.corpus.ingest import JsonlLines, RawFiles, Unread
from claimwire.errors import ClaimwireError
from claimwire.files import sha256

_LINE = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8).map(
        lambda text: json.dumps({"text": text + "x"}, ensure_ascii=False)
    ),
    st.sampled_from(["", "  ", "\r"]),  # blank lines: numbered, never documents
)


def _read(part: RawFiles | JsonlLines) -> list[tuple[int, object]]:
    return list(part)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(_LINE, max_size=40),
    ending=st.sampled_from(["\n", "\r\n"]),
    last_break=st.booleans(),
    size=st.integers(1, 9),
    read_bytes=st.sampled_from([7, 64, 1 << 20]),
)
def test_the_pieces_read_the_parts_documents_in_order_with_their_line_numbers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[str],
    ending: str,
    last_break: bool,
    size: int,
    read_bytes: int,
) -> None:
    """Whatever the blank lines, line ends and the file's last break, and wherever the
    reads of the cutting pass end (7 bytes: inside lines and characters)."""
    monkeypatch.setattr(line_ranges_module, "_READ_BYTES", read_bytes)
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes((ending.join(lines) + (ending if last_break and lines else "")).encode())
    part = RawFiles(tmp_path, ((3, feed),))
    pieces = list(part.pieces(size))
    assert all(isinstance(piece, JsonlLines) for piece in pieces)
    assert [document for piece in pieces for document in _read(piece)] == _read(part)
    assert all(len(_read(piece)) <= size for piece in pieces)
    assert all(piece.digest == sha256(feed) for piece in pieces)  # type: ignore[union-attr]


def test_a_piece_starts_after_every_nth_line_numbered_from_there(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"text": f"n° {i}"}) + "\n" for i in range(1, 8)))
    pieces = list(RawFiles(tmp_path, ((0, feed),)).pieces(3))
    assert [piece.span.first_line for piece in pieces] == [1, 4, 7]  # type: ignore[union-attr]
    assert [[raw.source_line for _, raw in piece] for piece in pieces] == [  # type: ignore[union-attr]
        [1, 2, 3],
        [4, 5, 6],
        [7],
    ]


def test_a_bad_line_in_a_later_piece_is_named_by_its_line_in_the_file(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    lines = [json.dumps({"text": f"n° {i}"}) for i in range(1, 11)]
    lines[7] = json.dumps({"text": 42})
    feed.write_text("\n".join(lines) + "\n")
    pieces = list(RawFiles(tmp_path, ((0, feed),)).pieces(3))
    assert len(list(pieces[0])) == 3
    [raised] = _unread(pieces[2])
    [whole] = _unread(RawFiles(tmp_path, ((0, feed),)))
    assert str(raised) == str(whole)
    assert str(raised).endswith("feed.jsonl:8: field 'text': expected a non-empty string")


def _unread(piece: Iterable[tuple[int, object]]) -> list[ClaimwireError]:
    """The errors of the inputs a piece could not read (the build names them all, then fails)."""
    return [item.error for _, item in piece if isinstance(item, Unread)]


def test_a_jsonl_input_with_bad_bytes_is_one_piece_failing_as_the_whole_file(
    tmp_path: Path,
) -> None:
    """Its bytes are checked before any of its lines, as the local engine does: the error is
    the same, wherever the bad bytes are and whatever the lines before them hold."""
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b'{"text": 1}\n' + b'{"text": "un"}\n' * 5 + b'{"text": "d\xe9j\xe0"}\n')
    (piece,) = RawFiles(tmp_path, ((0, feed),)).pieces(2)
    assert isinstance(piece, RawFiles)
    [raised] = _unread(piece)
    assert raised.line == 7 and "not valid UTF-8: byte 0xe9" in str(raised)


def test_other_files_are_pieces_of_n_files_between_the_jsonl_ranges(tmp_path: Path) -> None:
    files = []
    for i, name in enumerate(["a.txt", "b.txt", "c.txt", "d.jsonl", "e.html"]):
        path = tmp_path / name
        path.write_text(json.dumps({"text": "un"}) + "\n" if name.endswith(".jsonl") else "un")
        files.append((i, path))
    pieces = list(RawFiles(tmp_path, tuple(files)).pieces(2))
    assert [type(piece).__name__ for piece in pieces] == [
        "RawFiles", "RawFiles", "JsonlLines", "RawFiles"
    ]  # fmt: skip
    assert [item for piece in pieces for item in _read(piece)] == _read(
        RawFiles(tmp_path, tuple(files))
    )
