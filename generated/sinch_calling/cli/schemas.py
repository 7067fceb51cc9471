"""JSON Schema checks against the spec the package ships (``sinch_calling/openapi.yaml``).

The client reads tolerantly; judging what an app answers Sinch, strictness helps: an action an
event does not allow, or a wrong type, is reported with where it is. jsonschema-rs comes with the
``[server]`` extra (the recorded server validates with it too).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any


class MissingExtra(Exception):
    """jsonschema-rs is not installed."""


@functools.cache
def _components() -> dict[str, Any]:
    import yaml  # with the [server] extra, like jsonschema-rs

    text = resources.files("sinch_calling").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return dict(_by_discriminator(yaml.safe_load(text)["components"]))


def _by_discriminator(node: Any) -> Any:
    """Each discriminated ``oneOf`` as "the member its discriminator names", for precise errors.

    Against a plain ``oneOf`` a validator can only say that no member matched; picking the member
    first (as Sinch does) lets it say which field of that member is wrong.
    """
    if isinstance(node, list):
        return [_by_discriminator(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _by_discriminator(value) for key, value in node.items()}
    if "oneOf" in node and "discriminator" in node:
        field, mapping = node["discriminator"]["propertyName"], node["discriminator"]["mapping"]
        node.pop("oneOf")
        node["required"] = sorted({*node.get("required", []), field})
        node["properties"] = {**node.get("properties", {}), field: {"enum": list(mapping)}}
        node["allOf"] = [
            {"if": {"properties": {field: {"const": value}}}, "then": {"$ref": ref}} for value, ref in mapping.items()
        ]
    return node


@functools.cache
def _validator(schema_name: str) -> Any:
    try:
        import jsonschema_rs
    except ImportError:
        raise MissingExtra('validating SVAML needs jsonschema-rs: pip install "sinch-calling[server]"') from None
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": _components()}
    return jsonschema_rs.validator_for(root)


def problems(schema_name: str, document: Any) -> list[str]:
    """Where ``document`` breaks the spec's schema ``schema_name``; empty when it conforms."""
    found = []
    for error in _validator(schema_name).iter_errors(document):
        where = "/" + "/".join(str(part) for part in error.instance_path)
        found.append(f"{where}: {error.message}")
    return sorted(found)
