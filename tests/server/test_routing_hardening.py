"""Routing and signed paths: what a trailing slash or a percent-escape may (not) change.

Regressions of an adversarial pass: ``DELETE /conferences/id/room/`` (an empty callId) kicked
everyone out of ``room``; a signature for ``/conferences/id/room/Q`` was accepted for
``/conferences/id/room%2FQ`` (conference ``room/Q``).
"""

from __future__ import annotations

import httpx
import pytest
from sinch_calling_server.pipeline import Pipeline

from tests.support import Clock

from .test_auth import signed_headers

CALLING = "/calling/v1"
TIMESTAMP = "2026-11-27T10:55:48Z"  # the fake clock's time


def conference(endpoint: str, conference_id: str) -> dict[str, object]:
    return {
        "method": "conferenceCallout",
        "conferenceCallout": {"destination": {"type": "number", "endpoint": endpoint}, "conferenceId": conference_id},
    }


async def join(client: httpx.AsyncClient, clock: Clock, conference_id: str, endpoint: str) -> str:
    r = await client.post(f"{CALLING}/callouts", json=conference(endpoint, conference_id))
    assert r.status_code == 200, r.text
    clock.advance(3)  # answered: in the conference
    return str(r.json()["callId"])


async def participants(client: httpx.AsyncClient, conference_id: str) -> list[str]:
    r = await client.get(f"{CALLING}/conferences/id/{conference_id}")
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["participants"]]


async def test_empty_call_id_with_a_trailing_slash_is_not_kick_all(client: httpx.AsyncClient, clock: Clock) -> None:
    first = await join(client, clock, "room", "+46700000001")
    second = await join(client, clock, "room", "+46700000002")
    for path in (f"{CALLING}/conferences/id/room/", f"{CALLING}/conferences/id/room//", "/v1/conferences/id/room/"):
        r = await client.delete(path)
        assert (r.status_code, r.json()["errorCode"]) == (404, 40400), path
    assert await participants(client, "room") == [first, second]  # nobody was kicked
    r = await client.patch(f"{CALLING}/conferences/id/room/", json={"command": "mute"})
    assert (r.status_code, r.json()["errorCode"]) == (404, 40400)


async def test_a_trailing_slash_still_works_where_it_cannot_change_the_route(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    for path in ("/v1/configuration/numbers/", f"{CALLING}/configuration/numbers/"):
        assert (await client.get(path)).status_code == 200, path
    r = await client.post(
        f"{CALLING}/callouts/",
        json={"method": "ttsCallout", "ttsCallout": {"destination": {"type": "number", "endpoint": "+46700000003"}}},
    )
    assert r.status_code == 200
    call_id = r.json()["callId"]
    # No route has a parameter after /calls/id/{callId}: the slash is harmless there.
    assert (await client.get(f"{CALLING}/calls/id/{call_id}/")).json()["callId"] == call_id
    # ... but there is one after /calls/id/{callId}/leg/ ({callLeg}), and after /conferences/id/{id}/.
    r = await client.patch(f"{CALLING}/calls/id/{call_id}/leg/", json={"action": {"name": "continue"}})
    assert (r.status_code, r.json()["errorCode"]) == (404, 40400)
    r = await client.get(f"{CALLING}/configuration/numbers//")
    assert r.status_code == 404  # one trailing slash at most


async def test_a_signature_for_one_path_is_refused_for_its_encoded_slash_twin(
    raw_client: httpx.AsyncClient, client: httpx.AsyncClient, clock: Clock
) -> None:
    victim = await join(client, clock, "room", "+46700000004")
    signed_for = f"{CALLING}/conferences/id/room/Q"
    replayed_on = f"{CALLING}/conferences/id/room%2FQ"
    r = await raw_client.delete(replayed_on, headers=signed_headers("DELETE", signed_for, timestamp=TIMESTAMP))
    assert (r.status_code, r.json()["errorCode"]) == (401, 40108)
    # A signature for room%41 (conference "roomA") does not pass for room%2541 (conference "room%41").
    r = await raw_client.delete(
        f"{CALLING}/conferences/id/room%2541",
        headers=signed_headers("DELETE", f"{CALLING}/conferences/id/room%41", timestamp=TIMESTAMP),
    )
    assert (r.status_code, r.json()["errorCode"]) == (401, 40108)
    assert await participants(client, "room") == [victim]


async def test_an_encoded_slash_in_a_path_parameter_is_refused(raw_client: httpx.AsyncClient) -> None:
    for path in (f"{CALLING}/conferences/id/room%2FQ", f"{CALLING}/conferences/id/room%2fQ"):
        r = await raw_client.delete(path, headers=signed_headers("DELETE", path, timestamp=TIMESTAMP))
        assert (r.status_code, r.json()["errorCode"]) == (400, 40001), path
        assert "%2F" in r.json()["message"]


@pytest.mark.parametrize(
    ("sent", "signed"),
    [
        ("/v1/calling/query/number/%2B46%280%2973-017-0101", "/v1/calling/query/number/%2B46%280%2973-017-0101"),
        ("/v1/calling/query/number/%2B46%280%2973-017-0101", "/v1/calling/query/number/+46(0)73-017-0101"),
        (f"{CALLING}/conferences/id/my%20room", f"{CALLING}/conferences/id/my room"),  # sinch 1.1.4 + requests
    ],
)
async def test_the_decoded_form_is_accepted_when_it_names_the_same_resource(
    raw_client: httpx.AsyncClient, sent: str, signed: str
) -> None:
    r = await raw_client.get(sent, headers=signed_headers("GET", signed, timestamp=TIMESTAMP))
    assert r.status_code != 401, r.text


@pytest.fixture
async def raw_client(app: Pipeline) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def test_sinch_1_1_4_signs_the_path_before_it_is_encoded() -> None:
    """Why the decoded form is still accepted: sinch 1.1.4 signs ``my room``, requests sends ``my%20room``."""

    from sinch import SinchClient
    from sinch.domains.voice.exceptions import VoiceException
    from sinch_calling_server import create_app

    from tests.support import serve

    from .conftest import KEY, SECRET, SPEC

    app = create_app(spec=SPEC, applications={KEY: SECRET}, clock=Clock())
    with serve(app) as url:
        sdk = SinchClient(application_key=KEY, application_secret=SECRET)
        sdk.configuration.voice_origin = url.removeprefix("http://")
        sdk.configuration.disable_https = True
        with pytest.raises(VoiceException) as raised:
            sdk.voice.conferences.get(conference_id="my room")
        assert raised.value.http_response.status_code == 404  # authenticated; there is no such conference
