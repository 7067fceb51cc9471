"""A typed tour of the public API; `make lint` runs `mypy --strict` on it.

It is never executed by pytest (no network); it must type-check, so that a template change that
loosens or breaks the public types fails CI.
"""

from __future__ import annotations

import asyncio

import httpx
from sinch_calling import (
    APIError,
    AsyncSinchClient,
    NotFoundError,
    ResponseValidationError,
    SinchCallingError,
    SinchClient,
)
from sinch_calling.api.calls import get_call_result
from sinch_calling.models import (
    CalloutResponse,
    CallReason,
    CallResult,
    CallStatus,
    ConferenceCallout,
    ConferenceCalloutRequest,
    ConferenceCommand,
    ConferenceInfo,
    HangupAction,
    Identity,
    IdentityType,
    ManageCallRequest,
    ManageConferenceParticipantRequest,
    SayInstruction,
    TtsCallout,
    TtsCalloutRequest,
)
from sinch_calling.types import Response


def place_and_follow(client: SinchClient) -> CallReason | None:
    destination = Identity(type_=IdentityType.NUMBER, endpoint="+46700000001")
    placed: CalloutResponse = client.callouts.callout(
        body=TtsCallout(method="ttsCallout", tts_callout=TtsCalloutRequest(destination=destination, text="Hi"))
    )
    result: CallResult = client.calls.get_call_result(call_id=placed.call_id)
    if result.status is CallStatus.ONGOING:
        request = ManageCallRequest(
            instructions=[SayInstruction(name="say", text="Bye")], action=HangupAction(name="hangup")
        )
        client.calls.manage_call(call_id=placed.call_id, body=request)
    raw: Response[CallResult] = client.calls.with_raw_response.get_call_result(call_id=placed.call_id)
    detailed: Response[CallResult] = get_call_result.sync_detailed(placed.call_id, client=client)
    assert raw.status_code == detailed.status_code
    return result.reason if isinstance(result.reason, CallReason) else None


async def conference(client: AsyncSinchClient) -> int:
    destination = Identity(type_=IdentityType.NUMBER, endpoint="+46700000002")
    callout = ConferenceCallout(
        method="conferenceCallout",
        conference_callout=ConferenceCalloutRequest(destination=destination, conference_id="room"),
    )
    placed = await client.callouts.callout(body=callout)
    info: ConferenceInfo = await client.conferences.get_conference_info(conference_id="room")
    mute = ManageConferenceParticipantRequest(command=ConferenceCommand.MUTE)
    await client.conferences.manage_conference_participant(conference_id="room", call_id=placed.call_id, body=mute)
    await client.conferences.kick_conference_all(conference_id="room")
    return len(info.participants)


def errors(client: SinchClient) -> str:
    try:
        client.with_options(max_retries=5, timeout=httpx.Timeout(3.0)).calls.get_call_result(call_id="x")
    except NotFoundError as exc:
        code: int | None = exc.error_code
        return f"{exc.status_code} {code} {exc.message} {exc.reference}"
    except APIError as exc:
        return str(exc.response.status_code)
    except ResponseValidationError as exc:
        return exc.field
    except SinchCallingError:
        return "other"
    return "ok"


def main() -> None:
    with SinchClient(application_key="key", application_secret="c2VjcmV0", base_url="http://127.0.0.1:8080/v1") as sync:
        place_and_follow(sync)
        errors(sync)
    asyncio.run(conference(AsyncSinchClient(region="euc1", max_retries=0, auth="basic")))
