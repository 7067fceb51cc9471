"""Helpers shared by every test folder: credentials, the spec, the one fake clock, and the one way
to run a server: an ASGI app on loopback in a thread (``serve``), or the ``sinch-calling-server``
command in a process (``ServerProcess``).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "spec" / "calling-api.yaml"

KEY = "0f9e8d7c-0000-4000-8000-0000000000aa"
SECRET = base64.b64encode(b"a secret only the tests know").decode()

# The published signing vectors of wire-protocol.md, defined once for every test that checks them.
# Vector 1: Sinch's callback-signing example.
CALLBACK_KEY = "669E367E-6BBA-48AB-AF15-266871C28135"
CALLBACK_SECRET = "BeIukql3pTKJ8RGL5zo0DA=="
CALLBACK_TIMESTAMP = "2014-09-24T10:59:41Z"
CALLBACK_PATH = "/sinch/callback/ace"
CALLBACK_BODY = (
    b'{"event":"ace","callid":"822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257",'
    b'"timestamp":"2014-09-24T10:59:41Z","version":1}'
)
CALLBACK_MD5 = "REWF+X220L4/Gw1spXOU7g=="
CALLBACK_SIGNATURE = "Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb4="

# Vector 2: the official SDKs' unit tests.
SDK_KEY = "my-key-id"
SDK_SECRET = "bXkta2V5LXNlY3JldA=="
SDK_TIMESTAMP = "2023-11-22T09:10:11.999Z"
SDK_NOW = datetime(2023, 11, 22, 9, 10, 11, 999_000, tzinfo=timezone.utc)
SDK_PATH = "/path/pathParamValue"
SDK_POST_BODY = b'{"identity":{"type":"number","endpoint":"+33444555666"},"method":"sms"}'
SDK_POST_AUTHORIZATION = "Application my-key-id:QP3OzQZVzRZAEev6DBLvJkgpiqyZPuXYsc7oyjUV0K8="
SDK_GET_SIGNATURE = "nsrLDvP6KVD/dAxb3IfAncdwjPFJVWSrseEFOcZge+A="


class Clock:
    """Epoch seconds that move only when told: a recorded server's clock, or a signer's.

    ``now`` defaults to the real time, so that signatures made with it pass a max-age check.
    With ``tick``, every reading is that many seconds later than the one before (each signature
    then gets its own timestamp).
    """

    def __init__(self, now: float | None = None, *, tick: float = 0.0) -> None:
        self.now = time.time() if now is None else now
        self.tick = tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def datetime(self) -> datetime:
        """The same reading as an aware UTC ``datetime`` (what ``ApplicationAuth(clock=...)`` takes)."""
        return datetime.fromtimestamp(self(), timezone.utc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` on uvicorn in a thread on 127.0.0.1; yield its base URL; stop it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# What a server process needs on PYTHONPATH to import the same code as this test run (a bare
# checkout adds to it: see tests/server/conftest.py).
IMPORT_PATHS: list[str] = []


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*IMPORT_PATHS, env.get("PYTHONPATH", "")]).strip(os.pathsep)
    env.update(extra)
    return env


def _die_with_parent() -> None:
    """In the child: get SIGTERM when pytest dies without running its finalizers (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ServerProcess:
    """``python -m sinch_calling_server ARGS`` on a loopback port, waited for until it answers.

    It runs in its own process group (``kill`` and ``stop`` reach its workers too) and dies with
    the test run. Use it as a context manager, or call ``stop``.
    """

    def __init__(
        self, *args: str, port: int | None = None, env: dict[str, str] | None = None, timeout: float = 30.0
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "sinch_calling_server", "--port", str(self.port), "--spec", str(SPEC_PATH)]
        self.process = subprocess.Popen(
            [*command, *args],
            env=env or subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        try:
            self._wait(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read() if self.process.stdout else ""
                raise RuntimeError(f"sinch-calling-server exited with {self.process.returncode}: {output}")
            try:
                httpx.get(self.base_url + "/v1/", timeout=0.5)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"sinch-calling-server did not answer within {timeout:g} s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (workers included), as kill -9 would hit a crashed host."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end within 10 s."""
        try:
            self.kill(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def output(self) -> str:
        """Everything it printed, once it is stopped (SIGTERM)."""
        self.kill(signal.SIGTERM)
        return self.process.stdout.read() if self.process.stdout else ""

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@cache
def spec_document() -> dict[str, Any]:
    """spec/calling-api.yaml, loaded once."""
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def spec_pointer(*parts: str) -> str:
    """A JSON pointer into the spec (as resolved by ``spec_validator``), each part escaped."""
    return "urn:spec#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@cache
def spec_validator(pointer: str, *, check_formats: bool = True) -> Draft202012Validator:
    """A Draft 2020-12 validator for the schema at ``pointer`` (see ``spec_pointer``), $refs resolved."""
    registry: Registry[Any] = Registry().with_resource(
        "urn:spec", Resource.from_contents(spec_document(), default_specification=DRAFT202012)
    )
    checker = Draft202012Validator.FORMAT_CHECKER if check_formats else None
    return Draft202012Validator({"$ref": pointer}, registry=registry, format_checker=checker)
