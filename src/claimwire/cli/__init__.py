"""The ``claimwire`` command line: a thin layer over the library API.

``claimwire --version`` and the shell's completion of command names
(:mod:`claimwire.cli.completion`) answer before Typer is even imported; everything else
builds the application (:mod:`claimwire.cli.root`), whose commands load their modules when
used.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from typing import Any

from claimwire.errors import ClaimwireError


def allow_open_files() -> None:
    """Raise the soft limit on open files to the hard one, as ``ulimit -n`` can: a release is
    read with one open file a shard, and the usual soft limit (1,024) is below what a release
    of 10⁷ documents has. Where the limit cannot be raised, nothing changes."""
    try:
        import resource
    except ImportError:  # not on this system
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):  # a system's ceiling (macOS: OPEN_MAX)
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


OPEN_FILES = 1 << 20
"""The most open files asked for (a shard each: 10¹¹ records at 100,000 a shard)."""


class ClosedOutput(io.TextIOBase):
    """Standard output when the command was started with it closed (``>&-``; Python then
    sets ``sys.stdout`` to None, and writes to it vanish): writing fails as it does on a
    file that cannot be written, so the command stops with one line and exit code 1, as
    ``cat`` does, instead of losing its output with exit code 0."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "cannot write the output: standard output is closed")


def main() -> None:
    """Console entry point: user errors (and a full disk, a permission refused…) become one
    clear line and exit code 1; anything else is a bug: one line saying so, exit code 2, and
    the traceback only with CLAIMWIRE_DEBUG=1."""
    if sys.stdout is None:
        sys.stdout = ClosedOutput()
    try:
        _main()
    except OSError as error:  # the version or the completion, written to a closed output
        from claimwire.cli.common import report_error, user_error

        report_error(user_error(error) or ClaimwireError(str(error)))
        sys.exit(1)


def _main() -> None:
    """:func:`main` once standard output is known to be writable or closed."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        from claimwire import __version__

        print(f"claimwire {__version__}")
        return
    if "_CLAIMWIRE_COMPLETE" in os.environ:
        from claimwire.cli.completion import complete_names

        answer = complete_names(os.environ)
        if isinstance(answer, int):
            sys.exit(answer)
        if answer is not None:
            print(answer)
            return
    from claimwire.cli.common import show_warnings
    from claimwire.cli.root import app

    allow_open_files()
    show_warnings()
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted; nothing was half-written", file=sys.stderr)
        sys.exit(130)
    except Exception as exception:
        from claimwire.cli.common import report_error, user_error

        error = user_error(exception)
        if error is not None:
            report_error(error)
            sys.exit(1)
        if os.environ.get("CLAIMWIRE_DEBUG"):
            raise
        report_error(
            ClaimwireError(
                f"internal error ({type(exception).__name__}: {exception}); this is a bug: "
                "rerun with CLAIMWIRE_DEBUG=1 for the traceback and report it (docs/security.md)"
            )
        )
        sys.exit(2)


def __getattr__(name: str) -> Any:
    """The Typer application (``claimwire.cli.app``), built when asked."""
    if name == "app":
        from claimwire.cli.root import app

        return app
    raise AttributeError(f"module 'claimwire.cli' has no attribute {name!r}")
