"""Generated models: discriminated unions, open enums, strict primitive fields, camelCase output."""

from __future__ import annotations

from typing import Any

import pytest
from sinch_calling._runtime.parsing import FieldError
from sinch_calling.models import (
    AceResponse,
    CallReason,
    ConnectConfAction,
    ContinueAction,
    HangupAction,
    IdentityType,
    ManageCallRequest,
    ParkAction,
    PlayFilesInstruction,
    SayInstruction,
)
from sinch_calling.types import UNSET


def test_union_members_are_chosen_by_the_discriminator() -> None:
    parsed = ManageCallRequest.from_dict(
        {
            "instructions": [{"name": "say", "text": "hi"}, {"name": "playFiles", "ids": ["welcome"]}],
            "action": {"name": "park", "holdPrompt": "wait"},
        }
    )
    assert [type(i) for i in parsed.instructions] == [SayInstruction, PlayFilesInstruction]
    assert isinstance(parsed.action, ParkAction) and parsed.action.hold_prompt == "wait"
    assert isinstance(ManageCallRequest.from_dict({"action": {"name": "hangup"}}).action, HangupAction)
    assert isinstance(ManageCallRequest.from_dict({"action": {"name": "continue"}}).action, ContinueAction)


@pytest.mark.parametrize("name", ["connectPstn", "bogus", None, 7])
def test_an_action_outside_the_union_is_a_clear_error(name: Any) -> None:
    with pytest.raises(FieldError) as caught:
        ManageCallRequest.from_dict({"action": {"name": name}})
    assert caught.value.field == "name"
    assert "continue, hangup, park" in str(caught.value)


def test_a_variant_is_parsed_once_and_its_own_errors_surface() -> None:
    # Trial-and-error parsing would swallow this and report "no variant matched".
    with pytest.raises(KeyError, match="conferenceId"):
        AceResponse.from_dict({"action": {"name": "connectConf"}})
    answer = AceResponse.from_dict({"action": {"name": "connectConf", "conferenceId": "room"}})
    assert isinstance(answer.action, ConnectConfAction) and answer.action.conference_id == "room"


def test_open_enums_keep_unknown_strings_and_refuse_other_types() -> None:
    reason = CallReason("A_REASON_FROM_2030")
    assert reason == "A_REASON_FROM_2030" and str(reason) == "A_REASON_FROM_2030"
    assert reason.name == "UNKNOWN" and isinstance(reason, CallReason)
    assert CallReason("CALLERHANGUP") is CallReason.CALLERHANGUP
    with pytest.raises(ValueError):
        CallReason(42)
    assert IdentityType("Number") is IdentityType.NUMBER_CAPITALISED  # values that differ only by case


def test_to_dict_is_camel_case_without_nulls_for_nested_actions() -> None:
    request = ManageCallRequest(
        instructions=[SayInstruction(name="say", text="hi")],
        action=ParkAction(name="park", hold_prompt="wait", intro_prompt=UNSET),
    )
    assert request.to_dict() == {
        "instructions": [{"name": "say", "text": "hi"}],
        "action": {"name": "park", "holdPrompt": "wait"},
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"action": {"name": "park", "maxDuration": "10"}}, "maxDuration"),
        ({"action": {"name": "park", "maxDuration": True}}, "maxDuration"),
        ({"action": {"name": "continue", "record": "yes"}}, "record"),
        ({"action": {"name": "hangup"}, "instructions": [{"name": "say", "text": 5}]}, "text"),
    ],
)
def test_wrong_primitive_types_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        ManageCallRequest.from_dict(data)
    assert caught.value.field == field
