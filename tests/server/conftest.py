"""Fixtures for the server's tests: the spec, a controllable clock, apps and signed clients.

Imports work from a bare checkout too: ``server/`` goes on sys.path, and when the generated
``sinch_calling`` package is not installed yet, a throw-away package made of the SDK's runtime
(``generated/sinch_calling/_runtime``) stands in for it, so the server's ``sinch_calling._runtime.signing``
import resolves to the very same code.
"""

from __future__ import annotations

import base64
import importlib.util
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import IMPORT_PATHS, Clock

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "calling-api.yaml"

# A bare checkout: this run, and the server processes it starts (IMPORT_PATHS), import from here.
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

KEY = "5f1a2b3c-0000-4000-8000-00000000abcd"
SECRET = base64.b64encode(b"the application secret!").decode()
OTHER_KEY = "6a7b8c9d-0000-4000-8000-00000000ef01"
OTHER_SECRET = base64.b64encode(b"another secret").decode()
START = 1_795_776_948.0  # 2026-11-27T10:55:48Z


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def make_app(clock: Clock) -> Callable[..., Pipeline]:
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


def signed_client(app: Pipeline, clock: Clock, key: str = KEY, secret: str = SECRET) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        auth=ApplicationAuth(key, secret, clock=clock.datetime),
    )


@pytest.fixture
async def client(app: Pipeline, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_client(app, clock) as c:
        yield c
    assert app.violations == [], "the server sent responses its spec does not allow"
