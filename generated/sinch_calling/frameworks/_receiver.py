"""What every framework adapter shares: credentials, verify-then-parse, the answer's bytes."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeAlias

from .._runtime.base_client import KEY_ENV, SECRET_ENV
from .._runtime.callbacks import DEFAULT_MAX_AGE, CallbackParseError, HeadersLike, UnknownEventError, to_json
from .._runtime.exceptions import CallbackVerificationError
from ..callbacks import CallbackEvent, parse_event, verify_callback
from ..models import AceResponse, IceResponse, PieResponse

__all__ = ["CallbackHandler", "Receiver", "SvamlAnswer", "answer_body", "outcome"]

logger = logging.getLogger("sinch_calling.callbacks")

SvamlAnswer: TypeAlias = IceResponse | AceResponse | PieResponse
#: What ``sinch_callback`` wraps: the event in, the SVAML answer (or None) out; sync or async.
CallbackHandler: TypeAlias = Callable[[CallbackEvent], "SvamlAnswer | Awaitable[SvamlAnswer | None] | None"]


@dataclass(frozen=True)
class Receiver:
    """Verifies and parses callbacks for one application."""

    application_key: str
    application_secret: str
    max_age: timedelta | None = DEFAULT_MAX_AGE
    path: str | None = None  # the path Sinch signed, when a proxy rewrites it on the way

    def __repr__(self) -> str:  # never the secret
        return f"Receiver(application_key={self.application_key!r}, max_age={self.max_age!r}, path={self.path!r})"

    @classmethod
    def of(
        cls,
        application_key: str | None = None,
        application_secret: str | None = None,
        max_age: timedelta | None = DEFAULT_MAX_AGE,
        path: str | None = None,
    ) -> Receiver:
        key = application_key or os.environ.get(KEY_ENV)
        secret = application_secret or os.environ.get(SECRET_ENV)
        if not key or not secret:
            raise ValueError(f"pass application_key and application_secret, or set {KEY_ENV} and {SECRET_ENV}")
        return cls(key, secret, max_age, path)

    def event(self, method: str, path: str, headers: HeadersLike, body: bytes) -> CallbackEvent:
        """Verify the request, then parse its body; raises as ``sinch_event`` documents."""
        verify_callback(
            method, self.path or path, headers, body, self.application_key, self.application_secret, self.max_age
        )
        return parse_event(body)


def answer_body(answer: SvamlAnswer | None) -> bytes:
    """The answer as Sinch reads it: compact JSON, or nothing."""
    return b"" if answer is None else to_json(answer).encode("utf-8")


def outcome(error: Exception) -> int:
    """The status a complete endpoint answers for an error of ``Receiver.event``, logged once."""
    if isinstance(error, CallbackVerificationError):
        logger.warning("refused a callback: %s", error)
        return 401
    if isinstance(error, UnknownEventError):
        logger.info("acknowledged an event this client does not know: %s", error)
        return 200  # Sinch adds events over time; refusing one would fail the call
    logger.warning("refused a callback body: %s", error)
    return 400


HANDLED = (CallbackVerificationError, CallbackParseError)  # UnknownEventError is a CallbackParseError


def is_async(handler: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(handler)
