"""The conformance corpus: payloads written from Sinch's public documentation and SDKs, not from our spec.

Each file in ``payloads/`` is one request body, response body, callback event or SVAML answer as
Sinch documents, sends or accepts it, and names its source. Our own reading of the seed is not the
judge here: every payload must

- validate against the spec (with the spellings the spec accepts through ``x-sinch-aliases``,
  exactly as the recorded server validates),
- parse with the generated client (responses, events, SVAML) and come back out losslessly, in the
  documented spelling, valid against the spec as written,
- and, for requests, go from the generated client to the recorded server over real HTTP, be
  accepted there (2xx, its answer valid and parsed by the client) and arrive as the client wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sinch_calling import SinchClient, models, with_raw_response
from sinch_calling.callbacks import parse_event
from sinch_calling_server import create_app
from sinch_calling_server.pipeline import Pipeline
from sinch_calling_server.spec import with_aliases

from tests.operations import answer, bind
from tests.support import KEY, SECRET, SPEC_PATH, Clock, serve, spec_document

PAYLOADS = Path(__file__).parent / "payloads"
KINDS = ("request", "response", "event", "svaml")
EVENT_SCHEMAS = {"ice": "IceEvent", "ace": "AceEvent", "dice": "DiceEvent", "pie": "PieEvent", "notify": "NotifyEvent"}
ANSWER_SCHEMAS = {"ice": "IceResponse", "ace": "AceResponse", "pie": "PieResponse"}


@dataclass(frozen=True)
class Payload:
    path: Path
    source: str
    kind: str
    body: Any
    operation: str | None = None
    status: int | None = None
    event: str | None = None

    @property
    def id(self) -> str:
        return str(self.path.relative_to(PAYLOADS))


def load_payloads() -> list[Payload]:
    found = []
    for path in sorted(PAYLOADS.glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found.append(
            Payload(
                path=path,
                source=data["source"],
                kind=data["kind"],
                body=data["body"],
                operation=data.get("operation"),
                status=data.get("status"),
                event=data.get("event"),
            )
        )
    return found


CORPUS = load_payloads()


def of_kind(*kinds: str) -> list[Any]:
    return [pytest.param(p, id=p.id) for p in CORPUS if p.kind in kinds]


# ---------------------------------------------------------------- the spec


@cache
def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path template, operation object)."""
    found = {}
    for template, item in spec_document()["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                found[operation["operationId"]] = (method, template, operation)
    return found


@cache
def _registry(aliases: bool) -> Registry[Any]:
    document = dict(spec_document())
    if aliases:
        document["components"] = with_aliases(document["components"])
    return Registry().with_resource("urn:spec", Resource.from_contents(document, default_specification=DRAFT202012))


def validator(schema: dict[str, Any], *, aliases: bool) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=_registry(aliases), format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_of(payload: Payload) -> dict[str, Any] | None:
    """The spec's schema for a payload (as a local $ref), or None for a response declared without a body."""
    if payload.kind == "event":
        return {"$ref": f"urn:spec#/components/schemas/{EVENT_SCHEMAS[str(payload.event)]}"}
    if payload.kind == "svaml":
        return {"$ref": f"urn:spec#/components/schemas/{ANSWER_SCHEMAS[str(payload.event)]}"}
    _, _, operation = operations()[str(payload.operation)]
    if payload.kind == "request":
        content = operation["requestBody"]["content"]["application/json"]
    else:
        response = operation["responses"][str(payload.status)]
        if "content" not in response:
            return None
        content = response["content"]["application/json"]
    schema: dict[str, Any] = content["schema"]
    return {"$ref": "urn:spec#/components/schemas/" + schema["$ref"].rsplit("/", 1)[-1]}


def errors(schema: dict[str, Any], body: Any, *, aliases: bool) -> list[str]:
    found = sorted(validator(schema, aliases=aliases).iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in found]


# ---------------------------------------------------------------- the generated client


def model_class(schema_ref: str, body: Any) -> Callable[[Any], Any]:
    """The generated model's from_dict for a schema, dispatching a discriminated oneOf on its property."""
    name = schema_ref.rsplit("/", 1)[-1]
    schema = spec_document()["components"]["schemas"][name]
    if "discriminator" in schema:
        tag = body.get(schema["discriminator"]["propertyName"]) if isinstance(body, dict) else None
        name = schema["discriminator"]["mapping"][tag].rsplit("/", 1)[-1]
    parse: Callable[[Any], Any] = getattr(models, name).from_dict
    return parse


def parse_with_client(payload: Payload) -> Any:
    """What the client makes of a payload: the typed model (or None for an empty answer)."""
    if payload.kind == "event":
        return parse_event(json.dumps(payload.body).encode())
    if payload.kind == "svaml":
        return getattr(models, ANSWER_SCHEMAS[str(payload.event)]).from_dict(payload.body)
    method, template, _ = operations()[str(payload.operation)]
    if payload.kind == "request":
        schema = schema_of(payload)
        assert schema is not None
        return model_class(schema["$ref"], payload.body)(payload.body)
    content = b"" if payload.body is None else json.dumps(payload.body).encode()
    response = httpx.Response(
        int(payload.status or 200),
        content=content,
        headers={"content-type": "application/json"} if content else {},
        request=httpx.Request(method.upper(), "https://calling.api.sinch.com/calling/v1" + template),
    )
    return answer(str(payload.operation), response)  # through the operation's public method


ALIAS_NAMES = {
    alias
    for schema in spec_document()["components"]["schemas"].values()
    for prop in (schema.get("properties") or {}).values()
    for alias in prop.get("x-sinch-aliases", ())
}


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def _leaves(value: Any) -> list[str]:
    """Every scalar of a JSON document, as text, sorted: what must survive a change of spelling."""
    if isinstance(value, dict):
        return sorted(leaf for inner in value.values() for leaf in _leaves(inner))
    if isinstance(value, list):
        return sorted(leaf for inner in value for leaf in _leaves(inner))
    return [json.dumps(value)]


def assert_written_back(payload: Payload, written: Any) -> None:
    """The client writes back what it read, in the documented spelling, and loses nothing."""
    assert _leaves(written) == _leaves(payload.body), "a value was lost or changed"
    if not ALIAS_NAMES & set(_keys(payload.body)):
        assert written == payload.body
    schema = schema_of(payload)
    if schema is not None:
        assert errors(schema, written, aliases=False) == [], "the client wrote a spelling the spec does not document"


# ---------------------------------------------------------------- the tests


def test_the_corpus_covers_every_operation_event_instruction_and_action() -> None:
    assert all(p.kind in KINDS and p.source.strip() for p in CORPUS)
    ops = operations()
    with_body = {op for op, (_, _, o) in ops.items() if "requestBody" in o}
    with_answer = {
        op for op, (_, _, o) in ops.items() if any("content" in r for s, r in o["responses"].items() if s[0] == "2")
    }
    assert with_body <= {p.operation for p in CORPUS if p.kind == "request"}
    assert with_answer <= {p.operation for p in CORPUS if p.kind == "response"}
    assert set(EVENT_SCHEMAS) <= {p.event for p in CORPUS if p.kind == "event"}
    assert set(ANSWER_SCHEMAS) <= {p.event for p in CORPUS if p.kind == "svaml"}
    schemas = spec_document()["components"]["schemas"]
    names = set()
    for p in CORPUS:
        if p.kind in ("svaml", "request") and isinstance(p.body, dict):
            names.update(i.get("name") for i in p.body.get("instructions") or [] if isinstance(i, dict))
            if isinstance(p.body.get("action"), dict):
                names.add(p.body["action"].get("name"))
    for union in ("SvamlInstruction", "SvamlAction"):
        assert set(schemas[union]["discriminator"]["mapping"]) <= names, union


@pytest.mark.parametrize("payload", of_kind(*KINDS))
def test_validates_against_the_spec(payload: Payload) -> None:
    schema = schema_of(payload)
    if schema is None:
        assert payload.body in (None, "", {}), f"{payload.id}: the spec declares no body for this answer"
        return
    assert errors(schema, payload.body, aliases=True) == []


@pytest.mark.parametrize("payload", of_kind("response", "event", "svaml", "request"))
def test_the_client_reads_it_and_writes_it_back(payload: Payload) -> None:
    parsed = parse_with_client(payload)
    if parsed is None:
        assert payload.body in (None, "", {})
        return
    written = parsed.to_dict()
    assert_written_back(payload, written)
    assert type(parsed).from_dict(written) == parsed


# ---------------------------------------------------------------- requests through the recorded server

REQUEST_KEYS = {
    str(key)
    for p in CORPUS
    if p.kind == "request" and isinstance(p.body, dict)
    for key in (p.body.get("applicationkey"), p.body.get("applicationKey"))
    if key
}


@dataclass
class Server:
    app: Pipeline
    clock: Clock
    client: SinchClient
    sent: list[httpx.Request]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    clock = Clock()
    applications = {KEY: SECRET} | {key: SECRET for key in REQUEST_KEYS}
    app = create_app(spec=SPEC_PATH, applications=applications, clock=clock, validate_responses=True)
    sent: list[httpx.Request] = []
    with serve(app) as base_url:
        http = httpx.Client(event_hooks={"request": [sent.append]})
        with SinchClient(
            application_key=KEY, application_secret=SECRET, base_url=base_url + "/v1", httpx_client=http
        ) as c:
            yield Server(app, clock, c, sent)
        http.close()
    assert app.violations == [], "the server answered something its spec does not allow"


def _place(server: Server, method: str, details: dict[str, Any]) -> str:
    place, kwargs = bind(server.client, "callout", {}, {"method": method, method: details})
    callout = place(**kwargs)
    server.clock.advance(3)  # answered
    return str(callout.call_id)


def _prepare(server: Server, payload: Payload) -> dict[str, str]:
    """Bring the server into the state the request needs; return its path parameters (spec names)."""
    body = payload.body
    destination = {"type": "number", "endpoint": "+46730170101"}
    if payload.operation in ("manageCall", "manageCallLeg"):
        call_id = _place(server, "ttsCallout", {"destination": destination, "text": "x" * 600})
        return {"callId": call_id} | ({"callLeg": "callee"} if payload.operation == "manageCallLeg" else {})
    if payload.operation == "manageConferenceParticipant":
        room = f"room-{len(server.sent)}"
        call_id = _place(server, "conferenceCallout", {"destination": destination, "conferenceId": room})
        return {"conferenceId": room, "callId": call_id}
    if payload.operation == "updateCallbacks":
        return {"applicationkey": KEY}
    store = server.app.backend.store  # type: ignore[attr-defined]
    if payload.operation == "updateNumbers":
        with store.transaction():
            for number in body.get("numbers") or []:
                store.put("numbers", number, {"number": number, "capabilities": {"voice": None, "sms": None}})
    if payload.operation == "unassignNumber":
        owner = body.get("applicationkey") or body.get("applicationKey") or KEY
        capability = body.get("capability") or "voice"
        with store.transaction():
            store.put("numbers", body["number"], {"number": body["number"], "capabilities": {capability: owner}})
    return {}


@pytest.mark.parametrize("payload", of_kind("request"))
def test_the_recorded_server_accepts_it_from_the_client(server: Server, payload: Payload) -> None:
    params = _prepare(server, payload)
    method, kwargs = bind(server.client, str(payload.operation), params, payload.body, as_models=True)
    server.sent.clear()
    answer = with_raw_response(method)(**kwargs)  # the public method, its body fields as the generated models
    assert 200 <= answer.status_code < 300
    (request,) = [r for r in server.sent if r.method != "GET"]
    assert_written_back(payload, json.loads(request.content))
    if payload.operation == "callout":
        assert answer.parsed is not None and answer.parsed.call_id
