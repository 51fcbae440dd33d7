"""The rule every command's output path follows, checked before any work is done.

An output is never inside a release (a folder holding ``MANIFEST.json``, or any folder below
one: releases are immutable), never one of the command's own inputs nor inside a folder given
as one, and never an existing file or folder replaced without ``--force`` where the command
has one. ``--force`` replaces a folder only if an earlier claimwire export made it (it carries
:data:`EXPORT_MARKER`), and never one holding an input, a release, a project or a repository.
An output is never the working folder nor a folder holding it (a folder being worked in is
never renamed or replaced). A report a command rewrites on each run (``eval score --html``,
``benchmark --leaderboard / --html``) replaces an existing file only if it is such a report
(it begins as claimwire begins them) or with ``--force``; two outputs of one command are never
one file (:func:`check_rewritable`, :func:`check_distinct`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from claimwire.corpus.release import MANIFEST
from claimwire.errors import ClaimwireError
from claimwire.storage import is_uri, refuse_remote_out

EXPORT_MARKER = ".claimwire-export"
"""The file every folder export holds: the only kind of folder ``--force`` replaces."""

# what ``--force`` never replaces: a release, a project, a repository (a work tree or checkout)
PROTECTED = (MANIFEST, "claimwire.toml", ".git", ".hg", ".svn")
# a bare git repository: a folder holding all of these
BARE_REPOSITORY = ("HEAD", "objects", "refs")


def release_holding(path: Path) -> Path | None:
    """The release folder that ``path`` (resolved through symbolic links) is, or is inside."""
    resolved = Path(os.path.realpath(path))
    return next((f for f in (resolved, *resolved.parents) if (f / MANIFEST).is_file()), None)


def is_within(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path`` is ``folder`` or below it, both resolved through symbolic links."""
    inner, outer = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return inner == outer or outer in inner.parents


def mark_export(folder: Path, what: str) -> None:
    """Write :data:`EXPORT_MARKER` into ``folder``, saying what made it."""
    (folder / EXPORT_MARKER).write_text(
        f"A claimwire export ({what}); `--force` may replace this folder.\n", encoding="utf-8"
    )


def check_not_in_release(path: Path, option: str = "--out") -> None:
    """Refuse an output inside (or being) a release folder."""
    inside = release_holding(path)
    if inside is not None:
        raise ClaimwireError(
            f"{option} is inside the release {inside}: releases are never written into; "
            "choose a path outside it",
            file=path,
        )


def check_not_working_folder(path: Path, option: str = "--out") -> None:
    """Refuse an output that is the working folder or holds it (``--out .``, ``--out ..``):
    replacing it would pull the folder from under the user's shell (the kernel refuses to
    rename ``.``: "Device or resource busy")."""
    try:
        working = os.getcwd()
    except FileNotFoundError:  # removed meanwhile: no folder to keep
        return
    if is_within(working, path):
        what = "the working folder" if is_within(path, working) else "above the working folder"
        raise ClaimwireError(
            f"{option} is {what}: an output never replaces the folder a command runs in, "
            "nor one above it; choose another folder (a new one inside it, or elsewhere)",
            file=path,
        )


def check_not_an_input(path: Path, inputs: Iterable[str | Path], option: str = "--out") -> None:
    """Refuse an output that is one of the command's inputs (the same file, by inode), or is
    inside (or is) a folder given as one (a raw input folder: the next build would read the
    output as input)."""
    for given in inputs:
        if is_uri(given):
            continue
        try:
            same = os.path.samefile(path, given)
        except OSError:  # either is absent (or unreadable): not the same file
            same = False
        if same or (os.path.isdir(given) and is_within(path, given)):
            where = "also an input" if same else "inside an input folder"
            raise ClaimwireError(
                f"{option} is {where} ({given}): an output is never written over or among "
                "a command's inputs; choose another path",
                file=path,
            )


def check_replaceable(
    path: Path, force: bool | None, option: str = "--out", inputs: Iterable[str | Path] = ()
) -> None:
    """Refuse an existing ``path`` unless ``force`` (None: the command replaces its outputs
    without asking); a non-empty folder only if it carries :data:`EXPORT_MARKER` and holds
    neither an input, a release, a project nor a repository."""
    if not os.path.lexists(path) or force is None:
        return
    if not os.path.isdir(path):
        if not force:
            raise ClaimwireError(f"{option} already exists; pass --force to replace it", file=path)
        return
    folder = Path(path)
    if _is_empty(folder):
        return
    marked = (folder / EXPORT_MARKER).is_file()
    if not force and marked:
        raise ClaimwireError(
            f"{option} exists and is not empty; pass --force to replace it", file=path
        )
    held = _held_input(folder, inputs) if force else None
    if held is not None:
        raise ClaimwireError(
            f"--force refused: it holds {held}, which is never replaced", file=path
        )
    if not marked:
        raise ClaimwireError(
            f"{option} exists and is not empty, and no claimwire export made it (it holds no "
            f"{EXPORT_MARKER}): --force replaces only an earlier export; choose a new or "
            "empty folder",
            file=path,
        )
    found = _protected_inside(folder)
    if found is not None:
        raise ClaimwireError(
            f"--force refused: it holds {found}, which is never replaced", file=path
        )


def _is_empty(folder: Path) -> bool:
    """Whether ``folder`` holds nothing, read one entry at a time (``Path.iterdir`` reads
    every name first)."""
    with os.scandir(folder) as entries:
        return next(entries, None) is None


def _held_input(folder: Path, inputs: Iterable[str | Path]) -> str | None:
    """The first of the command's inputs that lies in ``folder``."""
    return next(
        (
            f"the input {given}"
            for given in inputs
            if not is_uri(given) and is_within(given, folder)
        ),
        None,
    )


def _protected_inside(folder: Path) -> str | None:
    """The first release, project or repository below ``folder``, in one walk of it that
    holds the folders still to look into, never a folder's list of names (an unreadable
    folder is passed over, as :func:`os.walk` does; links are not followed)."""
    pending = [folder]
    while pending:
        top = pending.pop()
        bare: set[str] = set()
        try:
            with os.scandir(top) as entries:
                for entry in entries:
                    if entry.name in PROTECTED:
                        return Path(entry.path).relative_to(folder).as_posix()
                    if entry.name in BARE_REPOSITORY:
                        bare.add(entry.name)
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
        except OSError:
            continue
        if len(bare) == len(BARE_REPOSITORY):
            where = top.relative_to(folder).as_posix()
            return f"a bare git repository ({where}: {', '.join(BARE_REPOSITORY)})"
    return None


def check_output(
    path: Path | str | None,
    *,
    inputs: Iterable[str | Path] = (),
    force: bool | None = None,
    option: str = "--out",
) -> None:
    """The output rule for ``path`` (None: no output asked): a local path, outside every
    release, neither the working folder nor one holding it, neither one of ``inputs`` nor
    inside a folder given as one, and replaced only with ``force`` when not None."""
    if path is None:
        return
    refuse_remote_out(path, option)
    path = Path(path)
    inputs = list(inputs)
    check_not_in_release(path, option)
    check_not_working_folder(path, option)
    check_not_an_input(path, inputs, option)
    check_replaceable(path, force, option, inputs)


def check_rewritable(path: Path | None, begins: str, force: bool, option: str, what: str) -> None:
    """Refuse an existing file ``path`` that does not begin with ``begins`` (claimwire did not
    write it: a user's file) unless ``force``; a report claimwire wrote is rewritten."""
    if path is None or force or not os.path.isfile(path):
        return
    wanted = begins.encode("utf-8")
    try:
        with open(path, "rb") as existing:
            head = existing.read(len(wanted))
    except OSError:
        return  # unreadable: the write itself says why
    if head != wanted:
        raise ClaimwireError(
            f"{option} already exists and is not {what} claimwire wrote; pass --force to "
            "replace it, or choose another path",
            file=path,
        )


def check_distinct(outputs: Iterable[tuple[str, Path | None]]) -> None:
    """Refuse two outputs of one command that are one file (by path, through symbolic links,
    or by inode): the second would replace the first."""
    seen: list[tuple[str, Path]] = []
    for option, path in outputs:
        if path is None:
            continue
        for earlier, other in seen:
            try:
                same = os.path.samefile(path, other)
            except OSError:
                same = False
            if same or os.path.realpath(path) == os.path.realpath(other):
                raise ClaimwireError(
                    f"{earlier} and {option} are the same file: the second would replace "
                    "the first; give each its own path",
                    file=path,
                )
        seen.append((option, path))
