"""An external program fed on standard input and read a line at a time as it answers.

One loop, in the caller's thread, feeds its input, reads its output and drains its standard
error, each pipe non-blocking, waiting on them with a deadline (:mod:`selectors`): the
timeout holds whatever keeps a pipe open, a detached grandchild included. Nothing it prints
is held whole: its standard output is split on ``\\n`` only, each line at most
:data:`LINE_LIMIT` bytes; of its standard error only the last :data:`STDERR_TAIL` bytes are
kept (shown when it fails). The program runs in a process group of its own, killed whole on
a timeout, an error, Ctrl-C or SIGTERM.

Its answer ends when its standard output closes. A process it started that still holds
that pipe after it exited (``setsid helper &``) is waited for up to the timeout, like one
of its own group: then the run fails with the timeout, saying so, and the pipe is closed.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import IO

from claimwire.errors import ClaimwireError
from claimwire.lines import RECORD_LINE
from claimwire.redact import redact
from claimwire.storage import stop_on_sigterm

LINE_LIMIT = RECORD_LINE.bytes
"""The longest line of output accepted, in bytes (without its ``\\n``): a record line's
(:data:`~claimwire.lines.RECORD_LINE`), as every record file's reader allows."""
STDERR_TAIL = 4096
"""How many of the last bytes of standard error are kept."""
SHOWN = 500
"""How many of the last characters of standard error a failure shows."""
CHUNK = 65536
"""Bytes read or written at a time."""
EXIT_POLL = 0.05
"""Seconds between two looks at whether the program has exited, once its output is closed."""


class Program:
    """``argv`` running with ``environment``, fed ``payload``; :meth:`lines` reads its
    answer, whose lines and failures are located in ``where`` (default ``<ARGV0 stdout>``).
    A context manager: leaving it kills what still runs of the program's group."""

    def __init__(
        self,
        argv: Sequence[str],
        payload: bytes,
        environment: Mapping[str, str],
        timeout: float,
        line_limit: int = LINE_LIMIT,
        where: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.payload = payload
        self.environment = dict(environment)
        self.timeout = timeout
        self.line_limit = line_limit
        self.where = where or f"<{self.argv[0]} stdout>"
        self._tail = bytearray()
        self._sent = 0

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
        self._deadline = time.monotonic() + self.timeout
        self._selector = selectors.DefaultSelector()
        for pipe, event in (
            (self._process.stdin, selectors.EVENT_WRITE),
            (self._process.stdout, selectors.EVENT_READ),
            (self._process.stderr, selectors.EVENT_READ),
        ):
            os.set_blocking(_pipe(pipe).fileno(), False)
            self._selector.register(_pipe(pipe), event, pipe)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process.returncode is None:  # not reaped: its group id is still its own
            self._kill()
            self._process.wait()
        self._selector.close()
        for pipe in (self._process.stdin, self._process.stdout, self._process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):  # stdin's last bytes may find no reader
                    pipe.close()

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """``(line number, line without its \\n)`` for each line the program prints, as
        it prints them; then its exit is awaited. A line over the limit, a timeout and an
        exit status other than 0 are each one :class:`ClaimwireError`; a last line without
        its ``\\n`` is given only once the program has exited well (a kill cuts lines)."""
        lineno = 0
        pending = bytearray()
        for chunk in self._output():
            searched = len(pending)  # none of it holds a \n: each byte is looked at once
            pending += chunk
            start = 0
            while (end := pending.find(b"\n", max(start, searched))) >= 0:
                lineno += 1
                self._check_length(end - start, lineno)
                yield lineno, bytes(pending[start:end])
                start = end + 1
            del pending[:start]
            self._check_length(len(pending), lineno + 1)
        self._await_exit()
        if pending:
            yield lineno + 1, bytes(pending)

    def _check_length(self, length: int, lineno: int) -> None:
        if length > self.line_limit:
            raise ClaimwireError(
                f"a line longer than {self.line_limit} bytes (the limit of a record line)",
                file=self.where,
                line=lineno,
            )

    def _output(self) -> Iterator[bytes]:
        """What the program writes on stdout, as it comes, until it closes it; meanwhile
        its input is fed and its stderr drained. Past the deadline: the timeout error."""
        stdout = _pipe(self._process.stdout)
        while stdout in self._selector.get_map():
            for key, _ in self._selector.select(self._remaining()):
                if key.data is self._process.stdin:
                    self._feed()
                elif (chunk := self._read(key.data)) and key.data is stdout:
                    yield chunk

    def _remaining(self) -> float:
        """Seconds left before the deadline; past it, the group is killed and the timeout
        raised."""
        left = self._deadline - time.monotonic()
        if left > 0:
            return left
        exited = self._exited()
        self._kill()
        held = " (it exited, but a process it started still holds its output)" if exited else ""
        raise ClaimwireError(
            f"command timed out after {self.timeout:g} s: {self.argv[0]}{held}", file=self.where
        )

    def _feed(self) -> None:
        stdin = _pipe(self._process.stdin)
        try:
            self._sent += os.write(stdin.fileno(), self._unsent[:CHUNK])
        except BlockingIOError:
            return
        except OSError:  # the program stopped reading: its answer tells
            self._sent = len(self.payload)
        if self._sent >= len(self.payload):
            self._selector.unregister(stdin)
            with contextlib.suppress(OSError):
                stdin.close()

    @property
    def _unsent(self) -> memoryview:
        return memoryview(self.payload)[self._sent :]

    def _read(self, pipe: IO[bytes]) -> bytes:
        """A chunk of ``pipe`` (stdout or stderr; stderr's kept in the tail), ``b""`` when
        nothing is there yet; at its end it is no longer watched."""
        try:
            chunk = os.read(pipe.fileno(), CHUNK)
        except BlockingIOError:
            return b""
        if not chunk:
            self._selector.unregister(pipe)
        elif pipe is self._process.stderr:
            self._tail += chunk
            del self._tail[:-STDERR_TAIL]
        return chunk

    def _exited(self) -> bool:
        """Whether the program has exited (not reaped: its group id stays reserved)."""
        found = os.waitid(os.P_PID, self._process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return found is not None

    def _await_exit(self) -> None:
        """Its exit, within the deadline, with what is left of its stderr; a status other
        than 0 is an error."""
        while not self._exited():
            time.sleep(min(EXIT_POLL, self._remaining()))
        stderr = self._process.stderr
        if stderr is not None and stderr in self._selector.get_map():
            while self._read(stderr):  # what it wrote before it exited, within the deadline
                self._remaining()  # (a holder of the pipe is not waited for)
        status = self._process.wait()
        if status != 0:
            said = bytes(self._tail).decode("utf-8", "replace")
            shown = redact(said.strip()[-SHOWN:], self.environment.values())
            raise ClaimwireError(f"command exited with {status}: {shown}", file=self.where)

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self._process.pid, signal.SIGKILL)


def _pipe(pipe: IO[bytes] | None) -> IO[bytes]:
    assert pipe is not None  # every stream is a pipe
    return pipe
