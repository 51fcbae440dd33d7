"""The ``claimwire`` command line: a thin layer over the library API.

``claimwire --version`` answers before Typer is even imported; everything else builds the
application (:mod:`claimwire.cli.root`), whose commands load their modules when used.
"""

from __future__ import annotations

import sys
from typing import Any

from claimwire.errors import ClaimwireError


def main() -> None:
    """Console entry point: user errors become one clear message and exit code 1."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        from claimwire import __version__

        print(f"claimwire {__version__}")
        return
    from claimwire.cli.root import app

    try:
        app()
    except ClaimwireError as error:
        from claimwire.cli.common import report_error

        report_error(error)
        sys.exit(1)


def __getattr__(name: str) -> Any:
    """The Typer application (``claimwire.cli.app``), built when asked."""
    if name == "app":
        from claimwire.cli.root import app

        return app
    raise AttributeError(f"module 'claimwire.cli' has no attribute {name!r}")
