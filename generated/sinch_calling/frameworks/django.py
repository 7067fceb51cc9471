"""Sinch callbacks in Django.

    from sinch_calling.frameworks.django import sinch_callback

    urlpatterns = [path("sinch/callback", sinch_callback(handle))]

or, in your own view, ``event = sinch_event(request)`` and ``return svaml_response(answer)``.
The view from ``sinch_callback`` is CSRF-exempt (Sinch signs its requests instead) and POST-only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import cast

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .._runtime.callbacks import DEFAULT_MAX_AGE
from ..callbacks import CallbackEvent
from ._receiver import HANDLED, CallbackHandler, Receiver, SvamlAnswer, answer_body, is_async, outcome

__all__ = ["sinch_callback", "sinch_event", "svaml_response"]


def _event(receiver: Receiver, request: HttpRequest) -> CallbackEvent:
    # Django's request.path is decoded; the WSGI/ASGI raw path is what Sinch signed
    raw_path = request.META.get("RAW_URI") or request.META.get("REQUEST_URI") or request.get_full_path()
    return receiver.event(request.method or "POST", raw_path, request.headers.items(), request.body)


def sinch_event(
    request: HttpRequest,
    *,
    application_key: str | None = None,
    application_secret: str | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    path: str | None = None,
) -> CallbackEvent:
    """The request as a verified, typed event (see ``sinch_calling.frameworks``)."""
    return _event(Receiver.of(application_key, application_secret, max_age, path), request)


def svaml_response(answer: SvamlAnswer | None) -> HttpResponse:
    body = answer_body(answer)
    return HttpResponse(body, content_type="application/json" if body else None)


def sinch_callback(
    handler: CallbackHandler,
    *,
    application_key: str | None = None,
    application_secret: str | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    path: str | None = None,
) -> Callable[[HttpRequest], HttpResponse]:
    """A view that verifies, parses, calls ``handler`` (sync) and answers with its SVAML."""
    if is_async(handler):
        raise TypeError("pass a sync handler")
    receiver = Receiver.of(application_key, application_secret, max_age, path)

    def view(request: HttpRequest) -> HttpResponse:
        try:
            event = _event(receiver, request)
        except HANDLED as error:
            status = outcome(error)
            response = HttpResponse(status=status)
            if status == 401:
                response["WWW-Authenticate"] = "Application"
            return response
        return svaml_response(handler(event))  # type: ignore[arg-type]  # sync, checked above

    # Sinch signs its requests, so Django's CSRF token has no place here; Sinch only POSTs
    return cast(Callable[[HttpRequest], HttpResponse], csrf_exempt(require_POST(view)))
