"""Shared pieces of the benchmark harness: rows of the report, timing helpers, subprocess servers.

Every server the benchmarks talk to runs in its own process group on a free loopback port,
and ``running_server`` always stops it (SIGTERM to that group, SIGKILL if it lingers).
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
SPEC = ROOT / "spec" / "calling-api.yaml"
PYTHON = sys.executable  # `make bench` runs this harness with the project's .venv python
HOST = "127.0.0.1"
# The compiled wheel unpacked as pip would install it (`make compiled`): what a user on this
# platform and interpreter gets from `pip install "sinch-calling[server]"`.
COMPILED_DIR = ROOT / "build" / "compiled"

# One application for every server of the run (the secret is base64, as the dashboard shows it).
APP_KEY = "bench-0000-4000-8000-000000000001"
APP_SECRET = base64.b64encode(b"benchmark harness secret").decode("ascii")

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Row:
    """One line of the final table: a comparison, what was measured, the target and the verdict."""

    section: str
    comparison: str
    measured: str
    target: str
    passed: bool | None  # None: could not be measured (the harness says why in `measured`)

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "ERROR"}[self.passed]


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("no samples")
    return statistics.median(values)


def rotated(items: Sequence[str], turn: int) -> list[str]:
    """``items`` starting at position ``turn``: alternates which variant runs first each round."""
    shift = turn % len(items)
    return [*items[shift:], *items[:shift]]


def wall_time(run: Callable[[], object]) -> float:
    """Seconds of wall-clock time that ``run()`` took."""
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def run_checked(command: Sequence[str], *, cwd: Path = ROOT, timeout: float = 120.0) -> str:
    """Run a command to completion; raise with its output if it fails. Returns stdout."""
    done = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningServer:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    server_header: str  # the `server` response header: which HTTP server answers (uvicorn, granian, ...)

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"


@contextmanager
def running_server(
    name: str, command: Sequence[str], port: int, *, cwd: Path = ROOT, env: Mapping[str, str] | None = None
) -> Iterator[RunningServer]:
    """Start ``command`` (which must listen on ``port``), wait until it answers HTTP, always stop it."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        try:
            header = _wait_until_answering(name, process, port, log)
            yield RunningServer(name, port, process, header)
        finally:
            _stop(process)


def _wait_until_answering(name: str, process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before answering:\n{_tail(log)}")
        try:
            response = httpx.get(f"http://{HOST}:{port}/", timeout=2.0)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        return str(response.headers.get("server", "unknown"))
    raise RuntimeError(f"{name} did not answer on port {port} within {START_TIMEOUT_S:.0f} s:\n{_tail(log)}")


def _tail(log: IO[bytes], size: int = 2000) -> str:
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-size:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group we created (workers included), then SIGKILL it if needed."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)
    _signal_group(process, signal.SIGKILL)  # any worker left behind by a parent that already exited


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # the group id is the pid: start_new_session=True


def compiled_build_env() -> dict[str, str]:
    """The environment that runs the compiled build; fails unless its modules really are compiled."""
    env = {**os.environ, "PYTHONPATH": str(COMPILED_DIR)}
    probe = "import sinch_calling_server.pipeline as p; print(p.__file__)"
    found = subprocess.run([PYTHON, "-c", probe], env=env, capture_output=True, text=True, check=False)
    if found.returncode != 0 or not found.stdout.strip().endswith(".so"):
        raise RuntimeError(f"no compiled build in {COMPILED_DIR} (run `make compiled`): {found.stdout}{found.stderr}")
    return env
