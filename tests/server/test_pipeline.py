"""Routing, refusals and robustness of the pipeline: small inline specs and the real one."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sinch_calling._runtime.signing import decode_secret, sign_request
from sinch_calling_server import create_app
from sinch_calling_server.pipeline import Pipeline
from sinch_calling_server.spec import compile_spec

from tests.support import Clock

from .conftest import KEY, SECRET, signed_client

DESTINATION = {"type": "number", "endpoint": "+46700000000"}

ERROR_KEYS = {"errorCode", "message", "reference", "status"}


def inline_spec(paths: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "inline", "version": "1"},
        "servers": [{"url": "https://example.com/base/v2"}],
        "security": [{"Application": []}, {"Basic": []}],
        "components": {
            "securitySchemes": {
                "Application": {"type": "apiKey", "in": "header", "name": "Authorization"},
                "Basic": {"type": "http", "scheme": "basic"},
            }
        },
        "paths": paths,
    }


def op(op_id: str, **extra: Any) -> dict[str, Any]:
    return {"operationId": op_id, "responses": {"200": {"description": "ok"}}, **extra}


class Echo:
    """A backend that reports which operation answered, with what parameters."""

    def handle(self, request: Any) -> Any:
        from sinch_calling_server.messages import Reply

        return Reply(200, {"op": request.operation.operation_id, "params": request.path_params, "body": request.body})


def echo_app(spec: dict[str, Any], clock: Clock) -> Pipeline:
    app = create_app(spec=spec, applications={KEY: SECRET}, clock=clock)
    app.backend = Echo()
    return app


def test_static_routes_win_over_parameterised_ones() -> None:
    compiled = compile_spec(
        inline_spec(
            {
                "/things/{id}": {"get": op("byId")},
                "/things/special": {"get": op("special")},
                "/things/{id}/{sub}": {"get": op("sub")},
                "/things/{id}/parts": {"get": op("parts")},
            }
        )
    )
    assert compiled.prefixes == ("/calling/v1", "/base/v2", "/v1")

    def route(path: str) -> tuple[str, dict[str, str]] | None:
        found = compiled.match(path)
        return None if found is None else (found[0]["GET"].operation_id, found[1])

    assert route("/v1/things/special") == ("special", {})
    # "/things/special/" could be "sub" with an empty {sub}: a trailing slash that ends an empty
    # parameter is never dropped (it turned "kick one participant" into "kick everyone").
    assert route("/v1/things/special/") is None
    assert route("/calling/v1/things/abc") == ("byId", {"id": "abc"})
    assert route("/base/v2/things/abc/parts") == ("parts", {"id": "abc"})
    assert route("/v1/things/abc/xyz/") == ("sub", {"id": "abc", "sub": "xyz"})
    assert route("/things/abc") is None  # no base path
    assert route("/v1/things") is None
    assert route("/v1/things//parts") is None  # empty parameter


async def test_both_prefixes_and_trailing_slashes(client: httpx.AsyncClient) -> None:
    for path in (
        "/v1/configuration/numbers",
        "/v1/configuration/numbers/",
        "/calling/v1/configuration/numbers",
        "/calling/v1/configuration/numbers/",
    ):
        assert (await client.get(path)).status_code == 200, path


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/nothing/here")
    assert r.status_code == 404
    assert set(r.json()) == ERROR_KEYS and r.json()["errorCode"] == 40400
    r = await client.put("/v1/configuration/numbers", json={})
    assert r.status_code == 405
    assert r.headers["allow"] == "DELETE, GET, POST"
    assert r.json()["errorCode"] == 40500
    r = await client.request("TRACE", "/calling/v1/callouts")
    assert (r.status_code, r.headers["allow"]) == (405, "POST")
    r = await client.head("/calling/v1/callouts")
    assert r.status_code == 405 and r.content == b""


async def test_input_errors(client: httpx.AsyncClient) -> None:
    url = "/calling/v1/callouts"
    cases: list[tuple[dict[str, Any], int, int]] = [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, 40003),
        ({"content": b'{"method": NaN}', "headers": {"content-type": "application/json"}}, 400, 40003),
        ({"content": b"\xff\xfe\x00garbage", "headers": {"content-type": "application/json"}}, 400, 40003),
        ({"content": b"[" * 100_000, "headers": {"content-type": "application/json"}}, 400, 40003),
        ({"content": b"", "headers": {"content-type": "application/json"}}, 400, 40002),
        ({"json": []}, 400, 40001),
        ({"json": "ttsCallout"}, 400, 40001),
        (
            {"content": b"method=ttsCallout", "headers": {"content-type": "application/x-www-form-urlencoded"}},
            415,
            40003,
        ),
        ({"content": b"{}", "headers": {"content-type": "text/plain"}}, 415, 40003),
        ({"content": b"{" + b" " * 300_000 + b"}", "headers": {"content-type": "application/json"}}, 413, 40003),
    ]
    for kwargs, status, code in cases:
        r = await client.post(url, **kwargs)
        assert (r.status_code, r.json()["errorCode"]) == (status, code), (kwargs.get("content", b"")[:40], r.text)
        assert set(r.json()) == ERROR_KEYS


async def test_body_limit_is_configurable(make_app: Callable[..., Pipeline], clock: Clock) -> None:
    async with signed_client(make_app(max_body=64), clock) as c:
        r = await c.post("/calling/v1/callouts", json={"method": "ttsCallout", "ttsCallout": {"text": "x" * 100}})
        assert r.status_code == 413


async def test_body_read_ends_at_the_declared_length(app: Pipeline, clock: Clock) -> None:
    """granian follows the body with an empty closing message; waiting for it cost a wake-up per POST."""
    body = json.dumps({"method": "ttsCallout", "ttsCallout": {"destination": DESTINATION, "text": "hi"}}).encode()
    request = httpx.Request(
        "POST", "http://t/calling/v1/callouts", content=body, headers={"content-type": "application/json"}
    )
    sign_request(request, KEY, decode_secret(SECRET), clock.datetime())
    messages = [{"type": "http.request", "body": body[:10], "more_body": True}]
    messages.append({"type": "http.request", "body": body[10:], "more_body": True})  # the last byte: done
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not messages:
            raise AssertionError("read past the declared Content-Length")
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    scope = {"type": "http", "method": "POST", "path": "/calling/v1/callouts", "raw_path": b"/calling/v1/callouts"}
    scope |= {"query_string": b"", "headers": headers, "http_version": "1.1"}
    await app(scope, receive, send)
    assert sent[0]["status"] == 200, sent
    assert len(json.loads(sent[1]["body"])["callId"]) == 32


@pytest.mark.parametrize("blank", [b" ", b"\r\n", b"\t \x0b\x0c"])
async def test_a_blank_body_is_a_missing_body(client: httpx.AsyncClient, blank: bytes) -> None:
    r = await client.post("/calling/v1/callouts", content=blank, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["errorCode"]) == (400, 40002)


async def test_a_utf16_body_is_read(client: httpx.AsyncClient) -> None:
    body = json.dumps({"method": "ttsCallout", "ttsCallout": {"destination": DESTINATION, "text": "hé"}})
    r = await client.post(
        "/calling/v1/callouts", content=body.encode("utf-16"), headers={"content-type": "application/json"}
    )
    assert r.status_code == 200, r.text


async def test_chunked_body_over_the_limit(make_app: Callable[..., Pipeline], clock: Clock) -> None:
    app = make_app(max_body=1000)
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 3

    async def receive() -> dict[str, Any]:
        return chunks.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/callouts", "raw_path": b"/v1/callouts"}
    scope |= {"query_string": b"", "headers": [(b"content-type", b"application/json")]}
    await app(scope, receive, send)
    assert sent[0]["status"] == 413


def _raw_request(app: Pipeline, method: str, path: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    import asyncio

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path.decode("latin-1"),
        "raw_path": path,
        "query_string": b"",
        "headers": headers,
    }
    asyncio.run(app(scope, receive, send))
    status = int(sent[0]["status"])
    payload = sent[1]["body"]
    if payload and status >= 400:
        error = json.loads(payload)
        assert {"errorCode", "message", "reference"} <= set(error), payload
    return status


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "FOO"]),
    path=st.one_of(
        st.sampled_from(
            [
                b"/calling/v1/callouts",
                b"/v1/configuration/numbers/",
                b"/calling/v1/calls/id/abc",
                b"/calling/v1/conferences/id/x/y",
                b"/v1/calling/query/number/%FF%FE",
                b"/v1/calling/query/number/+46%2873%29",
            ]
        ),
        st.binary(max_size=40).map(lambda b: b"/v1/" + b.replace(b"?", b"")),
    ),
    headers=st.lists(
        st.tuples(
            st.sampled_from([b"authorization", b"x-timestamp", b"content-type", b"content-length", b"x-other"]),
            st.one_of(
                st.binary(max_size=60),
                st.text(max_size=30).map(lambda t: t.encode("utf-8")),
                st.just(b"Application " + KEY.encode() + b":\xc3\xa9\xff"),
                st.just(b"Basic " + base64.b64encode(b"\xff\xfe:\x00")),
                st.just(b"application/json; charset=\xe9"),
            ),
        ),
        max_size=4,
    ),
    body=st.one_of(st.binary(max_size=200), st.just(b'{"method":"ttsCallout"}')),
)
def test_garbage_never_produces_a_500(
    method: str, path: bytes, headers: list[tuple[bytes, bytes]], body: bytes, clock: Clock
) -> None:
    status = _raw_request(_garbage_app(clock), method, path, headers, body)
    assert status < 500


_GARBAGE_APPS: dict[int, Pipeline] = {}


def _garbage_app(clock: Clock) -> Pipeline:
    from .conftest import SPEC

    if not _GARBAGE_APPS:
        _GARBAGE_APPS[0] = create_app(spec=SPEC, applications={KEY: SECRET}, clock=clock, validate_responses=True)
    return _GARBAGE_APPS[0]


def test_garbage_with_valid_signatures_never_produces_a_500(clock: Clock) -> None:
    """Well-signed requests carrying odd bodies and paths reach validation and the handlers."""
    from sinch_calling._runtime.signing import compute_signature, content_md5, decode_secret, string_to_sign

    from .conftest import SPEC

    app = create_app(spec=SPEC, applications={KEY: SECRET}, clock=clock, validate_responses=True)
    timestamp = "2026-11-27T10:55:48Z"
    bodies = [b"", b"{}", b"null", b"[]", b'{"method":"ttsCallout","ttsCallout":{"destination":{}}}', b"\xff"]
    bodies += [b'{"numbers":["+1"],"applicationkey":7}', b'{"command":"mute","moh":"\xc3\xa9"}', b'"\\ud800"']
    paths = [b"/calling/v1/callouts", b"/v1/configuration/numbers", b"/calling/v1/conferences/id/%00/%FF"]
    paths += [b"/calling/v1/calls/id/%E2%82%AC", b"/v1/calling/query/number/%00", b"/v1/calling/query/number/+"]
    for path in paths:
        for method in ("GET", "POST", "PATCH", "DELETE"):
            for body in bodies:
                content_type = "application/json"
                to_sign = string_to_sign(method, content_md5(body), content_type, timestamp, path.decode())
                signature = compute_signature(decode_secret(SECRET), to_sign)
                headers = [
                    (b"authorization", f"Application {KEY}:{signature}".encode()),
                    (b"x-timestamp", timestamp.encode()),
                    (b"content-type", content_type.encode()),
                ]
                status = _raw_request(app, method, path, headers, body)
                assert status < 500, (method, path, body)
    assert app.violations == []


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "Digest username=x",
        "Application",
        "Basic",
    ],
)
async def test_scheme_and_malformed_headers(app: Pipeline, header: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/v1/configuration/numbers", headers={"Authorization": header, "x-timestamp": "x"})
    expected = (403, 40301) if header.split()[0] in ("Bearer", "Digest") else (401, 40108)
    assert (r.status_code, r.json()["errorCode"]) == expected
