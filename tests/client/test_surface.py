"""The public surface: names from surface.yaml, keyword arguments, dicts and models, per-request options.

Each call goes through the generated method and the real client core into an ``httpx.MockTransport``
that records what went on the wire and answers like Sinch.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sinch_calling
import yaml
from sinch_calling import APIError, NotFoundError, ServerError, SinchClient, with_raw_response
from sinch_calling.models import (
    ConferenceDtmfOptions,
    ConferenceDtmfOptionsMode,
    Identity,
    IdentityType,
    Locale,
    SayInstruction,
)

from tests.operations import method_of

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "spec" / "calling-api.yaml").read_text())
TABLE = yaml.safe_load((ROOT / "generator" / "surface.yaml").read_text())["operations"]


class Wire:
    """A transport that records requests and answers each with the next queued response (or 200 {})."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: list[httpx.Response] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0) if self.answers else httpx.Response(200, json={"callId": "c1"})

    @property
    def body(self) -> Any:
        return json.loads(self.requests[-1].content)


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def client(wire: Wire) -> Iterator[SinchClient]:
    http = httpx.Client(transport=httpx.MockTransport(wire))
    with SinchClient(
        application_key="my-key", application_secret="c2VjcmV0", base_url="https://sinch.test/v1", httpx_client=http
    ) as c:
        yield c


def test_a_tts_callout_is_one_call_with_keyword_arguments(client: SinchClient, wire: Wire) -> None:
    placed = client.callouts.tts(destination={"type": "number", "endpoint": "+46700000001"}, text="Hi", enable_ace=True)
    assert placed.call_id == "c1"
    assert (wire.requests[0].method, wire.requests[0].url.path) == ("POST", "/v1/callouts")
    assert wire.body == {
        "method": "ttsCallout",
        "ttsCallout": {"destination": {"type": "number", "endpoint": "+46700000001"}, "text": "Hi", "enableAce": True},
    }


def test_dicts_and_models_make_the_same_body(client: SinchClient, wire: Wire) -> None:
    client.callouts.conference(
        destination={"type": "number", "endpoint": "+46700000001"},
        conference_id="room",
        locale="en-US",
        conference_dtmf_options={"mode": "detect", "maxDigits": 2},
    )
    as_dicts = wire.body
    client.callouts.conference(
        destination=Identity(type_=IdentityType.NUMBER, endpoint="+46700000001"),
        conference_id="room",
        locale=Locale.EN_US,
        conference_dtmf_options=ConferenceDtmfOptions(mode=ConferenceDtmfOptionsMode.DETECT, max_digits=2),
    )
    assert wire.body == as_dicts
    # and mixed, one level down: a list of models inside keyword arguments
    client.calls.update("c1", instructions=[SayInstruction(name="say", text="Bye")], action={"name": "hangup"})
    assert wire.body == {"instructions": [{"name": "say", "text": "Bye"}], "action": {"name": "hangup"}}


def test_unset_arguments_are_not_sent(client: SinchClient, wire: Wire) -> None:
    client.callouts.custom(destination={"type": "number", "endpoint": "+46700000001"})
    assert wire.body == {
        "method": "customCallout",
        "customCallout": {"destination": {"type": "number", "endpoint": "+46700000001"}},
    }


def test_extra_body_adds_fields_where_the_arguments_go(client: SinchClient, wire: Wire) -> None:
    client.callouts.tts(destination={"type": "number", "endpoint": "+1"}, extra_body={"newField": {"a": 1}})
    assert wire.body["ttsCallout"]["newField"] == {"a": 1}
    client.calls.update("c1", extra_body={"newField": True})
    assert wire.body == {"newField": True}


def test_participant_commands_are_methods(client: SinchClient, wire: Wire) -> None:
    wire.answers = [httpx.Response(200), httpx.Response(200), httpx.Response(200), httpx.Response(204)]
    client.conferences.mute("room", "c1")
    assert (wire.requests[-1].method, wire.requests[-1].url.path, wire.body) == (
        "PATCH",
        "/v1/conferences/id/room/c1",
        {"command": "mute"},
    )
    client.conferences.hold("room", "c1", moh="music2")
    assert wire.body == {"command": "onhold", "moh": "music2"}
    client.conferences.resume("room", "c1")
    assert wire.body == {"command": "resume"}
    assert "moh" not in inspect.signature(client.conferences.mute).parameters  # music means nothing to mute
    client.conferences.update_participant("room", "c1", command="unmute")
    assert wire.body == {"command": "unmute"}


def test_an_application_defaults_to_the_clients_own(client: SinchClient, wire: Wire) -> None:
    wire.answers = [httpx.Response(200, json={"url": {}}), httpx.Response(200, json={"url": {}})]
    client.applications.callbacks.get()
    assert wire.requests[-1].url.path == "/v1/configuration/callbacks/applications/my-key"
    client.applications.callbacks.get(application_key="other app")
    assert wire.requests[-1].url.raw_path == b"/v1/configuration/callbacks/applications/other%20app"
    with pytest.raises(ValueError, match="application_key"):
        client.applications.callbacks.get(application_key="")


def test_numbers(client: SinchClient, wire: Wire) -> None:
    wire.answers = [httpx.Response(204), httpx.Response(204), httpx.Response(200, json={"numbers": []})]
    client.numbers.assign(numbers=["+46700000001"], application_key="app", capability="voice")
    assert wire.body == {"numbers": ["+46700000001"], "applicationkey": "app", "capability": "voice"}
    client.numbers.unassign(number="+46700000001")
    assert (wire.requests[-1].method, wire.body) == ("DELETE", {"number": "+46700000001"})
    assert client.numbers.list().numbers == []
    wire.answers = [httpx.Response(200, json={"number": {"countryId": "SE"}})]
    assert client.numbers.lookup("+46 70").number.country_id == "SE"
    assert wire.requests[-1].url.raw_path == b"/v1/calling/query/number/%2B46%2070"


def test_per_request_options(client: SinchClient, wire: Wire) -> None:
    wire.answers = [httpx.Response(503, json={"errorCode": 50300, "message": "busy", "reference": "r1"})] * 4
    with pytest.raises(ServerError):
        client.calls.get("c1", max_retries=0, extra_headers={"X-Trace": "t1"}, timeout=7)
    (request,) = wire.requests  # no retry for this request, though the client retries twice by default
    assert request.headers["X-Trace"] == "t1"
    assert request.extensions["timeout"]["read"] == pytest.approx(7, abs=0.5)
    assert client.max_retries == 2
    with pytest.raises(sinch_calling.SinchCallingError, match="max_retries"):
        client.calls.get("c1", max_retries=-1)


def test_signing_headers_win_over_extra_headers(client: SinchClient, wire: Wire) -> None:
    wire.answers = [httpx.Response(200, json={"callId": "c1"})]
    client.calls.get("c1", extra_headers={"Authorization": "forged"})
    assert wire.requests[-1].headers["Authorization"].startswith("Application my-key:")


def test_raw_response_of_any_method(client: SinchClient, wire: Wire) -> None:
    wire.answers = [httpx.Response(200, json={"callId": "c1"}, headers={"x-request-id": "abc"})]
    raw = with_raw_response(client.calls.get)("c1")
    assert (raw.status_code, raw.headers["x-request-id"], raw.parsed.call_id) == (200, "abc", "c1")
    wire.answers = [httpx.Response(204)]
    raw_none = with_raw_response(client.conferences.kick_all)("room")
    assert (raw_none.status_code, raw_none.parsed, raw_none.content) == (204, None, b"")
    # outside the wrapper nothing is kept
    assert client.calls.get("c1").call_id == "c1"


def test_errors_carry_sinch_fields_in_str_and_repr(client: SinchClient, wire: Wire) -> None:
    body = {"errorCode": 40400, "message": "Call not found", "reference": "ref-1"}
    wire.answers = [httpx.Response(404, json=body)]
    with pytest.raises(NotFoundError) as caught:
        client.calls.get("c1")
    for text in (str(caught.value), repr(caught.value)):
        assert all(part in text for part in ("404", "40400", "Call not found", "ref-1")), text
    assert type(caught.value).__module__ == "sinch_calling"


def test_exceptions_are_public_from_the_package_only() -> None:
    errors = {name for name in sinch_calling.__all__ if name.endswith("Error")}
    assert {"APIError", "NotFoundError", "RateLimitError", "ResponseValidationError"} <= errors
    for name in errors:
        assert getattr(sinch_calling, name).__module__ == "sinch_calling", name
    with pytest.raises(ModuleNotFoundError):
        __import__("sinch_calling.errors")
    with pytest.raises(ModuleNotFoundError):
        __import__("sinch_calling.api")


# ---------------------------------------------------------------- the surface matches the spec and the table


def _operations() -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    found = {}
    for item in SPEC["paths"].values():
        for verb, operation in item.items():
            if verb != "parameters":
                params = [*item.get("parameters", []), *operation.get("parameters", [])]
                found[operation["operationId"]] = (operation, params)
    return found


def test_every_operation_has_a_method_and_every_method_documents_its_arguments(client: SinchClient) -> None:
    assert set(TABLE) == set(_operations())
    for operation_id, (_, params) in _operations().items():
        for entry in TABLE[operation_id]:
            method = method_of(client, entry)
            doc = " ".join((method.__doc__ or "").split())
            for param in params:
                if "$ref" in param:
                    param = SPEC["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
                assert " ".join(param["description"].split()) in doc, (entry["method"], param["name"])
            for name in ("timeout", "max_retries", "extra_headers"):
                assert name in inspect.signature(method).parameters and name in doc


def test_the_generated_surface_is_half_the_old_one() -> None:
    """client.py and resources/ for the 14 operations: the old client.py + api/ had 3,954 lines."""
    package = ROOT / "generated" / "sinch_calling"
    files = [package / "client.py", *sorted((package / "resources").glob("*.py"))]
    lines = sum(len(path.read_text().splitlines()) for path in files)
    assert lines <= 3954 // 2, lines


def test_async_methods_mirror_the_sync_ones() -> None:
    from sinch_calling.resources import (
        AsyncCallouts,
        AsyncCalls,
        AsyncConferences,
        AsyncNumbers,
        Callouts,
        Calls,
        Conferences,
        Numbers,
    )

    for sync, async_ in (
        (Callouts, AsyncCallouts),
        (Calls, AsyncCalls),
        (Conferences, AsyncConferences),
        (Numbers, AsyncNumbers),
    ):
        for name, method in vars(sync).items():
            if callable(method) and not name.startswith("_"):
                twin = getattr(async_, name)
                assert inspect.iscoroutinefunction(twin), name
                assert inspect.signature(twin).parameters.keys() == inspect.signature(method).parameters.keys()
                assert twin.__doc__ == method.__doc__


def test_api_error_is_the_base(client: SinchClient, wire: Wire) -> None:
    wire.answers = [httpx.Response(418, json={"errorCode": 41800, "message": "teapot", "reference": "r"})]
    with pytest.raises(APIError) as caught:
        client.calls.get("c1")
    assert caught.value.error_code == 41800
