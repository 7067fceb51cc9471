"""A Sinch callback backend in Flask: ``sinch_callback`` makes the whole endpoint.

    pip install "sinch-calling" flask
    SINCH_APPLICATION_KEY=... SINCH_APPLICATION_SECRET=... python flask_app.py

Set the application's callback URL to ``https://<your host>/sinch/callback``. Every call is
greeted and put into one conference; a callback that fails verification gets 401.
"""

from __future__ import annotations

from flask import Flask
from sinch_calling.callbacks import AceEvent, CallbackEvent, IceEvent
from sinch_calling.frameworks.flask import sinch_callback
from sinch_calling.svaml import AceResponse, ConnectConfAction, IceResponse, SayInstruction

CONFERENCE_ID = "myConference"


def create_app(application_key: str | None = None, application_secret: str | None = None) -> Flask:
    app = Flask(__name__)
    received: list[CallbackEvent] = []
    app.config["RECEIVED"] = received  # what the app was sent, for the tests

    def answer(event: CallbackEvent) -> IceResponse | AceResponse | None:
        received.append(event)
        join = ConnectConfAction(name="connectConf", conference_id=CONFERENCE_ID)
        if isinstance(event, IceEvent):
            return IceResponse(instructions=[SayInstruction(name="say", text="Welcome.")], action=join)
        if isinstance(event, AceEvent):
            return AceResponse(action=join)
        return None  # DiCE, PIE, Notify: nothing to say

    endpoint = sinch_callback(answer, application_key=application_key, application_secret=application_secret)
    app.add_url_rule("/sinch/callback", view_func=endpoint, methods=["POST"])
    return app


if __name__ == "__main__":
    import os

    create_app().run(port=int(os.environ.get("PORT", "8000")))
