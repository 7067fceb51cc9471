"""A simulated call's state and cost: pure functions of its stored document and a moment.

Shared by the simulation (which answers the API) and the call flow (which sends callbacks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .store import Document

__all__ = ["call_state", "debit"]


def call_state(call: Document, now: float) -> tuple[str, str, str, int, float | None]:
    """(status, result, reason, duration, ended_at) of a call at ``now``."""
    end = call.get("end")
    answer = call.get("answerAt")
    if end is not None and now >= end["at"]:
        ended = float(end["at"])
        duration = int(max(0.0, ended - answer)) if answer is not None and ended > answer else 0
        result = end.get("result") or ("ANSWERED" if duration or (answer is not None and ended >= answer) else "N/A")
        return "FINAL", result, end["reason"], duration, ended
    planned = call.get("plannedEnd")
    if planned is not None and now >= planned:
        duration = int(planned - answer) if answer is not None else 0
        # who ends a call at its planned end: the callee (a callout), or a scripted caller
        return "FINAL", "ANSWERED", str(call.get("plannedReason", "CALLEEHANGUP")), duration, float(planned)
    if answer is not None and now >= answer:
        return "ONGOING", "ANSWERED", "N/A", int(now - answer), None
    return "ONGOING", "N/A", "N/A", 0, None


def debit(rate: Mapping[str, Any], duration: int) -> tuple[dict[str, Any], int]:
    """What a call of ``duration`` seconds costs at ``rate``, and the started minutes it is billed for."""
    minutes = math.ceil(duration / 60) if duration else 0
    return {"currencyId": rate["currencyId"], "amount": round(rate["amount"] * minutes, 4)}, minutes
