"""The simulation's time, and how the server writes a moment of it."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime, timezone

__all__ = ["Clock", "SimulatedClock", "iso"]

# Epoch seconds now: ``time.time`` in production, a fake in tests.
Clock = Callable[[], float]


class SimulatedClock:
    """The simulation's time: a base clock plus an offset that ``advance`` moves forward."""

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.offset = 0.0

    def __call__(self) -> float:
        return self.base() + self.offset


@functools.lru_cache(maxsize=256)
def _iso_second(second: int) -> str:
    return datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso(moment: float) -> str:
    """ISO-8601 UTC to the second; cached, as every callout and call result formats the current second."""
    return _iso_second(math.floor(moment))
