"""Benchmarks of sinch-calling, every comparison measured side by side in this one run.

    make bench                      # or: .venv/bin/python tests/bench/run.py [--only server]

1. generation: from scratch, and a no-op ``make generate``;
2. client: SinchClient against raw httpx and against the old official SDK (sinch 1.1.4);
3. import time: httpx, sinch_calling, sinch 1.1.4;
4. server: our recorded server against Prism 5.16.0 and a bare ASGI app, under wrk;
5. fixtures: the pytest plugin's start-up beside Prism's, and an inbound IVR flow's wall time.

Prints one table (each row: measurement, target, PASS/FAIL) and then the raw numbers. The
exit code is 0 whether targets pass or fail; it is 1 only when the harness itself breaks
(a section could not be measured: its row says ERROR).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import bench_client
import bench_fixtures
import bench_generation
import bench_imports
import bench_server
from harness import Row


class Measurement(Protocol):
    def rows(self) -> list[Row]: ...

    def raw(self) -> list[str]: ...


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    measure: Callable[[], Measurement]


SECTIONS = [
    Section("generation", "1 generation", bench_generation.measure),
    Section("client", "2 client", bench_client.measure),
    Section("imports", "3 import", bench_imports.measure),
    Section("server", "4 server", bench_server.measure),
    Section("fixtures", "5 fixtures", bench_fixtures.measure),
]


@dataclass
class Report:
    rows: list[Row]
    raw: list[str]
    broken: bool = False


def run_sections(sections: Sequence[Section]) -> Report:
    report = Report([], [])
    for section in sections:
        started = time.monotonic()
        print(f"measuring {section.title} ...", file=sys.stderr, flush=True)
        try:
            measured = section.measure()
        except Exception as exc:
            traceback.print_exc()
            problem = f"{type(exc).__name__}: {exc}"[:80]
            report.rows.append(Row(section.title, "could not be measured", problem, "-", None))
            report.broken = True
            continue
        report.rows += measured.rows()
        report.raw += [f"[{section.title}, {time.monotonic() - started:.0f} s]", *measured.raw()]
    return report


def format_table(rows: Sequence[Row]) -> str:
    header = ("section", "comparison", "measured", "target", "result")
    cells = [header, *((r.section, r.comparison, r.measured, r.target, r.verdict) for r in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks of sinch-calling (see the module docstring).")
    parser.add_argument("--only", action="append", choices=[s.key for s in SECTIONS], help="run only these sections")
    args = parser.parse_args(argv)
    chosen = [s for s in SECTIONS if not args.only or s.key in args.only]
    started = time.monotonic()
    report = run_sections(chosen)
    passed = sum(1 for r in report.rows if r.passed)
    print()
    print(format_table(report.rows))
    print(f"\n{passed}/{len(report.rows)} targets met; total {time.monotonic() - started:.0f} s")
    print("\nRaw numbers")
    print("\n".join(report.raw))
    return 1 if report.broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
