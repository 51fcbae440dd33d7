"""A hostile or silent Hub: bounded waits, the failing URL named, the token never printed.

The Hub is the one server tests replace (tests/fake_hub.py); the client code
(``huggingface_hub``) runs for real up to the wire.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .fake_hub import FakeHub
from .helpers import REPO, one_error_line
from .test_hub import publish

TOKEN = "hf_secret_token_123"


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub().start()
    yield fake
    fake.stop()


def test_a_hub_that_echoes_the_token_never_gets_it_printed(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the Hub's error text went into the message as it was, token included."""

    def echo(method: str, path: str, body: bytes) -> tuple[int, Any]:
        said = hub.requests[-1].authorization
        return 401, {"error": f"Invalid credentials in Authorization header: {said}"}

    monkeypatch.setattr(hub, "route", echo)
    done = publish(hub, token=TOKEN)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert TOKEN not in done.stderr + done.stdout
    assert "HTTP 401" in done.stderr and "Invalid credentials" in done.stderr
    assert f"at {hub.url}/api/repos/create" in done.stderr  # the URL that failed


def test_a_silent_hub_fails_within_the_bound(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: huggingface_hub's client has no timeout; a Hub that never answers held
    `hub publish` forever."""
    never = threading.Event()

    def silent(method: str, path: str, body: bytes) -> tuple[int, Any]:
        never.wait(120)
        return 500, {}

    monkeypatch.setattr(hub, "route", silent)
    try:
        done = publish(hub, token=TOKEN, env={"CLAIMWIRE_HUB_TIMEOUT": "1"})
    finally:
        never.set()
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "cannot reach the Hub" in done.stderr and "Timeout" in done.stderr
    assert TOKEN not in done.stderr


def test_a_bad_timeout_setting_is_one_line(hub: FakeHub) -> None:
    done = publish(hub, token=TOKEN, env={"CLAIMWIRE_HUB_TIMEOUT": "soon"})
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "CLAIMWIRE_HUB_TIMEOUT='soon'" in done.stderr and hub.requests == []


@pytest.mark.parametrize("answer", ["nope", [1, 2], {"unexpected": True}])
def test_a_garbage_answer_from_the_hub_is_one_line(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch, answer: Any
) -> None:
    """Before: huggingface_hub's KeyError / TypeError on the answer was an internal error."""
    monkeypatch.setattr(hub, "route", lambda method, path, body: (200, answer))
    done = publish(hub, token=TOKEN)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "unexpected answer" in done.stderr and TOKEN not in done.stderr


def test_a_hub_that_trickles_is_stopped_at_the_deadline(hub: FakeHub) -> None:
    """Each answer comes a byte every 0.2 s: no request ever waits 1 s (the per-request
    timeout), but the whole publish would take minutes. Before: only the per-request
    bound existed, and the command went on for as long as the Hub kept trickling."""
    hub.trickle = 0.2
    env = {"CLAIMWIRE_HUB_TIMEOUT": "1", "CLAIMWIRE_HUB_DEADLINE": "3"}
    started = time.monotonic()
    done = publish(hub, token=TOKEN, env=env)
    took = time.monotonic() - started
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "stopped after 3 s" in done.stderr and "CLAIMWIRE_HUB_DEADLINE" in done.stderr
    assert f"during POST {hub.url}/api/repos/create" in done.stderr
    assert TOKEN not in done.stderr and hub.commits == [] and hub.tags == {}
    assert took < 60, took  # not a timing test: the trickle alone would take minutes


def _load(hub: FakeHub, cache: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    variables = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(cache / "hf-home"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PYTHONPATH": str(REPO / "src"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "claimwire", "hub", "load", "1.0.0", "--repo-id", "org/corpus"],
        env=variables,
        cwd=cache,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_hub_load_from_a_trickling_hub_stops_at_the_deadline(hub: FakeHub, tmp_path: Path) -> None:
    hub.trickle = 0.2
    env = {"CLAIMWIRE_HUB_TIMEOUT": "1", "CLAIMWIRE_HUB_DEADLINE": "3"}
    done = _load(hub, tmp_path, env)
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert "hub load org/corpus@v1.0.0: stopped after 3 s" in done.stderr
    assert f"during HEAD {hub.url}/datasets/org/corpus/resolve/v1.0.0/" in done.stderr
    assert hub.requests, "the command never reached the Hub"


@pytest.mark.parametrize("value", ["soon", "0", "-5", "1e9"])
def test_a_bad_deadline_setting_is_one_line(hub: FakeHub, value: str) -> None:
    done = publish(hub, token=TOKEN, env={"CLAIMWIRE_HUB_DEADLINE": value})
    assert done.returncode == 1 and one_error_line(done.stderr), done.stderr
    assert f"CLAIMWIRE_HUB_DEADLINE={value!r}" in done.stderr and hub.requests == []


def test_a_client_remade_after_a_failed_connect_keeps_the_bounds(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failed connect huggingface_hub closes its client and makes a new one. Before,
    that client had neither the per-request timeout nor the deadline's hook: away from the
    main thread (no timer signal), the rest of the conversation was unbounded."""
    from huggingface_hub import close_session, get_session

    from claimwire.errors import ClaimwireError
    from claimwire.hub.network import bounded, within_deadline

    monkeypatch.setenv("CLAIMWIRE_HUB_TIMEOUT", "7")
    monkeypatch.setenv("CLAIMWIRE_HUB_DEADLINE", "0.5")
    outcome: list[BaseException | int] = []

    def conversation() -> None:
        bounded()
        try:
            with within_deadline("hub load"):
                close_session()  # what huggingface_hub does after a connect error
                remade = get_session()
                outcome.append(int(remade.timeout.read or 0))
                time.sleep(0.6)
                remade.get(f"{hub.url}/api/whoami-v2")
        except ClaimwireError as error:
            outcome.append(error)

    worker = threading.Thread(target=conversation)
    worker.start()
    worker.join(60)
    assert outcome[0] == 7
    assert isinstance(outcome[1], ClaimwireError), outcome
    assert f"during GET {hub.url}/api/whoami-v2" in str(outcome[1])
