"""The spec is valid, complete and its examples are true.

These tests read `spec/calling-api.yaml` directly: every other part of the project derives from
it, so a mistake here would be copied everywhere else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.support import spec_document, spec_pointer, spec_validator

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "spec" / "calling-api.yaml"
SEED_PATH = ROOT.parent / "shared" / "seed" / "calling-api-v1.txt"
SPEC: dict[str, Any] = spec_document()

OPERATIONS = [
    ("get", "/configuration/numbers/", "getNumbers", "Numbers"),
    ("post", "/configuration/numbers/", "updateNumbers", "Numbers"),
    ("delete", "/configuration/numbers/", "unassignNumber", "Numbers"),
    ("get", "/configuration/callbacks/applications/{applicationkey}", "getCallbacks", "Callbacks"),
    ("post", "/configuration/callbacks/applications/{applicationkey}", "updateCallbacks", "Callbacks"),
    ("get", "/calling/query/number/{number}", "queryNumber", "Query"),
    ("get", "/calls/id/{callId}", "getCallResult", "Calls"),
    ("patch", "/calls/id/{callId}", "manageCall", "Calls"),
    ("patch", "/calls/id/{callId}/leg/{callLeg}", "manageCallLeg", "Calls"),
    ("get", "/conferences/id/{conferenceId}", "getConferenceInfo", "Conferences"),
    ("patch", "/conferences/id/{conferenceId}/{callId}", "manageConferenceParticipant", "Conferences"),
    ("delete", "/conferences/id/{conferenceId}/{callId}", "kickConferenceParticipant", "Conferences"),
    ("delete", "/conferences/id/{conferenceId}", "kickConferenceAll", "Conferences"),
    ("post", "/callouts", "callout", "Callouts"),
]
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _media_examples() -> Iterator[tuple[str, str, Any]]:
    """(where, schema pointer, example value) for every example under a media type."""
    sections = [("paths", SPEC["paths"]), ("webhooks", SPEC["webhooks"])]
    for section, items in sections:
        for key, item in items.items():
            for method, operation in item.items():
                if method not in METHODS:
                    continue
                body = operation.get("requestBody", {}).get("content", {})
                for media_type, media in body.items():
                    base = (section, key, method, "requestBody", "content", media_type)
                    yield from _examples_of(media, base)
                for status, response in operation.get("responses", {}).items():
                    if "$ref" in response:
                        continue
                    for media_type, media in response.get("content", {}).items():
                        yield from _examples_of(
                            media, (section, key, method, "responses", status, "content", media_type)
                        )
    for name, response in SPEC["components"]["responses"].items():
        for media_type, media in response.get("content", {}).items():
            yield from _examples_of(media, ("components", "responses", name, "content", media_type))


def _examples_of(media: dict[str, Any], base: tuple[str, ...]) -> Iterator[tuple[str, str, Any]]:
    schema = spec_pointer(*base, "schema")
    for name, example in media.get("examples", {}).items():
        yield f"{'/'.join(base)} example {name}", schema, example["value"]
    if "example" in media:
        yield f"{'/'.join(base)} example", schema, media["example"]


EXAMPLES = list(_media_examples())


def test_openapi_spec_validator_accepts_the_document() -> None:
    assert SPEC["openapi"] == "3.1.0"
    validate(SPEC)


@pytest.mark.parametrize(("method", "path", "operation_id", "tag"), OPERATIONS)
def test_every_operation_exists_with_its_operation_id(method: str, path: str, operation_id: str, tag: str) -> None:
    operation = SPEC["paths"][path][method]
    assert operation["operationId"] == operation_id
    assert operation["tags"] == [tag]
    assert operation["x-sinch-host"] in {"calling", "configuration"}


def test_no_operation_beyond_the_table() -> None:
    declared = {(m, p) for p, item in SPEC["paths"].items() for m in item if m in METHODS}
    assert declared == {(m, p) for m, p, _, _ in OPERATIONS}


def test_spec_has_examples_to_check() -> None:
    # Guards the parametrised test below against silently checking nothing.
    assert len(EXAMPLES) >= 40


@pytest.mark.parametrize(("where", "schema", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates_against_its_schema(where: str, schema: str, example: Any) -> None:
    errors = sorted(spec_validator(schema).iter_errors(example), key=str)
    assert not errors, f"{where}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_a_wrong_example_would_be_caught() -> None:
    # The validator really resolves refs and checks formats and discriminated members.
    callout = spec_pointer("components", "schemas", "CalloutRequest")
    assert list(spec_validator(callout).iter_errors({"method": "ttsCallout", "ttsCallout": {"destination": {}}}))
    manage = spec_pointer("components", "schemas", "ManageCallRequest")
    assert list(spec_validator(manage).iter_errors({"action": {"name": "connectPstn", "number": "+461234"}}))
    locale = spec_pointer("components", "schemas", "SayInstruction")
    assert not list(spec_validator(locale).iter_errors({"name": "say", "text": "Hi", "locale": "en-US/male"}))
    assert list(spec_validator(locale).iter_errors({"name": "say", "text": "Hi", "locale": 5}))


@pytest.mark.parametrize("name", sorted(n for n, s in SPEC["components"]["schemas"].items() if "discriminator" in s))
def test_discriminator_mappings_match_the_members_consts(name: str) -> None:
    schema = SPEC["components"]["schemas"][name]
    prop = schema["discriminator"]["propertyName"]
    members = {ref["$ref"] for ref in schema["oneOf"]}
    assert set(schema["discriminator"]["mapping"].values()) == members
    for value, ref in schema["discriminator"]["mapping"].items():
        member = SPEC["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert member["properties"][prop]["const"] == value
        assert prop in member["required"]


def test_every_protected_operation_declares_auth_failures_and_errors_use_the_error_schema() -> None:
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            statuses = set(operation["responses"])
            assert {"401", "403", "500"} <= statuses, (method, path)
            if "{callId}" in path or "{conferenceId}" in path:
                assert "404" in statuses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= statuses, (method, path)


def test_security_offers_signed_or_basic() -> None:
    assert SPEC["security"] == [{"Application": []}, {"Basic": []}]
    assert "x-timestamp" in SPEC["components"]["securitySchemes"]["Application"]["description"]
    assert SPEC["components"]["securitySchemes"]["Basic"]["scheme"] == "basic"


def test_servers_list_the_seed_hosts_first_then_traffic_and_regions() -> None:
    urls = [server["url"] for server in SPEC["servers"]]
    assert urls[:2] == ["https://callingapi.sinch.com/v1", "https://api.sinch.com/calling/v1"]
    assert "https://calling.api.sinch.com/calling/v1" in urls
    for region in ("euc1", "use1", "sae1", "apse1", "apse2"):
        assert f"https://calling-{region}.api.sinch.com/calling/v1" in urls


def test_callback_events_are_webhooks_with_models() -> None:
    assert set(SPEC["webhooks"]) == {"ice", "ace", "dice", "pie", "notify"}
    for event in ("Ice", "Ace", "Dice", "Pie", "Notify"):
        assert f"{event}Event" in SPEC["components"]["schemas"]
    for event, answer in (("ice", "IceResponse"), ("ace", "AceResponse"), ("pie", "PieResponse")):
        schema = SPEC["webhooks"][event]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{answer}"}


def test_links_chain_callout_to_conference_operations() -> None:
    callout_links = SPEC["paths"]["/callouts"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in callout_links.values()} == {
        "getCallResult",
        "manageCall",
        "getConferenceInfo",
    }
    info_links = SPEC["paths"]["/conferences/id/{conferenceId}"]["get"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in info_links.values()} >= {"manageConferenceParticipant"}
    for status in ("200", "204"):
        manage = SPEC["paths"]["/conferences/id/{conferenceId}/{callId}"]["patch"]["responses"][status]["links"]
        assert {link["operationId"] for link in manage.values()} == {"kickConferenceParticipant"}
        kick = SPEC["paths"]["/conferences/id/{conferenceId}/{callId}"]["delete"]["responses"][status]["links"]
        assert {link["operationId"] for link in kick.values()} == {"kickConferenceAll"}


# Seed examples that the spec carries corrected; each is an entry in spec/DECISIONS.md. The last
# two are spellings the seed's examples use where Sinch's reference uses the other (x-sinch-aliases).
SEED_CORRECTIONS = {"enabledice": "enableDice", "numberItem": "number", "applicationKey": "applicationkey"}


def _seed_json_examples() -> list[Any]:
    text = SEED_PATH.read_text()
    examples = []
    for match in re.finditer(r"^\{.*?^\}", text, flags=re.DOTALL | re.MULTILINE):
        examples.append(json.loads(match.group(0)))
    return examples


def _corrected(value: Any) -> Any:
    if isinstance(value, dict):
        return {SEED_CORRECTIONS.get(k, k): _corrected(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_corrected(v) for v in value]
    return value


@pytest.mark.skipif(not SEED_PATH.exists(), reason="the seed lives in shared/ beside the repository")
def test_every_json_example_of_the_seed_is_in_the_spec() -> None:
    seed_examples = _seed_json_examples()
    assert len(seed_examples) == 17  # the seed's JSON blocks, counted by hand
    spec_examples = [example for _, _, example in EXAMPLES]
    missing = [e for e in seed_examples if _corrected(e) not in spec_examples]
    assert not missing, f"seed examples missing from the spec: {missing}"


def test_decisions_record_every_seed_contradiction() -> None:
    decisions = (ROOT / "spec" / "DECISIONS.md").read_text()
    for topic in (
        "numberItem",
        "`id` vs `callId`",
        "enabledice",
        "`domain` inside",
        "/call/id",
        "applicationkey",
        "zn-CN",
    ):
        assert topic in decisions, topic
