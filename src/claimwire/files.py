"""File helpers: checksums and atomic writes (a reader never sees a half-written result)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from claimwire.errors import ClaimwireError
from claimwire.removal import remove_tree

_CHUNK = 1 << 20


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sha256(data: bytes | str | Path) -> str:
    """Hex SHA-256 of bytes, of a string's UTF-8, or of a file's bytes (read in chunks)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    with data.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# A staging (".NAME.claimwire-XXXXXXXX.tmp") or swapped-out (".old") folder beside its target.
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.claimwire-[a-z0-9_]{8}\.(?P<kind>tmp|old)")
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``folder`` (``flock`` on the folder itself: no lock file to
    leave behind; the kernel releases it when its holder exits, however it exits). Refused at
    once if another process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    with _exclusive(os.open(folder, os.O_RDONLY), folder):
        yield


@contextlib.contextmanager
def file_lock(path: Path, shown: Path | None = None) -> Iterator[int]:
    """Hold the exclusive lock of the file ``path`` (made, empty, if absent), as
    :func:`folder_lock` does a folder's; yields its descriptor, open for reading and writing.
    A refusal names ``shown`` (default: ``path``)."""
    with _exclusive(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), shown or path) as fd:
        yield fd


@contextlib.contextmanager
def _exclusive(fd: int, where: Path) -> Iterator[int]:
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ClaimwireError(
                "another claimwire process is writing here; try again once it has finished",
                file=where,
            ) from None
        yield fd
    finally:
        os.close(fd)


def clean_stale_staging(folder: Path) -> list[Path]:
    """Remove the staging folders dead writers left in ``folder``; call it holding
    :func:`folder_lock`, so that no live writer has one there. A folder swapped out
    (``.NAME.claimwire-XXXXXXXX.old/NAME``) whose ``NAME`` is absent is the output of before
    a writer that died between its two renames: it is put back, never removed. ``folder``
    is read an entry at a time."""
    removed = []
    with os.scandir(folder) as entries:
        for entry in entries:
            found = _LEFTOVER.fullmatch(entry.name)
            if found is None or not entry.is_dir(follow_symlinks=False):
                continue
            if found["kind"] == "old" and _put_back(Path(entry.path), folder / found["name"]):
                continue
            remove_tree(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def _put_back(old: Path, target: Path) -> bool:
    """Rename ``old/NAME`` back to ``target`` (NAME) if ``target`` is absent, and remove the
    emptied ``old``; whether it was put back."""
    swapped = old / target.name
    if os.path.lexists(target) or not os.path.lexists(swapped):
        return False
    try:
        rename_no_replace(swapped, target)
    except OSError:
        return False
    with contextlib.suppress(OSError):  # else it is removed by the next writer (target back)
        os.rmdir(old)
    return True


def _renameat2(source: Path, target: Path, flags: int) -> bool:
    """``renameat2(source, target, flags)``; False where the system or the file system has
    no such call (the caller falls back), an OSError if it fails."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    args = (_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags)
    if renameat2(*args) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL):  # no support here
        return False
    raise OSError(error, os.strerror(error), str(target))


def rename_no_replace(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``, failing with FileExistsError if ``target`` exists, even
    when it appeared a moment ago (``renameat2(RENAME_NOREPLACE)`` where the system has it)."""
    if _renameat2(source, target, _RENAME_NOREPLACE):
        return
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    os.rename(source, target)


def exchange(first: Path, second: Path) -> bool:
    """Swap ``first`` and ``second`` in one step (``renameat2(RENAME_EXCHANGE)``): at no
    moment is either absent. False where the system or the file system cannot."""
    return _renameat2(first, second, _RENAME_EXCHANGE)


def _swapped_in(staging: Path, final: Path) -> Path:
    """Make ``staging`` ``final``; the path now holding the folder ``final`` was, to remove.
    Without :func:`exchange`, two renames: a writer killed between them leaves ``final``
    absent and the old folder in a ``.old`` folder, which :func:`clean_stale_staging` puts
    back; once both are done, that folder is renamed ``.tmp`` (a half-removed old folder is
    never put back)."""
    if exchange(staging, final):
        return staging
    old = Path(
        tempfile.mkdtemp(prefix=f".{final.name}.claimwire-", suffix=".old", dir=final.parent)
    )
    os.rename(final, old / final.name)
    os.rename(staging, final)
    try:
        rename_no_replace(old, old.with_suffix(".tmp"))
    except OSError:
        return old
    return old.with_suffix(".tmp")


@contextlib.contextmanager
def atomic_directory(final: Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; rename it to ``final`` only on success.

    One writer per parent folder at a time (its lock); staging folders that dead writers left
    there are removed first (:func:`clean_stale_staging`). Without ``replace``, an existing
    ``final`` is refused, and so is one that appears while the body runs: an existing folder
    is never moved aside. With ``replace``, the old folder is swapped out only once the new one
    is complete, in one step where the system can (:func:`exchange`), then removed an entry at
    a time (:func:`claimwire.removal.remove_tree`). If the body raises, the temporary folder is
    removed and ``final`` is left exactly as it was. A ``final`` that is a symbolic link is
    written through, as a file output is: its target is written (or replaced), the link stays.
    """
    shown, final = final, Path(os.path.realpath(final))
    with folder_lock(final.parent):
        clean_stale_staging(final.parent)  # may put back a folder a dead writer swapped out
        if final.exists() and not replace:
            raise ClaimwireError("already exists and is never replaced", file=shown)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{final.name}.claimwire-", suffix=".tmp", dir=final.parent)
        )
        staging.chmod(0o777 & ~_umask())  # mkdtemp's private 0700 is not what a release should be
        try:
            yield staging
            if replace and final.exists():
                remove_tree(_swapped_in(staging, final))
            else:
                try:
                    rename_no_replace(staging, final)
                except FileExistsError:
                    raise ClaimwireError(
                        "appeared while this one was being written; nothing was replaced",
                        file=shown,
                    ) from None
        except OSError as error:  # named as the user's path, not the staging folder's
            remove_tree(staging)
            raise _in_final(error, staging, shown) from error
        except BaseException:
            remove_tree(staging)
            raise


def _in_final(error: OSError, staging: Path, final: Path) -> OSError:
    """``error`` naming, for a file it names in ``staging``, that file's path in ``final``;
    ``final`` itself for an error that names no file (a write's own: a full disk, a
    file-size limit)."""
    if error.errno is None or not isinstance(error.filename, str | None):
        return error
    if error.filename is None:
        return OSError(error.errno, error.strerror, str(final))
    inside = Path(error.filename)
    if not inside.is_relative_to(staging):
        return error
    return OSError(error.errno, error.strerror, str(final / inside.relative_to(staging)))


@contextlib.contextmanager
def folders_removed_on_error(*folders: Path) -> Iterator[None]:
    """On an error in the body, remove those of ``folders`` (and of their parents) that did
    not exist when it began, deepest first; a folder that holds anything by then stays."""
    made: set[Path] = set()
    for folder in folders:
        folder = folder.absolute()
        made.update(f for f in (folder, *folder.parents) if not f.exists())
    try:
        yield
    except BaseException:
        for folder in sorted(made, key=lambda f: len(f.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def output_target(path: Path) -> Path:
    """The file that writing ``path`` replaces: a symbolic link's target (the link stays a
    link); an existing target that is not a regular file (a folder, a FIFO, a device) is
    refused, never replaced."""
    target = Path(os.path.realpath(path))
    if os.path.lexists(target) and (what := not_a_file(target)) is not None:
        what = what if what == "a folder" else f"not a regular file ({what})"
        raise ClaimwireError(f"is {what}; an output is written only as a regular file", file=path)
    return target


def not_a_file(path: Path) -> str | None:
    """What ``path`` is, in words, when it is not a regular file (or a link to one): a
    folder, a FIFO (reading it waits for a writer), a device (``/dev/zero`` never ends)…;
    None for a regular file."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symbolic link that loops"
        return "a symbolic link to nothing" if path.is_symlink() else "missing"
    if stat.S_ISREG(mode):
        return None
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    for test, kind in kinds.items():
        if test(mode):
            return kind
    return "a device"


@contextlib.contextmanager
def errors_named(path: Path, temporary: str | Path) -> Iterator[None]:
    """An OSError of the body names ``path``, the user's, rather than the temporary file
    (a write's own error names no file at all)."""
    try:
        yield
    except OSError as error:
        raise named(error, path, temporary) from error


def named(error: OSError, path: Path, temporary: str | Path = "") -> OSError:
    """``error`` naming ``path`` when it named no file (or ``temporary``), else itself."""
    if error.filename in (None, str(temporary)) and error.errno is not None:
        return OSError(error.errno, error.strerror, str(path))
    return error


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text handle on a temporary file beside ``path`` (beside its target when it is
    a symbolic link: :func:`output_target`), renamed onto it on success.

    If the body raises, the temporary file is removed and ``path`` is left as it was.
    """
    with _staged(path) as (out, temporary, target):
        yield out
        out.close()
        os.replace(temporary, target)


@contextlib.contextmanager
def _staged(path: Path) -> Iterator[tuple[TextIO, str, Path]]:
    """A UTF-8 handle on a temporary file beside ``path``'s target (:func:`output_target`),
    that file and the target; the caller renames it, closed, onto the target before the body
    ends, or it is removed. Errors name ``path``."""
    target = output_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with errors_named(path, temporary), os.fdopen(handle, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o666 & ~_umask())
            yield out, temporary, target
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)  # the body did not rename it


@contextlib.contextmanager
def atomic_files(written: Sequence[Path], removed: Sequence[Path] = ()) -> Iterator[list[TextIO]]:
    """A UTF-8 text handle for each of ``written`` (as :func:`atomic_writer` gives one); once
    the body returns, ``removed`` are removed and ``written`` put in place, in that order, as
    one change: if a step fails (a rename refused, SIGTERM), the steps done are undone, so
    every path is as it was, its earlier file back or absent again. Until the last step, an
    earlier file stays, a hard link to it aside (renamed aside where links are refused)."""
    for path in removed:
        if os.path.lexists(path):
            output_target(path)  # a folder, a FIFO, a device: refused, never removed
    with contextlib.ExitStack() as stack:
        staged = [stack.enter_context(_staged(path)) for path in written]
        yield [out for out, _, _ in staged]
        for out, _, _ in staged:
            out.close()
        done: list[tuple[Path, Path | None]] = []
        try:
            for path in removed:
                if os.path.lexists(path):
                    done.append((path, _aside(path, keep=False)))
            for (_, temporary, target), path in zip(staged, written, strict=True):
                done.append((target, _aside(target, keep=True)))
                with errors_named(path, temporary):
                    os.replace(temporary, target)
        except BaseException:
            for target, aside in reversed(done):
                if aside is not None:
                    os.replace(aside, target)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(target)
            raise
        for _, aside in done:
            if aside is not None:
                os.unlink(aside)


def _aside(path: Path, *, keep: bool) -> Path | None:
    """The file at ``path`` under a hidden name beside it (None when there is none): a hard
    link to it when ``keep`` (``path`` stays until it is replaced) and links are allowed,
    else renamed."""
    if not os.path.lexists(path):
        return None
    for _ in range(100):
        aside = path.with_name(f".{path.name}.{os.urandom(4).hex()}.old")
        try:
            if keep:
                try:
                    os.link(path, aside, follow_symlinks=False)
                    return aside
                except OSError as error:
                    if error.errno == errno.EEXIST:
                        raise
            rename_no_replace(path, aside)
            return aside
        except FileExistsError:
            continue
        except OSError as error:  # named as the user's path, not the hidden name
            raise OSError(error.errno, error.strerror, str(path)) from error
    raise FileExistsError(errno.EEXIST, "no free name beside it", str(path))


class HardLinkWarning(UserWarning):
    """An output written in place had other hard links: it was given a file of its own."""


def own_file(path: Path) -> bool:
    """Give ``path`` (a link's target: :func:`output_target`) a file of its own when it has
    other hard links (a snapshot made with ``cp -al`` or ``rsync --link-dest``), so that
    writing it in place (appending, truncating) leaves theirs as it was: copied to a file
    beside it, synced, and renamed over it. Whether it did (the caller says so:
    :class:`HardLinkWarning`)."""
    target = output_target(path)
    try:
        info = target.stat()
    except FileNotFoundError:
        return False
    if info.st_nlink < 2:
        return False
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with errors_named(path, temporary), os.fdopen(handle, "wb") as copy:
            with target.open("rb") as source:
                shutil.copyfileobj(source, copy, _CHUNK)
            copy.flush()
            os.fsync(copy.fileno())
            os.chmod(temporary, stat.S_IMODE(info.st_mode))
            os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return True


def stage_text(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path`` and return it: the caller makes it
    ``path`` with ``os.replace`` (which cannot fail for want of space) or removes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
    except BaseException:
        os.unlink(temporary)
        raise
    return Path(temporary)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with :func:`atomic_writer`."""
    with atomic_writer(path) as out:
        out.write(text)


FileStamp = tuple[int, int]
"""A file's size and modification time (ns): what tells a reader that it was replaced. A
copy made on another node with its modification time has the same stamp (stamps that travel
to other processes are these)."""
LocalStamp = tuple[int, int, int]
"""A file's size, modification time and change time (ns), on this machine: the kernel sets
the change time on every write and every ``utime``, so an edit in place that keeps the size
and sets the modification time back still changes it (and so do a ``chmod``, a hard link or
an access-time update, which change no byte: a reader verifies the bytes then)."""


def file_stamp(file: Path | int) -> FileStamp:
    """The stamp of a file, by path or open descriptor."""
    info = os.stat(file)
    return info.st_size, info.st_mtime_ns


def check_stamp(path: Path, expected: FileStamp | None, found: FileStamp) -> None:
    """A located error when a file is no longer the one indexed (``expected``; None: not
    checked): read at its old offsets, it would give other lines."""
    if expected is not None and found != expected:
        was = f"{expected[0]} bytes, modified at {expected[1]} ns"
        now = f"now {found[0]} bytes at {found[1]} ns"
        raise ClaimwireError(
            f"changed while this command was reading it (was {was}; {now}): leave inputs as "
            "they are until the command ends, and rerun it (on a cluster: every node must see "
            "the same file, copied with its modification time)",
            file=path,
        )
