"""The old official SDK (``sinch==1.1.4``) against this server over real HTTP.

Every Calling API call the SDK has runs through one realistic flow. Its signed requests
must be accepted and its calls succeed; where the SDK's own code fails on a valid
response (or sends an invalid request), the test names the bug and asserts exactly that
failure, so a fixed SDK (or a broken server) shows up here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sinch import SinchClient
from sinch.domains.voice.exceptions import VoiceException
from sinch.domains.voice.models.svaml.actions.actions import (
    ContinueAction,
    HangupAction,
    ParkAction,
)
from sinch.domains.voice.models.svaml.instructions.instructions import SayInstruction
from sinch_calling_server import create_app

from tests.support import Clock, serve

from .conftest import KEY, OTHER_KEY, SECRET, SPEC


@pytest.fixture(scope="module")
def sdk_clock() -> Clock:
    return Clock()  # the SDK signs with the real time; this one moves only on request


@pytest.fixture(scope="module")
def sdk_origin(sdk_clock: Clock) -> Iterator[str]:
    """``host:port`` of the recorded server the SDK talks to (its configuration takes no scheme)."""
    app = create_app(spec=SPEC, applications={KEY: SECRET, OTHER_KEY: SECRET}, clock=sdk_clock, validate_responses=True)
    with serve(app) as url:
        yield url.removeprefix("http://")
    assert app.violations == [], "the server sent responses its spec does not allow"


@pytest.fixture
def voice(sdk_origin: str) -> Any:
    client = SinchClient(application_key=KEY, application_secret=SECRET)
    client.configuration.voice_origin = sdk_origin
    client.configuration.voice_applications_origin = sdk_origin
    client.configuration.disable_https = True
    return client.voice


def test_numbers_and_callbacks(voice: Any) -> None:
    numbers = voice.applications.get_numbers().numbers
    assert any(n.number == "+14151112223333" and n.applicationkey for n in numbers)

    voice.applications.assign_numbers(numbers=["+46730170101"], application_key=KEY, capability="sms")
    assigned = {(n.number, n.capability): n.applicationkey for n in voice.applications.get_numbers().numbers}
    assert assigned[("+46730170101", "sms")] == KEY

    voice.applications.unassign_number(number="+46730170101", application_key=KEY, capability="sms")
    assigned = {(n.number, n.capability): n.applicationkey for n in voice.applications.get_numbers().numbers}
    assert assigned[("+46730170101", "sms")] is None

    voice.applications.update_callback_urls(KEY, primary="https://example.com/p", fallback="https://example.com/f")
    urls = voice.applications.get_callback_urls(KEY)
    assert (urls.primary, urls.fallback) == ("https://example.com/p", "https://example.com/f")


def test_sdk_bug_assign_sends_application_key_in_snake_case(voice: Any) -> None:
    """SDK bug: assign_numbers sends ``application_key`` (the API's field is ``applicationkey``).

    The API ignores the unknown field and assigns to the signing application instead of the
    one asked for.
    """
    voice.applications.assign_numbers(numbers=["+14155552671"], application_key=OTHER_KEY, capability="voice")
    assigned = {(n.number, n.capability): n.applicationkey for n in voice.applications.get_numbers().numbers}
    assert assigned[("+14155552671", "voice")] == KEY  # not OTHER_KEY


def test_query_number(voice: Any) -> None:
    """The SDK reads ``number``, as Sinch answers (the seed's example said ``numberItem``)."""
    looked_up = voice.applications.query_number("+46730170101")
    assert (looked_up.country_id, looked_up.number_type) == ("SE", "Mobile")
    assert looked_up.normalized_number == "+46730170101"
    assert looked_up.restricted is False
    assert looked_up.rate == {"currencyId": "USD", "amount": 0.0368}


def test_call_flow(voice: Any, sdk_clock: Clock) -> None:
    destination = {"type": "number", "endpoint": "+46730170101"}
    placed = voice.callouts.text_to_speech(
        destination=destination, cli="+46000000000", text="Hello from the SDK", locale="en-US", custom="c1"
    )
    call_id = placed.call_id
    assert len(call_id) == 32

    # SDK bug: calls.get parses ``from`` with ``call_origin.get["endpoint"]`` (subscripting the
    # method), so every call result that has a ``from`` crashes.
    with pytest.raises(TypeError, match="not subscriptable"):
        voice.calls.get(call_id)

    sdk_clock.advance(3)
    voice.calls.update(
        call_id, instructions=[SayInstruction(text="Still there?", locale="en-US")], action=ContinueAction()
    )
    voice.calls.manage_with_call_leg(
        call_id, "callee", instructions=[SayInstruction(text="Goodbye", locale="en-US")], action=HangupAction()
    )
    with pytest.raises(VoiceException, match="Call not found"):
        voice.calls.update(call_id, instructions=[], action=HangupAction())


def test_sdk_bug_nested_actions_are_sent_in_snake_case_with_nulls(voice: Any) -> None:
    """SDK bug: nested SVAML models go through ``dataclasses.asdict``: nulls and snake_case keys.

    ``ParkAction()`` becomes ``{"name": "park", "locale": null, "intro_prompt": null, ...}``,
    which the API refuses (``locale`` must be a locale), as does a ``say`` without a locale.
    """
    call_id = voice.callouts.text_to_speech(destination={"type": "number", "endpoint": "+46730170101"}).call_id
    with pytest.raises(VoiceException) as refused:
        voice.calls.update(call_id, instructions=[], action=ParkAction())
    assert refused.value.response_status_code == 400
    assert refused.value.http_response.body["errorCode"] == 40001
    with pytest.raises(VoiceException):
        voice.calls.update(call_id, instructions=[SayInstruction(text="hi")], action=ContinueAction())


def test_conference_flow(voice: Any, sdk_clock: Clock) -> None:
    first = voice.conferences.call(
        destination={"type": "number", "endpoint": "+46708168731"},
        conference_id="sdk-room",
        cli="+46000000000",
        conference_dtmf_options={"mode": "detect", "max_digits": 2, "timeout_mills": 5000},
        moh_class="music1",
        locale="en-US",
        greeting="Welcome",
    ).call_id
    second = voice.callouts.conference(
        destination={"type": "number", "endpoint": "+46708425201"}, conference_id="sdk-room"
    ).call_id
    sdk_clock.advance(5)

    participants = voice.conferences.get("sdk-room").participants
    assert {p.id for p in participants} == {first, second}
    assert all(p.duration == 3 and not p.muted and not p.onhold for p in participants)

    voice.conferences.manage_participant(call_id=first, conference_id="sdk-room", command="mute")
    voice.conferences.manage_participant(call_id=second, conference_id="sdk-room", command="onhold", moh="music2")
    state = {p.id: p for p in voice.conferences.get("sdk-room").participants}
    assert state[first].muted and state[second].onhold

    voice.conferences.kick_participant(call_id=first, conference_id="sdk-room")
    assert [p.id for p in voice.conferences.get("sdk-room").participants] == [second]
    voice.conferences.kick_all("sdk-room")
    with pytest.raises(VoiceException, match="Conference not found"):
        voice.conferences.get("sdk-room")


def test_custom_callout(voice: Any) -> None:
    placed = voice.callouts.custom(
        cli="+46000000000",
        destination={"type": "number", "endpoint": "+46730170101"},
        custom="x",
        max_duration=600,
        ice='{"action":{"name":"connectPstn","number":"+46730170101"}}',
        ace='{"action":{"name":"continue"}}',
        pie="https://example.com/pie",
    )
    assert len(placed.call_id) == 32


def test_wrong_secret_is_refused(sdk_origin: str) -> None:
    client = SinchClient(application_key=KEY, application_secret="d3Jvbmc=")
    client.configuration.voice_applications_origin = sdk_origin
    client.configuration.disable_https = True
    with pytest.raises(VoiceException, match="Invalid credentials") as refused:
        client.voice.applications.get_numbers()
    assert refused.value.response_status_code == 401
