"""The pytest plugin (sinch_calling_server.testing), used from a test project as a user would.

``pytester`` runs a separate test session in a temporary folder: the plugin is found through the
installed package's ``pytest11`` entry point, not through this repository's conftest files.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.slow  # inner pytest sessions with live servers


def test_fixtures_give_each_test_a_fresh_server_on_a_real_port(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        seen = {}

        def test_first(sinch_client, sinch_server, sinch_credentials):
            assert sinch_server.base_url.startswith("http://127.0.0.1:")
            call = sinch_client.callouts.tts(destination={"type": "number", "endpoint": "+46700000001"}, text="Hi")
            seen["call"] = call.call_id
            seen["port"] = sinch_server.base_url
            assert sinch_client.calls.get(call.call_id).status == "ONGOING"
            # a real HTTP server: any client reaches it
            assert httpx.get(sinch_server.base_url + "/calls/id/x").status_code == 401

        def test_second_sees_nothing_of_the_first(sinch_client, sinch_server):
            import sinch_calling
            assert sinch_server.base_url == seen["port"]  # the same listener...
            try:
                sinch_client.calls.get(seen["call"])  # ...but a new server behind it
            except sinch_calling.NotFoundError:
                pass
            else:
                raise AssertionError("state leaked between tests")

        def test_time_moves_only_when_told(sinch_client, sinch_server):
            call = sinch_client.callouts.tts(
                destination={"type": "number", "endpoint": "+46700000001"}, text="Hi", enable_dice=True
            )
            assert sinch_client.calls.get(call.call_id).status == "ONGOING"
            sinch_server.advance(3600)
            assert sinch_client.calls.get(call.call_id).status == "FINAL"

        def test_session_server_keeps_state(sinch_server_session):
            with sinch_server_session.client() as client:
                seen.setdefault("session", client.callouts.tts(
                    destination={"type": "number", "endpoint": "+46700000001"}, text="Hi").call_id)

        def test_session_server_still_has_it(sinch_server_session):
            with sinch_server_session.client() as client:
                assert client.calls.get(seen["session"]).call_id == seen["session"]

        async def test_async_client(async_sinch_client):
            numbers = await async_sinch_client.numbers.list()
            assert numbers.numbers
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=6)


def test_callbacks_reach_the_users_app(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import threading, time
        import uvicorn
        from starlette.applications import Starlette
        from starlette.routing import Route
        from sinch_calling.callbacks import AceEvent
        from sinch_calling.frameworks.starlette import sinch_callback
        from sinch_calling.svaml import AceResponse, HangupAction

        def test_an_ace_is_delivered_signed(sinch_client, sinch_server, sinch_credentials, sinch_callbacks):
            received = []

            def handle(event):
                received.append(event)
                return AceResponse(action=HangupAction(name="hangup"))

            endpoint = sinch_callback(
                handle,
                application_key=sinch_credentials.application_key,
                application_secret=sinch_credentials.application_secret,
            )
            app = Starlette(routes=[Route("/cb", endpoint, methods=["POST"])])
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            try:
                sinch_client.applications.callbacks.update(url={"primary": f"http://127.0.0.1:{port}/cb"})
                call = sinch_client.callouts.tts(
                    destination={"type": "number", "endpoint": "+46700000001"}, text="Hi", enable_ace=True
                )
                (ace,) = sinch_server.advance(3)
                assert (ace["event"], ace["status"]) == ("ace", 200)
                assert [type(e) for e in received] == [AceEvent] and received[0].callid == call.call_id
                assert len(sinch_callbacks.events("ace")) == 1
            finally:
                server.should_exit = True
                thread.join(5)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
