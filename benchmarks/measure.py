"""What the benchmarks share: a peak-memory sampler, a timer and a CPU tally of a process tree."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MB = 1_000_000


class PeakRss:
    """Samples this process's resident memory in a thread; ``peak`` is the highest seen."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def current() -> int:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * 4096

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRss:
        self.peak = self.current()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


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


class TreeCpu:
    """CPU seconds of this process and every process under it (Ray's raylet, workers and
    actors), sampled in a thread; a process that ends keeps its last sample (up to
    ``interval`` of its CPU may be missed). Trustworthy on a shared machine, where wall
    time is not."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.seconds = 0.0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

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

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._last.update(self._tree())

    def __enter__(self) -> TreeCpu:
        self._first = self._tree()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._last.update(self._tree())
        self.seconds = sum(cpu - self._first.get(pid, 0.0) for pid, cpu in self._last.items())
