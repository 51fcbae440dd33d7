"""Lists that grow with the corpus, kept on disk: a build's added annotations (every gold
annotation of a first release) would otherwise be held as Python strings, hundreds of bytes
each.

:class:`Spool` appends JSON values to an anonymous temporary file and reads them back in
order; :func:`spilled_sorted` is ``sorted`` for such values, holding a run of them at a time::

    ids = Spool(record.id for record in records)
    first = ids[:20]  # held: the first few are kept in memory
    for value in spilled_sorted(ids): ...

:func:`paired` walks two sorted streams side by side, as a merge join does.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Generic, TypeVar, overload

import msgspec

from claimwire.files import named

HELD = 20
"""Values a spool keeps in memory besides its file (what a changelog lists)."""
RUN = 100_000
"""Values :func:`spilled_sorted` sorts in memory at a time."""
BLOCK = 1 << 16
"""Bytes a spool reads at a time (a merge reads every run at once: runs × this)."""
encode = msgspec.json.Encoder().encode
"""One JSON value as compact UTF-8 bytes, one line (what a spool writes): :func:`decode`
gives it back."""
decode = msgspec.json.Decoder().decode
"""The JSON value of bytes :func:`encode` made (arrays come back as lists)."""


def temporary_files() -> Path:
    """Where temporary files are, as their write errors name it: ``$TMPDIR (/tmp)`` (a full
    disk there is not the output's; :func:`claimwire.cli.common.user_error` says so)."""
    return Path(f"$TMPDIR ({tempfile.gettempdir()})")


@contextlib.contextmanager
def temporary_writes() -> Iterator[None]:
    """An OSError of the body that names no file is the temporary folder's
    (:func:`temporary_files`), not the output's."""
    try:
        yield
    except OSError as error:
        raise named(error, temporary_files()) from error


def _lines(handle: IO[bytes]) -> Iterator[bytes]:
    """The lines of ``handle`` from its start, without moving its offset (appends go on)."""
    offset, rest = 0, b""
    while block := os.pread(handle.fileno(), BLOCK, offset):
        offset += len(block)
        *whole, rest = (rest + block).split(b"\n")
        yield from whole


def _equal(values: Sequence[Any], other: object) -> bool:
    """Whether ``other`` is a sequence of the same values (a list, a spool…), read in turn
    (``NotImplemented`` for anything else)."""
    if not isinstance(other, Sequence) or isinstance(other, str | bytes):
        return NotImplemented  # type: ignore[no-any-return]
    return len(values) == len(other) and all(a == b for a, b in zip(values, other, strict=True))


class Spool(Sequence[Any]):
    """JSON values in the order they were appended, in an anonymous temporary file (closed
    with the spool; nothing is left on disk)."""

    def __init__(self, values: Iterable[Any] = ()) -> None:
        self._file: IO[bytes] | None = None
        self._count = 0
        self.first: list[Any] = []
        """The first :data:`HELD` values."""
        self.extend(values)

    def append(self, value: Any) -> None:
        if self._count < HELD:
            self.first.append(value)
        with temporary_writes():  # a full disk: no file named, as in a write's own error
            if self._file is None:
                self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the spool)
            self._file.write(encode(value) + b"\n")
        self._count += 1

    def extend(self, values: Iterable[Any]) -> None:
        for value in values:
            self.append(value)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Any]:
        if self._count <= HELD:
            yield from list(self.first)
            return
        if self._file is None:
            raise ValueError(f"this spool was closed: only its first {HELD} values are left")
        with temporary_writes():
            self._file.flush()
        for line in itertools.islice(_lines(self._file), self._count):
            yield decode(line)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            positions = range(self._count)[index]
            if not positions:
                return []
            if positions.step < 0:  # read forwards, then turned round
                low, high = positions[-1], positions[0] + 1
                return list(itertools.islice(self, low, high))[::-1][:: -positions.step]
            if positions.step == 1 and positions.stop <= HELD:
                return self.first[positions.start : positions.stop]
            return list(itertools.islice(self, positions.start, positions.stop, positions.step))
        position = range(self._count)[index]  # IndexError past the end
        if position < HELD:
            return self.first[position]
        return next(itertools.islice(self, position, None))

    def __eq__(self, other: object) -> bool:
        return _equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Spool({self.first!r}{', …' if self._count > HELD else ''}; {self._count})"

    def __reduce__(self) -> tuple[type[Spool], tuple[list[Any]]]:
        """Pickled as its values (a temporary file does not travel)."""
        return Spool, (list(self),)

    def close(self) -> None:
        """Remove the file (what could not be written to it is of no use any more)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.close()


T = TypeVar("T")
U = TypeVar("U")


class Mapped(Sequence[U], Generic[T, U]):
    """``values`` seen through ``make``, each made when asked for (nothing held): a long
    sequence of records printed as JSON objects, say."""

    def __init__(self, values: Sequence[T], make: Callable[[T], U]) -> None:
        self._values, self._make = values, make

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[U]:
        return map(self._make, self._values)

    @overload
    def __getitem__(self, index: int) -> U: ...
    @overload
    def __getitem__(self, index: slice) -> list[U]: ...
    def __getitem__(self, index: int | slice) -> U | list[U]:
        if isinstance(index, slice):
            return list(map(self._make, self._values[index]))
        return self._make(self._values[index])

    def __eq__(self, other: object) -> bool:
        return _equal(self, other)

    __hash__ = None  # type: ignore[assignment]


class Spooled(Sequence[T]):
    """Values of one type in the order appended, on a :class:`Spool` (the first few held):
    each kept as the JSON array ``fields(value)`` gives, read back as ``make(*fields)``::

        problems = Spooled(Problem, astuple)
    """

    def __init__(self, make: Callable[..., T], fields: Callable[[T], Sequence[Any]]) -> None:
        self._make, self._fields = make, fields
        self._spool = Spool()

    def append(self, value: T) -> None:
        self._spool.append(self._fields(value))

    def append_fields(self, *fields: Any) -> None:
        """A value given by its fields (what ``make`` takes)."""
        self._spool.append(fields)

    def extend(self, values: Iterable[T]) -> None:
        for value in values:
            self.append(value)

    def _made(self, fields: Sequence[Any]) -> T:
        return self._make(*fields)

    def __len__(self) -> int:
        return len(self._spool)

    def __iter__(self) -> Iterator[T]:
        return map(self._made, self._spool)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return list(map(self._made, self._spool[index]))
        return self._made(self._spool[index])

    def __eq__(self, other: object) -> bool:
        return _equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self[: min(len(self), HELD)]!r}; {len(self)})"

    def close(self) -> None:
        self._spool.close()


def spilled_sorted(
    values: Iterable[Any], key: Callable[[Any], Any] | None = None, run: int | None = None
) -> Iterator[Any]:
    """``sorted(values, key=key)`` (stable, the same order) for JSON values, holding ``run``
    (default :data:`RUN`) of them at a time: each sorted run goes to a :class:`Spool`, and
    the runs are merged."""
    run = run or RUN
    iterator = iter(values)
    runs: list[Spool] = []
    while chunk := list(itertools.islice(iterator, run)):
        chunk.sort(key=key)
        if not runs and len(chunk) < run:  # it all fits: no file
            yield from chunk
            return
        runs.append(Spool(chunk))
        del chunk
    try:
        yield from heapq.merge(*runs, key=key)
    finally:
        for spool in runs:
            spool.close()


def paired(
    left: Iterable[Any], right: Iterable[Any], key: Callable[[Any], Any]
) -> Iterator[tuple[Any, Any]]:
    """``(left item, right item)`` for two streams sorted by ``key`` with one item a key:
    each key once, in order, with None on the side that lacks it."""
    lefts, rights = iter(left), iter(right)
    a, b = next(lefts, None), next(rights, None)
    while a is not None or b is not None:
        if b is None or (a is not None and key(a) < key(b)):
            yield a, None
            a = next(lefts, None)
        elif a is None or key(b) < key(a):
            yield None, b
            b = next(rights, None)
        else:
            yield a, b
            a, b = next(lefts, None), next(rights, None)
