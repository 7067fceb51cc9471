"""Authentication: signed requests (as real clients send them), Basic, refusals."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sinch_calling._runtime.signing import compute_signature, content_md5, decode_secret, string_to_sign
from sinch_calling_server.auth import Authenticator, timestamp_seconds
from sinch_calling_server.errors import ApiError
from sinch_calling_server.pipeline import Pipeline
from sinch_calling_server.settings import Application, parse_app_option

from tests.support import (
    SDK_GET_SIGNATURE,
    SDK_KEY,
    SDK_NOW,
    SDK_PATH,
    SDK_POST_AUTHORIZATION,
    SDK_POST_BODY,
    SDK_SECRET,
    SDK_TIMESTAMP,
    Clock,
)

from .conftest import KEY, SECRET, START


def signed_headers(
    method: str,
    path: str,
    body: bytes = b"",
    *,
    timestamp: str = "2026-11-27T10:55:48.734574+00:00",
    content_type: str = "application/json; charset=UTF-8",
    key: str = KEY,
    secret: str = SECRET,
    scheme: str = "Application",
) -> dict[str, str]:
    signature = compute_signature(
        decode_secret(secret), string_to_sign(method, content_md5(body), content_type, timestamp, path)
    )
    return {"Authorization": f"{scheme} {key}:{signature}", "x-timestamp": timestamp, "Content-Type": content_type}


@pytest.fixture
async def raw(app: Pipeline) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-11-27T10:55:48.734574+00:00",  # sinch 1.1.4 (datetime.isoformat)
        "2026-11-27T10:55:48Z",
        "2026-11-27T10:55:48.734Z",  # our SDK, Java, Node
        "2026-11-27T11:55:48+01:00",
        "2026-11-27T10:55:48.1234567Z",  # .NET's seven digits
    ],
)
@pytest.mark.parametrize("scheme", ["Application", "application", "APPLICATION"])
async def test_signed_requests_as_clients_send_them(raw: httpx.AsyncClient, timestamp: str, scheme: str) -> None:
    path = "/calling/v1/calls/id/4398599d1ba84ef3bde0a82dfb61abed"
    r = await raw.get(path, headers=signed_headers("GET", path, timestamp=timestamp, scheme=scheme))
    assert (r.status_code, r.json()["errorCode"]) == (404, 40400)  # authenticated, then not found


async def test_signed_post_and_the_exact_body_bytes(raw: httpx.AsyncClient) -> None:
    path = "/calling/v1/callouts"
    body = b'{"method": "ttsCallout", "ttsCallout": {"destination": {"type": "number", "endpoint": "+46730170101"}}}'
    r = await raw.post(path, content=body, headers=signed_headers("POST", path, body))
    assert r.status_code == 200
    # Same JSON, other bytes: the signature no longer matches.
    r = await raw.post(path, content=body.replace(b": ", b":"), headers=signed_headers("POST", path, body))
    assert (r.status_code, r.json()["errorCode"]) == (401, 40108)


async def test_the_path_as_sent_or_decoded(raw: httpx.AsyncClient) -> None:
    # sinch 1.1.4 signs the unencoded path; other clients sign the percent-encoded one.
    encoded = "/v1/calling/query/number/%2B46%280%2973-017-0101"
    plain = "/v1/calling/query/number/+46(0)73-017-0101"
    for signed in (encoded, plain):
        r = await raw.get(encoded, headers=signed_headers("GET", signed))
        assert r.status_code == 200, signed


@pytest.mark.parametrize(
    "change",
    [
        {"key": "unknown-key"},
        {"secret": base64.b64encode(b"wrong").decode()},
        {"timestamp": "2026-11-27T10:35:00Z"},  # 20 minutes old
        {"timestamp": "2026-11-27T11:20:00Z"},  # 24 minutes ahead
        {"timestamp": "yesterday"},
    ],
)
async def test_refused_with_40108(raw: httpx.AsyncClient, change: dict[str, str]) -> None:
    path = "/v1/configuration/numbers"
    r = await raw.get(path, headers=signed_headers("GET", path, **change))
    assert (r.status_code, r.json()["errorCode"]) == (401, 40108)


@pytest.mark.parametrize(
    "authorization",
    ["Application", "Application ", f"Application {KEY}", f"Application {KEY}:", "Application :c2ln", "Application ::"],
)
async def test_malformed_application_header_is_refused_with_40108(raw: httpx.AsyncClient, authorization: str) -> None:
    path = "/v1/configuration/numbers"
    headers = signed_headers("GET", path) | {"Authorization": authorization}
    r = await raw.get(path, headers=headers)
    assert (r.status_code, r.json()["errorCode"]) == (401, 40108), authorization


async def test_missing_headers(raw: httpx.AsyncClient) -> None:
    path = "/v1/configuration/numbers"
    r = await raw.get(path)
    assert (r.status_code, r.json()["errorCode"]) == (401, 40100)
    headers = signed_headers("GET", path)
    del headers["x-timestamp"]
    r = await raw.get(path, headers=headers)
    assert (r.status_code, r.json()["errorCode"]) == (401, 40101)


async def test_the_skew_window_is_configurable(make_app: Callable[..., Pipeline]) -> None:
    app = make_app(max_skew=30)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        path = "/v1/configuration/numbers"
        r = await c.get(path, headers=signed_headers("GET", path, timestamp="2026-11-27T10:55:20Z"))
        assert r.status_code == 200
        r = await c.get(path, headers=signed_headers("GET", path, timestamp="2026-11-27T10:55:00Z"))
        assert r.status_code == 401


async def test_basic(raw: httpx.AsyncClient) -> None:
    r = await raw.get("/v1/configuration/numbers", auth=httpx.BasicAuth(KEY, SECRET))
    assert r.status_code == 200
    r = await raw.get("/v1/configuration/numbers", headers={"Authorization": "basic " + _b64(f"{KEY}:{SECRET}")})
    assert r.status_code == 200
    for bad in (f"{KEY}:nope", "nobody:" + SECRET, "no-colon", "\xff"):
        r = await raw.get("/v1/configuration/numbers", headers={"Authorization": "Basic " + _b64(bad)})
        assert (r.status_code, r.json()["errorCode"]) == (401, 40108), bad
    r = await raw.get("/v1/configuration/numbers", headers={"Authorization": "Basic !!!"})
    assert r.status_code == 401


async def test_basic_caller_owns_its_assignments(raw: httpx.AsyncClient) -> None:
    r = await raw.post(
        "/v1/configuration/numbers", json={"numbers": ["+46730170101"]}, auth=httpx.BasicAuth(KEY, SECRET)
    )
    assert r.status_code == 204
    numbers = (await raw.get("/v1/configuration/numbers", auth=httpx.BasicAuth(KEY, SECRET))).json()["numbers"]
    assert {"number": "+46730170101", "capability": "voice", "applicationkey": KEY} in numbers


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode()


def test_wire_protocol_vectors() -> None:
    """The SDKs' unit-test vector, verified by the server's authenticator (path without a route)."""
    clock = Clock(SDK_NOW.timestamp())
    auth = Authenticator([Application(SDK_KEY, SDK_SECRET)], clock)
    headers = {
        "authorization": SDK_POST_AUTHORIZATION,
        "x-timestamp": SDK_TIMESTAMP,
        "content-type": "application/json; charset=UTF-8",
    }
    schemes = frozenset({"application", "basic"})
    caller = auth.authenticate(schemes, "POST", (SDK_PATH,), headers, SDK_POST_BODY)
    assert (caller.scheme, caller.key) == ("application", SDK_KEY)
    headers["authorization"] = f"application {SDK_KEY}:{SDK_GET_SIGNATURE}"
    headers["content-type"] = "application/json"
    assert auth.authenticate(schemes, "GET", (SDK_PATH,), headers, b"").key == SDK_KEY
    with pytest.raises(ApiError) as refused:
        auth.authenticate(schemes, "GET", ("/path/other",), headers, b"")
    assert refused.value.code == 40108


def test_only_declared_schemes_are_accepted() -> None:
    auth = Authenticator([Application(KEY, SECRET)], Clock())
    basic = {"authorization": "Basic " + _b64(f"{KEY}:{SECRET}")}
    with pytest.raises(ApiError) as refused:
        auth.authenticate(frozenset({"application"}), "GET", ("/x",), basic, b"")
    assert (refused.value.status, refused.value.code) == (403, 40301)
    assert auth.authenticate(frozenset(), "GET", ("/x",), {}, b"").scheme == "none"


def test_timestamp_formats() -> None:
    assert timestamp_seconds("2026-11-27T10:55:48.734574+00:00") == START + 0.734574
    assert timestamp_seconds("2026-11-27T10:55:48Z") == START
    assert timestamp_seconds("2026-11-27 10:55:48") == START
    assert timestamp_seconds("Fri, 27 Nov 2026 10:55:48 GMT") == START
    huge_year = "Fri, 27 Nov 99999999999999999999 10:55:48 GMT"  # an OverflowError inside the parser
    for bad in ("", "now", "2026-13-01T00:00:00Z", "x" * 100, "2026-11-27T25:00:00Z", huge_year):
        assert timestamp_seconds(bad) is None
    moment = datetime.fromtimestamp(START, timezone.utc) + timedelta(hours=1)
    assert timestamp_seconds(moment.strftime("%Y-%m-%dT%H:%M:%S+0100")) == START


def test_app_option() -> None:
    assert parse_app_option(f"{KEY}:{SECRET}") == Application(KEY, SECRET)
    for bad in ("nokey", ":secret", "key:", "key:not base64!"):
        with pytest.raises(ValueError):
            parse_app_option(bad)
