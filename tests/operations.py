"""Call any operation of the spec through the client's public methods, from wire-level data.

The contract and conformance tests draw or load requests as JSON (path parameters and a body,
keys as on the wire). This module finds the method generator/surface.yaml names for the
operation (for a callout, the one for its `method`; for a participant command, `mute` and so
on) and turns the data into its arguments: path parameters and body fields by their Python
names, fields the method has no argument for in `extra_body`. With ``as_models=True`` the body
fields are the generated attrs models instead of plain dicts, so both kinds of input are used.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import sinch_calling.models as models
import yaml
from sinch_calling import SinchClient
from sinch_calling.types import Unset

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))
from surface import python_name  # noqa: E402  (the generator's own naming rule)

TABLE: dict[str, list[dict[str, Any]]] = yaml.safe_load((ROOT / "generator" / "surface.yaml").read_text())["operations"]
SPEC: dict[str, Any] = yaml.safe_load((ROOT / "spec" / "calling-api.yaml").read_text())
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]


def _request_schema(operation_id: str) -> str | None:
    for item in SPEC["paths"].values():
        for verb, operation in item.items():
            if verb != "parameters" and operation["operationId"] == operation_id:
                content = operation.get("requestBody", {}).get("content", {}).get("application/json")
                return str(content["schema"]["$ref"]).rsplit("/", 1)[-1] if content else None
    raise KeyError(operation_id)


def entry_for(operation_id: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
    """The naming-table entry whose method sends this body: the most specific one that fits."""
    entries = TABLE[operation_id]
    for entry in entries:
        if "variant" in entry:
            schema = SCHEMAS[_request_schema(operation_id) or ""]
            if body is not None and body.get(schema["discriminator"]["propertyName"]) == entry["variant"]:
                return entry
        elif "fixed" in entry:
            fits = body is not None and all(body.get(key) == value for key, value in entry["fixed"].items())
            if fits and not any(key in (body or {}) for key in entry.get("omit", [])):
                return entry
    plain = [entry for entry in entries if "variant" not in entry and "fixed" not in entry]
    if not plain:
        raise LookupError(f"no method of {operation_id} sends {body!r}")
    return plain[0]


def expressible(operation_id: str, body: Any) -> Any:
    """``body`` without what no method can send: unknown keys beside a callout's `method`.

    A variant method's ``extra_body`` goes into the object its keyword arguments fill
    (``ttsCallout``), where Sinch adds fields; the wrapper itself has nothing more to carry.
    """
    entries = TABLE[operation_id]
    if not isinstance(body, dict) or not any("variant" in entry for entry in entries):
        return body
    schema = SCHEMAS[_request_schema(operation_id) or ""]
    tag = body.get(schema["discriminator"]["propertyName"])
    member = schema["discriminator"]["mapping"].get(tag, "").rsplit("/", 1)[-1]
    known = set(SCHEMAS[member]["properties"]) if member else set(body)
    return {key: value for key, value in body.items() if key in known}


def method_of(client: Any, entry: dict[str, Any]) -> Callable[..., Any]:
    target = client
    for part in entry["resource"].split("."):
        target = getattr(target, part)
    return getattr(target, entry["method"])  # type: ignore[no-any-return]


def bind(
    client: Any,
    operation_id: str,
    path: Mapping[str, Any],
    body: Mapping[str, Any] | None,
    *,
    as_models: bool = False,
) -> tuple[Callable[..., Any], dict[str, Any]]:
    """The public method for this request, and the keyword arguments that make it send exactly it."""
    entry = entry_for(operation_id, body)
    method = method_of(client, entry)
    rename = entry.get("rename", {})
    kwargs: dict[str, Any] = {rename.get(name, python_name(name)): value for name, value in path.items()}
    if body is None:
        return method, kwargs
    fields = dict(body)
    schema = _request_schema(operation_id)
    if "variant" in entry:
        discriminator = SCHEMAS[schema or ""]["discriminator"]
        member = discriminator["mapping"][entry["variant"]].rsplit("/", 1)[-1]
        wrapped = next(prop for prop in SCHEMAS[member]["properties"] if prop != discriminator["propertyName"])
        schema = SCHEMAS[member]["properties"][wrapped]["$ref"].rsplit("/", 1)[-1]
        fields = dict(body[wrapped])
    extra: dict[str, Any] = {}
    known = set(SCHEMAS[schema]["properties"]) if schema is not None else set()
    if as_models and schema is not None:
        model = getattr(models, schema).from_dict(fields)
        extra = dict(model.additional_properties)
        attributes = {attribute.name for attribute in model.__attrs_attrs__}
        fields = {}
        for wire in SCHEMAS[schema]["properties"]:
            name = python_name(wire)  # the generated model adds "_" to a name Python reserves (type_)
            value = getattr(model, name if name in attributes else f"{name}_")
            if not isinstance(value, Unset):
                fields[name] = value
    else:
        extra = {wire: value for wire, value in fields.items() if wire not in known}
        fields = {python_name(wire): value for wire, value in fields.items() if wire in known}
    for key in entry.get("fixed", {}):  # the method sends these itself
        fields.pop(python_name(key))
    for name, value in fields.items():
        kwargs[rename.get(name, name)] = value
    if extra:
        kwargs["extra_body"] = extra
    return method, kwargs


# The smallest valid body of each operation that has one: enough to call its method.
MINIMAL_BODIES: dict[str, dict[str, Any]] = {
    "callout": {"method": "ttsCallout", "ttsCallout": {"destination": {"type": "number", "endpoint": "+46700000001"}}},
    "manageCall": {},
    "manageCallLeg": {},
    "manageConferenceParticipant": {"command": "mute"},
    "updateNumbers": {"numbers": ["+46700000001"]},
    "unassignNumber": {"number": "+46700000001"},
    "updateCallbacks": {"url": {}},
}


def path_parameters(operation_id: str) -> list[str]:
    """The spec names of an operation's path parameters."""
    for path, item in SPEC["paths"].items():
        for verb, operation in item.items():
            if verb != "parameters" and operation["operationId"] == operation_id:
                return [segment[1:-1] for segment in path.split("/") if segment.startswith("{")]
    raise KeyError(operation_id)


def answer(operation_id: str, response: httpx.Response) -> Any:
    """What the operation's public method makes of ``response`` (its return value, or it raises)."""

    def reply(request: httpx.Request) -> httpx.Response:
        return response

    http = httpx.Client(transport=httpx.MockTransport(reply))
    with SinchClient(
        application_key="key", application_secret="c2VjcmV0", base_url="https://h/v1", httpx_client=http, max_retries=0
    ) as client:
        path = {name: "x" for name in path_parameters(operation_id)}
        method, kwargs = bind(client, operation_id, path, MINIMAL_BODIES.get(operation_id))
        return method(**kwargs)


OPERATION_IDS = sorted(TABLE)
