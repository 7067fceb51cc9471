"""The inspector page, in a real headless browser (Chromium, driven by Playwright).

The recorded server runs over real HTTP with test controls; the page is opened with the
application's credentials and must show the calls, the conferences with their participants,
and each callback delivery with its verdict, and keep up as things happen, without any console
error or failed request.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sinch_calling import SinchClient
from sinch_calling_server import create_app

from examples.webhook_app import CALLBACK_PATH
from examples.webhook_app import create_app as create_webhook_app
from tests.support import KEY, SECRET, Clock, serve

pytestmark = pytest.mark.slow  # a browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_page() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(http_credentials={"username": KEY, "password": SECRET})
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        page.problems = problems  # type: ignore[attr-defined]
        yield page
        browser.close()


def test_the_inspector_shows_calls_conferences_and_deliveries_live(browser_page: Any) -> None:
    clock = Clock()
    server = create_app(applications={KEY: SECRET}, clock=clock, test_controls=True)
    backend = create_webhook_app(KEY, SECRET)
    with (
        serve(server) as url,
        serve(backend) as backend_url,
        SinchClient(application_key=KEY, application_secret=SECRET, base_url=url + "/v1") as client,
    ):
        client.applications.callbacks.update(url={"primary": backend_url + CALLBACK_PATH})
        placed = client.callouts.conference(
            destination={"type": "number", "endpoint": "+46700000005"}, conference_id="myConference", enable_ace=True
        )
        clock.advance(3)
        httpx.post(f"{url}/_sinch/advance", auth=httpx.BasicAuth(KEY, SECRET)).raise_for_status()

        page = browser_page
        page.goto(f"{url}/_sinch/inspector")
        page.wait_for_selector(f"#calls tr[data-call-id='{placed.call_id}']")
        assert page.locator("#conferences tbody tr").count() == 1
        assert "myConference" in page.locator("#conferences").inner_text()
        deliveries = page.locator("#deliveries tbody tr")
        assert deliveries.count() == 1
        row = deliveries.first.inner_text()
        assert "ace" in row and "accepted (200)" in row and "connectConf" in row

        # live: a new call and a refused delivery appear without reloading
        client.applications.callbacks.update(url={"primary": backend_url + CALLBACK_PATH + "?tampered"})
        tampering = create_webhook_app(KEY, "b3RoZXIgc2VjcmV0")  # another secret: every signature fails
        with serve(tampering) as other_url:
            client.applications.callbacks.update(url={"primary": other_url + CALLBACK_PATH})
            second = client.callouts.tts(
                destination={"type": "number", "endpoint": "+46700000006"}, text="Hi", enable_ace=True
            )
            clock.advance(3)
            httpx.post(f"{url}/_sinch/advance", auth=httpx.BasicAuth(KEY, SECRET)).raise_for_status()
            page.wait_for_selector(f"#calls tr[data-call-id='{second.call_id}']", timeout=5000)
            page.wait_for_function("document.querySelectorAll('#deliveries tbody tr').length === 2", timeout=5000)
            assert "signature refused (401)" in page.locator("#deliveries tbody tr").nth(1).inner_text()
        assert page.problems == []  # type: ignore[attr-defined]


def test_the_inspector_needs_test_controls_and_credentials() -> None:
    with serve(create_app(applications={KEY: SECRET}, clock=Clock(), test_controls=True)) as url:
        assert httpx.get(f"{url}/_sinch/inspector").status_code == 401
        page = httpx.get(f"{url}/_sinch/inspector", auth=httpx.BasicAuth(KEY, SECRET))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    with serve(create_app(applications={KEY: SECRET}, clock=Clock())) as url:
        assert httpx.get(f"{url}/_sinch/inspector", auth=httpx.BasicAuth(KEY, SECRET)).status_code == 404
