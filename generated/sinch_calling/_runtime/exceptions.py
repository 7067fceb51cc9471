"""Exceptions raised by the Sinch Calling client.

Hierarchy::

    SinchCallingError
    ├── APIError                       the API answered with a non-2xx status
    │   ├── BadRequestError            400
    │   ├── AuthenticationError        401
    │   ├── PaymentRequiredError       402 (40200: not enough credit)
    │   ├── ForbiddenError             403
    │   ├── NotFoundError              404
    │   ├── ConflictError              409
    │   ├── UnprocessableEntityError   422
    │   ├── RateLimitError             429
    │   └── ServerError                5xx
    ├── APIConnectionError             no response: DNS, refused, reset, protocol error
    │   └── APITimeoutError            no response in time
    ├── ResponseValidationError        a 2xx body that does not match the API description
    └── CallbackVerificationError      an incoming callback failed a check (signature, ...)

Statuses map to classes in one place, ``_STATUS_ERRORS``; other 4xx become a plain ``APIError``.
"""

from __future__ import annotations

import json

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CallbackVerificationError",
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "PaymentRequiredError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
    "SinchCallingError",
    "UnprocessableEntityError",
    "error_from_response",
]

# Longest slice of a non-JSON error body (an HTML proxy page, say) used as the message.
_MAX_TEXT_MESSAGE = 200


class SinchCallingError(Exception):
    """Base class of every error this client raises on purpose."""


class APIError(SinchCallingError):
    """The API answered with a non-success status.

    ``error_code`` is Sinch's ``errorCode`` as an int when it is one (or a string of digits),
    else ``None``; ``body`` keeps the decoded body (or its text) as received.
    """

    status_code: int
    error_code: int | None
    message: str
    reference: str | None
    response: httpx.Response
    body: object

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: object = None,
        error_code: int | None = None,
        reference: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.error_code = error_code
        self.reference = reference

    def __str__(self) -> str:
        parts = [f"{self.status_code} {type(self).__name__}:"]
        if self.error_code is not None:
            parts.append(f"errorCode={self.error_code}")
        parts.append(f"message={self.message!r}")
        if self.reference is not None:
            parts.append(f"reference={self.reference!r}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, error_code={self.error_code!r}, "
            f"message={self.message!r}, reference={self.reference!r})"
        )


class BadRequestError(APIError):
    """400: the request was invalid (parameters, JSON, missing fields)."""


class AuthenticationError(APIError):
    """401: missing or bad credentials, signature or timestamp."""


class PaymentRequiredError(APIError):
    """402: the account has not enough credit (Sinch's 40200)."""


class ForbiddenError(APIError):
    """403: the credentials may not call this method."""


class NotFoundError(APIError):
    """404: the call, conference or number does not exist."""


class ConflictError(APIError):
    """409: the resource is not in a state that allows the request."""


class UnprocessableEntityError(APIError):
    """422: well-formed but semantically invalid request."""


class RateLimitError(APIError):
    """429: too many requests."""


class ServerError(APIError):
    """5xx: the API failed."""


class APIConnectionError(SinchCallingError):
    """The request got no response (network failure, refused connection, protocol error)."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request) -> None:
        super().__init__(message, request=request)


class ResponseValidationError(SinchCallingError):
    """A success response whose body does not match the API description.

    ``field`` names the offending field (a dotted path such as ``"participants[0].callId"``) and
    ``operation`` the operation whose answer it was (the spec's operationId, e.g. ``queryNumber``).
    """

    def __init__(
        self, field: str, message: str, *, response: httpx.Response | None = None, operation: str = ""
    ) -> None:
        where = f"{operation}: " if operation else ""
        super().__init__(f"{where}invalid response field {field!r}: {message}")
        self.field = field
        self.message = message
        self.response = response
        self.operation = operation


class CallbackVerificationError(SinchCallingError):
    """An incoming Sinch callback was refused; ``check`` names the check that failed."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"callback verification failed ({check}): {message}")
        self.check = check
        self.message = message


_STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _error_class(status_code: int) -> type[APIError]:
    if status_code >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status_code, APIError)


def _parse_error_code(value: object) -> int | None:
    # Sinch's schema says string, its examples send integers: accept both.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.isascii() and stripped.isdigit():
            return int(stripped)
    return None


def _read_text(response: httpx.Response) -> str:
    try:
        return response.text
    except (httpx.StreamError, LookupError, ValueError):
        # Unread or closed stream, unknown charset: an error report must not fail itself.
        return ""


def error_from_response(response: httpx.Response) -> APIError:
    """Build the ``APIError`` subclass for ``response``. Never raises, whatever the body."""
    text = _read_text(response)
    body: object = None
    if text:
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):
            body = text

    message = ""
    error_code = None
    reference = None
    if isinstance(body, dict):
        error_code = _parse_error_code(body.get("errorCode"))
        if isinstance(body.get("message"), str):
            message = body["message"]
        if isinstance(body.get("reference"), str):
            reference = body["reference"]
    elif text.strip():
        message = _truncate(text.strip())
    if not message:
        message = response.reason_phrase or f"HTTP {response.status_code}"

    return _error_class(response.status_code)(
        message, response=response, body=body, error_code=error_code, reference=reference
    )


def _truncate(text: str) -> str:
    if len(text) <= _MAX_TEXT_MESSAGE:
        return text
    return text[: _MAX_TEXT_MESSAGE - 1] + "…"
