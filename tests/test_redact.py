"""Tokens never reach a message (claimwire.redact)."""

from __future__ import annotations

import pytest

from claimwire.redact import MASK, redact, redact_url

LS_TOKEN = "0123456789abcdef0123456789abcdef01234567"
HF = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"


@pytest.mark.parametrize(
    "text",
    [
        f"403 Forbidden: Authorization: Token {LS_TOKEN}",
        f"{{'headers': {{'Authorization': 'Bearer {HF}'}}}}",
        f"https://hf.example/api?token={LS_TOKEN}&x=1",
        f'{{"access_token": "{LS_TOKEN}"}}',
        f"https://alice:{LS_TOKEN}@ls.example/api/projects",
        f"echo {HF} back",
    ],
)
def test_token_shapes_are_masked(text: str) -> None:
    out = redact(text)
    assert LS_TOKEN not in out and HF not in out and MASK in out


def test_known_secrets_and_environment_values_are_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "plainsecretvalue")
    assert redact("server said plainsecretvalue!") == f"server said {MASK}!"
    assert redact("given: s3cr3t-xyz", ["s3cr3t-xyz"]) == f"given: {MASK}"
    assert redact("nothing to hide here") == "nothing to hide here"


def test_urls_keep_their_shape() -> None:
    assert redact_url("http://127.0.0.1:8080/api/projects/3/tasks?page=2") == (
        "http://127.0.0.1:8080/api/projects/3/tasks?page=2"
    )
    assert redact_url(f"http://u:{LS_TOKEN}@h/x") == f"http://{MASK}@h/x"
