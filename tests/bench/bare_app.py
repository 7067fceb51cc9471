"""A bare ASGI app that answers every request with one fixed JSON body: the throughput ceiling.

It reads (and drops) the request body, like any server must, and does nothing else. Run it
on the HTTP server that ``sinch-calling-server`` uses, configured as that CLI configures it::

    python tests/bench/bare_app.py --port 8081 --server granian
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY = b'{"callId":"4398599d1ba84ef3bde0a82dfb61abed"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode("ascii"))]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more_body = True
    while more_body:
        message = await receive()
        more_body = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    args = parser.parse_args()
    if args.server == "uvicorn":  # as sinch-calling-server --server uvicorn runs (one worker)
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
        return
    from granian.constants import Interfaces
    from granian.server import Server

    # As sinch-calling-server runs granian (cli.py): one worker, ASGI, warnings only, no access log.
    Server(
        "bare_app:app",
        address="127.0.0.1",
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        log_level="warning",  # type: ignore[arg-type]
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
