"""A Sinch callback backend in Django, in one file: ``sinch_callback`` makes the view.

    pip install "sinch-calling" django
    SINCH_APPLICATION_KEY=... SINCH_APPLICATION_SECRET=... python django_app.py runserver 8000

Set the application's callback URL to ``https://<your host>/sinch/callback``. Every call is
greeted and put into one conference; a callback that fails verification gets 401.
"""

from __future__ import annotations

import os
import sys
from typing import Any

CONFERENCE_ID = "myConference"
RECEIVED: list[Any] = []  # what the app was sent, for the tests
urlpatterns: list[Any] = []  # filled by configure(): Django reads it from this module (ROOT_URLCONF)


def answer(event: Any) -> Any:
    from sinch_calling.callbacks import AceEvent, IceEvent
    from sinch_calling.svaml import AceResponse, ConnectConfAction, IceResponse, SayInstruction

    RECEIVED.append(event)
    join = ConnectConfAction(name="connectConf", conference_id=CONFERENCE_ID)
    if isinstance(event, IceEvent):
        return IceResponse(instructions=[SayInstruction(name="say", text="Welcome.")], action=join)
    if isinstance(event, AceEvent):
        return AceResponse(action=join)
    return None  # DiCE, PIE, Notify: nothing to say


def configure(application_key: str | None = None, application_secret: str | None = None) -> None:
    """Django's settings for this one-file project, and the callback route."""
    import django
    from django.conf import settings
    from django.urls import path
    from sinch_calling.frameworks.django import sinch_callback

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["127.0.0.1", "localhost"],
            ROOT_URLCONF=__name__,
            SECRET_KEY="only-for-this-example",  # Django's own, unrelated to Sinch
            MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        )
        django.setup()
    view = sinch_callback(answer, application_key=application_key, application_secret=application_secret)
    urlpatterns[:] = [path("sinch/callback", view)]


def application(application_key: str | None = None, application_secret: str | None = None) -> Any:
    """The WSGI application (the key and secret default to the environment)."""
    from django.core.wsgi import get_wsgi_application

    configure(application_key, application_secret)
    return get_wsgi_application()


if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    configure(os.environ.get("SINCH_APPLICATION_KEY"), os.environ.get("SINCH_APPLICATION_SECRET"))
    execute_from_command_line(sys.argv)
