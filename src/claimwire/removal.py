"""Removing a folder and everything in it, in memory that does not grow with what it holds.

``shutil.rmtree`` (Python 3.11) lists each folder's entries before removing any: a folder of
10⁷ files cost ~1.5 GB of names. Here a folder is read with :func:`os.scandir` and each
entry is removed as it is read (a folder being read may lose entries: POSIX still returns each
of the others once). What is held is one open folder per level being removed, at most
:data:`OPEN_LEVELS`; a folder deeper than that is first moved up to the top folder and
removed from there by the next pass. Nothing outside the tree is touched: a symbolic link is
removed, never followed, and every folder is opened relative to its parent's descriptor with
``O_NOFOLLOW`` (a folder swapped for a link meanwhile is refused by the kernel, then
unlinked).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

OPEN_LEVELS = 32
"""Folders open at once (each holds two descriptors: its own and its reader's)."""

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class _Reader(Iterator[os.DirEntry[str]], Protocol):
    """What :func:`os.scandir` returns: its entries, and ``close``."""

    def close(self) -> None: ...


def remove_tree(path: Path) -> bool:
    """Remove the folder ``path`` and what it holds (a link or a file: itself alone);
    whether ``path`` is gone. What cannot be removed (no permission) is passed over and
    stays, as with ``shutil.rmtree(ignore_errors=True)``."""
    try:
        top = os.open(path, _FOLDER)
    except OSError:  # not a folder (a link to one is not followed), or absent
        with contextlib.suppress(OSError):
            os.unlink(path)
        return not os.path.lexists(path)
    try:
        names = (f".claimwire-deep-{n}" for n in itertools.count())
        while _empty_once(top, names):  # it moved deep folders up: they go in another pass
            pass
    finally:
        os.close(top)
    with contextlib.suppress(OSError):
        os.rmdir(path)
    return not os.path.lexists(path)


def _empty_once(top: int, names: Iterator[str]) -> bool:
    """One pass removing, depth first, what the folder open as ``top`` holds; whether it
    moved a folder deeper than :data:`OPEN_LEVELS` up into ``top`` (named from ``names``)."""
    moved = False
    try:
        levels: list[tuple[int, _Reader, str]] = [(top, os.scandir(top), "")]
    except OSError:  # unreadable: it stays
        return False
    try:
        while levels:
            fd, entries, name = levels[-1]
            entry = _next(entries)
            if entry is None:  # read through: the folder is removed from its parent
                levels.pop()
                entries.close()
                if levels:
                    os.close(fd)
                    with contextlib.suppress(OSError):
                        os.rmdir(name, dir_fd=levels[-1][0])
            elif not _is_folder(entry):
                with contextlib.suppress(OSError):
                    os.unlink(entry.name, dir_fd=fd)
            elif len(levels) < OPEN_LEVELS:
                opened = _opened(entry.name, fd)
                if opened is not None:
                    levels.append((*opened, entry.name))
            else:
                moved |= _moved_up(entry.name, fd, top, names)
    finally:
        for fd, entries, _ in levels:
            entries.close()
            if fd != top:
                os.close(fd)
    return moved


def _next(entries: _Reader) -> os.DirEntry[str] | None:
    """The next entry; None at the end, or when reading fails (what is left stays)."""
    try:
        return next(entries, None)
    except OSError:
        return None


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _opened(name: str, parent: int) -> tuple[int, _Reader] | None:
    """The folder ``name`` of ``parent``, open and being read; None when it cannot be (it
    stays), and unlinked when it is no longer a folder (swapped for a link meanwhile)."""
    try:
        fd = os.open(name, _FOLDER, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=parent)
        return None
    try:
        return fd, os.scandir(fd)
    except OSError:
        os.close(fd)
        return None


def _moved_up(name: str, parent: int, top: int, names: Iterator[str]) -> bool:
    """Move the folder ``name`` of ``parent`` into ``top`` under a new name (a few tries:
    the tree may hold one); whether it moved."""
    for new in itertools.islice(names, 8):
        try:
            os.rename(name, new, src_dir_fd=parent, dst_dir_fd=top)
        except FileExistsError:
            continue
        except OSError as error:
            if error.errno in (errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
                continue  # the name is taken in ``top``
            return False
        return True
    return False
