"""examples/webhook_app.py, driven in-process with callbacks signed like Sinch signs them.

Every SVAML answer is checked against the spec's schema for that answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sinch_calling.svaml import AceResponse, IceResponse, PieResponse

from examples.webhook_app import CALLBACK_PATH, DEFAULT_CONFERENCE_ID, create_app, main_menu
from tests.callbacks.helpers import KEY, SECRET, schema_validator, signed_headers, webhook_examples
from tests.support import CALLBACK_BODY

CONFERENCE = "support-room"
CONNECT_NUMBER = "+46000000001"
OPERATOR_NUMBER = "+46000000002"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        KEY, SECRET, conference_id=CONFERENCE, connect_number=CONNECT_NUMBER, operator_number=OPERATOR_NUMBER
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://backend.example.com") as http:
        yield http


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


async def deliver(
    client: httpx.AsyncClient,
    event: dict[str, Any] | bytes,
    *,
    path: str = CALLBACK_PATH,
    sign_path: str | None = None,
    **sign: Any,
) -> httpx.Response:
    """POST a callback the way Sinch does: raw JSON body, signed over the callback path."""
    body = event if isinstance(event, bytes) else encode(event)
    headers = signed_headers(body, path=sign_path if sign_path is not None else path, **sign)
    return await client.post(path, content=body, headers=headers)


def svaml_of(response: httpx.Response, schema: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    schema_validator(schema).validate(document)
    return document


def ice(**fields: Any) -> dict[str, Any]:
    example: dict[str, Any] = webhook_examples("ice", "request")["incoming"]
    return example | fields


def pie(menu_result: dict[str, Any]) -> dict[str, Any]:
    return {"event": "pie", "callid": "c1", "version": 1, "menuResult": menu_result}


# ---------------------------------------------------------------- answers


async def test_ice_is_answered_with_a_greeting_and_connect_pstn(client: httpx.AsyncClient) -> None:
    document = svaml_of(await deliver(client, ice()), "IceResponse")
    assert document == {
        "instructions": [{"name": "say", "text": "Welcome! Connecting your call.", "locale": "en-US"}],
        "action": {"name": "connectPstn", "number": CONNECT_NUMBER, "locale": "en-US", "cli": "+46708168731"},
    }
    assert IceResponse.from_dict(document).to_dict() == document


async def test_ice_without_a_caller_number_leaves_cli_out(client: httpx.AsyncClient) -> None:
    event = {k: v for k, v in ice().items() if k != "cli"}
    document = svaml_of(await deliver(client, event), "IceResponse")
    assert "cli" not in document["action"]


async def test_ace_is_answered_with_connect_conf(client: httpx.AsyncClient) -> None:
    event = {"event": "ace", "callid": "c1", "version": 1, "amd": {"status": "human", "reason": "n/a"}}
    document = svaml_of(await deliver(client, event), "AceResponse")
    assert document == {"action": {"name": "connectConf", "conferenceId": CONFERENCE}}
    assert AceResponse.from_dict(document).to_dict() == document


async def test_the_default_conference_id() -> None:
    transport = httpx.ASGITransport(app=create_app(KEY, SECRET))
    async with httpx.AsyncClient(transport=transport, base_url="http://backend") as http:
        document = svaml_of(await deliver(http, {"event": "ace", "callid": "c1"}), "AceResponse")
    assert document["action"]["conferenceId"] == DEFAULT_CONFERENCE_ID


async def test_the_callback_vector_body_is_answered_too(client: httpx.AsyncClient) -> None:
    body = CALLBACK_BODY
    svaml_of(await deliver(client, body), "AceResponse")


@pytest.mark.parametrize(
    ("menu_result", "action"),
    [
        ({"type": "return", "value": "conference", "menuId": "main", "inputMethod": "dtmf"}, "connectConf"),
        ({"type": "return", "value": "operator", "menuId": "main", "inputMethod": "voice"}, "connectPstn"),
        ({"type": "timeout", "menuId": "main"}, "hangup"),
        ({"type": "invalidinput", "value": "7", "menuId": "main"}, "runMenu"),
        ({"type": "hangup", "menuId": "main"}, "hangup"),
        ({"type": "error", "menuId": "main"}, "hangup"),
        ({"type": "return", "value": "something-else"}, "hangup"),
        ({"type": "a-future-result-type"}, "hangup"),
    ],
    ids=["conference", "operator", "timeout", "invalid", "hangup", "error", "unknown-value", "unknown-type"],
)
async def test_pie_answers_the_menu_choice(client: httpx.AsyncClient, menu_result: dict[str, Any], action: str) -> None:
    document = svaml_of(await deliver(client, pie(menu_result)), "PieResponse")
    assert document["action"]["name"] == action
    assert PieResponse.from_dict(document).to_dict() == document
    if action == "connectConf":
        assert document["action"]["conferenceId"] == CONFERENCE
    if action == "connectPstn":
        assert document["action"]["number"] == OPERATOR_NUMBER
    if menu_result["type"] == "timeout":
        assert document["instructions"][0]["name"] == "say"
    if action == "runMenu":
        assert document["action"] == main_menu().to_dict()


async def test_pie_without_a_menu_result_hangs_up(client: httpx.AsyncClient) -> None:
    document = svaml_of(await deliver(client, {"event": "pie", "callid": "c1"}), "PieResponse")
    assert document == {"action": {"name": "hangup"}}


def test_the_menu_is_valid_svaml_and_returns_the_values_the_pie_handler_knows() -> None:
    document = IceResponse(action=main_menu()).to_dict()
    schema_validator("IceResponse").validate(document)
    schema_validator("Svaml").validate(document)
    options = document["action"]["menus"][0]["options"]
    assert {option["action"] for option in options} == {"return(conference)", "return(operator)"}


@pytest.mark.parametrize("event", ["dice", "notify"])
async def test_dice_and_notify_get_an_empty_200(client: httpx.AsyncClient, event: str) -> None:
    examples = webhook_examples(event, "request")
    assert examples, f"the spec has no {event} request example"
    for example in examples.values():
        response = await deliver(client, example)
        assert response.status_code == 200
        assert response.content == b""


async def test_an_unknown_but_signed_event_is_acknowledged(client: httpx.AsyncClient) -> None:
    response = await deliver(client, {"event": "transfer", "callid": "c1"})
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"event":"dice","callid":7}'])
async def test_a_signed_body_that_is_not_an_event_gets_400(client: httpx.AsyncClient, body: bytes) -> None:
    assert (await deliver(client, body)).status_code == 400


# ---------------------------------------------------------------- every callback is verified


async def test_an_unsigned_callback_gets_401(client: httpx.AsyncClient) -> None:
    response = await client.post(CALLBACK_PATH, content=encode(ice()), headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Application"
    assert response.content == b""


@pytest.mark.parametrize(
    "sign",
    [
        {"secret": "c29tZSBvdGhlciBzZWNyZXQ="},
        {"key": "another-application"},
        {"skew": -timedelta(minutes=20)},
        {"skew": timedelta(minutes=20)},
        {"scheme": "Basic"},
        {"sign_path": "/somewhere/else"},
        {"method": "PUT"},
    ],
    ids=["wrong-secret", "wrong-key", "stale", "future", "scheme", "other-path", "other-method"],
)
async def test_a_badly_signed_callback_gets_401(client: httpx.AsyncClient, sign: dict[str, Any]) -> None:
    if "skew" in sign:  # the time of the run, not of collection: a slow run must not make "future" current
        sign = {"now": datetime.now(timezone.utc) + sign.pop("skew")}
    response = await deliver(client, ice(), **sign)
    assert response.status_code == 401
    assert response.content == b""


async def test_a_tampered_body_gets_401(client: httpx.AsyncClient) -> None:
    body = encode(ice())
    headers = signed_headers(body, path=CALLBACK_PATH)
    tampered = body.replace(b"+46708168731", b"+46708168732")
    response = await client.post(CALLBACK_PATH, content=tampered, headers=headers)
    assert response.status_code == 401


async def test_a_changed_content_type_gets_401(client: httpx.AsyncClient) -> None:
    body = encode(ice())
    headers = signed_headers(body, path=CALLBACK_PATH, content_type="text/plain")
    headers["Content-Type"] = "application/json"
    assert (await client.post(CALLBACK_PATH, content=body, headers=headers)).status_code == 401


async def test_a_refused_callback_is_logged_with_its_check(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="webhook_app"):
        await deliver(client, ice(), key="another-application")
    assert "(application_key)" in caplog.text
    assert SECRET not in caplog.text


async def test_a_query_string_on_the_callback_url_is_fine(client: httpx.AsyncClient) -> None:
    # The scope's raw_path carries the query here; Sinch signs the path without it.
    response = await deliver(client, ice(), path=CALLBACK_PATH + "?tenant=1", sign_path=CALLBACK_PATH)
    svaml_of(response, "IceResponse")


async def test_sinch_style_headers_are_accepted(client: httpx.AsyncClient) -> None:
    body = encode(ice())
    headers = signed_headers(body, path=CALLBACK_PATH, content_type="application/json; charset=utf-8")
    headers = {name.upper(): value for name, value in headers.items()}
    svaml_of(await client.post(CALLBACK_PATH, content=body, headers=headers), "IceResponse")


async def test_only_post_is_served(client: httpx.AsyncClient) -> None:
    assert (await client.get(CALLBACK_PATH)).status_code == 405
    assert (await client.post("/elsewhere", content=b"{}")).status_code == 404
