"""What a generated method hands the client: the operation, its request body, and raw responses.

A generated method is a thin description of one operation (``Operation``), its path
parameters, its body (built by ``request_body`` from keyword arguments) and the model that
parses its answer; ``SyncAPIClient.call`` / ``AsyncAPIClient.call`` do the rest.
``with_raw_response`` wraps any such method to return the whole ``Response`` instead.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import Any, Generic, NamedTuple, ParamSpec, TypeVar, overload

import httpx

from .core import path_param
from .hosts import Host
from .parsing import Unset, format_datetime

__all__ = ["Operation", "Response", "path_for", "record_response", "request_body", "to_json", "with_raw_response"]

P = ParamSpec("P")
T = TypeVar("T")


class Operation(NamedTuple):
    """One operation of the spec: its operationId, HTTP method, path template and host family."""

    id: str
    method: str
    path: str  # "/calls/id/{call_id}": placeholders are the method's Python argument names
    host: Host


@dataclass(frozen=True)
class Response(Generic[T]):
    """A response with its parsed body: what ``with_raw_response`` returns."""

    status_code: HTTPStatus
    headers: httpx.Headers
    content: bytes
    parsed: T
    http_response: httpx.Response


def to_json(value: object) -> Any:
    """``value`` as JSON data: attrs models by ``to_dict``, enums by value, date-times as Sinch writes them.

    Request bodies may mix plain dicts (what the TypedDicts describe) with the generated models
    anywhere; unset values are left out.
    """
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items() if not isinstance(item, Unset)}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_json(to_dict())
    return value


def request_body(fields: Mapping[str, object], extra_body: Mapping[str, object] | None) -> dict[str, Any]:
    """The JSON object of a method's keyword arguments; ``extra_body`` adds fields the spec lacks."""
    body: dict[str, Any] = to_json(fields)
    if extra_body:
        body.update(to_json(extra_body))
    return body


def path_for(template: str, params: Mapping[str, object]) -> str:
    """Fill ``template`` with percent-encoded path segments (see ``core.path_param``)."""
    return template.format_map({name: path_param(value, name) for name, value in params.items()})


# with_raw_response: the final httpx.Response of a call, for the one wrapper that asked for it.
_captured: contextvars.ContextVar[list[httpx.Response] | None] = contextvars.ContextVar(
    "sinch_calling_raw_response", default=None
)


def record_response(response: httpx.Response) -> None:
    """Called by the client with each call's final response; kept only inside ``with_raw_response``."""
    captured = _captured.get()
    if captured is not None:
        captured.append(response)


def _response(captured: list[httpx.Response], parsed: T) -> Response[T]:
    http_response = captured[-1]
    return Response(
        HTTPStatus(http_response.status_code), http_response.headers, http_response.content, parsed, http_response
    )


@overload
def with_raw_response(  # type: ignore[overload-overlap]
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Awaitable[Response[T]]]: ...
@overload
def with_raw_response(method: Callable[P, T]) -> Callable[P, Response[T]]: ...
def with_raw_response(method: Callable[P, Any]) -> Callable[P, Any]:
    """Wrap a client method to return the ``Response`` (status, headers, content, parsed body).

        response = with_raw_response(client.calls.get)("4398599d1ba84ef3bde0a82dfb61abed")
        response.headers["x-request-id"], response.parsed.status

    Works for the sync and the async client alike.
    """
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def call_async(*args: P.args, **kwargs: P.kwargs) -> Response[Any]:
            captured: list[httpx.Response] = []
            token = _captured.set(captured)
            try:
                parsed = await method(*args, **kwargs)
            finally:
                _captured.reset(token)
            return _response(captured, parsed)

        return call_async

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> Response[Any]:
        captured: list[httpx.Response] = []
        token = _captured.set(captured)
        try:
            parsed = method(*args, **kwargs)
        finally:
            _captured.reset(token)
        return _response(captured, parsed)

    return call
