"""``--curl``: the request a command would send, signed, as a curl command line.

The client builds and signs the request as usual; a transport that stops before the network
catches it. The signature is only valid for a few minutes (its ``x-timestamp``), as Sinch's
would be. Basic auth is printed with the secret left in its environment variable.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import httpx

from .. import SinchClient
from .._runtime.base_client import SECRET_ENV

# Headers curl sets itself, or that say nothing about the request.
_SKIP = {"host", "content-length", "accept-encoding", "connection", "user-agent"}


class Captured(Exception):
    def __init__(self, request: httpx.Request) -> None:
        super().__init__("captured")
        self.request = request


def capture() -> httpx.Client:
    """An httpx client whose every request is stopped (and kept) instead of sent."""

    def stop(request: httpx.Request) -> httpx.Response:
        request.read()
        raise Captured(request)

    return httpx.Client(transport=httpx.MockTransport(stop))


def to_curl(method: Callable[..., Any], kwargs: dict[str, Any], client: SinchClient) -> str:
    try:
        method(**kwargs)
    except Captured as captured:
        return format_curl(captured.request, client)
    raise RuntimeError("the command sent no request")  # every operation sends one


def format_curl(request: httpx.Request, client: SinchClient) -> str:
    parts = ["curl", "-sS", "-X", request.method, shlex.quote(str(request.url))]
    for name, value in request.headers.items():
        if name.lower() in _SKIP:
            continue
        if name.lower() == "authorization" and value.lower().startswith("basic "):
            # never the secret: curl reads it from the environment when the command runs
            parts += ["-u", f'{shlex.quote(client.application_key + ":")}"${SECRET_ENV}"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.content:
        parts += ["--data-binary", shlex.quote(request.content.decode("utf-8"))]
    return " ".join(parts)
