"""make check-breaking: spec edits of each class against a release, and the gate's decision on them.

The "release" in these tests is today's spec, kept in a temporary spec/released/; the edited copy is
what a contributor would commit next.
"""

from __future__ import annotations

import copy
import shutil
import textwrap
from pathlib import Path
from typing import Any

import griffe
import pytest
import yaml

from tools import api_diff, check_breaking, spec_diff
from tools.changes import Level

ROOT = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = yaml.safe_load((ROOT / "spec" / "calling-api.yaml").read_text(encoding="utf-8"))
RELEASED_VERSION = "0.2.0"
CHANGELOG_WITH_ENTRY = "# Changelog\n\n## [Unreleased]\n\n### Added\n- Something.\n\n## [0.2.0]\n\n- First.\n"


def release(tmp_path: Path, spec: dict[str, Any] = SPEC) -> Path:
    released = tmp_path / "released"
    released.mkdir(parents=True)
    spec = copy.deepcopy(spec)
    spec["info"]["version"] = RELEASED_VERSION
    (released / f"calling-api-{RELEASED_VERSION}.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return released


def edited(version: str, edit: Any) -> dict[str, Any]:
    spec: dict[str, Any] = copy.deepcopy(SPEC)
    spec["info"]["version"] = version
    edit(spec["components"]["schemas"], spec)
    return spec


def run_check(tmp_path: Path, spec: dict[str, Any], changelog: str = CHANGELOG_WITH_ENTRY) -> check_breaking.Decision:
    released = release(tmp_path)
    (tmp_path / "calling-api.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (tmp_path / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    return check_breaking.check(tmp_path / "calling-api.yaml", released, None, tmp_path / "CHANGELOG.md")


def remove_response_field(schemas: dict[str, Any], _: Any) -> None:
    schemas["CalloutResponse"]["properties"].pop("callId")
    schemas["CalloutResponse"]["required"].remove("callId")


def add_optional_response_field(schemas: dict[str, Any], _: Any) -> None:
    schemas["CalloutResponse"]["properties"]["region"] = {"type": "string", "description": "Where it runs."}


def edit_description(schemas: dict[str, Any], spec: dict[str, Any]) -> None:
    schemas["CalloutResponse"]["properties"]["callId"]["description"] = "The id of the call just placed."
    spec["paths"]["/callouts"]["post"]["summary"] = "Place a call"


# ---------------------------------------------------------------- the three classes, through the CLI
def test_removing_a_response_field_fails_and_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    released = release(tmp_path)
    spec = tmp_path / "calling-api.yaml"
    spec.write_text(yaml.safe_dump(edited("0.2.1", remove_response_field)), encoding="utf-8")
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG_WITH_ENTRY, encoding="utf-8")
    args = ["--spec", str(spec), "--released", str(released), "--changelog", str(tmp_path / "CHANGELOG.md")]

    assert check_breaking.main([*args, "--spec-only"]) == 1

    out = capsys.readouterr().out
    assert "breaking (1):\n  spec: schema CalloutResponse.callId: field removed\n" in out
    assert "0.2.0 -> 0.2.1 is a patch bump" in out
    assert "FAIL: version 0.2.1 is a patch bump over 0.2.0; the changes listed need 0.3.0 or later" in out


def test_removing_a_response_field_passes_with_a_minor_bump_while_0x(tmp_path: Path) -> None:
    decision = run_check(tmp_path, edited("0.3.0", remove_response_field))
    assert decision.ok, decision.problems
    assert decision.level is Level.BREAKING
    assert "breaking changes, and while the version is 0.x a minor bump is enough" in decision.summary()


def test_an_optional_response_field_is_minor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    decision = run_check(tmp_path, edited("0.3.0", add_optional_response_field))
    shown = [str(change) for change in decision.changes]
    assert shown == ["minor     spec: schema CalloutResponse.region: field added"]
    assert decision.ok, decision.problems

    not_bumped = run_check(tmp_path / "again", edited("0.2.1", add_optional_response_field))
    assert not_bumped.problems == [
        "version 0.2.1 is a patch bump over 0.2.0; the changes listed need 0.3.0 or later: "
        "raise info.version in spec/calling-api.yaml"
    ]


def test_a_description_edit_is_a_patch(tmp_path: Path) -> None:
    decision = run_check(tmp_path, edited("0.2.1", edit_description))
    assert {change.level for change in decision.changes} == {Level.PATCH}
    assert {change.where for change in decision.changes} == {
        "spec: schema CalloutResponse.callId",
        "spec: POST /callouts (callout)",
    }
    assert decision.ok, decision.problems
    assert not run_check(tmp_path / "again", edited("0.2.0", edit_description)).ok


def test_no_change_needs_no_bump(tmp_path: Path) -> None:
    decision = run_check(tmp_path, edited("0.2.0", lambda *_: None), changelog="# Changelog\n")
    assert decision.changes == [] and decision.ok
    assert "Nothing changed, so no bump is needed." in decision.summary()


def test_a_change_needs_a_changelog_entry(tmp_path: Path) -> None:
    empty_unreleased = "# Changelog\n\n## [Unreleased]\n\n### Added\n\n## [0.2.0]\n\n- First.\n"
    decision = run_check(tmp_path, edited("0.3.0", add_optional_response_field), changelog=empty_unreleased)
    assert decision.problems == ["CHANGELOG.md has no entry for 0.3.0: add a [0.3.0] or [Unreleased] section"]
    versioned = "# Changelog\n\n## [0.3.0] - 2026-12-06\n\n- The region.\n"
    assert run_check(tmp_path / "again", edited("0.3.0", add_optional_response_field), changelog=versioned).ok


def test_a_lower_version_fails(tmp_path: Path) -> None:
    decision = run_check(tmp_path, edited("0.1.9", lambda *_: None))
    assert decision.problems[0] == "the version went down, from 0.2.0 to 0.1.9"


def test_from_1_0_a_breaking_change_needs_a_major_bump() -> None:
    from packaging.version import Version

    assert check_breaking.needed_bump(Level.BREAKING, Version("1.4.2")) is check_breaking.Bump.MAJOR
    assert check_breaking.needed_bump(Level.BREAKING, Version("0.4.2")) is check_breaking.Bump.MINOR
    assert check_breaking.needed_bump(Level.MINOR, Version("0.4.2")) is check_breaking.Bump.MINOR
    assert check_breaking.needed_bump(Level.PATCH, Version("0.4.2")) is check_breaking.Bump.PATCH


# ---------------------------------------------------------------- direction-aware rules
def changes_after(edit: Any) -> list[str]:
    return [str(change) for change in spec_diff.diff_specs(SPEC, edited("9.9.9", edit))]


def test_a_new_required_request_field_is_breaking_and_an_optional_one_minor() -> None:
    def required(schemas: dict[str, Any], _: Any) -> None:
        schemas["UnassignNumberRequest"]["properties"]["reason"] = {"type": "string"}
        schemas["UnassignNumberRequest"].setdefault("required", []).append("reason")

    def optional(schemas: dict[str, Any], _: Any) -> None:
        schemas["UnassignNumberRequest"]["properties"]["reason"] = {"type": "string"}

    assert changes_after(required) == [
        "breaking  spec: schema UnassignNumberRequest.reason: new required field in what users send"
    ]
    assert changes_after(optional) == ["minor     spec: schema UnassignNumberRequest.reason: field added"]


def test_narrowing_breaks_what_users_send_and_widening_what_they_read() -> None:
    def narrow_request(schemas: dict[str, Any], _: Any) -> None:
        schemas["UnassignNumberRequest"]["properties"]["applicationkey"]["maxLength"] = 36
        schemas["UnassignNumberRequest"]["properties"]["number"]["maxLength"] = 16  # beside a $ref

    def widen_response(schemas: dict[str, Any], _: Any) -> None:
        schemas["CalloutResponse"]["properties"]["callId"]["type"] = ["string", "null"]

    def narrow_response(schemas: dict[str, Any], _: Any) -> None:
        schemas["CalloutResponse"]["properties"]["callId"]["maxLength"] = 64

    assert changes_after(narrow_request) == [
        "breaking  spec: schema UnassignNumberRequest.applicationkey: maxLength None -> 36",
        "breaking  spec: schema UnassignNumberRequest.number: maxLength None -> 16",
    ]
    assert changes_after(widen_response) == [
        "breaking  spec: schema CalloutResponse.callId: type string -> null|string (widened)"
    ]
    assert changes_after(narrow_response) == ["minor     spec: schema CalloutResponse.callId: maxLength None -> 64"]


def test_enum_values_and_operations_and_status_codes() -> None:
    def enum_edit(schemas: dict[str, Any], _: Any) -> None:
        values = schemas["IdentityType"]["enum"]
        values.remove("number")
        values.append("carrier-pigeon")

    def operation_edit(_: Any, spec: dict[str, Any]) -> None:
        del spec["paths"]["/conferences/id/{conferenceId}"]["delete"]
        del spec["paths"]["/callouts"]["post"]["responses"]["200"]

    assert changes_after(enum_edit) == [
        "breaking  spec: schema IdentityType: enum value 'number' removed",
        "minor     spec: schema IdentityType: enum value 'carrier-pigeon' added",
    ]
    assert changes_after(operation_edit) == [
        "breaking  spec: DELETE /conferences/id/{conferenceId} (kickConferenceAll): operation removed",
        "breaking  spec: POST /callouts (callout) response 200: success status code removed",
    ]


def test_webhooks_turn_the_directions_around() -> None:
    """An event is read by users (may not lose a field), their SVAML answer is written."""

    def event_field_optional(schemas: dict[str, Any], _: Any) -> None:
        schemas["DiceEvent"]["required"] = [name for name in schemas["DiceEvent"]["required"] if name != "event"]

    assert changes_after(event_field_optional) == [
        "breaking  spec: schema DiceEvent.event: no longer required (may be absent)"
    ]


# ---------------------------------------------------------------- the Python API, with griffe
def package(root: Path, source: str) -> griffe.Object:
    (root / "sinch_calling").mkdir(parents=True)
    (root / "sinch_calling" / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return api_diff.load_package(root)


OLD_SOURCE = """
    __all__ = ["Client", "lookup"]

    class _Calls:
        def get_call_result(self, call_id: str) -> str: ...

    class Client:
        @property
        def calls(self) -> _Calls: ...

    def lookup(number: str, region: str) -> str: ...
"""
NEW_SOURCE = """
    __all__ = ["Client", "lookup", "update"]

    class _Calls:
        def get(self, call_id: str) -> str: ...

    class Client:
        @property
        def calls(self) -> _Calls: ...

    def lookup(number: str) -> str: ...

    def update(number: str) -> None: ...
"""


def test_python_api_changes_through_a_dump(tmp_path: Path) -> None:
    old = api_diff.load_dump(api_diff.dump_api(package(tmp_path / "old", OLD_SOURCE)))
    changes = [str(change) for change in api_diff.diff_api(old, package(tmp_path / "new", NEW_SOURCE))]
    assert changes == [
        "breaking  python: sinch_calling.Client.calls.get_call_result: removed",
        "breaking  python: sinch_calling.lookup: parameter was removed: region",
        "minor     python: sinch_calling.Client.calls.get: added",
        "minor     python: sinch_calling.update: added",
    ]


# ---------------------------------------------------------------- this repository
def test_this_repository_passes_against_its_last_release() -> None:
    decision = check_breaking.check()
    assert decision.ok, decision.summary()


def test_against_0_1_0_the_new_surface_and_the_fidelity_pass_are_breaking(tmp_path: Path) -> None:
    for name in ("calling-api-0.1.0.yaml", "python-api-0.1.0.json"):
        shutil.copy(ROOT / "spec" / "released" / name, tmp_path / name)
    decision = check_breaking.check(released_dir=tmp_path)
    assert decision.level is Level.BREAKING
    shown = [str(change) for change in decision.changes]
    assert "breaking  spec: schema QueryNumberResponse.numberItem: field removed" in shown
    assert "breaking  python: sinch_calling.client.SinchClient.calls.get_call_result: removed" in shown
    assert "minor     python: sinch_calling.client.SinchClient.calls.get: added" in shown
