"""Callbacks go only to allowed hosts: loopback by default, so a stand-in server never calls out.

The network is never touched here: an httpx MockTransport stands in for it, and it records every
request that got past the host check.
"""

from __future__ import annotations

import httpx
import pytest
from sinch_calling_server import create_app
from sinch_calling_server.delivery import ANY_HOST, LOOPBACK, host_allowed

from tests.support import Clock

from .conftest import KEY, SECRET, SPEC, signed_client


@pytest.mark.parametrize(
    ("url", "allowed", "expected"),
    [
        ("http://127.0.0.1:8000/cb", {LOOPBACK}, True),
        ("http://127.9.9.9/cb", {LOOPBACK}, True),
        ("http://localhost:8000/cb", {LOOPBACK}, True),
        ("http://[::1]:8000/cb", {LOOPBACK}, True),
        ("http://callbacks.example.com/cb", {LOOPBACK}, False),
        ("http://10.0.0.1/cb", {LOOPBACK}, False),
        ("http://127.0.0.1.example.com/cb", {LOOPBACK}, False),
        ("https://callbacks.example.com/cb", {"callbacks.example.com"}, True),
        ("https://CALLBACKS.example.com/cb", {"callbacks.example.com"}, True),
        ("https://other.example.com/cb", {"callbacks.example.com"}, False),
        ("https://anything.example/cb", {ANY_HOST}, True),
    ],
)
def test_host_allowed(url: str, allowed: set[str], expected: bool) -> None:
    assert host_allowed(url, frozenset(allowed)) is expected


async def test_a_disallowed_primary_is_never_contacted_and_the_fallback_is_used() -> None:
    contacted: list[str] = []

    def network(request: httpx.Request) -> httpx.Response:
        contacted.append(str(request.url))
        return httpx.Response(200)

    clock = Clock()
    app = create_app(
        spec=SPEC,
        applications={KEY: SECRET},
        clock=clock,
        callback_transport=httpx.MockTransport(network),
        callback_hosts=[LOOPBACK],  # as the CLI's default, although a transport is injected
    )
    async with signed_client(app, clock) as client:
        urls = {"primary": "http://callbacks.example.com/cb", "fallback": "http://127.0.0.1:9/cb"}
        answer = await client.post(f"/v1/configuration/callbacks/applications/{KEY}", json={"url": urls})
        assert answer.status_code == 204
        destination = {"type": "number", "endpoint": "+46730170101"}
        body = {"method": "ttsCallout", "ttsCallout": {"destination": destination, "text": "Hi", "enableDice": True}}
        assert (await client.post("/calling/v1/callouts", json=body)).status_code == 200
        assert app.callbacks is not None
        records = await app.callbacks.advance(100)
    assert contacted == ["http://127.0.0.1:9/cb"]
    refused = [r for r in records if "callbacks.example.com" in str(r.get("url"))]
    assert refused and all("not allowed" in str(r.get("error")) for r in refused)
