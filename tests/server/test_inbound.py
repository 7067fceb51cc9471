"""Inbound calls with a scripted caller: the IVR flow an app answers, end to end, on a test clock.

The pytest plugin's fixtures run it (``sinch_server.inbound_call`` over ``/_sinch/calls``) against
the example webhook app with its menu on ICE, served over real HTTP: ICE -> runMenu -> the
caller's key -> PIE -> connectConf -> the caller hangs up -> DiCE.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from examples.webhook_app import CALLBACK_PATH
from examples.webhook_app import create_app as create_webhook_app
from tests.support import serve

APP_NUMBER = "+46812345678"
CALLER = "+46700000001"


@pytest.fixture
def app_url(sinch_credentials: Any, sinch_client: Any) -> Iterator[str]:
    webhook = create_webhook_app(
        sinch_credentials.application_key, sinch_credentials.application_secret, menu_on_ice=True
    )
    with serve(webhook) as url:
        sinch_client.applications.callbacks.update(url={"primary": url + CALLBACK_PATH})
        yield url


def test_an_ivr_flow_from_ice_to_dice(sinch_server: Any, sinch_client: Any, app_url: str) -> None:
    sinch_server.use_call_ids("ivr-call-1")  # same inputs, same events, same ids
    call_id = sinch_server.inbound_call(CALLER, APP_NUMBER, presses=["1"], hangup_after=30)
    assert call_id == "ivr-call-1"
    (ice,) = sinch_server.advance(0)
    assert (ice["event"], ice["status"], ice["callId"]) == ("ice", 200, call_id)
    assert ice["request"]["cli"] == CALLER and ice["request"]["to"]["endpoint"] == APP_NUMBER
    assert ice["response"]["action"]["name"] == "runMenu"

    (pie,) = sinch_server.advance(2)  # the menu plays; the caller presses 1
    assert pie["request"]["menuResult"] == {
        "type": "return",
        "value": "conference",
        "menuId": "main",
        "inputMethod": "dtmf",
    }
    assert pie["response"]["action"] == {"name": "connectConf", "conferenceId": "myConference"}
    assert [p.id for p in sinch_client.conferences.get("myConference").participants] == [call_id]

    (dice,) = sinch_server.advance(30)  # the caller hangs up
    assert (dice["event"], dice["request"]["reason"], dice["request"]["duration"]) == ("dice", "CALLERHANGUP", 30)
    result = sinch_client.calls.get(call_id)
    assert (result.status, result.reason) == ("FINAL", "CALLERHANGUP")


def test_silence_and_a_wrong_key(sinch_server: Any, app_url: str) -> None:
    sinch_server.inbound_call(CALLER, APP_NUMBER, presses=["9", None], hangup_after=60)
    sinch_server.advance(0)
    (invalid,) = sinch_server.advance(2)
    assert invalid["request"]["menuResult"]["type"] == "invalidinput"
    assert invalid["response"]["action"]["name"] == "runMenu"  # the app plays the menu again
    silence, dice = sinch_server.advance(2)
    assert silence["request"]["menuResult"]["type"] == "timeout"
    assert silence["response"]["action"] == {"name": "hangup"}
    assert (dice["event"], dice["request"]["reason"]) == ("dice", "MANAGERHANGUP")  # the app hung up


def test_the_controls_refuse_bad_calls(sinch_server: Any, sinch_credentials: Any) -> None:
    auth = httpx.BasicAuth(sinch_credentials.application_key, sinch_credentials.application_secret)
    url = sinch_server.url + "/_sinch/calls"
    assert httpx.post(url, params={"cli": CALLER, "to": APP_NUMBER}, auth=auth).status_code == 409  # no callback URLs
    assert httpx.post(url, params={"to": APP_NUMBER}, auth=auth).json()["errorCode"] == 40002
    assert httpx.post(url, params={"cli": CALLER, "to": APP_NUMBER, "hangupAfter": "x"}, auth=auth).status_code == 400
    assert httpx.post(url, params={"cli": CALLER, "to": APP_NUMBER}).status_code == 401


@pytest.mark.parametrize(("answer", "result", "reason"), [("busy", "BUSY", "N/A"), ("noanswer", "NOANSWER", "TIMEOUT")])
def test_a_callee_that_does_not_answer(
    sinch_server: Any, sinch_client: Any, answer: str, result: str, reason: str
) -> None:
    sinch_server.script_callee("+46700000042", answer)
    call_id = sinch_client.callouts.tts(destination={"type": "number", "endpoint": "+46700000042"}, text="Hi").call_id
    sinch_server.advance(5)
    ended = sinch_client.calls.get(call_id)
    assert (ended.status, ended.result, ended.reason) == ("FINAL", result, reason)


def test_an_answering_machine_shows_in_the_ace(sinch_server: Any, sinch_client: Any, app_url: str) -> None:
    sinch_server.script_callee("+46700000043", "machine")
    sinch_server.script_callee("+46700000044", "human")
    machine = sinch_client.callouts.tts(
        destination={"type": "number", "endpoint": "+46700000043"}, text="Hi", enable_ace=True
    )
    person = sinch_client.callouts.tts(
        destination={"type": "number", "endpoint": "+46700000044"}, text="Hi", enable_ace=True
    )
    aces = {record["callId"]: record for record in sinch_server.advance(3)}
    assert aces[machine.call_id]["request"]["amd"] == {"status": "machine", "reason": "beep", "duration": 3}
    assert aces[person.call_id]["request"]["amd"]["status"] == "human"
    assert all(record["ok"] for record in aces.values())  # the example app took both ACEs
    with pytest.raises(httpx.HTTPStatusError):
        sinch_server.script_callee("+46700000045", "sometimes")
