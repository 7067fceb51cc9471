"""The recorded server delivers callbacks: signed events over real HTTP, fallback, SVAML applied.

The server under test runs over ASGI on the test's fake clock; the backends it calls are real
HTTP servers on loopback (uvicorn in a thread), so signing, paths, timeouts and refused
connections are the real thing. Time moves only when a test says so, and
``app.callbacks.advance()`` / ``flush()`` return once everything due has been delivered.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from sinch_calling._runtime.signing import ApplicationAuth
from sinch_calling.callbacks import (
    AceEvent,
    CallbackVerificationError,
    DiceEvent,
    PieEvent,
    parse_event,
    verify_callback,
)
from sinch_calling_server.pipeline import Pipeline
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support import Clock, ServerProcess, free_port, serve, spec_pointer, spec_validator

from .conftest import KEY, OTHER_KEY, SECRET, signed_client

V1 = "/v1"
CALLING = "/calling/v1"
NUMBER = "+46730170101"


# ---------------------------------------------------------------- the spec's webhook schemas


def webhook_validator(event: str) -> Draft202012Validator:
    """The request body schema the spec's ``webhooks.<event>`` declares, $refs resolved."""
    return spec_validator(
        spec_pointer("webhooks", event, "post", "requestBody", "content", "application/json", "schema")
    )


# ---------------------------------------------------------------- a recording backend on loopback


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Backend:
    """Answers callbacks by path: a status, a delay, and per-event SVAML; records every request."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)  # path -> status
    delay: dict[str, float] = field(default_factory=dict)  # path -> seconds
    answers: dict[str, Any] = field(default_factory=dict)  # event -> JSON answer (or bytes)

    def reset(self) -> None:
        self.received.clear()
        self.status.clear()
        self.delay.clear()
        self.answers.clear()

    def url(self, path: str) -> str:
        return self.base_url + path

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [r.event for r in self.received if name is None or r.event.get("event") == name]

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> Response:
            raw_path = request.scope.get("raw_path") or request.url.path.encode()
            path = raw_path.decode("latin-1").split("?", 1)[0]
            body = await request.body()
            self.received.append(Received(path, dict(request.headers), body))
            if path in self.delay:
                await asyncio.sleep(self.delay[path])
            status = self.status.get(path, 200)
            answer = self.answers.get(json.loads(body).get("event")) if status == 200 else None
            if answer is None:
                return Response(status_code=status)
            content = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            return Response(content, status_code=status, media_type="application/json")

        return Starlette(routes=[Route("/{path:path}", endpoint, methods=["POST"])])


@pytest.fixture(scope="module")
def module_backend() -> Iterator[Backend]:
    backend = Backend()
    with serve(backend.app()) as url:
        backend.base_url = url
        yield backend


@pytest.fixture
def backend(module_backend: Backend) -> Backend:
    module_backend.reset()
    return module_backend


@pytest.fixture
async def client(app: Pipeline, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_client(app, clock) as c:
        yield c
    assert app.violations == [], "the server sent responses or events its spec does not allow"


def dead_url(path: str = "/dead") -> str:
    return f"http://127.0.0.1:{free_port()}{path}"  # nothing listens: connection refused


async def set_callbacks(client: httpx.AsyncClient, primary: str | None, fallback: str | None = None) -> None:
    url = {k: v for k, v in (("primary", primary), ("fallback", fallback)) if v}
    r = await client.post(f"{V1}/configuration/callbacks/applications/{KEY}", json={"url": url})
    assert r.status_code == 204, r.text


async def callout(client: httpx.AsyncClient, method: str, **details: Any) -> str:
    details.setdefault("destination", {"type": "number", "endpoint": NUMBER})
    r = await client.post(f"{CALLING}/callouts", json={"method": method, method: details})
    assert r.status_code == 200, r.text
    return str(r.json()["callId"])


async def call_result(client: httpx.AsyncClient, call_id: str) -> dict[str, Any]:
    r = await client.get(f"{CALLING}/calls/id/{call_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def callbacks(app: Pipeline) -> Any:
    assert app.callbacks is not None
    return app.callbacks


def assert_signed_and_valid(received: Received, clock: Clock) -> dict[str, Any]:
    """What every backend should check: the signature (over this path) and the spec's schema."""
    verify_callback("POST", received.path, received.headers, received.body, KEY, SECRET, now=clock.datetime())
    assert received.headers["content-type"] == "application/json"
    assert received.headers["authorization"].startswith(f"Application {KEY}:")
    event = received.event
    webhook_validator(event["event"]).validate(event)
    parse_event(received.body)  # the SDK's own parser takes it too
    return event


# ---------------------------------------------------------------- signing, schemas, content


async def test_ace_and_dice_are_signed_verifiable_and_valid(
    client: httpx.AsyncClient, app: Pipeline, clock: Clock, backend: Backend
) -> None:
    await set_callbacks(client, backend.url("/sinch/callback/primary"))
    call_id = await callout(
        client, "ttsCallout", text="Hello", custom="order-42", enableAce=True, enableDice=True, cli="+46000000000"
    )
    assert await callbacks(app).flush() == []  # still ringing: nothing due
    assert backend.received == []

    records = await callbacks(app).advance(2)  # ring_seconds: answered now
    assert [(r["event"], r["ok"]) for r in records] == [("ace", True)]
    (ace_request,) = backend.received
    assert ace_request.path == "/sinch/callback/primary"
    ace = assert_signed_and_valid(ace_request, clock)
    assert ace == {
        "event": "ace",
        "callid": call_id,
        "timestamp": "2026-11-27T10:55:50Z",
        "version": 1,
        "custom": "order-42",
        "applicationKey": KEY,
    }
    assert isinstance(parse_event(ace_request.body), AceEvent)
    # A tampered body or another path does not verify: the signature covers both.
    with pytest.raises(CallbackVerificationError):
        verify_callback("POST", "/other", ace_request.headers, ace_request.body, KEY, SECRET, max_age=None)
    with pytest.raises(CallbackVerificationError):
        verify_callback(
            "POST", ace_request.path, ace_request.headers, ace_request.body + b" ", KEY, SECRET, max_age=None
        )

    clock.advance(10)  # the text has been spoken: the call ends by itself
    await callbacks(app).flush()
    dice = assert_signed_and_valid(backend.received[-1], clock)
    assert isinstance(parse_event(backend.received[-1].body), DiceEvent)
    result = await call_result(client, call_id)
    assert dice["event"] == "dice" and dice["callid"] == call_id
    assert (dice["reason"], dice["result"], dice["duration"]) == ("CALLEEHANGUP", "ANSWERED", result["duration"])
    assert dice["from"] == "+46000000000" and dice["to"] == {"type": "number", "endpoint": NUMBER}
    assert dice["userRate"] == result["userRate"] and dice["debit"] == result["debit"]
    assert dice["custom"] == "order-42" and dice["applicationKey"] == KEY
    assert len(backend.received) == 2  # one ACE, one DiCE: nothing is sent twice
    await callbacks(app).advance(100_000)
    assert len(backend.received) == 2


async def test_no_delivery_without_callback_urls_or_with_flags_off(
    client: httpx.AsyncClient, app: Pipeline, backend: Backend
) -> None:
    # Flags on, but no callback URLs.
    first = await callout(client, "conferenceCallout", conferenceId="quiet", enableAce=True, enableDice=True)
    await set_callbacks(client, backend.url("/cb"))
    # URLs, but every flag off (explicitly, and by default).
    second = await callout(
        client, "conferenceCallout", conferenceId="quiet", enableAce=False, enableDice=False, enablePie=False
    )
    third = await callout(client, "ttsCallout", text="Hi")
    await callbacks(app).advance(3)
    info = (await client.get(f"{CALLING}/conferences/id/quiet")).json()
    assert {p["id"] for p in info["participants"]} == {first, second}  # joined without any ACE
    await client.delete(f"{CALLING}/conferences/id/quiet")
    await client.patch(f"{CALLING}/calls/id/{third}", json={"action": {"name": "hangup"}})
    await callbacks(app).advance(100_000)
    assert backend.received == []
    assert callbacks(app).deliveries() == []


# ---------------------------------------------------------------- fallback


@pytest.mark.parametrize("failure", ["refused", "500", "timeout"])
async def test_fallback_url_gets_the_event_when_the_primary_fails(
    make_app: Callable[..., Pipeline], clock: Clock, backend: Backend, failure: str
) -> None:
    app = make_app(callback_timeout=0.3)
    primary = {"refused": dead_url(), "500": backend.url("/broken"), "timeout": backend.url("/slow")}[failure]
    backend.status["/broken"] = 500
    backend.delay["/slow"] = 1.5
    backend.answers["ace"] = {"action": {"name": "hangup"}}
    async with signed_client(app, clock) as client:
        await set_callbacks(client, primary, backend.url("/sinch/fallback"))
        call_id = await callout(client, "ttsCallout", text="Hello", enableAce=True)
        started = time.monotonic()
        records = await callbacks(app).advance(2)
        elapsed = time.monotonic() - started
        assert [(r["event"], r["target"], r["attempt"], r["ok"]) for r in records] == [
            ("ace", "primary", 1, False),
            ("ace", "fallback", 2, True),
        ]
        first, second = records
        expected_error = {"refused": "ConnectError", "500": "HTTP 500", "timeout": "timeout after 0.3 s"}[failure]
        assert expected_error in first["error"]
        assert first["status"] == (500 if failure == "500" else None)
        assert (second["status"], second["error"]) == (200, None)
        assert second["response"] == {"action": {"name": "hangup"}}
        if failure == "timeout":
            assert 250 <= first["elapsedMs"] < 1400 and elapsed < 1.4  # bounded by the timeout, not the backend
        fallback_request = next(r for r in backend.received if r.path == "/sinch/fallback")
        assert_signed_and_valid(fallback_request, clock)  # signed afresh, over the fallback's path
        # The fallback's answer was applied: the call was hung up when answered.
        result = await call_result(client, call_id)
        assert (result["status"], result["reason"]) == ("FINAL", "MANAGERHANGUP")
    assert app.violations == []


async def test_undeliverable_ace_lets_the_call_go_on(client: httpx.AsyncClient, app: Pipeline, clock: Clock) -> None:
    await set_callbacks(client, dead_url(), dead_url())
    call_id = await callout(client, "conferenceCallout", conferenceId="room-x", enableAce=True, enableDice=True)
    records = await callbacks(app).advance(2)
    assert [(r["target"], r["ok"]) for r in records] == [("primary", False), ("fallback", False)]
    info = (await client.get(f"{CALLING}/conferences/id/room-x")).json()
    assert [p["id"] for p in info["participants"]] == [call_id]  # no answer: continues as set up
    assert (await call_result(client, call_id))["status"] == "ONGOING"


# ---------------------------------------------------------------- SVAML answers applied


async def test_ace_connect_conf_joins_and_kick_sends_dice_managerhangup(
    client: httpx.AsyncClient, app: Pipeline, clock: Clock, backend: Backend
) -> None:
    backend.answers["ace"] = {"instructions": [], "action": {"name": "connectConf", "conferenceId": "room-ace"}}
    await set_callbacks(client, backend.url("/sinch/callback"))
    call_id = await callout(
        client, "conferenceCallout", conferenceId="room-ace", enableAce=True, enableDice=True, custom="c1"
    )
    clock.advance(2)
    # Answered, but the backend has not said connectConf yet: not in the conference.
    assert (await client.get(f"{CALLING}/conferences/id/room-ace")).status_code == 404
    await callbacks(app).flush()
    ace = assert_signed_and_valid(backend.received[0], clock)
    assert ace["conferenceId"] == "room-ace"
    info = (await client.get(f"{CALLING}/conferences/id/room-ace")).json()
    assert [p["id"] for p in info["participants"]] == [call_id]

    clock.advance(5)
    r = await client.delete(f"{CALLING}/conferences/id/room-ace/{call_id}")
    assert r.status_code == 200, r.text
    records = await callbacks(app).flush()
    assert [(r["event"], r["ok"]) for r in records] == [("dice", True)]
    dice = assert_signed_and_valid(backend.received[-1], clock)
    assert dice["reason"] == "MANAGERHANGUP" and dice["result"] == "ANSWERED" and dice["duration"] == 5
    assert dice["conferenceId"] == "room-ace" and dice["custom"] == "c1"
    assert dice["timestamp"] == "2026-11-27T10:55:55Z"


async def test_ace_hangup_ends_the_call_and_connect_conf_can_pick_another_room(
    client: httpx.AsyncClient, app: Pipeline, clock: Clock, backend: Backend
) -> None:
    backend.answers["ace"] = {"instructions": [{"name": "say", "text": "Bye"}], "action": {"name": "hangup"}}
    await set_callbacks(client, backend.url("/cb"))
    hung_up = await callout(client, "conferenceCallout", conferenceId="room-h", enableAce=True, enableDice=True)
    await callbacks(app).advance(2)
    result = await call_result(client, hung_up)
    assert (result["status"], result["result"], result["reason"]) == ("FINAL", "ANSWERED", "MANAGERHANGUP")
    assert (await client.get(f"{CALLING}/conferences/id/room-h")).status_code == 404
    dice = backend.events("dice")
    assert len(dice) == 1 and dice[0]["reason"] == "MANAGERHANGUP"

    backend.answers["ace"] = {"action": {"name": "connectConf", "conferenceId": "elsewhere"}}
    moved = await callout(client, "conferenceCallout", conferenceId="room-h", enableAce=True)
    await callbacks(app).advance(2)
    info = (await client.get(f"{CALLING}/conferences/id/elsewhere")).json()
    assert [p["id"] for p in info["participants"]] == [moved]
    assert (await client.get(f"{CALLING}/conferences/id/room-h")).status_code == 404


async def test_ace_on_a_tts_callout_connect_conf_joins_beyond_the_text(
    client: httpx.AsyncClient, app: Pipeline, backend: Backend
) -> None:
    backend.answers["ace"] = {"action": {"name": "connectConf", "conferenceId": "tts-room"}}
    await set_callbacks(client, backend.url("/cb"))
    call_id = await callout(client, "ttsCallout", text="Hi", enableAce=True, enableDice=True)
    await callbacks(app).advance(60)  # far beyond the spoken text
    info = (await client.get(f"{CALLING}/conferences/id/tts-room")).json()
    assert [p["id"] for p in info["participants"]] == [call_id]
    assert backend.events("dice") == []
    await client.delete(f"{CALLING}/conferences/id/tts-room")  # kick all
    await callbacks(app).flush()
    (dice,) = backend.events("dice")
    assert (dice["reason"], dice["conferenceId"]) == ("MANAGERHANGUP", "tts-room")


async def test_run_menu_leads_to_a_pie_with_the_first_option_then_its_answer_applies(
    client: httpx.AsyncClient, app: Pipeline, clock: Clock, backend: Backend
) -> None:
    backend.answers["ace"] = {
        "action": {
            "name": "runMenu",
            "mainMenu": "main",
            "menus": [
                {
                    "id": "main",
                    "options": [{"dtmf": "1", "action": "menu(sub)"}, {"dtmf": "2", "action": "return(no)"}],
                },
                {"id": "sub", "options": [{"dtmf": "9", "action": "return(sales)"}]},
            ],
        }
    }
    backend.answers["pie"] = {"action": {"name": "connectConf", "conferenceId": "sales"}}
    await set_callbacks(client, backend.url("/cb"))
    call_id = await callout(
        client, "conferenceCallout", conferenceId="lobby", enableAce=True, enablePie=True, enableDice=True
    )
    records = await callbacks(app).advance(2)
    assert [r["event"] for r in records] == ["ace"]  # the menu plays before anyone presses a key
    records = await callbacks(app).advance(2)  # menu_seconds
    assert [r["event"] for r in records] == ["pie"]
    pie = assert_signed_and_valid(backend.received[-1], clock)
    assert isinstance(parse_event(backend.received[-1].body), PieEvent)
    assert pie["menuResult"] == {"type": "return", "value": "sales", "menuId": "sub", "inputMethod": "dtmf"}
    assert pie["timestamp"] == "2026-11-27T10:55:52Z"
    info = (await client.get(f"{CALLING}/conferences/id/sales")).json()
    assert [p["id"] for p in info["participants"]] == [call_id]
    assert (await client.get(f"{CALLING}/conferences/id/lobby")).status_code == 404


async def test_run_menu_without_enable_pie_sends_no_pie(
    client: httpx.AsyncClient, app: Pipeline, backend: Backend
) -> None:
    backend.answers["ace"] = {"action": {"name": "runMenu", "menus": [{"id": "m", "options": []}]}}
    await set_callbacks(client, backend.url("/cb"))
    await callout(client, "ttsCallout", text="Hello there", enableAce=True)
    await callbacks(app).advance(30)
    assert [e["event"] for e in backend.events()] == ["ace"]


@pytest.mark.parametrize(
    "answer",
    [
        {"action": {"name": "connectPstn", "number": "+46000000001"}},  # not valid in an ACE answer
        {"instructions": [{"name": "sendDtmf", "value": "1"}]},  # sendDtmf is not valid in an ACE answer
        b"this is not JSON",
    ],
)
async def test_an_invalid_ace_answer_ends_the_call_with_invalidsvamlaction(
    client: httpx.AsyncClient, app: Pipeline, backend: Backend, answer: Any
) -> None:
    backend.answers["ace"] = answer
    await set_callbacks(client, backend.url("/cb"))
    call_id = await callout(client, "ttsCallout", text="Hello", enableAce=True, enableDice=True)
    records = await callbacks(app).advance(2)
    assert records[0]["ok"] is True  # delivered: a bad answer is not a reason for the fallback
    result = await call_result(client, call_id)
    assert (result["status"], result["reason"]) == ("FINAL", "INVALIDSVAMLACTION")
    assert [d["reason"] for d in backend.events("dice")] == ["INVALIDSVAMLACTION"]


async def test_empty_ace_answer_continues(client: httpx.AsyncClient, app: Pipeline, backend: Backend) -> None:
    await set_callbacks(client, backend.url("/cb"))
    call_id = await callout(client, "conferenceCallout", conferenceId="r", enableAce=True)
    await callbacks(app).advance(2)
    info = (await client.get(f"{CALLING}/conferences/id/r")).json()
    assert [p["id"] for p in info["participants"]] == [call_id]


# ---------------------------------------------------------------- DiCE on every kind of end


async def test_dice_after_manage_call_hangup_kick_all_and_busy(
    client: httpx.AsyncClient, app: Pipeline, clock: Clock, backend: Backend
) -> None:
    await set_callbacks(client, backend.url("/cb"))
    hung = await callout(client, "ttsCallout", text="A long message " * 10, enableDice=True)
    a = await callout(client, "conferenceCallout", conferenceId="all", enableDice=True)
    b = await callout(
        client,
        "conferenceCallout",
        conferenceId="all",
        enableDice=True,
        destination={"type": "number", "endpoint": "+46700000009"},
    )
    busy = await callout(
        client, "ttsCallout", text="x", enableDice=True, destination={"type": "number", "endpoint": "+46000000002"}
    )
    await callbacks(app).advance(3)
    (busy_dice,) = backend.events("dice")
    assert (busy_dice["callid"], busy_dice["result"], busy_dice["reason"], busy_dice["duration"]) == (
        busy,
        "BUSY",
        "N/A",
        0,
    )
    assert (await client.patch(f"{CALLING}/calls/id/{hung}", json={"action": {"name": "hangup"}})).status_code == 204
    assert (await client.delete(f"{CALLING}/conferences/id/all")).status_code == 204
    await callbacks(app).flush()
    by_call = {d["callid"]: d for d in backend.events("dice")}
    assert set(by_call) == {hung, a, b, busy}
    for call_id in (hung, a, b):
        assert (by_call[call_id]["reason"], by_call[call_id]["result"], by_call[call_id]["duration"]) == (
            "MANAGERHANGUP",
            "ANSWERED",
            1,
        )
    assert by_call[a]["conferenceId"] == "all" and "conferenceId" not in by_call[hung]
    for received in backend.received:
        assert_signed_and_valid(received, clock)


# ---------------------------------------------------------------- custom callouts


async def test_custom_callout_inline_svaml_and_pie_url(
    client: httpx.AsyncClient, app: Pipeline, clock: Clock, backend: Backend
) -> None:
    menu = {"name": "runMenu", "menus": [{"id": "m", "options": [{"dtmf": "1", "action": "return(yes)"}]}]}
    backend.answers["pie"] = {"action": {"name": "hangup"}}
    call_id = await callout(
        client,
        "customCallout",
        custom="cc",
        ice=json.dumps({"action": {"name": "connectPstn", "number": NUMBER}}),
        ace=json.dumps({"instructions": [{"name": "say", "text": "Hi"}], "action": menu}),
        pie=backend.url("/pie/here"),
    )
    records = await callbacks(app).advance(2)
    assert records == []  # inline ICE and ACE: applied by the server itself, no HTTP
    records = await callbacks(app).advance(2)
    assert [(r["event"], r["target"], r["url"]) for r in records] == [("pie", "pie", backend.url("/pie/here"))]
    pie = assert_signed_and_valid(backend.received[0], clock)
    assert pie["menuResult"]["value"] == "yes" and pie["custom"] == "cc"
    result = await call_result(client, call_id)
    assert (result["status"], result["reason"], result["duration"]) == ("FINAL", "MANAGERHANGUP", 2)
    assert len(backend.received) == 1  # no callback URLs configured: no DiCE


async def test_custom_callout_inline_ace_hangup_and_invalid_ice(client: httpx.AsyncClient, app: Pipeline) -> None:
    hung = await callout(client, "customCallout", ace='{"action":{"name":"hangup"}}')
    broken = await callout(client, "customCallout", ice="{not svaml")
    await callbacks(app).advance(2)
    assert (await call_result(client, hung))["reason"] == "MANAGERHANGUP"
    result = await call_result(client, broken)
    assert (result["status"], result["result"], result["reason"]) == ("FINAL", "N/A", "INVALIDSVAMLACTION")


async def test_custom_callout_without_inline_svaml_sends_ice_and_ace_to_the_callback_url(
    client: httpx.AsyncClient, app: Pipeline, clock: Clock, backend: Backend
) -> None:
    backend.answers["ice"] = {"action": {"name": "connectPstn", "number": NUMBER}}
    await set_callbacks(client, backend.url("/cb"))
    call_id = await callout(client, "customCallout", cli="+46000000000", maxDuration=30)
    records = await callbacks(app).flush()
    assert [r["event"] for r in records] == ["ice"]
    ice = assert_signed_and_valid(backend.received[0], clock)
    assert (ice["callid"], ice["cli"], ice["to"]["endpoint"], ice["domain"]) == (
        call_id,
        "+46000000000",
        NUMBER,
        "pstn",
    )
    assert ice["callResourceUrl"].endswith(f"/calling/v1/calls/id/{call_id}")
    await callbacks(app).advance(40)
    assert [e["event"] for e in backend.events()] == ["ice", "ace", "dice"]
    assert backend.events("dice")[0]["reason"] == "CALLEEHANGUP"


async def test_undeliverable_ice_ends_the_call_with_callbackerror(client: httpx.AsyncClient, app: Pipeline) -> None:
    await set_callbacks(client, dead_url())
    call_id = await callout(client, "customCallout")
    await callbacks(app).flush()
    result = await call_result(client, call_id)
    assert (result["status"], result["reason"]) == ("FINAL", "CALLBACKERROR")


# ---------------------------------------------------------------- inspection and routing


async def test_inspection_endpoint_lists_attempts_without_secrets(
    make_app: Callable[..., Pipeline], clock: Clock, backend: Backend
) -> None:
    app = make_app(test_controls=True)  # /_sinch/... exist only with test controls, for signed callers
    async with signed_client(app, clock) as client:
        await _inspect_deliveries(client, app, backend)


async def _inspect_deliveries(client: httpx.AsyncClient, app: Pipeline, backend: Backend) -> None:
    backend.answers["ace"] = {"action": {"name": "continue"}}
    await set_callbacks(client, dead_url("/first?token=s3cr3t"), backend.url("/second"))
    call_id = await callout(client, "ttsCallout", text="Hello", enableAce=True, enableDice=True)
    await callbacks(app).advance(2)

    r = await client.get("/_sinch/deliveries")
    assert r.status_code == 200
    listing = r.json()
    first, second = listing["deliveries"]
    assert first["event"] == "ace" and first["callId"] == call_id
    assert first["url"].endswith("/first?token=...")  # query values and credentials are not shown
    assert (first["attempt"], first["target"], first["ok"], first["status"]) == (1, "primary", False, None)
    assert (second["attempt"], second["target"], second["ok"], second["status"]) == (2, "fallback", True, 200)
    assert second["response"] == {"action": {"name": "continue"}}
    assert second["request"]["callid"] == call_id and isinstance(second["elapsedMs"], float)
    assert [p["kind"] for p in listing["pending"]] == ["dice"]
    text = r.text
    assert SECRET not in text and "s3cr3t" not in text and "Authorization" not in text

    filtered = (await client.get("/_sinch/deliveries", params={"event": "dice"})).json()
    assert filtered["deliveries"] == []
    assert (await client.delete("/_sinch/deliveries")).status_code == 204
    assert (await client.get("/_sinch/deliveries")).json()["deliveries"] == []
    r = await client.post("/_sinch/deliveries")
    assert (r.status_code, r.json()["errorCode"]) == (405, 40500)


async def test_inspection_paths_stay_out_of_the_api_routing(client: httpx.AsyncClient, app: Pipeline) -> None:
    for path in ("/_sinch/unknown", "/_sinch/advance", "/_sinch", f"{V1}/_sinch/deliveries", "/v1/nothing-here"):
        r = await client.request("POST" if path.endswith("advance") else "GET", path)
        assert (r.status_code, r.json()["errorCode"]) == (404, 40400), path  # Sinch's form
    assert "/_sinch/deliveries" not in json.dumps(app.spec.document.get("paths", {}))
    r = await client.get(f"{V1}/configuration/callbacks/applications/{KEY}")
    assert r.status_code == 200  # the API is untouched


async def test_advance_endpoint_with_test_controls(
    make_app: Callable[..., Pipeline], clock: Clock, backend: Backend
) -> None:
    app = make_app(test_controls=True)
    async with signed_client(app, clock) as client:
        await set_callbacks(client, backend.url("/cb"))
        call_id = await callout(client, "ttsCallout", text="Hello", enableAce=True)
        r = await client.post("/_sinch/advance", params={"seconds": "2"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["now"] == "2026-11-27T10:55:50Z"
        assert [(d["event"], d["callId"], d["ok"]) for d in body["deliveries"]] == [("ace", call_id, True)]
        # The simulation moved forward; the clock requests are signed and judged by did not.
        assert (await call_result(client, call_id))["duration"] == 0
        assert (await client.post("/_sinch/advance", params={"seconds": "1"})).status_code == 200
        assert (await call_result(client, call_id))["duration"] == 1
        for bad in ("-1", "nan", "soon"):
            r = await client.post("/_sinch/advance", params={"seconds": bad})
            assert (r.status_code, r.json()["errorCode"]) == (400, 40001)
        assert (await client.get("/_sinch/advance")).status_code == 405
    assert app.violations == []


async def test_a_misbehaving_backend_never_fails_the_api(
    client: httpx.AsyncClient, app: Pipeline, clock: Clock, backend: Backend
) -> None:
    backend.answers["ace"] = b"\xff\xfe garbage"
    backend.answers["dice"] = b"{ also garbage"
    backend.delay["/cb"] = 0.05
    await set_callbacks(client, "ftp://127.0.0.1/nothing", backend.url("/cb"))  # a URL httpx cannot POST to
    call_id = await callout(client, "ttsCallout", text="Hello", enableAce=True, enableDice=True)
    clock.advance(2)
    for _ in range(5):  # the poke after each request delivers while the API keeps answering
        assert (await client.get(f"{V1}/configuration/numbers")).status_code == 200
    await callbacks(app).flush()
    assert [r.event["event"] for r in backend.received] == ["ace", "dice"]
    result = await call_result(client, call_id)
    assert result["reason"] == "INVALIDSVAMLACTION"  # a garbage answer is refused, not a crash
    attempts = [(d["event"], d["target"], d["ok"]) for d in callbacks(app).deliveries()]
    assert attempts == [
        ("ace", "primary", False),
        ("ace", "fallback", True),
        ("dice", "primary", False),
        ("dice", "fallback", True),
    ]
    assert "UnsupportedProtocol" in callbacks(app).deliveries()[0]["error"]
    assert callbacks(app).deliveries()[1]["response"] == "\ufffd\ufffd garbage"


async def test_delivery_runs_in_the_background_on_the_real_clock(
    make_app: Callable[..., Pipeline], tmp_path: Path, backend: Backend
) -> None:
    (tmp_path / "calls.yaml").write_text("ring_seconds: 0\n")
    app = make_app(clock=None, fixtures=tmp_path)
    assert callbacks(app).background
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", auth=ApplicationAuth(KEY, SECRET)
    ) as client:
        await set_callbacks(client, backend.url("/live"))
        await callout(client, "ttsCallout", text="Hi", enableAce=True)
        deadline = time.monotonic() + 5
        while not backend.received and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # nobody flushes: the request's poke and the ticker deliver
        assert [r.event["event"] for r in backend.received] == ["ace"]
        verify_callback("POST", "/live", backend.received[0].headers, backend.received[0].body, KEY, SECRET)
        await callbacks(app).shutdown()
    assert app.violations == []


async def test_other_applications_callbacks_are_theirs(
    client: httpx.AsyncClient, app: Pipeline, backend: Backend
) -> None:
    r = await client.post(
        f"{V1}/configuration/callbacks/applications/{OTHER_KEY}", json={"url": {"primary": backend.url("/other")}}
    )
    assert r.status_code == 204
    await callout(client, "ttsCallout", text="Hello", enableAce=True)
    await callbacks(app).advance(2)
    assert backend.received == []  # KEY placed the call, and KEY has no callback URL


@pytest.mark.slow
def test_cli_test_controls_and_delivery_log(module_backend: Backend) -> None:
    module_backend.reset()
    server = ServerProcess(
        "--app", f"{KEY}:{SECRET}", "--test-controls", "--log-level", "info", "--callback-timeout", "0.5"
    )
    try:
        with httpx.Client(base_url=server.base_url, auth=ApplicationAuth(KEY, SECRET)) as client:
            primary = dead_url("/cli?token=hidden")
            body = {"url": {"primary": primary, "fallback": module_backend.url("/cli")}}
            assert client.post(f"{V1}/configuration/callbacks/applications/{KEY}", json=body).status_code == 204
            details = {"destination": {"type": "number", "endpoint": NUMBER}, "text": "Hi", "enableAce": True}
            r = client.post(f"{CALLING}/callouts", json={"method": "ttsCallout", "ttsCallout": details})
            assert r.status_code == 200
            r = client.post("/_sinch/advance", params={"seconds": 2})  # the real clock, moved on
            assert [(d["target"], d["ok"]) for d in r.json()["deliveries"]] == [("primary", False), ("fallback", True)]
    finally:
        output = server.output()
    assert "callback ace for call" in output and "(fallback): 200" in output and "(primary) failed" in output
    assert SECRET not in output and "hidden" not in output and "Application " not in output
