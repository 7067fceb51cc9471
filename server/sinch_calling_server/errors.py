"""Errors in Sinch's own shape: ``{"errorCode": 40001, "message": "...", "reference": "..."}``.

Every refusal the server sends goes through ``ApiError``; codes are named here once.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["ApiError", "bounded", "clip", "error_body"]

# An echoed value (a word of a message) is cut after this many characters, a whole message after MAX_MESSAGE.
MAX_ECHO = 64
MAX_MESSAGE = 512

# Sinch's codes (seed, wire-protocol notes, the spec's examples); 405 follows the status*100 pattern.
ILLEGAL_PARAMETERS = 40001
MISSING_PARAMETER = 40002
INVALID_REQUEST = 40003
AUTHORIZATION_HEADER = 40100
TIMESTAMP_HEADER = 40101
INVALID_CREDENTIALS = 40108
INVALID_SCHEME = 40301
NOT_FOUND = 40400
METHOD_NOT_ALLOWED = 40500
REQUEST_TIMEOUT = 40800
PAYLOAD_TOO_LARGE = 40003  # the spec's PayloadTooLarge example
UNSUPPORTED_MEDIA_TYPE = 40003  # the spec's UnsupportedMediaType example
INTERNAL_ERROR = 50000
BAD_GATEWAY = 50200

_REASONS = {
    400: "ParameterValidation",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
}


class ApiError(Exception):
    """A refusal: HTTP status, Sinch errorCode and a message safe to show to the client."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        if len(message) > MAX_ECHO:
            message = bounded(message)
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """``text``, or its first ``limit`` characters and an ellipsis."""
    return text if len(text) <= limit else text[:limit] + "\u2026"


def bounded(message: str) -> str:
    """A message whose echoed values are short: each word of it at most ``MAX_ECHO`` characters.

    Messages quote what the client sent (a validator's ``"aaaa..." is longer than 255
    characters``, an unknown property's name, a path parameter); a 250 KB value must not come
    back as a 250 KB error. Linear in the message's length; the whole is capped at ``MAX_MESSAGE``.
    """
    words = message[: MAX_MESSAGE * 4].split(" ")
    shown = " ".join(clip(word) for word in words)
    if len(message) > MAX_MESSAGE * 4:
        shown += "\u2026"
    return clip(shown, MAX_MESSAGE)


def new_reference() -> str:
    return str(uuid.uuid4())


def error_body(status: int, code: int, message: str, reference: str | None = None) -> dict[str, Any]:
    return {
        "errorCode": code,
        "message": message,
        "reference": reference or new_reference(),
        "status": f"{status} {_REASONS.get(status, 'Error')}",
    }
