"""Documented limits are the spec's, and the server enforces them through validation (no 500s)."""

from __future__ import annotations

import httpx

CALLING = "/calling/v1"


async def test_a_huge_max_duration_is_a_400_not_a_500(client: httpx.AsyncClient) -> None:
    # 10**400 passed validation and overflowed float() in the simulation (adversarial pass, item 3).
    body = (
        b'{"method":"conferenceCallout","conferenceCallout":{"destination":{"type":"number",'
        b'"endpoint":"+46730170101"},"conferenceId":"r","maxDuration":1' + b"0" * 400 + b"}}"
    )
    r = await client.post(f"{CALLING}/callouts", content=body, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
    assert len(r.content) < 1000  # the value is not echoed back whole


async def test_max_duration_conference_id_and_numbers_have_sinchs_limits(client: httpx.AsyncClient) -> None:
    destination = {"type": "number", "endpoint": "+46730170101"}
    ok = {"destination": destination, "conferenceId": "r" * 64, "maxDuration": 14400}
    r = await client.post(f"{CALLING}/callouts", json={"method": "conferenceCallout", "conferenceCallout": ok})
    assert r.status_code == 200
    for too_much in ({"conferenceId": "r" * 65}, {"maxDuration": 14401}):
        details = ok | too_much
        r = await client.post(f"{CALLING}/callouts", json={"method": "conferenceCallout", "conferenceCallout": details})
        assert (r.status_code, r.json()["errorCode"]) == (400, 40001), too_much
    numbers = [f"+4673017{i:04d}" for i in range(101)]
    r = await client.post("/v1/configuration/numbers", json={"numbers": numbers})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
