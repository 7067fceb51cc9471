"""Helpers that generated models and endpoints call while turning JSON into typed objects.

openapi-python-client's own parsing trusts the data: a missing key raises a bare ``KeyError``,
a wrong primitive type passes silently, an unknown enum value raises ``ValueError`` and a
``oneOf`` is parsed by trying each variant. These helpers give generated code one strict,
forward-compatible path instead:

- ``check_field`` checks a primitive field's JSON type and names the field when it is wrong;
- ``parse_datetime`` reads ISO-8601 date-times on every supported Python, naming the field;
- ``parse_discriminated`` picks a ``oneOf`` variant by its discriminator, in one step;
- ``open_enum_member`` lets an enum keep a value the spec does not know yet (Sinch adds
  DiCE reasons over time) instead of failing;
- ``pop_field`` reads a field that Sinch spells two ways (``x-sinch-aliases`` in the spec);
- ``parse_body`` runs a model's ``from_dict`` on a response and turns any failure into a
  ``ResponseValidationError`` that names the field.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Literal, TypeVar, cast

import httpx

from .exceptions import ResponseValidationError
from .timestamps import parse_iso_datetime

__all__ = [
    "UNSET",
    "FieldError",
    "Unset",
    "check_field",
    "format_datetime",
    "open_enum_member",
    "parse_body",
    "parse_datetime",
    "parse_discriminated",
    "pop_field",
]

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

_JSON_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


class Unset:
    """The value of a field that was absent (distinct from ``None``, which is JSON null)."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Unset = Unset()


class FieldError(ValueError):
    """A field of a JSON document does not match the spec. ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_field(value: Any, expected: tuple[type, ...], field: str) -> Any:
    """Return ``value`` if its JSON type is one of ``expected`` (unset values pass through).

    ``bool`` is not accepted where a number is expected, although Python treats it as an int;
    an integral float (``600.0``) is an integer for JSON Schema, and is returned as an ``int``.
    """
    if isinstance(value, Unset):  # the field was absent
        return value
    if isinstance(value, bool) and bool not in expected:
        raise FieldError(field, _type_message(field, expected, value))
    if isinstance(value, float) and int in expected and float not in expected and value.is_integer():
        return int(value)  # JSON Schema's integer includes 600.0
    if not isinstance(value, expected):
        raise FieldError(field, _type_message(field, expected, value))
    return value


def _type_message(field: str, expected: tuple[type, ...], value: object) -> str:
    wanted = " or ".join(_JSON_TYPE_NAMES.get(t, t.__name__) for t in expected)
    got = _JSON_TYPE_NAMES.get(type(value), type(value).__name__) if value is not None else "null"
    return f"field {field!r} should be {wanted}, got {got}"


_MISSING: Any = object()
_REQUIRED: Any = object()


def pop_field(data: dict[str, Any], name: str, aliases: tuple[str, ...], default: Any = _REQUIRED) -> Any:
    """Pop field ``name`` from ``data``, or else the first of its ``aliases`` that is there.

    Sinch spells some fields two ways (``number``/``numberItem``, ``callHeaders``/``callheaders``):
    the documented name wins, and every alias is removed, so the model writes back one spelling.
    A required field (no ``default``) that is absent under every name raises ``KeyError(name)``.
    """
    value = data.pop(name, _MISSING)
    for alias in aliases:
        other = data.pop(alias, _MISSING)
        if value is _MISSING:
            value = other
    if value is not _MISSING:
        return value
    if default is _REQUIRED:
        raise KeyError(name)
    return default


def parse_datetime(value: object, field: str) -> datetime.datetime:
    """Parse an ISO-8601 date-time field as Sinch sends it (``Z``, offsets, any fraction length).

    The grammar is ``timestamps.parse_iso_datetime``'s, the one ``x-timestamp`` is read with, on
    every Python version (``datetime.fromisoformat`` takes other forms on 3.11 than on 3.10).
    """
    if not isinstance(value, str):
        raise FieldError(field, _type_message(field, (str,), value))
    try:
        return parse_iso_datetime(value)
    except ValueError as exc:
        raise FieldError(field, f"field {field!r} is not an ISO-8601 date-time: {value!r}") from exc


def format_datetime(value: datetime.datetime) -> str:
    """ISO-8601 as Sinch writes it: ``Z`` for UTC, and fractions only as precise as they are.

    ``2022-03-21T13:13:59Z`` and ``2023-11-22T09:10:11.999Z`` read by ``parse_datetime`` come back
    unchanged (``isoformat`` would write ``+00:00`` and ``.999000``).
    """
    micro = value.microsecond
    spec = "seconds" if micro == 0 else "milliseconds" if micro % 1000 == 0 else "microseconds"
    text = value.isoformat(timespec=spec)
    if value.tzinfo is not None and value.utcoffset() == datetime.timedelta(0) and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def parse_discriminated(
    data: object, field: str, variants: Mapping[str, Callable[[Mapping[str, Any]], T]], union: str
) -> T:
    """Parse ``data`` as the variant of ``union`` named by its ``field`` property."""
    if not isinstance(data, Mapping):
        raise FieldError(field, f"{union} should be an object, got {type(data).__name__}")
    tag = data.get(field)
    parse = variants.get(tag) if isinstance(tag, str) else None
    if parse is None:
        known = ", ".join(sorted(variants))
        raise FieldError(field, f"unknown {union} {field} {tag!r}; expected one of: {known}")
    return parse(data)


def open_enum_member(enum: type[E], value: object) -> E | None:
    """Make a member of ``enum`` for a string value it does not list (for ``Enum._missing_``).

    The member keeps the value, compares equal to it and serialises back to it, so data from a
    newer server round-trips unchanged. Its name is ``UNKNOWN``. Non-strings are still refused.
    """
    if not isinstance(value, str):
        return None
    member: Any = str.__new__(cast(Any, enum), value)
    member._name_ = "UNKNOWN"
    member._value_ = value
    return cast(E, member)


def parse_body(response: httpx.Response, parse: Callable[[Any], T], operation: str = "") -> T:
    """Decode a 2xx response's JSON and parse it with ``parse`` (a model's ``from_dict``).

    Any failure, however deep, becomes a ``ResponseValidationError`` naming ``operation`` (the
    spec's operationId) and the field, so ``except SinchCallingError`` catches it.
    """
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: a body nested ~1,000 deep (3 KB) exhausts json's recursion limit.
        raise _invalid(operation, "<body>", f"response body is not JSON: {exc}", response) from exc
    try:
        return parse(data)
    except FieldError as exc:
        raise _invalid(operation, exc.field, str(exc), response) from exc
    except KeyError as exc:
        field = str(exc.args[0]) if exc.args else "<unknown>"
        raise _invalid(operation, field, f"required field {field!r} is missing", response) from exc
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise _invalid(operation, "<body>", f"response does not match the spec: {exc}", response) from exc


def _invalid(operation: str, field: str, message: str, response: httpx.Response) -> ResponseValidationError:
    return ResponseValidationError(field, message, response=response, operation=operation)
