"""When to retry a request, and how long to wait first.

Two decisions, each a small pure function: ``should_retry_response`` / ``should_retry_exception``
(is another attempt safe and useful?) and ``retry_delay`` (how long to wait before it).
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Callable
from datetime import datetime, timezone

import httpx

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "IDEMPOTENT_METHODS",
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "RETRYABLE_STATUSES",
    "retry_delay",
    "should_retry_exception",
    "should_retry_response",
]

DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5  # seconds, doubled on each retry
MAX_RETRY_DELAY = 8.0  # cap of the exponential backoff
MAX_RETRY_AFTER = 60.0  # cap of a server-requested wait
_MIN_JITTER = 0.75  # backoff waits between 75% and 100% of the nominal delay

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Methods that may be repeated without changing the outcome. POST (callouts) and PATCH
# (call control) are not: a retried callout would ring the phone twice.
IDEMPOTENT_METHODS = frozenset({"GET", "DELETE", "HEAD", "OPTIONS", "PUT"})

# The request never reached the server: safe to repeat for every method.
_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The server may have acted on the request: repeat only idempotent methods.
_MAYBE_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


def _is_idempotent(method: str) -> bool:
    return method.upper() in IDEMPOTENT_METHODS


def should_retry_response(method: str, response: httpx.Response) -> bool:
    """True for a retryable status (429, 502-504) answering an idempotent method."""
    return _is_idempotent(method) and response.status_code in RETRYABLE_STATUSES


def should_retry_exception(method: str, exc: Exception) -> bool:
    """True when ``exc`` is a transport failure after which another attempt is safe."""
    if isinstance(exc, _NOT_SENT_ERRORS):
        return True
    return _is_idempotent(method) and isinstance(exc, _MAYBE_SENT_ERRORS)


def retry_delay(
    attempt: int,
    response: httpx.Response | None,
    *,
    rand: Callable[[], float] = random.random,
    now: Callable[[], datetime] | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    A server's ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP-date) wins, capped at
    ``MAX_RETRY_AFTER``; otherwise exponential backoff from ``INITIAL_RETRY_DELAY`` capped at
    ``MAX_RETRY_DELAY``, with jitter so that clients failing together do not retry together.
    """
    if response is not None:
        requested = _retry_after(response.headers, now)
        if requested is not None:
            return min(requested, MAX_RETRY_AFTER)
    nominal = min(INITIAL_RETRY_DELAY * 2.0 ** max(attempt, 0), MAX_RETRY_DELAY)
    return nominal * (1.0 - (1.0 - _MIN_JITTER) * rand())


def _retry_after(headers: httpx.Headers, now: Callable[[], datetime] | None) -> float | None:
    """The server-requested wait in seconds, or None when absent or unreadable."""
    millis = _parse_float(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0

    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _parse_float(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown local zone
        when = when.replace(tzinfo=timezone.utc)
    current = now() if now is not None else datetime.now(timezone.utc)
    return max((when - current).total_seconds(), 0.0)


def _parse_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number
