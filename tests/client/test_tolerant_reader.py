"""Tolerant reader: whatever JSON a 2xx answer or a callback carries, the client never crashes.

A response either parses into its model (unknown fields kept, absent optional fields absent) or
raises ``ResponseValidationError`` naming the operation and field; a callback body parses or
raises a ``SinchCallingError``. Never a bare ``KeyError``, ``AttributeError`` or ``TypeError``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sinch_calling import ResponseValidationError, SinchCallingError
from sinch_calling.callbacks import parse_event

from tests.operations import OPERATION_IDS, answer

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
NAMES = st.sampled_from(
    [
        "number",
        "numberItem",
        "numbers",
        "callId",
        "callid",
        "participants",
        "id",
        "url",
        "primary",
        "from",
        "to",
        "type",
        "endpoint",
        "rate",
        "currencyId",
        "amount",
        "event",
        "menuResult",
        "amd",
        "status",
        "reason",
        "x",
    ]
)
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=4), max_leaves=12
)
EVENTS = st.dictionaries(NAMES, JSON, max_size=6).map(
    lambda d: d | {"event": d.get("event", "ice")}
) | st.fixed_dictionaries(
    {"event": st.sampled_from(["ice", "ace", "dice", "pie", "notify"])},
    optional={"callid": JSON, "to": JSON, "menuResult": JSON, "amd": JSON, "userRate": JSON},
)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(body=JSON)
def test_any_2xx_json_parses_or_names_the_operation_and_field(operation_id: str, body: Any) -> None:
    response = httpx.Response(200, content=json.dumps(body).encode())
    try:
        answer(operation_id, response)  # through the operation's public method
    except ResponseValidationError as error:
        assert error.operation and error.field
        assert error.operation in str(error)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(body=EVENTS)
def test_any_callback_body_parses_or_raises_a_sinch_calling_error(body: dict[str, Any]) -> None:
    with contextlib.suppress(SinchCallingError):  # anything else fails the test
        parse_event(json.dumps(body).encode())
