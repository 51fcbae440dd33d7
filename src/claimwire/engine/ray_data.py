"""The Ray engine: a stage on a pool of Ray actors, one per CPU.

A part that cuts itself into pieces (:class:`~claimwire.engine.Divisible`: the build's raw
inputs, a JSONL input in ranges of lines) is cut here as the work goes, and each piece is
sent to an actor that reads it itself: a window of ``WINDOW × workers`` pieces is in flight,
each on the actor with the fewest unfinished ones, and results are taken in the order sent.
So the driver's memory does not grow with the number of inputs: Ray Data plans its input
whole (``from_items``, and every read task ``ray.put`` up front and held for the run), which
held every piece of 10⁵ raw files at once.
Any other part (a run's documents, read from the release) goes through Ray Data: one read
task iterates it (on a worker: a part that reads files reads them there) and cuts it into
batches; the batches travel a few at a time (about :data:`BLOCK_ITEMS` items) as one pickled
row ``(seq, blob)``, a Ray Data block of its own, to ``map_batches`` over a pool of actors.
The stage is sent once to each actor, which keeps it (and the model it loads) for every
batch. Rows come back in input order (``preserve_order``), checked by their sequence
numbers, so the results are those of the local engine in the same order. A user error
(:class:`ClaimwireError`) inside a read or a stage travels back with the results before it
and is raised when the driver reaches it, as the local engine would raise it; so does a file
a worker cannot read (:class:`OSError`), as a located error naming the file. An actor that
dies is restarted and its batch or piece retried (``max_restarts``/``max_task_retries``).

Items made by the driver (:meth:`RayEngine.stream`) go another way: Ray Data reads its input
in worker tasks, and the driver's items (descriptions of batches from its indexes) are not
there to read. Each batch of them is one Ray task; a window of ``WINDOW × workers`` tasks is
in flight, results are taken in submission order, and a task whose worker dies is run again
by Ray (``max_retries``).

Only imported by :func:`claimwire.engine.open_engine`, once Ray is known to be installed.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import pickle
import socket
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import pyarrow as pa  # type: ignore[import-untyped]
import ray
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from claimwire.engine import Divisible, Stage, batches, described
from claimwire.errors import ClaimwireError
from claimwire.removal import remove_tree
from claimwire.storage import Carried, carried, stop_on_sigterm, stopped_by

T = TypeVar("T")
R = TypeVar("R")

BLOCK_BYTES = 1
"""Ray Data's target block size for this engine: every row is a block of its own. A block is
what Ray Data hands to one actor and back to the driver; at its default (128 MiB) a read task's
batches are merged into one block, so one actor did a whole part and the driver received
all of its results at once (its memory grew with the part)."""
BLOCK_ITEMS = 256
"""Items a block carries at least, in whole batches: ``run``'s batches of 32 documents travel
8 to a block. Ray Data's driver spends about 8 ms of CPU a block (a stage of a fixed cost,
blocks of 32 against 128 items), a third of a ``run``'s driver at 100,000 documents with a
block a batch."""
_SCHEMA = pa.schema([("seq", pa.int64()), ("blob", pa.large_binary())])
_PART_BITS = 32
WINDOW = 2
"""Tasks in flight per worker (one running, one queued) with :meth:`RayEngine.stream`, and
pieces of a divisible part: the driver's memory does not grow with the inputs."""
RETRIES = 3
"""How many times an actor (or a task's worker) that dies is replaced and its batch or piece
run again before the command gives up (Ray Data's own default, for ever, hung the command on a
stage that kills its worker every time)."""


def _dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _block(seq: int, payload: tuple[list[Any], ClaimwireError | None]) -> pa.Table:
    """One row: ``payload`` is (batches or results, the error that ended them or ``None``)."""
    return pa.Table.from_arrays(
        [pa.array([seq], pa.int64()), pa.array([_dumps(payload)], pa.large_binary())],
        schema=_SCHEMA,
    )


def per_block(batch_size: int) -> int:
    """Batches of ``batch_size`` items a block carries (:data:`BLOCK_ITEMS` items or more)."""
    return max(1, -(-BLOCK_ITEMS // batch_size))


def _worker_error(error: OSError) -> ClaimwireError:
    """A file a worker could not read, as a located error (the local engine's would be the
    same failure met here; on a cluster it usually means a node does not see the file)."""
    reason = error.strerror or type(error).__name__
    return ClaimwireError(
        f"{reason} on Ray worker {socket.gethostname()} (every node must see the inputs at the "
        "same path)",
        file=error.filename,
    )


def _read(index: int, part: Iterable[Any], batch_size: int) -> Iterator[pa.Table]:
    """The part's batches, :func:`per_block` a block; an error reading the part ends it, in
    the block of the batches read before it."""
    seq = index << _PART_BITS
    group: list[list[Any]] = []
    error: ClaimwireError | None = None
    try:
        for batch in batches(part, batch_size):
            group.append(batch)
            if len(group) == per_block(batch_size):
                yield _block(seq, (group, None))
                seq, group = seq + 1, []
    except ClaimwireError as failure:
        error = failure
    except OSError as failure:
        error = _worker_error(failure)
    if group or error:
        yield _block(seq, (group, error))


class _Parts(Datasource):
    """One read task per part."""

    def __init__(self, parts: Sequence[Iterable[Any]], batch_size: int) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.parts = parts
        self.batch_size = batch_size

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
    ) -> list[ReadTask]:
        size = self.batch_size

        def task(index: int, part: Iterable[Any]) -> ReadTask:
            return ReadTask(
                lambda: _read(index, part, size),
                BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None),
                schema=_SCHEMA,
            )

        return [task(index, part) for index, part in enumerate(self.parts)]


def _source(parts: Sequence[Iterable[Any]], batch_size: int) -> Any:
    """Each part's batches, read by one read task per part, as Ray Data blocks."""
    return ray.data.read_datasource(
        _Parts(parts, batch_size),
        override_num_blocks=len(parts),
        num_cpus=0,  # reading is light: it must not hold a core the actors need
    )


@dataclass(frozen=True)
class _Batches:
    """A piece's items in batches, read as they are iterated (in the actor)."""

    piece: Iterable[Any]
    size: int

    def __iter__(self) -> Iterator[list[Any]]:
        return batches(self.piece, self.size)


def _applied(
    stage: Stage[Any, Any], group: Iterable[list[Any]], error: ClaimwireError | None
) -> tuple[list[Any], ClaimwireError | None]:
    """``group``'s batches (a block's, or a piece's, read here) through the stage, in turn,
    as the local engine calls it, up to the first error, which passes on with the results."""
    results: list[Any] = []
    try:
        if isinstance(stage, Carried) and isinstance(group, _Batches):
            stage.mirror()  # the piece is read before the stage's first call
        for batch in group:
            results.extend(stage(batch))
    except ClaimwireError as failure:
        error = failure
    except OSError as failure:
        error = _worker_error(failure)
    return results, error


class _Apply:
    """The actor: holds one stage (and the model it loads) for every block or piece."""

    def __init__(self, stage: Stage[Any, Any]) -> None:
        self.stage = stage

    def __call__(self, table: pa.Table) -> pa.Table:
        """A Ray Data block's batches to a block of their results."""
        (seq,) = table.column("seq").to_pylist()
        (blob,) = table.column("blob").to_pylist()
        group, error = pickle.loads(blob)
        return _block(seq, _applied(self.stage, group, error))

    def piece(self, piece: _Batches) -> tuple[list[Any], ClaimwireError | None]:
        """A piece's batches, read here, to their results."""
        return _applied(self.stage, piece, None)


_PieceActor = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(_Apply)


def _stage_task(stage: Stage[Any, Any], batch: list[Any]) -> tuple[bool, Any]:
    """One batch through the stage on a worker: ``(False, results)``, or ``(True, error)``
    for a user error (raised by the driver when it reaches this batch)."""
    try:
        return False, list(stage(batch))
    except ClaimwireError as error:
        return True, error
    except OSError as error:
        return True, _worker_error(error)


_remote_stage = ray.remote(num_cpus=1, max_retries=RETRIES)(_stage_task)


WORKER_NICENESS = "RAY_worker_niceness"
"""Ray's setting for how much nicer than the raylet its worker processes run (default 15)."""


def start(address: str | None) -> None:
    """Join the cluster at ``address`` (or ``RAY_ADDRESS``), else start a local Ray with this
    machine's cores; quietly, without the dashboard. Does nothing when Ray is already up."""
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.ERROR,
    }
    if address is None:
        options["num_cpus"] = os.cpu_count() or 1
        # Ray starts its workers 15 steps nicer than the raylet: on a shared machine they got
        # a fraction of the CPU the command itself gets (Ray's own jobs set 0 too)
        os.environ.setdefault(WORKER_NICENESS, "0")
        options["_temp_dir"] = _private_temp_folder()
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError, OSError) as error:
        hint = ""
        if "AF_UNIX path length" in str(error):  # Ray's sockets live under the temp folder
            hint = " (set TMPDIR to a shorter folder)"
        raise ClaimwireError(
            f"could not start or join Ray at {address or 'this machine'}: {error}{hint}",
            field="--ray-address",
        ) from None
    finally:
        # SIGTERM ends the command as under the local engine (exit 143, nothing printed),
        # through SystemExit so that the clean-up runs (the actors killed, Ray stopped):
        # ray.init replaced the handler twice, with its own in Python, and in Ray's core
        # worker with a native one that printed a stack dump twice and aborted (exit 134)
        stop_on_sigterm(replacing=True)


def _private_temp_folder() -> str:
    """A folder of this command's own for the local Ray's session (its sockets, logs and
    spilled objects), removed when the command ends, also by SIGTERM or Ctrl-C: at Ray's
    default, every command left a ``/tmp/ray/session_*`` of about 300 KB behind. With
    ``CLAIMWIRE_DEBUG`` set it is kept, and its place printed, for Ray's logs."""
    folder = tempfile.mkdtemp(prefix="claimwire-ray-", dir=os.environ.get("RAY_TMPDIR"))
    atexit.register(_stop_local, Path(folder))  # runs before Ray's own (registered earlier)
    return folder


def _stop_local(folder: Path) -> None:
    """Stop the local Ray, then remove its session folder (or say where it is kept)."""
    ray.shutdown()
    if os.environ.get("CLAIMWIRE_DEBUG"):
        print(f"Ray's logs of this command are kept in {folder}", file=sys.stderr)
    else:
        remove_tree(folder)


_DIED = (
    ray.exceptions.RayActorError,
    ray.exceptions.WorkerCrashedError,
    ray.exceptions.OutOfMemoryError,
)
"""What Ray raises once a worker running a stage has died more often than it is replaced."""


def _guarded(stage: Stage[Any, Any], results: Iterator[R]) -> Iterator[R]:
    """``results``; a signal's exit keeps its code when Ray's wait has made it
    ``SystemExit(1)``, and a worker that kept dying is one line naming the stage."""
    try:
        yield from results
    except SystemExit:
        stopped = stopped_by()
        if stopped is not None:
            raise SystemExit(128 + stopped) from None
        raise
    except _DIED as error:
        memory = isinstance(error, ray.exceptions.OutOfMemoryError)
        raise ClaimwireError(
            f"the Ray worker running {described(stage)} kept "
            f"{'being killed for want of memory' if memory else 'dying'}: it was replaced and "
            f"its work run again {RETRIES} times, then the command gave up (a crash in native "
            "code, os._exit, the OOM killer; rerun with CLAIMWIRE_DEBUG=1 to keep Ray's logs)"
        ) from None


class RayEngine:
    """Stages on Ray Data actors, one per CPU of the cluster (or ``workers``)."""

    name = "ray"
    distributed = True

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        start(address)
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.target_max_block_size = BLOCK_BYTES
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        # Ray Data logs the error that ends a dataset, with its traceback, then raises it:
        # the command says it once, in one line
        debug = bool(os.environ.get("CLAIMWIRE_DEBUG"))
        logging.getLogger("ray.data").setLevel(logging.ERROR if debug else logging.CRITICAL)
        # Ray Data's advice about an input it counts as one block (our reads stream many)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"ray\.data\.")
        cpus = ray.cluster_resources().get("CPU", 1)  # type: ignore[no-untyped-call]
        self.workers = workers or max(1, int(cpus))

    def map(self, stage: Stage[T, R], parts: Sequence[Iterable[T]], batch_size: int) -> Iterator[R]:
        return _guarded(stage, self._map(stage, parts, batch_size))

    def _map(
        self, stage: Stage[T, R], parts: Sequence[Iterable[T]], batch_size: int
    ) -> Iterator[R]:
        if not parts:
            return
        if all(isinstance(part, Divisible) for part in parts):
            yield from self._pieces(stage, cast("Sequence[Divisible[T]]", parts), batch_size)
            return
        with warnings.catch_warnings():  # Ray 2.60 names no parameter for the restarts
            warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
            dataset = _source(parts, batch_size).map_batches(
                _Apply,
                fn_constructor_args=(carried(stage),),  # copies of remote inputs travel as URIs
                batch_size=1,  # a block is one row
                batch_format="pyarrow",
                zero_copy_batch=True,
                concurrency=self.workers,
                num_cpus=1,
                max_restarts=RETRIES,
                max_task_retries=RETRIES,
            )
        last = -1
        for table in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
            for seq, blob in zip(
                table.column("seq").to_pylist(), table.column("blob").to_pylist(), strict=True
            ):
                if seq <= last:  # preserve_order is what makes the output the local one's
                    raise RuntimeError(f"Ray Data returned block {seq} after block {last}")
                last = seq
                yield from _delivered(*pickle.loads(blob))

    def _pieces(
        self, stage: Stage[T, R], parts: Sequence[Divisible[T]], batch_size: int
    ) -> Iterator[R]:
        """The parts' pieces, each cut here only when a window of ``WINDOW × workers``
        pieces has room, on the actor with the fewest unfinished ones; results in order."""
        staged = ray.put(carried(stage))  # sent once; copies of remote inputs travel as URIs
        actors: list[Any] = [_PieceActor.remote(staged) for _ in range(self.workers)]
        window: collections.deque[tuple[int, Any]] = collections.deque()
        try:
            for part in parts:
                for piece in part.pieces(batch_size):
                    if len(window) >= WINDOW * self.workers:
                        yield from _delivered(*ray.get(window.popleft()[1]))
                    chosen = _least_busy(len(actors), window)
                    sent = actors[chosen].piece.remote(_Batches(piece, batch_size))
                    window.append((chosen, sent))
            while window:
                yield from _delivered(*ray.get(window.popleft()[1]))
        finally:
            for _, ref in window:  # stopped early (an error): nothing left running
                ray.cancel(ref)
            for actor in actors:
                ray.kill(actor)

    def stream(self, stage: Stage[T, R], items: Iterable[T], batch_size: int = 1) -> Iterator[R]:
        return _guarded(stage, self._stream(stage, items, batch_size))

    def _stream(self, stage: Stage[T, R], items: Iterable[T], batch_size: int = 1) -> Iterator[R]:
        staged: Any = ray.put(carried(stage))  # sent once; each task gets a reference
        window: collections.deque[Any] = collections.deque()
        try:
            for batch in batches(items, batch_size):
                window.append(_remote_stage.remote(staged, batch))
                if len(window) >= WINDOW * self.workers:
                    yield from _taken(window.popleft())
            while window:
                yield from _taken(window.popleft())
        finally:
            for ref in window:  # stopped early (an error): nothing left running
                ray.cancel(ref)


def _least_busy(actors: int, window: Iterable[tuple[int, Any]]) -> int:
    """Which of ``actors`` has the fewest unfinished pieces among ``(actor, result)``."""
    window = list(window)
    busy = [0] * actors
    if window:
        refs = [ref for _, ref in window]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
        done = set(ready)
        for actor, ref in window:
            busy[actor] += ref not in done
    return busy.index(min(busy))


def _delivered(results: list[Any], error: ClaimwireError | None) -> Iterator[Any]:
    """A block's or piece's results, then the error that ended them (as the local engine
    would raise it there)."""
    yield from results
    if error is not None:
        raise error


def _taken(ref: Any) -> list[Any]:
    failed, value = ray.get(ref)
    if failed:
        raise value
    return list(value)
