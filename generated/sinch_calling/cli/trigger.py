"""``callbacks trigger``: send a realistic, signed event to an app and judge its answer.

The event is what Sinch would send (fields filled with plausible values, overridable per
field), signed with the application's key and secret like Sinch signs callbacks. The app's
answer is checked as SVAML for that event: an ICE needs one; ACE and PIE answers are optional;
DiCE and Notify answers are ignored by Sinch.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

import httpx

from .._runtime.parsing import format_datetime
from .._runtime.signing import decode_secret, sign_request
from . import schemas

# As Sinch writes them, with the article they take.
NAMES = {"ice": "an ICE", "ace": "an ACE", "dice": "a DiCE", "pie": "a PIE", "notify": "a Notify event"}


def event_body(event: str, application_key: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A realistic event of kind ``event``; ``fields`` (wire names) replace or add values."""
    call_id = str(fields.get("callid") or uuid.uuid4().hex)
    body: dict[str, Any] = {
        "event": event,
        "callid": call_id,
        "timestamp": format_datetime(datetime.now(timezone.utc).replace(microsecond=0)),
        "version": 1,
        "applicationKey": application_key,
    }
    caller = {"type": "number", "endpoint": "+46700000001"}
    callee = {"type": "number", "endpoint": "+46700000002"}
    rate = {"currencyId": "USD", "amount": 0.0368}
    details: dict[str, dict[str, Any]] = {
        "ice": {
            "callResourceUrl": f"https://calling.api.sinch.com/calling/v1/calls/id/{call_id}",
            "userRate": rate,
            "cli": caller["endpoint"],
            "to": callee,
            "domain": "pstn",
            "originationType": "PSTN",
        },
        "ace": {},
        "dice": {
            "reason": "CALLERHANGUP",
            "result": "ANSWERED",
            "debit": rate,
            "userRate": rate,
            "to": callee,
            "from": caller["endpoint"],
            "duration": 12,
        },
        "pie": {"menuResult": {"type": "return", "value": "1", "menuId": "main", "inputMethod": "dtmf"}},
        "notify": {"type": "recording_finished"},
    }
    body.update(details[event])
    body.update(fields)
    return body


def send(url: str, body: dict[str, Any], key: str, secret: str, timeout: float = 10.0) -> httpx.Response:
    content = json.dumps(body, separators=(",", ":")).encode("utf-8")
    request = httpx.Request("POST", url, content=content, headers={"Content-Type": "application/json"})
    sign_request(request, key, decode_secret(secret))
    with httpx.Client(timeout=timeout) as http:
        return http.send(request)


def judge(event: str, answer_schema: str | None, response: httpx.Response) -> tuple[bool, str]:
    """Whether the app's answer is what Sinch needs for ``event``, and what is wrong if not."""
    if not response.is_success:
        return False, f"the app answered {response.status_code}; Sinch treats that as a failed callback"
    if answer_schema is None:
        return True, f"Sinch does not read the answer to {NAMES[event]}; any 2xx will do"
    if not response.content.strip():
        if event == "ice":
            return False, "an ICE needs an SVAML answer (the call has nowhere to go)"
        return True, f"no SVAML: the call goes on as it was before {NAMES[event]}"
    try:
        document = response.json()
    except ValueError as exc:
        return False, f"the answer is not JSON: {exc}"
    found = schemas.problems(answer_schema, document)
    if found:
        return False, f"not valid SVAML for {NAMES[event]}: " + "; ".join(found)
    return True, f"valid SVAML for {NAMES[event]}"
