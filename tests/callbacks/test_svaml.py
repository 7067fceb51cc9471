"""sinch_calling.svaml: what it exports, the exact JSON it produces, and the per-answer typing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sinch_calling.models
from sinch.domains.voice.endpoints.calls.update_call import UpdateCallEndpoint
from sinch.domains.voice.models.calls.requests import UpdateVoiceCallRequest
from sinch.domains.voice.models.svaml.actions.actions import ConnectPstnAction as OldConnectPstnAction
from sinch.domains.voice.models.svaml.actions.actions import MenuOption as OldMenu
from sinch.domains.voice.models.svaml.actions.actions import Option as OldOption
from sinch.domains.voice.models.svaml.actions.actions import ParkAction as OldParkAction
from sinch.domains.voice.models.svaml.actions.actions import RunMenuAction as OldRunMenuAction
from sinch_calling import svaml
from sinch_calling._runtime.parsing import FieldError
from sinch_calling.svaml import (
    AceResponse,
    AmdOptions,
    AnswerInstruction,
    CallHeader,
    ConferenceDtmfOptions,
    ConferenceDtmfOptionsMode,
    ConnectConfAction,
    ConnectMxpAction,
    ConnectPstnAction,
    ConnectSipAction,
    ConnectSipActionTransport,
    IceResponse,
    Identity,
    IdentityType,
    Locale,
    ManageCallRequest,
    Menu,
    MenuOption,
    MohClass,
    ParkAction,
    PieResponse,
    PlayFilesInstruction,
    RecordingOptions,
    RunMenuAction,
    SayInstruction,
    SendDtmfInstruction,
    SetCookieInstruction,
    StartRecordingInstruction,
    Svaml,
    TranscriptionOptions,
    to_json,
)

from tests.callbacks.helpers import schema_validator, spec, webhook_examples
from tests.support import ROOT

DOCUMENTS: dict[str, type[Any]] = {
    "Svaml": Svaml,
    "IceResponse": IceResponse,
    "AceResponse": AceResponse,
    "PieResponse": PieResponse,
    "ManageCallRequest": ManageCallRequest,
}
# A minimal valid example of every action and instruction, by its `name`.
ACTIONS: dict[str, dict[str, Any]] = {
    "hangup": {"name": "hangup"},
    "continue": {"name": "continue"},
    "connectPstn": {"name": "connectPstn", "number": "+46000000001"},
    "connectMxp": {"name": "connectMxp", "destination": {"type": "username", "endpoint": "alice"}},
    "connectConf": {"name": "connectConf", "conferenceId": "room"},
    "connectSip": {"name": "connectSip", "destination": {"type": "sip", "endpoint": "bob@sip.example.com"}},
    "runMenu": {"name": "runMenu", "menus": [{"id": "main"}]},
    "park": {"name": "park"},
    "connectStream": {
        "name": "connectStream",
        "destination": {"type": "Websocket", "endpoint": "wss://example.com/stream"},
        "streamingOptions": {"version": 1, "sampleRate": 16000},
    },
}
INSTRUCTIONS: dict[str, dict[str, Any]] = {
    "playFiles": {"name": "playFiles", "ids": ["#tts[Hi]"]},
    "say": {"name": "say", "text": "Hi"},
    "sendDtmf": {"name": "sendDtmf", "value": "1#"},
    "setCookie": {"name": "setCookie", "key": "k", "value": "v"},
    "answer": {"name": "answer"},
    "startRecording": {"name": "startRecording"},
    "stopRecording": {"name": "stopRecording"},
}


def union_members(schema_name: str) -> dict[str, str]:
    mapping = spec()["components"]["schemas"][schema_name]["discriminator"]["mapping"]
    return {value: ref.rsplit("/", 1)[1] for value, ref in mapping.items()}


def document_unions(document: str) -> tuple[dict[str, str], dict[str, str]]:
    """(actions, instructions) allowed in a SVAML document, by name -> schema, from the spec."""
    properties = spec()["components"]["schemas"][document]["properties"]
    action_union = properties["action"]["$ref"].rsplit("/", 1)[1]
    instruction_union = properties["instructions"]["items"]["$ref"].rsplit("/", 1)[1]
    return union_members(action_union), union_members(instruction_union)


def reachable_schemas(names: list[str]) -> set[str]:
    """Component schemas reachable through $ref from ``names``."""
    schemas = spec()["components"]["schemas"]
    seen: set[str] = set()

    def refs(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield value.rsplit("/", 1)[1]
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(refs(schemas[name]))
    return seen


def walk(value: object, path: str = "$") -> Iterator[tuple[str, object]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def assert_clean_json(document: dict[str, Any]) -> None:
    """No nulls anywhere, and every key as the spec spells it (camelCase, never snake_case)."""
    for path, value in walk(document):
        assert value is not None, f"null at {path}"
        if isinstance(value, dict):
            for key in value:
                assert "_" not in key, f"snake_case key {key!r} at {path}"


# ---------------------------------------------------------------- what the module exports


def test_svaml_exports_the_documents_and_everything_reachable_from_them() -> None:
    schemas = spec()["components"]["schemas"]
    reachable = reachable_schemas(list(DOCUMENTS))
    # Union schemas (oneOf, anyOf) are type aliases, not classes; E164Number is a plain string.
    expected_models = {
        name
        for name in reachable
        if "oneOf" not in schemas[name] and "anyOf" not in schemas[name] and schemas[name].get("type") != "string"
    }
    expected_enums = {name for name in reachable if "enum" in schemas[name]}
    exported = set(svaml.__all__) - {"to_json"}
    assert expected_models | expected_enums <= exported
    # What is left are the enums the generator names after an inline property.
    assert exported - expected_models - expected_enums == {
        "ConferenceDtmfOptionsMode",
        "ConnectSipActionTransport",
    }
    for name in exported:
        assert getattr(svaml, name) is getattr(sinch_calling.models, name)


def test_every_instruction_and_action_of_the_spec_is_exported() -> None:
    for union in ("SvamlInstruction", "SvamlAction"):
        for schema in union_members(union).values():
            assert schema in svaml.__all__
    assert svaml.__all__ == sorted(svaml.__all__)


def test_nothing_outside_svaml_is_exported() -> None:
    for name in ("CallResult", "IceEvent", "TtsCallout", "Error", "GetNumbersResponse"):
        assert name not in svaml.__all__


# ---------------------------------------------------------------- exact JSON


def rich_ice_answer() -> IceResponse:
    return IceResponse(
        instructions=[
            AnswerInstruction(name="answer"),
            SetCookieInstruction(name="setCookie", key="step", value="greeted"),
            SayInstruction(name="say", text="Välkommen", locale=Locale.SV_SE),
            PlayFilesInstruction(name="playFiles", ids=["#tts[Hello]", "welcome.wav"], locale=Locale.EN_GB),
            SendDtmfInstruction(name="sendDtmf", value="1w2#"),
            StartRecordingInstruction(
                name="startRecording",
                options=RecordingOptions(
                    destination_url="s3://bucket/calls",
                    credentials="key:secret",
                    format_="mp3",
                    notification_events=True,
                    transcription_options=TranscriptionOptions(enabled=True, locale=Locale.EN_US),
                ),
            ),
        ],
        action=RunMenuAction(
            name="runMenu",
            barge=True,
            locale=Locale.EN_US,
            main_menu="main",
            enable_voice=False,
            menus=[
                Menu(
                    id="main",
                    main_prompt="#tts[Press 1 for sales, 2 for more]",
                    repeat_prompt="#tts[Again:]",
                    repeats=0,
                    max_digits=1,
                    timeout_mills=5000,
                    max_timeout_mills=15000,
                    options=[
                        MenuOption(dtmf="1", action="return(sales)"),
                        MenuOption(dtmf="2", action="menu(more)"),
                    ],
                ),
                Menu(
                    id="more",
                    main_prompt="#tts[Press 9 for support]",
                    options=[MenuOption(dtmf="9", action="return(support)")],
                ),
            ],
        ),
    )


RICH_ICE_JSON: dict[str, Any] = {
    "instructions": [
        {"name": "answer"},
        {"name": "setCookie", "key": "step", "value": "greeted"},
        {"name": "say", "text": "Välkommen", "locale": "sv-SE"},
        {"name": "playFiles", "ids": ["#tts[Hello]", "welcome.wav"], "locale": "en-GB"},
        {"name": "sendDtmf", "value": "1w2#"},
        {
            "name": "startRecording",
            "options": {
                "destinationUrl": "s3://bucket/calls",
                "credentials": "key:secret",
                "format": "mp3",
                "notificationEvents": True,
                "transcriptionOptions": {"enabled": True, "locale": "en-US"},
            },
        },
    ],
    "action": {
        "name": "runMenu",
        "barge": True,
        "locale": "en-US",
        "mainMenu": "main",
        "enableVoice": False,
        "menus": [
            {
                "id": "main",
                "mainPrompt": "#tts[Press 1 for sales, 2 for more]",
                "repeatPrompt": "#tts[Again:]",
                "repeats": 0,
                "maxDigits": 1,
                "timeoutMills": 5000,
                "maxTimeoutMills": 15000,
                "options": [{"dtmf": "1", "action": "return(sales)"}, {"dtmf": "2", "action": "menu(more)"}],
            },
            {
                "id": "more",
                "mainPrompt": "#tts[Press 9 for support]",
                "options": [{"dtmf": "9", "action": "return(support)"}],
            },
        ],
    },
}


def test_nested_actions_serialise_to_exact_camel_case_without_nulls() -> None:
    document = rich_ice_answer().to_dict()
    assert document == RICH_ICE_JSON
    assert json.dumps(document, sort_keys=True) == json.dumps(RICH_ICE_JSON, sort_keys=True)
    assert_clean_json(document)
    schema_validator("IceResponse").validate(document)


def test_to_json_is_compact_exact_and_keeps_unicode() -> None:
    text = to_json(rich_ice_answer())
    assert json.loads(text) == RICH_ICE_JSON
    assert text == json.dumps(rich_ice_answer().to_dict(), separators=(",", ":"), ensure_ascii=False)
    assert "Välkommen" in text
    assert ": " not in text and ", " not in text.replace("1 for sales, 2", "")


def test_falsy_values_are_kept_and_unset_ones_left_out() -> None:
    action = ConnectPstnAction(
        name="connectPstn",
        number="+46000000001",
        max_duration=0,
        dial_timeout=0,
        suppress_callbacks=False,
        dtmf="",
        amd=AmdOptions(enabled=False, async_=True),
    )
    assert action.to_dict() == {
        "name": "connectPstn",
        "number": "+46000000001",
        "maxDuration": 0,
        "dialTimeout": 0,
        "suppressCallbacks": False,
        "dtmf": "",
        "amd": {"enabled": False, "async": True},
    }
    assert ConnectPstnAction(name="connectPstn", number="+46000000001").to_dict() == {
        "name": "connectPstn",
        "number": "+46000000001",
    }


def test_lower_case_callheaders_of_connect_mxp_and_camel_case_of_connect_sip() -> None:
    headers = [CallHeader(key="x-id", value="42")]
    mxp = ConnectMxpAction(
        name="connectMxp", destination=Identity(type_=IdentityType.USERNAME, endpoint="alice"), callheaders=headers
    )
    sip = ConnectSipAction(
        name="connectSip",
        destination=Identity(type_=IdentityType.SIP, endpoint="bob@sip.example.com"),
        transport=ConnectSipActionTransport.TLS,
        call_headers=headers,
        moh=MohClass.MUSIC1,
        max_duration=600,
    )
    assert mxp.to_dict()["callheaders"] == [{"key": "x-id", "value": "42"}]
    assert sip.to_dict() == {
        "name": "connectSip",
        "destination": {"type": "sip", "endpoint": "bob@sip.example.com"},
        "maxDuration": 600,
        "transport": "TLS",
        "callHeaders": [{"key": "x-id", "value": "42"}],
        "moh": "music1",
    }
    conf = ConnectConfAction(
        name="connectConf",
        conference_id="room",
        conference_dtmf_options=ConferenceDtmfOptions(
            mode=ConferenceDtmfOptionsMode.DETECT, max_digits=2, timeout_mills=0
        ),
    )
    assert conf.to_dict() == {
        "name": "connectConf",
        "conferenceId": "room",
        "conferenceDtmfOptions": {"mode": "detect", "maxDigits": 2, "timeoutMills": 0},
    }


@pytest.mark.parametrize("document", list(DOCUMENTS))
def test_every_allowed_action_and_instruction_round_trips_and_validates(document: str) -> None:
    actions, instructions = document_unions(document)
    cls = DOCUMENTS[document]
    validator = schema_validator(document)
    for action in actions:
        body = {"instructions": [INSTRUCTIONS[name] for name in instructions], "action": ACTIONS[action]}
        validator.validate(body)
        parsed = cls.from_dict(body)
        assert parsed.to_dict() == body
        assert type(parsed.action).__name__ == actions[action]


@pytest.mark.parametrize("document", ["IceResponse", "AceResponse", "PieResponse", "ManageCallRequest"])
def test_parsing_refuses_actions_and_instructions_not_allowed_there(document: str) -> None:
    actions, instructions = document_unions(document)
    cls = DOCUMENTS[document]
    for action in set(ACTIONS) - set(actions):
        with pytest.raises(FieldError, match=f"unknown {document.replace('Response', '').replace('Request', '')}"):
            cls.from_dict({"action": ACTIONS[action]})
    for instruction in set(INSTRUCTIONS) - set(instructions):
        with pytest.raises(FieldError):
            cls.from_dict({"action": {"name": "hangup"}, "instructions": [INSTRUCTIONS[instruction]]})


@pytest.mark.parametrize(
    ("event", "document"), [("ice", IceResponse), ("ace", AceResponse), ("pie", PieResponse)], ids=["ice", "ace", "pie"]
)
def test_the_spec_answer_examples_round_trip(event: str, document: type[Any]) -> None:
    examples = webhook_examples(event, "response")
    assert examples
    for example in examples.values():
        assert document.from_dict(example).to_dict() == example


# ---------------------------------------------------------------- the old SDK's defect, side by side


def test_the_old_sdk_sends_nested_actions_in_snake_case_with_nulls_and_we_do_not() -> None:
    old_body = json.loads(
        UpdateCallEndpoint(
            UpdateVoiceCallRequest(
                call_id="c1", instructions=[], action=OldParkAction(intro_prompt="#tts[Hold on]", max_duration=0)
            )
        ).request_body()
    )
    # sinch==1.1.4: the nested action is dataclasses.asdict()'d, so snake_case keys and nulls.
    assert old_body["action"] == {
        "name": "park",
        "locale": None,
        "intro_prompt": "#tts[Hold on]",
        "hold_prompt": None,
        "max_duration": 0,
    }
    ours = ManageCallRequest(
        instructions=[], action=ParkAction(name="park", intro_prompt="#tts[Hold on]", max_duration=0)
    ).to_dict()
    assert ours == {"instructions": [], "action": {"name": "park", "introPrompt": "#tts[Hold on]", "maxDuration": 0}}
    assert_clean_json(ours)
    schema_validator("ManageCallRequest").validate(ours)
    assert not schema_validator("ManageCallRequest").is_valid(old_body)


def test_the_old_sdk_menus_are_snake_case_even_through_its_own_as_dict() -> None:
    old = OldRunMenuAction(
        main_menu="main",
        menus=[OldMenu(id="main", main_prompt="#tts[Hi]", options=[OldOption(dtmf="1", action="return(a)")])],
    ).as_dict()
    assert old["mainMenu"] == "main"
    assert old["menus"][0]["main_prompt"] == "#tts[Hi]"  # the nested menu never went through its as_dict
    assert old["menus"][0]["repeat_prompt"] is None
    old_pstn = OldConnectPstnAction(number="+46000000001", max_duration=0, suppress_callbacks=False).as_dict()
    assert "max_duration" in old_pstn and "suppress_callbacks" in old_pstn  # falsy values stay snake_case

    ours = RunMenuAction(
        name="runMenu",
        main_menu="main",
        menus=[Menu(id="main", main_prompt="#tts[Hi]", options=[MenuOption(dtmf="1", action="return(a)")])],
    ).to_dict()
    assert ours == {
        "name": "runMenu",
        "mainMenu": "main",
        "menus": [{"id": "main", "mainPrompt": "#tts[Hi]", "options": [{"dtmf": "1", "action": "return(a)"}]}],
    }


# ---------------------------------------------------------------- the type checker enforces the table

TYPED_SNIPPET = """
from sinch_calling.svaml import (
    AceResponse, AnswerInstruction, ConnectConfAction, ConnectPstnAction, ContinueAction, HangupAction,
    IceResponse, ManageCallRequest, Menu, ParkAction, PieResponse, RunMenuAction, SayInstruction,
    SendDtmfInstruction, StopRecordingInstruction,
)

hangup = HangupAction(name="hangup")
park = ParkAction(name="park")
pstn = ConnectPstnAction(name="connectPstn", number="+46000000001")
conf = ConnectConfAction(name="connectConf", conference_id="c")
answer = AnswerInstruction(name="answer")
dtmf = SendDtmfInstruction(name="sendDtmf", value="1")
stop = StopRecordingInstruction(name="stopRecording")

# Allowed: these lines must type-check.
ok_ice = IceResponse(instructions=[answer, dtmf], action=park)
ok_ace = AceResponse(action=ContinueAction(name="continue"))
ok_pie = PieResponse(instructions=[stop, dtmf], action=pstn)
ok_patch = ManageCallRequest(instructions=[SayInstruction(name="say", text="hi")], action=park)
ok_menu = AceResponse(action=RunMenuAction(name="runMenu", menus=[Menu(id="main")]))

# Refused: each line below carries the error mypy must report on it.
bad_1 = AceResponse(action=park)  # E: arg-type "ParkAction"
bad_2 = IceResponse(action=ContinueAction(name="continue"))  # E: arg-type "ContinueAction"
bad_3 = ManageCallRequest(action=conf)  # E: arg-type "ConnectConfAction"
bad_4 = AceResponse(action=pstn)  # E: arg-type "ConnectPstnAction"
bad_5 = AceResponse(instructions=[dtmf], action=hangup)  # E: list-item "SendDtmfInstruction"
bad_6 = PieResponse(instructions=[answer], action=hangup)  # E: list-item "AnswerInstruction"
bad_7 = AceResponse(instructions=[answer], action=hangup)  # E: list-item "AnswerInstruction"
bad_8 = HangupAction(name="continue")  # E: arg-type "Literal['continue']"
bad_9 = SayInstruction(name="say")  # E: call-arg "text"
"""


def run_mypy(target: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--show-error-codes",
            "--no-error-summary",
            "--cache-dir",
            str(cache),
            str(target),
        ],
        capture_output=True,
        text=True,
        cwd=target.parent,
        timeout=300,
    )


@pytest.mark.slow
def test_mypy_refuses_actions_and_instructions_not_valid_in_that_answer(tmp_path: Path) -> None:
    source = textwrap.dedent(TYPED_SNIPPET).lstrip()
    target = tmp_path / "svaml_usage.py"
    target.write_text(source)
    done = run_mypy(target, tmp_path / ".mypy_cache")
    reported: dict[int, str] = {}
    for line in done.stdout.splitlines():
        match = re.match(r".*svaml_usage\.py:(\d+): error: (.*)", line)
        if match:
            reported[int(match[1])] = reported.get(int(match[1]), "") + match[2]
    expected = {
        number: comment.split("# E: ", 1)[1]
        for number, comment in enumerate(source.splitlines(), start=1)
        if "# E: " in comment
    }
    assert len(expected) == 9
    assert set(reported) == set(expected), done.stdout + done.stderr
    for number, spec_of_error in expected.items():
        code, needle = spec_of_error.split(" ", 1)
        assert f"[{code}]" in reported[number], reported[number]
        assert needle.strip('"') in reported[number], reported[number]


@pytest.mark.slow
def test_the_example_app_type_checks_strictly(tmp_path: Path) -> None:
    done = run_mypy(ROOT / "examples" / "webhook_app.py", tmp_path / ".mypy_cache")
    assert done.returncode == 0, done.stdout + done.stderr
