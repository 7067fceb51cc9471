"""What passes between the pipeline and a backend: a checked ``Request`` in, a ``Reply`` out."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .auth import Caller
from .jsonio import parse_json
from .spec import Operation

__all__ = ["Backend", "Reply", "Request", "ResponseViolation", "check_reply"]


@dataclass(slots=True)
class Request:
    """A request that passed routing, authentication and validation."""

    operation: Operation
    method: str
    raw_path: str
    query_string: str
    path_params: dict[str, Any]  # typed as the spec declares them
    headers: dict[str, str]  # lower-case names
    raw_body: bytes
    body: Any  # the parsed JSON body, or None
    caller: Caller


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None  # JSON value; None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # pre-encoded body (replay, record), sent as is


class Backend(Protocol):
    """What answers a valid request: the simulation, the replayer or the recorder."""

    def handle(self, request: Request) -> Reply | Awaitable[Reply]: ...


class ResponseViolation(Exception):
    """The server produced a response its own spec does not allow (a server bug)."""


def check_reply(operation: Operation, reply: Reply) -> Any:
    """Raise ResponseViolation unless the spec declares this status and its body fits.

    Returns the body it checked (``reply.raw`` parsed, when the reply carries encoded bytes).
    """
    if not operation.declares(reply.status):
        raise ResponseViolation(f"{operation.operation_id}: status {reply.status} is not declared")
    spec = operation.response_spec(reply.status)
    assert spec is not None
    body = reply.body
    if reply.raw is not None:
        try:
            body = parse_json(reply.raw) if reply.raw else None
        except ValueError:
            raise ResponseViolation(f"{operation.operation_id}: body is not JSON") from None
    if spec.json_validator is None:
        if body is not None and not spec.has_content:
            raise ResponseViolation(f"{operation.operation_id}: status {reply.status} declares no body")
        return body
    if body is None:
        raise ResponseViolation(f"{operation.operation_id}: status {reply.status} needs a JSON body")
    if not spec.json_validator.is_valid(body):
        problem = spec.json_validator.first_problem(body)
        detail = f"{problem.path}: {problem.message}" if problem else "invalid"
        raise ResponseViolation(f"{operation.operation_id}: {reply.status} body violates the spec ({detail})")
    return body
