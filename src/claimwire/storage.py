"""Where inputs live: a local path, or a URI that a pyarrow filesystem reads (``s3://``,
``gs://``, ``hdfs://``, ``file://``, …).

A local path is returned as it is: reading it stays what it was (``mmap``, ``pread``). A URI
names one object, or a prefix (a release, a folder of raw files); it is read once, as a
stream, into a private folder in the OS temporary directory (removed when the process
exits), and the readers then work on that copy: indexing a record file, checking its
checksum and reading its documents' lines back batch by batch would otherwise each go to the
server again, in thousands of small ranged requests. Messages name the URI, never the copy
and never the URI's query (it may carry an endpoint or credentials).

Credentials and the endpoint come from the filesystem's own sources: for S3 the usual
``AWS_*`` environment variables, ``~/.aws`` files or an instance role, and the URI's query
(``?endpoint_override=host:port&scheme=http&region=…``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from claimwire.errors import ClaimwireError
from claimwire.files import rename_no_replace

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")
_FOLDED = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")  # what ``Path`` makes of a URI
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")
_CHUNK = 8 << 20
_copies: dict[str, str] = {}
"""Each local copy (as a string) → the URI it was read from, as shown (without its query)."""
_origins: dict[str, str] = {}
"""Each local copy → the URI it was read from, whole (what another node reads it from)."""
_root: list[Path] = []


class NotFound(ClaimwireError):
    """No object or prefix at a URI."""


def is_uri(value: str | Path) -> bool:
    """True for ``scheme://…``, also once ``Path`` has folded it to ``scheme:/…``."""
    if isinstance(value, Path):
        return _FOLDED.match(str(value)) is not None
    return _URI.match(value) is not None


def shown(uri: str) -> str:
    """``uri`` as messages show it: without its query, which may carry secrets."""
    return uri.split("?", 1)[0]


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
    if s3 and not _aws_credentials():
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
        _root.append(Path(tempfile.mkdtemp(prefix="claimwire-remote-")))
        atexit.register(shutil.rmtree, _root[0], True)
    return _root[0]


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
            for entry in sorted(listed, key=lambda entry: entry.path):
                inner = _inside(target, entry.path[len(path) :].lstrip("/"), where)
                if entry.type == pyarrow.fs.FileType.Directory:
                    inner.mkdir(parents=True, exist_ok=True)
                else:
                    _copy(fs, entry.path, inner, entry.mtime_ns)
        else:
            raise NotFound("no such object or prefix", file=where)
    except FileNotFoundError:
        raise NotFound("no such object or prefix", file=where) from None
    except (OSError, pyarrow.ArrowException) as error:
        raise ClaimwireError(_reason(error, uri), file=where) from None


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
    path, _, query = uri.partition("?")
    if not _PLAIN.fullmatch(name):
        raise ClaimwireError(f"{name!r} cannot name a folder beside it", file=shown(uri))
    return f"{path.rstrip('/').rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def fetch_parent(uri: str, copy: Path) -> None:
    """Beside ``copy`` (the local copy of the release ``uri`` names), a copy of the parent
    release its manifest names, read from beside it in storage: validation compares the two.
    Nothing if it has no parent or none is there (validation says so)."""
    from claimwire.corpus.release import read_manifest

    parent = read_manifest(copy).get("parent")
    if parent:
        with contextlib.suppress(NotFound):
            fetch(sibling(uri, str(parent)), into=copy.parent)


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
        shutil.rmtree(_root.pop(), ignore_errors=True)
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
        for copy, uri in self.origins:
            _mirror(Path(copy), uri)
        return self.stage(batch)


def carried(stage: Callable[[list[Any]], Sequence[Any]]) -> Callable[[list[Any]], Sequence[Any]]:
    """``stage``, carrying the URIs of the local copies its parts may name (itself when
    there are none)."""
    return Carried(stage, tuple(_origins.items())) if _origins else stage


def _mirror(copy: Path, uri: str) -> None:
    """Make ``copy`` from ``uri`` unless it exists (on this machine: the driver's own copy,
    or one another worker made): staged beside it, then renamed into place."""
    if copy.exists():
        return
    copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = copy.with_name(f".{copy.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _fetch_to(uri, staging)
        rename_no_replace(staging, copy)
    except FileExistsError:
        pass  # another worker of this node made it first
    finally:
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
        elif staging.exists():
            staging.unlink()
