"""Fault injection: make chosen requests fail the ways Sinch and networks fail.

With test controls on, a test (or a backend in another language, over HTTP) can make the next N
requests to an operation

- answer a chosen status with a Sinch error body (``errorCode``, ``message``, ``reference``) and,
  for 429/503, a ``Retry-After``;
- wait a while before being handled (latency);
- lose their connection: the answer starts and is cut short, as a dropped TCP connection looks;

and make the next N callback deliveries to the app time out or fail (the server then tries the
fallback URL, as Sinch does).

From Python: ``app.faults.add("getCallResult", status=503, retry_after=1, times=2)``. Over HTTP,
with the application's credentials: ``POST /_sinch/faults`` with
``{"operation": "getCallResult", "status": 503, "errorCode": 50300, "retryAfter": 1, "times": 2}``
(or ``{"deliveries": "timeout", "times": 1}``), ``GET /_sinch/faults`` lists what is armed,
``DELETE /_sinch/faults`` disarms everything.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import threading
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from . import errors
from .jsonio import dumps, parse_json

__all__ = ["DeliveryFault", "Faults", "FaultyTransport", "RequestFault"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PATH = "/_sinch/faults"
MAX_LATENCY = 60.0  # seconds: a test that wants more wants a timeout, which 60 s gives
_DEFAULT_CODES = {400: 40001, 401: 40108, 402: 40200, 403: 40301, 404: 40400, 409: 40900, 429: 42900, 500: 50000}
_DEFAULT_CODES |= {502: 50200, 503: 50300, 504: 50400}


@dataclass
class RequestFault:
    operation: str  # an operationId of the spec, or "*" for every operation
    status: int | None = None
    error_code: int | None = None
    message: str | None = None
    retry_after: float | None = None
    latency: float = 0.0
    drop: bool = False
    times: int = 1


@dataclass
class DeliveryFault:
    kind: str  # "timeout" (the app never answers) or "error" (the app answers 500)
    times: int = 1


class FaultError(ValueError):
    """A fault that cannot be armed; the message says why."""


class Faults:
    """The armed faults of one server. Thread-safe: tests arm them from another thread."""

    def __init__(self, operations: Mapping[str, Any], applications: Mapping[str, str]) -> None:
        self._operations = set(operations)
        self._applications = dict(applications)  # key -> base64 secret, for the HTTP controls
        self._lock = threading.Lock()
        self._requests: list[RequestFault] = []
        self._deliveries: list[DeliveryFault] = []

    # -- arming --------------------------------------------------------------------------

    def add(
        self,
        operation: str,
        *,
        status: int | None = None,
        error_code: int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        latency: float = 0.0,
        drop: bool = False,
        times: int = 1,
    ) -> RequestFault:
        """Make the next ``times`` requests to ``operation`` (an operationId, or ``*``) fail."""
        if operation != "*" and operation not in self._operations:
            raise FaultError(f"unknown operation {operation!r}; expected an operationId of the spec or '*'")
        if status is not None and not 400 <= status <= 599:
            raise FaultError("status must be an error status (400-599)")
        if status is None and not drop and not latency:
            raise FaultError("a fault needs a status, a latency or drop")
        if not 0 <= latency <= MAX_LATENCY:
            raise FaultError(f"latency must be between 0 and {MAX_LATENCY:g} seconds")
        if retry_after is not None and retry_after < 0:
            raise FaultError("retryAfter must not be negative")
        if times < 1:
            raise FaultError("times must be 1 or more")
        fault = RequestFault(operation, status, error_code, message, retry_after, float(latency), drop, times)
        with self._lock:
            self._requests.append(fault)
        return fault

    def fail_deliveries(self, kind: str = "timeout", *, times: int = 1) -> DeliveryFault:
        """Make the next ``times`` callback deliveries time out, or get a 500 from the app."""
        if kind not in ("timeout", "error"):
            raise FaultError("deliveries fail by 'timeout' or 'error'")
        if times < 1:
            raise FaultError("times must be 1 or more")
        fault = DeliveryFault(kind, times)
        with self._lock:
            self._deliveries.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._deliveries.clear()

    def armed(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": [_camel(asdict(fault)) for fault in self._requests],
                "deliveries": [asdict(fault) for fault in self._deliveries],
            }

    # -- firing ----------------------------------------------------------------------------

    def _take_request(self, operation: str) -> RequestFault | None:
        with self._lock:
            for fault in self._requests:
                if fault.operation in (operation, "*"):
                    fault.times -= 1
                    if fault.times == 0:
                        self._requests.remove(fault)
                    return fault
        return None

    def take_delivery(self) -> DeliveryFault | None:
        with self._lock:
            if not self._deliveries:
                return None
            fault = self._deliveries[0]
            fault.times -= 1
            if fault.times == 0:
                self._deliveries.pop(0)
            return fault

    async def intercept(self, scope: Scope, receive: Receive, send: Send, operation: str | None) -> bool:
        """Answer the request if it is a control request or a fault fires; False to go on."""
        if scope["path"] == PATH or scope["path"].startswith(PATH + "/"):
            await self._control(scope, receive, send)
            return True
        fault = self._take_request(operation) if operation else None
        if fault is None:
            return False
        if fault.latency:
            await asyncio.sleep(fault.latency)
        if fault.drop:
            # the answer starts and stops short of its Content-Length: the client sees the
            # connection drop mid-answer, as it would on a reset
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b"{", "more_body": False})
            return True
        if fault.status is None:
            return False  # latency only: the request goes on, late
        code = (
            fault.error_code if fault.error_code is not None else _DEFAULT_CODES.get(fault.status, fault.status * 100)
        )
        message = fault.message or f"Injected fault: HTTP {fault.status}"
        headers = [(b"content-type", b"application/json")]
        if fault.retry_after is not None:
            headers.append((b"retry-after", f"{fault.retry_after:g}".encode()))
        body = dumps(errors.error_body(fault.status, code, message))
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    # -- the HTTP controls -------------------------------------------------------------------

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if not self._authorised(scope):
            challenge = [(b"www-authenticate", b'Basic realm="sinch-calling-server test controls"')]
            await _json(
                send, 401, errors.error_body(401, errors.AUTHORIZATION_HEADER, "Basic credentials needed"), challenge
            )
            return
        method = scope["method"]
        try:
            if method == "GET":
                await _json(send, 200, self.armed())
            elif method == "DELETE":
                self.clear()
                await _json(send, 200, self.armed())
            elif method == "POST":
                self._arm(parse_json(body) if body else {})
                await _json(send, 200, self.armed())
            else:
                await _json(send, 405, errors.error_body(405, errors.METHOD_NOT_ALLOWED, "Use GET, POST or DELETE"))
        except (FaultError, ValueError, TypeError) as exc:
            await _json(send, 400, errors.error_body(400, errors.INVALID_REQUEST, errors.bounded(str(exc))))

    def _arm(self, spec: Any) -> None:
        if not isinstance(spec, dict):
            raise FaultError("the body is a JSON object")
        times = _number(spec.get("times", 1), "times", int)
        if "deliveries" in spec:
            self.fail_deliveries(str(spec["deliveries"]), times=times)
            return
        known = {"operation", "status", "errorCode", "message", "retryAfter", "latency", "drop", "times"}
        unknown = set(spec) - known
        if unknown:
            raise FaultError(f"unknown fields {sorted(unknown)}")
        self.add(
            str(spec.get("operation", "")),
            status=_optional(spec.get("status"), "status", int),
            error_code=_optional(spec.get("errorCode"), "errorCode", int),
            message=str(spec["message"]) if spec.get("message") is not None else None,
            retry_after=_optional(spec.get("retryAfter"), "retryAfter", float),
            latency=_number(spec.get("latency", 0), "latency", float),
            drop=spec.get("drop") is True,
            times=times,
        )

    def _authorised(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization" and value[:6].lower() == b"basic ":
                try:
                    key, _, secret = base64.b64decode(value[6:], validate=True).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    return False
                expected = self._applications.get(key)
                return expected is not None and hmac.compare_digest(secret.encode(), expected.encode())
        return False


class FaultyTransport(httpx.AsyncBaseTransport):
    """The callback deliveries' transport, failing the deliveries ``faults`` says to fail.

    Without an ``inner`` transport, the real one is made at the first delivery: making it loads
    the system's certificates (about 20 ms), which a server that delivers nothing never needs.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport | None, faults: Faults) -> None:
        self._inner = inner
        self._faults = faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self._faults.take_delivery()
        if fault is None:
            if self._inner is None:
                self._inner = httpx.AsyncHTTPTransport()
            return await self._inner.handle_async_request(request)
        if fault.kind == "timeout":
            raise httpx.ReadTimeout("injected fault: the app did not answer in time", request=request)
        return httpx.Response(500, request=request, content=b"injected fault")

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def _camel(values: dict[str, Any]) -> dict[str, Any]:
    names = {"error_code": "errorCode", "retry_after": "retryAfter"}
    return {names.get(key, key): value for key, value in values.items()}


def _number(value: Any, name: str, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        raise FaultError(f"{name} must be a number")
    return kind(value)


def _optional(value: Any, name: str, kind: type) -> Any:
    return None if value is None else _number(value, name, kind)


async def _json(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"application/json"), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": dumps(body)})
