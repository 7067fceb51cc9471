"""The README's callback snippet runs: it verifies a signed ACE and answers connectConf."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sinch_calling._runtime.signing import decode_secret, sign_request
from sinch_calling.callbacks import CallbackVerificationError

README = Path(__file__).resolve().parents[2] / "README.md"


def snippet_namespace() -> dict[str, Any]:
    match = re.search(r"<!-- callbacks -->\n```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert match, "README has no callbacks snippet"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), "README.md", "exec"), namespace)
    return namespace


def signed_ace(secret: str) -> httpx.Request:
    body = json.dumps({"event": "ace", "callid": "c1", "version": 1}).encode()
    request = httpx.Request(
        "POST", "http://backend/sinch/callback", content=body, headers={"content-type": "application/json"}
    )
    sign_request(request, "demo-key", decode_secret(secret))
    return request


def test_readme_callback_snippet_answers_connect_conf() -> None:
    on_callback = snippet_namespace()["on_callback"]
    request = signed_ace("c2VjcmV0IGZvciB0aGUgZGVtbw==")
    answer = on_callback("POST", request.url.path, dict(request.headers), request.content)
    assert json.loads(answer) == {"action": {"name": "connectConf", "conferenceId": "myConference"}}


def test_readme_callback_snippet_refuses_a_forged_callback() -> None:
    on_callback = snippet_namespace()["on_callback"]
    request = signed_ace("b3RoZXIgc2VjcmV0")
    with pytest.raises(CallbackVerificationError):
        on_callback("POST", request.url.path, dict(request.headers), request.content)
