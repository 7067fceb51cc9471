"""Sinch callbacks in Flask.

    from sinch_calling.frameworks.flask import sinch_callback

    app = Flask(__name__)
    app.add_url_rule("/sinch/callback", view_func=sinch_callback(handle), methods=["POST"])

or, in your own view, ``event = sinch_event()`` (it reads ``flask.request``) and
``return svaml_response(answer)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Request, Response, request

from .._runtime.callbacks import DEFAULT_MAX_AGE
from ..callbacks import CallbackEvent
from ._receiver import HANDLED, CallbackHandler, Receiver, SvamlAnswer, answer_body, is_async, outcome

__all__ = ["sinch_callback", "sinch_event", "svaml_response"]


def _event(receiver: Receiver, incoming: Request) -> CallbackEvent:
    # the raw path (percent-encoding kept) from the WSGI environ, the raw body before any form parsing
    raw_path = incoming.environ.get("RAW_URI") or incoming.environ.get("REQUEST_URI") or incoming.path
    return receiver.event(incoming.method, raw_path, incoming.headers.items(), incoming.get_data(cache=True))


def sinch_event(
    incoming: Request | None = None,
    *,
    application_key: str | None = None,
    application_secret: str | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    path: str | None = None,
) -> CallbackEvent:
    """The current request as a verified, typed event (see ``sinch_calling.frameworks``)."""
    receiver = Receiver.of(application_key, application_secret, max_age, path)
    return _event(receiver, incoming if incoming is not None else request)


def svaml_response(answer: SvamlAnswer | None) -> Response:
    body = answer_body(answer)
    return Response(body, mimetype="application/json" if body else None)


def sinch_callback(
    handler: CallbackHandler,
    *,
    application_key: str | None = None,
    application_secret: str | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    path: str | None = None,
) -> Callable[[], Response]:
    """A view that verifies, parses, calls ``handler`` (sync) and answers with its SVAML."""
    if is_async(handler):
        raise TypeError("Flask views here are sync: pass a sync handler")
    receiver = Receiver.of(application_key, application_secret, max_age, path)

    def view() -> Response:
        try:
            event = _event(receiver, request)
        except HANDLED as error:
            status = outcome(error)
            return Response(status=status, headers={"WWW-Authenticate": "Application"} if status == 401 else None)
        return svaml_response(handler(event))  # type: ignore[arg-type]  # sync, checked above

    view.__name__ = getattr(handler, "__name__", "sinch_callback")
    return view
