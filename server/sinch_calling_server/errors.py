"""Errors in Sinch's own shape: ``{"errorCode": 40001, "message": "...", "reference": "..."}``.

Every refusal the server sends goes through ``ApiError``; codes are named here once.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["ApiError", "error_body"]

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
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def new_reference() -> str:
    return str(uuid.uuid4())


def error_body(status: int, code: int, message: str, reference: str | None = None) -> dict[str, Any]:
    return {
        "errorCode": code,
        "message": message,
        "reference": reference or new_reference(),
        "status": f"{status} {_REASONS.get(status, 'Error')}",
    }
