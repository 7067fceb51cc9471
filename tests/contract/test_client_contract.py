"""The generated client against the spec: schemathesis' valid requests, sent through the client.

For every operation, each valid request schemathesis draws (examples, coverage and fuzzing, in
positive mode) becomes the arguments (path parameters, and body fields by their Python names) of
the public method generator/surface.yaml names for it (``tests/operations.py``), and
goes through the generated client twice: the sync client over real HTTP (uvicorn on loopback), with
the body fields as plain dicts, and the async client over ``httpx.ASGITransport``, with them as the
generated attrs models, each to its own in-process recorded server. For both it asserts that

- the body schemathesis drew is exactly what went on the wire;
- the raw response conforms to the spec (schemathesis' own status, content-type, header and schema checks);
- a 2xx is parsed into the operation's typed model, losslessly; anything else raises the
  ``APIError`` subclass of its status with Sinch's ``errorCode`` and ``message``.

Path parameters stay as drawn; for most cases the resource they name is created first (a call
with that id, a conference of that name), so the success paths are exercised as well as the 404s.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import shutil
import tempfile
import threading
import uuid
import zlib
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import schemathesis
import sinch_calling.models as models
from schemathesis import Config
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sinch_calling import APIError, AsyncSinchClient, SinchCallingError, SinchClient, with_raw_response
from sinch_calling._runtime.exceptions import error_from_response
from sinch_calling_server.pipeline import Pipeline

from tests.operations import bind, expressible
from tests.support import KEY, SECRET, serve

from .harness import (
    RUN,
    SPEC,
    IdQueue,
    fixtures_dir,
    in_process_app,
    raw_config,
    same_json,
    spec_document,
)

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

DOCUMENT = spec_document()
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]

_TMP = Path(tempfile.mkdtemp(prefix="contract-client-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
FIXTURES = fixtures_dir(_TMP)


def client_config() -> Config:
    """schemathesis.toml, for valid requests only: positive mode; no stateful phase (no links needed)."""
    data = raw_config()
    data["seed"] = RUN.seed
    data.setdefault("generation", {})["mode"] = "positive"
    if RUN.fuzz:
        data["generation"].update({"deterministic": False, "max-examples": RUN.max_examples})
    data.setdefault("phases", {})["stateful"] = {"enabled": False}
    return Config.from_dict(data)


# ---------------------------------------------------------------- from the spec to the client's names


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def ref_name(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ClientOperation:
    """What the spec says of one operation's request body and answer."""

    operation_id: str
    has_body: bool
    success_model: type | None  # the model of its 2xx body, None for an empty answer

    @classmethod
    def of(cls, method: str, path: str) -> ClientOperation:
        raw = DOCUMENT["paths"][path][method.lower()]
        success_model = None
        for status, response in raw["responses"].items():
            content = resolve(response).get("content") if status.startswith("2") else None
            if content:
                success_model = getattr(models, ref_name(content["application/json"]["schema"]))
        return cls(raw["operationId"], "requestBody" in raw, success_model)


def path_values(case: schemathesis.Case) -> dict[str, str]:
    """The drawn path parameters as values: schemathesis keeps them percent-encoded for the wire."""
    return {name: unquote(str(value)) for name, value in (case.path_parameters or {}).items()}


# ---------------------------------------------------------------- servers whose resources the test can name


@dataclass
class Target:
    app: Pipeline
    ids: IdQueue
    responses: list[httpx.Response]

    def record(self, response: httpx.Response) -> None:
        self.responses.append(response)

    async def arecord(self, response: httpx.Response) -> None:
        self.responses.append(response)


def make_target() -> Target:
    ids = IdQueue()
    return Target(in_process_app(FIXTURES, id_factory=ids), ids, [])


def arranged(case: schemathesis.Case) -> bool:
    """Most cases first create what their path names; one in four does not (the 404 paths)."""
    key = json.dumps(case.path_parameters, sort_keys=True, ensure_ascii=False).encode()
    return zlib.crc32(key) % 4 != 0


def arrangement(case: schemathesis.Case) -> list[tuple[str, Any]]:
    """The callouts that make the resources of a case's path exist: (call id to assign, callout body)."""
    params = path_values(case)
    destination = {"type": "number", "endpoint": "+46700000009"}
    if "conferenceId" in params:
        body = {
            "method": "conferenceCallout",
            "conferenceCallout": {"destination": destination, "conferenceId": params["conferenceId"]},
        }
        return [(params.get("callId") or uuid.uuid4().hex, body)]
    if "callId" in params:
        return [
            (
                params["callId"],
                {
                    "method": "conferenceCallout",
                    "conferenceCallout": {"destination": destination, "conferenceId": "contract-room"},
                },
            )
        ]
    return []


# ---------------------------------------------------------------- what every call must satisfy


def check_exchange(
    case: schemathesis.Case, operation: ClientOperation, outcome: Any, raw: httpx.Response, how: str
) -> None:
    sent = raw.request
    if operation.has_body:
        assert json.loads(sent.content) == case.body, f"{how}: the client sent another body than the one drawn"
    # First the server's answer against the spec, so that a violation is reported as the server's...
    case.validate_response(raw, checks=CONFORMANCE)
    # ...then the client's reading of an answer that conforms.
    if raw.is_success:
        assert not isinstance(outcome, BaseException), (
            f"{how}: the client refused a conformant {raw.status_code}: {outcome!r}"
        )
        assert outcome.status_code == raw.status_code
        if operation.success_model is None:
            assert outcome.parsed is None
        else:
            assert isinstance(outcome.parsed, operation.success_model), f"{how}: parsed into {type(outcome.parsed)}"
            assert same_json(outcome.parsed.to_dict(), raw.json()), f"{how}: the typed response lost or changed data"
    else:
        assert isinstance(outcome, APIError), f"{how}: a {raw.status_code} gave {outcome!r} instead of an APIError"
        expected = error_from_response(raw)
        assert type(outcome) is type(expected) and outcome.status_code == raw.status_code
        body = raw.json()
        assert (outcome.error_code, outcome.message) == (body["errorCode"], body["message"])


# ---------------------------------------------------------------- the sync and async clients

SYNC = make_target()
ASYNC = make_target()


@pytest.fixture(scope="module")
def sync_client() -> Iterator[SinchClient]:
    with (
        serve(SYNC.app) as url,
        httpx.Client(event_hooks={"response": [SYNC.record]}) as http,
        SinchClient(
            application_key=KEY, application_secret=SECRET, base_url=f"{url}/v1", httpx_client=http, max_retries=0
        ) as client,
    ):
        yield client


class AsyncRunner:
    """One event loop in a thread for the whole module, so the async client and its pool live across cases."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def async_client() -> Iterator[tuple[AsyncRunner, AsyncSinchClient]]:
    runner = AsyncRunner()

    async def open_client() -> AsyncSinchClient:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=ASYNC.app), event_hooks={"response": [ASYNC.arecord]}
        )
        return AsyncSinchClient(
            application_key=KEY,
            application_secret=SECRET,
            base_url="http://server/calling/v1",
            httpx_client=http,
            max_retries=0,
        )

    client = runner.run(open_client())
    try:
        yield runner, client
    finally:

        async def close() -> None:
            await client._http.aclose()
            await client.close()

        runner.run(close())
        runner.close()


def call(function: Callable[[], Any]) -> Any:
    """The client's answer, or the error it raised (judged after the raw response has been checked)."""
    try:
        return function()
    except SinchCallingError as error:
        return error


async def acall(coroutine: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await coroutine
    except SinchCallingError as error:
        return error


schema = schemathesis.openapi.from_path(SPEC, config=client_config())
OPERATIONS: dict[str, ClientOperation] = {}


def operation_of(case: schemathesis.Case) -> ClientOperation:
    label = case.operation.label
    if label not in OPERATIONS:
        OPERATIONS[label] = ClientOperation.of(case.method, case.operation.path)
    return OPERATIONS[label]


@schema.parametrize()
def test_generated_client_sends_valid_requests_and_parses_answers(
    case: schemathesis.Case, sync_client: SinchClient, async_client: tuple[AsyncRunner, AsyncSinchClient]
) -> None:
    RUN.count("client (sync+async)", case.operation.label)
    operation = operation_of(case)
    drawn = None
    if operation.has_body:
        case.body = drawn = expressible(operation.operation_id, case.body)
    setup = arrangement(case) if arranged(case) else []

    # sync, over real HTTP, the body fields as plain dicts
    for call_id, body in setup:
        SYNC.ids.push(call_id)
        place, kwargs = bind(sync_client, "callout", {}, body)
        place(**kwargs)
    SYNC.responses.clear()
    method, kwargs = bind(sync_client, operation.operation_id, path_values(case), drawn)
    outcome = call(lambda: with_raw_response(method)(**kwargs))
    assert len(SYNC.responses) == 1
    check_exchange(case, operation, outcome, SYNC.responses[0], "sync client")
    assert not setup or SYNC.responses[0].is_success, f"sync client: {case.path_parameters} exist, yet {outcome!r}"

    # async, over ASGI, the body fields as the generated models
    runner, aclient = async_client
    for call_id, body in setup:
        ASYNC.ids.push(call_id)
        place, kwargs = bind(aclient, "callout", {}, body, as_models=True)
        runner.run(place(**kwargs))
    ASYNC.responses.clear()
    method, kwargs = bind(aclient, operation.operation_id, path_values(case), drawn, as_models=True)
    outcome = runner.run(acall(with_raw_response(method)(**kwargs)))
    assert len(ASYNC.responses) == 1
    check_exchange(case, operation, outcome, ASYNC.responses[0], "async client")
    assert not setup or ASYNC.responses[0].is_success, f"async client: {case.path_parameters} exist, yet {outcome!r}"


def test_integral_float_for_an_integer_field_is_accepted() -> None:
    body = {"destination": {"type": "number", "endpoint": "+46700000001"}, "maxDuration": 600.0}
    assert models.CustomCalloutRequest.from_dict(body).max_duration == 600


def test_dot_segment_path_values_reach_their_resource(sync_client: SinchClient) -> None:
    """``conferenceId`` is any non-empty string; ``..`` must be sent as ``%2E%2E``, not resolved away."""
    sync_client.callouts.conference(destination={"type": "number", "endpoint": "+46700000009"}, conference_id="..")
    assert sync_client.conferences.get("..").participants
