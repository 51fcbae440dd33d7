"""The documents an annotator completed, those where they found nothing included.

A set holds records, and a document its annotator completed without marking anything holds
none: from the records alone, it cannot be told from a document never opened. So beside a
set, a plain list says which documents its annotator completed: ``NAME.completed.txt``
beside ``NAME.jsonl`` (``completed.txt`` inside a set's folder), one document id a line.
``annotate pull`` writes it from Label Studio's submitted annotations (a skipped task is not
completed), ``convert --from FORMAT --completed`` from the documents the export holds. Coverage
(:mod:`claimwire.eval.coverage`) counts a document it lists as annotated, with or without
records; a set without one counts only the documents it holds records for. A listed id the
release lacks is an error, as a record naming one is (:class:`Met`).

The ids are held as sorted 64-bit digests (8 bytes a document), looked up a batch at a time.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claimwire.errors import ClaimwireError, shown
from claimwire.files import atomic_writer
from claimwire.lines import DOCUMENT_LINE, line_blocks, numbered_lines, plain_name
from claimwire.storage import fetch_beside, is_uri, key_name, local

__all__ = [
    "COMPLETED",
    "Completed",
    "Met",
    "NotInRelease",
    "carry_completed",
    "completed_ids",
    "completed_name",
    "completed_path",
    "local_set",
    "read_completed",
    "write_completed",
]

COMPLETED = "completed.txt"
"""The list's name inside a set's folder; beside a set file, ``NAME.`` comes first."""
LONGEST_ID = 256
"""The longest document id a line may hold (a release's ids are far shorter)."""
_SET_SUFFIXES = (".jsonl", ".json")


def completed_path(set_path: Path) -> Path:
    """Where the list of ``set_path``'s completed documents is: ``NAME.completed.txt``
    beside a set file ``NAME.jsonl`` (``.jsonl.zst``, ``.JSONL``: in any case),
    ``completed.txt`` in a set folder."""
    if set_path.is_dir():
        return set_path / COMPLETED
    return set_path.with_name(completed_name(set_path.name))


def completed_name(set_name: str) -> str:
    """The name of the list beside a set file named ``set_name``: ``NAME.completed.txt``."""
    name = plain_name(set_name)
    for suffix in _SET_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return f"{name[: -len(suffix)]}.{COMPLETED}"
    return f"{set_name}.{COMPLETED}"


def local_set(value: str | Path) -> Path:
    """The local path to read the annotation set ``value`` names
    (:func:`claimwire.storage.local`): for a URI naming a set file, the list of its completed
    documents beside it in storage, if there is one, is copied beside its local copy (a set
    folder's list is inside it, copied with it)."""
    path = local(value)
    if isinstance(value, str) and is_uri(value) and path.is_file():
        fetch_beside(value, completed_name(key_name(value)), path)
    return path


def _digest(document_id: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(document_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    )


def _digests(ids: Sequence[str]) -> Any:
    import numpy as np

    return np.fromiter(map(_digest, ids), dtype=np.uint64, count=len(ids))


def _held(digests: Any, wanted: Any) -> Any:
    """Which of ``wanted`` the sorted ``digests`` hold (a boolean array)."""
    import numpy as np

    if not len(digests):
        return np.zeros(len(wanted), dtype=bool)
    at = np.searchsorted(digests, wanted).clip(max=len(digests) - 1)
    return digests[at] == wanted


@dataclass(frozen=True)
class Completed:
    """A set's completed documents: where the list is (what its errors name), and its ids'
    digests, sorted."""

    path: Path
    digests: Any
    """A sorted numpy array of unsigned 64-bit digests, one per id."""

    def __len__(self) -> int:
        return len(self.digests)

    def among(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` the list holds."""
        if not ids or not len(self.digests):
            return set()
        held = _held(self.digests, _digests(ids)).tolist()
        return {document for document, found in zip(ids, held, strict=True) if found}


class NotInRelease(ClaimwireError):
    """A listed id the release lacks: the input's error, never a cue to read it another way."""


class Met:
    """Which ids of a set's list (none without one) a pass over the release's documents met,
    a batch at a time (:meth:`add`); one never met is not a document of the release, an error
    as a record naming one is (:meth:`raise_unmet`). One byte a listed id."""

    def __init__(self, completed: Completed | None) -> None:
        import numpy as np

        self.completed = completed
        self.met = np.zeros(len(completed) if completed is not None else 0, dtype=bool)

    def add(self, ids: Sequence[str]) -> None:
        """The release's documents ``ids`` (each document once in the pass)."""
        import numpy as np

        if self.completed is None or not ids or not len(self.met):
            return
        digests = self.completed.digests
        wanted = _digests(ids)
        at = np.searchsorted(digests, wanted).clip(max=len(digests) - 1)
        self.met[at[digests[at] == wanted]] = True

    def raise_unmet(self, release: Path) -> None:
        """After the pass: the first listed id the release lacks, as a located error (the
        list's file and line) counting the others."""
        if self.completed is None or self.met.all():
            return
        unmet = self.completed.digests[~self.met]
        path = self.completed.path
        lines = _numbered(path)
        while chunk := list(itertools.islice(lines, 4096)):
            held = _held(unmet, _digests([document for _, document in chunk]))
            if held.any():
                lineno, document = chunk[int(held.argmax())]
                more = len(unmet) - 1
                others = f" ({more} more listed ids are not either)" if more else ""
                raise NotInRelease(
                    f"{shown(document)} is not a document of the release {release}{others}: "
                    "a list of completed documents names documents of the release the set "
                    "annotates; remove the line, or name that release (--release)",
                    file=path,
                    line=lineno,
                )


def read_completed(set_path: Path) -> Completed | None:
    """The list beside the set at ``set_path``, or None if it has none. A line that is not
    a document id (one with a blank or a control character inside, or longer than
    :data:`LONGEST_ID` characters) is an error naming the file and line; blank lines are
    skipped; an id listed twice counts once."""
    import numpy as np

    path = completed_path(set_path)
    if not _listed(path):
        return None
    digests = np.fromiter((_digest(document) for _, document in _numbered(path)), np.uint64)
    return Completed(path, np.unique(digests))


def completed_ids(set_path: Path) -> frozenset[str]:
    """The ids the list beside ``set_path`` names, checked as :func:`read_completed` checks
    them (none without a list): for a set held in memory whole."""
    path = completed_path(set_path)
    if not _listed(path):
        return frozenset()
    return frozenset(document for _, document in _numbered(path))


def carry_completed(source: Path, out: Path) -> Path | None:
    """Write the list beside the set ``source`` (checked as it is read) beside ``out``, a set
    written from it, atomically: call it before ``out`` is put in place. None when ``source``
    has no list; then a list already beside ``out`` is removed (it would name another set's
    documents)."""
    listed = completed_path(source)
    if not _listed(listed):
        if _listed(completed_path(out)):
            completed_path(out).unlink(missing_ok=True)
        return None
    return write_completed(out, (document for _, document in _numbered(listed)))


def _listed(path: Path) -> bool:
    """Whether the list at ``path`` is there: one whose name is past the system's limit
    (``NAME.completed.txt`` beside a set named with 242–255 bytes) cannot be, so is not."""
    try:
        return path.is_file()
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            return False
        raise


def _numbered(path: Path) -> Iterator[tuple[int, str]]:
    """Each listed id with its line number, checked."""
    for first, chunk in line_blocks(path, limit=DOCUMENT_LINE):
        for lineno, line in numbered_lines(first, chunk):
            yield lineno, _document_id(path, lineno, line)


def _document_id(path: Path, lineno: int, line: bytes) -> str:
    try:
        text = line.decode("utf-8").strip()
    except UnicodeDecodeError as error:
        raise ClaimwireError(f"not valid UTF-8: {error.reason}", file=path, line=lineno) from None
    if len(text) > LONGEST_ID or not text.isprintable() or any(c.isspace() for c in text):
        shown = text if len(text) <= 60 else f"{text[:60]}…"
        raise ClaimwireError(
            f"{shown!r} is not a document id: expected one id a line, at most {LONGEST_ID} "
            "characters, no blank or control character inside",
            file=path,
            line=lineno,
        )
    return text


def write_completed(set_path: Path, ids: Iterable[str]) -> Path:
    """Write the list of ``set_path``'s completed documents, one id a line, in the order
    given (atomically); returns its path."""
    path = completed_path(set_path)
    with atomic_writer(path) as handle:
        for document_id in ids:
            handle.write(f"{document_id}\n")
    return path
