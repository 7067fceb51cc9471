"""The framework adapters against the recorded server's real, signed deliveries.

Each example app (Starlette through the existing webhook app's adapter, FastAPI, Flask, Django)
runs on a real HTTP server (uvicorn for ASGI, werkzeug for WSGI); the recorded server places a
conference callout and delivers its ACE and DiCE to the app, which must receive them verified and
typed and answer the ACE with connectConf (the call then joins the conference). A tampered
delivery is refused with 401, an unknown event acknowledged with 200, a body that is not an event
refused with 400.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sinch_calling import SinchClient
from sinch_calling._runtime.signing import sign_request
from sinch_calling.callbacks import AceEvent, DiceEvent
from sinch_calling_server import create_app
from werkzeug.serving import make_server

from tests.support import KEY, SECRET, Clock, free_port, serve

pytestmark = pytest.mark.slow  # live servers


@contextlib.contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def fastapi_app() -> tuple[Any, list[Any], bool]:
    from examples.fastapi_app import create_app as create

    app = create(KEY, SECRET)
    return app, app.state.received, False


def flask_app() -> tuple[Any, list[Any], bool]:
    from examples.flask_app import create_app as create

    app = create(KEY, SECRET)
    return app, app.config["RECEIVED"], True


def django_app() -> tuple[Any, list[Any], bool]:
    from examples import django_app as module

    return module.application(KEY, SECRET), module.RECEIVED, True


APPS = {"fastapi": fastapi_app, "flask": flask_app, "django": django_app}


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[str, Clock, SinchClient]]:
    clock = Clock()
    app = create_app(applications={KEY: SECRET}, clock=clock, validate_responses=True, test_controls=True)
    with serve(app) as url, SinchClient(application_key=KEY, application_secret=SECRET, base_url=url + "/v1") as client:
        yield url, clock, client
    assert app.violations == []


def deliver(url: str, clock: Clock, seconds: float) -> list[dict[str, Any]]:
    clock.advance(seconds)
    response = httpx.post(f"{url}/_sinch/advance", auth=httpx.BasicAuth(KEY, SECRET), timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json()["deliveries"])


def signed_post(url: str, body: bytes, secret: str = SECRET) -> httpx.Response:
    request = httpx.Request("POST", url, content=body, headers={"Content-Type": "application/json"})
    sign_request(request, KEY, base64.b64decode(secret))
    return request


@pytest.mark.parametrize("framework", sorted(APPS))
def test_a_real_delivery_is_received_typed_and_answered(
    recorded: tuple[str, Clock, SinchClient], framework: str
) -> None:
    server_url, clock, client = recorded
    app, received, wsgi = APPS[framework]()
    received.clear()
    with serve_wsgi(app) if wsgi else serve(app) as app_url:
        callback_url = app_url + "/sinch/callback"
        client.applications.callbacks.update(url={"primary": callback_url})
        # the example apps all put calls into one conference
        placed = client.callouts.conference(
            destination={"type": "number", "endpoint": "+46700000021"},
            conference_id="myConference",
            enable_ace=True,
            enable_dice=True,
        )
        (ace,) = deliver(server_url, clock, 3)
        assert (ace["event"], ace["status"], ace["ok"]) == ("ace", 200, True), ace
        assert ace["response"]["action"] == {"name": "connectConf", "conferenceId": "myConference"}
        assert placed.call_id in [p.id for p in client.conferences.get("myConference").participants]
        client.conferences.kick("myConference", placed.call_id)
        (dice,) = deliver(server_url, clock, 0)
        assert (dice["event"], dice["status"]) == ("dice", 200)
        assert [type(event) for event in received] == [AceEvent, DiceEvent]
        assert received[0].callid == placed.call_id and received[1].callid == placed.call_id

        # what a tampered or odd request gets, signed exactly as Sinch signs
        event = json.dumps({"event": "ace", "callid": "c1", "version": 1}).encode()
        with httpx.Client(timeout=10) as http:
            assert http.send(signed_post(callback_url, event)).status_code == 200
            genuine = signed_post(callback_url, event)
            changed = event.replace(b'"c1"', b'"c2"')  # the body changed after signing
            tampered = httpx.Request("POST", callback_url, content=changed, headers=dict(genuine.headers))
            tampered.headers["Content-Length"] = str(len(changed))
            assert http.send(tampered).status_code == 401
            wrong_secret = signed_post(callback_url, event, base64.b64encode(b"another secret").decode())
            assert http.send(wrong_secret).status_code == 401
            future = signed_post(callback_url, json.dumps({"event": "hologram", "callid": "c1"}).encode())
            assert http.send(future).status_code == 200  # Sinch adds events over time
            assert http.send(signed_post(callback_url, b"[1, 2]")).status_code == 400
        assert len(received) == 3  # only the genuine ACE was added
