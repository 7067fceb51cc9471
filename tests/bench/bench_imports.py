"""Row 3: import time of httpx, sinch_calling and sinch 1.1.4, each in a fresh interpreter.

Each sample is the wall time of ``python -c "import X"``; the modules take turns, the order
rotating every round. A bare ``python -c pass`` runs in the same rotation so the report can
also show the import alone (median minus the interpreter's own start-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import PYTHON, Row, median, rotated, run_checked, wall_time

TARGET_EXTRA_MS = 50.0  # sinch_calling may cost at most this much more than httpx
ROUNDS = 11
STATEMENTS = {
    "python (no import)": "pass",
    "httpx": "import httpx",
    "sinch_calling": "import sinch_calling",
    "sinch 1.1.4": "import sinch",
}


@dataclass
class ImportTimes:
    samples_ms: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in STATEMENTS})

    def ms(self, name: str) -> float:
        return median(self.samples_ms[name])

    def net_ms(self, name: str) -> float:
        return self.ms(name) - self.ms("python (no import)")

    def rows(self) -> list[Row]:
        pairs = zip(self.samples_ms["sinch_calling"], self.samples_ms["httpx"], strict=True)
        extra = median([ours - base for ours, base in pairs])  # per round: the two ran moments apart
        net = ", ".join(f"{name} {self.net_ms(name):.0f}" for name in ("httpx", "sinch_calling", "sinch 1.1.4"))
        return [
            Row(
                "3 import",
                "import sinch_calling - import httpx",
                f"{extra:+.0f} ms (net ms: {net})",
                f"<= +{TARGET_EXTRA_MS:.0f} ms",
                extra <= TARGET_EXTRA_MS,
            )
        ]

    def raw(self) -> list[str]:
        return [
            f"fresh `python -c` wall ms, {name}: " + ", ".join(f"{t:.1f}" for t in samples)
            for name, samples in self.samples_ms.items()
        ]


def measure() -> ImportTimes:
    times = ImportTimes()
    for statement in STATEMENTS.values():  # once each, untimed: warm the OS page cache and .pyc files
        run_checked([PYTHON, "-c", statement])
    for turn in range(ROUNDS):
        for name in rotated(list(STATEMENTS), turn):
            times.samples_ms[name].append(_fresh_interpreter_ms(STATEMENTS[name]))
    return times


def _fresh_interpreter_ms(statement: str) -> float:
    return wall_time(lambda: run_checked([PYTHON, "-c", statement])) * 1000.0
