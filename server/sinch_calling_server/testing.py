"""pytest fixtures: the recorded server in your test suite, no phone and no network needed.

Installed with ``pip install "sinch-calling[server]"`` and registered as a pytest plugin (the
``pytest11`` entry point), so a test only names what it needs::

    def test_a_call_is_placed(sinch_client, sinch_server):
        call = sinch_client.callouts.tts(destination={"type": "number", "endpoint": "+46700000001"}, text="Hi")
        sinch_server.advance(3)  # the callee answers
        assert sinch_client.calls.get(call.call_id).status == "ONGOING"

Fixtures:

- ``sinch_server``: a recorded server with fresh state for this test, on a real loopback port.
  Its clock is the test's: ``advance(seconds)`` moves it and delivers every callback due (ACE,
  DiCE, PIE...), returning the delivery records; ``deliveries`` lists them all.
- ``sinch_server_session``: one server shared by the whole session (state carries over).
- ``sinch_client`` / ``async_sinch_client``: signed clients bound to ``sinch_server``.
- ``sinch_credentials``: the application's key and secret (for your app's callback verification).
- ``sinch_callbacks``: the callbacks delivered so far in this test (``sinch_server.deliveries``).

One HTTP server runs for the session; each test gets a new application behind it, so a fresh
server costs what building the application costs (the spec is compiled once per process).
"""

from __future__ import annotations

import base64
import functools
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

__all__ = ["Credentials", "ManualClock", "RecordedServer"]


@dataclass(frozen=True)
class Credentials:
    application_key: str
    application_secret: str

    def __repr__(self) -> str:  # never the secret
        return f"Credentials(application_key={self.application_key!r})"


class ManualClock:
    """Epoch seconds that move only when told: the server's clock (its simulation moves on its own
    with ``advance``), so that nothing in a test depends on how fast the machine is."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Switch:
    """An ASGI app that forwards to the application of the current test."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        await self.app(scope, receive, send)


@dataclass
class _Listener:
    """uvicorn on 127.0.0.1 in a thread, for the session."""

    switch: _Switch = field(default_factory=_Switch)
    port: int = 0
    server: Any = None
    thread: threading.Thread | None = None

    def start(self) -> None:
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        config = uvicorn.Config(self.switch, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="sinch-recorded-server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the recorded server did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


@dataclass
class RecordedServer:
    """One recorded server: its URL for clients, its clock, and what it delivered."""

    base_url: str  # for SinchClient(base_url=...)
    credentials: Credentials
    clock: ManualClock
    app: Any
    call_ids: list[str] = field(default_factory=list)  # the ids the next calls get (then random ones)

    def use_call_ids(self, *call_ids: str) -> None:
        """Give the next calls (callouts, inbound calls) these ids, in order: reproducible tests."""
        self.call_ids.extend(call_ids)

    @property
    def faults(self) -> Any:
        """Fault injection (``sinch_calling_server.faults.Faults``): ``faults.add("getCallResult", status=503)``."""
        return self.app.faults

    @property
    def url(self) -> str:
        """The server's origin (``http://127.0.0.1:PORT``), for the ``/_sinch/`` test controls."""
        return self.base_url.removesuffix("/v1")

    def advance(self, seconds: float = 0) -> list[dict[str, Any]]:
        """Move the simulation forward, deliver every callback due; the delivery records, in order.

        Only the simulated calls move: requests are still signed and judged by the wall clock, and
        callbacks carry a fresh ``x-timestamp``, so your app's freshness check passes.
        """
        return list(self._control("POST", "advance", {"seconds": seconds})["deliveries"])

    def inbound_call(
        self,
        cli: str,
        to: str,
        *,
        presses: list[str | None] | None = None,
        hangup_after: float | None = None,
    ) -> str:
        """A caller (``cli``) dials ``to``, one of your numbers: Sinch's ICE goes to your app.

        ``presses`` script the caller's keys, one per ``runMenu`` your app plays (``None``: silence,
        a timeout); ``hangup_after`` is when the caller hangs up (seconds after dialling). Nothing
        is delivered until ``advance()``: the ICE is due at once, each PIE ``menu_seconds`` (2)
        after its menu, the DiCE at the end. Returns the call id.
        """
        params: dict[str, Any] = {"cli": cli, "to": to, "applicationKey": self.credentials.application_key}
        if presses is not None:
            params["presses"] = ",".join(press or "" for press in presses)
        if hangup_after is not None:
            params["hangupAfter"] = f"{hangup_after:g}"
        return str(self._control("POST", "calls", params)["callId"])

    def script_callee(self, number: str, answer: str) -> None:
        """How callouts to ``number`` go: ``"busy"``, ``"noanswer"`` or ``"failed"`` (never
        answered), or ``"machine"`` / ``"human"`` (answered; the ACE carries that AMD result)."""
        self._control("POST", "callees", {"number": number, "answer": answer})

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every callback this server delivered (request, answer, status, timing)."""
        return list(self._control("GET", "deliveries")["deliveries"])

    def _control(self, method: str, route: str, params: dict[str, Any] | None = None) -> Any:
        """A ``/_sinch/`` test control, with the application's credentials; its JSON (None if empty)."""
        import httpx

        auth = httpx.BasicAuth(self.credentials.application_key, self.credentials.application_secret)
        response = httpx.request(method, f"{self.url}/_sinch/{route}", params=params, auth=auth, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def client(self, **options: Any) -> Any:
        from sinch_calling import SinchClient

        return SinchClient(
            application_key=self.credentials.application_key,
            application_secret=self.credentials.application_secret,
            base_url=self.base_url,
            **options,
        )

    def async_client(self, **options: Any) -> Any:
        from sinch_calling import AsyncSinchClient

        return AsyncSinchClient(
            application_key=self.credentials.application_key,
            application_secret=self.credentials.application_secret,
            base_url=self.base_url,
            **options,
        )


def _new_app(credentials: Credentials, clock: ManualClock, call_ids: list[str]) -> Any:
    try:
        from . import create_app
    except ImportError as exc:  # pragma: no cover - the message is the point
        hint = 'the sinch_server fixtures need the server extra: pip install "sinch-calling[server]"'
        raise pytest.UsageError(f"{hint} ({exc})") from None
    return create_app(
        applications={credentials.application_key: credentials.application_secret},
        clock=clock,  # frozen: the simulation moves only with advance(); signatures stay fresh
        id_factory=lambda: call_ids.pop(0) if call_ids else uuid.uuid4().hex,
        test_controls=True,
        callback_hosts=["loopback"],
    )


def _serve(listener: _Listener, credentials: Credentials) -> RecordedServer:
    clock = ManualClock()
    call_ids: list[str] = []
    app = _new_app(credentials, clock, call_ids)
    listener.switch.app = app
    return RecordedServer(f"http://127.0.0.1:{listener.port}/v1", credentials, clock, app, call_ids)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def sinch_credentials() -> Credentials:
    """A random application key and base64 secret for this session."""
    return Credentials(secrets.token_hex(16), base64.b64encode(secrets.token_bytes(24)).decode())


def _listening() -> Iterator[_Listener]:
    listener = _Listener()
    listener.start()
    try:
        yield listener
    finally:
        listener.stop()


# Two listeners: the per-test servers take turns on one, the session's server keeps the other.
_sinch_listener = pytest.fixture(scope="session", name="_sinch_listener")(_listening)
_sinch_session_listener = pytest.fixture(scope="session", name="_sinch_session_listener")(_listening)


@pytest.fixture
def sinch_server(_sinch_listener: _Listener, sinch_credentials: Credentials) -> Iterator[RecordedServer]:
    """A recorded server with fresh state for this test."""
    yield _serve(_sinch_listener, sinch_credentials)


@pytest.fixture(scope="session")
def sinch_server_session(_sinch_session_listener: _Listener, sinch_credentials: Credentials) -> RecordedServer:
    """One recorded server for the whole session."""
    return _serve(_sinch_session_listener, sinch_credentials)


@pytest.fixture
def sinch_client(sinch_server: RecordedServer) -> Iterator[Any]:
    """A signed ``SinchClient`` bound to ``sinch_server``."""
    import httpx

    # one TLS context for the session: making one loads the system's certificates (~20 ms a test)
    with httpx.Client(verify=_tls_context()) as http, sinch_server.client(httpx_client=http) as client:
        yield client


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


try:  # an async fixture needs an async runner; pytest-asyncio is the common one
    import pytest_asyncio
except ImportError:  # pragma: no cover - without it, async tests use sinch_server.async_client()
    pass
else:

    @pytest_asyncio.fixture
    async def async_sinch_client(sinch_server: RecordedServer) -> AsyncIterator[Any]:
        """A signed ``AsyncSinchClient`` bound to ``sinch_server`` (with pytest-asyncio)."""
        async with sinch_server.async_client() as client:
            yield client


@pytest.fixture
def sinch_callbacks(sinch_server: RecordedServer) -> Any:
    """The callbacks ``sinch_server`` delivered, read when you look (``list(sinch_callbacks)``)."""
    return _Deliveries(sinch_server)


class _Deliveries:
    def __init__(self, server: RecordedServer) -> None:
        self._server = server

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._server.deliveries)

    def __len__(self) -> int:
        return len(self._server.deliveries)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [record for record in self._server.deliveries if record.get("event") == name]
