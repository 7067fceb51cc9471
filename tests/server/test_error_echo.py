"""Error messages echo at most a short slice of what the client sent.

Regression of an adversarial pass: a 250 KB string came back in a 250 KB error message.
"""

from __future__ import annotations

import httpx
import pytest

CALLING = "/calling/v1"
HUGE = "x" * 250_000
MAX_ECHO = 64  # sinch_calling_server.errors.MAX_ECHO
MAX_MESSAGE = 512  # ... and MAX_MESSAGE


def tts(**destination: object) -> dict[str, object]:
    return {
        "method": "ttsCallout",
        "ttsCallout": {"destination": {"type": "number", "endpoint": "+46700000000", **destination}},
    }


@pytest.mark.parametrize(
    "body",
    [
        tts(type=HUGE),  # an enum value
        tts(endpoint=["+4670"] * 20_000),  # a value of the wrong type, echoed whole
        tts(type="number " * 30_000),  # spaces: no single word is long
        {"method": HUGE},  # the discriminator
    ],
)
async def test_validation_errors_do_not_echo_unbounded_values(client: httpx.AsyncClient, body: object) -> None:
    r = await client.post(f"{CALLING}/callouts", json=body)
    assert r.status_code == 400, r.text[:300]
    message = r.json()["message"]
    assert len(message) <= MAX_MESSAGE + 1, len(message)
    assert "x" * (MAX_ECHO + 1) not in message
    assert len(r.content) < 2 * MAX_MESSAGE


async def test_a_long_path_parameter_is_not_echoed_whole(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/calling/query/number/" + "y" * 20_000)
    assert r.status_code in (400, 404)
    assert "y" * (MAX_ECHO + 1) not in r.json()["message"]


def test_bounded_keeps_short_messages_and_cuts_long_words() -> None:
    from sinch_calling_server import errors
    from sinch_calling_server.errors import ApiError, bounded

    assert (errors.MAX_ECHO, errors.MAX_MESSAGE) == (MAX_ECHO, MAX_MESSAGE)
    assert bounded("Missing parameter: ttsCallout.destination") == "Missing parameter: ttsCallout.destination"
    cut = bounded(f'"{"a" * 1000}" is longer than 255 characters')
    assert cut == f'"{"a" * 63}\u2026 is longer than 255 characters'
    assert len(bounded("ab " * 100_000)) == MAX_MESSAGE + 1
    assert ApiError(400, 40001, "z" * 1000).message == "z" * MAX_ECHO + "\u2026"
