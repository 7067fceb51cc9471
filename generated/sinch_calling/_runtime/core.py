"""The request core shared by generated endpoint code: send with retries, map failures.

``send`` / ``asend`` return the final response whatever its status, so callers can read
headers or stream as they need; ``raise_for_status`` turns a non-2xx into the matching
``APIError``. The clients send through ``send``/``asend`` (``client.request(HOST, ...)`` in
generated code), and each endpoint's ``_parse_response`` starts with ``raise_for_status(response)``.

Retrying re-sends the same ``httpx.Request``; the client's auth runs again on every
attempt, so each attempt carries a fresh ``x-timestamp`` and signature. Requests must
therefore have a replayable body (bytes, as generated code builds them).

The timeout bounds the whole call: the request's read timeout (the client's ``timeout``) is a
deadline for every attempt, every body read (a server that trickles its answer byte by byte
still ends in ``APITimeoutError``) and every wait between attempts. A retry whose wait would
pass the deadline (a long ``Retry-After``, say) is not made: the answer it would have retried is
returned (so a 429 raises ``RateLimitError``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import httpx

from .exceptions import APIConnectionError, APITimeoutError, error_from_response
from .retries import retry_delay, should_retry_exception, should_retry_response

__all__ = ["asend", "logger", "path_param", "raise_for_status", "send", "user_agent"]

logger = logging.getLogger("sinch_calling")
LOG_ENV = "SINCH_CALLING_LOG"


def _log_from_environment() -> None:
    """``SINCH_CALLING_LOG=debug`` (or ``info``) prints the client's log to stderr without code.

    What is logged never carries credentials (method, URL without user info, status, timing).
    """
    level = os.environ.get(LOG_ENV, "").strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR") or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


_log_from_environment()


def user_agent(version: str) -> str:
    """``sinch-calling/<version> python/<x.y.z> httpx/<x.y.z>``."""
    return f"sinch-calling/{version} python/{platform.python_version()} httpx/{httpx.__version__}"


def path_param(value: object, name: str = "path parameter") -> str:
    """Percent-encode one path segment, dot segments included; an empty one is refused.

    ``quote`` leaves ``.`` and ``..`` alone, and URL normalisation would then resolve them away
    (``/conferences/id/..`` becoming ``/conferences``): a conference may well be called ``..``.
    An empty value would drop the segment and address another resource (an empty ``call_id``
    turned "kick one participant" into "kick everyone"), so it raises ``ValueError``: every
    path parameter of the spec has ``minLength: 1``.
    """
    if value is None or str(value) == "":
        raise ValueError(f"Expected a non-empty value for `{name}` but received {value!r}")
    segment = quote(str(value), safe="")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def raise_for_status(response: httpx.Response) -> httpx.Response:
    """Return ``response`` if it is a 2xx; otherwise raise the matching ``APIError``."""
    if not response.is_success:
        raise error_from_response(response)
    return response


def send(
    client: httpx.Client,
    request: httpx.Request,
    *,
    max_retries: int,
    auth: httpx.Auth | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> httpx.Response:
    """Send ``request``, retrying up to ``max_retries`` times when that is safe.

    ``auth`` signs each attempt anew (a fresh ``x-timestamp`` every time); by default the
    client's own auth is used. Returns the final response (any status). Raises ``APITimeoutError`` or
    ``APIConnectionError`` when the last attempt got no response.
    """
    attempt = 0
    deadline = _deadline(request)
    while True:
        started = time.monotonic()
        try:
            _bound_attempt(request, deadline)
            response = client.send(request, auth=_auth_or_default(auth), stream=True)
            _read_before(response, deadline)
        except httpx.TransportError as exc:
            _log_failure(request, exc, attempt, started)
            delay = retry_delay(attempt, None)
            if attempt < max_retries and should_retry_exception(request.method, exc) and _fits(delay, deadline):
                _log_retry(request, attempt, delay)
                sleep(delay)
                attempt += 1
                continue
            raise _connection_error(request, exc) from exc

        _log_response(request, response, attempt, started)
        delay = retry_delay(attempt, response)
        if attempt < max_retries and should_retry_response(request.method, response) and _fits(delay, deadline):
            response.close()  # release the connection before waiting
            _log_retry(request, attempt, delay)
            sleep(delay)
            attempt += 1
            continue
        return response


async def asend(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    max_retries: int,
    auth: httpx.Auth | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> httpx.Response:
    """Async twin of ``send``; same retry decisions and errors."""
    attempt = 0
    deadline = _deadline(request)
    while True:
        started = time.monotonic()
        try:
            _bound_attempt(request, deadline)
            response = await _asend_before(client, request, auth, deadline)
        except httpx.TransportError as exc:
            _log_failure(request, exc, attempt, started)
            delay = retry_delay(attempt, None)
            if attempt < max_retries and should_retry_exception(request.method, exc) and _fits(delay, deadline):
                _log_retry(request, attempt, delay)
                await sleep(delay)
                attempt += 1
                continue
            raise _connection_error(request, exc) from exc

        _log_response(request, response, attempt, started)
        delay = retry_delay(attempt, response)
        if attempt < max_retries and should_retry_response(request.method, response) and _fits(delay, deadline):
            await response.aclose()
            _log_retry(request, attempt, delay)
            await sleep(delay)
            attempt += 1
            continue
        return response


def _deadline(request: httpx.Request) -> float | None:
    """When the whole call must be over (monotonic seconds): now plus the read timeout, if any."""
    budget = (request.extensions.get("timeout") or {}).get("read")
    return time.monotonic() + float(budget) if budget is not None else None


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def _fits(delay: float, deadline: float | None) -> bool:
    """Whether waiting ``delay`` seconds still leaves time for another attempt."""
    left = _remaining(deadline)
    return left is None or delay < left


def _bound_attempt(request: httpx.Request, deadline: float | None) -> None:
    """No single wait of this attempt (connect, write, read, pool) may pass the deadline."""
    left = _remaining(deadline)
    if left is None:
        return
    if left <= 0:
        raise httpx.ReadTimeout("the call's deadline passed", request=request)
    timeouts = dict(request.extensions.get("timeout") or {})
    request.extensions["timeout"] = {k: left if v is None else min(float(v), left) for k, v in timeouts.items()}


def _read_before(response: httpx.Response, deadline: float | None) -> None:
    """Read the body chunk by chunk, giving up at the deadline (a trickle resets no clock)."""
    chunks = []
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if deadline is not None and time.monotonic() > deadline:
                raise httpx.ReadTimeout(
                    "the answer did not arrive before the call's deadline", request=response.request
                )
    except BaseException:
        response.close()
        raise
    response._content = b"".join(chunks)  # what Response.read() stores; the stream is consumed
    response.close()


async def _asend_before(
    client: httpx.AsyncClient, request: httpx.Request, auth: httpx.Auth | None, deadline: float | None
) -> httpx.Response:
    left = _remaining(deadline)
    try:
        return await asyncio.wait_for(client.send(request, auth=_auth_or_default(auth)), left)
    except asyncio.TimeoutError:  # the builtin TimeoutError from 3.11 on
        raise httpx.ReadTimeout("the answer did not arrive before the call's deadline", request=request) from None


def _auth_or_default(auth: httpx.Auth | None) -> httpx.Auth | httpx._client.UseClientDefault:
    # None means "the client's own auth", so a caller-supplied httpx client is still signed per request.
    return httpx.USE_CLIENT_DEFAULT if auth is None else auth


def _connection_error(request: httpx.Request, exc: httpx.TransportError) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out: {type(exc).__name__}", request=request)
    return APIConnectionError(f"Connection error: {type(exc).__name__}: {exc}", request=request)


# Logging: method, URL without user info, status, attempt and timing. Never headers.


def _loggable_url(request: httpx.Request) -> str:
    url = request.url
    if url.userinfo:
        url = url.copy_with(username=None, password=None)
    return str(url)


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def _log_response(request: httpx.Request, response: httpx.Response, attempt: int, started: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %d (attempt %d, %.0f ms)",
            request.method,
            _loggable_url(request),
            response.status_code,
            attempt + 1,
            _elapsed_ms(started),
        )


def _log_failure(request: httpx.Request, exc: Exception, attempt: int, started: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %s (attempt %d, %.0f ms)",
            request.method,
            _loggable_url(request),
            type(exc).__name__,
            attempt + 1,
            _elapsed_ms(started),
        )


def _log_retry(request: httpx.Request, attempt: int, delay: float) -> None:
    logger.debug("retrying %s %s in %.2f s (retry %d)", request.method, _loggable_url(request), delay, attempt + 1)
