from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest
from sinch_calling._runtime.retries import (
    DEFAULT_MAX_RETRIES,
    IDEMPOTENT_METHODS,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRYABLE_STATUSES,
    retry_delay,
    should_retry_exception,
    should_retry_response,
)

_NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
_REQUEST = httpx.Request("GET", "https://h/x")


def _response(status: int = 503, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers={name.replace("_", "-"): value for name, value in headers.items()})


def test_constants() -> None:
    assert (DEFAULT_MAX_RETRIES, INITIAL_RETRY_DELAY, MAX_RETRY_DELAY, MAX_RETRY_AFTER) == (2, 0.5, 8.0, 60.0)
    assert {429, 502, 503, 504} == RETRYABLE_STATUSES
    assert {"GET", "DELETE", "HEAD", "OPTIONS", "PUT"} == IDEMPOTENT_METHODS


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("GET", 503, True),
        ("GET", 502, True),
        ("GET", 504, True),
        ("GET", 429, True),
        ("get", 503, True),
        ("DELETE", 503, True),
        ("PUT", 429, True),
        ("HEAD", 502, True),
        ("OPTIONS", 504, True),
        ("POST", 503, False),  # a retried callout could ring twice
        ("POST", 429, False),
        ("PATCH", 503, False),
        ("GET", 500, False),
        ("GET", 501, False),
        ("GET", 400, False),
        ("GET", 404, False),
        ("GET", 200, False),
    ],
)
def test_should_retry_response(method: str, status: int, expected: bool) -> None:
    assert should_retry_response(method, _response(status)) is expected


@pytest.mark.parametrize(
    ("method", "exc", "expected"),
    [
        ("POST", httpx.ConnectError("refused"), True),  # never reached the server
        ("PATCH", httpx.ConnectTimeout("slow"), True),
        ("POST", httpx.PoolTimeout("pool"), True),
        ("GET", httpx.ConnectError("refused"), True),
        ("GET", httpx.ReadTimeout("slow"), True),
        ("DELETE", httpx.WriteTimeout("slow"), True),
        ("GET", httpx.RemoteProtocolError("bad"), True),
        ("PUT", httpx.ReadError("reset"), True),
        ("POST", httpx.ReadTimeout("slow"), False),  # the server may have acted on it
        ("POST", httpx.WriteTimeout("slow"), False),
        ("PATCH", httpx.RemoteProtocolError("bad"), False),
        ("POST", httpx.ReadError("reset"), False),
        ("GET", httpx.UnsupportedProtocol("ftp"), False),
        ("GET", httpx.ProxyError("proxy"), False),
        ("GET", ValueError("not transport"), False),
    ],
)
def test_should_retry_exception(method: str, exc: Exception, expected: bool) -> None:
    assert should_retry_exception(method, exc) is expected


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (0, 0.0, 0.5),
        (1, 0.0, 1.0),
        (2, 0.0, 2.0),
        (3, 0.0, 4.0),
        (4, 0.0, 8.0),
        (5, 0.0, 8.0),
        (30, 0.0, 8.0),
        (0, 1.0, 0.375),  # jitter goes down to 75%
        (2, 0.5, 1.75),
        (10, 1.0, 6.0),
        (-1, 0.0, 0.5),
    ],
)
def test_backoff(attempt: int, rand: float, expected: float) -> None:
    assert retry_delay(attempt, None, rand=lambda: rand) == pytest.approx(expected)
    assert retry_delay(attempt, _response(503), rand=lambda: rand) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry_after": "3"}, 3.0),
        ({"retry_after": "0"}, 0.0),
        ({"retry_after": "1.5"}, 1.5),
        ({"retry_after": "120"}, MAX_RETRY_AFTER),
        ({"retry_after_ms": "1500"}, 1.5),
        ({"retry_after_ms": "250", "retry_after": "9"}, 0.25),  # the precise one wins
        ({"retry_after_ms": "999999"}, MAX_RETRY_AFTER),
        ({"retry_after": "Wed, 01 May 2024 12:00:10 GMT"}, 10.0),
        ({"retry_after": "Wed, 01 May 2024 12:00:10 -0000"}, 10.0),
        ({"retry_after": "Wed, 01 May 2024 14:00:10 +0200"}, 10.0),
        ({"retry_after": "Wed, 01 May 2024 13:00:00 GMT"}, MAX_RETRY_AFTER),
        ({"retry_after": "Wed, 01 May 2024 11:59:00 GMT"}, 0.0),  # already past
        ({"retry_after": "soon"}, None),
        ({"retry_after": "-5"}, None),
        ({"retry_after": "nan"}, None),
        ({"retry_after": "inf"}, None),
        ({"retry_after_ms": "abc", "retry_after": "2"}, 2.0),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    delay = retry_delay(1, _response(429, **headers), rand=lambda: 0.0, now=lambda: _NOW)
    assert delay == pytest.approx(1.0 if expected is None else expected)  # None: falls back to backoff


def test_retry_after_date_uses_the_real_clock_by_default() -> None:
    delay = retry_delay(0, _response(503, retry_after="Wed, 01 Jan 2020 00:00:00 GMT"))
    assert delay == 0.0


def test_default_jitter_stays_in_range() -> None:
    for _ in range(200):
        assert 0.375 <= retry_delay(0, None) <= 0.5
