"""A typed tour of the public API; `make lint` runs `mypy --strict` on it.

It is never executed by pytest (no network); it must type-check, so that a template change that
loosens or breaks the public types fails CI. tests/typing/test_typing.py checks the other half:
that mistakes in the same calls are reported.
"""

from __future__ import annotations

import asyncio

import httpx
from sinch_calling import (
    APIError,
    AsyncSinchClient,
    NotFoundError,
    Response,
    ResponseValidationError,
    SinchCallingError,
    SinchClient,
    with_raw_response,
)
from sinch_calling.models import (
    CalloutResponse,
    CallReason,
    CallResult,
    CallStatus,
    ConferenceInfo,
    HangupAction,
    Identity,
    IdentityType,
    SayInstruction,
)
from sinch_calling.params import IdentityParam, ManageCallInstructionParam


def place_and_follow(client: SinchClient) -> CallReason | None:
    # plain dicts, checked against the TypedDicts
    placed: CalloutResponse = client.callouts.tts(
        destination={"type": "number", "endpoint": "+46700000001"}, text="Hi", enable_ace=True, locale="en-US"
    )
    result: CallResult = client.calls.get(placed.call_id, timeout=5, max_retries=1, extra_headers={"x-trace": "1"})
    if result.status is CallStatus.ONGOING:
        bye: list[ManageCallInstructionParam] = [{"name": "say", "text": "Bye"}]
        client.calls.update(placed.call_id, instructions=bye, action={"name": "hangup"})
    raw: Response[CallResult] = with_raw_response(client.calls.get)(placed.call_id)
    assert raw.parsed.call_id == placed.call_id
    return result.reason if isinstance(result.reason, CallReason) else None


def with_models(client: SinchClient) -> None:
    # the attrs models wherever a dict goes, and the two mixed
    destination: IdentityParam = {"type": IdentityType.NUMBER, "endpoint": "+46700000001"}
    client.callouts.tts(destination=destination, prompts="#tts[Hi]")
    client.callouts.custom(destination=Identity(type_=IdentityType.NUMBER, endpoint="+46700000001"), ice="{}")
    client.calls.update_leg(
        "call", "callee", instructions=[SayInstruction(name="say", text="Bye")], action=HangupAction(name="hangup")
    )


async def conference(client: AsyncSinchClient) -> int:
    placed = await client.callouts.conference(
        destination={"type": "number", "endpoint": "+46700000002"},
        conference_id="room",
        conference_dtmf_options={"mode": "detect", "maxDigits": 2},
    )
    info: ConferenceInfo = await client.conferences.get("room")
    await client.conferences.mute("room", placed.call_id)
    await client.conferences.hold("room", placed.call_id, moh="music1")
    raw: Response[None] = await with_raw_response(client.conferences.kick_all)("room")
    assert raw.parsed is None
    numbers = await client.numbers.list()
    await client.numbers.assign(numbers=[n.number for n in numbers.numbers], capability="voice")
    await client.applications.callbacks.update(url={"primary": "https://example.com/sinch"})
    return len(info.participants)


def errors(client: SinchClient) -> str:
    try:
        client.with_options(max_retries=5, timeout=httpx.Timeout(3.0)).calls.get("x")
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
        with_models(sync)
        errors(sync)
    asyncio.run(conference(AsyncSinchClient(region="euc1", max_retries=0, auth="basic")))
