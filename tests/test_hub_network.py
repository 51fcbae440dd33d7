"""A hostile or silent Hub: bounded waits, the failing URL named, the token never printed.

The Hub is the one server tests replace (tests/fake_hub.py); the client code
(``huggingface_hub``) runs for real up to the wire.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from .fake_hub import FakeHub
from .helpers import one_error_line
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
