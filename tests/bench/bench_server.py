"""Row 4: server throughput under wrk: our server, Prism 5.16.0 and a bare ASGI app, side by side.

Each cell (operation x connections) is run for every target back to back, the target order
rotating, for several short rounds. A ratio is the median of the per-round ratios (ours and
the other target measured seconds apart, so a burst of load elsewhere on this 2-core machine
hits both sides alike); requests/s and latencies are medians of each target's runs. Requests are
signed once per wrk run with a fresh x-timestamp: a signature stays valid for any replay
within the server's skew window (15 minutes), so wrk can send the same headers throughout.
Every request shape is sent once with httpx first and must get a 2xx, so that a wrk run can
never measure a fast stream of 401s.

"Ours" is the compiled wheel (``make compiled``), what ``pip install "sinch-calling[server]"``
installs on this platform and interpreter; the pure-Python wheel, what installs elsewhere, is
measured beside it at 32 connections and reported in the raw numbers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import httpx
from bench_client import API_PREFIX, DESTINATION, place_call
from harness import (
    APP_KEY,
    APP_SECRET,
    BENCH_DIR,
    PYTHON,
    ROOT,
    SPEC,
    Row,
    RunningServer,
    compiled_build_env,
    free_port,
    median,
    rotated,
    running_server,
)
from sinch_calling import SinchClient
from sinch_calling._runtime.signing import decode_secret, sign_request

DURATION_S = 2
WARMUP_S = 1
ROUNDS = 7
TIME_BUDGET_S = 210.0  # rounds stop early (after the first) once this is used up
PRISM = ROOT / "node_modules" / ".bin" / "prism"
POST_SCRIPT = BENCH_DIR / "post.lua"

OURS, PRISM_NAME, BARE = "ours", "Prism 5.16.0", "bare ASGI"
PURE = "ours, pure"  # the pure-Python wheel: no target of its own, reported beside ours
TARGETS = [OURS, PRISM_NAME, BARE]
GET, POST = "GET getCallResult", "POST callout"
CALLOUT_BODY = json.dumps(
    {"method": "ttsCallout", "ttsCallout": {"destination": {"type": "number", "endpoint": DESTINATION}, "text": "hi"}},
    separators=(",", ":"),
).encode()


@dataclass(frozen=True)
class Bound:
    """A lower bound on a ratio: strictly above it ("ahead of") or at least it."""

    value: float
    strict: bool = False

    def met(self, ratio: float) -> bool:
        return ratio > self.value if self.strict else ratio >= self.value

    def __str__(self) -> str:
        return f"{'>' if self.strict else '>='} {self.value:.1f}x"


@dataclass(frozen=True)
class Cell:
    operation: str
    threads: int
    connections: int

    @property
    def label(self) -> str:
        return f"{self.operation}, -t{self.threads} -c{self.connections}"

    @property
    def prism_bound(self) -> Bound:
        """Ours / Prism in requests/s: ahead of it at 1 connection, 3x at 32."""
        return Bound(3.0) if self.connections >= 32 else Bound(1.0, strict=True)


CELLS = [Cell(GET, 1, 1), Cell(GET, 2, 32), Cell(POST, 1, 1), Cell(POST, 2, 32)]
BARE_BOUND = Bound(0.5)  # ours / bare ASGI app: within 2x of it


def targets_for(cell: Cell) -> list[str]:
    """Who runs in ``cell``: the pure-Python build too where throughput, not latency, is measured."""
    return [*TARGETS, PURE] if cell.connections >= 32 else TARGETS


@dataclass(frozen=True)
class Target:
    name: str
    server: RunningServer
    prefix: str  # base path the target serves the API under
    call_id: str

    def request_for(self, operation: str) -> tuple[str, str, bytes]:
        """(method, url, body) of ``operation`` on this target."""
        if operation == GET:
            return "GET", f"{self.server.origin}{self.prefix}/calls/id/{self.call_id}", b""
        return "POST", f"{self.server.origin}{self.prefix}/callouts", CALLOUT_BODY


@dataclass(frozen=True)
class WrkRun:
    target: str
    cell: Cell
    turn: int  # the round it belongs to: runs of one round and cell are compared with each other
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str  # wrk's "connect a, read b, write c, timeout d", or "" when there were none

    @property
    def clean(self) -> bool:
        """Every request got a 2xx answer: the run measured serving, not failing."""
        return self.non_2xx == 0 and not self.socket_errors

    @property
    def problem(self) -> str:
        errors = f", socket errors: {self.socket_errors}" if self.socket_errors else ""
        return f"{self.target} round {self.turn}: {self.non_2xx} non-2xx{errors}"


@dataclass
class Throughput:
    """All wrk runs. Medians and ratios use clean runs only; a failed run of ours fails its cell."""

    asgi_server: str  # the HTTP server ours (and so the bare app) runs on
    runs: list[WrkRun] = field(default_factory=list)

    def of(self, target: str, cell: Cell) -> list[WrkRun]:
        return [r for r in self.runs if r.target == target and r.cell == cell and r.clean]

    def failed(self, target: str, cell: Cell) -> list[WrkRun]:
        return [r for r in self.runs if r.target == target and r.cell == cell and not r.clean]

    def rps(self, target: str, cell: Cell) -> float:
        return median([r.rps for r in self.of(target, cell)])

    def ratio(self, target: str, other: str, cell: Cell) -> float:
        """Median over rounds of target's requests/s divided by other's in the same round."""
        theirs = {r.turn: r.rps for r in self.of(other, cell)}
        return median([r.rps / theirs[r.turn] for r in self.of(target, cell) if r.turn in theirs])

    def rows(self) -> list[Row]:
        return [
            self._row(cell, other, bound)
            for cell in CELLS
            for other, bound in ((PRISM_NAME, cell.prism_bound), (BARE, BARE_BOUND))
        ]

    def _row(self, cell: Cell, other: str, bound: Bound) -> Row:
        comparison = f"ours / {other} req/s: {cell.label}"
        ours_failed, other_failed = self.failed(OURS, cell), self.failed(other, cell)
        notes = [f"ours failed {len(ours_failed)} run(s)"] if ours_failed else []
        notes += [f"{len(other_failed)} {other} run(s) with errors left out"] if other_failed else []
        note = f" [{'; '.join(notes)}]" if notes else ""
        try:
            ours, theirs, ratio = self.rps(OURS, cell), self.rps(other, cell), self.ratio(OURS, other, cell)
        except ValueError:  # no round where both ran cleanly
            verdict = False if ours_failed else None  # our failures fail the cell; theirs leave it unmeasured
            return Row("4 server", comparison, f"no clean pair of runs{note}", str(bound), verdict)
        measured = f"{ratio:.2f}x ({ours:.0f} vs {theirs:.0f} req/s){note}"
        return Row("4 server", comparison, measured, str(bound), bound.met(ratio) and not ours_failed)

    def raw(self) -> list[str]:
        lines = [
            "ours (the compiled wheel), ours, pure (the pure-Python wheel) and the bare app run on:"
            f" {self.asgi_server};"
            f" medians of {ROUNDS} runs of {DURATION_S} s (runs with errors left out); ratios are medians of"
            " per-round ratios"
        ]
        header = f"{'cell':<32} {'target':<14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        lines.append(header + "   req/s per run (* = errors)")
        for cell in CELLS:
            for target in targets_for(cell):
                lines.append(self._raw_line(cell, target))
        for cell in CELLS:
            if PURE in targets_for(cell):
                lines.append(self._pure_line(cell))
        lines += [f"run with errors: {r.problem}" for r in self.runs if not r.clean]
        return lines

    def _pure_line(self, cell: Cell) -> str:
        try:
            versus = [f"{self.ratio(PURE, other, cell):.2f}x {other}" for other in (BARE, PRISM_NAME)]
            versus.append(f"{self.ratio(OURS, PURE, cell):.2f}x: compiled / pure")
        except ValueError:
            return f"pure-Python wheel, {cell.label}: no clean pair of runs"
        return f"pure-Python wheel, {cell.label}: " + ", ".join(versus)

    def _raw_line(self, cell: Cell, target: str) -> str:
        runs = self.of(target, cell)
        each = ", ".join(
            f"{r.rps:.0f}" + ("" if r.clean else "*") for r in self.runs if (r.target, r.cell) == (target, cell)
        )
        if not runs:
            return f"{cell.label:<32} {target:<14} {'-':>8} {'-':>8} {'-':>8}   {each}"
        p50, p99 = median([r.p50_ms for r in runs]), median([r.p99_ms for r in runs])
        rps = self.rps(target, cell)
        return f"{cell.label:<32} {target:<14} {rps:>8.0f} {p50:>8.2f} {p99:>8.2f}   {each}"


def signed_headers(method: str, url: str, body: bytes) -> dict[str, str]:
    """Headers of a request signed now, as SinchClient signs it (Content-Type only with a body)."""
    headers = {"Content-Type": "application/json"} if body else {}
    request = httpx.Request(method, url, content=body, headers=headers)
    sign_request(request, APP_KEY, decode_secret(APP_SECRET))
    return {**headers, "Authorization": request.headers["Authorization"], "x-timestamp": request.headers["x-timestamp"]}


def preflight(target: Target) -> None:
    """Each request shape must be accepted by the target before wrk repeats it."""
    for operation in (GET, POST):
        method, url, body = target.request_for(operation)
        response = httpx.request(method, url, content=body, headers=signed_headers(method, url, body))
        if not response.is_success:
            raise RuntimeError(f"{target.name} answered {operation} with {response.status_code}: {response.text[:300]}")


def run_wrk(target: Target, cell: Cell, duration_s: int, turn: int = -1) -> WrkRun:
    method, url, body = target.request_for(cell.operation)
    command = ["wrk", f"-t{cell.threads}", f"-c{cell.connections}", f"-d{duration_s}s", "--latency", "--timeout", "5s"]
    for name, value in signed_headers(method, url, body).items():
        command += ["-H", f"{name}: {value}"]
    if body:
        command += ["-s", str(POST_SCRIPT)]
    env = {**os.environ, "BENCH_BODY": body.decode()}
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, env=env, timeout=duration_s + 30, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout, target.name, cell, turn)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(output: str, percentile: int) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {percentile}% latency in wrk output:\n{output}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def _number(output: str, pattern: str, default: int | None = None) -> float:
    match = re.search(pattern, output)
    if match is None:
        if default is not None:
            return default
        raise RuntimeError(f"{pattern!r} not found in wrk output:\n{output}")
    return float(match.group(1))


def parse_wrk(output: str, target: str, cell: Cell, turn: int) -> WrkRun:
    socket = re.search(r"Socket errors: (connect \d+, read \d+, write \d+, timeout \d+)", output)
    return WrkRun(
        target=target,
        cell=cell,
        turn=turn,
        rps=_number(output, r"Requests/sec:\s+([\d.]+)"),
        p50_ms=_latency_ms(output, 50),
        p99_ms=_latency_ms(output, 99),
        requests=int(_number(output, r"(\d+) requests in")),
        non_2xx=int(_number(output, r"Non-2xx or 3xx responses:\s+(\d+)", default=0)),
        socket_errors=socket.group(1) if socket else "",
    )


@contextmanager
def started_targets() -> Iterator[list[Target]]:
    """Our server (its default HTTP server), Prism, and the bare app on the same HTTP server as ours."""
    if not PRISM.exists():
        raise RuntimeError(f"{PRISM} is missing: run `make node` (npm ci)")
    with ExitStack() as stack:
        port = free_port()
        ours = stack.enter_context(running_server("sinch-calling-server", _ours(port), port, env=compiled_build_env()))
        call_id = _placed_call(ours)
        asgi_server = ours.server_header
        if asgi_server not in ("granian", "uvicorn"):
            raise RuntimeError(f"cannot tell which HTTP server ours runs on (server: {asgi_server!r})")
        port = free_port()
        bare_cmd = [PYTHON, str(BENCH_DIR / "bare_app.py"), "--port", str(port), "--server", asgi_server]
        bare = stack.enter_context(running_server(f"bare ASGI app ({asgi_server})", bare_cmd, port, cwd=BENCH_DIR))
        port = free_port()
        prism_cmd = [str(PRISM), "mock", str(SPEC), "-p", str(port), "-h", "127.0.0.1", "-m", "false", "-v", "silent"]
        prism = stack.enter_context(running_server(PRISM_NAME, prism_cmd, port))
        port = free_port()
        pure = stack.enter_context(running_server("sinch-calling-server, pure Python", _ours(port), port))
        yield [
            Target(OURS, ours, API_PREFIX, call_id),
            Target(PURE, pure, API_PREFIX, _placed_call(pure)),  # each of our servers knows its own calls
            Target(PRISM_NAME, prism, "", call_id),  # Prism serves the spec's paths at its root
            Target(BARE, bare, API_PREFIX, call_id),
        ]


def _placed_call(server: RunningServer) -> str:
    """The id of a call placed on ``server`` (getCallResult is measured on it)."""
    with SinchClient(
        application_key=APP_KEY, application_secret=APP_SECRET, base_url=server.origin + API_PREFIX
    ) as client:
        return place_call(client)


def _ours(port: int) -> list[str]:
    return [
        PYTHON,
        "-m",
        "sinch_calling_server",
        "--port",
        str(port),
        "--app",
        f"{APP_KEY}:{APP_SECRET}",
        "--spec",
        str(SPEC),
    ]


def measure() -> Throughput:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (`make bench` installs it: apt-get install -y wrk)")
    with started_targets() as targets:
        by_name = {t.name: t for t in targets}
        for target in targets:
            preflight(target)
            for cell in CELLS:
                if target.name in targets_for(cell):
                    run_wrk(target, cell, WARMUP_S)
        result = Throughput(asgi_server=by_name[OURS].server.server_header)
        deadline = time.monotonic() + TIME_BUDGET_S
        for turn in range(ROUNDS):
            for index, cell in enumerate(CELLS):
                for name in rotated(targets_for(cell), turn + index):
                    result.runs.append(run_wrk(by_name[name], cell, DURATION_S, turn))
            if time.monotonic() > deadline:
                break
    return result
