"""Systems: anything that maps documents to an annotation set.

A system is a class registered under the entry-point group ``claimwire.systems`` (so a
third-party package can add one) with a ``name``, a ``version``, the ``tasks`` it produces
output for, and ``annotate(documents, context)``. :func:`run_system` runs one over a release
split into a prediction file, resumably.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

import msgspec

from claimwire import __version__
from claimwire.corpus.gold_reader import Gold
from claimwire.corpus.release import DOCUMENTS, MANIFEST, Release, read_parts
from claimwire.engine import Engine, LocalEngine, batches
from claimwire.errors import ClaimwireError, shown
from claimwire.files import (
    FileStamp,
    HardLinkWarning,
    atomic_write_text,
    check_stamp,
    file_lock,
    file_stamp,
    own_file,
    sha256,
)
from claimwire.grouping import keyed_lines
from claimwire.model import Annotation, Document, Relation, replaced
from claimwire.systems.gold import GoldSource, HeldGold, release_gold

ENTRY_POINT_GROUP = "claimwire.systems"
DONE_SUFFIX = ".done"
NEWLINE = ord("\n")
META_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class DocumentOutput:
    doc_id: str
    annotations: Sequence[Annotation]
    relations: Sequence[Relation] = ()


@dataclass
class RunContext:
    """What a system may read besides the documents it annotates.

    ``gold`` is gold the caller holds (else the release's is read): systems must only read
    what a task gives as input (the stance task's (holder, target) pairs and their
    attribution), and training systems read the gold of the training split. A batch's gold
    is read for its documents alone (:mod:`claimwire.systems.gold`); documents of other
    splits are streamed from the release when a system asks for them (:meth:`documents_of`),
    never all held.
    """

    release: Release
    documents: Sequence[Document]
    split: str
    all_documents: Sequence[Document] = ()
    gold: Sequence[Annotation] = ()
    gold_relations: Sequence[Relation] = ()
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """What a system computed once per context (a trained model), by the system's name."""
    _gold_source: GoldSource | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def for_split(cls, release: Release, split: str, hold: bool = True) -> RunContext:
        """The documents of ``split`` (or ``all``) of a release; the rest stays on disk.
        With ``hold`` false none is held (an engine's workers read them from the release)."""
        chosen = [d for d in release.documents() if split in ("all", d.split)] if hold else []
        if not (chosen if hold else split_size(release, split)):
            raise ClaimwireError(f"no documents of split {split!r}", file=release.path)
        return cls(release, chosen, split)

    def size(self) -> int:
        """How many documents the split holds (counted by the manifest when not held)."""
        return len(self.documents) or split_size(self.release, self.split)

    def documents_of(self, split: str) -> Iterator[Document]:
        """The documents of ``split``: from memory when held, else streamed from the release."""
        if self.split in ("all", split) and self.documents:
            source: Iterable[Document] = self.documents
        else:
            source = self.all_documents or self.release.documents()
        return (d for d in source if d.split == split)

    def _gold(self) -> GoldSource:
        if self._gold_source is None:
            given = bool(self.gold or self.gold_relations)
            self._gold_source = (
                HeldGold(self.gold, self.gold_relations) if given else release_gold(self.release)
            )
        return self._gold_source

    def gold_of(self, doc_ids: Iterable[str]) -> Gold:
        """The gold annotations and relations of these documents (by document, in order),
        read for them alone."""
        asked = list(dict.fromkeys(doc_ids))
        found = self._gold().of(asked)
        annotations: list[Annotation] = []
        relations: list[Relation] = []
        for doc_id in asked:
            if doc_id in found:
                annotations += found[doc_id][0]
                relations += found[doc_id][1]
        return annotations, relations

    def gold_by_document(self, documents: Sequence[Document]) -> Iterator[tuple[Document, Gold]]:
        """Each of these documents with its gold, read for the batch at once."""
        found = self._gold().of([d.id for d in documents])
        return ((d, found.get(d.id, ([], []))) for d in documents)

    def close(self) -> None:
        """Let go of the files the gold is read from (read again if asked again)."""
        if self._gold_source is not None:
            self._gold_source.close()
            self._gold_source = None


def split_size(release: Release, split: str) -> int:
    """Documents of ``split`` (or ``all``) in ``release``, as its manifest counts them."""
    if split == "all":
        return int(release.manifest.get("counts", {}).get("documents", 0))
    return int(release.manifest.get("splits", {}).get(split, 0))


@dataclass(frozen=True)
class SplitDocuments:
    """The documents of a split of a release, less the first ``skip`` (a previous run
    finished them): a part that reads itself where an engine's worker iterates it (one part,
    so batches are the local ones)."""

    release: Path
    parts: tuple[str, ...]
    split: str
    skip: int = 0
    stamps: tuple[FileStamp, ...] = ()
    """Each part's stamp when the run began (a part replaced since is refused)."""

    def __iter__(self) -> Iterator[Document]:
        return itertools.islice(self._split(), self.skip, None)

    def _split(self) -> Iterator[Document]:
        for part, stamp in itertools.zip_longest(self.parts, self.stamps):
            check_stamp(self.release / part, stamp, file_stamp(self.release / part))
            for document in read_parts(self.release, (part,), Document):
                if self.split in ("all", document.split):
                    yield document


@runtime_checkable
class System(Protocol):
    name: str
    version: str
    tasks: tuple[str, ...]

    def annotate(self, documents: Sequence[Document], context: RunContext) -> list[DocumentOutput]:
        """Annotate a batch of documents."""
        ...


def available_systems() -> dict[str, Any]:
    """Registered systems by name (entry points of ``claimwire.systems``)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_system(name: str, options: Mapping[str, str] | None = None) -> System:
    """Instantiate a registered system with its options (``key=value`` strings)."""
    registry = available_systems()
    if name not in registry:
        raise ClaimwireError(f"unknown system {name!r}; registered: {', '.join(sorted(registry))}")
    factory = registry[name].load()
    known: tuple[str, ...] | None = getattr(factory, "known_options", None)
    unknown = sorted(set(options or {}) - set(known)) if known is not None else []
    if unknown and known is not None:
        raise ClaimwireError(
            f"unknown option {', '.join(unknown)} for system {name}; "
            f"known: {', '.join(known) or 'none'}"
        )
    system = factory(**dict(options or {}))
    if not isinstance(system, System):
        raise ClaimwireError(f"entry point {name!r} does not build a claimwire System")
    return system


def signature(system: System, release: Release, split: str) -> str:
    """``system:NAME@VERSION|options:<sha8>|corpus:X.Y.Z@<sha8>|split:S|v:<toolkit>``."""
    options = json.dumps(getattr(system, "options", {}), sort_keys=True, default=str)
    corpus = sha256(release.path / MANIFEST)[:8]
    return (
        f"system:{system.name}@{system.version}|options:{sha256(options)[:8]}"
        f"|corpus:{release.version}@{corpus}|split:{split}|v:{__version__}"
    )


class Annotate:
    """The per-document stage of a run: each document's records, as the JSON lines to
    append, with its id. Pickled for an engine's worker, it carries the system (which loads
    its model there, once) and the release, and builds a context of its own there."""

    def __init__(self, system: System, context: RunContext) -> None:
        self.system = system
        self.context = context

    @property
    def description(self) -> str:
        """How messages name this stage: by its system."""
        return f"system {self.system.name!r}"

    def __getstate__(self) -> dict[str, Any]:
        return {"system": self.system, "release": self.context.release, "split": self.context.split}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.system = state["system"]
        self.context = RunContext(state["release"], (), state["split"])

    def __call__(self, batch: list[Document]) -> list[tuple[str, bytes, tuple[str, ...]]]:
        """(document id, its JSON lines, the system's notes so far) for each document."""
        lines: list[tuple[str, bytes, tuple[str, ...]]] = []
        for output in self.system.annotate(batch, self.context):
            records: list[Annotation | Relation] = [*output.annotations, *output.relations]
            text = "".join(
                json.dumps(_authored(r, self.system.name).to_dict(), ensure_ascii=False) + "\n"
                for r in records
            )
            notes = tuple(getattr(self.system, "notes", ()))
            lines.append((output.doc_id, text.encode("utf-8"), notes))
        return lines


def _completed(out: Path, split_ids: Callable[[], Iterable[str]]) -> int:
    """How many of the split's first documents a previous run finished, after cutting off
    any half-written document.

    A run finishes the split's documents in order, so its ``.done`` file names them in that
    order: line ``i`` must name the split's ``i``-th document (``split_ids`` is read along the
    file, and only when some document is finished), and nothing but a count is kept. Only
    whole lines count: a last line cut short by a kill is dropped (its document runs again).
    An offset that is not a number, goes backwards, points past the end of ``out`` or inside
    one of its lines, or a document out of the split's order means the two files disagree: a
    located error, never a truncation that would grow ``out`` or cut a record."""
    done_path = out.with_name(out.name + DONE_SUFFIX)
    if not out.exists() or not done_path.exists():
        return 0
    size = out.stat().st_size
    finished = end = whole = 0
    expected: Iterator[str] | None = None
    with done_path.open("rb") as done, out.open("rb") as written:
        ends = _BlockReader(written)
        for lineno, line in enumerate(done, start=1):
            if not line.endswith(b"\n"):
                break  # torn by a kill
            whole += len(line)
            doc_id, _, offset = line[:-1].rpartition(b"\t")
            if not doc_id or not offset.isdigit() or len(offset) > 20:
                raise _disagree("expected DOCUMENT<TAB>OFFSET", done_path, lineno)
            position = int(offset)
            if position > size:
                problem = f"offset {position} is past the end of {out.name} ({size} bytes)"
            elif position < end:
                problem = f"offset {position} is before the previous document's ({end})"
            elif position and ends.byte(position - 1) != NEWLINE:
                problem = f"offset {position} is not the start of a line of {out.name}"
            else:
                expected = expected or iter(split_ids())
                document = doc_id.decode("utf-8", "replace")
                wanted = next(expected, None)
                if document == wanted:
                    finished, end = finished + 1, position
                    continue
                problem = (
                    f"document {shown(document)} is not the split's document {lineno}"
                    + (f" ({shown(wanted)})" if wanted is not None else " (it has fewer)")
                    + ": a run finishes the split's documents in order"
                )
            raise _disagree(problem, done_path, lineno)
    if whole < done_path.stat().st_size:
        with done_path.open("r+b") as handle:
            handle.truncate(whole)  # the torn line: appending must start a new line
    with out.open("r+b") as handle:
        handle.truncate(end)  # whatever follows the last finished document is partial
    return finished


class _BlockReader:
    """Single bytes of a file, read a block at a time: the offsets of a ``.done`` file grow,
    so one read serves the many that fall in the same block (one ``pread`` per byte cost 3×
    more CPU; a mapping would count the whole file in the process's memory)."""

    BLOCK = 1 << 20

    def __init__(self, handle: BinaryIO) -> None:
        self._fd = handle.fileno()
        self._start = 0
        self._block = b""

    def byte(self, position: int) -> int:
        """The byte at ``position`` (< the file's size), -1 past the end."""
        if not self._start <= position < self._start + len(self._block):
            self._start, self._block = position, os.pread(self._fd, self.BLOCK, position)
        index = position - self._start
        return self._block[index] if index < len(self._block) else -1


def _disagree(problem: str, done_path: Path, lineno: int) -> ClaimwireError:
    return ClaimwireError(
        f"{problem}: the run's files disagree; pass --overwrite to start the run afresh",
        file=done_path,
        line=lineno,
    )


def _split_ids(release: Release, split: str) -> Iterator[str]:
    """The ids of the documents of ``split`` (or ``all``), only ids and splits decoded."""
    for part in release.parts(DOCUMENTS):
        for _, _, _, key in keyed_lines(release.path / part, _ID_AND_SPLIT):
            if split in ("all", key.split) and isinstance(key.id, str):
                yield key.id


class _IdAndSplit(msgspec.Struct):
    id: Any = None
    split: Any = None


_ID_AND_SPLIT = msgspec.json.Decoder(_IdAndSplit)


def run_system(
    system: System,
    context: RunContext,
    out: Path,
    *,
    batch_size: int = 32,
    progress: Any = None,
    reproducible: bool = False,
    overwrite: bool = False,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Run ``system`` over the split's documents (``context.documents`` when held, else read
    from the release batch by batch) into ``out`` (JSONL), resumably.

    Each batch's records are appended and synced to disk, then its documents are recorded
    in ``out.done`` with the file's length after each: a re-run skips finished documents and
    cuts off a half-written one, so an interrupted run always leaves a valid partial file. The run's
    signature goes to ``out.meta.json`` (without its creation time when ``reproducible``),
    first when the run starts: a file is resumed only by a run of the same signature (system,
    version, options, release, split); another run is refused unless ``overwrite``, which
    starts afresh. One run writes ``out`` at a time (it holds ``out.done``'s lock; another is
    refused). Records a system leaves without an author are labelled with its name.
    ``engine`` runs the system's batches (:mod:`claimwire.engine`; the same file either way).
    """
    refuse_unknown_labels(system, context.release)
    out.parent.mkdir(parents=True, exist_ok=True)
    done_path = out.with_name(out.name + DONE_SUFFIX)
    if out.exists() and not done_path.exists() and not overwrite:
        raise ClaimwireError(
            "exists and was not written by `claimwire run` (no .done file); remove it, "
            "choose another --out or pass --overwrite",
            file=out,
        )
    # one run an output at a time: a second one (another terminal, a retried job) is refused
    with file_lock(done_path, shown=out) as done, contextlib.ExitStack() as relocked:
        if _own_files(out, done_path, resumed=out.exists() and not overwrite):
            done = relocked.enter_context(file_lock(done_path, shown=out))  # the new file's
        if overwrite or not out.exists():  # afresh: a .done left by a removed output is void
            out.unlink(missing_ok=True)
            os.ftruncate(done, 0)
        return _run_locked(system, context, out, batch_size, progress, reproducible, engine)


def refuse_unknown_labels(system: System, release: Release) -> None:
    """Refuse, before anything is written, a system that says what it predicts (``labels``,
    ``relation_types``; both optional) on a release whose schema lacks some of it."""
    from claimwire.annotation.checks import schema_of

    labels, relation_types = getattr(system, "labels", ()), getattr(system, "relation_types", ())
    if not labels and not relation_types:
        return
    schema = schema_of(release.path)
    missing = [name for name in labels if name not in schema.labels]
    missing += [name for name in relation_types if name not in schema.relations]
    if missing:
        raise ClaimwireError(
            f"system {system.name} predicts {', '.join(missing)}, which the release's schema "
            f"does not define (its labels: {', '.join(schema.labels) or 'none'})",
            file=release.path,
        )


def _own_files(out: Path, done_path: Path, resumed: bool) -> bool:
    """Give ``out`` (when it is resumed; else it is removed) and its ``.done`` file, which
    are written in place, files of their own when they have other hard links (a snapshot
    of the project), and say so once; whether the ``.done`` file was replaced (its lock
    must be taken again)."""
    copied = own_file(out) if resumed else False
    done_copied = own_file(done_path)
    if copied or done_copied:
        warnings.warn(
            HardLinkWarning(
                f"{out}: had other hard links (a snapshot made with cp -al or rsync "
                "--link-dest?); it was copied before being written in place, so the other "
                "links keep their content"
            ),
            stacklevel=3,
        )
    return done_copied


def _run_locked(
    system: System,
    context: RunContext,
    out: Path,
    batch_size: int,
    progress: Any,
    reproducible: bool,
    engine: Engine | None,
) -> dict[str, Any]:
    """:func:`run_system` holding the lock of ``out``'s ``.done`` file."""
    done_path = out.with_name(out.name + DONE_SUFFIX)
    meta_path = out.with_name(out.name + META_SUFFIX)
    wanted = signature(system, context.release, context.split)
    if out.exists():
        previous = _previous_signature(meta_path)
        if previous != wanted:
            raise ClaimwireError(
                f"holds another run ({previous or 'no signature'}); this run is {wanted}. "
                "Pass --overwrite to replace it, or choose another --out",
                file=out,
            )
    held = context.documents
    finished = _completed(
        out,
        lambda: (d.id for d in held) if held else _split_ids(context.release, context.split),
    )
    engine = engine or LocalEngine()
    total = context.size()
    meta = {
        "signature": wanted,
        "system": system.name,
        "version": system.version,
        "options": getattr(system, "options", {}),
        "release": context.release.version,
        "split": context.split,
        "documents": total,
    }
    if not reproducible:
        meta["created"] = datetime.now(UTC).replace(microsecond=0).isoformat()
    _write_meta(meta_path, meta)
    parts: list[Iterable[Document]]
    if engine.distributed or not context.documents:  # read from the release as batches go
        release = context.release
        names = tuple(release.parts(DOCUMENTS))
        stamps = tuple(file_stamp(release.path / name) for name in names)
        parts = [SplitDocuments(release.path, names, context.split, finished, stamps)]
    else:
        parts = [context.documents[finished:]]
    outputs = engine.map(Annotate(system, context), parts, batch_size)
    with out.open("ab") as handle, done_path.open("a") as done:
        notes: dict[str, None] = {}  # from every worker's copy of the system, in order
        count = 0
        for batch in batches(outputs, batch_size):
            ends = []
            for doc_id, data, noted in batch:
                notes.update(dict.fromkeys(noted))
                handle.write(data)
                ends.append(f"{doc_id}\t{handle.tell()}\n")
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the documents are recorded as done
            done.write("".join(ends))
            done.flush()
            count += len(batch)
            if progress is not None:
                progress(finished + count, total)
    context.close()  # the gold it read from
    meta["notes"] = list(notes)
    _write_meta(meta_path, meta)
    return meta


def _authored(record: Annotation | Relation, name: str) -> Annotation | Relation:
    """A system's record without an author (read as ``gold``) is labelled with the system."""
    if record.author in ("", "gold"):
        return replaced(record, author=name)
    return record


def _previous_signature(meta_path: Path) -> str | None:
    try:
        previous = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return previous.get("signature") if isinstance(previous, dict) else None


def _write_meta(path: Path, meta: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
