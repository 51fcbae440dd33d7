"""Where inputs live: a local path, or a URI that a pyarrow filesystem reads (``s3://``,
``gs://``, ``hdfs://``, ``file://``, …).

A local path is returned as it is: reading it stays what it was (``mmap``, ``pread``). A URI
names one object, or a prefix (a release, a folder of raw files); it is read once, as a
stream, into a private folder in the OS temporary directory (removed when the process
exits), and the readers then work on that copy: indexing a record file, checking its
checksum and reading its documents' lines back batch by batch would otherwise each go to the
server again, in thousands of small ranged requests. Messages name the URI as :func:`shown`
makes it, never the copy: without its query (it may carry an endpoint or credentials) and
without the credentials a URI may carry before its host (``s3://KEY:SECRET@bucket/…``).

Credentials and the endpoint come from the filesystem's own sources: for S3 the usual
``AWS_*`` environment variables, ``~/.aws`` files or an instance role, and the URI's query
(``?endpoint_override=host:port&scheme=http&region=…``).
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import errno
import fcntl
import os
import re
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from claimwire.errors import ClaimwireError
from claimwire.files import rename_no_replace
from claimwire.removal import remove_tree

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")
_FOLDED = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")  # what ``Path`` makes of a URI
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")
_CHUNK = 8 << 20
_copies: dict[str, str] = {}
"""Each local copy (as a string) → the URI it was read from, as shown (without its query)."""
_origins: dict[str, str] = {}
"""Each local copy → the URI it was read from, whole (what another node reads it from)."""
_root: list[Path] = []
_held: dict[Path, int] = {}
"""Each folder of copies this process holds (its own, or one it shares with the other
workers of its node) → its open lock file, held until the process ends."""
_PREFIX = "claimwire-remote-"
_LOCK = ".claimwire-lock"
"""The lock file of a command's own folder of copies: only that process holds it."""
_SHARED = ".claimwire-shared"
"""The lock file of a folder of copies that the workers of a node made again from their URIs
(the driver's copies are not on that node): every worker reading it holds it, shared."""
_ATTEMPTS = 20


class NotFound(ClaimwireError):
    """No object or prefix at a URI."""


def is_uri(value: str | Path) -> bool:
    """True for ``scheme://…``, also once ``Path`` has folded it to ``scheme:/…``."""
    if isinstance(value, Path):
        return _FOLDED.match(str(value)) is not None
    return _URI.match(value) is not None


def shown(uri: str) -> str:
    """``uri`` as messages show it, ``scheme://host/path``: without its query and without
    the credentials before its host (``user:secret@``), which may both carry secrets."""
    address = uri.split("?", 1)[0]
    scheme, separator, rest = address.partition("://")
    host, slash, path = rest.partition("/")
    if separator and "@" in host:
        host = host.rsplit("@", 1)[1]
    elif separator and ":" in host and not host.rsplit(":", 1)[1].isdigit() and "@" in rest:
        host, slash, path = rest.split("@", 1)[1].partition("/")  # a secret with a bare "/"
    return f"{scheme}{separator}{host}{slash}{path}"


def _has_userinfo(uri: str) -> bool:
    """Whether ``uri`` carries credentials before its host (``s3://KEY:SECRET@bucket/…``)."""
    return shown(uri) != uri.split("?", 1)[0]


def as_given(text: str) -> str:
    """``text`` with every local copy's path replaced by the URI it was read from."""
    for copy, uri in _copies.items():
        text = text.replace(copy, uri)
    return text


def _reason(error: BaseException, uri: str) -> str:
    """What a filesystem's failure on ``uri`` means, in one short clause."""
    text = str(error)
    s3 = uri.lower().startswith("s3://")
    if isinstance(error, FileNotFoundError) or "NO_SUCH_KEY" in text:
        return "no such object or prefix"
    if "NO_SUCH_BUCKET" in text or "NoSuchBucket" in text:
        return "no such bucket"
    if "NETWORK_CONNECTION" in text or "connect to" in text.lower():
        return "could not connect to the storage server (is the endpoint right and up?)"
    if "ACCESS_DENIED" in text or "InvalidAccessKeyId" in text or "HTTP status 403" in text:
        reason = "access denied: the credentials are missing or not allowed to read it"
    else:
        first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
        reason = f"could not read it ({first[:200]})"
    if s3 and not _has_userinfo(uri) and not _aws_credentials():
        reason += "; no AWS credentials were found (AWS_ACCESS_KEY_ID, AWS_PROFILE or ~/.aws)"
    return reason


def _aws_credentials() -> bool:
    """Whether S3 credentials are set where they are usually looked for (an instance role is
    not seen from here)."""
    names = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE")
    if any(os.environ.get(name) for name in names):
        return True
    home = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.expanduser("~/.aws/credentials")
    return os.path.isfile(home)


def filesystem(uri: str) -> tuple[Any, str]:
    """The pyarrow filesystem and the path inside it that ``uri`` names."""
    import pyarrow  # type: ignore[import-untyped]
    import pyarrow.fs  # type: ignore[import-untyped]

    try:
        found: tuple[Any, str] = pyarrow.fs.FileSystem.from_uri(uri)
        return found
    except (OSError, pyarrow.ArrowException, ValueError) as error:
        if "Unrecognized filesystem type" in str(error):
            raise ClaimwireError(
                "no pyarrow filesystem reads this scheme (expected s3://, gs://, hdfs://, "
                "file:// …)",
                file=shown(uri),
            ) from None
        raise ClaimwireError(_reason(error, uri), file=shown(uri)) from None


def _spool_root() -> Path:
    if not _root:
        _sweep(Path(tempfile.gettempdir()))
        _root.append(Path(tempfile.mkdtemp(prefix=_PREFIX)))
        _hold(_root[0], _LOCK)
        _remove_at_exit(_root[0])
    return _root[0]


class Hold(enum.Enum):
    """What came of locking a folder of copies (:func:`_hold`)."""

    HELD = "held"
    """This process holds it, alone or with the node's other workers."""
    UNLOCKED = "unlocked"
    """A filesystem without locks: nothing is shared; removed at exit only, never swept."""
    LOST = "lost"
    """Another worker made it too and is removing it already: make it again."""


def _hold(folder: Path, lock: str, made: Path | None = None) -> Hold:
    """Lock ``folder`` (just made, or found without a lock) for as long as this process lives:
    the kernel drops the lock when it dies, however it dies. Locked under a staging name,
    then renamed, so a sweep never sees the lock file unlocked while a holder lives. The lock
    is shared: the node's other workers may share a :data:`_SHARED` folder (:func:`_join`);
    its file names ``made``, the topmost folder made for it, which the last user removes
    when empty. If another worker locked the folder a moment before, this one joins it."""
    staging = folder / f"{lock}.{os.getpid()}"
    handle = os.open(staging, os.O_CREAT | os.O_RDWR, 0o600)  # read back by the last user
    if made is not None:
        os.write(handle, os.fsencode(made))
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        locked = True
    except OSError:
        locked = False
    try:
        rename_no_replace(staging, folder / lock)
    except FileExistsError:  # made by another worker too, a moment before
        os.close(handle)
        staging.unlink()
        return Hold.HELD if _join(folder) else Hold.LOST
    if not locked:
        os.close(handle)
        return Hold.UNLOCKED
    _keep(folder, handle)
    return Hold.HELD


def _join(folder: Path) -> bool:
    """Share ``folder``, a :data:`_SHARED` folder of copies another worker of this node made,
    until this process ends; False if it is gone, or going (its last user is removing it)."""
    try:
        handle = os.open(folder / _SHARED, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_SH)  # waits while a leaving last user removes it
    except OSError:  # a filesystem without locks: nothing can be shared, nor removed
        os.close(handle)
        return True
    try:
        linked = os.stat(folder / _SHARED).st_ino == os.fstat(handle).st_ino
    except OSError:
        linked = False
    if not linked:
        os.close(handle)
        return False
    _keep(folder, handle)
    return True


def _keep(folder: Path, handle: int) -> None:
    """Hold ``folder`` through its locked ``handle`` until this process ends."""
    _held[folder] = handle
    atexit.register(_leave, folder)


def _leave(folder: Path) -> None:
    """Stop sharing ``folder``: the last of its users to leave removes it, and the folders
    made above it for it (named in its lock file) that are then empty."""
    handle = _held.pop(folder, None)
    if handle is None:
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass  # another worker still reads it
    else:
        made = Path(os.fsdecode(os.pread(handle, 4096, 0)) or folder)
        remove_tree(folder)
        _remove_empty(folder.parent, made)
    finally:
        os.close(handle)


def _remove_empty(folder: Path, top: Path) -> None:
    """Remove ``folder`` and the folders above it up to ``top`` while they are empty."""
    while folder.is_relative_to(top) and folder != folder.parent:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (another worker's), or gone
        folder = folder.parent


def _sweep(folder: Path) -> None:
    """Remove the copies in ``folder`` whose processes are gone without removing them (killed
    by SIGKILL, out of memory, a power cut): those whose lock nobody holds any more."""
    for stale in (*folder.glob(f"{_PREFIX}*/{_LOCK}"), *folder.glob(f"{_PREFIX}*/{_SHARED}")):
        try:
            handle = os.open(stale, os.O_RDONLY)
        except OSError:
            continue  # someone else's, or removed meanwhile
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its process lives
        else:
            remove_tree(stale.parent)
        finally:
            os.close(handle)


def _remove_at_exit(folder: Path) -> None:
    """Remove ``folder`` when this process exits, also when it is ended by SIGTERM (a
    timeout, a cancelled CI job, ``ray job stop``): unless the program handles SIGTERM
    itself, the signal then ends the process through ``SystemExit``, so exit handlers run."""
    atexit.register(remove_tree, folder)
    stop_on_sigterm()


_STOPPED_BY: list[int] = []
"""The signal ending this process, once :func:`stop_on_sigterm`'s handler has met one."""


def stop_on_sigterm(*, replacing: bool = False) -> None:
    """From now on SIGTERM ends this process through ``SystemExit(143)``, so its exit
    handlers (``atexit``, ``finally`` blocks) run and remove what it made. A no-op if the
    program handles SIGTERM itself (unless ``replacing``: a library's handler is put aside,
    as :func:`ray.init`'s), or when called outside the main thread. Idempotent."""
    with contextlib.suppress(ValueError):  # not the main thread: its handler stays
        if replacing or signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _terminated)


def stopped_by() -> int | None:
    """The signal that is ending this process through :func:`stop_on_sigterm`, if one is: a
    library that turns the ``SystemExit`` it raises into another exit (Ray's wait makes it
    ``SystemExit(1)``) can give it its code back."""
    return _STOPPED_BY[0] if _STOPPED_BY else None


def _terminated(signum: int, _frame: object) -> None:
    _STOPPED_BY.append(signum)
    raise SystemExit(128 + signum)


def _inside(target: Path, relative: str, uri: str) -> Path:
    """``target / relative`` after checking every part of a listed key is a plain name."""
    parts = PurePosixPath(relative).parts
    if not parts or any(part in (".", "..") or "\x00" in part for part in parts):
        raise ClaimwireError(f"a key under it cannot be a file name: {relative!r}", file=uri)
    return target.joinpath(*parts)


def _copy(fs: Any, source: str, target: Path, mtime_ns: int | None) -> None:
    """One object into ``target``, stamped with the object's modification time: a copy made
    on another node has the same size and time (the stamp readers check)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with fs.open_input_stream(source) as stream, target.open("wb") as out:
        while chunk := stream.read(_CHUNK):
            out.write(chunk)
    stamp = mtime_ns or 0
    os.utime(target, ns=(stamp, stamp))


def _fetch_to(uri: str, target: Path) -> None:
    """The object or prefix ``uri`` names, copied to ``target`` (which must not exist)."""
    import pyarrow
    import pyarrow.fs

    fs, path = filesystem(uri)
    where = shown(uri)
    path = path.rstrip("/")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        info = fs.get_file_info(path)
        if info.type == pyarrow.fs.FileType.File:
            _copy(fs, path, target, info.mtime_ns)
        elif info.type == pyarrow.fs.FileType.Directory:
            target.mkdir()
            listed = fs.get_file_info(pyarrow.fs.FileSelector(path, recursive=True))
            entries = sorted(listed, key=lambda entry: entry.path)
            _refuse_clashes(path, entries, where)
            for entry in entries:
                inner = _inside(target, entry.path[len(path) :].lstrip("/"), where)
                if entry.type == pyarrow.fs.FileType.Directory:
                    inner.mkdir(parents=True, exist_ok=True)
                else:
                    _copy(fs, entry.path, inner, entry.mtime_ns)
        else:
            raise NotFound("no such object or prefix", file=where)
    except FileNotFoundError:
        raise NotFound("no such object or prefix", file=where) from None
    except OSError as error:
        failed = _local_failure(error, path, target)
        raise ClaimwireError(failed or _reason(error, uri), file=where) from None
    except pyarrow.ArrowException as error:
        raise ClaimwireError(_reason(error, uri), file=where) from None


def _local_failure(error: OSError, path: str, target: Path) -> str | None:
    """What went wrong making the local copy of ``path`` at ``target``, naming the key (never
    the copy); None when the failure is the server's or the filesystem library's."""
    if error.errno == errno.ENOSPC:
        return "no space left on the device for its local copy (set TMPDIR to a larger disk)"
    if not isinstance(error.filename, str):
        return None
    written = Path(error.filename)
    key = written.relative_to(target).as_posix() if written.is_relative_to(target) else ""
    name = f"{path.rsplit('/', 1)[-1]}/{key}".rstrip("/.")
    return f"could not make the local copy of {name!r} ({error.strerror or 'failed'})"


def _refuse_clashes(path: str, entries: Sequence[Any], where: str) -> None:
    """Refuse a prefix where a key is both an object and a folder of others (``a`` and
    ``a/b``: S3 allows it, a local folder cannot hold both)."""
    import pyarrow.fs

    objects = {entry.path for entry in entries if entry.type == pyarrow.fs.FileType.File}
    for entry in entries:
        above = PurePosixPath(entry.path).parent
        while len(str(above)) > len(path):
            if str(above) in objects:
                below = entry.path[len(path) :].lstrip("/")
                raise ClaimwireError(
                    f"the key {str(above)[len(path) :].lstrip('/')!r} is both an object and a "
                    f"folder (of {below!r}); a local copy cannot hold both: rename one",
                    file=where,
                )
            above = above.parent


def fetch(uri: str, into: Path | None = None) -> Path:
    """A local copy of the object or prefix ``uri`` names (the same name, in a folder of the
    same name as the one above it, in a private folder removed when the process exits;
    ``into``: in that folder, an earlier copy's)."""
    where = shown(uri)
    path = PurePosixPath(filesystem(uri)[1].rstrip("/"))
    if not path.name:
        raise ClaimwireError("expected an object or a prefix inside a bucket", file=where)
    # the folder above keeps its name too: a system is named after it (runs/NAME/predictions.jsonl)
    kept = path.name if into is not None else f"{path.parent.name}/{path.name}".lstrip("/")
    folder = into if into is not None else Path(tempfile.mkdtemp(dir=_spool_root()))
    target = _inside(folder, kept, where)
    _fetch_to(uri, target)
    _copies[str(target)] = where.rstrip("/")
    _origins[str(target)] = uri
    return target


def sibling(uri: str, name: str) -> str:
    """The URI of ``name`` beside what ``uri`` names (same bucket, folder and query)."""
    if not _PLAIN.fullmatch(name):
        raise ClaimwireError(f"{name!r} cannot name a folder beside it", file=shown(uri))
    return _beside(uri, name)


def _beside(uri: str, name: str) -> str:
    path, _, query = uri.partition("?")
    return f"{path.rstrip('/').rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def key_name(uri: str) -> str:
    """The last part of the key ``uri`` names, as written in it (``s3://b/runs/a.jsonl`` →
    ``a.jsonl``)."""
    return uri.partition("?")[0].rstrip("/").rsplit("/", 1)[-1]


def fetch_beside(uri: str, name: str, copy: Path) -> Path | None:
    """A local copy of the object ``name`` (as written in a URI) beside what ``uri`` names,
    made beside ``copy``, the local copy of ``uri`` (:func:`fetch`); None if there is none."""
    try:
        return fetch(_beside(uri, name), into=copy.parent)
    except NotFound:
        return None


def fetch_parent(uri: str, copy: Path) -> None:
    """Beside ``copy`` (the local copy of the release ``uri`` names), a copy of the parent
    release its manifest names, read from beside it in storage: validation compares the two.
    Nothing if it has no parent, none is there, or the manifest is unreadable or names no
    plain folder: validation then reports it as it does for a local release."""
    from claimwire.corpus.release import read_manifest

    try:
        parent = read_manifest(copy).get("parent")
        beside = sibling(uri, str(parent)) if parent else None
    except ClaimwireError:
        return  # a broken manifest or a parent that is no plain name: validation reports it
    if beside is not None:
        with contextlib.suppress(NotFound):
            fetch(beside, into=copy.parent)


def local(value: str | Path) -> Path:
    """The local path to read for ``value``: a local path as given, a URI's local copy."""
    if isinstance(value, str) and is_uri(value):
        return fetch(value)
    return Path(value)


def refuse_remote_out(value: str | Path | None, option: str = "--out") -> None:
    """Writing goes to local (or mounted) folders only: a URI there is refused."""
    if value is not None and is_uri(value):
        raise ClaimwireError(
            f"{shown(str(value))}: writing to object storage is not supported; write to a "
            "local folder and copy it (e.g. aws s3 cp --recursive)",
            field=option,
        )


def remove_copies() -> None:
    """Remove every local copy now (also done when the process exits)."""
    if _root:
        remove_tree(_root.pop())
        _copies.clear()
        _origins.clear()


@dataclass(frozen=True)
class Carried:
    """A stage sent to other processes with the URIs of this process's local copies: on a
    node where a copy is missing (no shared filesystem), the stage first makes it again from
    its URI, at the same path and with the same stamps, then runs."""

    stage: Callable[[list[Any]], Sequence[Any]]
    origins: tuple[tuple[str, str], ...]

    def __call__(self, batch: list[Any]) -> Sequence[Any]:
        self.mirror()
        return self.stage(batch)

    def mirror(self) -> None:
        """Make the copies missing on this node (before a piece of the inputs is read here)."""
        for copy, uri in self.origins:
            _mirror(Path(copy), uri)


def carried(stage: Callable[[list[Any]], Sequence[Any]]) -> Callable[[list[Any]], Sequence[Any]]:
    """``stage``, carrying the URIs of the local copies its parts may name (itself when
    there are none)."""
    return Carried(stage, tuple(_origins.items())) if _origins else stage


def _mirror(copy: Path, uri: str) -> None:
    """Make ``copy`` from ``uri`` unless it exists (on this machine: the driver's own copy,
    or one another worker made, which this worker then shares: it stays while any of them
    lives). Tried again if the last user of a shared copy removes it meanwhile."""
    for _ in range(_ATTEMPTS):
        if not copy.exists():
            _make(copy, uri)
        if _kept(copy):
            return
        time.sleep(0.05)
    raise ClaimwireError("its local copy on this node kept being removed", file=shown(uri))


def _kept(copy: Path) -> bool:
    """Whether ``copy`` exists and stays while this process lives: it is in the driver's own
    folder of copies (the driver outlives its workers), or in one this process shares."""
    spool = _spool_of(copy)
    return (spool is None or _shares(spool)) and copy.exists()


def _shares(spool: Path) -> bool:
    """Whether ``spool`` stays while this process lives: the driver's own, held or joined;
    one found without a lock (its maker is about to lock it, or died first) is locked here."""
    if spool in _held or (spool / _LOCK).exists():
        return True
    if (spool / _SHARED).exists():
        return _join(spool)
    return _hold(spool, _SHARED) is not Hold.LOST


def _spool_of(copy: Path) -> Path | None:
    """The folder of copies ``copy`` is in (named as :func:`_spool_root` names them)."""
    spools = [folder for folder in copy.parents if folder.name.startswith(_PREFIX)]
    return spools[-1] if spools else None


def _make(copy: Path, uri: str) -> None:
    """``copy`` made from ``uri``: staged beside it, then renamed into place. A folder of
    copies this process makes is shared with the node's other workers (:data:`_SHARED`), and
    its last user removes it; other folders it makes are its own to remove at exit."""
    spool = _spool_of(copy)
    if spool is not None and spool.exists() and not _shares(spool):
        return  # its last user was removing it: the caller tries again
    made = next((folder for folder in reversed([copy, *copy.parents]) if not folder.exists()), copy)
    copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if spool is not None and made in (spool, *spool.parents):
        held = _hold(spool, _SHARED, made)  # a sweep finds it if every user dies first
        if held is Hold.LOST:
            return  # its other maker is removing it already: the caller tries again
        if held is Hold.UNLOCKED:
            _remove_at_exit(made)
        stop_on_sigterm()
    elif spool is None and made != copy:
        _remove_at_exit(made)
    staging = copy.with_name(f".{copy.name}.{os.getpid()}.tmp")
    remove_tree(staging)
    try:
        _fetch_to(uri, staging)
        rename_no_replace(staging, copy)
    except FileExistsError:
        pass  # another worker of this node made it first
    finally:
        remove_tree(staging)
