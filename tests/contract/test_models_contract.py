"""Every schema in ``components/schemas`` against its generated model, on data schemathesis draws.

Schemathesis has no public "draw from this schema" call, so each schema becomes the request body
of one operation of a synthetic document (the spec's own components, one ``POST /models/<Name>``
per schema) and ``operation.as_strategy()`` draws valid bodies for it: the same generator the
contract tests use, not hypothesis-jsonschema. For each drawn value:

- objects: ``m = Model.from_dict(value)``; ``Model.from_dict(m.to_dict()) == m``; ``m.to_dict()``
  is the drawn value again (dates compared as instants) and validates against the schema;
- enums: ``Enum(value).value == value``;
- discriminated unions (``oneOf`` + ``discriminator``, no model of their own): the member model the
  discriminator names round-trips the same way; ``CallbackEvent`` goes through ``parse_event``.
"""

from __future__ import annotations

import copy
import enum
from typing import Any

import hypothesis
import jsonschema
import pytest
import schemathesis
import sinch_calling.models as models
from schemathesis import Config, GenerationMode
from sinch_calling.callbacks import parse_event

from .harness import RUN, raw_config, same_json, spec_document

DOCUMENT = spec_document()
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
# Schemas that are plain values in the client, not models: a string with a pattern, and the open
# locale (typed `Locale | str`, a known constant or any string).
PRIMITIVES = {"E164Number": str, "LocaleOrVoice": str}


def drawable_timestamps(node: Any) -> Any:
    """Timestamps (`x-sinch-format: date-time`) drawn as RFC 3339 date-times, as the client types them.

    Their pattern also admits a missing offset (Sinch's fixtures have some), but drawing from it
    gives month 00 and hour 99, which no client could turn into a datetime.
    """
    if isinstance(node, dict):
        if node.get("x-sinch-format") == "date-time":
            return {k: v for k, v in node.items() if k not in ("pattern", "x-sinch-format")} | {"format": "date-time"}
        return {key: drawable_timestamps(value) for key, value in node.items()}
    if isinstance(node, list):
        return [drawable_timestamps(value) for value in node]
    return node


def synthetic_document() -> dict[str, Any]:
    document = drawable_timestamps(copy.deepcopy(dict(DOCUMENT)))
    document.pop("webhooks", None)
    document["security"] = []
    document["paths"] = {
        f"/models/{name}": {
            "post": {
                "operationId": f"draw{name}",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                },
                "responses": {"200": {"description": "drawn"}},
            }
        }
        for name in SCHEMAS
    }
    return document


def draw_config() -> Config:
    data = raw_config()
    data["seed"] = RUN.seed
    data.setdefault("generation", {})["mode"] = "positive"
    return Config.from_dict(data)


SYNTHETIC = schemathesis.openapi.from_dict(synthetic_document(), config=draw_config())
VALIDATOR = jsonschema.Draft202012Validator
COMPONENTS = DOCUMENT["components"]


def validate(name: str, value: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": COMPONENTS}
    VALIDATOR(schema, format_checker=VALIDATOR.FORMAT_CHECKER).validate(value)


def model_for(name: str, value: Any) -> Any:
    """The generated class that holds ``value`` of schema ``name``."""
    schema = SCHEMAS[name]
    if name == "CallbackEvent":
        return type(parse_event(value))
    if "oneOf" in schema:
        discriminator = schema["discriminator"]
        return getattr(models, discriminator["mapping"][value[discriminator["propertyName"]]].rsplit("/", 1)[-1])
    return getattr(models, name)


def round_trip(name: str, value: Any) -> None:
    if name in PRIMITIVES:
        assert isinstance(value, PRIMITIVES[name])
        return
    cls = model_for(name, value)
    if issubclass(cls, enum.Enum):
        member = cls(value)
        assert member.value == value and member == cls(member.value)
        return
    model = parse_event(value) if name == "CallbackEvent" else cls.from_dict(value)
    as_dict = model.to_dict()
    assert cls.from_dict(as_dict) == model, f"{cls.__name__}: from_dict(to_dict(m)) != m"
    assert same_json(as_dict, value), (
        f"{cls.__name__}: to_dict() is not the value it was parsed from:\n{as_dict!r}\n{value!r}"
    )
    validate(name, as_dict)


def test_every_schema_has_a_model_or_is_a_known_primitive() -> None:
    for name, schema in SCHEMAS.items():
        assert hasattr(models, name) or name in PRIMITIVES or "discriminator" in schema, name


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_model_round_trips_on_drawn_data(name: str) -> None:
    strategy = SYNTHETIC[f"/models/{name}"]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE)

    @hypothesis.settings(
        max_examples=RUN.max_examples,
        derandomize=not RUN.fuzz,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        RUN.count("models", name)
        round_trip(name, case.body)

    before = RUN.counts["models"][name]
    check()
    assert RUN.counts["models"][name] > before, f"no value was drawn for {name}"
