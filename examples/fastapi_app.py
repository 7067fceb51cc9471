"""A Sinch callback backend in FastAPI: every callback verified and typed in one line.

    pip install "sinch-calling" fastapi uvicorn
    SINCH_APPLICATION_KEY=... SINCH_APPLICATION_SECRET=... uvicorn fastapi_app:app --port 8000

Set the application's callback URL to ``https://<your host>/sinch/callback``. Every call is
greeted and put into one conference; a callback that fails verification gets 401.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from sinch_calling.callbacks import AceEvent, CallbackEvent, IceEvent
from sinch_calling.frameworks.starlette import sinch_event, svaml_response
from sinch_calling.svaml import AceResponse, ConnectConfAction, IceResponse, SayInstruction

CONFERENCE_ID = "myConference"


def answer(event: CallbackEvent) -> IceResponse | AceResponse | None:
    join = ConnectConfAction(name="connectConf", conference_id=CONFERENCE_ID)
    if isinstance(event, IceEvent):
        return IceResponse(instructions=[SayInstruction(name="say", text="Welcome to the conference.")], action=join)
    if isinstance(event, AceEvent):
        return AceResponse(action=join)
    return None  # DiCE, PIE, Notify: nothing to say


def create_app(application_key: str | None = None, application_secret: str | None = None) -> FastAPI:
    app = FastAPI()
    received: list[CallbackEvent] = []
    app.state.received = received  # what the app was sent, for the tests

    @app.post("/sinch/callback")
    async def callback(request: Request) -> Response:
        # raises CallbackVerificationError / CallbackParseError, answered by the handlers below
        event = await sinch_event(request, application_key=application_key, application_secret=application_secret)
        received.append(event)
        return svaml_response(answer(event))

    from sinch_calling import CallbackVerificationError
    from sinch_calling.callbacks import CallbackParseError, UnknownEventError

    @app.exception_handler(CallbackVerificationError)
    async def refused(request: Request, error: Exception) -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": "Application"})

    @app.exception_handler(CallbackParseError)
    async def unreadable(request: Request, error: Exception) -> Response:
        return Response(status_code=200 if isinstance(error, UnknownEventError) else 400)

    return app


if __name__ == "__main__":
    import os

    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
