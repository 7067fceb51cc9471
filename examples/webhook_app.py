"""A Sinch Calling callback backend in one file: verify every callback, answer it with SVAML.

Run it (needs ``pip install starlette uvicorn``)::

    SINCH_APPLICATION_KEY=... SINCH_APPLICATION_SECRET=... python examples/webhook_app.py

and set the application's callback URL to ``https://<your host>/sinch/callback``. Optional
settings: ``SINCH_CONFERENCE_ID`` (the conference ACE and the menu connect to),
``SINCH_CONNECT_NUMBER`` (where incoming calls are put through), ``SINCH_OPERATOR_NUMBER``
(menu option 2), ``HOST`` and ``PORT``. ``uvicorn --factory webhook_app:app_from_env`` works too.

What it answers:

- ICE (a call to one of your numbers): a spoken greeting, then ``connectPstn`` to a number; with
  ``menu_on_ice`` (``SINCH_MENU_ON_ICE=1``), the greeting and ``main_menu()`` instead.
- ACE (a callout was answered): ``connectConf`` into the conference.
- PIE (the caller's choice in ``main_menu()``, e.g. from a custom callout whose ICE answer is
  ``to_json(Svaml(action=main_menu()))``): 1 joins the conference, 2 calls the operator, a
  time-out says goodbye and hangs up, an invalid key plays the menu again.
- DiCE and Notify: 200 with an empty body.

A callback that fails verification gets 401, a body that is not an event 400, and an event this
client does not know yet an empty 200 (Sinch adds events over time).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from datetime import timedelta

from sinch_calling.callbacks import DEFAULT_MAX_AGE, AceEvent, CallbackEvent, IceEvent, PieEvent
from sinch_calling.frameworks.starlette import sinch_callback
from sinch_calling.models import MenuResultType
from sinch_calling.svaml import (
    AceResponse,
    ConnectConfAction,
    ConnectPstnAction,
    HangupAction,
    IceResponse,
    Locale,
    Menu,
    MenuOption,
    PieResponse,
    RunMenuAction,
    SayInstruction,
)
from sinch_calling.types import Unset
from starlette.applications import Starlette
from starlette.routing import Route

logger = logging.getLogger("webhook_app")

CALLBACK_PATH = "/sinch/callback"
DEFAULT_CONFERENCE_ID = "myConference"
# Fictional numbers (+1 555 555 01xx): set real ones through the environment.
DEFAULT_CONNECT_NUMBER = "+15555550100"
DEFAULT_OPERATOR_NUMBER = "+15555550101"
LOCALE = Locale.EN_US
MENU_ID = "main"

SvamlAnswer = IceResponse | AceResponse | PieResponse


@dataclass(frozen=True)
class Settings:
    application_key: str
    application_secret: str
    conference_id: str = DEFAULT_CONFERENCE_ID
    connect_number: str = DEFAULT_CONNECT_NUMBER
    operator_number: str = DEFAULT_OPERATOR_NUMBER
    max_age: timedelta | None = DEFAULT_MAX_AGE
    menu_on_ice: bool = False


def say(text: str) -> SayInstruction:
    return SayInstruction(name="say", text=text, locale=LOCALE)


def main_menu() -> RunMenuAction:
    """An IVR menu whose choice comes back in a PIE: ``return(conference)`` or ``return(operator)``."""
    return RunMenuAction(
        name="runMenu",
        locale=LOCALE,
        main_menu=MENU_ID,
        barge=True,
        menus=[
            Menu(
                id=MENU_ID,
                main_prompt="#tts[Press 1 to join the conference, or 2 to speak to an operator.]",
                repeats=2,
                max_digits=1,
                timeout_mills=8000,
                options=[
                    MenuOption(dtmf="1", action="return(conference)"),
                    MenuOption(dtmf="2", action="return(operator)"),
                ],
            )
        ],
    )


def answer_ice(event: IceEvent, settings: Settings) -> IceResponse:
    """Greet the caller, then put the call through (or, with ``menu_on_ice``, offer the menu)."""
    if settings.menu_on_ice:
        return IceResponse(instructions=[say("Welcome!")], action=main_menu())
    action = ConnectPstnAction(name="connectPstn", number=settings.connect_number, locale=LOCALE)
    if not isinstance(event.cli, Unset):
        action.cli = event.cli
    return IceResponse(instructions=[say("Welcome! Connecting your call.")], action=action)


def answer_ace(event: AceEvent, settings: Settings) -> AceResponse:
    return AceResponse(action=ConnectConfAction(name="connectConf", conference_id=settings.conference_id))


def answer_pie(event: PieEvent, settings: Settings) -> PieResponse:
    result = event.menu_result
    if isinstance(result, Unset):
        return PieResponse(action=HangupAction(name="hangup"))
    if result.type_ == MenuResultType.RETURN and result.value == "conference":
        return PieResponse(
            instructions=[say("Joining the conference.")],
            action=ConnectConfAction(name="connectConf", conference_id=settings.conference_id),
        )
    if result.type_ == MenuResultType.RETURN and result.value == "operator":
        return PieResponse(
            instructions=[say("Calling an operator.")],
            action=ConnectPstnAction(name="connectPstn", number=settings.operator_number, locale=LOCALE),
        )
    if result.type_ == MenuResultType.TIMEOUT:
        return PieResponse(instructions=[say("We did not hear a choice. Goodbye.")], action=HangupAction(name="hangup"))
    if result.type_ == MenuResultType.INVALIDINPUT:
        return PieResponse(instructions=[say("Sorry, that is not an option.")], action=main_menu())
    # error, hangup, sequence, or a result type newer than this client: end the call.
    return PieResponse(action=HangupAction(name="hangup"))


def answer(event: CallbackEvent, settings: Settings) -> SvamlAnswer | None:
    """The SVAML answer to ``event``; ``None`` for events that take none (DiCE, Notify)."""
    if isinstance(event, IceEvent):
        return answer_ice(event, settings)
    if isinstance(event, AceEvent):
        return answer_ace(event, settings)
    if isinstance(event, PieEvent):
        return answer_pie(event, settings)
    return None


def create_app(
    application_key: str,
    application_secret: str,
    *,
    conference_id: str = DEFAULT_CONFERENCE_ID,
    connect_number: str = DEFAULT_CONNECT_NUMBER,
    operator_number: str = DEFAULT_OPERATOR_NUMBER,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    menu_on_ice: bool = False,
) -> Starlette:
    """The backend as an ASGI app, serving ``POST /sinch/callback``.

    ``sinch_callback`` verifies each request (401 if it fails), parses it (400 for a body that is
    not an event, an empty 200 for an event newer than this client) and answers with the SVAML.
    """
    settings = Settings(
        application_key, application_secret, conference_id, connect_number, operator_number, max_age, menu_on_ice
    )
    endpoint = sinch_callback(
        lambda event: answer(event, settings),
        application_key=application_key,
        application_secret=application_secret,
        max_age=max_age,
    )
    return Starlette(routes=[Route(CALLBACK_PATH, endpoint, methods=["POST"])])


def app_from_env() -> Starlette:
    """``create_app`` with the settings from the environment (see the module docstring)."""
    key = os.environ.get("SINCH_APPLICATION_KEY")
    secret = os.environ.get("SINCH_APPLICATION_SECRET")
    if not key or not secret:
        sys.exit("Set SINCH_APPLICATION_KEY and SINCH_APPLICATION_SECRET (from the Sinch dashboard).")
    return create_app(
        key,
        secret,
        conference_id=os.environ.get("SINCH_CONFERENCE_ID", DEFAULT_CONFERENCE_ID),
        connect_number=os.environ.get("SINCH_CONNECT_NUMBER", DEFAULT_CONNECT_NUMBER),
        operator_number=os.environ.get("SINCH_OPERATOR_NUMBER", DEFAULT_OPERATOR_NUMBER),
        menu_on_ice=os.environ.get("SINCH_MENU_ON_ICE") == "1",
    )


if __name__ == "__main__":
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    uvicorn.run(app_from_env(), host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8000")))
