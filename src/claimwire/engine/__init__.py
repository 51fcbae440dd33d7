"""Engines: run a per-item stage over a stream of items, batch by batch, in input order.

A *stage* is a picklable callable that maps a batch (a list of items) to a list of results;
it loads what it needs (a system's model) once, on its first batch. *Parts* are iterables of
items (a list, or an object that reads a file when iterated); results come back in the order
of the parts and of the items in each part, whatever the engine::

    for document in engine.map(BuildDocuments(), parts, batch_size=64):
        ...

:meth:`Engine.stream` takes items this process makes instead (an evaluation's batches,
described by where their lines are), a bounded window of them in flight.

The local engine runs the stage in this process; the Ray engine (``claimwire[ray]``) runs it
as Ray Data ``map_batches`` over a pool of actors, on this machine's cores or on a cluster.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from claimwire.errors import ClaimwireError

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
T_co = TypeVar("T_co", covariant=True)

ENGINES = ("local", "ray")


class Stage(Protocol[T, R_co]):
    """Maps a batch of items to its results (one list, in the batch's order)."""

    def __call__(self, batch: list[T]) -> Sequence[R_co]: ...


@runtime_checkable
class Divisible(Protocol[T_co]):
    """A part that cuts itself, where the engine's driver is, into small parts that each read
    their own items (a JSONL input into ranges of lines): an engine that runs the stage in
    other processes can then hand them out without reading the part anywhere first."""

    def pieces(self, items: int) -> Iterable[Iterable[T_co]]:
        """The part's items, in order, in pieces of at most ``items``."""
        ...


class Engine(Protocol):
    """Runs a stage over parts of items and yields the results in input order."""

    name: str
    workers: int
    distributed: bool
    """True when the stage runs in other processes: parts should then read their items
    themselves (from files) rather than hold them."""

    def map(
        self, stage: Stage[T, R], parts: Sequence[Iterable[T]], batch_size: int
    ) -> Iterator[R]: ...

    def stream(self, stage: Stage[T, R], items: Iterable[T], batch_size: int = 1) -> Iterator[R]:
        """The stage over items made here, in this process (small ones: descriptions of
        where the work's data is), ``batch_size`` at a time; a bounded number of batches is
        in flight, so memory does not grow with the number of items."""
        ...


def described(stage: object) -> str:
    """How messages name ``stage``: its ``description`` ("system 'rules'"), else its class."""
    return str(getattr(stage, "description", None) or type(stage).__name__)


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class LocalEngine:
    """The stage in this process, one batch at a time."""

    name = "local"
    workers = 1
    distributed = False

    def map(self, stage: Stage[T, R], parts: Sequence[Iterable[T]], batch_size: int) -> Iterator[R]:
        for part in parts:
            yield from self.stream(stage, part, batch_size)

    def stream(self, stage: Stage[T, R], items: Iterable[T], batch_size: int = 1) -> Iterator[R]:
        for batch in batches(items, batch_size):
            yield from stage(batch)


def open_engine(name: str = "local", address: str | None = None) -> Engine:
    """The engine called ``name``: ``local``, or ``ray`` (on ``address``, else ``RAY_ADDRESS``,
    else a local Ray with this machine's cores)."""
    if name == "local":
        return LocalEngine()
    if name != "ray":
        raise ClaimwireError(
            f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}", field="--engine"
        )
    try:
        import ray  # noqa: F401  (only to say clearly that it is missing)
    except ImportError:
        raise ClaimwireError("--engine ray needs Ray: pip install 'claimwire[ray]'") from None
    from claimwire.engine.ray_data import RayEngine

    return RayEngine(address)
