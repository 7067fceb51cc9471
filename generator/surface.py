"""The client's public surface, derived from the spec and the naming table (surface.yaml).

openapi-python-client gives us models and parsing; it has no notion of "what users call it", so
the resources, their methods, keyword arguments and the TypedDicts that type request bodies are
worked out here and rendered by `templates/surface/`. The decisions stay in Python; the templates
only lay the code out.

- A method's positional arguments are its path parameters; every body field is a keyword argument
  typed from the spec (a referenced object accepts its TypedDict or its attrs model).
- `params.py` holds one name per schema reachable from a request body or a SVAML answer: a
  TypedDict for an object (keys as on the wire, as Sinch's documents and other SDKs write them),
  a type alias for an enum or a union.
"""

from __future__ import annotations

import keyword
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from openapi_python_client import strings

HERE = Path(__file__).resolve().parent
# The documents a developer writes by hand besides request bodies: the answers to ICE, ACE and PIE.
ANSWER_SCHEMAS = ("IceResponse", "AceResponse", "PieResponse")
_PRIMITIVE = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


def python_name(wire: str) -> str:
    name = strings.snake_case(wire)
    return f"{name}_" if keyword.iskeyword(name) else name


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _literal(values: list[Any]) -> str:
    return "Literal[" + ", ".join(f'"{value}"' if isinstance(value, str) else repr(value) for value in values) + "]"


def wrap(text: str, width: int = 92) -> list[str]:
    """Docstring lines: paragraphs kept, each wrapped; backslashes and triple quotes made safe."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        if lines:
            lines.append("")
        lines.extend(textwrap.wrap(" ".join(paragraph.split()), width) or [""])
    return lines


class Types:
    """Python annotations for request-side schemas, recording the names each annotation needs."""

    def __init__(self, spec: dict[str, Any], classes: dict[str, tuple[str, str]]) -> None:
        self.schemas: dict[str, Any] = spec["components"]["schemas"]
        self.classes = classes  # schema name (or "Owner.property" for an inline enum) -> (class, module)
        self.params: list[str] = []  # schemas that need a name in params.py, in discovery order

    def kind(self, name: str) -> str:
        schema = self.schemas[name]
        if "enum" in schema:
            return "enum"
        if "oneOf" in schema or "anyOf" in schema:
            return "union"
        if schema.get("type") == "object" or "properties" in schema:
            return "object"
        return "primitive"

    def _need(self, name: str) -> None:
        if name not in self.params:
            self.params.append(name)
            schema = self.schemas[name]
            for sub in list(schema.get("properties", {}).items()):
                self.annotation(sub[1], name, sub[0])
            for member in schema.get("oneOf", []) + schema.get("anyOf", []):
                self.annotation(member)

    def annotation(self, schema: dict[str, Any], owner: str | None = None, prop: str | None = None) -> str:
        parts = self._parts(schema, owner, prop)
        unique = list(dict.fromkeys(parts))
        if "None" in unique:  # optional last, as people write it
            unique = [part for part in unique if part != "None"] + ["None"]
        return " | ".join(unique)

    def _parts(self, schema: dict[str, Any], owner: str | None, prop: str | None) -> list[str]:
        name = _ref_name(schema)
        if name is not None:
            kind = self.kind(name)
            if kind == "primitive":
                return self._parts(self.schemas[name], None, None)
            self._need(name)
            if kind == "object":
                return [f"{name}Param", self.classes[name][0]]
            return [f"{name}Param"]
        parts: list[str] = []
        if "const" in schema:
            parts.append(_literal([schema["const"]]))
        elif "enum" in schema:
            parts.append(_literal(schema["enum"]))
            inline = self.classes.get(f"{owner}.{prop}")
            if inline is not None:
                parts.append(inline[0])
        elif "oneOf" in schema or "anyOf" in schema:
            for member in schema.get("oneOf", []) + schema.get("anyOf", []):
                parts.extend(self._parts(member, owner, prop))
        else:
            types = schema.get("type", "object")
            for kind in types if isinstance(types, list) else [types]:
                if kind == "array":
                    parts.append(f"Sequence[{self.annotation(schema.get('items', {}), owner, prop)}]")
                elif kind == "object":
                    parts.append("Mapping[str, Any]")
                else:
                    parts.append(_PRIMITIVE[kind])
        if schema.get("nullable"):
            parts.append("None")
        return parts

    def definitions(self) -> list[dict[str, Any]]:
        """What params.py defines for each schema met so far, by name."""
        found = []
        for name in sorted(self.params):
            schema = self.schemas[name]
            kind = self.kind(name)
            entry: dict[str, Any] = {"name": f"{name}Param", "fields": None, "functional": False}
            if kind == "object":
                required = set(schema.get("required", []))
                fields = []
                docstring = wrap(schema.get("description", name))
                for wire, prop in schema.get("properties", {}).items():
                    annotation = self.annotation(prop, name, wire)
                    if wire in required:
                        annotation = f"Required[{annotation}]"
                    fields.append({"wire": wire, "annotation": annotation})
                    text = self.description(prop)
                    if text:
                        if len(docstring) == len(wrap(schema.get("description", name))):
                            docstring += ["", "Keys:"]
                        first, *rest = wrap(f"{wire}: {text}", 88)
                        docstring += [f"    {first}", *(f"        {line}" for line in rest)]
                entry["fields"] = fields
                entry["docstring"] = docstring
                entry["functional"] = any(
                    not wire.isidentifier() or keyword.iskeyword(wire) for wire in schema["properties"]
                )
            elif kind == "enum":
                entry["alias"] = _literal(schema["enum"]) + " | " + self.classes[name][0]
                entry["description"] = " ".join(wrap(schema.get("description", "")))
            else:
                members = {key: schema[key] for key in ("oneOf", "anyOf") if key in schema}
                entry["alias"] = self.annotation(members)
                entry["description"] = " ".join(wrap(schema.get("description", "")))
            found.append(entry)
        return found

    def description(self, schema: dict[str, Any]) -> str:
        """A property's own description, or else its referenced schema's (its items', for a list)."""
        if schema.get("description"):
            return str(schema["description"])
        if schema.get("type") == "array":
            return self.description(schema.get("items", {}))
        name = _ref_name(schema)
        return str(self.schemas[name].get("description", "")) if name else ""

    def imports(self, annotations: list[str]) -> tuple[list[str], list[str]]:
        """(params names, model classes) that appear in `annotations`, for TYPE_CHECKING imports."""
        words = {word for text in annotations for word in re.findall(r"\w+", text)}
        params = sorted(word for word in words if word.endswith("Param") and word[: -len("Param")] in self.schemas)
        models = sorted({cls for cls, _ in self.classes.values() if cls in words})
        return params, [f"from ..models.{_module_of(self.classes, cls)} import {cls}" for cls in models]


@dataclass
class Param:
    python: str
    wire: str
    annotation: str
    required: bool
    description: str
    where: str  # "path" or "body"
    from_client: bool = False
    schema: dict[str, Any] = field(default_factory=dict)  # the spec's schema of the value

    @property
    def positional(self) -> bool:
        return self.where == "path" and not self.from_client

    @property
    def signature(self) -> str:
        if self.from_client:
            return f"{self.python}: {self.annotation} | None = None"
        return f"{self.python}: {self.annotation}" + ("" if self.required else " | Unset = UNSET")


@dataclass
class Method:
    name: str
    operation: str  # the constant naming the operation in the module
    params: list[Param]
    returns: str
    parse: tuple[str, str] | None  # (class, module) of the success body
    body: str | None  # the expression of the request body
    docstring: list[str]

    @property
    def path_params(self) -> list[Param]:
        return [param for param in self.params if param.where == "path"]


@dataclass
class Resource:
    attribute: str
    class_name: str
    description: str
    methods: list[Method] = field(default_factory=list)
    children: list[Resource] = field(default_factory=list)
    operations: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)  # constant -> op facts

    def annotations(self) -> list[str]:
        found = [param.annotation for method in self.methods for param in method.params]
        return found + [method.returns for method in self.methods]


@dataclass
class Surface:
    resources: list[Resource]  # the top-level ones, each with its children
    types: Types

    def modules(self) -> dict[str, list[Resource]]:
        """resource module name -> the resources it holds (a parent and its children share one)."""
        modules: dict[str, list[Resource]] = {}
        for resource in self.resources:
            modules[resource.attribute] = [*resource.children, resource]
        return modules


def load_table(path: Path = HERE / "surface.yaml") -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any], list[dict[str, Any]]]]:
    found = {}
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for verb, operation in item.items():
            if verb != "parameters":
                found[operation["operationId"]] = (verb, path, operation, shared + operation.get("parameters", []))
    return found


def build(spec: dict[str, Any], classes: dict[str, tuple[str, str]], success: dict[str, str]) -> Surface:
    """The resources of the client. `success` maps an operationId to its success body's class or "None"."""
    table = load_table()
    types = Types(spec, classes)
    for name in ANSWER_SCHEMAS:
        types.annotation({"$ref": f"#/components/schemas/{name}"})
    operations = _operations(spec)
    missing = set(operations) - set(table["operations"])
    if missing:
        raise SystemExit(f"surface.yaml: no method for {sorted(missing)}; every operation needs one")
    tags = {tag["name"]: tag.get("description", "") for tag in spec.get("tags", [])}
    by_path: dict[str, Resource] = {}

    def resource(dotted: str, tag: str) -> Resource:
        if dotted not in by_path:
            parent, _, attribute = dotted.rpartition(".")
            description = table.get("resources", {}).get(dotted) or tags.get(tag, "")
            made = Resource(attribute, strings.pascal_case(attribute), description)
            by_path[dotted] = made
            if parent:
                resource(parent, "").children.append(made)
        return by_path[dotted]

    for operation_id, entries in table["operations"].items():
        verb, path, operation, parameters = operations[operation_id]
        for entry in entries:
            owner = resource(entry["resource"], operation["tags"][0])
            constant = "_" + strings.snake_case(operation_id).upper()
            python_path = path
            params = []
            rename = entry.get("rename", {})
            for parameter in parameters:
                parameter = _resolve_parameter(spec, parameter)
                name = rename.get(parameter["name"], python_name(parameter["name"]))
                python_path = python_path.replace("{" + parameter["name"] + "}", "{" + name + "}")
                params.append(
                    Param(
                        python=name,
                        wire=parameter["name"],
                        annotation=types.annotation(parameter["schema"]),
                        required=True,
                        description=str(parameter.get("description", "")),
                        where="path",
                        from_client=name in entry.get("from_client", []),
                        schema=parameter["schema"],
                    )
                )
            owner.operations[constant] = (operation_id, verb, python_path, operation["x-sinch-host"])
            body, summary = _body(spec, types, operation, entry, params)
            parse = success[operation_id]
            names = [param.python for param in params]
            if len(set(names)) != len(names):
                raise SystemExit(f"{operation_id}: two arguments named alike in {names}")
            params.sort(key=lambda param: (param.where != "path", not param.required))  # stable: spec order otherwise
            docstring = _docstring(entry.get("summary") or summary, operation.get("description", ""), params, parse)
            owner.methods.append(
                Method(
                    name=entry["method"],
                    operation=constant,
                    params=params,
                    returns=parse,
                    parse=None if parse == "None" else (parse, _module_of(classes, parse)),
                    body=body,
                    docstring=docstring,
                )
            )
    top = [made for dotted, made in by_path.items() if "." not in dotted]
    return Surface(top, types)


def _module_of(classes: dict[str, tuple[str, str]], cls: str) -> str:
    return next(module for name, module in classes.values() if name == cls)


def _resolve_parameter(spec: dict[str, Any], parameter: dict[str, Any]) -> dict[str, Any]:
    name = _ref_name(parameter)
    return dict(spec["components"]["parameters"][name]) if name else parameter


def _body(
    spec: dict[str, Any], types: Types, operation: dict[str, Any], entry: dict[str, Any], params: list[Param]
) -> tuple[str | None, str]:
    """The body expression of a method, adding its keyword arguments to `params`; and its summary."""
    summary = str(operation.get("summary", ""))
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None, summary
    schemas = spec["components"]["schemas"]
    name = _ref_name(content["schema"])
    assert name is not None, f"{operation['operationId']}: the request body must be a $ref"
    wrapper: tuple[str, str, str] | None = None
    if "variant" in entry:
        discriminator = schemas[name]["discriminator"]
        member = _ref_name({"$ref": discriminator["mapping"][entry["variant"]]})
        assert member is not None
        member_schema = schemas[member]
        inner = [prop for prop in member_schema["properties"] if prop != discriminator["propertyName"]]
        assert len(inner) == 1, f"{member}: a variant must wrap exactly one object"
        wrapper = (discriminator["propertyName"], entry["variant"], inner[0])
        name = _ref_name(member_schema["properties"][inner[0]])
        assert name is not None
        summary = str(schemas[name].get("description") or member_schema.get("description") or summary)
    schema = schemas[name]
    fixed = entry.get("fixed", {})
    rename = entry.get("rename", {})
    required = set(schema.get("required", []))
    fields = []
    for wire, prop in schema.get("properties", {}).items():
        if wire in fixed:
            fields.append(f'"{wire}": "{fixed[wire]}"')
            continue
        if wire in entry.get("omit", []):
            continue
        python = rename.get(wire, python_name(wire))
        params.append(
            Param(
                python,
                wire,
                types.annotation(prop, name, wire),
                wire in required,
                types.description(prop),
                "body",
                schema=prop,
            )
        )
        fields.append(f'"{wire}": {python}')
    expression = "request_body({" + ", ".join(fields) + "}, extra_body)"
    if wrapper is not None:
        expression = f'{{"{wrapper[0]}": "{wrapper[1]}", "{wrapper[2]}": {expression}}}'
    return expression, summary


def _docstring(summary: str, description: str, params: list[Param], returns: str) -> list[str]:
    lines = wrap(summary.rstrip(".") + ".")
    if description:
        lines += ["", *wrap(description)]
    lines += ["", "Args:"]
    options = "extra_headers, timeout, max_retries"
    if any(param.where == "body" for param in params):
        options = "extra_body, " + options
    for param in params:
        text = param.description or param.wire
        if param.from_client:
            text += " Defaults to the client's own."
        first, *rest = wrap(f"{param.python}: {text}", 88)
        lines += [f"    {first}", *(f"        {line}" for line in rest)]
    lines.append(f'    {options}: Per-request options (the README\'s "Per-request options").')
    if returns != "None":
        lines += ["", "Returns:", f"    {returns}"]
    return lines


# ---------------------------------------------------------------- the command line's table

EVENT_SCHEMAS = {"ice": "IceEvent", "ace": "AceEvent", "dice": "DiceEvent", "pie": "PieEvent", "notify": "NotifyEvent"}


def cli_kind(schemas: dict[str, Any], schema: dict[str, Any]) -> tuple[str, list[Any]]:
    """How the command line reads a value of `schema`: (kind, choices).

    Kinds: str, int, float, bool, list (of strings), identity (a phone number or JSON), json.
    """
    name = _ref_name(schema)
    if name is not None:
        target = schemas[name]
        if name == "Identity":
            return "identity", []
        if "enum" in target:
            return "choice", list(target["enum"])
        if "anyOf" in target or "oneOf" in target:
            members = [cli_kind(schemas, member)[0] for member in target.get("anyOf", []) + target.get("oneOf", [])]
            return ("str", []) if "str" in members else ("json", [])
        if "properties" in target or target.get("type") == "object":
            return "json", []
        return cli_kind(schemas, target)
    if "enum" in schema:
        return "choice", list(schema["enum"])
    types = schema.get("type", "object")
    if isinstance(types, list):
        return "str", []
    if types == "array":
        item = cli_kind(schemas, schema.get("items", {}))[0]
        return ("list", []) if item in ("str", "choice") else ("json", [])
    return {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(types, "json"), []


def command_table(spec: dict[str, Any], found: Surface) -> dict[str, Any]:
    """What `sinch-calling` offers, as plain data: one command per method, one per event to trigger."""
    schemas = spec["components"]["schemas"]
    commands = []
    groups = {}

    def visit(resource: Resource, prefix: tuple[str, ...]) -> None:
        path = (*prefix, resource.attribute)
        groups[" ".join(path)] = resource.description
        for method in resource.methods:
            options = []
            for param in method.params:
                kind, choices = cli_kind(schemas, param.schema)
                options.append(
                    {
                        "name": param.python,
                        "wire": param.wire,
                        "where": param.where,
                        "kind": kind,
                        "choices": choices,
                        "required": param.required and not param.from_client,
                        "help": " ".join(wrap(param.description or param.wire, 10_000)),
                    }
                )
            summary = method.docstring[0] if method.docstring else method.name
            commands.append({"path": [*path, method.name], "summary": summary, "options": options})
        for child in resource.children:
            visit(child, path)

    for resource in found.resources:
        visit(resource, ())
    events = {}
    for event, name in EVENT_SCHEMAS.items():
        fields = []
        for wire, prop in schemas[name].get("properties", {}).items():
            if wire == "event":
                continue
            kind, choices = cli_kind(schemas, prop)
            fields.append({"wire": wire, "kind": kind, "choices": choices, "help": found.types.description(prop)})
        answer = {"ice": "IceResponse", "ace": "AceResponse", "pie": "PieResponse"}.get(event)
        events[event] = {"schema": name, "answer": answer, "fields": fields}
    return {"commands": commands, "groups": groups, "events": events}
