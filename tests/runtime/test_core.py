from __future__ import annotations

import asyncio
import logging
import os
import platform
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timezone

import httpx
import pytest
from sinch_calling._runtime.core import asend, path_param, raise_for_status, send, user_agent
from sinch_calling._runtime.exceptions import APIConnectionError, APITimeoutError, NotFoundError, ServerError
from sinch_calling._runtime.retries import DEFAULT_MAX_RETRIES
from sinch_calling._runtime.signing import ApplicationAuth, decode_secret, verify_signature

from tests.support import Clock

KEY = "my-key-id"
SECRET = "bXkta2V5LXNlY3JldA=="
BASE_URL = "https://calling.api.sinch.com/calling/v1"

# What a scripted server does on one attempt: answer with a status (and headers), or fail.
Outcome = int | tuple[int, dict[str, str]] | Callable[[httpx.Request], Exception]


class ScriptedServer:
    """A MockTransport handler that plays ``outcomes`` in order (repeating the last one)."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[httpx.Request] = []
        self.sent_headers: list[dict[str, str]] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        # Copy what is on the wire now: the same Request object is re-signed on each attempt.
        self.sent_headers.append(dict(request.headers))
        outcome = self.outcomes[min(len(self.requests), len(self.outcomes)) - 1]
        if callable(outcome):
            raise outcome(request)
        status, headers = outcome if isinstance(outcome, tuple) else (outcome, {})
        return httpx.Response(status, headers=headers, json={"errorCode": status * 100, "message": "scripted"})

    @property
    def attempts(self) -> int:
        return len(self.requests)


# Every signature gets its own timestamp: each reading is a second after the previous one.
TICKS_FROM = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()


def _ticking() -> Callable[[], datetime]:
    return Clock(TICKS_FROM, tick=1).datetime


def _client(server: ScriptedServer, base_url: str = BASE_URL, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        auth=ApplicationAuth(KEY, SECRET, clock=_ticking()),
        transport=server.transport,
        timeout=timeout,
    )


def _async_client(server: ScriptedServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=BASE_URL, auth=ApplicationAuth(KEY, SECRET, clock=_ticking()), transport=server.transport
    )


def _connect_error(request: httpx.Request) -> Exception:
    return httpx.ConnectError("connection refused", request=request)


def _read_timeout(request: httpx.Request) -> Exception:
    return httpx.ReadTimeout("timed out", request=request)


class Sleeps(list[float]):
    """Fake ``time.sleep`` / ``asyncio.sleep`` that records the delays instead of waiting."""

    def __call__(self, delay: float) -> None:
        self.append(delay)

    async def async_sleep(self, delay: float) -> None:
        self.append(delay)


def _post(client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
    return client.build_request("POST", "/callouts", content=b'{"method":"ttsCallout"}', headers=_JSON)


_JSON = {"Content-Type": "application/json"}


# --- user agent ------------------------------------------------------------------------


def test_user_agent() -> None:
    assert user_agent("1.2.3") == f"sinch-calling/1.2.3 python/{platform.python_version()} httpx/{httpx.__version__}"
    assert re.fullmatch(r"sinch-calling/\S+ python/\d+\.\d+\.\d+\S* httpx/\d+\.\d+\.\d+", user_agent("1.2.3"))


# --- retries (sync) ----------------------------------------------------------------------


def test_post_answered_503_is_sent_once() -> None:
    server, sleeps = ScriptedServer(503), Sleeps()
    with _client(server) as client:
        response = send(client, _post(client), max_retries=DEFAULT_MAX_RETRIES, sleep=sleeps)
    assert (server.attempts, response.status_code, sleeps) == (1, 503, [])


def test_get_answered_503_is_sent_three_times_by_default() -> None:
    server, sleeps = ScriptedServer(503), Sleeps()
    with _client(server) as client:
        response = send(
            client, client.build_request("GET", "/calls/id/abc"), max_retries=DEFAULT_MAX_RETRIES, sleep=sleeps
        )
    assert server.attempts == 3
    assert len(sleeps) == 2 and 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0
    assert response.status_code == 503
    with pytest.raises(ServerError) as info:
        raise_for_status(response)
    assert info.value.error_code == 50300


def test_get_recovers_after_a_retry() -> None:
    server = ScriptedServer(502, 200)
    with _client(server) as client:
        response = send(client, client.build_request("GET", "/calls/id/abc"), max_retries=2, sleep=Sleeps())
    assert (server.attempts, response.status_code) == (2, 200)
    assert raise_for_status(response) is response


def test_non_retryable_status_is_returned_at_once() -> None:
    server = ScriptedServer(404)
    with _client(server) as client:
        response = send(client, client.build_request("GET", "/calls/id/abc"), max_retries=2, sleep=Sleeps())
    assert server.attempts == 1
    with pytest.raises(NotFoundError):
        raise_for_status(response)


def test_post_with_connect_error_is_retried_with_the_same_body() -> None:
    server = ScriptedServer(_connect_error, 200)
    with _client(server) as client:
        response = send(client, _post(client), max_retries=2, sleep=Sleeps())
    assert (server.attempts, response.status_code) == (2, 200)
    for request, headers in zip(server.requests, server.sent_headers, strict=True):
        assert verify_signature(
            method="POST",
            path="/calling/v1/callouts",
            headers=headers,
            body=request.content,
            key=KEY,
            secret=decode_secret(SECRET),
        )


def test_post_read_timeout_is_not_retried() -> None:
    server = ScriptedServer(_read_timeout)
    with _client(server) as client:
        request = _post(client)
        with pytest.raises(APITimeoutError) as info:
            send(client, request, max_retries=2, sleep=Sleeps())
    assert server.attempts == 1
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert info.value.request is request


def test_get_read_timeout_is_retried_then_raised() -> None:
    server, sleeps = ScriptedServer(_read_timeout), Sleeps()
    with _client(server) as client, pytest.raises(APITimeoutError):
        send(client, client.build_request("GET", "/calls/id/abc"), max_retries=2, sleep=sleeps)
    assert (server.attempts, len(sleeps)) == (3, 2)


def test_exhausted_connect_errors_raise_connection_error() -> None:
    server = ScriptedServer(_connect_error)
    with _client(server) as client, pytest.raises(APIConnectionError) as info:
        send(client, client.build_request("DELETE", "/conferences/id/c1"), max_retries=1, sleep=Sleeps())
    assert server.attempts == 2
    assert type(info.value) is APIConnectionError
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert "ConnectError" in str(info.value)


def test_retry_after_is_honoured() -> None:
    server, sleeps = ScriptedServer((429, {"Retry-After": "7"}), (503, {"retry-after-ms": "1500"}), 200), Sleeps()
    with _client(server) as client:
        response = send(client, client.build_request("GET", "/calls/id/abc"), max_retries=2, sleep=sleeps)
    assert response.status_code == 200
    assert sleeps == [7.0, 1.5]


def test_a_retry_after_beyond_the_deadline_is_not_waited_for() -> None:
    # The timeout bounds the whole call: a 60 s Retry-After on a 5 s budget returns the 429 now
    # (one GET used to sleep up to two minutes).
    server, sleeps = ScriptedServer((429, {"Retry-After": "60"}), 200), Sleeps()
    with _client(server, timeout=5.0) as client:
        response = send(client, client.build_request("GET", "/calls/id/abc"), max_retries=2, sleep=sleeps)
    assert (response.status_code, sleeps, server.attempts) == (429, [], 1)


def _trickle(request: httpx.Request) -> httpx.Response:
    def body() -> Iterator[bytes]:
        for _ in range(40):  # 4 s in all, a byte every 0.1 s: no single read ever waits 1 s
            time.sleep(0.1)
            yield b" "

    return httpx.Response(200, content=body())


def test_a_trickled_answer_ends_at_the_deadline_not_per_read() -> None:
    transport = httpx.MockTransport(_trickle)
    with httpx.Client(base_url=BASE_URL, transport=transport, timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            send(client, client.build_request("GET", "/calls/id/abc"), max_retries=2, sleep=Sleeps())
        assert time.monotonic() - started < 2.0  # it took 8 s with timeout=1 before


@pytest.mark.asyncio
async def test_a_trickled_answer_ends_at_the_deadline_async() -> None:
    async def trickle(request: httpx.Request) -> httpx.Response:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(40):
                await asyncio.sleep(0.1)
                yield b" "

        return httpx.Response(200, content=body())

    async with httpx.AsyncClient(base_url=BASE_URL, transport=httpx.MockTransport(trickle), timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await asend(client, client.build_request("GET", "/x"), max_retries=2, sleep=Sleeps().async_sleep)
        assert time.monotonic() - started < 2.0


def test_an_empty_path_parameter_is_refused_before_sending() -> None:
    # kick_conference_participant(conference_id="room", call_id="") sent DELETE /conferences/id/room/,
    # which kicked everyone (adversarial pass, issue 16 item 1).
    with pytest.raises(ValueError, match="call_id"):
        path_param("", "call_id")
    with pytest.raises(ValueError):
        path_param(None, "call_id")
    assert path_param("0", "call_id") == "0"


def test_max_retries_zero_sends_once() -> None:
    server, sleeps = ScriptedServer(503), Sleeps()
    with _client(server) as client:
        assert send(client, client.build_request("GET", "/x"), max_retries=0, sleep=sleeps).status_code == 503
    failing = ScriptedServer(_connect_error)
    with _client(failing) as client, pytest.raises(APIConnectionError):
        send(client, client.build_request("GET", "/x"), max_retries=0, sleep=sleeps)
    assert (server.attempts, failing.attempts, sleeps) == (1, 1, [])


def test_each_attempt_is_signed_with_a_fresh_timestamp() -> None:
    server = ScriptedServer(503, 503, 200)
    with _client(server) as client:
        send(client, client.build_request("GET", "/calls/id/abc"), max_retries=2, sleep=Sleeps())
    timestamps = [headers["x-timestamp"] for headers in server.sent_headers]
    assert timestamps == ["2024-05-01T12:00:01.000Z", "2024-05-01T12:00:02.000Z", "2024-05-01T12:00:03.000Z"]
    assert len({headers["authorization"] for headers in server.sent_headers}) == 3
    for headers in server.sent_headers:
        assert verify_signature(
            method="GET",
            path="/calling/v1/calls/id/abc",
            headers=headers,
            body=b"",
            key=KEY,
            secret=decode_secret(SECRET),
        )


def test_other_exceptions_pass_through_unwrapped() -> None:
    server = ScriptedServer(lambda request: RuntimeError("bug"))
    with _client(server) as client, pytest.raises(RuntimeError, match="bug"):
        send(client, client.build_request("GET", "/x"), max_retries=2, sleep=Sleeps())
    assert server.attempts == 1


# --- logging -----------------------------------------------------------------------------


def test_debug_log_per_attempt_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sinch_calling")
    server = ScriptedServer(503, _connect_error, 200)
    with _client(server, base_url="https://user:pw-in-url@calling.api.sinch.com/calling/v1") as client:
        send(client, client.build_request("GET", "/calls/id/abc"), max_retries=2, sleep=Sleeps())

    lines = [record.getMessage() for record in caplog.records if record.name == "sinch_calling"]
    attempts = [line for line in lines if "(attempt" in line]
    assert len(attempts) == 3
    assert re.fullmatch(
        r"GET https://calling\.api\.sinch\.com/calling/v1/calls/id/abc -> 503 \(attempt 1, \d+ ms\)", attempts[0]
    )
    assert "-> ConnectError (attempt 2," in attempts[1]
    assert "-> 200 (attempt 3," in attempts[2]
    assert sum("retrying GET" in line for line in lines) == 2

    signatures = [headers["authorization"].split(":")[-1] for headers in server.sent_headers]
    for secret in [SECRET, "my-key-secret", "pw-in-url", *signatures]:
        assert secret not in caplog.text
    assert all(record.levelno == logging.DEBUG for record in caplog.records if record.name == "sinch_calling")


# --- async parity --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_post_answered_503_is_sent_once() -> None:
    server, sleeps = ScriptedServer(503), Sleeps()
    async with _async_client(server) as client:
        response = await asend(client, _post(client), max_retries=DEFAULT_MAX_RETRIES, sleep=sleeps.async_sleep)
    assert (server.attempts, response.status_code, sleeps) == (1, 503, [])


@pytest.mark.asyncio
async def test_async_get_answered_503_is_sent_three_times() -> None:
    server, sleeps = ScriptedServer(503), Sleeps()
    async with _async_client(server) as client:
        request = client.build_request("GET", "/calls/id/abc")
        response = await asend(client, request, max_retries=DEFAULT_MAX_RETRIES, sleep=sleeps.async_sleep)
    assert (server.attempts, len(sleeps), response.status_code) == (3, 2, 503)


@pytest.mark.asyncio
async def test_async_post_with_connect_error_is_retried_and_signed() -> None:
    server = ScriptedServer(_connect_error, 201)
    async with _async_client(server) as client:
        response = await asend(client, _post(client), max_retries=2, sleep=Sleeps().async_sleep)
    assert (server.attempts, response.status_code) == (2, 201)
    first, second = server.sent_headers
    assert first["x-timestamp"] != second["x-timestamp"]
    for headers in server.sent_headers:
        assert verify_signature(
            method="POST",
            path="/calling/v1/callouts",
            headers=headers,
            body=b'{"method":"ttsCallout"}',
            key=KEY,
            secret=decode_secret(SECRET),
        )


@pytest.mark.asyncio
async def test_async_timeout_and_connection_errors() -> None:
    server = ScriptedServer(_read_timeout)
    async with _async_client(server) as client:
        with pytest.raises(APITimeoutError):
            await asend(client, _post(client), max_retries=2, sleep=Sleeps().async_sleep)
    assert server.attempts == 1

    server = ScriptedServer(_connect_error)
    async with _async_client(server) as client:
        with pytest.raises(APIConnectionError) as info:
            await asend(client, client.build_request("GET", "/x"), max_retries=1, sleep=Sleeps().async_sleep)
    assert server.attempts == 2 and type(info.value) is APIConnectionError


@pytest.mark.asyncio
async def test_async_retry_after_and_max_retries_zero() -> None:
    server, sleeps = ScriptedServer((429, {"Retry-After": "3"}), 200), Sleeps()
    async with _async_client(server) as client:
        response = await asend(client, client.build_request("GET", "/x"), max_retries=2, sleep=sleeps.async_sleep)
    assert (response.status_code, sleeps) == (200, [3.0])

    server = ScriptedServer(503)
    async with _async_client(server) as client:
        response = await asend(client, client.build_request("GET", "/x"), max_retries=0, sleep=sleeps.async_sleep)
    assert (server.attempts, response.status_code) == (1, 503)


@pytest.mark.parametrize(
    ("value", "segment"),
    [("abc", "abc"), ("a/b", "a%2Fb"), (".", "%2E"), ("..", "%2E%2E"), ("...", "..."), ("a b", "a%20b"), (7, "7")],
)
def test_path_param_escapes_separators_and_dot_segments(value: object, segment: str) -> None:
    assert path_param(value) == segment
    # and httpx keeps it: a dot segment would otherwise be resolved away
    assert httpx.Request("GET", f"https://h/v1/conferences/id/{segment}").url.raw_path.endswith(segment.encode())


def test_a_log_level_from_the_environment_prints_the_client_log() -> None:
    import subprocess
    import sys

    code = (
        "import httpx\n"
        "from sinch_calling._runtime.core import send\n"
        "client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204)))\n"
        "send(client, client.build_request('GET', 'https://user:pw@h/x'), max_retries=0)\n"
    )
    env = {**os.environ, "SINCH_CALLING_LOG": "debug"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "GET https://h/x -> 204" in done.stderr, done.stderr
    assert "pw" not in done.stderr
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert quiet.stderr == ""
