"""Classify every change between two versions of the OpenAPI document.

A change is judged by who holds the data. What users *write* (request parameters and bodies, the
SVAML a webhook answers with) breaks when it is narrowed: a value that was accepted is refused.
What users *read* (responses, the events Sinch sends to a webhook) breaks when it is widened or may
go missing: code that handled every documented value meets one it does not know. Removing anything,
an enum value included, breaks either way; adding something optional is minor; text is patch.

Component schemas are compared once each, in every direction they are used in (old or new).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

from tools.changes import Change, Level

JSON = dict[str, Any]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Keys that only document: a change to them is a patch.
DOC_KEYS = frozenset(
    {"description", "summary", "title", "example", "examples", "externalDocs", "$comment", "tags", "links"}
)
# Bounds whose lower value narrows (an upper bound) or whose higher value narrows (a lower bound).
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
# Any change to these is both a narrowing and a widening: old values may fail, new ones may surprise.
RESTRICTIONS = ("pattern", "format", "multipleOf", "uniqueItems")
SCHEMA_REF = "#/components/schemas/"


class Direction(enum.Flag):
    WRITE = enum.auto()  # users send it
    READ = enum.auto()  # users receive it
    NONE = 0


def narrowed(direction: Direction) -> Level:
    """Fewer values allowed: a break for writers, a firmer promise for readers."""
    return Level.BREAKING if Direction.WRITE in direction else Level.MINOR


def widened(direction: Direction) -> Level:
    """More values allowed: a break for readers, a new freedom for writers."""
    return Level.BREAKING if Direction.READ in direction else Level.MINOR


def diff_specs(old: JSON, new: JSON) -> list[Change]:
    return SpecDiff(old, new).run()


class SpecDiff:
    def __init__(self, old: JSON, new: JSON) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []
        self.usage = _schema_usage(old)
        for name, direction in _schema_usage(new).items():
            self.usage[name] = self.usage.get(name, Direction.NONE) | direction
        self._seen_refs: set[tuple[str, str, Direction]] = set()

    def run(self) -> list[Change]:
        self._compare_info()
        self._compare_operations("paths", self.old.get("paths", {}), self.new.get("paths", {}), webhook=False)
        self._compare_operations("webhooks", self.old.get("webhooks", {}), self.new.get("webhooks", {}), webhook=True)
        self._compare_components()
        return sorted(set(self.changes), key=lambda change: (-change.level, change.where, change.what))

    def add(self, level: Level, where: str, what: str) -> None:
        self.changes.append(Change(level, f"spec: {where}", what))

    # ---------------------------------------------------------------- top level
    def _compare_info(self) -> None:
        old, new = self.old.get("info", {}), self.new.get("info", {})
        for key in sorted(set(old) | set(new)):
            if key != "version" and old.get(key) != new.get(key):
                self.add(Level.PATCH, f"info.{key}", "changed")
        for key in ("servers", "security"):
            if self.old.get(key) != self.new.get(key):
                self.add(Level.MINOR, key, "changed (not classified by the checker: review it)")
        if self.old.get("tags") != self.new.get("tags"):
            self.add(Level.PATCH, "tags", "changed")

    def _compare_operations(self, section: str, old_items: JSON, new_items: JSON, *, webhook: bool) -> None:
        old_ops, new_ops = dict(_operations(old_items)), dict(_operations(new_items))
        for key in sorted(set(old_ops) - set(new_ops)):
            self.add(Level.BREAKING, _operation_name(section, key, old_ops[key]), "operation removed")
        for key in sorted(set(new_ops) - set(old_ops)):
            self.add(Level.MINOR, _operation_name(section, key, new_ops[key]), "operation added")
        for key in sorted(set(old_ops) & set(new_ops)):
            self._compare_operation(_operation_name(section, key, new_ops[key]), old_ops[key], new_ops[key], webhook)

    def _compare_operation(self, where: str, old: JSON, new: JSON, webhook: bool) -> None:
        # A webhook turns the roles around: Sinch sends the request, the user writes the answer.
        sent, answered = (Direction.READ, Direction.WRITE) if webhook else (Direction.WRITE, Direction.READ)
        handled = {"parameters", "requestBody", "responses"}
        for key in sorted((set(old) | set(new)) - handled):
            if old.get(key) != new.get(key):
                self._other_key(where, key)
        self._compare_parameters(where, old.get("parameters", []), new.get("parameters", []), sent)
        self._compare_request_body(where, old.get("requestBody"), new.get("requestBody"), sent)
        self._compare_responses(where, old.get("responses", {}), new.get("responses", {}), answered)

    def _other_key(self, where: str, key: str) -> None:
        if key in DOC_KEYS:
            self.add(Level.PATCH, where, f"{key} changed")
        elif key == "deprecated":
            self.add(Level.MINOR, where, "deprecation changed")
        else:
            self.add(Level.MINOR, where, f"{key} changed (not classified by the checker: review it)")

    def _compare_parameters(self, where: str, old: list[JSON], new: list[JSON], direction: Direction) -> None:
        old_params = {(p["in"], p["name"]): p for p in (self._resolve(self.old, p) for p in old)}
        new_params = {(p["in"], p["name"]): p for p in (self._resolve(self.new, p) for p in new)}
        for place, name in sorted(set(old_params) - set(new_params)):
            self.add(Level.BREAKING, f"{where} {place} parameter {name}", "removed")
        for place, name in sorted(set(new_params) - set(old_params)):
            required = new_params[place, name].get("required", False)
            level = Level.BREAKING if required and Direction.WRITE in direction else Level.MINOR
            self.add(level, f"{where} {place} parameter {name}", "added, required" if required else "added, optional")
        for key in sorted(set(old_params) & set(new_params)):
            here = f"{where} {key[0]} parameter {key[1]}"
            old_p, new_p = old_params[key], new_params[key]
            self._compare_required_flag(here, old_p.get("required", False), new_p.get("required", False), direction)
            for other in sorted((set(old_p) | set(new_p)) - {"in", "name", "required", "schema"}):
                if old_p.get(other) != new_p.get(other):
                    self._other_key(here, other)
            self.compare_schema(here, old_p.get("schema", {}), new_p.get("schema", {}), direction)

    def _compare_required_flag(self, where: str, was: bool, now: bool, direction: Direction) -> None:
        if not was and now:
            self.add(narrowed(direction), where, "now required")
        elif was and not now:
            self.add(widened(direction), where, "no longer required (may be absent)")

    def _compare_request_body(self, where: str, old: JSON | None, new: JSON | None, direction: Direction) -> None:
        here = f"{where} request body"
        if old is None and new is None:
            return
        if old is None:
            assert new is not None
            required = bool(self._resolve(self.new, new).get("required"))
            self.add(narrowed(direction) if required else Level.MINOR, here, "added")
            return
        if new is None:
            self.add(Level.BREAKING, here, "removed")
            return
        old, new = self._resolve(self.old, old), self._resolve(self.new, new)
        self._compare_required_flag(here, bool(old.get("required")), bool(new.get("required")), direction)
        self._compare_content(here, old.get("content", {}), new.get("content", {}), direction)
        for key in sorted((set(old) | set(new)) - {"content", "required"}):
            if old.get(key) != new.get(key):
                self._other_key(here, key)

    def _compare_responses(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        for status in sorted(set(old) - set(new)):
            kind = "success status code" if str(status).startswith("2") else "response"
            self.add(Level.BREAKING, f"{where} response {status}", f"{kind} removed")
        for status in sorted(set(new) - set(old)):
            kind = "success status code" if str(status).startswith("2") else "response"
            self.add(Level.MINOR, f"{where} response {status}", f"{kind} added")
        for status in sorted(set(old) & set(new)):
            here = f"{where} response {status}"
            old_r, new_r = self._resolve(self.old, old[status]), self._resolve(self.new, new[status])
            self._compare_content(here, old_r.get("content", {}), new_r.get("content", {}), direction)
            for key in sorted((set(old_r) | set(new_r)) - {"content"}):
                if old_r.get(key) != new_r.get(key):
                    self._other_key(here, key)

    def _compare_content(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        for media in sorted(set(old) - set(new)):
            self.add(Level.BREAKING, f"{where} {media}", "media type removed")
        for media in sorted(set(new) - set(old)):
            self.add(Level.MINOR, f"{where} {media}", "media type added")
        for media in sorted(set(old) & set(new)):
            old_m, new_m = old[media], new[media]
            self.compare_schema(where, old_m.get("schema", {}), new_m.get("schema", {}), direction)
            for key in sorted((set(old_m) | set(new_m)) - {"schema"}):
                if old_m.get(key) != new_m.get(key):
                    self._other_key(f"{where} {media}", key)

    def _compare_components(self) -> None:
        old = self.old.get("components", {}).get("schemas", {})
        new = self.new.get("components", {}).get("schemas", {})
        for name in sorted(set(old) - set(new)):
            self.add(Level.BREAKING, f"schema {name}", "removed")
        for name in sorted(set(new) - set(old)):
            self.add(Level.MINOR, f"schema {name}", "added")
        for name in sorted(set(old) & set(new)):
            direction = self.usage.get(name, Direction.NONE)
            if direction == Direction.NONE:  # used by nothing: judge it as both, to be safe
                direction = Direction.READ | Direction.WRITE
            self._compare_schema_body(f"schema {name}", old[name], new[name], direction)

    # ---------------------------------------------------------------- schemas
    def compare_schema(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        old_ref, new_ref = old.get("$ref"), new.get("$ref")
        if old_ref is not None and old_ref == new_ref and str(old_ref).startswith(SCHEMA_REF):
            # The same component, compared once in _compare_components; what 3.1 allows beside a
            # $ref (a description, a bound) is compared here.
            old_rest, new_rest = _without_ref(old), _without_ref(new)
            if old_rest != new_rest:
                self._compare_schema_body(where, old_rest, new_rest, direction)
            return
        if old_ref or new_ref:
            # Another component, or inlined: compare what each side means, once per pair.
            key = (str(old_ref), str(new_ref), direction)
            if key in self._seen_refs:
                return
            self._seen_refs.add(key)
            if old_ref and new_ref:
                self.add(Level.MINOR, where, f"now refers to {_ref_name(new_ref)} instead of {_ref_name(old_ref)}")
            old, new = self._resolve(self.old, old), self._resolve(self.new, new)
        self._compare_schema_body(where, old, new, direction)

    def _compare_schema_body(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        self._compare_types(where, old, new, direction)
        self._compare_enum(where, old, new, direction)
        self._compare_properties(where, old, new, direction)
        self._compare_bounds(where, old, new, direction)
        self._compare_variants(where, old, new, direction)
        if isinstance(old.get("items"), dict) or isinstance(new.get("items"), dict):
            self.compare_schema(f"{where}[]", old.get("items", {}), new.get("items", {}), direction)
        self._compare_additional_properties(where, old, new, direction)
        handled = {"type", "enum", "const", "properties", "required", "items", "additionalProperties"}
        handled |= {*UPPER_BOUNDS, *LOWER_BOUNDS, *RESTRICTIONS, "oneOf", "anyOf", "allOf", "discriminator"}
        for key in sorted((set(old) | set(new)) - handled):
            if old.get(key) != new.get(key):
                if key == "default":
                    self.add(Level.MINOR, where, f"default {old.get(key)!r} -> {new.get(key)!r}")
                else:
                    self._other_key(where, key)

    def _compare_types(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        old_types, new_types = _types(old), _types(new)
        if old_types == new_types:
            return
        shown = f"type {_show_types(old_types)} -> {_show_types(new_types)}"
        if _covers(old_types, new_types):
            self.add(narrowed(direction), where, f"{shown} (narrowed)")
        elif _covers(new_types, old_types):
            self.add(widened(direction), where, f"{shown} (widened)")
        else:
            self.add(Level.BREAKING, where, f"{shown} (changed)")

    def _compare_enum(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        old_values, new_values = _allowed_values(old), _allowed_values(new)
        if old_values == new_values:
            return
        if old_values is None:
            self.add(narrowed(direction), where, f"now limited to {_show_values(new_values)}")
        elif new_values is None:
            self.add(widened(direction), where, f"no longer limited to {_show_values(old_values)}")
        else:
            for value in _ordered(old_values - new_values):
                self.add(Level.BREAKING, where, f"enum value {value!r} removed")
            for value in _ordered(new_values - old_values):
                self.add(Level.MINOR, where, f"enum value {value!r} added")

    def _compare_properties(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(set(old_props) - set(new_props)):
            self.add(Level.BREAKING, f"{where}.{name}", "field removed")
        for name in sorted(set(new_props) - set(old_props)):
            if name in new_required and Direction.WRITE in direction:
                self.add(Level.BREAKING, f"{where}.{name}", "new required field in what users send")
            else:
                self.add(Level.MINOR, f"{where}.{name}", "field added" + (", required" if name in new_required else ""))
        for name in sorted(set(old_props) & set(new_props)):
            here = f"{where}.{name}"
            self._compare_required_flag(here, name in old_required, name in new_required, direction)
            self.compare_schema(here, old_props[name], new_props[name], direction)
        # `required` naming a field that no `properties` lists (as allOf parts do)
        for name in sorted((new_required - old_required) - set(new_props)):
            self.add(narrowed(direction), f"{where}.{name}", "now required")
        for name in sorted((old_required - new_required) - set(old_props)):
            self.add(widened(direction), f"{where}.{name}", "no longer required (may be absent)")

    def _compare_bounds(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        for key in (*UPPER_BOUNDS, *LOWER_BOUNDS):
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            shown = f"{key} {was!r} -> {now!r}"
            if was is None:
                self.add(narrowed(direction), where, shown)
            elif now is None:
                self.add(widened(direction), where, shown)
            elif (now < was) == (key in UPPER_BOUNDS):
                self.add(narrowed(direction), where, shown)
            else:
                self.add(widened(direction), where, shown)
        for key in RESTRICTIONS:
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            if was is None:
                level = narrowed(direction)
            elif now is None:
                level = widened(direction)
            else:
                level = Level.BREAKING
            self.add(level, where, f"{key} {was!r} -> {now!r}")

    def _compare_variants(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        for keyword in ("oneOf", "anyOf"):
            old_v, new_v = _variants(old.get(keyword, [])), _variants(new.get(keyword, []))
            for name in sorted(set(old_v) - set(new_v)):
                self.add(narrowed(direction), where, f"{keyword} variant {name} removed")
            for name in sorted(set(new_v) - set(old_v)):
                self.add(Level.MINOR, where, f"{keyword} variant {name} added")
            for name in sorted(set(old_v) & set(new_v)):
                self.compare_schema(f"{where}<{name}>", old_v[name], new_v[name], direction)
        old_all, new_all = _variants(old.get("allOf", [])), _variants(new.get("allOf", []))
        for name in sorted(set(old_all) - set(new_all)):
            self.add(widened(direction), where, f"allOf part {name} removed")
        for name in sorted(set(new_all) - set(old_all)):
            self.add(narrowed(direction), where, f"allOf part {name} added")
        for name in sorted(set(old_all) & set(new_all)):
            self.compare_schema(where, old_all[name], new_all[name], direction)
        self._compare_discriminator(where, old.get("discriminator"), new.get("discriminator"))

    def _compare_discriminator(self, where: str, old: JSON | None, new: JSON | None) -> None:
        if old == new:
            return
        if old is None or new is None or old.get("propertyName") != new.get("propertyName"):
            self.add(Level.BREAKING, where, "discriminator changed")
            return
        old_map, new_map = old.get("mapping", {}), new.get("mapping", {})
        for value in sorted(set(old_map) - set(new_map)):
            self.add(Level.BREAKING, where, f"discriminator value {value!r} removed")
        for value in sorted(set(new_map) - set(old_map)):
            self.add(Level.MINOR, where, f"discriminator value {value!r} added")
        for value in sorted(set(old_map) & set(new_map)):
            if old_map[value] != new_map[value]:
                self.add(Level.BREAKING, where, f"discriminator value {value!r} now maps to {new_map[value]}")

    def _compare_additional_properties(self, where: str, old: JSON, new: JSON, direction: Direction) -> None:
        was, now = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if was == now:
            return
        if isinstance(was, dict) and isinstance(now, dict):
            self.compare_schema(f"{where}{{*}}", was, now, direction)
        elif now is False or (was is True and isinstance(now, dict)):
            self.add(narrowed(direction), where, "additional fields now restricted")
        else:
            self.add(widened(direction), where, "additional fields now allowed")

    def _resolve(self, document: JSON, node: JSON) -> JSON:
        """Follow local ``$ref`` chains (parameters, responses, schemas) to the object they name."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node and node["$ref"] not in seen:
            seen.add(node["$ref"])
            target: Any = document
            for part in str(node["$ref"]).removeprefix("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            node = target
        return node


# ---------------------------------------------------------------- helpers
def _operations(items: JSON) -> Iterator[tuple[tuple[str, str], JSON]]:
    for path, item in items.items():
        for method in HTTP_METHODS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                yield (method.upper(), path), item[method]


def _operation_name(section: str, key: tuple[str, str], operation: JSON) -> str:
    method, path = key
    label = f"webhook {path}" if section == "webhooks" else f"{method} {path}"
    operation_id = operation.get("operationId")
    return f"{label} ({operation_id})" if operation_id else label


def _schema_usage(spec: JSON) -> dict[str, Direction]:
    """Each component schema's directions: written by users, read by them, or both."""
    roots: list[tuple[Any, Direction]] = []
    for section, webhook in (("paths", False), ("webhooks", True)):
        for _, operation in _operations(spec.get(section, {})):
            sent, answered = (Direction.READ, Direction.WRITE) if webhook else (Direction.WRITE, Direction.READ)
            roots += [(operation.get("parameters", []), sent), (operation.get("requestBody", {}), sent)]
            roots.append((operation.get("responses", {}), answered))
    components = spec.get("components", {})
    usage: dict[str, Direction] = {}
    pending = list(roots)
    while pending:
        node, direction = pending.pop()
        for ref in _refs(node):
            section, _, name = ref.removeprefix("#/components/").partition("/")
            if section == "schemas" and Direction(direction) not in usage.get(name, Direction.NONE):
                usage[name] = usage.get(name, Direction.NONE) | direction
                pending.append((components.get("schemas", {}).get(name, {}), direction))
            elif section in ("parameters", "responses", "requestBodies"):
                pending.append((components.get(section, {}).get(name, {}), direction))
    return usage


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _without_ref(schema: JSON) -> JSON:
    return {key: value for key, value in schema.items() if key != "$ref"}


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _types(schema: JSON) -> frozenset[str] | None:
    """The JSON types a schema allows (None: any); ``nullable`` of OpenAPI 3.0 counts as null."""
    declared = schema.get("type")
    if declared is None:
        return None
    types = {declared} if isinstance(declared, str) else set(declared)
    if schema.get("nullable"):
        types.add("null")
    return frozenset(types)


def _covers(wide: frozenset[str] | None, narrow: frozenset[str] | None) -> bool:
    """Does ``wide`` allow every value ``narrow`` does? (integers are numbers)."""
    if wide is None:
        return True
    if narrow is None:
        return False
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _show_types(types: frozenset[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types))


def _allowed_values(schema: JSON) -> frozenset[Any] | None:
    if "const" in schema:
        return frozenset([_hashable(schema["const"])])
    if "enum" in schema:
        return frozenset(_hashable(value) for value in schema["enum"])
    return None


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, dict | list) else value


def _ordered(values: frozenset[Any]) -> list[Any]:
    return sorted(values, key=repr)


def _show_values(values: frozenset[Any] | None) -> str:
    return ", ".join(repr(value) for value in _ordered(values or frozenset()))


def _variants(variants: list[JSON]) -> dict[str, JSON]:
    """oneOf/anyOf/allOf members by the component they name, or by position when inline."""
    return {_ref_name(v["$ref"]) if "$ref" in v else f"#{i}": v for i, v in enumerate(variants)}
