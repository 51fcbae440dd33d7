"""A release's gold annotations a second time, as ready columns.

``corpus build`` writes, beside each part of ``annotations.jsonl`` (the file or each shard),
a ``.columns.npz`` (numpy's uncompressed zip of arrays, read without pickles) holding the same
annotations as columns, sorted by document: the document's position in the release's
documents, start, end (-1: none), label code, each id, and every attribute as (row, name
code, value code) with the values' JSON text. The manifest lists them (checksummed, like every
file) under ``gold_columns``: ``{annotation part: columns file}``. ``corpus validate`` proves
each equal to its JSONL (:func:`columns_problems`); ``eval score`` reads them instead of
decoding the gold (:class:`GoldColumns`), and reads the JSONL of a release without them.
Strings are stored as UTF-8 bytes and end offsets (no fixed-width string arrays: one long
value would widen every one).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray

from claimwire.in_order import DocumentHashes
from claimwire.lines import ZSTD_SUFFIX
from claimwire.model import Annotation, read_records

COLUMNS_KEY = "gold_columns"
"""Manifest key: ``{annotation part: its columns file}``."""
SUFFIX = ".columns.npz"
FORMAT = 1
"""The columns' layout, stored in each file (a reader refuses another)."""

Ints = NDArray[np.int64]
_ENCODE = msgspec.json.Encoder()


class ColumnsUnavailable(Exception):
    """The columns cannot be written or read for this release (the JSONL is read)."""


def columns_name(part: str) -> str:
    """The columns file of an annotation part: ``annotations-00000.jsonl[.zst]`` →
    ``annotations-00000.columns.npz``."""
    return part.removesuffix(ZSTD_SUFFIX).removesuffix(".jsonl") + SUFFIX


class DocumentPositions:
    """Each document's position in the release's documents, by the 64-bit hash of its id
    (16 bytes a document); :class:`ColumnsUnavailable` if two ids share a hash."""

    def __init__(self, files: Sequence[Path]) -> None:
        self._documents = DocumentHashes(files, ColumnsUnavailable)
        self.count = self._documents.count

    def of(self, doc_ids: Sequence[str]) -> Ints:
        """The position of each document (-1: not a document of the release)."""
        at, known = self._documents.found(doc_ids)
        return np.where(known, self._documents.positions[at], -1).astype(np.int64)


def _strings(values: Sequence[str]) -> tuple[NDArray[np.uint8], Ints]:
    """Strings as their UTF-8 bytes joined and each one's end offset."""
    encoded = [value.encode("utf-8") for value in values]
    ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
    return np.frombuffer(b"".join(encoded), np.uint8).copy(), ends.astype(np.int64)


def _unstrings(data: NDArray[np.uint8], ends: Ints, rows: Iterable[int] | None = None) -> list[str]:
    """The strings :func:`_strings` stored (only ``rows``, if given)."""
    raw = data.tobytes()
    bounds = ends.tolist()
    chosen = range(len(bounds)) if rows is None else rows
    return [raw[(bounds[i - 1] if i else 0) : bounds[i]].decode("utf-8") for i in chosen]


class _Vocabulary:
    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, value: str) -> int:
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.codes)
        return found

    @property
    def values(self) -> list[str]:
        return list(self.codes)


def part_columns(annotations: Iterable[Annotation], positions: DocumentPositions) -> dict[str, Any]:
    """The arrays of one annotation part's columns file, sorted by document (stable)."""
    docs: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    labels: list[int] = []
    ids: list[str] = []
    attribute_rows: list[int] = []
    attribute_names: list[int] = []
    attribute_values: list[int] = []
    label_codes, name_codes, value_codes = _Vocabulary(), _Vocabulary(), _Vocabulary()
    for row, annotation in enumerate(annotations):
        docs.append(annotation.doc_id)
        starts.append(-1 if annotation.start is None else annotation.start)
        ends.append(-1 if annotation.end is None else annotation.end)
        labels.append(label_codes.code(annotation.label))
        ids.append(annotation.id)
        for name, value in annotation.attributes.items():
            attribute_rows.append(row)
            attribute_names.append(name_codes.code(name))
            attribute_values.append(value_codes.code(_ENCODE.encode(value).decode("utf-8")))
    doc = positions.of(docs)
    if len(doc) and int(doc.min()) < 0:
        raise ColumnsUnavailable  # a record of no document: validation names it
    order = np.argsort(doc, kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    attribute_row = (
        rank[np.asarray(attribute_rows, np.int64)] if attribute_rows else np.zeros(0, np.int64)
    )
    by_row = np.argsort(attribute_row, kind="stable")
    id_data, id_ends = _strings([ids[i] for i in order.tolist()])
    label_data, label_ends = _strings(label_codes.values)
    name_data, name_ends = _strings(name_codes.values)
    value_data, value_ends = _strings(value_codes.values)
    return {
        "format": np.array([FORMAT], np.int64),
        "documents": np.array([positions.count], np.int64),
        "doc": doc[order],
        "start": np.asarray(starts, np.int64)[order],
        "end": np.asarray(ends, np.int64)[order],
        "label": np.asarray(labels, np.int64)[order],
        "id_data": id_data,
        "id_ends": id_ends,
        "label_data": label_data,
        "label_ends": label_ends,
        "attribute_row": attribute_row[by_row],
        "attribute_name": np.asarray(attribute_names, np.int64)[by_row]
        if attribute_names
        else np.zeros(0, np.int64),
        "attribute_value": np.asarray(attribute_values, np.int64)[by_row]
        if attribute_values
        else np.zeros(0, np.int64),
        "name_data": name_data,
        "name_ends": name_ends,
        "value_data": value_data,
        "value_ends": value_ends,
    }


def write_columns(
    folder: Path, annotation_parts: Sequence[str], document_parts: Sequence[str]
) -> dict[str, str]:
    """Write the columns file of each annotation part of the release being built in
    ``folder``; ``{part: columns file}``."""
    positions = DocumentPositions([folder / part for part in document_parts])
    written = {}
    for part in annotation_parts:
        name = columns_name(part)
        arrays = part_columns(read_records(folder / part, Annotation), positions)
        with (folder / name).open("wb") as out:
            np.savez(out, **arrays)
        written[part] = name
    return written


UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)
"""What reading a damaged columns file raises (a truncated zip, a member's bad CRC-32)."""


def _load(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    if arrays.get("format", np.zeros(0)).tolist() != [FORMAT]:
        raise ColumnsUnavailable
    return arrays


def columns_problems(
    folder: Path,
    manifest: dict[str, Any],
    annotation_parts: Sequence[str],
    document_parts: Sequence[str],
) -> Iterator[tuple[str, str]]:
    """``(file, problem)`` for each columns file the manifest lists that does not hold its
    annotation part's records (decoded again and compared array by array), and for a list
    that is not a table of the annotation parts."""
    listed = manifest.get(COLUMNS_KEY)
    if listed is None:
        return
    if (
        not isinstance(listed, dict)
        or sorted(listed) != sorted(annotation_parts)
        or any(listed[part] != columns_name(part) for part in annotation_parts)
    ):
        yield "MANIFEST.json", f"{COLUMNS_KEY} does not list one columns file per annotation part"
        return
    try:
        positions = DocumentPositions([folder / part for part in document_parts])
    except ColumnsUnavailable:
        yield "MANIFEST.json", f"{COLUMNS_KEY}: the documents' ids cannot be positioned"
        return
    for part in annotation_parts:
        name = listed[part]
        try:
            stored = _load(folder / name)
            expected = part_columns(read_records(folder / part, Annotation), positions)
        except ColumnsUnavailable:
            yield name, "not columns of this release's annotations"
            continue
        except UNREADABLE as error:
            yield name, f"not a readable columns file: {error}"
            continue
        differing = [
            key
            for key in sorted(set(stored) | set(expected))
            if key not in stored
            or key not in expected
            or stored[key].dtype != expected[key].dtype
            or not np.array_equal(stored[key], expected[key])
        ]
        if differing:
            yield name, f"differs from {part} in {', '.join(differing)}"


class GoldBatch:
    """The gold annotations of a batch of documents, as columns (one part's rows or several
    parts' concatenated); the strings of a row are decoded only when asked for."""

    def __init__(self, pieces: list[tuple[dict[str, Any], int, int]], labels: list[str]) -> None:
        self._pieces = pieces
        self.labels = labels
        """Label names, by the codes :attr:`label` uses."""
        self.doc = _joined(pieces, "doc")
        self.start = _joined(pieces, "start")
        self.end = _joined(pieces, "end")
        self.label = _joined(pieces, "label")

    def __len__(self) -> int:
        return len(self.doc)

    def ids(self, rows: Sequence[int]) -> list[str]:
        """The ids of ``rows``."""
        return [self._row_strings(row, "id") for row in rows]

    def _locate(self, row: int) -> tuple[dict[str, Any], int]:
        for arrays, first, last in self._pieces:
            if row < last - first:
                return arrays, first + row
            row -= last - first
        raise IndexError(row)

    def _row_strings(self, row: int, kind: str) -> str:
        arrays, at = self._locate(row)
        return _unstrings(arrays[f"{kind}_data"], arrays[f"{kind}_ends"], [at])[0]

    def attributes(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        """The attributes of ``rows`` (as decoded from the JSONL)."""
        return [self._attributes(row) for row in rows]

    def _attributes(self, row: int) -> dict[str, Any]:
        arrays, at = self._locate(row)
        first, last = arrays["attribute_row"].searchsorted([at, at + 1]).tolist()
        names = arrays["attribute_name"][first:last].tolist()
        values = arrays["attribute_value"][first:last].tolist()
        return {
            arrays["names"][n]: msgspec.json.decode(arrays["values"][v])
            for n, v in zip(names, values, strict=True)
        }

    def values(self, name: str) -> list[Any]:
        """Attribute ``name`` of every row (None where absent or null)."""
        out: list[Any] = [None] * len(self.doc)
        offset = 0
        for arrays, first, last in self._pieces:
            code = arrays["name_codes"].get(name)
            if code is not None:
                lo, hi = arrays["attribute_row"].searchsorted([first, last]).tolist()
                rows = arrays["attribute_row"][lo:hi]
                chosen = arrays["attribute_name"][lo:hi] == code
                decoded = arrays["decoded"]
                for row, value in zip(
                    (rows[chosen] - first + offset).tolist(),
                    arrays["attribute_value"][lo:hi][chosen].tolist(),
                    strict=True,
                ):
                    out[row] = decoded[value]
            offset += last - first
        return out


def _joined(pieces: list[tuple[dict[str, Any], int, int]], name: str) -> Ints:
    if not pieces:
        return np.zeros(0, np.int64)
    if len(pieces) == 1:
        arrays, first, last = pieces[0]
        return arrays[name][first:last]  # type: ignore[no-any-return]
    return np.concatenate([arrays[name][first:last] for arrays, first, last in pieces])


class GoldColumns:
    """The gold annotations of a release as columns, a batch of consecutive documents at a
    time (:meth:`batch`). A part's arrays are loaded when a batch first reaches its documents
    and let go once the batches are past them: memory holds the parts a batch spans.
    :class:`ColumnsUnavailable` if the parts are not in document order (gold given in another
    order): every batch would reach every part, and all would be held at once."""

    def __init__(self, files: Sequence[Path]) -> None:
        self._files = list(files)
        self._ranges: list[tuple[int, int]] = []
        for path in self._files:
            with np.load(path, allow_pickle=False) as data:
                if data["format"].tolist() != [FORMAT]:
                    raise ColumnsUnavailable
                doc = data["doc"]
                self._ranges.append((int(doc[0]), int(doc[-1])) if len(doc) else (0, -1))
        spans = [(low, high) for low, high in self._ranges if high >= low]
        if any(low < high for (_, high), (low, _) in pairwise(spans)):
            raise ColumnsUnavailable  # parts not in document order: a batch would hold them all
        self._loaded: dict[int, dict[str, Any]] = {}
        self.labels: list[str] = []
        """Every label's name, by its code in the batches (the same code in every part)."""
        self._label_codes: dict[str, int] = {}

    def _part(self, index: int) -> dict[str, Any]:
        arrays = self._loaded.get(index)
        if arrays is None:
            arrays = _load(self._files[index])
            labels = _unstrings(arrays["label_data"], arrays["label_ends"])
            recode = np.asarray(
                [self._label_codes.setdefault(label, len(self._label_codes)) for label in labels],
                np.int64,
            )
            self.labels = list(self._label_codes)
            arrays["label"] = recode[arrays["label"]] if len(recode) else arrays["label"]
            arrays["names"] = _unstrings(arrays["name_data"], arrays["name_ends"])
            arrays["values"] = _unstrings(arrays["value_data"], arrays["value_ends"])
            arrays["name_codes"] = {name: i for i, name in enumerate(arrays["names"])}
            arrays["decoded"] = [msgspec.json.decode(value) for value in arrays["values"]]
            self._loaded[index] = arrays
        return arrays

    def batch(self, first: int, last: int) -> GoldBatch:
        """The annotations of the documents at positions ``first`` to ``last - 1``; parts
        wholly before ``first`` are let go."""
        pieces = []
        for index, (low, high) in enumerate(self._ranges):
            if high < first:
                self._loaded.pop(index, None)
                continue
            if low >= last:
                continue
            arrays = self._part(index)
            lo, hi = arrays["doc"].searchsorted([first, last]).tolist()
            if hi > lo:
                pieces.append((arrays, lo, hi))
        return GoldBatch(pieces, self.labels)
