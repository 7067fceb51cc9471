"""Fixtures for the server's tests: the spec, a controllable clock, apps and signed clients.

Imports work from a bare checkout too: ``server/`` goes on sys.path, and when the generated
``sinch_calling`` package is not installed yet, a throw-away package made of the SDK's runtime
(``generated/sinch_calling/_runtime``) stands in for it, so the server's ``sinch_calling._runtime.signing``
import resolves to the very same code.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "calling-api.yaml"

# What a subprocess needs on PYTHONPATH to import the same code as this test run.
IMPORT_PATHS: list[str] = []
if importlib.util.find_spec("sinch_calling_server") is None:
    sys.path.insert(0, str(ROOT / "server"))
    IMPORT_PATHS.append(str(ROOT / "server"))
if importlib.util.find_spec("sinch_calling") is None:
    _shim = Path(tempfile.mkdtemp(prefix="sinch-calling-shim-")) / "sinch_calling"
    _shim.mkdir()
    (_shim / "__init__.py").write_text("")
    (_shim / "_runtime").symlink_to(ROOT / "generated" / "sinch_calling" / "_runtime")
    sys.path.insert(0, str(_shim.parent))
    IMPORT_PATHS.append(str(_shim.parent))

from sinch_calling._runtime.signing import ApplicationAuth  # noqa: E402
from sinch_calling_server import create_app  # noqa: E402
from sinch_calling_server.pipeline import Pipeline  # noqa: E402

from tests.support import free_port, serve  # noqa: E402

KEY = "5f1a2b3c-0000-4000-8000-00000000abcd"
SECRET = base64.b64encode(b"the application secret!").decode()
OTHER_KEY = "6a7b8c9d-0000-4000-8000-00000000ef01"
OTHER_SECRET = base64.b64encode(b"another secret").decode()
START = 1_795_776_948.0  # 2026-11-27T10:55:48Z


class FakeClock:
    """Epoch seconds that move only when told to."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now, timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(clock: FakeClock) -> Callable[..., Pipeline]:
    """create_app with the repo's spec, two applications, the fake clock and response checking on."""

    def build(**overrides: Any) -> Pipeline:
        options: dict[str, Any] = {
            "spec": SPEC,
            "applications": {KEY: SECRET, OTHER_KEY: OTHER_SECRET},
            "clock": clock,
            "validate_responses": True,
        }
        options.update(overrides)
        return create_app(**options)

    return build


@pytest.fixture
def app(make_app: Callable[..., Pipeline]) -> Pipeline:
    return make_app()


def signed_client(app: Pipeline, clock: FakeClock, key: str = KEY, secret: str = SECRET) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        auth=ApplicationAuth(key, secret, clock=clock.datetime),
    )


@pytest.fixture
async def client(app: Pipeline, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_client(app, clock) as c:
        yield c
    assert app.violations == [], "the server sent responses its spec does not allow"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*IMPORT_PATHS, env.get("PYTHONPATH", "")]).strip(os.pathsep)
    env.update(extra)
    return env


class ServerProcess:
    """``python -m sinch_calling_server`` in its own process group, waited for until it answers."""

    def __init__(self, *args: str, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "sinch_calling_server", "--port", str(self.port), "--spec", str(SPEC), *args]
        self.process = subprocess.Popen(
            command,
            env=env or subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stdout.read() if self.process.stdout else ''}")
            try:
                httpx.get(self.base_url + "/v1/", timeout=0.5)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("server did not start")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (workers included), as kill -9 would hit a crashed host."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            self.process.wait(timeout=10)

    def output(self) -> str:
        self.kill(signal.SIGTERM)
        return self.process.stdout.read() if self.process.stdout else ""


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[int]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (a free port) in a thread; yield the port."""
    with serve(app) as base_url:
        yield int(base_url.rsplit(":", 1)[1])
