"""A gzip-compressed raw input (``feed.jsonl.gz``), decompressed a block at a time into a
temporary file that the JSONL reader then reads as it reads a plain input: the same line
limits, and errors that name the input and its line::

    with gunzipped(Path("corpus/raw/feed.jsonl.gz")) as plain:
        for lineno, record in iter_json_lines(plain): ...
"""

from __future__ import annotations

import contextlib
import gzip
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from claimwire.errors import ClaimwireError
from claimwire.files import named
from claimwire.spool import temporary_files

GZIP_SUFFIX = ".gz"
GZIP_RATIO = 200
"""How many times its compressed size a gzip input may expand, past its first
:data:`GZIP_ALLOWANCE` (as :data:`claimwire.lines.ZSTD_RATIO` bounds a zstd shard): JSONL
press releases compress 3–10 times, deflate at most about 1,030 (a gzip bomb: blank lines)."""
GZIP_ALLOWANCE = 1 << 24
BLOCK = 1 << 20
"""Plain bytes decompressed at a time."""


@contextlib.contextmanager
def gunzipped(path: Path) -> Iterator[Path]:
    """A temporary file of ``path``'s plain bytes (removed after the body); an error in the
    body that names that file names ``path``. A file that is not gzip, is corrupt or cut
    short, or expands past :data:`GZIP_RATIO`, is an error naming ``path``."""
    with tempfile.TemporaryDirectory(prefix="claimwire-gunzip-") as folder:
        plain = Path(folder) / path.name.removesuffix(GZIP_SUFFIX)
        _decompress(path, plain)
        try:
            yield plain
        except ClaimwireError as error:
            if error.file == str(plain):
                error.file = str(path)
            raise


def _decompress(path: Path, plain: Path) -> None:
    made = 0
    try:
        with (
            path.open("rb") as packed,
            gzip.GzipFile(fileobj=packed) as reader,
            plain.open("wb") as out,
        ):
            while block := reader.read(BLOCK):
                made += len(block)
                if made > GZIP_ALLOWANCE + GZIP_RATIO * packed.tell():
                    raise ClaimwireError(
                        f"expands more than {GZIP_RATIO:,} times its compressed size: not a "
                        "file of documents (a gzip bomb?)",
                        file=path,
                    )
                try:
                    out.write(block)
                except OSError as error:  # a full disk
                    raise named(error, temporary_files()) from error
    except EOFError:
        raise ClaimwireError(
            "the gzip stream ends early: the file is cut short (an interrupted copy or download?)",
            file=path,
        ) from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise ClaimwireError(f"not a valid gzip file ({error})", file=path) from None
    except OSError as error:
        if error.filename is not None:
            raise
        raise ClaimwireError(f"cannot be read: {error.strerror}", file=path) from None
