"""The simulation's behaviour through HTTP (ASGI), every response checked against the spec."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sinch_calling_server.clock import iso
from sinch_calling_server.simulation import new_call_id

from tests.support import Clock

from .conftest import KEY, OTHER_KEY

V1 = "/v1"
CALLING = "/calling/v1"


def tts(endpoint: str = "+46730170101", text: str = "Hello, this is a synthesized message.") -> dict[str, object]:
    return {
        "method": "ttsCallout",
        "ttsCallout": {
            "cli": "+46000000000",
            "destination": {"type": "number", "endpoint": endpoint},
            "domain": "pstn",
            "custom": "customData",
            "locale": "en-US",
            "text": text,
        },
    }


def conference(endpoint: str, conference_id: str = "room1", **extra: object) -> dict[str, object]:
    return {
        "method": "conferenceCallout",
        "conferenceCallout": {
            "cli": "+46000000000",
            "destination": {"type": "number", "endpoint": endpoint},
            "conferenceId": conference_id,
            **extra,
        },
    }


async def callout(client: httpx.AsyncClient, body: dict[str, object]) -> str:
    response = await client.post(f"{CALLING}/callouts", json=body)
    assert response.status_code == 200, response.text
    call_id = response.json()["callId"]
    assert re.fullmatch(r"[0-9a-f]{32}", call_id)
    return str(call_id)


# ---------------------------------------------------------------- numbers and callbacks


async def test_numbers_are_seeded_from_the_fixture(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V1}/configuration/numbers/")
    assert response.status_code == 200
    numbers = response.json()["numbers"]
    assert {"number": "+19160001112222", "capability": "voice"} in numbers
    assert {
        "number": "+14151112223333",
        "capability": "voice",
        "applicationkey": "11983f76-12c8-1111-9515-4785c7b49ca8",
    } in numbers


async def test_assign_and_unassign_per_capability(client: httpx.AsyncClient) -> None:
    r = await client.post(f"{V1}/configuration/numbers", json={"numbers": ["+46730170101"], "capability": "sms"})
    assert r.status_code == 204 and r.content == b""
    numbers = (await client.get(f"{V1}/configuration/numbers")).json()["numbers"]
    assert {"number": "+46730170101", "capability": "sms", "applicationkey": KEY} in numbers
    assert {"number": "+46730170101", "capability": "voice"} in numbers  # the other capability is untouched

    # Explicit application key (the seed's DELETE spelling applicationKey)
    r = await client.request(
        "DELETE", f"{V1}/configuration/numbers/", json={"number": "+46730170101", "capability": "sms"}
    )
    assert r.status_code == 204
    numbers = (await client.get(f"{V1}/configuration/numbers")).json()["numbers"]
    assert {"number": "+46730170101", "capability": "sms"} in numbers

    r = await client.post(
        f"{V1}/configuration/numbers", json={"numbers": ["+46708168731"], "applicationkey": OTHER_KEY}
    )
    assert r.status_code == 204
    numbers = (await client.get(f"{V1}/configuration/numbers")).json()["numbers"]
    assert {"number": "+46708168731", "capability": "voice", "applicationkey": OTHER_KEY} in numbers

    # Both spellings of the key are accepted in both bodies (Sinch's reference and the seed differ).
    for spelling in ("applicationKey", "applicationkey"):
        body = {"number": "+46708168731", spelling: OTHER_KEY}
        r = await client.request("DELETE", f"{V1}/configuration/numbers", json=body)
        assert r.status_code == 204, r.text
        r = await client.post(f"{V1}/configuration/numbers", json={"numbers": ["+46708168731"], spelling: OTHER_KEY})
        assert r.status_code == 204, r.text
    r = await client.post(f"{V1}/configuration/numbers", json={"numbers": ["+46708168731"], "applicationKey": 7})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)  # an alias is validated like the name


async def test_assign_refusals(client: httpx.AsyncClient) -> None:
    # Not in the inventory
    r = await client.post(f"{V1}/configuration/numbers", json={"numbers": ["+46700000000"]})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
    # The number does not support the capability
    r = await client.post(f"{V1}/configuration/numbers", json={"numbers": ["+12025550143"], "capability": "voice"})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
    # Unknown application
    r = await client.post(f"{V1}/configuration/numbers", json={"numbers": ["+46730170101"], "applicationkey": "nope"})
    assert (r.status_code, r.json()["errorCode"], r.json()["message"]) == (400, 40003, "Invalid Application Key")
    # Not E.164: refused by the spec's schema
    r = await client.post(f"{V1}/configuration/numbers", json={"numbers": ["46730170101"]})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
    # Un-assign a number that is not assigned to this application
    r = await client.request("DELETE", f"{V1}/configuration/numbers", json={"number": "+14151112223333"})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)


async def test_a_refused_assignment_changes_nothing(client: httpx.AsyncClient) -> None:
    before = (await client.get(f"{V1}/configuration/numbers")).json()
    r = await client.post(f"{V1}/configuration/numbers", json={"numbers": ["+46730170101", "+46700000000"]})
    assert r.status_code == 400
    assert (await client.get(f"{V1}/configuration/numbers")).json() == before


async def test_callbacks_per_application(client: httpx.AsyncClient) -> None:
    path = f"{V1}/configuration/callbacks/applications/{KEY}"
    assert (await client.get(path)).json() == {"url": {}}
    body = {"url": {"primary": "http://primary.com", "fallback": "http://fallback.com"}}
    r = await client.post(path, json=body)
    assert r.status_code == 204 and r.content == b""
    assert (await client.get(path)).json() == body
    assert (await client.get(f"{V1}/configuration/callbacks/applications/{OTHER_KEY}")).json() == {"url": {}}
    r = await client.get(f"{V1}/configuration/callbacks/applications/unknown-app")
    assert (r.status_code, r.json()["errorCode"]) == (404, 40400)
    r = await client.post(f"{V1}/configuration/callbacks/applications/unknown-app", json=body)
    assert (r.status_code, r.json()["errorCode"]) == (404, 40400)


async def test_query_number(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{V1}/calling/query/number/+46(0)73-017-0101")
    assert r.status_code == 200
    assert r.json() == {
        "number": {
            "countryId": "SE",
            "numberType": "Mobile",
            "normalizedNumber": "+46730170101",
            "restricted": False,
            "rate": {"currencyId": "USD", "amount": 0.0368},
        }
    }
    r = await client.get(f"{V1}/calling/query/number/%2B442071838750")
    assert r.json()["number"]["numberType"] == "Fixed"
    assert r.json()["number"]["countryId"] == "GB"
    r = await client.get(f"{V1}/calling/query/number/+19005550100")  # premium rate
    assert r.json()["number"]["restricted"] is True
    for bad in ("hello", "46730170101", "+1"):
        r = await client.get(f"{V1}/calling/query/number/{bad}")
        assert (r.status_code, r.json()["errorCode"]) == (400, 40001), bad


# ---------------------------------------------------------------- calls


async def test_tts_call_lifecycle_is_deterministic(client: httpx.AsyncClient, clock: Clock) -> None:
    call_id = await callout(client, tts())
    url = f"{CALLING}/calls/id/{call_id}"
    r = await client.get(url)
    body = r.json()
    assert (body["status"], body["result"], body["reason"], body["duration"]) == ("ONGOING", "N/A", "N/A", 0)
    assert body["callId"] == call_id
    assert body["from"] == {"type": "number", "endpoint": "+46000000000"}
    assert body["to"] == {"type": "number", "endpoint": "+46730170101"}
    assert body["timestamp"] == "2026-11-27T10:55:48Z"
    assert body["custom"] == "customData"
    assert body["userRate"] == {"currencyId": "USD", "amount": 0.0368}

    clock.advance(3)  # rings 2 s, then answered
    body = (await client.get(url)).json()
    assert (body["status"], body["result"], body["duration"]) == ("ONGOING", "ANSWERED", 1)

    clock.advance(60)  # text of 37 characters: 2 + ceil(37/15) = 5 s of talk
    body = (await client.get(url)).json()
    assert (body["status"], body["result"], body["reason"], body["duration"]) == (
        "FINAL",
        "ANSWERED",
        "CALLEEHANGUP",
        5,
    )
    assert body["debit"] == {"currencyId": "USD", "amount": 0.0368}
    assert body["debitMinutes"] == 1


async def test_scripted_outcomes(client: httpx.AsyncClient, clock: Clock) -> None:
    call_id = await callout(client, tts(endpoint="+46000000002"))
    clock.advance(5)
    body = (await client.get(f"{CALLING}/calls/id/{call_id}")).json()
    assert (body["status"], body["result"], body["duration"]) == ("FINAL", "BUSY", 0)


async def test_hangup_ends_the_call_with_managerhangup(client: httpx.AsyncClient, clock: Clock) -> None:
    call_id = await callout(client, conference("+46708168731"))
    clock.advance(10)
    r = await client.patch(
        f"{CALLING}/calls/id/{call_id}",
        json={"instructions": [{"name": "say", "text": "Bye", "locale": "en-US"}], "action": {"name": "hangup"}},
    )
    assert r.status_code == 204 and r.content == b""
    clock.advance(100)
    body = (await client.get(f"{CALLING}/calls/id/{call_id}")).json()
    assert (body["status"], body["result"], body["reason"], body["duration"]) == (
        "FINAL",
        "ANSWERED",
        "MANAGERHANGUP",
        8,
    )
    # A finished call cannot be managed any more.
    r = await client.patch(f"{CALLING}/calls/id/{call_id}", json={"action": {"name": "continue"}})
    assert (r.status_code, r.json()["errorCode"]) == (404, 40400)
    # and it left its conference
    r = await client.get(f"{CALLING}/conferences/id/room1")
    assert r.status_code == 404


async def test_manage_call_leg_and_refusals(client: httpx.AsyncClient) -> None:
    call_id = await callout(client, tts())
    r = await client.patch(f"{CALLING}/calls/id/{call_id}/leg/callee", json={"action": {"name": "continue"}})
    assert r.status_code == 200
    r = await client.patch(f"{CALLING}/calls/id/{call_id}/leg/nobody", json={"action": {"name": "continue"}})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
    # connectPstn is not allowed in PATCH (the spec's ManageCallAction)
    r = await client.patch(
        f"{CALLING}/calls/id/{call_id}", json={"action": {"name": "connectPstn", "number": "+46730170101"}}
    )
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
    # Sinch's reference requires neither instructions nor an action: the call goes on.
    r = await client.patch(f"{CALLING}/calls/id/{call_id}", json={"instructions": [{"name": "sendDtmf", "value": "1"}]})
    assert r.status_code == 204
    r = await client.patch(f"{CALLING}/calls/id/{call_id}", json={"instructions": "play"})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
    r = await client.patch(f"{CALLING}/calls/id/{'0' * 32}", json={"action": {"name": "hangup"}})
    assert (r.status_code, r.json()["errorCode"]) == (404, 40400)
    r = await client.get(f"{CALLING}/calls/id/{'0' * 32}")
    assert (r.status_code, r.json()["errorCode"], r.json()["message"]) == (404, 40400, "Call not found")


# ---------------------------------------------------------------- conferences


async def test_conference_flow(client: httpx.AsyncClient, clock: Clock) -> None:
    first = await callout(client, conference("+46708168731"))
    clock.advance(1)
    second = await callout(client, conference("+46708425201"))
    url = f"{CALLING}/conferences/id/room1"

    # Only answered calls are in the conference.
    clock.advance(1.5)
    assert (await client.get(url)).json() == {
        "participants": [{"cli": "+46708168731", "id": first, "duration": 0, "muted": False, "onhold": False}]
    }
    clock.advance(12)
    participants = (await client.get(url)).json()["participants"]
    assert [(p["id"], p["duration"]) for p in participants] == [(first, 12), (second, 11)]

    r = await client.patch(f"{url}/{first}", json={"command": "mute"})
    assert r.status_code == 200  # Sinch's reference: manage participant and kick one answer 200
    r = await client.patch(f"{url}/{second}", json={"command": "onhold", "moh": "music1"})
    assert r.status_code == 200
    participants = {p["id"]: p for p in (await client.get(url)).json()["participants"]}
    assert (participants[first]["muted"], participants[first]["onhold"]) == (True, False)
    assert (participants[second]["muted"], participants[second]["onhold"]) == (False, True)
    await client.patch(f"{url}/{first}", json={"command": "unmute"})
    await client.patch(f"{url}/{second}", json={"command": "resume"})
    participants = {p["id"]: p for p in (await client.get(url)).json()["participants"]}
    assert not participants[first]["muted"] and not participants[second]["onhold"]

    r = await client.patch(f"{url}/{first}", json={"command": "shout"})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
    r = await client.patch(f"{url}/{'f' * 32}", json={"command": "mute"})
    assert (r.status_code, r.json()["errorCode"]) == (404, 40400)

    r = await client.delete(f"{url}/{first}")
    assert r.status_code == 200
    assert [p["id"] for p in (await client.get(url)).json()["participants"]] == [second]
    body = (await client.get(f"{CALLING}/calls/id/{first}")).json()
    assert (body["status"], body["reason"]) == ("FINAL", "MANAGERHANGUP")

    r = await client.delete(url)
    assert r.status_code == 204
    r = await client.get(url)
    assert (r.status_code, r.json()["errorCode"]) == (404, 40400)
    body = (await client.get(f"{CALLING}/calls/id/{second}")).json()
    assert (body["status"], body["reason"]) == ("FINAL", "MANAGERHANGUP")
    r = await client.delete(url)
    assert r.status_code == 404


async def test_custom_callout(client: httpx.AsyncClient, clock: Clock) -> None:
    call_id = await callout(
        client,
        {
            "method": "customCallout",
            "customCallout": {
                "cli": "+46000000000",
                "destination": {"type": "number", "endpoint": "+46000000001"},
                "maxDuration": 600,
                "ice": '{"action":{"name":"connectPstn","number":"+46000000001"}}',
            },
        },
    )
    clock.advance(1000)
    body = (await client.get(f"{CALLING}/calls/id/{call_id}")).json()
    assert (body["status"], body["duration"], body["reason"]) == ("FINAL", 600, "CALLEEHANGUP")


async def test_callout_validation(client: httpx.AsyncClient) -> None:
    r = await client.post(f"{CALLING}/callouts", json={"method": "smsCallout", "smsCallout": {}})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
    assert "conferenceCallout" in r.json()["message"]
    r = await client.post(f"{CALLING}/callouts", json={"ttsCallout": {}})
    assert (r.status_code, r.json()["errorCode"], r.json()["message"]) == (400, 40002, "Missing parameter: method")
    r = await client.post(f"{CALLING}/callouts", json={"method": "ttsCallout", "ttsCallout": {"text": "x"}})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40002)
    assert "destination" in r.json()["message"]
    r = await client.post(
        f"{CALLING}/callouts",
        json={"method": "conferenceCallout", "conferenceCallout": {"destination": {"type": "fax", "endpoint": "1"}}},
    )
    assert r.status_code == 400


def test_call_ids_look_like_the_seeds() -> None:
    """32 hex digits of a version-4 UUID (the seed's 4398599d1ba84ef3bde0a82dfb61abed is one), all distinct."""
    ids = {new_call_id() for _ in range(5000)}
    assert len(ids) == 5000
    for call_id in list(ids)[:500]:
        parsed = uuid.UUID(hex=call_id)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, call_id)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [(0.0, "1970-01-01T00:00:00Z"), (1790000000.999, "2026-09-21T14:13:20Z"), (1790000001.0, "2026-09-21T14:13:21Z")],
)
def test_iso_is_utc_to_the_second(moment: float, expected: str) -> None:
    assert iso(moment) == expected
    assert iso(moment) == expected  # and again, from the cache
