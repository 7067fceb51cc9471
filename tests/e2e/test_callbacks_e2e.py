"""End to end: the generated client, the recorded server and the example webhook backend, over HTTP.

The recorded server (``sinch_calling_server.create_app``) and ``examples/webhook_app.py`` each
run on uvicorn on loopback; the client is ``SinchClient``. The server's clock is the test's
``Clock``, so calls are answered exactly when the test moves it, and ``POST /_sinch/advance``
returns once every callback then due has been delivered and its SVAML applied. The backend
verifies every callback (401 otherwise), so a 200 in the delivery records means the
signature checked out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sinch_calling import SinchClient
from sinch_calling.models import CalloutResponse
from sinch_calling.svaml import AceResponse, to_json
from sinch_calling_server import create_app

from examples.webhook_app import CALLBACK_PATH, main_menu
from examples.webhook_app import create_app as create_backend
from tests.support import KEY, SECRET, Clock, free_port, serve

CONFERENCE = "e2e-room"


@dataclass
class Exchange:
    path: str
    status: int
    event: dict[str, Any]
    answer: bytes


class Recording:
    """ASGI wrapper around the example backend: keeps each callback and the backend's answer."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body: list[bytes] = []
        answer: list[bytes] = []
        status: list[int] = []

        async def receive_and_keep() -> Any:
            message = await receive()
            body.append(message.get("body", b""))
            return message

        async def keep_and_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                answer.append(message.get("body", b""))
                if not message.get("more_body", False):  # recorded before the server can see the answer
                    event = json.loads(b"".join(body) or b"{}")
                    self.exchanges.append(Exchange(scope["path"], status[0], event, b"".join(answer)))
            await send(message)

        await self.app(scope, receive_and_keep, keep_and_send)

    def events(self, name: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.event.get("event") == name]


@dataclass
class Stack:
    clock: Clock
    server_url: str
    backend_url: str
    backend: Recording
    client: SinchClient

    def advance(self, seconds: float = 0) -> list[dict[str, Any]]:
        """Move the server's clock, then let it deliver everything due; its delivery records."""
        self.clock.advance(seconds)
        response = httpx.post(f"{self.server_url}/_sinch/advance", timeout=10, auth=httpx.BasicAuth(KEY, SECRET))
        assert response.status_code == 200, response.text
        deliveries: list[dict[str, Any]] = response.json()["deliveries"]
        return deliveries

    def set_callbacks(self, primary: str, fallback: str | None = None) -> None:
        url = {"primary": primary} if fallback is None else {"primary": primary, "fallback": fallback}
        self.client.applications.callbacks.update(url=url)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    clock = Clock()
    server = create_app(
        applications={KEY: SECRET}, clock=clock, validate_responses=True, test_controls=True, callback_timeout=2
    )
    backend = Recording(create_backend(KEY, SECRET, conference_id=CONFERENCE))
    with (
        serve(server) as server_url,
        serve(backend) as backend_url,
        SinchClient(application_key=KEY, application_secret=SECRET, base_url=server_url + "/v1") as client,
    ):
        yield Stack(clock, server_url, backend_url, backend, client)
    assert server.violations == [], "the server sent responses or events its spec does not allow"


def conference_callout(
    stack: Stack, number: str, *, enable_ace: bool = False, enable_dice: bool = False
) -> CalloutResponse:
    return stack.client.callouts.conference(
        destination={"type": "number", "endpoint": number},
        conference_id=CONFERENCE,
        enable_ace=enable_ace,
        enable_dice=enable_dice,
    )


def test_ace_connect_conf_then_kick_sends_dice(stack: Stack) -> None:
    stack.set_callbacks(stack.backend_url + CALLBACK_PATH)
    placed = conference_callout(stack, "+46700000011", enable_ace=True, enable_dice=True)
    call_id = placed.call_id
    assert stack.advance(0) == []  # ringing: nothing is due yet

    (ace,) = stack.advance(2)  # answered: the ACE goes to the backend, which verifies it
    assert (ace["event"], ace["callId"], ace["url"], ace["status"], ace["ok"]) == (
        "ace",
        call_id,
        stack.backend_url + CALLBACK_PATH,
        200,
        True,
    )
    assert ace["response"]["action"] == {"name": "connectConf", "conferenceId": CONFERENCE}
    (exchange,) = stack.backend.events("ace")
    assert (exchange.path, exchange.status, exchange.event["callid"]) == (CALLBACK_PATH, 200, call_id)

    info = stack.client.conferences.get(CONFERENCE)
    assert [p.id for p in info.participants] == [call_id]  # joined because the backend said connectConf

    stack.clock.advance(4)
    stack.client.conferences.kick(CONFERENCE, call_id)
    (dice,) = stack.advance(0)
    assert (dice["event"], dice["status"], dice["ok"]) == ("dice", 200, True)
    assert dice["request"]["reason"] == "MANAGERHANGUP"
    (exchange,) = stack.backend.events("dice")
    assert exchange.status == 200  # verified by the backend
    assert (exchange.event["reason"], exchange.event["result"], exchange.event["duration"]) == (
        "MANAGERHANGUP",
        "ANSWERED",
        4,
    )
    assert exchange.event["conferenceId"] == CONFERENCE and exchange.event["callid"] == call_id
    listed = httpx.get(
        f"{stack.server_url}/_sinch/deliveries", params={"callId": call_id}, auth=httpx.BasicAuth(KEY, SECRET)
    ).json()["deliveries"]
    assert [(d["event"], d["ok"]) for d in listed] == [("ace", True), ("dice", True)]


def test_dead_primary_falls_back_to_the_fallback_url(stack: Stack) -> None:
    dead = f"http://127.0.0.1:{free_port()}{CALLBACK_PATH}"
    stack.set_callbacks(dead, stack.backend_url + CALLBACK_PATH)
    before = len(stack.backend.exchanges)
    placed = conference_callout(stack, "+46700000012", enable_ace=True)
    records = stack.advance(2)
    assert [(r["target"], r["attempt"], r["ok"], r["status"]) for r in records] == [
        ("primary", 1, False, None),
        ("fallback", 2, True, 200),
    ]
    assert "ConnectError" in records[0]["error"]
    assert [e.event["callid"] for e in stack.backend.exchanges[before:]] == [placed.call_id]
    info = stack.client.conferences.get(CONFERENCE)
    assert placed.call_id in [p.id for p in info.participants]


def test_custom_callout_menu_pie_to_the_backend(stack: Stack) -> None:
    """A custom callout whose inline ACE runs the example's menu: the PIE goes to ``pie``."""
    stack.set_callbacks(stack.backend_url + CALLBACK_PATH)
    placed = stack.client.callouts.custom(
        destination={"type": "number", "endpoint": "+46700000013"},
        ace=to_json(AceResponse(action=main_menu())),
        pie=stack.backend_url + CALLBACK_PATH,
    )
    ice = stack.advance(0)
    assert [(r["event"], r["ok"]) for r in ice] == [("ice", True)]  # no inline ice: the backend routes it
    assert ice[0]["response"]["action"]["name"] == "connectPstn"
    assert stack.advance(2) == []  # the inline ACE starts the menu: no HTTP
    (pie,) = stack.advance(2)
    assert pie["request"]["menuResult"] == {
        "type": "return",
        "value": "conference",
        "menuId": "main",
        "inputMethod": "dtmf",
    }
    assert (pie["target"], pie["status"]) == ("pie", 200)
    info = stack.client.conferences.get(CONFERENCE)
    assert placed.call_id in [p.id for p in info.participants]  # the backend's PIE answer: connectConf
