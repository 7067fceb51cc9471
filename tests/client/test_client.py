"""The generated client against real servers: the recorded server, and small scripted ones.

Every request here crosses real HTTP (uvicorn on 127.0.0.1) or the ASGI interface, and is
signed by the client and verified by the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sinch_calling
from sinch_calling import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncSinchClient,
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    SinchCallingError,
    SinchClient,
    with_raw_response,
)
from sinch_calling._runtime.signing import decode_secret, verify_signature
from sinch_calling.models import (
    CalloutResponse,
    CallReason,
    CallStatus,
    ConferenceCommand,
    HangupAction,
    Identity,
    IdentityType,
    SayInstruction,
)
from sinch_calling_server import create_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import KEY, SECRET, Clock, free_port, serve

DESTINATION = {"type": "number", "endpoint": "+46700000001"}


def tts_callout(client: SinchClient) -> CalloutResponse:
    return client.callouts.tts(destination=DESTINATION, text="Hello")


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def recorded_server(clock: Clock) -> Iterator[str]:
    with serve(create_app(applications={KEY: SECRET}, validate_responses=True, clock=clock)) as url:
        yield f"{url}/v1"


@pytest.fixture
def client(recorded_server: str) -> Iterator[SinchClient]:
    with SinchClient(application_key=KEY, application_secret=SECRET, base_url=recorded_server) as c:
        yield c


# ---------------------------------------------------------------- a realistic flow, sync and async


def run_flow_sync(client: SinchClient, clock: Clock) -> dict[str, Any]:
    """Plain keyword arguments and dicts, as a user writes them."""
    placed = client.callouts.tts(destination={"type": "number", "endpoint": "+46700000001"}, text="Hello")
    result = client.calls.get(placed.call_id)
    first = client.callouts.conference(
        destination={"type": "number", "endpoint": "+46700000002"}, conference_id="room-sync", enable_ace=False
    )
    client.callouts.conference(destination={"type": "number", "endpoint": "+46700000003"}, conference_id="room-sync")
    clock.advance(3)  # every call has rung and been answered
    client.calls.update(placed.call_id, instructions=[{"name": "say", "text": "Bye"}], action={"name": "hangup"})
    ended = client.calls.get(placed.call_id)
    info = client.conferences.get("room-sync")
    client.conferences.mute("room-sync", first.call_id)
    muted = client.conferences.get("room-sync")
    client.conferences.kick("room-sync", first.call_id)
    after_kick = client.conferences.get("room-sync")
    client.conferences.kick_all("room-sync")
    with pytest.raises(NotFoundError):
        client.conferences.get("room-sync")
    return {
        "status_before": result.status,
        "status_after": ended.status,
        "reason_after": ended.reason,
        "participants": len(info.participants),
        "muted": sorted(p.muted for p in muted.participants if p.id == first.call_id),
        "after_kick": len(after_kick.participants),
    }


async def run_flow_async(client: AsyncSinchClient, clock: Clock) -> dict[str, Any]:
    """The same flow with the generated models where the sync one has dicts."""
    placed = await client.callouts.tts(
        destination=Identity(type_=IdentityType.NUMBER, endpoint="+46700000001"), text="Hello"
    )
    result = await client.calls.get(placed.call_id)
    first = await client.callouts.conference(
        destination=Identity(type_=IdentityType.NUMBER, endpoint="+46700000002"),
        conference_id="room-async",
        enable_ace=False,
    )
    await client.callouts.conference(
        destination=Identity(type_=IdentityType.NUMBER, endpoint="+46700000003"), conference_id="room-async"
    )
    clock.advance(3)  # every call has rung and been answered
    await client.calls.update(
        placed.call_id, instructions=[SayInstruction(name="say", text="Bye")], action=HangupAction(name="hangup")
    )
    ended = await client.calls.get(placed.call_id)
    info = await client.conferences.get("room-async")
    await client.conferences.update_participant("room-async", first.call_id, command=ConferenceCommand.MUTE)
    muted = await client.conferences.get("room-async")
    await client.conferences.kick("room-async", first.call_id)
    after_kick = await client.conferences.get("room-async")
    await client.conferences.kick_all("room-async")
    with pytest.raises(NotFoundError):
        await client.conferences.get("room-async")
    return {
        "status_before": result.status,
        "status_after": ended.status,
        "reason_after": ended.reason,
        "participants": len(info.participants),
        "muted": sorted(p.muted for p in muted.participants if p.id == first.call_id),
        "after_kick": len(after_kick.participants),
    }


EXPECTED_FLOW = {
    "status_before": CallStatus.ONGOING,
    "status_after": CallStatus.FINAL,
    "reason_after": CallReason.MANAGERHANGUP,
    "participants": 2,
    "muted": [True],
    "after_kick": 1,
}


def test_sync_flow_over_http(client: SinchClient, clock: Clock) -> None:
    assert run_flow_sync(client, clock) == EXPECTED_FLOW


async def test_async_flow_over_asgi_matches_sync() -> None:
    clock = Clock()
    app = create_app(applications={KEY: SECRET}, validate_responses=True, clock=clock)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    async with (
        http,
        AsyncSinchClient(
            application_key=KEY, application_secret=SECRET, base_url="http://server/calling/v1", httpx_client=http
        ) as client,
    ):
        assert await run_flow_async(client, clock) == EXPECTED_FLOW
    assert app.violations == []


def test_configuration_operations(client: SinchClient) -> None:
    numbers = client.numbers.list()
    assert numbers.numbers, "the recorded server ships a numbers inventory"
    looked_up = client.numbers.lookup("+46(0)73-017-0101")
    assert looked_up.number.normalized_number == "+46730170101"
    assert looked_up.number.country_id == "SE"


def test_raw_response_access(client: SinchClient) -> None:
    placed = with_raw_response(client.callouts.tts)(destination=DESTINATION, text="Hello")
    assert placed.status_code == 200
    assert placed.headers["content-type"].startswith("application/json")
    assert isinstance(placed.parsed, CalloutResponse)
    raw = with_raw_response(client.calls.get)(placed.parsed.call_id)
    assert raw.status_code == 200 and raw.parsed.call_id == placed.parsed.call_id
    assert json.loads(raw.content)["callId"] == placed.parsed.call_id
    assert raw.http_response.request.method == "GET"


async def test_raw_response_access_async() -> None:
    clock = Clock()
    app = create_app(applications={KEY: SECRET}, validate_responses=True, clock=clock)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    async with AsyncSinchClient(
        application_key=KEY, application_secret=SECRET, base_url="http://server/calling/v1", httpx_client=http
    ) as client:
        placed = await with_raw_response(client.callouts.conference)(destination=DESTINATION, conference_id="raw")
        assert placed.status_code == 200 and placed.parsed.call_id
        clock.advance(3)  # answered: the conference exists
        kicked = await with_raw_response(client.conferences.kick_all)("raw")
        assert (kicked.status_code, kicked.parsed, kicked.content) == (204, None, b"")
    await http.aclose()


def test_basic_auth_is_accepted(recorded_server: str) -> None:
    with SinchClient(application_key=KEY, application_secret=SECRET, auth="basic", base_url=recorded_server) as c:
        assert c.numbers.list().numbers


def test_wrong_secret_raises_authentication_error_with_sinch_fields(recorded_server: str) -> None:
    other = "b3RoZXIgc2VjcmV0"
    client = SinchClient(application_key=KEY, application_secret=other, base_url=recorded_server)
    with client, pytest.raises(AuthenticationError) as caught:
        client.numbers.list()
    error = caught.value
    assert error.status_code == 401
    assert error.error_code == 40108
    assert error.message and error.reference
    assert other not in str(error) and other not in repr(error)


def test_unknown_call_raises_not_found(client: SinchClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.calls.get("0" * 32)
    assert caught.value.error_code == 40400
    assert isinstance(caught.value, APIError) and isinstance(caught.value, SinchCallingError)


# ---------------------------------------------------------------- a scripted server for statuses and retries


class Script:
    """A tiny server whose answers the test sets, and which records every request it gets."""

    def __init__(self) -> None:
        self.status = 200
        self.body: bytes = b""
        self.headers: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(
            {"method": request.method, "path": request.url.path, "headers": dict(request.headers), "body": body}
        )
        return Response(self.body, status_code=self.status, headers=self.headers)

    def answer(self, status: int, body: Any = b"", headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.headers = {"content-type": "application/json", **(headers or {})}
        self.requests.clear()


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[Script, str]]:
    script = Script()
    methods = ["GET", "POST", "PATCH", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", script.handle, methods=methods)])
    with serve(app) as url:
        yield script, url


@pytest.fixture
def scripted_client(scripted: tuple[Script, str]) -> Iterator[tuple[Script, SinchClient]]:
    script, url = scripted
    with SinchClient(application_key=KEY, application_secret=SECRET, base_url=url) as c:
        yield script, c


ERRORS = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, ForbiddenError),
    (404, NotFoundError),
    (429, RateLimitError),
    (500, ServerError),
    (503, ServerError),
]


@pytest.mark.parametrize(("status", "error_class"), ERRORS)
def test_every_error_status_raises_its_class_with_sinch_fields(
    scripted_client: tuple[Script, SinchClient], status: int, error_class: type[APIError]
) -> None:
    script, client = scripted_client
    body = {"errorCode": status * 100 + 1, "message": "went wrong", "reference": "ref-1", "status": f"{status} X"}
    script.answer(status, body, {"retry-after": "0"})
    with pytest.raises(error_class) as caught:
        tts_callout(client)  # POST: never retried on a status
    assert (caught.value.status_code, caught.value.error_code) == (status, status * 100 + 1)
    assert (caught.value.message, caught.value.reference) == ("went wrong", "ref-1")
    assert caught.value.response.status_code == status


@pytest.mark.parametrize(("status", "error_class"), ERRORS)
@pytest.mark.parametrize("body", [b"", b"<html>bad gateway</html>", b"[1, 2]", b'{"errorCode": "40001"}'])
def test_empty_or_odd_error_bodies_still_raise_the_right_class(
    scripted_client: tuple[Script, SinchClient], status: int, error_class: type[APIError], body: bytes
) -> None:
    script, client = scripted_client
    script.answer(status, body)
    with pytest.raises(error_class) as caught:
        tts_callout(client)
    assert caught.value.status_code == status
    assert caught.value.error_code == (40001 if b"40001" in body else None)
    assert caught.value.message


def test_post_answered_503_is_sent_exactly_once(scripted_client: tuple[Script, SinchClient]) -> None:
    script, client = scripted_client
    script.answer(503, {"errorCode": 50300, "message": "unavailable"}, {"retry-after": "0"})
    with pytest.raises(ServerError):
        tts_callout(client)
    assert [r["method"] for r in script.requests] == ["POST"]


def test_patch_answered_503_is_sent_exactly_once(scripted_client: tuple[Script, SinchClient]) -> None:
    script, client = scripted_client
    script.answer(503, {"errorCode": 50300, "message": "unavailable"}, {"retry-after": "0"})
    with pytest.raises(ServerError):
        client.calls.update("abc", action={"name": "hangup"})
    assert [r["method"] for r in script.requests] == ["PATCH"]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_is_retried_twice_by_default_each_attempt_signed_anew(
    scripted_client: tuple[Script, SinchClient], status: int
) -> None:
    script, client = scripted_client
    script.answer(status, {"errorCode": 1, "message": "busy"}, {"retry-after": "0"})
    with pytest.raises(APIError):
        client.calls.get("abc")
    assert [r["method"] for r in script.requests] == ["GET"] * 3
    for sent in script.requests:  # the server could verify every attempt on its own
        assert verify_signature(
            method="GET", path=sent["path"], headers=sent["headers"], body=b"", key=KEY, secret=decode_secret(SECRET)
        )


def test_delete_is_retried_and_retries_are_configurable(scripted_client: tuple[Script, SinchClient]) -> None:
    script, client = scripted_client
    script.answer(502, b"", {"retry-after": "0"})
    with pytest.raises(ServerError):
        client.with_options(max_retries=4).conferences.kick_all("room")
    assert len(script.requests) == 5
    script.answer(502, b"", {"retry-after": "0"})
    with pytest.raises(ServerError):
        client.with_options(max_retries=0).conferences.kick_all("room")
    assert len(script.requests) == 1
    assert client.max_retries == 2  # with_options left the original alone


def test_a_400_is_never_retried(scripted_client: tuple[Script, SinchClient]) -> None:
    script, client = scripted_client
    script.answer(400, {"errorCode": 40001, "message": "Illegal parameters"})
    with pytest.raises(BadRequestError):
        client.calls.get("abc")
    assert len(script.requests) == 1


def test_unknown_enum_value_and_unknown_fields_are_kept(scripted_client: tuple[Script, SinchClient]) -> None:
    script, client = scripted_client
    script.answer(200, {"callId": "abc", "status": "FINAL", "reason": "SOMENEWREASON", "brandNew": {"x": 1}})
    result = client.calls.get("abc")
    assert result.reason == "SOMENEWREASON"
    assert isinstance(result.reason, CallReason)
    assert result.status is CallStatus.FINAL
    assert result.additional_properties == {"brandNew": {"x": 1}}
    assert result.to_dict()["reason"] == "SOMENEWREASON"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "FINAL"}, "callId"),
        ({"callId": "abc", "duration": "14"}, "duration"),
        ({"callId": 7}, "callId"),
        ({"callId": "abc", "muted": True, "duration": True}, "duration"),
    ],
)
def test_a_response_that_violates_the_spec_names_the_field(
    scripted_client: tuple[Script, SinchClient], body: dict[str, Any], field: str
) -> None:
    script, client = scripted_client
    script.answer(200, body)
    with pytest.raises(ResponseValidationError) as caught:
        client.calls.get("abc")
    assert caught.value.field == field
    assert field in str(caught.value)


def test_a_non_json_success_body_is_a_validation_error(scripted_client: tuple[Script, SinchClient]) -> None:
    script, client = scripted_client
    script.answer(200, b"<html>", {"content-type": "text/html"})
    with pytest.raises(ResponseValidationError):
        client.calls.get("abc")


def test_request_is_signed_over_the_exact_bytes_and_path_sent(scripted_client: tuple[Script, SinchClient]) -> None:
    script, client = scripted_client
    script.answer(200, {"callId": "c1"})
    tts_callout(client)
    sent = script.requests[0]
    assert sent["path"] == "/callouts"
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["headers"]["authorization"].startswith(f"Application {KEY}:")
    assert json.loads(sent["body"])["ttsCallout"]["destination"] == {"type": "number", "endpoint": "+46700000001"}
    assert verify_signature(
        method="POST",
        path="/callouts",
        headers=sent["headers"],
        body=sent["body"],
        key=KEY,
        secret=decode_secret(SECRET),
    )


def test_user_agent(scripted_client: tuple[Script, SinchClient]) -> None:
    script, client = scripted_client
    script.answer(200, {"callId": "c1"})
    client.calls.get("c1")
    agent = script.requests[0]["headers"]["user-agent"]
    assert agent.startswith(f"sinch-calling/{sinch_calling.__version__} python/3.")
    assert f"httpx/{httpx.__version__}" in agent


def test_debug_log_has_method_url_status_attempt_and_no_secret(
    scripted_client: tuple[Script, SinchClient], caplog: pytest.LogCaptureFixture
) -> None:
    script, client = scripted_client
    script.answer(503, b"", {"retry-after": "0"})
    with caplog.at_level(logging.DEBUG, logger="sinch_calling"), pytest.raises(ServerError):
        client.calls.get("c1")
    text = caplog.text
    assert "GET" in text and "/calls/id/c1" in text and "503" in text and "attempt 3" in text
    assert SECRET not in text and "Application " not in text


def test_repr_never_shows_the_secret() -> None:
    client = SinchClient(application_key=KEY, application_secret=SECRET)
    assert KEY in repr(client) and SECRET not in repr(client)
    assert SECRET not in repr(client.__dict__)
    assert SECRET not in repr(AsyncSinchClient(application_key=KEY, application_secret=SECRET))


# ---------------------------------------------------------------- transport failures


def test_connection_refused_raises_api_connection_error() -> None:
    port = free_port()  # nothing listens there
    # No retries: the retry rules for connection errors are tested with a fake clock in tests/runtime.
    client = SinchClient(application_key=KEY, application_secret=SECRET, base_url=f"http://127.0.0.1:{port}")
    with client, pytest.raises(APIConnectionError) as caught:
        client.with_options(max_retries=0).calls.get("x")
    assert not isinstance(caught.value, APITimeoutError)
    assert caught.value.request.url.port == port


def test_timeout_raises_api_timeout_error() -> None:
    async def slow(request: Request) -> JSONResponse:
        await asyncio.sleep(2)
        return JSONResponse({"callId": "late"})

    app = Starlette(routes=[Route("/{path:path}", slow)])
    with serve(app) as url:
        client = SinchClient(application_key=KEY, application_secret=SECRET, base_url=url, timeout=0.2, max_retries=0)
        with client, pytest.raises(APITimeoutError):
            client.calls.get("x")


# ---------------------------------------------------------------- construction and hosts


def test_hosts_follow_x_sinch_host_and_region() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/numbers/"):
            return httpx.Response(200, json={"numbers": []})
        return httpx.Response(200, json={"callId": "c"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = SinchClient(application_key=KEY, application_secret=SECRET, region="euc1", httpx_client=http)
    client.numbers.list()
    client.calls.get("c")
    plain = SinchClient(application_key=KEY, application_secret=SECRET, httpx_client=http)
    plain.calls.get("c")
    urls = [str(r.url) for r in seen]
    assert urls == [
        "https://callingapi.sinch.com/v1/configuration/numbers/",
        "https://calling-euc1.api.sinch.com/calling/v1/calls/id/c",
        "https://calling.api.sinch.com/calling/v1/calls/id/c",
    ]
    # the signature covers the base path the request was really sent to
    for request in seen:
        assert verify_signature(
            method=request.method,
            path=request.url.path,
            headers=request.headers,
            body=request.content,
            key=KEY,
            secret=decode_secret(SECRET),
        )


def test_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SINCH_APPLICATION_KEY", "env-key")
    monkeypatch.setenv("SINCH_APPLICATION_SECRET", SECRET)
    assert SinchClient().application_key == "env-key"
    monkeypatch.delenv("SINCH_APPLICATION_KEY")
    with pytest.raises(SinchCallingError, match="SINCH_APPLICATION_KEY"):
        SinchClient()


def test_bad_construction_is_refused_clearly() -> None:
    with pytest.raises(SinchCallingError, match="base64") as caught:
        SinchClient(application_key=KEY, application_secret="not base64 at all!")
    assert "not base64 at all!" not in str(caught.value)
    with pytest.raises(SinchCallingError, match="euc1"):
        SinchClient(application_key=KEY, application_secret=SECRET, region="mars1")
    with pytest.raises(SinchCallingError, match="auth"):
        SinchClient(application_key=KEY, application_secret=SECRET, auth="oauth")  # type: ignore[arg-type]


def test_caller_supplied_httpx_client_is_signed_and_not_closed(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.answer(200, {"callId": "c1"})
    http = httpx.Client()
    with SinchClient(application_key=KEY, application_secret=SECRET, base_url=url, httpx_client=http) as client:
        client.calls.get("c1")
    assert script.requests[0]["headers"]["authorization"].startswith("Application ")
    assert not http.is_closed
    http.close()
