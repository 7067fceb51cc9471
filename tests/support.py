"""Helpers shared by every test folder: credentials, the spec, and a real HTTP server on loopback."""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

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
    """A recorded server's clock that only the test moves (its calls ring, then are answered).

    It starts at the real time, so that signatures made with it pass a max-age check.
    """

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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
