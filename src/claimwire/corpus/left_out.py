"""The duplicates a build leaves out: the release's ``duplicates.jsonl``.

One JSON object a line, in the order the build met them: ``doc_id`` (the document left out,
by the id it would have had), ``source`` (its input: a file, or ``FILE#LN`` for a JSONL
line), ``kept`` (the kept document it duplicates), ``kind`` (``exact`` or ``near``) and
``similarity`` (their word 5-grams' Jaccard similarity as MinHash estimates it; 1.0 when
exact). The build writes each line as it finds the duplicate (:class:`LeftOut`), holding
only the first few; the manifest lists the file with its checksum like every other file and
keeps only counts (``duplicates``: ``near_threshold``, ``exact``, ``near`` and ``file``).
A release built before this file lists every duplicate in its manifest
(``duplicates.left_out``): :func:`read_left_out` reads either, :func:`left_out_problems`
checks either.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Container, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

from claimwire.corpus.changes import LISTED_AT_MOST
from claimwire.corpus.duplicates import Duplicate
from claimwire.errors import ClaimwireError, shown
from claimwire.model import iter_json_lines
from claimwire.spool import encode

DUPLICATES = "duplicates.jsonl"
KINDS = ("exact", "near")
FIELDS = tuple(f.name for f in fields(Duplicate))
KEY = "duplicates"
"""The manifest's key for them."""
LEGACY_LIST = "left_out"
"""The manifest's list of every duplicate, in releases built before :data:`DUPLICATES`."""
_MANIFEST = "MANIFEST.json"  # release.MANIFEST: release.py imports this module


class LeftOut:
    """The duplicates of one build, each written to ``folder/duplicates.jsonl`` as it is
    added (the file is made by the first); only the first :data:`LISTED_AT_MOST` (what the
    summary and the changelog name) and the counts by kind are held."""

    def __init__(self, folder: Path, near_threshold: float) -> None:
        self._path = folder / DUPLICATES
        self.near_threshold = near_threshold
        self.first: list[Duplicate] = []
        self.counts: Counter[str] = Counter(dict.fromkeys(KINDS, 0))
        self._file: IO[bytes] | None = None

    def add(self, duplicate: Duplicate) -> None:
        if self._file is None:
            self._file = self._path.open("xb")  # closed with the list
        self._file.write(encode(asdict(duplicate)) + b"\n")
        if len(self.first) < LISTED_AT_MOST:
            self.first.append(duplicate)
        self.counts[duplicate.kind] += 1

    def __len__(self) -> int:
        return self.counts.total()

    def close(self) -> None:
        """Finish the file (once every duplicate is added)."""
        if self._file is not None:
            self._file.close()

    def manifest(self) -> dict[str, Any]:
        """The manifest's ``duplicates``: the threshold, the counts and the file, if any."""
        written = {"file": DUPLICATES} if len(self) else {}
        return {"near_threshold": self.near_threshold, **self.counts, **written}


@dataclass(frozen=True, slots=True)
class Found:
    """A problem with the duplicates left out, for :mod:`claimwire.corpus.validate`."""

    code: str
    message: str
    file: str
    line: int | None = None
    doc: str | None = None


def left_out_problems(
    folder: Path, manifest: Mapping[str, Any], documents: Container[str] | None
) -> Iterator[Found]:
    """Everything wrong with the release's duplicates: the manifest's ``duplicates`` (an
    object; its counts and file, or a legacy release's list), each entry (located: the file
    and line, or the list's item), the counts against the entries, and, given the release's
    ``documents``, each ``kept`` one of them. Streamed: nothing is held per entry."""
    listed = manifest.get(KEY)
    if listed is None:
        return
    if not isinstance(listed, Mapping):
        yield Found("manifest-invalid", f"{KEY} is {shown(listed)}, not an object", _MANIFEST)
        return
    files = manifest.get("files", {})
    shape = list(_shape_problems(listed, files))
    yield from shape
    if shape:
        return
    counted: Counter[str | None] = Counter()
    """Entries by kind (``None``: not one of :data:`KINDS`), each counted, right or wrong."""
    try:
        for where, line, entry in _entries(folder, listed):
            kind = entry.get("kind") if isinstance(entry, Mapping) else None
            counted[kind if kind in KINDS else None] += 1
            yield from _entry_problems(where, line, entry, listed, documents)
    except ClaimwireError as error:  # a line that is not JSON: the rest is not read
        yield Found("bad-json", error.message, DUPLICATES, error.line)
        return
    if LEGACY_LIST not in listed:
        yield from _count_problems(listed, files, counted)


def _entry_problems(
    where: str,
    line: int,
    entry: Any,
    listed: Mapping[str, Any],
    documents: Container[str] | None,
) -> Iterator[Found]:
    """One entry's problem, if it has one (:func:`_entry_problem`; then whether the
    ``documents`` have its kept one), located by :func:`_place`."""
    problem = _entry_problem(entry, listed.get("near_threshold"))
    if problem is not None:
        file, at, field = _place(where, line, problem[0])
        doc = entry.get("doc_id") if isinstance(entry, Mapping) else None
        doc = doc if isinstance(doc, str) else None
        yield Found("bad-record", f"field '{field}': {problem[1]}", file, at, doc)
    elif documents is not None and entry["kept"] not in documents:
        file, at, _ = _place(where, line, "kept")
        said = f"kept '{entry['kept']}' is not a document of this release"
        said = said if where == DUPLICATES else f"{where}: {said}"
        yield Found("unknown-document", said, file, at, entry["kept"])


def _place(where: str, line: int, field: str) -> tuple[str, int | None, str]:
    """``(file, line, field)`` of an entry's field: a line of :data:`DUPLICATES`, or in the
    manifest, a field of the legacy list's item (``duplicates.left_out[4].kind``)."""
    if where == DUPLICATES:
        return DUPLICATES, line, field
    return _MANIFEST, None, f"{where}.{field}".rstrip(".")


def _shape_problems(listed: Mapping[str, Any], files: Any) -> Iterator[Found]:
    """The manifest's ``duplicates``: a threshold in (0, 1]; a legacy list, or counts by kind
    and, when there are any, ``file`` naming :data:`DUPLICATES`, which ``files`` lists."""
    threshold = listed.get("near_threshold")
    if threshold is not None and not _number(threshold, above_zero=True):
        said = f"{KEY}.near_threshold is {shown(threshold)}, not a number in (0, 1]"
        yield Found("manifest-invalid", said, _MANIFEST)
    if LEGACY_LIST in listed:
        if not isinstance(listed[LEGACY_LIST], list):
            said = f"{KEY}.{LEGACY_LIST} is {shown(listed[LEGACY_LIST])}, not a list"
            yield Found("manifest-invalid", said, _MANIFEST)
        return
    for kind in KINDS:
        count = listed.get(kind)
        if type(count) is not int or count < 0:
            said = f"{KEY}.{kind} is {shown(count)}, not a count (an integer, 0 or more)"
            yield Found("manifest-invalid", said, _MANIFEST)
    file = listed.get("file")
    if file is not None and file != DUPLICATES:
        said = f"{KEY}.file is {shown(file)}; the duplicates are in {DUPLICATES}"
        yield Found("manifest-invalid", said, _MANIFEST)
        return
    in_files = isinstance(files, Mapping) and DUPLICATES in files
    if file is not None and not in_files:
        said = f"{KEY}.file names {DUPLICATES}, which files does not list"
        yield Found("manifest-invalid", said, _MANIFEST)
    elif file is None and in_files:
        said = f"files lists {DUPLICATES}, which {KEY}.file does not name"
        yield Found("manifest-invalid", said, _MANIFEST)


def _count_problems(
    listed: Mapping[str, Any], files: Any, counted: Counter[str | None]
) -> Iterator[Found]:
    """The manifest's counts by kind (unless a line's kind is unknown), and the file's
    record count, against its lines."""
    for kind in KINDS if not counted[None] else ():
        if listed[kind] != counted[kind]:
            said = f"{KEY}.{kind} is {listed[kind]}, {DUPLICATES} holds {counted[kind]}"
            yield Found("manifest-mismatch", said, _MANIFEST)
    entry = files.get(DUPLICATES) if isinstance(files, Mapping) else None
    records = entry.get("records") if isinstance(entry, Mapping) else None
    if records is not None and records != counted.total():
        said = f"{counted.total()} entries, manifest says {shown(records)}"
        yield Found("count-mismatch", said, DUPLICATES)


def _entries(folder: Path, listed: Mapping[str, Any]) -> Iterator[tuple[str, int, Any]]:
    """``(where, line, entry)`` of each duplicate: a line of the file, or an item of a legacy
    manifest's list (``where`` names the item, ``line`` its place). A line that is not JSON
    is a located error."""
    legacy = listed.get(LEGACY_LIST)
    if isinstance(legacy, list):
        for at, entry in enumerate(legacy):
            yield f"{KEY}.{LEGACY_LIST}[{at}]", at, entry
    elif listed.get("file") == DUPLICATES:
        for lineno, obj in iter_json_lines(folder / DUPLICATES, records=True):
            yield DUPLICATES, lineno, obj


def _number(value: Any, *, above_zero: bool = False) -> bool:
    """A JSON number in [0, 1] (in (0, 1] ``above_zero``)."""
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return False
    return (value > 0 if above_zero else value >= 0) and value <= 1


def _entry_problem(entry: Any, near_threshold: Any) -> tuple[str, str] | None:
    """``(field, what is wrong)`` with one entry, or ``None``: an object with exactly the
    fields of :class:`Duplicate`, ids and source non-empty strings, a kind of :data:`KINDS`,
    a similarity in [0, 1] (1 when exact; at least ``near_threshold``, if a number, when
    near)."""
    if not isinstance(entry, Mapping):
        return "", f"expected an object, got {shown(entry)}"
    for key in entry:
        if key not in FIELDS:
            return str(key), f"unknown field (expected only {', '.join(FIELDS)})"
    for key in ("doc_id", "source", "kept"):
        value = entry.get(key)
        if not isinstance(value, str) or not value:
            return key, f"expected a non-empty string, got {shown(value)}"
    kind, similarity = entry.get("kind"), entry.get("similarity")
    if kind not in KINDS:
        return "kind", f"expected 'exact' or 'near', got {shown(kind)}"
    if not _number(similarity):
        return "similarity", f"expected a number from 0 to 1, got {shown(similarity)}"
    if kind == "exact" and similarity != 1:
        return "similarity", f"an exact duplicate's is 1, got {shown(similarity)}"
    if kind == "near" and _number(near_threshold) and similarity < near_threshold:
        return "similarity", f"{similarity} is below the near_threshold, {near_threshold}"
    return None


def read_left_out(folder: Path, manifest: Mapping[str, Any]) -> Iterator[Duplicate]:
    """The duplicates a release's build left out, in order: its ``duplicates.jsonl``, or a
    legacy release's manifest list. A bad entry is a located error (file, line, field)."""
    listed = manifest.get(KEY)
    if not isinstance(listed, Mapping):
        return
    for where, line, entry in _entries(folder, listed):
        problem = _entry_problem(entry, listed.get("near_threshold"))
        if problem is not None:
            file, at, field = _place(where, line, problem[0])
            raise ClaimwireError(problem[1], file=folder / file, line=at, field=field)
        yield Duplicate(**entry)
