"""Filling an empty folder where it is (``claimwire init .``), safe against a kill.

The entries are built in a hidden staging folder inside the folder
(``.claimwire-init-XXXXXXXX.tmp/build``), then moved up one rename each. The folder itself is
never replaced (it may be the working folder, or a mount point). Before the first move, the
staging folder gets the list of what it built (``built``: each file and folder with its
inode, and a file's size and modification time), so that what a killed process had
moved up can be told from anything else.

The whole runs holding the folder's lock (:func:`claimwire.files.folder_lock`): a second
process is refused while the first lives, and the kernel drops the lock when its holder dies,
however it dies. A staging folder found by the lock's holder is therefore a dead process's:
:func:`clean_dead_staging` removes it and, when everything else in the folder is what it had
built, unchanged, that too (the folder is empty again). A file added or edited since is never
removed: then what was moved up stays, and the folder is not empty.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from claimwire.files import rename_no_replace
from claimwire.removal import remove_tree

PREFIX = ".claimwire-init-"
_STAGING = re.compile(re.escape(PREFIX) + r"[a-z0-9_]{8}\.tmp")
_BUILD = "build"
_BUILT = "built"
_MOST_BUILT = 1 << 20
"""Bytes of a list of what was built read at most (``init``'s is about 2 KB)."""

Identity = tuple[int, int, int, int]
"""An entry's device, inode, and for a file its size and modification time (0, 0 otherwise)."""


def _identity(found: os.stat_result) -> Identity:
    if stat.S_ISREG(found.st_mode):
        return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns
    return found.st_dev, found.st_ino, 0, 0


def _write_built(staging: Path, build: Path) -> list[Path]:
    """List in ``staging`` what ``build`` holds (one JSON array a line: the path in ``build``,
    then its :data:`Identity`), before any of it is moved; its top entries, sorted."""
    lines = []
    for parent, folders, files in os.walk(build):
        for name in sorted(folders + files):
            path = Path(parent, name)
            rel = path.relative_to(build).as_posix()
            lines.append(json.dumps([rel, *_identity(os.lstat(path))]) + "\n")
    (staging / _BUILT).write_text("".join(lines), encoding="utf-8")
    return sorted(build.iterdir())


def _read_built(staging: Path) -> dict[str, Identity]:
    """A dead process's list of what it built; a line cut short by the kill is passed over."""
    try:
        with (staging / _BUILT).open(encoding="utf-8", errors="replace") as handle:
            text = handle.read(_MOST_BUILT)
    except OSError:
        return {}
    built: dict[str, Identity] = {}
    for line in text.splitlines():
        with contextlib.suppress(ValueError, TypeError):
            rel, *identity = json.loads(line)
            if (
                isinstance(rel, str)
                and len(identity) == 4
                and all(type(n) is int for n in identity)
            ):
                built[rel] = (identity[0], identity[1], identity[2], identity[3])
    return built


def _all_built(folder: Path, built: dict[str, Identity], staging: set[str]) -> list[str]:
    """The names in ``folder`` (``staging`` folders aside) if everything in it, at any depth,
    is an entry of ``built`` unchanged; else none. Stops at the first entry that is not."""
    top: list[str] = []
    pending = [""]
    while pending:
        rel = pending.pop()
        with os.scandir(folder / rel) as entries:
            for entry in entries:
                if not rel and entry.name in staging:
                    continue
                inner = f"{rel}/{entry.name}" if rel else entry.name
                found = entry.stat(follow_symlinks=False)
                if built.get(inner) != _identity(found):
                    return []
                if stat.S_ISDIR(found.st_mode):
                    pending.append(inner)
                if not rel:
                    top.append(entry.name)
    return top


def clean_dead_staging(folder: Path) -> list[Path]:
    """Remove the staging folders of dead processes in ``folder``, and what they had moved
    up if nothing else is there (see the module's docstring); call it holding the folder's
    lock. The paths removed."""
    with os.scandir(folder) as entries:
        dead = {
            e.name
            for e in entries
            if _STAGING.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
        }
    built: dict[str, Identity] = {}
    for name in sorted(dead):
        built.update(_read_built(folder / name))
    moved = _all_built(folder, built, dead) if built else []
    removed = [folder / name for name in sorted(moved) + sorted(dead)]
    for path in removed:
        remove_tree(path)
    return removed


@contextlib.contextmanager
def filled_in_place(folder: Path) -> Iterator[Path]:
    """Yield a hidden folder inside ``folder``; on success move its entries up into ``folder``,
    one rename each (never over an entry that appeared meanwhile), and remove it. Call it
    holding ``folder``'s lock. If the body or a move fails, what was moved and the hidden
    folder are removed; an error names the path in ``folder``."""
    staging = Path(tempfile.mkdtemp(prefix=PREFIX, suffix=".tmp", dir=folder))
    build = staging / _BUILD
    moved: list[Path] = []
    try:
        build.mkdir()
        yield build
        for entry in _write_built(staging, build):
            rename_no_replace(entry, folder / entry.name)
            moved.append(folder / entry.name)
        build.rmdir()
        (staging / _BUILT).unlink()  # from here on, a kill leaves the project whole
        staging.rmdir()
    except BaseException as error:
        for path in (*moved, staging):
            remove_tree(path)
        if isinstance(error, OSError) and isinstance(error.filename, str):
            inside = Path(error.filename)
            if inside.is_relative_to(build):
                where = folder / inside.relative_to(build)
                raise OSError(error.errno, error.strerror, str(where)) from error
        raise
