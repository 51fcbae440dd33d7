"""Immutable, checksummed corpus releases: reading (verified) and building (atomic)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claimwire import __version__, strict_json
from claimwire.corpus.changes import (
    AnnotationChanges,
    DocumentChanges,
    DocumentKey,
    changelog_entry,
    compare_document_streams,
    manifest_changes,
)
from claimwire.corpus.diff import compare_files
from claimwire.corpus.document_index import DocumentIndex
from claimwire.corpus.duplicates import DEFAULT_THRESHOLD, Duplicate, DuplicateFinder
from claimwire.corpus.gold_columns import (
    COLUMNS_KEY,
    ColumnsUnavailable,
    columns_name,
    write_columns,
)
from claimwire.corpus.gold_reader import GoldReader
from claimwire.corpus.ingest import BuildDocuments, Built, RawFiles, Unread
from claimwire.corpus.left_out import DUPLICATES, LeftOut, read_left_out
from claimwire.corpus.pairing import (
    ParentDocuments,
    check_gold_kept,
    check_one_input_per_name,
    check_unique_ids,
    new_keys,
    new_pairing_keys,
    pairing_keys,
)
from claimwire.corpus.raw_folder import RawInputs, raw_files
from claimwire.corpus.reanchor import Anchoring, reanchor
from claimwire.corpus.segment import SentenceSegmenter
from claimwire.engine import Engine, LocalEngine, batches
from claimwire.errors import ClaimwireError, shown
from claimwire.files import atomic_directory, atomic_write_text, sha256, stage_text
from claimwire.lines import (
    DOCUMENT_LINE,
    RECORD_LINE,
    ZSTD_SUFFIX,
    line_blocks,
    line_columns,
)
from claimwire.model import (
    Annotation,
    Document,
    Record,
    Relation,
    Writable,
    read_mixed,
    read_records,
    replaced,
    write_records,
)
from claimwire.names import child
from claimwire.scratch_database import disk_errors
from claimwire.spool import Spool

DOCUMENTS = "documents.jsonl"
ANNOTATIONS = "annotations.jsonl"
RELATIONS = "relations.jsonl"
MANIFEST = "MANIFEST.json"
CHANGES = "CHANGES.md"
SCHEMA = "schema.yaml"
TASKS = "tasks"
"""Folder of a release's own task definitions, listed in the manifest as ``tasks/NAME.yaml``."""
DIGEST = "manifest_sha256"  # the manifest's own digest (releases built before it lack one)
DATA_FILES = (DOCUMENTS, ANNOTATIONS, RELATIONS, CHANGES)
RECORD_FILES = (DOCUMENTS, ANNOTATIONS, RELATIONS)
SHARDS = "shards"
"""Manifest key: for a record file written as shards, its shards in order."""
BUILD_BATCH = 1024
"""Raw documents per batch of the build's per-document stage. With Ray a batch is one block
(about 1.4 s of a worker's CPU), and each block costs CPU of its own in the driver, Ray's
daemons and the actors: about 15 ms all told (an identity stage over 50,000 items: 0.146 ms
an item in blocks of 256, 0.103 in blocks of 1,024). Larger blocks would leave one core idle
longer at the end of the input."""
CARRY_BATCH = 256
"""Parent documents whose gold a build carries over at once."""
DEFAULT_SHARD_RECORDS = 100_000
"""Files every release has; ``schema.yaml`` is there too when the release has a schema."""
CHANGELOG = "CHANGELOG.md"
_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def parse_version(version: str) -> tuple[int, int, int]:
    """``"1.2.3"`` → ``(1, 2, 3)``; anything else is a user error."""
    match = _SEMVER.fullmatch(version)
    if match is None:
        raise ClaimwireError(f"version '{version}' is not of the form MAJOR.MINOR.PATCH")
    return int(match[1]), int(match[2]), int(match[3])


@dataclass(frozen=True, slots=True)
class Release:
    """A release folder whose files were checked against its manifest when opened."""

    path: Path
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    def parts(self, name: str) -> list[str]:
        """The files that hold record file ``name``: itself, or its shards in order."""
        return record_parts(self.manifest, name)

    def documents(self) -> Iterator[Document]:
        return read_parts(self.path, self.parts(DOCUMENTS), Document)

    def document_index(self) -> DocumentIndex:
        """The documents by id, each read back when asked for (close it when done)."""
        return DocumentIndex([self.path / part for part in self.parts(DOCUMENTS)])

    def annotations(self) -> Iterator[Annotation]:
        return read_parts(self.path, self.parts(ANNOTATIONS), Annotation)

    def relations(self) -> Iterator[Relation]:
        return read_parts(self.path, self.parts(RELATIONS), Relation)

    def duplicates(self) -> Iterator[Duplicate]:
        """The duplicates its build left out (:mod:`claimwire.corpus.left_out`), in order."""
        return read_left_out(self.path, self.manifest)


def record_parts(manifest: dict[str, Any], name: str) -> list[str]:
    """``[name]``, or the shards the manifest lists for it — only names a shard of ``name``
    may have (a release folder's ``NAME-NNNNN.jsonl[.zst]``): a list naming anything else (a
    path out of the release, a device) is a manifest problem (:func:`checksum_problems`), and
    no reader opens what it names."""
    listed = _listed_shards(manifest, name)
    if listed is None:
        return [name]
    return [part for part in listed if isinstance(part, str) and is_shard_of(name, part)]


def _listed_shards(manifest: dict[str, Any], name: str) -> list[Any] | None:
    shards = manifest.get(SHARDS, {})
    listed = shards.get(name) if isinstance(shards, dict) else None
    return listed if isinstance(listed, list) and listed else None


def is_shard_of(name: str, part: str) -> bool:
    """Whether ``part`` is a name a shard of record file ``name`` has."""
    stem = re.escape(name.removesuffix(".jsonl"))
    return (
        re.fullmatch(rf"{stem}-[0-9]{{5,}}\.jsonl(?:{re.escape(ZSTD_SUFFIX)})?", part) is not None
    )


def _shard_list_problems(manifest: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """The manifest's shard lists: only shard names of their file, each listed once, and every
    shard the manifest lists as a file in its file's list (one listed twice or left out would
    read the gold with a shard twice or without one)."""
    listed: dict[str, int] = {}
    for name in DATA_FILES:
        for part in _listed_shards(manifest, name) or ():
            if not isinstance(part, str) or not is_shard_of(name, part):
                shown = str(part)[:80]
                yield (
                    MANIFEST,
                    "manifest-invalid",
                    f"shards of {name} list {shown!r}: not a shard of it",
                )
            else:
                listed[part] = listed.get(part, 0) + 1
    for part, times in listed.items():
        if times > 1:
            yield MANIFEST, "manifest-invalid", f"shards list {part!r} {times} times"
    for file in manifest.get("files", {}):
        owner = next((name for name in DATA_FILES if is_shard_of(name, str(file))), None)
        if owner is not None and file not in listed:
            yield MANIFEST, "manifest-invalid", f"{file!r} is not in the shards of {owner}"


def read_parts(folder: Path, parts: Sequence[str], kind: type[Record]) -> Iterator[Record]:
    """The records of every part, in order."""
    for part in parts:
        yield from read_records(folder / part, kind)


@dataclass(frozen=True, slots=True)
class Sharding:
    """How a release writes its record files: past ``records`` records, or when
    ``compress`` is set, as numbered shards of at most ``records`` records each
    (``documents-00000.jsonl``, or ``.jsonl.zst`` compressed with zstd)."""

    records: int = DEFAULT_SHARD_RECORDS
    compress: bool = False

    def shard(self, name: str, index: int) -> str:
        return f"{name.removesuffix('.jsonl')}-{index:05d}.jsonl" + (
            ZSTD_SUFFIX if self.compress else ""
        )


def write_parts(
    folder: Path, name: str, records: Iterable[Writable], sharding: Sharding
) -> dict[str, int]:
    """Write ``records`` as ``name`` or as shards; return ``{part: records}`` in order.
    Records stream through: at most one record is held beyond the one being written."""
    iterator = iter(records)
    parts: dict[str, int] = {}
    pending = next(iterator, None)
    while pending is not None or not parts:
        part = sharding.shard(name, len(parts))
        head = [] if pending is None else [pending]
        count = write_records(
            folder / part, itertools.islice(itertools.chain(head, iterator), sharding.records)
        )
        parts[part] = count
        pending = next(iterator, None)
    if len(parts) == 1 and not sharding.compress:
        (only,) = parts
        os.replace(folder / only, folder / name)
        return {name: parts[only]}
    return parts


def _write_gold(
    folder: Path, records: Iterable[Annotation | Relation], sharding: Sharding
) -> tuple[dict[str, int], dict[str, int]]:
    """Write gold streamed in any mix of annotations and relations as the release's
    annotation and relation files (each kind in its order): spooled once to a staged file,
    then each kind read back from it. Returns the parts of each, as :func:`write_parts`."""
    spool = folder / GOLD_SPOOL
    try:
        write_records(spool, records)
        return (
            write_parts(folder, ANNOTATIONS, _of_kind(spool, Annotation), sharding),
            write_parts(folder, RELATIONS, _of_kind(spool, Relation), sharding),
        )
    finally:
        spool.unlink(missing_ok=True)


def _of_kind(spool: Path, kind: type[Annotation | Relation]) -> Iterator[Annotation | Relation]:
    return (record for _, record in read_mixed(spool) if isinstance(record, kind))


def read_manifest(path: Path) -> dict[str, Any]:
    """The release's manifest; a missing or malformed one is a located error."""
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise ClaimwireError("release folder not found", file=path)
    try:
        manifest = strict_json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClaimwireError("no MANIFEST.json: not a release folder", file=path) from None
    except json.JSONDecodeError as error:
        raise ClaimwireError(
            f"not valid JSON: {error.msg}", file=manifest_path, line=error.lineno
        ) from None
    except strict_json.DuplicateKeyError as error:
        raise ClaimwireError(str(error), file=manifest_path, field=error.key) from None
    except UnicodeDecodeError as error:
        raise ClaimwireError(f"not valid UTF-8: {error.reason}", file=manifest_path) from None
    except strict_json.NotStandardJSONError as error:
        raise ClaimwireError(f"not valid JSON: {error}", file=manifest_path) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ClaimwireError("expected an object with a 'files' table", file=manifest_path)
    for table in ("counts", "splits"):  # read as sizes: only counts are taken
        values = manifest.get(table, {})
        if not isinstance(values, dict):
            raise ClaimwireError("expected an object of counts", file=manifest_path, field=table)
        for key, value in values.items():
            if type(value) is not int or value < 0:
                raise ClaimwireError(
                    f"expected a count (an integer, 0 or more), got {shown(value)}",
                    file=manifest_path,
                    field=f"{table}.{key}",
                )
    return manifest


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON, without its own ``manifest_sha256`` key."""
    body = {key: value for key, value in manifest.items() if key != DIGEST}
    return sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")))


def is_release_file_name(name: str) -> bool:
    """A name a manifest may list: a plain file name, or ``tasks/NAME.yaml``."""
    folder, _, base = name.rpartition("/")
    if folder not in ("", TASKS) or (folder and not base.endswith(".yaml")):
        return False
    return bool(base) and not base.startswith(".") and base not in ("..", MANIFEST)


def _present_files(path: Path) -> Iterator[str]:
    """Every entry of a release folder by its manifest name (``tasks/`` looked into)."""
    for entry in sorted(path.iterdir()):
        if entry.name == TASKS and entry.is_dir() and not entry.is_symlink():
            yield from (f"{TASKS}/{child.name}" for child in sorted(entry.iterdir()))
        elif entry.name != MANIFEST:
            yield entry.name


def checksum_problems(path: Path, manifest: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(file, code, problem)`` for a manifest whose digest does not match, every data file
    that is missing or differs from the manifest, and every file the manifest does not list."""
    problems = list(_shard_list_problems(manifest))
    recorded = manifest.get(DIGEST)
    if recorded is not None and recorded != manifest_digest(manifest):
        problems.append(
            (MANIFEST, "manifest-digest-mismatch", f"{DIGEST} differs: MANIFEST.json was edited")
        )
    required = [part for name in DATA_FILES for part in record_parts(manifest, name)]
    listed = [name for name in manifest["files"] if name not in required]
    for name in (*required, *listed):
        entry = manifest["files"].get(name)
        file_path = path / name
        if not is_release_file_name(name):
            problems.append(
                (
                    MANIFEST,
                    "manifest-invalid",
                    f"lists {name!r}: a release file is a plain name or tasks/NAME.yaml",
                )
            )
        elif not isinstance(entry, dict):
            problems.append((name, "missing-file", "not listed in MANIFEST.json"))
        elif file_path.is_symlink():
            problems.append(
                (name, "linked-file", "a symbolic link: a release holds its own files, not links")
            )
        elif not file_path.is_file():
            problems.append((name, "missing-file", "missing"))
        elif sha256(file_path) != entry.get("sha256"):
            problems.append(
                (
                    name,
                    "checksum-mismatch",
                    "sha256 differs from MANIFEST.json: the file was modified",
                )
            )
    for extra in _present_files(path):
        if extra not in manifest["files"]:
            problems.append(
                (
                    extra,
                    "unlisted-file",
                    "not listed in MANIFEST.json; a release holds only its listed files",
                )
            )
    return problems


_SPACE = 0x20
"""A blank line starts with a byte up to this one (a white space or its line break)."""


def record_count(path: Path, name: str) -> int:
    """The records part ``path`` of record file ``name`` holds: its lines that are not blank
    (as its readers take them), decompressed if a zstd shard, a block of lines at a time:
    the line breaks counted, unless a line starts with white space (then each line looked
    at)."""
    import numpy as np

    limit = DOCUMENT_LINE if name == DOCUMENTS else RECORD_LINE
    count = 0
    for first, chunk in line_blocks(path, limit=limit):
        data = np.frombuffer(chunk, dtype=np.uint8)
        breaks = np.flatnonzero(data == ord("\n"))
        starts = data[breaks[breaks < len(data) - 1] + 1]
        if (data[:1] <= _SPACE).any() or (starts <= _SPACE).any():
            count += len(line_columns(first, chunk)[0])
        else:
            count += len(breaks) + (not chunk.endswith(b"\n"))
    return count


def count_problems(path: Path, manifest: dict[str, Any]) -> Iterator[tuple[str, int, int]]:
    """``(part, records, manifest's count)`` for each record file part whose records differ
    from its manifest entry's ``records`` (one without it is not counted)."""
    for name in RECORD_FILES:
        for part in record_parts(manifest, name):
            expected = manifest["files"].get(part, {}).get("records")
            if type(expected) is int and (found := record_count(path / part, name)) != expected:
                yield part, found, expected


def open_release(path: Path, verify: bool = True) -> Release:
    """Open a release; with ``verify`` every file's checksum must match the manifest, and
    every record file part hold the records it says (a re-signed shard emptied would
    otherwise be read without a word)."""
    manifest = read_manifest(path)
    if verify:
        for name, code, problem in checksum_problems(path, manifest):
            check = "manifest check" if code == "manifest-invalid" else "checksum check"
            raise ClaimwireError(f"{check} failed: {problem}", file=path / name)
        for part, found, expected in count_problems(path, manifest):
            raise ClaimwireError(
                f"record count check failed: {found:,} records, MANIFEST.json says {expected:,}",
                file=path / part,
            )
    return Release(path, manifest)


def release_versions(releases_dir: Path) -> list[str]:
    """Versions released in ``releases_dir``, oldest first."""
    if not releases_dir.is_dir():
        return []
    versions = [p.name for p in releases_dir.iterdir() if p.is_dir() and _SEMVER.fullmatch(p.name)]
    return sorted(versions, key=parse_version)


_CHANGELOG_HEADER = (
    "# Corpus changelog\n\nGenerated from each release's CHANGES.md by "
    "`claimwire corpus build`; do not edit by hand.\n\n"
)


def check_changelog(releases_dir: Path) -> None:
    """Refuse to build where ``releases_dir/CHANGELOG.md`` exists but was not generated."""
    path = releases_dir / CHANGELOG
    if path.is_file():
        with path.open(encoding="utf-8", errors="replace") as handle:
            start = handle.read(len(_CHANGELOG_HEADER))
        if start != _CHANGELOG_HEADER:
            raise ClaimwireError(
                "exists and was not written by `claimwire corpus build`; the corpus changelog "
                "is generated here: move this file away first",
                file=path,
            )


def changelog_text(releases_dir: Path, staged: tuple[str, Path] | None = None) -> str:
    """The corpus changelog from every release's entry (and a staged release's, if given)."""
    folders = {version: releases_dir / version for version in release_versions(releases_dir)}
    if staged is not None:
        folders[staged[0]] = staged[1]
    entries = [
        (folders[version] / CHANGES).read_text(encoding="utf-8")
        for version in sorted(folders, key=parse_version, reverse=True)
        if (folders[version] / CHANGES).exists()
    ]
    return _CHANGELOG_HEADER + "\n".join(entries)


def write_changelog(releases_dir: Path) -> Path:
    """Regenerate ``CHANGELOG.md`` inside the releases folder from every release's entry
    (nothing is written outside the folder the user named)."""
    path = releases_dir / CHANGELOG
    atomic_write_text(path, changelog_text(releases_dir))
    return path


@dataclass(slots=True)
class BuildReport:
    path: Path
    manifest: dict[str, Any]
    documents: DocumentChanges
    annotations: AnnotationChanges
    changelog: Path
    duplicates: LeftOut
    """The duplicates left out: counted, the first few held (the release's file has all)."""
    unread: str | None = None
    """A note naming the raw folder's files the build does not read, if it has any."""
    languages: OtherLanguages | None = None
    """The documents given the project's language whose text was detected as another."""


LANGUAGES_SHOWN = 5
"""Documents an :class:`OtherLanguages` names (the others are counted)."""


@dataclass(slots=True)
class OtherLanguages:
    """The documents a build gave the project's language ``declared`` while their text was
    detected as another: counted by the language detected, the first few named."""

    declared: str
    counts: dict[str, int] = field(default_factory=dict)
    first: list[tuple[str, str, str]] = field(default_factory=list)
    """``(document id, input, language detected)`` of the first :data:`LANGUAGES_SHOWN`."""

    def add(self, built: Built) -> None:
        if built.detected is None:
            return
        self.counts[built.detected] = self.counts.get(built.detected, 0) + 1
        if len(self.first) < LANGUAGES_SHOWN:
            self.first.append((built.doc_id, built.source, built.detected))

    def __len__(self) -> int:
        return sum(self.counts.values())

    def note(self) -> str | None:
        """One line saying what was found, or None when every detection agreed."""
        if not self.counts:
            return None
        found = ", ".join(f"{lang} {n:,}" for lang, n in sorted(self.counts.items()))
        named = "; ".join(f"{doc} ({source}: {lang})" for doc, source, lang in self.first)
        more = len(self) - len(self.first)
        return (
            f"{len(self):,} document{'s' if len(self) > 1 else ''} detected as another language "
            f"than the project's {self.declared} ({found}) kept {self.declared}: {named}"
            + (f" and {more:,} more" if more else "")
            + "; give a document its own language with `lang` on its JSONL line or in its "
            "sidecar"
        )


GoldSource = Callable[[Iterator[Document]], Iterable[Annotation | Relation]]
"""Resolves a release's gold against its documents (streamed from the staged release): its
annotations and relations, in any mix, streamed through to the release's files."""
GOLD_SPOOL = ".gold.jsonl"
"""The staged gold, both kinds in their order, until each kind has its own file."""
ProgressCallback = Callable[[int, int, int], None]
"""Called with (files done, files total, documents done)."""


def build_time() -> datetime:
    """Now, to the second; or ``SOURCE_DATE_EPOCH`` when set (reproducible builds: the same
    inputs then give the same release, byte for byte)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        if not epoch.isascii() or not epoch.isdigit():
            raise ClaimwireError(
                f"expected a number of seconds since 1970, got {epoch!r}", field="SOURCE_DATE_EPOCH"
            )
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)


class _Counter:
    def __init__(self) -> None:
        self.documents = self.paragraphs = self.sentences = self.characters = 0
        self.splits: dict[str, int] = defaultdict(int)

    def add(self, built: Built) -> None:
        self.documents += 1
        paragraphs, sentences, characters = built.sizes
        self.paragraphs += paragraphs
        self.sentences += sentences
        self.characters += characters
        self.splits[built.split] += 1


def _ingest(
    raw_dir: Path,
    inputs: RawInputs,
    out: Path,
    parent: ParentDocuments | None,
    segmenter: SentenceSegmenter | None,
    progress: ProgressCallback | None,
    finder: DuplicateFinder,
    left_out: LeftOut,
    added: Spool,
    sharding: Sharding,
    engine: Engine,
    languages: OtherLanguages | None = None,
) -> tuple[dict[str, Document], _Counter, dict[str, int]]:
    """Stream raw inputs into ``out``; return the documents paired with a parent document
    of another text (by their ids: the build's changed documents are among them), and the
    counts. Without a parent the documents are all added, their ids spooled in ``added``. A
    document paired with a parent document (:mod:`claimwire.corpus.pairing`) keeps its
    split, unless its input chooses one. A document that duplicates one already ingested is
    left out and added to ``left_out``. An id of the user's data that names two documents
    is a located error."""
    edited: dict[str, Document] = {}
    counter = _Counter()
    source_ids = Spool()
    unread: list[ClaimwireError] = []
    unread_count = 0

    def documents() -> Iterator[str]:
        lang = languages.declared if languages is not None else None
        stage = BuildDocuments(raw_dir, segmenter, finder.banding, lang)
        nonlocal unread_count
        for built in engine.map(stage, raw_parts, BUILD_BATCH):
            if isinstance(built, Unread):  # named at the end, with every other one
                unread_count += 1
                if len(unread) < UNREAD_SHOWN:
                    unread.append(built.error)
                continue
            if unread_count:
                continue  # nothing is written: only the inputs' errors are wanted now
            duplicate = finder.admit(built.doc_id, built.source, built.fingerprint)
            if duplicate is not None:
                left_out.add(duplicate)
                continue
            if built.source_id is not None:  # only a JSONL line has one
                file, _, line = built.source.rpartition("#L")
                source_ids.append([built.source_id, file, int(line)])
            if parent is None:
                added.append(built.doc_id)
            else:
                built = _paired(built, counter.documents, parent, edited)
            counter.add(built)
            if languages is not None:
                languages.add(built)
            if progress:
                progress(built.file_index, len(inputs), counter.documents)
            yield built.line
        if progress:
            progress(len(inputs), len(inputs), counter.documents)
        if unread_count == 1:
            raise unread[0]  # its own line, as before
        if unread_count:
            more = unread_count - len(unread)
            raise ClaimwireError(
                f"{unread_count:,} raw input{'s' if unread_count > 1 else ''} cannot be read "
                f"(each named above); nothing was written",
                file=raw_dir,
                details=(*map(str, unread), *([f"… and {more:,} more"] if more else [])),
            )

    # one part, read in order: with several, Ray Data's ordered output held every later part's
    # results until the first part was done, and the driver's serial work (duplicates,
    # writing) then came after the workers' instead of beside it
    raw_parts = [RawFiles(raw_dir, inputs.numbered())]
    with contextlib.closing(source_ids), contextlib.closing(left_out):
        parts = write_parts(out, DOCUMENTS, documents(), sharding)
        check_unique_ids(source_ids, raw_dir)
    return edited, counter, parts


UNREAD_SHOWN = 20
"""Raw inputs a failed build names (the others are counted)."""


def _paired(built: Built, at: int, parent: ParentDocuments, edited: dict[str, Document]) -> Built:
    """``built``, the build's ``at``-th document, paired with its parent document if it has
    one (in the parent's split, unless its input chose one); its text changed, in ``edited``
    too."""
    keys = new_keys(built.doc_id, built.source_id, built.source)
    before = parent.pair(at, keys, DocumentKey(built.doc_id, built.text_sha256, built.split))
    if before is not None and not built.split_given and built.split != before.split:
        built = built.in_split(before.split)
    if before is not None and before.text_sha256 != built.text_sha256:
        edited[built.doc_id] = built.document()
    return built


def _carry_over(
    parent: Release,
    doc_changes: DocumentChanges,
    changed: dict[str, Document],
    report: AnnotationChanges,
) -> Iterator[Annotation | Relation]:
    """Bring the parent's gold onto the new documents, re-anchoring edited ones: each
    document's kept annotations, read a batch of documents at a time, then the relations
    whose ends are both kept, in the parent's order (relations never link documents:
    validation refuses it). What is held grows with the changes only: the annotations left
    out, and the new document of those kept on edited documents. ``report`` is filled as the
    records go by."""
    removed_docs = set(doc_changes.removed)
    old_texts = {doc.id: doc.text for doc in parent.documents() if doc.id in changed}
    dropped: set[str] = set()
    moved: dict[str, str] = {}
    with GoldReader(parent.path, parent.parts(ANNOTATIONS), ()) as gold:
        for batch in batches(gold.documents, CARRY_BATCH):
            found = gold.of(batch)
            for doc_id in batch:
                doc_annotations = found.get(doc_id, ([], []))[0]
                kept = _kept(doc_id, doc_annotations, removed_docs, changed, old_texts, report)
                yield from kept
                if len(kept) < len(doc_annotations):
                    dropped.update({a.id for a in doc_annotations} - {a.id for a in kept})
                if doc_id in changed:
                    moved.update((a.id, a.doc_id) for a in kept)
    for relation in read_parts(parent.path, parent.parts(RELATIONS), Relation):  # streamed
        if relation.head in dropped or relation.tail in dropped:
            report.relations_removed.append(relation.id)
        elif relation.head in moved:
            yield replaced(relation, doc_id=moved[relation.head])
        else:
            yield relation


def _kept(
    doc_id: str,
    annotations: list[Annotation],
    removed_docs: set[str],
    changed: dict[str, Document],
    old_texts: dict[str, str],
    report: AnnotationChanges,
) -> list[Annotation]:
    """One parent document's annotations that the new release keeps (re-anchored if the
    document's text changed), noted in ``report``."""
    if doc_id in removed_docs:
        report.removed.extend(a.id for a in annotations)
        return []
    if doc_id not in changed:
        report.kept += len(annotations)
        return annotations
    document = changed[doc_id]
    kept = []
    for result in reanchor(annotations, old_texts[doc_id], document.text, document.id):
        if result.status is Anchoring.ORPHANED:
            report.orphaned.append(result.annotation.id)
            continue
        kept.append(result.annotation)
        if result.status is Anchoring.REANCHORED:
            report.reanchored.append(result.annotation.id)
        else:
            report.kept += 1
    return kept


@contextlib.contextmanager
def _removed_on_failure(paths: list[Path]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for path in paths:
            path.unlink(missing_ok=True)
        raise


def _copy_tasks(task_files: Sequence[Path], staging: Path) -> list[str]:
    """Copy task definitions into ``staging/tasks/``; their manifest names, in order."""
    names = []
    for task_file in sorted(task_files, key=lambda p: p.name):
        name = f"{TASKS}/{task_file.name}"
        if not is_release_file_name(name):
            raise ClaimwireError("a task file's name must end in .yaml", file=task_file)
        (staging / TASKS).mkdir(exist_ok=True)
        shutil.copyfile(task_file, child(staging / TASKS, task_file.name, what="task file"))
        names.append(name)
    return names


def build_release(
    raw_dir: Path,
    releases_dir: Path,
    version: str,
    *,
    parent: str | None = None,
    gold: GoldSource | None = None,
    schema_file: Path | None = None,
    schema_version: str | None = None,
    summarize: Callable[[Iterable[Annotation], Iterable[Relation]], dict[str, Any]] | None = None,
    segmenter: SentenceSegmenter | None = None,
    progress: ProgressCallback | None = None,
    validate: Callable[[Path], list[str]] | None = None,
    near_duplicates: float = DEFAULT_THRESHOLD,
    sharding: Sharding | None = None,
    engine: Engine | None = None,
    task_files: Sequence[Path] = (),
    allow_gold_loss: bool = False,
    lang: str | None = None,
) -> BuildReport:
    """Build ``releases_dir/version`` from ``raw_dir``, atomically.

    ``lang``, the project's language, is every document's unless its input names its own;
    the documents detected as another are counted (:class:`OtherLanguages`), and the
    manifest records it (``lang``). Without it, each document's is the one detected.

    Gold is either resolved afresh by ``gold`` (called with the new documents) or carried
    over from ``parent`` and re-anchored where a document's text changed; a carry that would
    drop more than half of the parent's gold is refused unless ``allow_gold_loss``
    (:func:`claimwire.corpus.pairing.check_gold_kept`). ``schema_file`` is
    copied into the release, ``task_files`` into its ``tasks/`` folder; ``summarize`` adds a
    ``gold_summary`` to the manifest; ``validate`` (folder) → problems runs on the staged
    release, and any problem aborts the build with nothing written. A document whose
    normalized text is that of one already ingested, or whose word-shingle Jaccard similarity
    with one reaches ``near_duplicates``, is left out: listed in the release's
    ``duplicates.jsonl`` (:mod:`claimwire.corpus.left_out`), counted in the manifest, the
    first few named in the changelog. Record files past ``sharding.records`` records are
    written as shards (:class:`Sharding`). ``engine`` runs the per-document stages
    (:class:`BuildDocuments`); the release is the same either way.
    """
    sharding = sharding or Sharding()
    parse_version(version)
    parent_release: Release | None = None
    if parent is not None:
        if parse_version(parent) >= parse_version(version):
            raise ClaimwireError(f"version {version} must be newer than its parent {parent}")
        parent_release = open_release(releases_dir / parent)
    inputs = raw_files(raw_dir)
    check_one_input_per_name(inputs)
    unread = inputs.unread_note()
    if not inputs:
        raise ClaimwireError(
            "no raw inputs (.txt, .html, .jsonl, .jsonl.gz, .jsonl.zst) found"
            + (f"; {unread}" if unread else ""),
            file=raw_dir,
        )
    target = releases_dir / version
    check_changelog(releases_dir)
    pending: list[Path] = []
    with (
        disk_errors("the build"),
        contextlib.closing(inputs),
        _removed_on_failure(pending),
        atomic_directory(target) as staging,
        contextlib.ExitStack() as on_exit,
    ):
        parent_documents = (
            on_exit.enter_context(
                contextlib.closing(ParentDocuments(pairing_keys(parent_release.documents())))
            )
            if parent_release
            else None
        )
        left_out = LeftOut(staging, near_duplicates)
        added = Spool()
        languages = OtherLanguages(lang) if lang is not None else None
        edited, counter, document_parts = _ingest(
            raw_dir,
            inputs,
            staging,
            parent_documents,
            segmenter,
            progress,
            DuplicateFinder(near_duplicates),
            left_out,
            added,
            sharding,
            engine or LocalEngine(),
            languages,
        )
        if counter.documents == 0:
            raise ClaimwireError("the raw inputs hold no document", file=raw_dir)
        doc_changes = (
            parent_documents.changes() if parent_documents is not None else DocumentChanges(added)
        )
        changed = {old: edited[new] for old, new in doc_changes.changed}
        if gold is not None:
            gold_parts = _write_gold(
                staging, gold(read_parts(staging, list(document_parts), Document)), sharding
            )
            ann_changes = _compare(parent_release, staging, gold_parts)
        else:
            ann_changes = AnnotationChanges()
            carried = (
                _carry_over(parent_release, doc_changes, changed, ann_changes)
                if parent_release is not None
                else iter(())
            )
            gold_parts = _write_gold(staging, carried, sharding)
            if parent is not None and not allow_gold_loss:
                check_gold_kept(parent, doc_changes, ann_changes)
        parts = {DOCUMENTS: document_parts, ANNOTATIONS: gold_parts[0], RELATIONS: gold_parts[1]}
        records = {part: n for written in parts.values() for part, n in written.items()}
        if len(left_out):
            records[DUPLICATES] = len(left_out)
        shards = {name: list(written) for name, written in parts.items() if name not in written}
        columns = _gold_columns(staging, list(gold_parts[0]), list(document_parts))
        release_files = [*records, *columns.values(), CHANGES]
        if schema_file is not None:
            shutil.copyfile(schema_file, staging / SCHEMA)
            release_files.append(SCHEMA)
        release_files += _copy_tasks(task_files, staging)
        created = build_time().isoformat().replace("+00:00", "Z")
        totals = {
            "documents": counter.documents,
            "paragraphs": counter.paragraphs,
            "sentences": counter.sentences,
            "characters": counter.characters,
            "annotations": sum(gold_parts[0].values()),
            "relations": sum(gold_parts[1].values()),
        }
        (staging / CHANGES).write_text(
            changelog_entry(
                version,
                parent,
                created,
                doc_changes,
                ann_changes,
                totals,
                [d.describe() for d in left_out.first],
                len(left_out),
            ),
            encoding="utf-8",
        )
        manifest = {
            "version": version,
            "parent": parent,
            "created": created,
            "toolkit_version": __version__,
            "schema_version": schema_version,
            **({"lang": lang} if lang is not None else {}),
            "files": {
                name: {
                    "sha256": sha256(staging / name),
                    "bytes": (staging / name).stat().st_size,
                    **({"records": records[name]} if name in records else {}),
                }
                for name in release_files
            },
            **({SHARDS: shards} if shards else {}),
            **({COLUMNS_KEY: columns} if columns else {}),
            "counts": totals,
            **({"lang_detected": dict(sorted(languages.counts.items()))} if languages else {}),
            "splits": dict(sorted(counter.splits.items())),
            "changes": manifest_changes(doc_changes, ann_changes),
            "duplicates": left_out.manifest(),
        }
        if summarize is not None:
            manifest["gold_summary"] = summarize(
                read_parts(staging, list(gold_parts[0]), Annotation),
                read_parts(staging, list(gold_parts[1]), Relation),
            )
        manifest[DIGEST] = manifest_digest(manifest)
        (staging / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        problems = validate(staging) if validate else []
        if problems:
            shown = "\n  ".join(problems[:10])
            raise ClaimwireError(
                f"the built release does not validate; nothing was written:\n  {shown}",
                file=target,
            )
        # the changelog is staged too: a full disk fails the build before the release appears,
        # and os.replace after the rename cannot fail for want of space
        changelog = releases_dir / CHANGELOG
        pending.append(stage_text(changelog, changelog_text(releases_dir, (version, staging))))
    os.replace(pending.pop(), changelog)
    return BuildReport(
        target, manifest, doc_changes, ann_changes, changelog, left_out, unread, languages
    )


def _gold_columns(
    staging: Path, annotation_parts: list[str], document_parts: list[str]
) -> dict[str, str]:
    """The gold annotations written again as columns (:mod:`claimwire.corpus.gold_columns`),
    ``{part: columns file}``; none when the documents' ids cannot be told apart by their
    hashes (the release is then read from its JSONL alone)."""
    try:
        return write_columns(staging, annotation_parts, document_parts)
    except ColumnsUnavailable:
        for part in annotation_parts:
            (staging / columns_name(part)).unlink(missing_ok=True)
        return {}


def _compare(
    parent: Release | None, folder: Path, parts: tuple[Iterable[str], Iterable[str]]
) -> AnnotationChanges:
    """Annotation changes from ``parent`` to the annotation and relation ``parts`` of
    ``folder`` (:func:`claimwire.corpus.diff.compare_files`: a batch of documents at a time)."""

    def files(release: Release | None, name: str) -> list[Path]:
        return [release.path / part for part in release.parts(name)] if release else []

    return compare_files(
        files(parent, ANNOTATIONS),
        [folder / part for part in parts[0]],
        files(parent, RELATIONS),
        [folder / part for part in parts[1]],
    )


def diff_releases(old: Release, new: Release) -> tuple[DocumentChanges, AnnotationChanges]:
    """Documents (paired as a build pairs them: by their own id, then your id, then input,
    :func:`claimwire.corpus.pairing.new_keys`) and annotations (matched by id) from ``old``
    to ``new``."""
    documents = compare_document_streams(
        pairing_keys(old.documents()), new_pairing_keys(new.documents())
    )
    annotations = _compare(old, new.path, (new.parts(ANNOTATIONS), new.parts(RELATIONS)))
    return documents, annotations
