"""Sinch callbacks in Starlette and FastAPI.

    from sinch_calling.frameworks.starlette import sinch_callback

    def handle(event): ...  # -> IceResponse | AceResponse | PieResponse | None (sync or async)

    app = Starlette(routes=[Route("/sinch/callback", sinch_callback(handle), methods=["POST"])])
    # FastAPI: app.add_api_route("/sinch/callback", sinch_callback(handle), methods=["POST"])

or, in your own endpoint, ``event = await sinch_event(request)`` and ``return svaml_response(answer)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._runtime.callbacks import DEFAULT_MAX_AGE
from ..callbacks import CallbackEvent
from ._receiver import HANDLED, CallbackHandler, Receiver, SvamlAnswer, answer_body, is_async, outcome

__all__ = ["sinch_callback", "sinch_event", "svaml_response"]


def _path(request: Request) -> str:
    """The path exactly as received (still percent-encoded): what Sinch signed."""
    raw_path = request.scope.get("raw_path")
    return raw_path.decode("latin-1") if isinstance(raw_path, bytes) else request.url.path


async def sinch_event(
    request: Request,
    *,
    application_key: str | None = None,
    application_secret: str | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    path: str | None = None,
) -> CallbackEvent:
    """The request as a verified, typed event (see ``sinch_calling.frameworks`` for what it raises)."""
    receiver = Receiver.of(application_key, application_secret, max_age, path)
    return receiver.event(request.method, _path(request), request.headers.raw, await request.body())


def svaml_response(answer: SvamlAnswer | None) -> Response:
    body = answer_body(answer)
    return Response(body, media_type="application/json" if body else None)


def sinch_callback(
    handler: CallbackHandler,
    *,
    application_key: str | None = None,
    application_secret: str | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    path: str | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that verifies, parses, calls ``handler`` and answers with its SVAML."""
    receiver = Receiver.of(application_key, application_secret, max_age, path)

    async def endpoint(request: Request) -> Response:
        try:
            event = receiver.event(request.method, _path(request), request.headers.raw, await request.body())
        except HANDLED as error:
            status = outcome(error)
            headers = {"WWW-Authenticate": "Application"} if status == 401 else None
            return Response(status_code=status, headers=headers)
        answer: Any = handler(event)
        if is_async(handler):
            answer = await answer
        return svaml_response(answer)

    return endpoint
