"""parse_event: every event type by its discriminator, forward compatibility, clear refusals."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from sinch_calling import SinchCallingError
from sinch_calling.callbacks import (
    AceEvent,
    CallbackEvent,
    CallbackParseError,
    DiceEvent,
    IceEvent,
    NotifyEvent,
    PieEvent,
    UnknownEventError,
    parse_event,
)
from sinch_calling.models import (
    AmdStatus,
    CallReason,
    CallResultValue,
    Domain,
    IdentityType,
    InputMethod,
    MenuResultType,
)
from sinch_calling.types import UNSET

from tests.callbacks.helpers import spec, webhook_examples
from tests.support import CALLBACK_BODY

EVENT_CLASSES: dict[str, type[Any]] = {
    "ice": IceEvent,
    "ace": AceEvent,
    "dice": DiceEvent,
    "pie": PieEvent,
    "notify": NotifyEvent,
}
SPEC_EXAMPLES = [
    pytest.param(event, value, id=f"{event}-{name}")
    for event in EVENT_CLASSES
    for name, value in webhook_examples(event, "request").items()
]


def test_the_dispatch_covers_exactly_the_spec_callback_event_mapping() -> None:
    mapping = spec()["components"]["schemas"]["CallbackEvent"]["discriminator"]["mapping"]
    assert {value: ref.rsplit("/", 1)[1] for value, ref in mapping.items()} == {
        value: cls.__name__ for value, cls in EVENT_CLASSES.items()
    }
    with pytest.raises(UnknownEventError) as caught:
        parse_event({"event": "?", "callid": "x"})
    assert set(caught.value.known) == set(mapping)


@pytest.mark.parametrize(("event", "example"), SPEC_EXAMPLES)
def test_every_spec_example_parses_to_its_model_and_round_trips(event: str, example: dict[str, Any]) -> None:
    parsed = parse_event(json.dumps(example).encode())
    assert type(parsed) is EVENT_CLASSES[event]
    assert parsed.event == event
    assert parsed.callid == example["callid"]
    assert parsed.additional_properties == {}
    round_trip = parsed.to_dict()
    if "timestamp" in example:  # a datetime comes back as isoformat
        assert datetime.fromisoformat(round_trip.pop("timestamp")) == datetime.fromisoformat(
            example["timestamp"].replace("Z", "+00:00")
        )
        example = {k: v for k, v in example.items() if k != "timestamp"}
    assert round_trip == example


def test_every_event_type_has_an_example() -> None:
    assert {param.values[0] for param in SPEC_EXAMPLES} == set(EVENT_CLASSES)


def test_the_callback_vector_body_is_an_ace() -> None:
    event = parse_event(CALLBACK_BODY)
    assert isinstance(event, AceEvent)
    assert event.callid == "822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257"
    assert event.timestamp == datetime(2014, 9, 24, 10, 59, 41, tzinfo=timezone.utc)
    assert event.version == 1


def test_ice_fields_are_typed() -> None:
    event = parse_event(
        {
            "event": "ice",
            "callid": "c1",
            "cli": "+46708168731",
            "to": {"type": "number", "endpoint": "+46000000001"},
            "domain": "pstn",
            "userRate": {"currencyId": "USD", "amount": 0.0368},
            "applicationKey": "app",
            "callHeaders": [{"key": "x-origin", "value": "web"}],
            "rdnis": "+46000000009",
            "custom": "my data",
        }
    )
    assert isinstance(event, IceEvent)
    assert event.to.type_ == IdentityType.NUMBER and event.to.endpoint == "+46000000001"  # type: ignore[union-attr]
    assert event.domain == Domain.PSTN
    assert event.user_rate.amount == 0.0368  # type: ignore[union-attr]
    assert event.call_headers[0].key == "x-origin"  # type: ignore[index]
    assert event.application_key == "app"
    assert event.rdnis == "+46000000009"


def test_ace_amd_and_pie_menu_result() -> None:
    ace = parse_event(b'{"event":"ace","callid":"c","amd":{"status":"machine","reason":"beep","duration":3}}')
    assert isinstance(ace, AceEvent)
    assert ace.amd.status == AmdStatus.MACHINE  # type: ignore[union-attr]
    pie = parse_event(
        '{"event":"pie","callid":"c","menuResult":{"type":"return","value":"sales","menuId":"main","inputMethod":"dtmf"}}'
    )
    assert isinstance(pie, PieEvent)
    assert pie.menu_result.type_ == MenuResultType.RETURN  # type: ignore[union-attr]
    assert pie.menu_result.input_method == InputMethod.DTMF  # type: ignore[union-attr]


def test_the_dice_from_field_and_known_reason() -> None:
    dice = parse_event({"event": "dice", "callid": "c", "from": "+46000000000", "reason": "CALLERHANGUP"})
    assert isinstance(dice, DiceEvent)
    assert dice.from_ == "+46000000000"
    assert dice.reason is CallReason.CALLERHANGUP
    assert dice.to_dict()["from"] == "+46000000000"


def test_an_unknown_dice_reason_is_kept_as_its_string() -> None:
    body = b'{"event":"dice","callid":"c","reason":"BRANDNEWREASON","result":"SOMETHINGELSE"}'
    dice = parse_event(body)
    assert isinstance(dice, DiceEvent)
    assert isinstance(dice.reason, CallReason)
    assert dice.reason == "BRANDNEWREASON"
    assert dice.reason.value == "BRANDNEWREASON"
    assert str(dice.reason) == "BRANDNEWREASON"
    assert dice.reason.name == "UNKNOWN"
    assert dice.result == "SOMETHINGELSE" and isinstance(dice.result, CallResultValue)
    assert dice.to_dict()["reason"] == "BRANDNEWREASON"
    assert json.loads(json.dumps(dice.to_dict())) == json.loads(body)


def test_unknown_enum_values_elsewhere_are_kept_too() -> None:
    ice = parse_event({"event": "ice", "callid": "c", "domain": "webrtc", "to": {"type": "email", "endpoint": "a"}})
    assert isinstance(ice, IceEvent)
    assert ice.domain == "webrtc"
    assert ice.to.type_ == "email"  # type: ignore[union-attr]


def test_unknown_fields_are_kept_at_every_level() -> None:
    body = {
        "event": "notify",
        "callid": "c",
        "type": "recording_finished",
        "destination": "https://example.com/r.mp3",
        "amd": {"status": "human", "confidence": 0.97},
        "newTopLevelField": {"nested": [1, 2]},
    }
    notify = parse_event(body)
    assert isinstance(notify, NotifyEvent)
    assert notify.additional_properties == {"newTopLevelField": {"nested": [1, 2]}}
    assert notify["newTopLevelField"] == {"nested": [1, 2]}
    assert notify.amd.additional_properties == {"confidence": 0.97}  # type: ignore[union-attr]
    assert notify.to_dict() == body


@pytest.mark.parametrize("form", ["bytes", "str", "mapping", "bytearray"])
def test_the_body_may_be_bytes_text_or_decoded(form: str) -> None:
    body: Any = {
        "bytes": CALLBACK_BODY,
        "str": CALLBACK_BODY.decode(),
        "mapping": json.loads(CALLBACK_BODY),
        "bytearray": bytearray(CALLBACK_BODY),
    }[form]
    assert isinstance(parse_event(body), AceEvent)


def test_utf8_text_and_a_bom_are_fine() -> None:
    body = '\ufeff{"event":"ice","callid":"c","custom":"Välkommen, 你好"}'.encode()
    event = parse_event(body)
    assert event.custom == "Välkommen, 你好"


def test_the_result_is_a_callback_event() -> None:
    event: CallbackEvent = parse_event(CALLBACK_BODY)
    assert isinstance(event, CallbackEvent)  # the alias is a real union at runtime too


# ---------------------------------------------------------------- refusals


def test_an_unknown_event_is_refused_naming_it_and_the_known_ones() -> None:
    with pytest.raises(UnknownEventError) as caught:
        parse_event(b'{"event":"transfer","callid":"c"}')
    error = caught.value
    assert isinstance(error, ValueError) and isinstance(error, CallbackParseError)
    assert isinstance(error, SinchCallingError)
    assert error.event == "transfer"
    assert error.field == "event"
    assert error.known == ("ace", "dice", "ice", "notify", "pie")
    assert "'transfer'" in str(error)
    assert "ace, dice, ice, notify, pie" in str(error)


@pytest.mark.parametrize(
    "body",
    [b'{"callid":"c"}', b'{"event":null,"callid":"c"}', b'{"event":1,"callid":"c"}', b'{"event":"ICE"}'],
    ids=["absent", "null", "number", "wrong-case"],
)
def test_a_missing_or_odd_event_is_refused(body: bytes) -> None:
    with pytest.raises(UnknownEventError, match="expected one of: ace, dice, ice, notify, pie"):
        parse_event(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b'{"event":"ice",}', "not valid JSON"),
        (b"<html>502 Bad Gateway</html>", "not valid JSON"),
        (b'{"event":"ice","callid":"c","x":NaN}', "NaN is not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid"),
        (b"\xc3\x28", "not valid UTF-8 JSON"),
        (b"[1, 2]", "JSON object, not an array"),
        (b'"ice"', "JSON object, not a string"),
        (b"null", "JSON object, not null"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
    ids=[
        "empty",
        "truncated",
        "trailing-comma",
        "html",
        "nan",
        "utf16-garbage",
        "bad-utf8",
        "array",
        "string",
        "null",
        "deep",
    ],
)
def test_malformed_bodies_are_refused_clearly(body: bytes, message: str) -> None:
    with pytest.raises(CallbackParseError, match=message) as caught:
        parse_event(body)
    assert caught.value.field == "<body>"
    assert not isinstance(caught.value, UnknownEventError)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "dice", "callid": "c", "duration": "14"}, "duration"),
        ({"event": "dice", "callid": 42}, "callid"),
        ({"event": "ice", "callid": "c", "to": {"type": "did"}}, "endpoint"),
        ({"event": "dice", "callid": "c", "version": True}, "version"),
    ],
    ids=["string-duration", "number-callid", "missing-endpoint", "bool-version"],
)
def test_fields_that_violate_the_spec_are_named(body: dict[str, Any], field: str) -> None:
    with pytest.raises(CallbackParseError) as caught:
        parse_event(body)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert str(caught.value).startswith(f"{body['event']} event: ")


def test_a_bad_timestamp_in_the_body_is_refused_clearly() -> None:
    with pytest.raises(CallbackParseError, match="ace event"):
        parse_event({"event": "ace", "callid": "c", "timestamp": "not a time"})


def test_a_body_of_another_type_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        parse_event(42)  # type: ignore[arg-type]


def test_the_call_id_is_read_under_both_spellings_and_may_be_absent() -> None:
    # Sinch sends `callid`; the examples of its reference write `callId`; only `event` is required.
    assert parse_event({"event": "ice", "callid": "a"}).callid == "a"
    assert parse_event({"event": "ice", "callId": "b"}).callid == "b"
    both = parse_event({"event": "notify", "callid": "a", "callId": "b", "type": "amd"})
    assert both.callid == "a" and both.to_dict() == {"event": "notify", "callid": "a", "type": "amd"}
    assert parse_event({"event": "ace"}).callid is UNSET
