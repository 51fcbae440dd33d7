"""Temporary SQLite databases for what a command must look up, or number, over a whole corpus
without holding it: a file SQLite unlinks as it opens it (under ``SQLITE_TMPDIR`` or
``TMPDIR``), so no way the process ends leaves it behind; memory holds its page cache::

    with disk_errors("the build"):
        db = temporary_database(cache_kib=8 * 1024)
        db.execute("CREATE TABLE ...")

Everything happens in one transaction that is never committed (nothing is kept).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator

from claimwire.errors import ClaimwireError

CACHE_KIB = 32 * 1024
"""SQLite's page cache (its sorts spill to temporary files past it)."""


def temporary_database(cache_kib: int = CACHE_KIB) -> sqlite3.Connection:
    """A new temporary database, its transaction begun (no journal: nothing is kept)."""
    db = sqlite3.connect("", isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{cache_kib}"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("BEGIN")
    return db


def sqlite_folder() -> str:
    """The folder SQLite puts its temporary databases in (as it picks it on Unix)."""
    named = [os.environ.get(v, "") for v in ("SQLITE_TMPDIR", "TMPDIR")]
    for folder in [*named, "/var/tmp", "/usr/tmp", "/tmp", "."]:
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return folder
    return "."


@contextlib.contextmanager
def disk_errors(whose: str) -> Iterator[None]:
    """A temporary database that cannot be written (a full disk, an I/O error, a folder it
    cannot create its file in) is one error naming the folder; ``whose``: the command's
    work that needed it ("the merge")."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if not error.sqlite_errorname.startswith(
            ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN")
        ):
            raise
        raise ClaimwireError(
            f"could not write {whose}'s temporary database in {sqlite_folder()} ({error}): "
            "free space there or set TMPDIR to a folder on a larger disk; nothing was written"
        ) from None
