"""Replays: Sinch's protocol accepts a signed request sent again within the skew; the guard does not."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sinch_calling._runtime.signing import ApplicationAuth
from sinch_calling_server.pipeline import Pipeline

from tests.support import Clock

from .conftest import KEY, SECRET


async def send_twice(app: Pipeline, clock: Clock) -> tuple[int, int]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        request = client.build_request("GET", "/v1/configuration/numbers")
        signed = next(ApplicationAuth(KEY, SECRET, clock=clock.datetime).auth_flow(request))
        first = await client.send(signed)
        second = await client.send(signed)
        return first.status_code, second.status_code


async def test_a_replay_within_the_skew_is_accepted_by_default(make_app: Callable[..., Pipeline], clock: Clock) -> None:
    assert await send_twice(make_app(), clock) == (200, 200)


async def test_the_replay_guard_refuses_the_same_signed_request_twice(
    make_app: Callable[..., Pipeline], clock: Clock
) -> None:
    app = make_app(replay_guard=True)
    assert await send_twice(app, clock) == (200, 401)
    clock.advance(1)  # a new timestamp is a new signature: accepted
    assert await send_twice(app, clock) == (200, 401)
