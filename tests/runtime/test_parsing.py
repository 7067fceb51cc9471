"""The runtime's parsing helpers, which generated models and endpoints call."""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Any

import httpx
import pytest
from sinch_calling._runtime.exceptions import ResponseValidationError
from sinch_calling._runtime.parsing import (
    UNSET,
    FieldError,
    check_field,
    format_datetime,
    open_enum_member,
    parse_body,
    parse_datetime,
    parse_discriminated,
    pop_field,
)

UTC = datetime.timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T10:55:48Z", datetime.datetime(2026, 11, 27, 10, 55, 48, tzinfo=UTC)),
        ("2023-11-22T09:10:11.999Z", datetime.datetime(2023, 11, 22, 9, 10, 11, 999000, tzinfo=UTC)),
        ("2026-11-27T10:55:48.734574+00:00", datetime.datetime(2026, 11, 27, 10, 55, 48, 734574, tzinfo=UTC)),
        ("2026-11-27T10:55:48.1234567Z", datetime.datetime(2026, 11, 27, 10, 55, 48, 123456, tzinfo=UTC)),
    ],
)
def test_parse_datetime_reads_what_sinch_and_its_sdks_send(text: str, expected: datetime.datetime) -> None:
    assert parse_datetime(text, "timestamp") == expected


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-01T00:00:00Z", 1700000000, None])
def test_parse_datetime_names_the_field_on_bad_values(value: Any) -> None:
    with pytest.raises(FieldError) as caught:
        parse_datetime(value, "timestamp")
    assert caught.value.field == "timestamp"


@pytest.mark.parametrize(
    ("value", "expected", "ok"),
    [
        (1, (int,), True),
        (True, (int,), False),  # JSON true is not a number
        (1.5, (int, float), True),
        (2, (int, float), True),
        ("1", (int,), False),
        (None, (str,), False),
        (True, (bool,), True),
        (UNSET, (int,), True),  # absent optional field
    ],
)
def test_check_field(value: Any, expected: tuple[type, ...], ok: bool) -> None:
    if ok:
        assert check_field(value, expected, "f") is value
    else:
        with pytest.raises(FieldError, match="'f' should be"):
            check_field(value, expected, "f")


def test_parse_discriminated_dispatches_and_refuses_unknown_tags() -> None:
    variants = {"a": lambda d: ("A", dict(d)), "b": lambda d: ("B", dict(d))}
    assert parse_discriminated({"kind": "b", "x": 1}, "kind", variants, "Thing") == ("B", {"kind": "b", "x": 1})
    for bad in ({"kind": "c"}, {}, {"kind": 3}):
        with pytest.raises(FieldError, match="expected one of: a, b"):
            parse_discriminated(bad, "kind", variants, "Thing")
    with pytest.raises(FieldError, match="should be an object"):
        parse_discriminated(["a"], "kind", variants, "Thing")


class Colour(str, Enum):
    RED = "red"

    @classmethod
    def _missing_(cls, value: object) -> Colour | None:
        return open_enum_member(cls, value)


def test_open_enum_member() -> None:
    assert Colour("red") is Colour.RED
    teal = Colour("teal")
    assert isinstance(teal, Colour) and teal == "teal" and teal.value == "teal" and teal.name == "UNKNOWN"
    with pytest.raises(ValueError):
        Colour(1)


def response(status: int, content: bytes) -> httpx.Response:
    return httpx.Response(status, content=content, request=httpx.Request("GET", "https://h/x"))


def test_parse_body_maps_every_failure_to_a_response_validation_error() -> None:
    def needs_id(data: Any) -> str:
        return str(data["id"])

    assert parse_body(response(200, b'{"id": 7}'), needs_id) == "7"
    with pytest.raises(ResponseValidationError) as caught:
        parse_body(response(200, b"{}"), needs_id)
    assert caught.value.field == "id"
    with pytest.raises(ResponseValidationError) as caught:
        parse_body(response(200, b"not json"), needs_id)
    assert caught.value.field == "<body>"
    with pytest.raises(ResponseValidationError):
        parse_body(response(200, b"[1]"), needs_id)


def test_a_deeply_nested_body_is_a_response_validation_error_naming_the_operation() -> None:
    # A 3 KB body nested ~1,000 deep exhausted json's recursion limit: a bare RecursionError
    # escaped `except SinchCallingError` (adversarial pass, issue 16 item 4).
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    with pytest.raises(ResponseValidationError) as caught:
        parse_body(response(200, deep), dict, "getCallResult")
    assert caught.value.operation == "getCallResult"
    assert str(caught.value).startswith("getCallResult: invalid response field '<body>'")


def test_a_missing_required_field_names_the_operation_and_field() -> None:
    from sinch_calling.models import QueryNumberResponse

    with pytest.raises(ResponseValidationError) as caught:
        parse_body(response(200, b'{"method": "x"}'), QueryNumberResponse.from_dict, "queryNumber")
    assert (caught.value.operation, caught.value.field) == ("queryNumber", "number")
    # Either spelling Sinch uses is read; the documented one is written.
    older = b'{"method": "numberItem", "numberItem": {"countryId": "SE"}}'
    parsed = parse_body(response(200, older), QueryNumberResponse.from_dict, "queryNumber")
    assert parsed.number.country_id == "SE"
    assert parsed.to_dict() == {"number": {"countryId": "SE"}, "method": "numberItem"}


def test_pop_field_prefers_the_documented_name_and_drops_every_alias() -> None:
    data = {"callid": "a", "callId": "b", "other": 1}
    assert pop_field(data, "callid", ("callId",)) == "a"
    assert data == {"other": 1}
    assert pop_field({"callId": "b"}, "callid", ("callId",), None) == "b"
    assert pop_field({}, "callid", ("callId",), None) is None
    with pytest.raises(KeyError):
        pop_field({}, "callid", ("callId",))


@pytest.mark.parametrize(
    "text",
    [
        "2022-03-21T13:13:59Z",
        "2023-11-22T09:10:11.999Z",
        "2026-11-27T10:55:48.734574+00:00",
        "2024-06-06T17:36:00+02:00",
    ],
)
def test_a_timestamp_is_written_back_as_sinch_wrote_it(text: str) -> None:
    expected = text.replace("+00:00", "Z") if text.endswith(".734574+00:00") else text
    assert format_datetime(parse_datetime(text, "timestamp")) == expected


def test_an_integral_float_is_an_integer() -> None:
    # JSON Schema's `integer` includes 600.0; the model gets an int.
    value = check_field(600.0, (int,), "maxDuration")
    assert value == 600 and type(value) is int
    with pytest.raises(FieldError):
        check_field(600.5, (int,), "maxDuration")
