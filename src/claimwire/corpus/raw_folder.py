"""The raw folder of a build: which files it reads and which it leaves out, in a stable order
(a path's parts compared in turn, as ``sorted`` orders paths).

The folder is walked one directory at a time, each directory's entries sorted (on disk past
:data:`SORTED_AT_ONCE` entries), and the listing kept on disk: memory does not grow with the
number of files, nor with one directory's::

    inputs = raw_files(Path("corpus/raw"))
    for index, path in inputs.numbered(): ...
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claimwire.errors import ClaimwireError
from claimwire.files import not_a_file
from claimwire.lines import DOCUMENT_LINE, GZIP_SUFFIX, ZSTD_SUFFIX
from claimwire.spool import Mapped, Spool, spilled_sorted

TEXT_SUFFIXES = frozenset({".txt", ".text"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
GZIP_JSONL = ".jsonl" + GZIP_SUFFIX
ZSTD_JSONL = ".jsonl" + ZSTD_SUFFIX
"""JSONL inputs compressed with gzip or zstd, decompressed as they are read
(:func:`claimwire.lines.open_lines`)."""
COMPRESSED_JSONL = (GZIP_JSONL, ZSTD_JSONL)
JSONL_SUFFIXES = frozenset({".jsonl", *COMPRESSED_JSONL})
SIDECAR_SUFFIX = ".meta.yaml"
READ_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
READ_NOTE = (
    "reads .txt, .text, .html, .htm, .jsonl, .jsonl.gz, .jsonl.zst and <input>.meta.yaml sidecars"
)
SHOWN_UNREAD = 5
"""How many of the files a build does not read its note names."""
SORTED_AT_ONCE = 100_000
"""Entries of one directory sorted in memory at a time; a larger directory is sorted in runs
on disk (:func:`claimwire.spool.spilled_sorted`)."""

_FOLDER, _READ, _UNREAD = "folder", "read", "unread"
"""What the walk does with an entry: go into it, list it as read, list it as left out."""


@dataclass(frozen=True, slots=True)
class RawInputs:
    """The files of a raw folder: those ingest reads (``[index, path under the folder]`` on
    a :class:`~claimwire.spool.Spool`), and how many it leaves out (the first few named). A
    hidden file is neither; nor is a file of another kind in a hidden folder (``.git``)."""

    folder: Path
    listed: Spool
    unread: int = 0
    first_unread: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.listed)

    @property
    def files(self) -> Sequence[Path]:
        """The files read, in order, each made when asked for."""
        return Mapped(self.listed, self._path)

    def numbered(self) -> Sequence[tuple[int, Path]]:
        """``(index, path)`` of each file read, in order."""
        return Mapped(self.listed, self._numbered)

    def _path(self, entry: list[Any]) -> Path:
        return self.folder.joinpath(entry[1])

    def _numbered(self, entry: list[Any]) -> tuple[int, Path]:
        return entry[0], self.folder.joinpath(entry[1])

    def unread_note(self) -> str | None:
        """One line saying what was left out (how many, the first few by name, what is
        read), or None when nothing was."""
        if not self.unread:
            return None
        more = self.unread - len(self.first_unread)
        return (
            f"left out {self.unread} file{'s' * (self.unread > 1)} it does not read: "
            f"{', '.join(self.first_unread)}{f' and {more} more' if more else ''} ({READ_NOTE})"
        )

    def close(self) -> None:
        """Remove the listing's file."""
        self.listed.close()


def suffix_of(path: Path) -> str:
    """What kind of input ``path`` is by its name: its last suffix, lower-cased, or one of
    :data:`COMPRESSED_JSONL`."""
    name = path.name.lower()
    return next((s for s in COMPRESSED_JSONL if name.endswith(s)), path.suffix.lower())


def raw_files(raw_dir: Path) -> RawInputs:
    """The input files under ``raw_dir`` that ingest reads, and those it does not (a
    sidecar of a file it reads is read), in a stable order. A symbolic link that loops or
    points nowhere, or one to a folder outside ``raw_dir`` (never followed), a folder that
    cannot be read, or a name that is not UTF-8, is a located error: it would otherwise leave
    inputs out in silence."""
    if not raw_dir.is_dir():
        raise ClaimwireError("raw input folder not found", file=raw_dir)
    listed = Spool()
    unread = 0
    first: list[str] = []
    try:
        for relative, kind in _walk(raw_dir, raw_dir.resolve()):
            if kind == _READ:
                listed.append([len(listed), relative])
                continue
            unread += 1
            if len(first) < SHOWN_UNREAD:
                first.append(relative)
    except BaseException:
        listed.close()
        raise
    return RawInputs(raw_dir, listed, unread, tuple(first))


def _walk(raw_dir: Path, root: Path) -> Iterator[tuple[str, str]]:
    """``(path under raw_dir, kind)`` of each file listed, in order: each directory's sorted
    entries in turn, a folder's files where its name sorts (a stack, not recursion: any
    depth)."""
    stack = [("", False, _sorted_entries(raw_dir, root, False))]
    while stack:
        prefix, hidden, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name, kind = entry
        if kind != _FOLDER:
            yield prefix + name, kind
            continue
        inner = hidden or name.startswith(".")
        folder = f"{prefix}{name}/"
        stack.append((folder, inner, _sorted_entries(raw_dir / folder, root, inner)))


def _sorted_entries(folder: Path, root: Path, hidden: bool) -> Iterator[Any]:
    """``[name, kind]`` of each entry of ``folder`` the walk keeps, sorted by name."""
    return spilled_sorted(_entries(folder, root, hidden), key=_name, run=SORTED_AT_ONCE)


def _name(entry: Sequence[str]) -> str:
    return entry[0]


def _entries(folder: Path, root: Path, hidden: bool) -> Iterator[list[str]]:
    """``[name, kind]`` of each entry of ``folder`` the walk keeps, as the system lists them;
    ``hidden``: ``folder`` is hidden or in a hidden folder."""
    try:
        scan = os.scandir(folder)
    except OSError as error:
        raise ClaimwireError(
            f"the folder cannot be read: {error.strerror}: its inputs would be left out",
            file=folder,
        ) from None
    with scan:
        for entry in scan:
            kind = _kind(folder / entry.name, entry, root, hidden)
            if kind is not None:
                _check_name(folder / entry.name)
                yield [entry.name, kind]


def _kind(path: Path, entry: os.DirEntry[str], root: Path, hidden: bool) -> str | None:
    """What the walk does with ``path``, or None when it skips it (a hidden file, a link to
    a folder, a file of another kind in a hidden folder); a located error for an input it
    cannot read."""
    if entry.is_dir(follow_symlinks=False):
        return _FOLDER
    if entry.is_symlink():
        _check_link(path, root, READ_SUFFIXES | {".yaml", ""})
    if entry.name.startswith(".") or path.is_dir():
        return None
    if suffix_of(path) not in READ_SUFFIXES:
        if hidden:
            return None
        if (target := _sidecar_of(path)) is not None and (
            not _is_read(target) or suffix_of(target) in JSONL_SUFFIXES
        ):
            raise _unread_sidecar(path, target)
        return None if target is not None else _UNREAD
    what = not_a_file(path)
    if what is not None:
        raise ClaimwireError(
            f"is {what}, not a file: a build reads only regular files (remove it)", file=path
        )
    if suffix_of(path) in TEXT_SUFFIXES:
        _check_text_size(path)
    return _READ


def _is_read(path: Path) -> bool:
    """Whether the walk lists ``path`` as an input it reads (or stops at it with an error)."""
    return (
        not path.name.startswith(".")
        and suffix_of(path) in READ_SUFFIXES
        and os.path.lexists(path)
        and not path.is_dir()
    )


def _check_name(path: Path) -> None:
    """A name a release can record (its inputs' paths are UTF-8 text)."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        raise ClaimwireError(
            "the name is not UTF-8 (its bytes were written in another encoding): rename it",
            file=Path(os.fsencode(path).decode("utf-8", "replace")),
        ) from None


def _unread_sidecar(sidecar: Path, target: Path) -> ClaimwireError:
    """The error for a sidecar the build would not apply: its input is absent (a likely one
    named), not read, or a JSONL file (whose lines carry their own fields)."""
    if suffix_of(target) in JSONL_SUFFIXES:
        why = "a JSONL input takes these fields on each line, not from a sidecar"
    elif target.exists():
        why = f"the build does not read {target.name} ({READ_NOTE})"
    else:
        wanted = target.name.lower()
        meant = sorted(
            path.name
            for path in target.parent.iterdir()
            if wanted in (path.name.lower(), path.stem.lower()) and _is_read(path)
        )
        why = f"{target.name} is not in the folder" + (
            f": the sidecar of {meant[0]} is {meant[0]}{SIDECAR_SUFFIX}"
            if meant
            else f" (remove the sidecar or name it <input>{SIDECAR_SUFFIX})"
        )
    return ClaimwireError(f"a sidecar that would not be applied: {why}", file=sidecar)


def _sidecar_of(path: Path) -> Path | None:
    """The input ``path`` is the sidecar of, if its name is a sidecar's."""
    if not path.name.endswith(SIDECAR_SUFFIX):
        return None
    return path.with_name(path.name.removesuffix(SIDECAR_SUFFIX))


def _check_text_size(path: Path) -> None:
    """A text input is one document: one over the document line's limit is refused before
    it is read (its text alone would not fit on the release's line)."""
    size = path.stat().st_size
    if size > DOCUMENT_LINE.bytes:
        raise ClaimwireError(
            f"{size / 2**20:.1f} MiB of text; a document holds at most "
            f"{DOCUMENT_LINE.bytes >> 20} MiB (docs/security.md): split it into several inputs",
            file=path,
        )


def _check_link(path: Path, root: Path, relevant: frozenset[str]) -> None:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError) as error:  # RuntimeError: a loop, before Python 3.13
        if suffix_of(path) not in relevant:
            return  # a link ingest would not read anyway
        loops = isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP
        raise ClaimwireError(
            "a symbolic link that "
            + ("loops" if loops else f"points to nothing ({os.readlink(path)!r})")
            + ": remove it or point it at an input",
            file=path,
        ) from None
    if target.is_dir() and target != root and root not in target.parents:
        raise ClaimwireError(
            f"a symbolic link to a folder outside the raw folder ({target}): folders are "
            "not followed; copy the folder or link its files",
            file=path,
        )
