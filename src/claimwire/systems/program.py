"""An external program fed on standard input and read a line at a time as it answers.

Nothing it prints is held whole: its standard output is read line by line (split on ``\\n``
only), each line at most :data:`LINE_LIMIT` bytes; its standard error is drained by a
thread that keeps the last :data:`STDERR_TAIL` bytes (shown when it fails); its input is
written by another thread, so neither side blocks on a full pipe. The program runs in a
process group of its own, killed whole on a timeout, an error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import IO

from claimwire.errors import ClaimwireError
from claimwire.model import RECORD_LINE
from claimwire.redact import redact
from claimwire.storage import stop_on_sigterm

LINE_LIMIT = RECORD_LINE.bytes
"""The longest line of output accepted, in bytes (without its ``\\n``): a record line's
(:data:`~claimwire.model.RECORD_LINE`), as every record file's reader allows."""
STDERR_TAIL = 4096
"""How many of the last bytes of standard error are kept."""
SHOWN = 500
"""How many of the last characters of standard error a failure shows."""


class Program:
    """``argv`` running with ``environment``, fed ``payload``; :meth:`lines` reads its
    answer. A context manager: leaving it kills what still runs of the program's group."""

    def __init__(
        self,
        argv: Sequence[str],
        payload: bytes,
        environment: Mapping[str, str],
        timeout: float,
        line_limit: int = LINE_LIMIT,
    ) -> None:
        self.argv = list(argv)
        self.payload = payload
        self.environment = dict(environment)
        self.timeout = timeout
        self.line_limit = line_limit
        self.where = f"<{self.argv[0]} stdout>"
        self._tail = bytearray()
        self._lock = threading.Lock()
        self._exited = False
        self._expired = False
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Program:
        stop_on_sigterm()  # SIGTERM ends claimwire through __exit__, which kills the group
        try:
            self._process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.environment,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise ClaimwireError(f"command not found: {self.argv[0]}") from None
        except PermissionError:
            raise ClaimwireError(f"command not executable: {self.argv[0]}") from None
        self._timer = threading.Timer(self.timeout, self._expire)
        self._threads = [
            threading.Thread(target=self._feed, daemon=True),
            threading.Thread(target=self._drain, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        if self._process.returncode is None:  # not reaped: its group id is still its own
            self._kill()
            self._process.wait()
        for thread in self._threads:
            thread.join(timeout=5)  # a detached grandchild may hold stderr open
        for pipe in (self._process.stdout, self._process.stderr):
            if pipe is not None:
                pipe.close()

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """``(line number, line without its \\n)`` for each line the program prints, as
        it prints them; then its exit is awaited. A line over the limit, a timeout and an
        exit status other than 0 are each one :class:`ClaimwireError`."""
        stdout = self._pipe(self._process.stdout)
        lineno = 0
        while line := stdout.readline(self.line_limit + 1):
            lineno += 1
            if len(line) > self.line_limit and not line.endswith(b"\n"):
                raise ClaimwireError(
                    f"a line longer than {self.line_limit} bytes (the limit of a record line)",
                    file=self.where,
                    line=lineno,
                )
            yield lineno, line.removesuffix(b"\n")
        self._await_exit()

    def _await_exit(self) -> None:
        os.waitid(os.P_PID, self._process.pid, os.WEXITED | os.WNOWAIT)  # not reaped yet
        with self._lock:
            self._exited = True
        self._timer.cancel()
        status = self._process.wait()
        if self._expired:
            raise ClaimwireError(f"command timed out after {self.timeout:.0f} s: {self.argv[0]}")
        if status != 0:
            with self._lock:
                said = bytes(self._tail).decode("utf-8", "replace")
            shown = redact(said.strip()[-SHOWN:], self.environment.values())
            raise ClaimwireError(f"command exited with {status}: {shown}")

    def _expire(self) -> None:
        with self._lock:
            if not self._exited:
                self._expired = True
                self._kill()

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self._process.pid, signal.SIGKILL)

    def _feed(self) -> None:
        stdin = self._pipe(self._process.stdin)
        with contextlib.suppress(OSError):  # the program stopped reading: its answer tells
            try:
                stdin.write(self.payload)
            finally:
                stdin.close()

    def _drain(self) -> None:
        stderr = self._pipe(self._process.stderr).fileno()
        while chunk := os.read(stderr, 65536):
            with self._lock:
                self._tail += chunk
                del self._tail[:-STDERR_TAIL]

    @staticmethod
    def _pipe(pipe: IO[bytes] | None) -> IO[bytes]:
        assert pipe is not None  # every stream is a pipe
        return pipe
