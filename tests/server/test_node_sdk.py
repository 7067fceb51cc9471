"""Sinch's official Node SDK (``@sinch/sdk-core``, pinned in package.json) against the recorded server.

Another official SDK than the one the server was written beside: its requests (paths, signing,
bodies) must be accepted and its answers parsed, for every Calling API operation it has.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sinch_calling_server import create_app

from tests.support import KEY, ROOT, SECRET, SPEC_PATH, Clock, serve

DRIVER = Path(__file__).with_name("sinch_node_sdk.js")
NODE_MODULES = ROOT / "node_modules"

pytestmark = pytest.mark.slow


def run_phase(base_url: str, phase: str, state: dict[str, Any], tmp: Path) -> dict[str, Any]:
    (tmp / "state.json").write_text(json.dumps(state))
    out = tmp / f"{phase}.json"
    node = shutil.which("node")
    assert node, "Node is needed (the Makefile's `make node` installs the pinned SDK)"
    done = subprocess.run(
        [node, str(DRIVER), base_url, KEY, SECRET, phase, str(tmp / "state.json"), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"NODE_PATH": str(NODE_MODULES), "PATH": str(Path(node).parent)},
        cwd=ROOT,
    )
    assert done.returncode == 0 and out.exists(), done.stderr[-3000:]
    results: dict[str, Any] = json.loads(out.read_text())
    return results


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    assert (NODE_MODULES / "@sinch" / "sdk-core").is_dir(), "run `make node` (npm ci) first"
    clock = Clock()
    app = create_app(spec=SPEC_PATH, applications={KEY: SECRET}, clock=clock, validate_responses=True)
    tmp = tmp_path_factory.mktemp("node")
    with serve(app) as base_url:
        placed = run_phase(base_url, "place", {}, tmp)
        clock.advance(3)  # the calls ring, then are answered
        ids = {
            "tts": placed["tts"].get("value", {}).get("callId"),
            "first": placed["conference"].get("value", {}).get("callId"),
            "second": placed["conferenceAgain"].get("value", {}).get("callId"),
        }
        managed = run_phase(base_url, "manage", ids, tmp)
    assert app.violations == [], "the server answered something its spec does not allow"
    yield placed | managed | {"ids": {"ok": True, "value": ids}}


OPERATIONS = [
    "listNumbers", "assignNumbers", "unassignNumber", "updateCallbackURLs", "getCallbackURLs", "queryNumber",
    "tts", "custom", "conference", "conferenceAgain", "getCall", "update", "manageWithCallLeg", "getConference",
    "manageParticipant", "getConferenceAgain", "kickParticipant", "kickAll",
]  # fmt: skip


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_of_the_node_sdk_succeeds(results: dict[str, Any], operation: str) -> None:
    assert results[operation]["ok"], results[operation]


def test_its_answers_carry_what_the_server_did(results: dict[str, Any]) -> None:
    ids = results["ids"]["value"]
    assert results["queryNumber"]["value"]["number"]["countryId"] == "SE"  # `number`, as Sinch answers
    assert results["getCallbackURLs"]["value"]["url"]["primary"] == "https://example.com/primary"
    call = results["getCall"]["value"]
    assert (call["callId"], call["status"], call["result"], call["custom"]) == (
        ids["tts"],
        "ONGOING",
        "ANSWERED",
        "node",
    )
    participants = {p["id"]: p for p in results["getConference"]["value"]["participants"]}
    assert set(participants) == {ids["first"], ids["second"]}
    after = {p["id"]: p for p in results["getConferenceAgain"]["value"]["participants"]}
    assert after[ids["first"]]["onhold"] is True


def test_its_errors_carry_sinchs_error_body(results: dict[str, Any]) -> None:
    unknown = results["unknownCall"]
    assert not unknown["ok"] and "404" in unknown["error"]
    assert json.loads(unknown["data"])["errorCode"] == 40400
