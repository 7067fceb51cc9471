# ruff: noqa: F811 (the fixtures of test_callbacks_delivery are imported, then requested by name)
"""A custom callout's ice/ace/pie are inline SVAML or a URL, and dice a URL (Sinch's reference).

Each URL replaces the application's callback URL for that event; inline SVAML is applied by the
server itself; a custom callout without ``destination`` calls the number its inline ICE connects to.
"""

from __future__ import annotations

import json

import httpx
from sinch_calling_server.pipeline import Pipeline

from tests.support import Clock

from .test_callbacks_delivery import (  # noqa: F401 (fixtures are used by name)
    NUMBER,
    Backend,
    assert_signed_and_valid,
    backend,
    call_result,
    callbacks,
    callout,
    client,
    module_backend,
)


async def test_urls_in_ace_and_dice_receive_those_events_without_callback_urls(
    client: httpx.AsyncClient, app: Pipeline, clock: Clock, backend: Backend
) -> None:
    backend.answers["ace"] = {"instructions": [{"name": "say", "text": "Hi"}]}  # no action: goes on
    call_id = await callout(
        client,
        "customCallout",
        maxDuration=10,
        ice=json.dumps({"action": {"name": "connectPstn", "number": NUMBER}}),
        ace=backend.url("/own/ace"),
        dice=backend.url("/own/dice"),
    )
    await callbacks(app).advance(30)
    assert [(r.path, r.event["event"]) for r in backend.received] == [("/own/ace", "ace"), ("/own/dice", "dice")]
    for received in backend.received:
        assert assert_signed_and_valid(received, clock)["callid"] == call_id
    result = await call_result(client, call_id)
    assert (result["status"], result["reason"]) == ("FINAL", "CALLEEHANGUP")  # the answer had no action


async def test_inline_pie_svaml_is_applied_by_the_server(client: httpx.AsyncClient, app: Pipeline) -> None:
    menu = {"name": "runMenu", "menus": [{"id": "main", "options": [{"dtmf": "1", "action": "return(yes)"}]}]}
    call_id = await callout(
        client,
        "customCallout",
        ice=json.dumps({"action": {"name": "connectPstn", "number": NUMBER}}),
        ace=json.dumps({"action": menu}),
        pie=json.dumps({"action": {"name": "hangup"}}),
    )
    assert await callbacks(app).advance(10) == []  # nothing leaves the server
    result = await call_result(client, call_id)
    assert (result["status"], result["reason"]) == ("FINAL", "MANAGERHANGUP")


async def test_without_destination_the_inline_ice_says_whom_to_call(client: httpx.AsyncClient) -> None:
    ice = json.dumps({"action": {"name": "connectPstn", "number": "+46708168731"}})
    r = await client.post("/calling/v1/callouts", json={"method": "customCallout", "customCallout": {"ice": ice}})
    assert r.status_code == 200, r.text
    result = await call_result(client, r.json()["callId"])
    assert result["to"] == {"type": "number", "endpoint": "+46708168731"}
