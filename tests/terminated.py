"""Run ``claimwire`` in a real process paused inside one of its functions, then end it with
SIGTERM (a timeout, a cancelled job): what tests of interrupted writers share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .helpers import REPO

_WRAPPED = """
import functools, importlib, os, sys, time
from pathlib import Path
marker = Path(os.environ["PAUSE_AT"])
for setting in filter(None, os.environ.get("PAUSE_SET", "").split(";")):
    where, value = setting.split("=")
    module_name, name = where.split(":")
    setattr(importlib.import_module(module_name), name, int(value))
after = bool(os.environ.get("PAUSE_AFTER"))
def paused(call):
    def pause(*args, **kwargs):
        result = call(*args, **kwargs) if after else None
        marker.touch()
        time.sleep(120)
        return result if after else call(*args, **kwargs)
    return pause
for where in os.environ["PAUSE_IN"].split(","):
    module_name, path = where.split(":")
    *owners, name = path.split(".")
    owner = functools.reduce(getattr, owners, importlib.import_module(module_name))
    if hasattr(owner, name):
        setattr(owner, name, paused(getattr(owner, name)))
sys.argv[0] = "claimwire"
from claimwire.cli import main
main()
"""


def terminated(
    args: Sequence[str | Path],
    tmp_path: Path,
    pause_in: str,
    paused: Callable[[], None],
    *,
    settings: str = "",
    code: int = 128 + signal.SIGTERM,
    after: bool = False,
    **env: str,
) -> bytes:
    """Run ``claimwire ARGS`` until it enters ``pause_in`` ("module:function" or
    "module:Class.method"; several, comma-separated: the first called, those that exist), or
    until the call returns if ``after``; check it there with ``paused``, end it with SIGTERM;
    its stderr, once it exited ``code`` (143: it turned the signal into a clean exit) without
    a traceback. ``settings`` ("module:NAME=int;...") are set
    before it runs; ``env`` adds to its environment. The pause's marker is ``tmp_path/paused``.
    """
    marker = tmp_path / "paused"
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src"), **env}
    environment |= {"PAUSE_IN": pause_in, "PAUSE_AT": str(marker), "PAUSE_SET": settings}
    environment |= {"PAUSE_AFTER": "1"} if after else {}
    command = [sys.executable, "-c", _WRAPPED, *map(str, args)]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        while not marker.exists() and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        paused()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, stderr
    assert b"Traceback" not in stderr, stderr
    return stderr
