"""Cassettes: the shipped recordings fit the spec; replay and record modes over HTTP."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sinch_calling_server import Application, create_app
from sinch_calling_server.messages import Reply, ResponseViolation, check_reply
from sinch_calling_server.pipeline import Pipeline
from sinch_calling_server.recordings import load_cassettes, packaged_recordings, redact
from sinch_calling_server.spec import CompiledSpec, compile_spec, load_spec

from tests.support import Clock, serve

from .conftest import KEY, OTHER_KEY, OTHER_SECRET, SECRET, SPEC, signed_client

SHIPPED = load_cassettes(packaged_recordings())


@functools.cache
def compiled_spec() -> CompiledSpec:
    """Compiled once for the module (half a second each time); tests only read it."""
    return compile_spec(load_spec(SPEC))


@pytest.mark.parametrize("interaction", SHIPPED, ids=[str(i["source"]) for i in SHIPPED])
def test_every_shipped_recording_fits_the_spec(interaction: dict[str, Any]) -> None:
    compiled = compiled_spec()
    request, response = interaction["request"], interaction["response"]
    found = compiled.match("/v1" + request["path"])
    assert found is not None, request["path"]
    operation = found[0][request["method"]]
    assert operation.operation_id == interaction["operationId"]
    if request["body"] is not None:
        assert operation.body_validator is not None and operation.body_validator.is_valid(request["body"])
    else:
        assert not operation.body_required
    body = response["body"]
    check_reply(
        operation,
        Reply(response["status"], None, response["headers"], b"" if body is None else json.dumps(body).encode()),
    )


def test_shipped_recordings_cover_every_operation() -> None:
    compiled = compiled_spec()
    assert {i["operationId"] for i in SHIPPED} == set(compiled.operations)


async def test_replay_answers_the_seed_examples(make_app: Callable[..., Pipeline], clock: Clock) -> None:
    app = make_app(mode="replay")
    async with signed_client(app, clock) as c:
        r = await c.get("/v1/configuration/numbers/")
        assert r.status_code == 200 and r.json()["numbers"][0]["number"] == "+19160001112222"
        r = await c.get("/v1/calling/query/number/+46(0)73-017-0101")
        assert r.json()["number"]["normalizedNumber"] == "+46730170101"
        # JSON bodies match after normalisation (key order, spacing).
        body = b'{"numbers":["+14151112223333"],  "applicationkey":"11983f76-12c8-1111-9515-4785c7b67ca8"}'
        r = await c.post("/v1/configuration/numbers", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 204 and r.content == b""
        r = await c.patch(
            "/calling/v1/calls/id/4398599d1ba84ef3bde0a82dfb61abed",
            json={"action": {"name": "continue", "record": True}},
        )
        assert r.status_code == 204
        # Unmatched: a clear Sinch-style error.
        r = await c.get("/calling/v1/calls/id/ffffffffffffffffffffffffffffffff")
        assert r.status_code == 404
        assert r.json()["errorCode"] == 40400 and "No recorded interaction" in r.json()["message"]
        # Still authenticated and validated like every mode.
        r = await c.get("/v1/configuration/numbers", auth=httpx.BasicAuth(KEY, "wrong"))
        assert r.status_code == 401
    assert app.violations == []


async def test_replay_repeats_in_recorded_order(
    make_app: Callable[..., Pipeline], clock: Clock, tmp_path: Path
) -> None:
    entries = [
        {
            "request": {"method": "GET", "path": "/calls/id/abc", "query": {}, "body": None},
            "response": {
                "status": 200,
                "headers": {"content-type": "application/json"},
                "body": {"callId": "abc", "status": status},
            },
        }
        for status in ("ONGOING", "FINAL")
    ]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"interactions": entries}))
    async with signed_client(make_app(mode="replay", recordings=tmp_path), clock) as c:
        statuses = [(await c.get("/calling/v1/calls/id/abc")).json()["status"] for _ in range(3)]
    assert statuses == ["ONGOING", "FINAL", "FINAL"]


async def test_replay_falls_back_to_the_simulation(make_app: Callable[..., Pipeline], clock: Clock) -> None:
    async with signed_client(make_app(mode="replay", fallback="simulate"), clock) as c:
        r = await c.get("/v1/configuration/numbers/")
        assert r.json()["numbers"][0]["number"] == "+19160001112222"  # recorded
        r = await c.post(
            "/calling/v1/callouts",
            json={
                "method": "ttsCallout",
                "ttsCallout": {"destination": {"type": "number", "endpoint": "+46730170101"}},
            },
        )
        call_id = r.json()["callId"]
        r = await c.get(f"/calling/v1/calls/id/{call_id}")  # simulated
        assert r.status_code == 200 and r.json()["status"] == "ONGOING"


def test_redact() -> None:
    body = {
        "options": {"credentials": "aws:key", "destinationUrl": "s3://b"},
        "note": f"secret is {SECRET}",
        "n": [1, {"token": 2}],
    }
    assert redact(body, [SECRET]) == {
        "options": {"credentials": "[REDACTED]", "destinationUrl": "s3://b"},
        "note": "secret is [REDACTED]",
        "n": [1, {"token": "[REDACTED]"}],
    }


async def test_record_then_replay(clock: Clock, tmp_path: Path) -> None:
    """Record through this server in front of a live upstream (another instance), then replay."""
    # The recorder signs upstream requests with the real time, as the real API expects.
    upstream_app = create_app(spec=SPEC, applications={OTHER_KEY: OTHER_SECRET}, validate_responses=True)
    with serve(upstream_app) as upstream_url:
        recorder = create_app(
            spec=SPEC,
            applications={KEY: SECRET},
            clock=clock,
            mode="record",
            recordings=tmp_path,
            upstream=upstream_url,
            upstream_application=Application(OTHER_KEY, OTHER_SECRET),
        )
        async with signed_client(recorder, clock) as c:
            r = await c.post(
                "/calling/v1/callouts",
                json={
                    "method": "ttsCallout",
                    "ttsCallout": {
                        "destination": {"type": "number", "endpoint": "+46730170101"},
                        "custom": f"leak {SECRET}",
                    },
                },
            )
            assert r.status_code == 200
            call_id = r.json()["callId"]
            r = await c.get(f"/calling/v1/calls/id/{call_id}")
            assert r.status_code == 200 and r.json()["custom"] == f"leak {SECRET}"
            recorded = r.json()
            r = await c.get("/calling/v1/calls/id/nope")
            assert r.status_code == 404
    assert upstream_app.violations == []

    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["callout.yaml", "getCallResult.yaml"]
    text = "".join((tmp_path / f).read_text() for f in files)
    for secret in (SECRET, OTHER_SECRET, "Application ", "x-timestamp", "authorization"):
        assert secret.lower() not in text.lower()
    results = yaml.safe_load((tmp_path / "getCallResult.yaml").read_text())["interactions"]
    assert [i["response"]["status"] for i in results] == [200, 404]
    assert results[0]["request"] == {"method": "GET", "path": f"/calls/id/{call_id}", "query": {}, "body": None}

    replayer = create_app(
        spec=SPEC, applications={KEY: SECRET}, clock=clock, mode="replay", recordings=tmp_path, validate_responses=True
    )
    async with signed_client(replayer, clock) as c:
        r = await c.get(f"/v1/calls/id/{call_id}/")
        assert r.json() == recorded | {"custom": "leak [REDACTED]"}
    assert replayer.violations == []


async def test_record_refuses_an_answer_that_violates_the_spec(clock: Clock, tmp_path: Path) -> None:
    seen_authorization: list[bytes] = []

    async def bad_upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen_authorization.extend(value for name, value in scope["headers"] if name == b"authorization")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"callId": 5}'})

    with serve(bad_upstream) as upstream_url:
        recorder = create_app(
            spec=SPEC,
            applications={KEY: SECRET},
            clock=clock,
            mode="record",
            recordings=tmp_path,
            upstream=upstream_url,
            upstream_application=Application(OTHER_KEY, OTHER_SECRET),
            upstream_basic=True,
        )
        async with signed_client(recorder, clock) as c:
            r = await c.post(
                "/calling/v1/callouts",
                json={"method": "ttsCallout", "ttsCallout": {"destination": {"type": "number", "endpoint": "+4673"}}},
            )
    assert r.status_code == 502
    assert "violates the spec" in r.json()["message"]
    assert list(tmp_path.iterdir()) == []
    # --upstream-basic: the upstream got the upstream application's credentials, not the caller's.
    assert seen_authorization == [b"Basic " + base64.b64encode(f"{OTHER_KEY}:{OTHER_SECRET}".encode())]


def test_check_reply_catches_undeclared_statuses() -> None:
    compiled = compiled_spec()
    with pytest.raises(ResponseViolation, match="not declared"):
        check_reply(compiled.operations["getNumbers"], Reply(404, {"errorCode": 1, "message": "x"}))
    check_reply(compiled.operations["getNumbers"], Reply(401, {"errorCode": "40108", "message": "x"}))
