"""The request pipeline: one straight line from bytes in to bytes out.

route -> method -> body size -> authenticate -> content type -> parse JSON -> validate
parameters and body -> backend (simulation, replay or record) -> (optionally) check the
response against the spec -> send. Every refusal is a Sinch-style JSON error; nothing a
client sends can produce a traceback.

It is a bare ASGI callable on purpose: no framework request objects, no per-request spec
walking, so the server stays close to a bare ASGI app in throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from . import errors
from .auth import Authenticator
from .delivery import CallbackDispatcher
from .errors import ApiError, error_body, new_reference
from .faults import Faults
from .jsonio import dumps, parse_json
from .messages import Backend, Reply, Request, ResponseViolation, check_reply
from .settings import DEFAULT_MAX_BODY, Application
from .spec import CompiledSpec, Operation, Parameter, is_json_media_type

__all__ = ["Pipeline"]

log = logging.getLogger("sinch_calling_server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Seconds a request's body may take to arrive once its headers have: a client that stalls is
# answered 408 and let go, instead of holding a connection open for ever.
BODY_TIMEOUT = 10.0

_JSON_TYPE = (b"content-type", b"application/json")


class Pipeline:
    """The ASGI application."""

    body_timeout = BODY_TIMEOUT

    def __init__(
        self,
        spec: CompiledSpec,
        authenticator: Authenticator,
        backend: Backend,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        validate_responses: bool = False,
        violations: list[str] | None = None,
        callbacks: CallbackDispatcher | None = None,
        faults: Faults | None = None,
        demo_application: Application | None = None,
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        self.spec = spec
        self.authenticator = authenticator
        self.backend = backend
        self.max_body = max_body
        self.validate_responses = validate_responses
        # Responses (and callback events) that broke the spec, when validate_responses is on (tests).
        self.violations = violations if violations is not None else []
        self.callbacks = callbacks  # callback delivery and its /_sinch/... endpoints (delivery.py)
        self.faults = faults  # with test controls: chosen failures (faults.py)
        self.demo_application = demo_application  # made when no credentials were configured
        self._on_shutdown = on_shutdown

    def close(self) -> None:
        """Release the store (the ASGI lifespan shutdown does this too)."""
        if self._on_shutdown is not None:
            self._on_shutdown()
            self._on_shutdown = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.callbacks is not None:
                    await self.callbacks.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.callbacks is not None:
                    await self.callbacks.shutdown()
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        if self.faults is not None:
            found = self.spec.match(scope["path"])
            operation = found[0].get(method) if found else None
            if await self.faults.intercept(scope, receive, send, operation.operation_id if operation else None):
                return
        try:
            reply = await self._process(scope, receive, method)
        except ApiError as exc:
            reply = Reply(exc.status, error_body(exc.status, exc.code, exc.message), exc.headers)
        except ResponseViolation as exc:
            self.violations.append(str(exc))
            log.error("response violates the spec: %s", exc)
            reply = Reply(500, error_body(500, errors.INTERNAL_ERROR, "Internal error"))
        except Exception:
            reference = new_reference()
            log.exception("internal error (reference %s)", reference)
            reply = Reply(500, error_body(500, errors.INTERNAL_ERROR, "Internal error", reference))
        await self._send(send, reply, method == "HEAD")
        if self.callbacks is not None:
            try:
                self.callbacks.poke()  # deliveries that became due run in a task, off the request path
            except Exception:
                log.exception("callback scheduler")

    async def _send(self, send: Send, reply: Reply, head: bool) -> None:
        payload = reply.raw if reply.raw is not None else b"" if reply.body is None else dumps(reply.body)
        headers: list[tuple[bytes, bytes]] = []
        has_type = False
        for name, value in reply.headers.items():  # usually none: most replies are plain JSON
            lower = name.lower()
            if lower in ("content-length", "transfer-encoding", "connection"):
                continue
            has_type = has_type or lower == "content-type"
            headers.append((lower.encode("latin-1"), value.encode("latin-1", "replace")))
        if payload and not has_type:
            headers.append(_JSON_TYPE)
        headers.append((b"content-length", b"%d" % len(payload)))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else payload})

    async def _process(self, scope: Scope, receive: Receive, method: str) -> Reply:
        raw_path_bytes: bytes | None = scope.get("raw_path")
        raw_path = raw_path_bytes.decode("latin-1") if raw_path_bytes else scope["path"]
        raw_path = raw_path.split("?", 1)[0]
        if self.callbacks is not None and raw_path.startswith(self.callbacks.prefix):
            return await self._test_controls(scope, receive, method, raw_path)  # outside the API's paths
        methods, raw_params = route(self.spec, raw_path)
        operation = methods.get(method)
        if operation is None:
            allow = ", ".join(sorted(methods))
            raise ApiError(405, errors.METHOD_NOT_ALLOWED, f"Method {method} not allowed", {"Allow": allow})

        raw_headers = scope["headers"]
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw_headers}
        repeated = _repeated(raw_headers) if len(headers) != len(raw_headers) else ()

        body = await self._read_body(receive, headers, scope.get("http_version"))

        paths = (raw_path,) if "%" not in raw_path else _signable_paths(self.spec, raw_path, methods, raw_params)
        caller = self.authenticator.authenticate(operation.schemes, method, paths, headers, body, repeated)

        query_string = scope.get("query_string", b"").decode("latin-1")
        path_params = _path_parameters(raw_params)
        parsed = self._parse_body(operation, headers, body)
        params = self._check_parameters(operation, path_params, query_string, headers)
        request = Request(operation, method, raw_path, query_string, params, headers, body, parsed, caller)

        result = self.backend.handle(request)
        reply = result if isinstance(result, Reply) else await result
        if self.validate_responses:
            check_reply(operation, reply)
        return reply

    async def _test_controls(self, scope: Scope, receive: Receive, method: str, raw_path: str) -> Reply:
        """``/_sinch/...``: unknown (404) unless test controls are on; then for the applications only.

        They show callback bodies and move the simulation, so they take the API's credentials
        (signed or Basic, over the path as sent), like any operation.
        """
        assert self.callbacks is not None
        if not self.callbacks.test_controls:
            raise ApiError(404, errors.NOT_FOUND, "Resource not found")
        raw_headers = scope["headers"]
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw_headers}
        repeated = _repeated(raw_headers) if len(headers) != len(raw_headers) else ()
        body = await self._read_body(receive, headers, scope.get("http_version"))
        try:
            self.authenticator.authenticate(_CONTROL_SCHEMES, method, (raw_path,), headers, body, repeated)
        except ApiError as exc:
            if exc.status == 401:  # a browser (the inspector page) asks for credentials only when challenged
                exc.headers = {**exc.headers, "WWW-Authenticate": _CONTROL_CHALLENGE}
            raise
        query = scope.get("query_string", b"").decode("latin-1")
        return await self.callbacks.handle(method, raw_path, query)

    async def _read_body(self, receive: Receive, headers: dict[str, str], http_version: str | None) -> bytes:
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers and http_version in ("1.1", "1.0"):
            return b""  # HTTP/1: no framing header means no body (and saves a round trip to the server)
        if declared is not None:
            try:
                size = int(declared.strip())
            except ValueError:
                raise ApiError(400, errors.INVALID_REQUEST, "Invalid Content-Length header") from None
            if size > self.max_body:
                raise ApiError(413, errors.PAYLOAD_TOO_LARGE, f"Request body is larger than {self.max_body} bytes")
            if size == 0:
                return b""
        else:
            size = -1
        try:
            async with _deadline(self.body_timeout):
                return await self._receive_body(receive, size)
        except TimeoutError:
            raise ApiError(
                408, errors.REQUEST_TIMEOUT, f"Request body not received within {self.body_timeout:g} seconds"
            ) from None

    async def _receive_body(self, receive: Receive, size: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            if chunk:
                total += len(chunk)
                if total > self.max_body:
                    raise ApiError(413, errors.PAYLOAD_TOO_LARGE, f"Request body is larger than {self.max_body} bytes")
                chunks.append(chunk)
            # Declared length reached: done. The server's closing empty message is not awaited, as
            # granian delivers one (a wake-up of its I/O thread: ~20% of a callout's latency at 1 connection).
            if not message.get("more_body", False) or total == size:
                break
        return b"".join(chunks)

    def _parse_body(self, operation: Operation, headers: dict[str, str], body: bytes) -> Any:
        if not operation.body_media_types:
            return None  # the operation takes no body: whatever came is ignored (but was signed)
        if not body or body.isspace():  # the whitespace bytes.strip() removes, without copying the body
            if operation.body_required:
                raise ApiError(400, errors.MISSING_PARAMETER, "Missing request body")
            return None
        if not _accepts_as_json(headers.get("content-type", "")):
            raise ApiError(415, errors.UNSUPPORTED_MEDIA_TYPE, "Request body must be application/json")
        try:
            parsed = parse_json(body)
        except (ValueError, RecursionError):
            raise ApiError(400, errors.INVALID_REQUEST, "Invalid request: the body is not valid JSON") from None
        validator = operation.body_validator
        if validator is not None and not validator.is_valid(parsed):
            raise self._body_error(operation, parsed)
        return parsed

    def _body_error(self, operation: Operation, parsed: Any) -> ApiError:
        validator = operation.body_validator
        assert validator is not None
        if operation.discriminator is not None and isinstance(parsed, dict):
            prop, variants = operation.discriminator
            value = parsed.get(prop)
            if value is None:
                return ApiError(400, errors.MISSING_PARAMETER, f"Missing parameter: {prop}")
            variant = variants.get(value) if isinstance(value, str) else None
            if variant is None:
                allowed = ", ".join(sorted(variants))
                return ApiError(400, errors.ILLEGAL_PARAMETERS, f"Illegal parameter {prop}: expected one of {allowed}")
            validator = variant
        problem = validator.first_problem(parsed) or operation.body_validator.first_problem(parsed)  # type: ignore[union-attr]
        if problem is None:
            return ApiError(400, errors.INVALID_REQUEST, "Invalid request body")
        if problem.missing:
            return ApiError(400, errors.MISSING_PARAMETER, f"Missing parameter: {problem.path}")
        return ApiError(400, errors.ILLEGAL_PARAMETERS, f"Illegal parameter {problem.path}: {problem.message}")

    def _check_parameters(
        self, operation: Operation, path_params: dict[str, str], query_string: str, headers: dict[str, str]
    ) -> dict[str, Any]:
        """The path parameters, typed; every declared parameter (path, query, header) checked."""
        params: dict[str, Any] = dict(path_params)
        if not operation.parameters:
            return params
        raw_query = dict(parse_qsl(query_string, keep_blank_values=True)) if query_string else {}
        for param in operation.parameters:
            if param.location == "path":
                raw = path_params.get(param.name)
            elif param.location == "query":
                raw = raw_query.get(param.name)
            else:
                raw = headers.get(param.name)
            if raw is None:
                if param.required:
                    raise ApiError(400, errors.MISSING_PARAMETER, f"Missing parameter: {param.name}")
                continue
            value = _coerce(param, raw)
            if param.validator is not None and not param.validator.is_valid(value):
                problem = param.validator.first_problem(value)
                detail = f": {problem.message}" if problem else ""
                raise ApiError(400, errors.ILLEGAL_PARAMETERS, f"Illegal parameter {param.name}{detail}")
            if param.location == "path":
                params[param.name] = value
        return params


Route = tuple[dict[str, Operation], dict[str, str]]


if sys.version_info >= (3, 11):
    _deadline = asyncio.timeout
else:  # pragma: no cover - Python 3.10

    @contextlib.asynccontextmanager
    async def _deadline(seconds: float) -> AsyncIterator[None]:
        task = asyncio.current_task()
        assert task is not None
        handle = asyncio.get_running_loop().call_later(seconds, task.cancel)
        try:
            yield
        except asyncio.CancelledError:
            raise TimeoutError from None
        finally:
            handle.cancel()


def route(spec: CompiledSpec, path: str) -> Route:
    """The operations (by method) and raw path parameters of a request path, or ApiError 404."""
    found = spec.match(path)
    if found is None:
        raise ApiError(404, errors.NOT_FOUND, "Resource not found")
    return found


_AUTH_HEADERS = (b"authorization", b"x-timestamp")
_CONTROL_SCHEMES = frozenset({"application", "basic"})
_CONTROL_CHALLENGE = 'Basic realm="sinch-calling-server test controls"'


def _repeated(raw_headers: Any) -> tuple[str, ...]:
    """The authentication headers that came more than once (only looked for when some header did)."""
    names = [name.lower() for name, _ in raw_headers]
    return tuple(wanted.decode("ascii") for wanted in _AUTH_HEADERS if names.count(wanted) > 1)


def _signable_paths(
    spec: CompiledSpec, raw_path: str, methods: dict[str, Operation], raw: dict[str, str]
) -> tuple[str, ...]:
    """The forms of a percent-encoded path whose signature counts: as sent, and decoded if that is the same.

    sinch 1.1.4 signs the path before its HTTP library percent-encodes it (``/conferences/id/my room``
    goes out as ``my%20room``), so the decoded form is accepted too, but only when the decoded text,
    read as a path, addresses exactly what the path as sent does: the same route and the same
    parameter values. A signature for ``/conferences/id/room/Q`` (kick ``Q`` from ``room``) is then
    never accepted for ``room%2FQ`` (conference ``room/Q``), nor one for ``room%41`` for ``room%2541``.
    """
    decoded = unquote(raw_path, errors="replace")
    if decoded == raw_path:
        return (raw_path,)
    try:
        other_methods, other_raw = route(spec, decoded)
    except ApiError:
        return (raw_path,)
    if other_methods is methods and _decoded(other_raw) == _decoded(raw):
        return (raw_path, decoded)
    return (raw_path,)


def _decoded(raw: dict[str, str]) -> dict[str, str]:
    return {name: unquote(value, errors="replace") for name, value in raw.items()}


def _path_parameters(raw: dict[str, str]) -> dict[str, str]:
    """Percent-decoded path parameters; an encoded slash in one is refused (400): it is ambiguous."""
    params: dict[str, str] = {}
    for name, value in raw.items():
        if "%" in value:
            if "%2f" in value.lower():
                raise ApiError(
                    400, errors.ILLEGAL_PARAMETERS, f"Illegal parameter {name}: an encoded slash (%2F) is not allowed"
                )
            value = unquote(value, errors="replace")
        params[name] = value
    return params


@functools.lru_cache(maxsize=64)
def _accepts_as_json(content_type: str) -> bool:
    """A body with this Content-Type is read as JSON: none given, application/json or any +json type.

    Cached: clients send the same one or two values on every request.
    """
    return not content_type.strip() or is_json_media_type(content_type)


def _coerce(param: Parameter, raw: str) -> Any:
    """Read a parameter's text as the type its schema declares; leave it as text if it is not."""
    kind = param.kind
    try:
        if kind == "integer":
            text = raw.strip()
            if text.lstrip("-").isdigit() and text.isascii():
                return int(text)
        elif kind == "number":
            text = raw.strip()
            number = float(text)
            if number == number and number not in (float("inf"), float("-inf")):
                return int(number) if text.lstrip("-").isdigit() else number
        elif kind == "boolean" and raw in ("true", "false"):
            return raw == "true"
    except ValueError:
        pass
    return raw
