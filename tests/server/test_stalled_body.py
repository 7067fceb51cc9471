"""A request whose headers arrived but whose body stalls is answered 408 and let go.

Adversarial pass, issue 16 item 5: such a connection was kept open indefinitely (over 180 s).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

from sinch_calling_server.pipeline import Pipeline

from tests.support import serve


def test_a_stalled_body_gets_a_sinch_style_408_within_the_body_timeout(make_app: Callable[..., Pipeline]) -> None:
    app = make_app()
    app.body_timeout = 0.5
    with serve(app) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            started = time.monotonic()
            sock.sendall(
                b"POST /calling/v1/callouts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"method":'
            )
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
            elapsed = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert json.loads(body)["errorCode"] == 40800
    assert 0.4 < elapsed < 3.0
