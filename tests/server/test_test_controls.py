"""``/_sinch/...``: absent without ``--test-controls``, for the applications only with it.

Regressions of an adversarial pass: ``POST /_sinch/advance?seconds=1e20`` needed no credentials,
answered 500 and broke the server until restart; ``/_sinch/deliveries`` (GET, DELETE) needed no
credentials and showed callback bodies, with or without test controls.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sinch_calling_server.pipeline import Pipeline

from tests.support import Clock

from .conftest import KEY, SECRET, signed_client

ENDPOINTS = [("GET", "/_sinch/deliveries"), ("DELETE", "/_sinch/deliveries"), ("POST", "/_sinch/advance")]
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def anonymous(app: Pipeline) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_without_test_controls_every_endpoint_is_unknown(
    make_app: Callable[..., Pipeline], clock: Clock, method: str, path: str
) -> None:
    app = make_app()
    for client in (anonymous(app), signed_client(app, clock)):
        async with client:
            r = await client.request(method, path)
            assert (r.status_code, r.json()["errorCode"]) == (404, 40400)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_with_test_controls_the_applications_credentials_are_needed(
    make_app: Callable[..., Pipeline], clock: Clock, method: str, path: str
) -> None:
    app = make_app(test_controls=True)
    async with anonymous(app) as client:
        r = await client.request(method, path)
        assert (r.status_code, r.json()["errorCode"]) == (401, 40100)
        r = await client.request(method, path, auth=httpx.BasicAuth(UNKNOWN, SECRET))
        assert (r.status_code, r.json()["errorCode"]) == (401, 40108)
        r = await client.request(method, path, auth=httpx.BasicAuth(KEY, SECRET))
        assert r.status_code in (200, 204), r.text
    async with signed_client(app, clock) as client:
        assert (await client.request(method, path)).status_code in (200, 204)
    async with signed_client(app, clock, key=UNKNOWN) as client:
        assert (await client.request(method, path)).status_code == 401


@pytest.mark.parametrize("seconds", ["1e20", "inf", "-inf", "nan", "-1", "2678401", "1e308", ""])
async def test_advance_refuses_out_of_range_seconds_and_keeps_working(
    make_app: Callable[..., Pipeline], clock: Clock, seconds: str
) -> None:
    app = make_app(test_controls=True)
    async with signed_client(app, clock) as client:
        r = await client.post("/_sinch/advance", params={"seconds": seconds})
        assert (r.status_code, r.json()["errorCode"]) == (400, 40001), r.text
        assert "seconds" in r.json()["message"]
        r = await client.post("/_sinch/advance", params={"seconds": "2678400"})  # 31 days: the most at once
        assert r.status_code == 200, r.text
        assert r.json()["now"] == "2026-12-28T10:55:48Z"
        assert (await client.get("/v1/configuration/numbers")).status_code == 200
    assert app.callbacks is not None
    with pytest.raises(ValueError, match="seconds"):
        await app.callbacks.advance(1e20)
