"""What the benchmarks share: a peak-memory sampler, a timer and a CPU tally of a process tree."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MB = 1_000_000


class _Sampler:
    """Calls :meth:`take` on entering the block, every ``interval`` seconds in a thread while
    it runs, and on leaving it."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def take(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.take()

    def __enter__(self) -> _Sampler:
        self.take()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.take()


class PeakRss(_Sampler):
    """Samples this process's resident memory in a thread; ``peak`` is the highest seen."""

    def __init__(self, interval: float = 0.01) -> None:
        super().__init__(interval)
        self.peak = 0

    @staticmethod
    def current() -> int:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * 4096

    def take(self) -> None:
        self.peak = max(self.peak, self.current())

    def __enter__(self) -> PeakRss:
        super().__enter__()
        return self


@contextmanager
def timed(results: dict[str, float], name: str) -> Iterator[None]:
    """Record the wall time of the block in ``results[name]`` (seconds)."""
    start = time.perf_counter()
    yield
    results[name] = time.perf_counter() - start


def _cpu_of_processes() -> dict[int, tuple[int, float]]:
    """Every process: (parent, user + system CPU seconds), from ``/proc``."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        found[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return found


class TreeCpu(_Sampler):
    """CPU seconds of this process and every process under it (Ray's raylet, workers and
    actors), sampled in a thread; a process that ends keeps its last sample (up to
    ``interval`` of its CPU may be missed). Trustworthy on a shared machine, where wall
    time is not."""

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(interval)
        self.seconds = 0.0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}

    def _tree(self) -> dict[int, float]:
        processes = _cpu_of_processes()
        mine = {os.getpid()}
        grew = True
        while grew:
            grew = False
            for pid, (parent, _) in processes.items():
                if parent in mine and pid not in mine:
                    mine.add(pid)
                    grew = True
        return {pid: processes[pid][1] for pid in mine if pid in processes}

    def take(self) -> None:
        self._last.update(self._tree())

    def __enter__(self) -> TreeCpu:
        self._first = self._tree()
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.seconds = sum(cpu - self._first.get(pid, 0.0) for pid, cpu in self._last.items())
