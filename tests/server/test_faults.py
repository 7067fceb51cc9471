"""Fault injection, seen from the generated client: each kind of fault reaches it as it should.

The recorded server runs over real HTTP (uvicorn on loopback) with test controls on; faults are
armed from Python (``app.faults``) and over HTTP (``/_sinch/faults``), and the client's typed
errors and retries are what is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sinch_calling import APIConnectionError, APITimeoutError, RateLimitError, ServerError, SinchClient
from sinch_calling_server import create_app

from tests.support import KEY, SECRET, Clock, serve

DESTINATION = {"type": "number", "endpoint": "+46700000001"}
AUTH = httpx.BasicAuth(KEY, SECRET)


@pytest.fixture
def server() -> Iterator[tuple[Any, str, Clock]]:
    clock = Clock()
    app = create_app(applications={KEY: SECRET}, clock=clock, test_controls=True, max_skew=10**9)
    with serve(app) as url:
        yield app, url, clock


def client(url: str, sent: list[httpx.Request], **options: Any) -> SinchClient:
    http = httpx.Client(event_hooks={"request": [sent.append]})
    return SinchClient(
        application_key=KEY, application_secret=SECRET, base_url=url + "/v1", httpx_client=http, **options
    )


def test_a_status_with_retry_after_is_retried_then_succeeds(server: tuple[Any, str, Clock]) -> None:
    app, url, _ = server
    sent: list[httpx.Request] = []
    with client(url, sent, max_retries=2) as c:
        call_id = c.callouts.tts(destination=DESTINATION, text="Hi").call_id
        app.faults.add("getCallResult", status=503, retry_after=0, times=2)
        sent.clear()
        assert c.calls.get(call_id).call_id == call_id
        assert len(sent) == 3  # two injected 503s, retried, then the real answer


def test_a_status_that_is_not_retried_raises_its_typed_error(server: tuple[Any, str, Clock]) -> None:
    _, url, _ = server
    sent: list[httpx.Request] = []
    with client(url, sent, max_retries=3) as c:
        armed = httpx.post(
            f"{url}/_sinch/faults",
            json={"operation": "callout", "status": 429, "errorCode": 42901, "retryAfter": 30},
            auth=AUTH,
        )
        assert armed.status_code == 200 and armed.json()["requests"][0]["errorCode"] == 42901
        with pytest.raises(RateLimitError) as caught:
            c.callouts.tts(destination=DESTINATION, text="Hi")
        assert (caught.value.status_code, caught.value.error_code) == (429, 42901)
        assert caught.value.response.headers["retry-after"] == "30"
        assert len(sent) == 1  # a POST callout is never retried on a status: it may be ringing
        assert c.callouts.tts(destination=DESTINATION, text="Hi").call_id  # the fault was used up


def test_latency_becomes_a_timeout(server: tuple[Any, str, Clock]) -> None:
    app, url, _ = server
    with client(url, [], max_retries=0, timeout=0.3) as c:
        app.faults.add("getNumbers", latency=1.0)
        with pytest.raises(APITimeoutError):
            c.numbers.list()
        assert c.numbers.list().numbers  # no fault left


def test_a_dropped_connection_is_retried_for_a_get_and_raised_when_it_persists(server: tuple[Any, str, Clock]) -> None:
    app, url, _ = server
    sent: list[httpx.Request] = []
    with client(url, sent, max_retries=1) as c:
        app.faults.add("getNumbers", drop=True)
        assert c.numbers.list().numbers
        assert len(sent) == 2
        app.faults.add("getNumbers", drop=True, times=2)
        with pytest.raises(APIConnectionError):
            c.numbers.list()


def test_a_server_error_for_every_operation(server: tuple[Any, str, Clock]) -> None:
    app, url, _ = server
    with client(url, [], max_retries=0) as c:
        app.faults.add("*", status=500, times=2)
        with pytest.raises(ServerError) as caught:
            c.numbers.list()
        assert caught.value.error_code == 50000 and caught.value.reference
        with pytest.raises(ServerError):
            c.applications.callbacks.get()
        assert c.numbers.list().numbers


@pytest.mark.parametrize("kind", ["timeout", "error"])
def test_failed_deliveries_go_to_the_fallback_url(server: tuple[Any, str, Clock], kind: str) -> None:
    _, url, clock = server
    received: dict[str, int] = {"primary": 0, "fallback": 0}

    def backend(name: str) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await receive()
            received[name] += 1
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        return app

    with serve(backend("primary")) as primary, serve(backend("fallback")) as fallback, client(url, []) as c:
        c.applications.callbacks.update(url={"primary": primary + "/cb", "fallback": fallback + "/cb"})
        httpx.post(f"{url}/_sinch/faults", json={"deliveries": kind}, auth=AUTH).raise_for_status()
        c.callouts.tts(destination=DESTINATION, text="Hi", enable_ace=True)
        clock.advance(3)
        records = httpx.post(f"{url}/_sinch/advance", auth=AUTH).json()["deliveries"]
        assert [(r["target"], r["ok"]) for r in records] == [("primary", False), ("fallback", True)]
        assert received == {"primary": 0, "fallback": 1}  # the primary's answer was the injected fault


def test_the_controls_need_credentials_and_valid_faults(server: tuple[Any, str, Clock]) -> None:
    _, url, _ = server
    assert httpx.get(f"{url}/_sinch/faults").status_code == 401
    assert httpx.get(f"{url}/_sinch/faults", auth=httpx.BasicAuth(KEY, "wrong")).status_code == 401
    for bad in (
        {"operation": "nope", "status": 500},
        {"operation": "callout"},
        {"operation": "callout", "status": 200},
        {"operation": "callout", "latency": 1000},
        {"deliveries": "sometimes"},
        {"operation": "callout", "x": 1},
    ):
        answer = httpx.post(f"{url}/_sinch/faults", json=bad, auth=AUTH)
        assert answer.status_code == 400 and answer.json()["errorCode"] == 40003, bad
    assert httpx.post(
        f"{url}/_sinch/faults", json={"operation": "callout", "status": 500, "times": 3}, auth=AUTH
    ).json()
    assert httpx.delete(f"{url}/_sinch/faults", auth=AUTH).json() == {"requests": [], "deliveries": []}


def test_without_test_controls_there_are_no_faults() -> None:
    app = create_app(applications={KEY: SECRET}, clock=Clock())
    assert app.faults is None
    with serve(app) as url:
        assert httpx.post(f"{url}/_sinch/faults", json={}, auth=AUTH).status_code == 404
