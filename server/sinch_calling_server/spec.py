"""Load the OpenAPI document once and compile it into what the request pipeline needs.

Everything that depends on the document happens here, at start-up: the route table, one
precompiled JSON Schema validator per request body, parameter and response, the declared
statuses and the accepted security schemes of each operation. The pipeline never walks the
document while serving a request.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import yaml

__all__ = [
    "HTTP_METHODS",
    "CompiledSpec",
    "Operation",
    "Parameter",
    "SchemaProblem",
    "SpecError",
    "compile_spec",
    "load_spec",
]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Prefixes the real clients put in front of the spec's paths; the spec's own servers are added.
DEFAULT_PREFIXES = ("/v1", "/calling/v1")


class SpecError(Exception):
    """The OpenAPI document cannot be loaded or compiled."""


@dataclass(frozen=True)
class SchemaProblem:
    """The first violation found in an instance: where, what, and which keyword failed."""

    path: str
    message: str
    missing: bool  # a required property is absent (Sinch's 40002) rather than illegal (40001)


class Validator:
    """A precompiled JSON Schema (2020-12, as OpenAPI 3.1 uses) that resolves the spec's $refs.

    A plain ``{"type": "string", "minLength": n}`` (most path parameters) is checked in Python:
    same answer, without crossing into the compiled validator.
    """

    __slots__ = ("_min_length", "_validator")

    def __init__(self, schema: Mapping[str, Any], components: Mapping[str, Any]) -> None:
        plain = {k: v for k, v in schema.items() if k not in _ANNOTATIONS}
        self._min_length: int | None = None
        if plain.get("type") == "string" and set(plain) <= {"type", "minLength"}:
            length = plain.get("minLength", 0)
            if isinstance(length, int) and not isinstance(length, bool):
                self._min_length = length
        root = dict(schema)
        # Local references ("#/components/schemas/X") resolve against this root document.
        root["components"] = components
        root.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
        try:
            self._validator = jsonschema_rs.validator_for(root, validate_formats=True)
        except (ValueError, jsonschema_rs.ReferencingError) as exc:
            raise SpecError(f"schema does not compile: {exc}") from exc

    def is_valid(self, instance: Any) -> bool:
        if self._min_length is not None and type(instance) is str:
            return len(instance) >= self._min_length
        return self._validator.is_valid(instance)

    def first_problem(self, instance: Any) -> SchemaProblem | None:
        """The first violation, or None. Only called on the slow path, after ``is_valid`` failed."""
        for error in self._validator.iter_errors(instance):
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path).lstrip(".")
            missing = isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required)
            if missing:
                names = getattr(error.kind, "property", None)
                prop = names if isinstance(names, str) else _quoted(error.message)
                where = f"{where}.{prop}" if where else prop
            return SchemaProblem(where or "body", error.message, missing)
        return None


_ANNOTATIONS = frozenset({"description", "example", "examples", "title", "deprecated", "$comment"})


def _quoted(message: str) -> str:
    match = re.match(r'^"([^"]*)"', message)
    return match.group(1) if match else ""


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    validator: Validator | None
    kind: str  # "string", "integer", "number", "boolean" or "any": how to read the raw text


@dataclass(frozen=True)
class ResponseSpec:
    json_validator: Validator | None  # None when the response declares no JSON content
    has_content: bool


@dataclass
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # the spec's template, e.g. /calls/id/{callId}
    parameters: tuple[Parameter, ...]
    body_validator: Validator | None
    body_required: bool
    body_media_types: tuple[str, ...]
    discriminator: tuple[str, dict[str, Validator]] | None  # property name, value -> variant validator
    responses: dict[str, ResponseSpec]
    success_status: int
    schemes: frozenset[str]  # accepted authorization schemes, lower case: "application", "basic"

    def declares(self, status: int) -> bool:
        code = str(status)
        return code in self.responses or f"{code[0]}XX" in self.responses or "default" in self.responses

    def response_spec(self, status: int) -> ResponseSpec | None:
        code = str(status)
        return self.responses.get(code) or self.responses.get(f"{code[0]}XX") or self.responses.get("default")


@dataclass
class CompiledSpec:
    document: Mapping[str, Any]
    operations: dict[str, Operation]  # by operationId
    prefixes: tuple[str, ...]  # base paths, longest first
    static_routes: dict[str, dict[str, Operation]]  # normalised path -> method -> operation
    dynamic_routes: dict[int, list[tuple[tuple[str | None, ...], dict[str, Operation], tuple[str, ...]]]]
    schemas: dict[str, Validator]  # components/schemas by name, for tests and recordings

    def match(self, path: str) -> tuple[dict[str, Operation], dict[str, str]] | None:
        """Find the operations of a request path (prefix included); None when nothing matches.

        Base path first (``/v1``, ``/calling/v1``, the spec's servers), then the spec's templates:
        static paths win over parameterised ones, fewer parameters win. A parameter never matches
        an empty segment. One trailing slash is tolerated only where it cannot change the answer:
        when no route reads the empty segment after it as a parameter (``/configuration/numbers/``
        is the list; ``/conferences/id/room/`` is "kick participant ``''``", never "kick everyone").
        Returns (method -> operation, raw path parameters).
        """
        for prefix in self.prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                found = self._match_rest(path[len(prefix) :] or "/")
                if found is not None:
                    return found
        return None

    def _match_rest(self, rest: str) -> tuple[dict[str, Operation], dict[str, str]] | None:
        found = self._exact(rest)
        if found is not None or len(rest) < 2 or not rest.endswith("/") or rest.endswith("//"):
            return found
        segments = rest.split("/")
        for pattern, _, _ in self.dynamic_routes.get(len(segments), ()):
            if pattern[-1] is None and _fits(pattern[:-1], segments):
                return None  # the slash ends an empty parameter: not the shorter path
        return self._exact(rest[:-1])

    def _exact(self, rest: str) -> tuple[dict[str, Operation], dict[str, str]] | None:
        static = self.static_routes.get(rest)
        if static is not None:
            return static, {}
        segments = rest.split("/")
        for pattern, methods, names in self.dynamic_routes.get(len(segments), ()):
            if _fits(pattern, segments):
                values = [got for want, got in zip(pattern, segments, strict=True) if want is None]
                return methods, dict(zip(names, values, strict=True))
        return None


def _normalise(path: str) -> str:
    """A route's template or base path without its trailing slash (``/configuration/numbers/``)."""
    stripped = path.rstrip("/")
    return stripped or "/"


def _fits(pattern: tuple[str | None, ...], segments: list[str]) -> bool:
    """Whether ``segments`` (at least as many) fit ``pattern``: literals equal, parameters not empty."""
    for want, got in zip(pattern, segments, strict=False):  # noqa: SIM110 (a loop: mypyc compiles it tighter)
        if (not got) if want is None else want != got:
            return False
    return True


def load_spec(source: str | Path | Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """Read the document: a mapping, a path, or (default) the copy inside the client package."""
    if isinstance(source, Mapping):
        return source
    if source is None:
        try:
            resource = importlib.resources.files("sinch_calling") / "openapi.yaml"
            text = resource.read_text(encoding="utf-8")
        except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
            raise SpecError(
                "no OpenAPI document given and sinch_calling/openapi.yaml is not installed; pass --spec PATH"
            ) from exc
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"cannot read the OpenAPI document {source}: {exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"the OpenAPI document is not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecError("the OpenAPI document has no 'paths'")
    return document


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    """Follow a (chain of) local $ref on a non-schema object: parameters, bodies, responses."""
    seen = 0
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise SpecError(f"only local references are supported: {ref!r}")
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise SpecError(f"unresolvable reference {ref!r}")
            target = target[part]
        node = target
        seen += 1
        if seen > 32:
            raise SpecError(f"reference loop at {ref!r}")
    return node


def is_json_media_type(media_type: str) -> bool:
    """application/json or any ``+json`` type, parameters (``; charset=...``) ignored."""
    base = media_type.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def _is_json(media_type: str) -> bool:
    """A spec content entry served as JSON: a JSON media type, or the ``*/*`` wildcard."""
    return is_json_media_type(media_type) or media_type.split(";", 1)[0].strip() == "*/*"


def _param_kind(schema: Mapping[str, Any], document: Mapping[str, Any]) -> str:
    schema = _resolve(document, schema)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind in ("string", "integer", "number", "boolean"):
        return str(kind)
    return "any"


def _scheme_kinds(document: Mapping[str, Any]) -> dict[str, str]:
    """Security scheme name -> the Authorization scheme word it stands for."""
    result: dict[str, str] = {}
    schemes = document.get("components", {}).get("securitySchemes", {}) or {}
    for name, raw in schemes.items():
        scheme = _resolve(document, raw)
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            result[name] = "basic"
        else:
            # The signed scheme: declared as apiKey in Authorization or as http with scheme "Application".
            result[name] = "application"
    return result


def _servers_prefixes(document: Mapping[str, Any]) -> list[str]:
    prefixes: list[str] = []
    for server in document.get("servers", []) or []:
        url = server.get("url") if isinstance(server, Mapping) else None
        if not isinstance(url, str):
            continue
        path = urlsplit(url).path if "://" in url else url
        path = _normalise(path)
        if path != "/" and "{" not in path:
            prefixes.append(path)
    return prefixes


def with_aliases(components: Mapping[str, Any]) -> Mapping[str, Any]:
    """``components`` where each ``x-sinch-aliases`` name of a property is validated like the property.

    Sinch spells some fields two ways (``callHeaders``/``callheaders``); the server accepts either,
    and a value under the alias must be as valid as under the documented name. A required property
    is present when it is there under any of its names.
    """
    schemas = dict(components.get("schemas") or {})
    for name, schema in schemas.items():
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        if not isinstance(properties, Mapping):
            continue
        names = {
            key: [str(alias) for alias in prop.get("x-sinch-aliases") or ()]
            for key, prop in properties.items()
            if isinstance(prop, Mapping) and prop.get("x-sinch-aliases")
        }
        if not names:
            continue
        extended = dict(schema)
        extended["properties"] = {**properties, **{a: properties[k] for k, aliases in names.items() for a in aliases}}
        required = [str(key) for key in schema.get("required") or ()]
        either = [
            {"anyOf": [{"required": [key]}, *({"required": [alias]} for alias in names[key])]}
            for key in required
            if key in names
        ]
        if either:
            extended["required"] = [key for key in required if key not in names]
            extended["allOf"] = [*schema.get("allOf", ()), *either]
        schemas[name] = extended
    return {**components, "schemas": schemas}


def compile_spec(document: Mapping[str, Any], extra_prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> CompiledSpec:
    """Compile the routes and validators of every operation. Raises SpecError on a broken document."""
    components = with_aliases(document.get("components", {}) or {})
    scheme_kinds = _scheme_kinds(document)
    global_security = document.get("security")
    operations: dict[str, Operation] = {}
    static_routes: dict[str, dict[str, Operation]] = {}
    dynamic: dict[tuple[str | None, ...], tuple[dict[str, Operation], tuple[str, ...]]] = {}

    for template, raw_item in (document.get("paths") or {}).items():
        item = _resolve(document, raw_item)
        shared_params = item.get("parameters", []) or []
        for method in HTTP_METHODS:
            if method not in item:
                continue
            raw_op = item[method]
            op_id = raw_op.get("operationId") or f"{method}_{template}"
            op = _compile_operation(
                document, components, template, method, raw_op, shared_params, scheme_kinds, global_security, op_id
            )
            if op_id in operations:
                raise SpecError(f"duplicate operationId {op_id!r}")
            operations[op_id] = op
            norm = _normalise(template)
            if "{" not in norm:
                static_routes.setdefault(norm, {})[op.method] = op
            else:
                pattern: list[str | None] = []
                names: list[str] = []
                for seg in norm.split("/"):
                    m = re.fullmatch(r"\{([^{}]+)\}", seg)
                    if m:
                        pattern.append(None)
                        names.append(m.group(1))
                    elif "{" in seg:
                        raise SpecError(f"partial-segment path parameters are not supported: {template}")
                    else:
                        pattern.append(seg)
                key = tuple(pattern)
                methods, _ = dynamic.setdefault(key, ({}, tuple(names)))
                methods[op.method] = op

    by_length: dict[int, list[tuple[tuple[str | None, ...], dict[str, Operation], tuple[str, ...]]]] = {}
    for shape, (route_methods, param_names) in dynamic.items():
        by_length.setdefault(len(shape), []).append((shape, route_methods, param_names))
    for routes in by_length.values():
        # Fewer parameters first, then literal segments earlier in the path first.
        routes.sort(key=lambda r: (sum(1 for s in r[0] if s is None), [s is None for s in r[0]]))

    prefixes = list(dict.fromkeys([*_servers_prefixes(document), *extra_prefixes]))
    prefixes.sort(key=len, reverse=True)

    schemas = {
        name: Validator({"$ref": f"#/components/schemas/{name}"}, components)
        for name in (components.get("schemas") or {})
    }
    return CompiledSpec(document, operations, tuple(prefixes), static_routes, by_length, schemas)


def _compile_operation(
    document: Mapping[str, Any],
    components: Mapping[str, Any],
    template: str,
    method: str,
    raw_op: Mapping[str, Any],
    shared_params: list[Any],
    scheme_kinds: dict[str, str],
    global_security: Any,
    op_id: str,
) -> Operation:
    params: dict[tuple[str, str], Parameter] = {}
    for raw in [*shared_params, *(raw_op.get("parameters", []) or [])]:
        p = _resolve(document, raw)
        location = p.get("in")
        if location not in ("path", "query", "header"):
            continue  # cookies are not used by this API
        name = str(p["name"])
        schema = p.get("schema")
        validator = Validator(schema, components) if isinstance(schema, Mapping) else None
        kind = _param_kind(schema, document) if isinstance(schema, Mapping) else "string"
        if location == "header":
            name = name.lower()
        params[(location, name)] = Parameter(
            name, location, bool(p.get("required")) or location == "path", validator, kind
        )

    body_validator = None
    body_required = False
    media_types: tuple[str, ...] = ()
    discriminator = None
    if "requestBody" in raw_op:
        body = _resolve(document, raw_op["requestBody"])
        body_required = bool(body.get("required"))
        content = body.get("content", {}) or {}
        media_types = tuple(content)
        json_types = [m for m in content if _is_json(m)]
        if json_types:
            body_schema = content[json_types[0]].get("schema") or {}
            body_validator = Validator(body_schema, components)
            discriminator = _compile_discriminator(document, components, body_schema)

    responses: dict[str, ResponseSpec] = {}
    for status, raw_resp in (raw_op.get("responses") or {}).items():
        resp = _resolve(document, raw_resp)
        content = resp.get("content", {}) or {}
        json_types = [m for m in content if _is_json(m)]
        validator = None
        if json_types:
            schema = content[json_types[0]].get("schema")
            if isinstance(schema, Mapping):
                validator = Validator(schema, components)
        key = str(status).upper() if str(status) != "default" else "default"
        responses[key] = ResponseSpec(validator, bool(content))
    successes = sorted(int(s) for s in responses if s.isdigit() and s.startswith("2"))
    # Where the spec accepts 200 and 204, `x-sinch-success-status` says which one Sinch answers.
    declared = raw_op.get("x-sinch-success-status")
    success_status = int(declared) if declared else successes[0] if successes else 200

    security = raw_op.get("security", global_security)
    schemes: set[str] = set()
    if security:
        for requirement in security:
            if not requirement:
                schemes.add("none")  # an empty requirement makes authentication optional
            for name in requirement:
                schemes.add(scheme_kinds.get(name, "application"))
    return Operation(
        operation_id=str(op_id),
        method=method.upper(),
        path=template,
        parameters=tuple(params.values()),
        body_validator=body_validator,
        body_required=body_required,
        body_media_types=media_types,
        discriminator=discriminator,
        responses=responses,
        success_status=success_status,
        schemes=frozenset(schemes),
    )


def _compile_discriminator(
    document: Mapping[str, Any], components: Mapping[str, Any], schema: Mapping[str, Any]
) -> tuple[str, dict[str, Validator]] | None:
    """For a oneOf body with a discriminator: validators per value, for precise error messages."""
    resolved = _resolve(document, schema)
    disc = resolved.get("discriminator")
    variants = resolved.get("oneOf") or resolved.get("anyOf")
    if not isinstance(disc, Mapping) or not isinstance(variants, list):
        return None
    prop = disc.get("propertyName")
    if not isinstance(prop, str):
        return None
    mapping: dict[str, Validator] = {}
    for value, ref in (disc.get("mapping") or {}).items():
        mapping[str(value)] = Validator({"$ref": ref}, components)
    if not mapping:
        for variant in variants:
            if isinstance(variant, Mapping) and isinstance(variant.get("$ref"), str):
                mapping[variant["$ref"].rsplit("/", 1)[-1]] = Validator(variant, components)
    return prop, mapping
