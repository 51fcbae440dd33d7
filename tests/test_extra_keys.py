"""A model's predictions often carry keys claimwire does not read: a ``score``, a ``model``.
Such a file is read on the fast path, as one without them is (before, every line went to the
per-field checks: ``eval score`` on 10,000 documents took 20.7 s instead of 8.3 s), and gives
what the per-field checks give: the same records, line numbers and warnings, and the same
errors for the lines only they may judge."""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path
from typing import Any

import pytest

from claimwire import lines as line_reading
from claimwire import model
from claimwire.errors import ClaimwireError
from claimwire.model import Annotation, Relation, decode_columns, read_mixed
from claimwire.record_keys import UnknownKeyWarning, unknown_keys

from .helpers import REPO

RUN = REPO / "eval" / "runs" / "rules" / "predictions.jsonl"
MODEL = 'gpt "mini" \\ v2'
"""An extra key's value with a quote and a backslash: the proof counts strings by quotes."""


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _scored_run(copies: int) -> list[dict[str, Any]]:
    """The rules run ``copies`` times over (ids made unique), annotations and relations,
    each line with a ``score`` and, from line 100 on, a ``model``; a few with an object."""
    rng = random.Random(7)
    base = [json.loads(line) for line in RUN.read_text(encoding="utf-8").splitlines()]
    objs: list[dict[str, Any]] = []
    for copy in range(copies):
        for obj in base:
            renamed = {
                key: f"{value}#{copy}" if key in ("id", "head", "tail") else value
                for key, value in obj.items()
            }
            renamed["score"] = round(rng.random(), 4)
            if len(objs) >= 99:
                renamed["model"] = MODEL
            if len(objs) % 37 == 5:
                renamed["probs"] = {"CLAIM": [0.25, 'a"b'], "O": None}
            objs.append(renamed)
    return objs


def _strict(path: Path) -> tuple[list[tuple[int, Any]], list[str]]:
    """What the per-field checks make of ``path``, line by line: each line's number and
    record, and the unknown keys with the line of their first occurrence."""
    records: list[tuple[int, Any]] = []
    first: dict[str, int] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        obj = json.loads(line)
        kind = Relation if "head" in obj or "tail" in obj else Annotation
        records.append((lineno, kind.from_dict(obj)))
        for key, _ in unknown_keys(obj, kind.__struct_fields__, {}):
            first.setdefault(key, lineno)
    return records, [f"{path}:{n}: field '{key}'" for key, n in first.items()]


def _read(path: Path) -> tuple[list[tuple[int, Any]], list[str]]:
    with pytest.warns(UnknownKeyWarning) as caught:
        records = sorted(read_mixed(path), key=lambda pair: pair[0])
    return records, [str(w.message).split(": unknown key")[0] for w in caught]


def _counted_tries(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The extra keys of each decoding tried with extra keys, from now on."""
    made = model._extras_decoder
    tries: list[tuple[str, ...]] = []

    def counted(kind: type, keys: tuple[str, ...]) -> Any:
        tries.append(keys)
        return made(kind, keys)

    monkeypatch.setattr(model, "_extras_decoder", counted)
    return tries


@pytest.fixture
def no_strict_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a line goes to the per-field checks."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a line read by the per-field checks")

    monkeypatch.setattr(model, "decode_lines", refuse)


def test_extra_keys_are_read_on_the_fast_path_as_the_checks_read_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "scored.jsonl"
    path.write_text("".join(_line(obj) + "\n" for obj in _scored_run(6)), encoding="utf-8")
    expected = _strict(path)
    assert expected[1] == [
        f"{path}:1: field 'score'",
        f"{path}:6: field 'probs'",
        f"{path}:100: field 'model'",
    ]
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 4096)  # many blocks: keys met in later ones
    monkeypatch.setattr(model, "decode_lines", lambda *a, **k: pytest.fail("strict path"))
    assert _read(path) == expected


def test_grouped_lines_with_extra_keys_take_the_fast_path(
    tmp_path: Path, no_strict_path: None
) -> None:
    """``decode_columns`` (predictions out of document order, grouped first)."""
    objs = _scored_run(2)
    lines = [_line(obj).encode() for obj in objs]
    numbers = list(range(10, 10 + len(lines)))
    with pytest.warns(UnknownKeyWarning) as caught:
        got_numbers, records = decode_columns(tmp_path / "p.jsonl", numbers, lines)
    notes = [n for n, obj in zip(numbers, objs, strict=True) if "head" not in obj]
    assert got_numbers == notes + [n for n in numbers if n not in notes]
    by_number = dict(zip(got_numbers, records, strict=True))
    for number, obj in zip(numbers, objs, strict=True):
        kind = Relation if "head" in obj else Annotation
        assert by_number[number] == kind.from_dict(obj)
    assert [str(w.message).split(": unknown key")[0] for w in caught] == [
        f"{tmp_path / 'p.jsonl'}:10: field 'score'",
        f"{tmp_path / 'p.jsonl'}:15: field 'probs'",
        f"{tmp_path / 'p.jsonl'}:109: field 'model'",
    ]


def test_a_file_without_extra_keys_after_one_with_them_warns_of_nothing(
    tmp_path: Path,
) -> None:
    """The extra keys a block named are tried first on the next one, of any file."""
    scored, plain = tmp_path / "scored.jsonl", tmp_path / "plain.jsonl"
    objs = _scored_run(1)
    scored.write_text("".join(_line(obj) + "\n" for obj in objs), encoding="utf-8")
    for obj in objs:
        del obj["score"]
        obj.pop("probs", None)
    plain.write_text("".join(_line(obj) + "\n" for obj in objs), encoding="utf-8")
    with pytest.warns(UnknownKeyWarning):
        list(read_mixed(scored))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sorted(read_mixed(plain), key=lambda pair: pair[0]) == _strict(plain)[0]


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        ("score twice", 3, "key 'score' appears twice"),
        ("tail on an annotation", 3, "field 'type': missing"),
        ("a float offset", 3, "field 'start'"),
    ],
)
def test_lines_only_the_checks_may_judge_are_judged_by_them(
    tmp_path: Path, change: str, line: int, message: str
) -> None:
    objs = [obj for obj in _scored_run(1) if "head" not in obj][:5]
    lines = [_line(obj) for obj in objs]
    if change == "score twice":
        lines[2] = lines[2][:-1] + ',"score":1}'
    elif change == "tail on an annotation":
        lines[2] = lines[2][:-1] + ',"tail":"x"}'
    else:
        lines[2] = lines[2].replace(
            f'"start":{objs[2]["start"]},', f'"start":{objs[2]["start"]}.0,'
        )
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(f"{text}\n" for text in lines), encoding="utf-8")
    with warnings.catch_warnings(), pytest.raises(ClaimwireError) as caught:
        warnings.simplefilter("ignore")
        list(read_mixed(path))
    assert caught.value.line == line
    assert message in str(caught.value)


def test_many_extra_keys_still_read_as_the_checks_read_them(tmp_path: Path) -> None:
    """Past the fast path's few extra keys a line, the per-field checks read it."""
    objs = [obj for obj in _scored_run(1) if "head" not in obj][:20]
    for obj in objs:
        obj.update({f"k{i}": i for i in range(model._MOST_EXTRAS + 1)})
    path = tmp_path / "many.jsonl"
    path.write_text("".join(_line(obj) + "\n" for obj in objs), encoding="utf-8")
    assert _read(path) == _strict(path)


def test_keys_that_vary_from_line_to_line_go_to_the_strict_reader_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block whose every line names another key was decoded once per key before the strict
    reader took it (1.8x slower than before the fast path took extra keys); now its keys
    are learned at once, and past the most a block may name it is read as the strict reader
    reads it."""
    objs = [obj for obj in _scored_run(1) if "head" not in obj][:40]
    for i, obj in enumerate(objs):
        obj.pop("score")
        obj.pop("model", None)
        obj.pop("probs", None)
        obj[f"k{i % 9}"] = i
    path = tmp_path / "varying.jsonl"
    path.write_text("".join(_line(obj) + "\n" for obj in objs), encoding="utf-8")
    expected = _strict(path)
    calls = _counted_tries(monkeypatch)
    assert _read(path) == expected
    assert len(calls) <= 2


def test_after_a_block_of_too_many_keys_the_next_blocks_skip_the_fast_path_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose blocks each name more keys than the fast path takes would cost two
    decodings a block before the strict reader reads it; after one such block, the next
    :data:`model._SKIPPED_TRIES` tries go to the strict reader at once (a block not
    decoded whole is tried again by lines of each kind: two tries). What is read is the same."""
    objs = [obj for obj in _scored_run(8) if "head" not in obj]
    for i, obj in enumerate(objs):
        obj.pop("model", None)
        obj.pop("probs", None)
        obj.update({f"k{(i + j) % 12}": j for j in range(model._MOST_EXTRAS + 1)})
    path = tmp_path / "many-keys.jsonl"
    path.write_text("".join(_line(obj) + "\n" for obj in objs), encoding="utf-8")
    expected = _strict(path)
    monkeypatch.setattr(line_reading, "_CHUNK_BYTES", 4096)
    blocks = sum(1 for _ in line_reading.blocks(path))
    assert blocks > 2 * (model._SKIPPED_TRIES + 1)
    tries = _counted_tries(monkeypatch)
    assert _read(path) == expected
    assert 2 <= len(tries) <= blocks // 4  # a try, then a skip; before, a try every block
