"""A local Label Studio server on 127.0.0.1, for tests, benchmarks and trying things out.

The server runs from the binary named by ``CLAIMWIRE_LABEL_STUDIO``, else the project's own
virtualenv (``.venv-ls`` beside ``claimwire.toml``, made by ``make test`` in the repository),
else ``label-studio`` on the PATH, bound to 127.0.0.1 (its default is 0.0.0.0) with a
pre-created user and legacy API token and telemetry off, and is stopped with SIGTERM. The
first start migrates a new database (~25 s); the migrated, empty data folder is kept as a
template in the project's ``.cache/label-studio`` (outside a project, the user's cache
folder) so later starts take a few seconds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from claimwire.project import find_project

MISSING = (
    "no Label Studio server found: set CLAIMWIRE_LABEL_STUDIO to its label-studio executable, "
    "put label-studio on the PATH, or run `make test` in the claimwire repository (it makes "
    ".venv-ls)"
)
USER = "admin@claimwire.test"
TOKEN = "c1a1e5c1a1e5c1a1e5c1a1e5c1a1e5c1a1e5c1a1"
"""The legacy token of the pre-created user of a local, throw-away server."""


@dataclass
class Server:
    url: str
    token: str
    log: Path
    database: Path
    """Its SQLite database (tests hold its lock as a busy server's import does)."""


def binary() -> Path | None:
    """The ``label-studio`` executable to start, or None (then say :data:`MISSING`)."""
    configured = os.environ.get("CLAIMWIRE_LABEL_STUDIO")
    candidates = [Path(configured)] if configured else []
    project = find_project()
    if project is not None:
        candidates.append(project.root / ".venv-ls" / "bin" / "label-studio")
    if on_path := shutil.which("label-studio"):
        candidates.append(Path(on_path))
    return next((c for c in candidates if c.exists()), None)


def _template() -> Path:
    project = find_project()
    if project is not None:
        return project.root / ".cache" / "label-studio"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "claimwire" / "label-studio"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def label_studio(executable: Path, workdir: Path, timeout: float = 240) -> Iterator[Server]:
    data = workdir / "label-studio-data"
    template = _template()
    fresh = not template.exists()
    if not fresh:
        shutil.copytree(template, data)
    data.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO", "DJANGO"))},
        "LABEL_STUDIO_USERNAME": USER,
        "LABEL_STUDIO_PASSWORD": "claimwire-test-password",
        "LABEL_STUDIO_USER_TOKEN": TOKEN,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "DJANGO_DB": "sqlite",
    }
    log = workdir / "label-studio.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(executable),
                "start",
                "--no-browser",
                "--internal-host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                moved = _healthy(f"http://127.0.0.1:{port + 1}")
                raise RuntimeError(
                    f"Label Studio did not answer on {url}"
                    + (" (it moved to the next port: ours was busy)" if moved else "")
                    + f"; see {log}"
                )
            time.sleep(0.5)
        if fresh and not template.exists():  # the migrated, still empty database: keep it
            template.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(data, template, ignore=shutil.ignore_patterns("export", "media"))
        yield Server(url, TOKEN, log, data / "label_studio.sqlite3")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
