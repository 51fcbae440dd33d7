"""What every format shares: the records an import produced, and what a conversion lost.

A format module is a pair of pure functions: ``to_<format>`` (documents + annotation set →
the format's files) and ``from_<format>`` (files → records located in those files). Neither
drops anything silently: what the target cannot carry comes back as :class:`Loss` items.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from claimwire.errors import ClaimwireError
from claimwire.files import not_a_file
from claimwire.formats.texts import TextCheck, release_form
from claimwire.model import Annotation, Document, Quote, Relation
from claimwire.spool import spilled_sorted


@dataclass(frozen=True, slots=True)
class Loss:
    """One thing a conversion could not carry: its kind, where it was, and what it was."""

    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Place:
    """Where an import met a document: its file, and the unit of the file it is (``line`` 3,
    ``doc`` 2, ``item`` 5; no unit for a file that is one document)."""

    file: Path
    unit: str = ""
    number: int = 0

    def __str__(self) -> str:
        return f"{self.unit} {self.number} of {self.file}" if self.unit else str(self.file)


def met_twice(doc_id: str, first: Place, second: Place, others: int = 0) -> str:
    """The one line refusing an import that met ``doc_id`` at ``first`` and ``second`` (and
    ``others`` more documents twice)."""
    if first.file == second.file and first.unit == second.unit != "":
        where = f"{first.unit}s {first.number} and {second.number} of {first.file}"
    else:
        where = f"{'files ' if not first.unit and not second.unit else ''}{first} and {second}"
    more = f" ({others} more document(s) met twice)" if others else ""
    return (
        f"document {doc_id}: {where}{more} — one document per set, each of its spans would "
        "be there twice; import each annotator's file on its own (and a copied file: remove it)"
    )


@dataclass(slots=True)
class Imported:
    """Records read from a format's files, each with the file and line it came from, what
    the format could not carry, the problems found reading them, and notes (how the file
    was read where the user should know it: a count per note). A reader yields one for each
    unit it reads (a file, a line, a block: one document's records), so an import holds a
    batch of documents' records, never all of them."""

    annotations: list[tuple[Path, int, Annotation]] = field(default_factory=list)
    relations: list[tuple[Path, int, Relation]] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)
    met: list[tuple[str, Place]] = field(default_factory=list)
    """The documents the reader met (found, their text the release's), each with where: one
    a unit; a document met twice is refused."""

    def meet(self, doc_id: str, place: Place) -> None:
        """The reader found the document of the unit at ``place``."""
        self.met.append((doc_id, place))

    def rows(self) -> list[tuple[Path, int, Annotation | Relation]]:
        return [*self.annotations, *self.relations]

    def take(self) -> Imported:
        """What was read since the last call, moved into a new value (this one is emptied)."""
        taken = Imported(
            self.annotations, self.relations, self.losses, self.problems, self.notes, self.met
        )
        self.annotations, self.relations, self.losses, self.problems = [], [], [], []
        self.notes, self.met = Counter(), []
        return taken

    def absorb(self, other: Imported) -> None:
        """``other``'s records, losses and problems appended to these."""
        self.annotations += other.annotations
        self.relations += other.relations
        self.losses += other.losses
        self.problems += other.problems
        self.notes.update(other.notes)
        self.met += other.met


def by_document(
    annotations: Iterable[Annotation], relations: Iterable[Relation]
) -> tuple[dict[str, list[Annotation]], dict[str, list[Relation]]]:
    """Annotations and relations grouped by their document id, in input order."""
    spans: dict[str, list[Annotation]] = {}
    for annotation in annotations:
        spans.setdefault(annotation.doc_id, []).append(annotation)
    links: dict[str, list[Relation]] = {}
    for relation in relations:
        links.setdefault(relation.doc_id, []).append(relation)
    return spans, links


def summarize(losses: Iterable[Loss]) -> dict[str, int]:
    """How many losses of each kind, most frequent first."""
    return dict(Counter(loss.kind for loss in losses).most_common())


@dataclass(slots=True)
class Losses:
    """What a conversion lost, kept as a count per kind and the first ``keep`` items (all of
    them when ``keep`` is None): a big corpus's losses are counted, not held. An import's
    notes (:attr:`Imported.notes`) are counted beside them."""

    keep: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    first: list[Loss] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)

    def extend(self, losses: Iterable[Loss]) -> None:
        for loss in losses:
            self.counts[loss.kind] += 1
            if self.keep is None or len(self.first) < self.keep:
                self.first.append(loss)

    def add(self, unit: Imported) -> None:
        """An import unit's losses and notes."""
        self.extend(unit.losses)
        self.notes.update(unit.notes)

    def summary(self) -> dict[str, int]:
        """How many losses of each kind, most frequent first."""
        return dict(self.counts.most_common())

    def __len__(self) -> int:
        return self.counts.total()


NAMES_HELD = 10_000
"""File names a folder's listing sorts in memory at a time."""


def file_names(folder: Path, suffix: str) -> Iterator[str]:
    """The names of ``folder``'s files ending in ``suffix``, in name order, never all held:
    the folder is listed an entry at a time and sorted :data:`NAMES_HELD` names at a time,
    the sorted runs on disk and merged. A name goes to disk as its UTF-8 bytes (an
    undecodable byte kept as a lone surrogate, as ``os`` gives it), which sort as its
    characters do."""
    with os.scandir(folder) as entries:
        names = (
            entry.name.encode("utf-8", "surrogatepass").decode("latin-1")
            for entry in entries
            if entry.name.endswith(suffix) and require_file(folder / entry.name)
        )
        for name in spilled_sorted(names, run=NAMES_HELD):
            yield name.encode("latin-1").decode("utf-8", "surrogatepass")


def tree_file_names(folder: Path, suffix: str) -> Iterator[str]:
    """The paths under ``folder`` (``c1/doc.ann``, ``/`` between parts) of the files ending
    in ``suffix``, its subfolders' too (brat keeps collections in subfolders), in name order:
    each folder's entries sorted as :func:`file_names` sorts them, a subfolder's files where
    its name sorts (a stack, not recursion: any depth). Hidden folders (``.git``, an editor's
    checkpoints: copies) are skipped; a symbolic link to a folder is not followed (its files
    are read where they are), and one to a folder outside ``folder`` is a located error, as
    ``corpus build`` refuses one in a raw folder: its files would be left out in silence."""
    root = folder.resolve()
    stack = [("", _sorted_tree_entries(folder, root, suffix))]
    while stack:
        prefix, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name = str(entry[0]).encode("latin-1").decode("utf-8", "surrogatepass")
        if entry[1]:
            stack.append(
                (f"{prefix}{name}/", _sorted_tree_entries(folder / prefix / name, root, suffix))
            )
        else:
            yield prefix + name


def _sorted_tree_entries(folder: Path, root: Path, suffix: str) -> Iterator[list[object]]:
    """``[name as latin-1 of its UTF-8 bytes, whether a folder]`` of each entry of ``folder``
    :func:`tree_file_names` keeps, sorted by name :data:`NAMES_HELD` at a time."""
    return spilled_sorted(_tree_entries(folder, root, suffix), key=itemgetter(0), run=NAMES_HELD)


def _tree_entries(folder: Path, root: Path, suffix: str) -> Iterator[list[object]]:
    try:
        scan = os.scandir(folder)
    except OSError as error:
        raise ClaimwireError(
            f"the folder cannot be read: {error.strerror}: its files would be left out",
            file=folder,
        ) from None
    with scan:
        for entry in scan:
            path = folder / entry.name
            shown = entry.name.encode("utf-8", "surrogatepass").decode("latin-1")
            if entry.is_dir(follow_symlinks=False):
                if not entry.name.startswith("."):
                    yield [shown, True]
                continue
            if entry.is_symlink() and path.is_dir():
                target = path.resolve()
                if target != root and root not in target.parents:
                    raise ClaimwireError(
                        f"a symbolic link to a folder outside the folder read ({target}): "
                        "folders are not followed; copy the folder or link its files",
                        file=path,
                    )
                continue
            if entry.name.endswith(suffix) and require_file(path):
                yield [shown, False]


def require_file(path: Path) -> bool:
    """True for a regular file (or a link to one); anything else a folder someone sent may
    hold under an input's name (a FIFO would hang the import, a link to ``/dev/zero`` never
    end) is a located error."""
    what = not_a_file(path)
    if what is not None:
        raise ClaimwireError(
            f"is {what}, not a file: an import reads only regular files", file=path
        )
    return True


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


STEM_MAX = 200
"""Characters of a file stem (a file name is at most 255 bytes): a longer stem keeps its
first 189 and a digest of the whole id."""


def file_stem(doc_id: str) -> str:
    """A document id as a file name stem that stays inside the folder it is written to, and
    that the system accepts (at most :data:`STEM_MAX` characters, ASCII)."""
    stem = _UNSAFE.sub("_", doc_id).lstrip(".") or "_"
    if len(stem) <= STEM_MAX:
        return stem
    digest = hashlib.sha256(doc_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{stem[: STEM_MAX - 11]}-{digest}"


def _text_digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class DocumentLookup:
    """How an import finds the release's document a file or line is about: by its id, else
    by the file stem an export gave the id, else by its text. The stem and text tables are
    made once per import, on the first lookup that needs them (from the ids alone, and from
    a 16-byte digest of each text: the texts are not held). The stem table holds only the
    stems some id is not equal to: a file named as a document's id, when no other id has
    that stem, is that document's; of two documents with one stem or one text, the later in
    the release is found. A text saved another way (CRLF, not NFC) finds its document too,
    whose text the caller then compares (:attr:`texts`, the import's :class:`TextCheck`) and
    refuses, saying how it differs."""

    def __init__(self, documents: Mapping[str, Document]) -> None:
        self.documents = documents
        self.texts = TextCheck()
        self._stems: dict[str, str] | None = None
        self._texts: dict[bytes, str] | None = None

    def by_id(self, doc_id: object) -> Document | None:
        return self.documents.get(doc_id) if isinstance(doc_id, str) else None

    def by_stem(self, stem: str) -> Document | None:
        if self._stems is None:
            self._stems = {}
            for doc_id in self.documents:  # in release order: the later id of a stem wins
                own = file_stem(doc_id)
                if own != doc_id or own in self._stems:
                    self._stems[own] = doc_id
        return self.by_id(self._stems.get(stem, stem if file_stem(stem) == stem else None))

    def by_text(self, text: str) -> Document | None:
        if self._texts is None:
            self._texts = {_text_digest(d.text): d.id for d in self.documents.values()}
        document = self.by_id(self._texts.get(_text_digest(text)))
        if document is None and (restored := release_form(text)) != text:
            document = self.by_id(self._texts.get(_text_digest(restored)))
            return document if document is not None and document.text == restored else None
        return document if document is not None and document.text == text else None


class FileStems:
    """The file stems of the documents an export writes to ``folder``, one at a time: an id
    whose stem another id already has is refused (one file would overwrite the other). Only
    the ids their stem changes are held; an id that is its own stem is found by its file
    (``suffix``)."""

    def __init__(self, folder: Path, suffix: str) -> None:
        self._folder = folder
        self._suffix = suffix
        self._changed: dict[str, str] = {}

    def __call__(self, doc_id: str) -> str:
        stem = file_stem(doc_id)
        owner = self._changed.get(stem)
        if owner is None and stem != doc_id and (self._folder / (stem + self._suffix)).exists():
            owner = stem
        if owner is not None and owner != doc_id:
            raise ClaimwireError(
                f"documents {owner!r} and {doc_id!r} would share the file name {stem!r}"
            )
        if stem != doc_id:
            self._changed[stem] = doc_id
        return stem


def is_integer(value: object) -> bool:
    """An integer as JSON writes one: ``true`` is not an offset (``bool`` is an ``int``)."""
    return isinstance(value, int) and not isinstance(value, bool)


def span_annotation(
    ann_id: str,
    doc_id: str,
    layer: str,
    label: str,
    text: str,
    start: int,
    end: int,
    author: str,
    attributes: dict[str, object] | None = None,
) -> Annotation:
    """A span annotation with its quote taken from the document's text."""
    quote = Quote.from_text(text, start, end) if 0 <= start < end <= len(text) else None
    return Annotation(
        ann_id, doc_id, layer, label, start, end, quote, dict(attributes or {}), author
    )
