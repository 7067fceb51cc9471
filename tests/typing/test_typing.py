"""mypy --strict catches mistakes in dict bodies, through params.py's TypedDicts.

usage.py shows that correct calls type-check; here each line marked ``# error`` holds one mistake
a user makes with plain dicts and keyword arguments, and mypy must report exactly those lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

pytestmark = pytest.mark.slow  # one mypy run over the package

MISTAKES = """
from sinch_calling import SinchClient


def mistakes(client: SinchClient) -> None:
    client.callouts.tts(destination={"type": "number", "endpont": "+46700000001"})  # error: misspelt key
    client.callouts.tts(destination={"type": "phone", "endpoint": "+46700000001"})  # error: unknown enum value
    client.callouts.tts(destination={"type": "number"})  # error: required key missing
    client.callouts.tts(text="Hi")  # error: destination missing
    client.callouts.tts(destination={"type": "number", "endpoint": "+4670"}, enable_ace="yes")  # error: not a bool
    client.calls.update("id", instructions=[{"name": "sya", "text": "Bye"}])  # error: no such instruction
    client.calls.update("id", action={"name": "runMenu"})  # error: not an action of PATCH
    client.conferences.mute("room", "call", moh="ring")  # error: mute takes no music
    client.calls.get("id", max_retries="3")  # error: not an int
    client.callouts.tts(destination={"type": "number", "endpoint": "+46700000001"}, text="fine")
"""


def test_mypy_reports_each_mistake_and_nothing_else(tmp_path: Path) -> None:
    module = tmp_path / "mistakes.py"
    module.write_text(MISTAKES)
    stdout, _, status = api.run(["--strict", "--no-incremental", "--hide-error-context", str(module)])
    assert status == 1, stdout
    reported = {int(m.group(1)) for m in re.finditer(r"mistakes\.py:(\d+): error", stdout)}
    expected = {n for n, line in enumerate(MISTAKES.splitlines(), 1) if "# error" in line}
    assert reported == expected, stdout
