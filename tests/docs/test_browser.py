"""The built documentation, opened in a real headless browser (Chromium, driven by Playwright).

Builds the site as `make docs` does (into a temporary folder), serves it over HTTP on loopback and
checks that:

- every operation of the spec (by operationId) and every callback event (the spec's webhooks)
  has its section in the API reference, reached through Redoc's own links;
- no page logs a console error or an uncaught exception, and no request fails or leaves the site
  (requests elsewhere are blocked, so a page that would need the network fails here too);
- every link between the guide's pages leads to a page, and every #anchor to an element.

Chromium is Debian's (`make chromium` installs it); Playwright cannot download its own browsers
where only package registries are reachable, so it is pointed at that executable.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import spec_document

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GUIDE_PAGES = sorted(page.stem + ".html" for page in (ROOT / "docs").glob("*.md"))


def chromium() -> str:
    found = os.environ.get("SINCH_DOCS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("no chromium executable: `make chromium` installs Debian's (or set SINCH_DOCS_CHROMIUM)")
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("docs")
    subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), "--out", str(out)], check=True, cwd=ROOT)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium())
        try:
            yield launched
        finally:
            launched.close()


class Watched:
    """A page whose console errors, uncaught exceptions and failed or outside requests are kept."""

    def __init__(self, browser: Any, site: str) -> None:
        self.page = browser.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"exception: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status}: {r.url}"))

        def outside(route: Any) -> None:
            self.problems.append(f"outside request: {route.request.url}")
            route.abort()

        # Anything but this site (and the blob: URLs Redoc makes for its workers) is refused.
        self.page.route(lambda url: not url.startswith((site, "blob:", "data:")), outside)

    def open(self, url: str) -> Any:
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return self.page


def operations() -> dict[str, tuple[str, str]]:
    """operationId -> (its first tag, its summary), for every path operation of the spec."""
    found = {}
    for item in spec_document()["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (operation["tags"][0], operation["summary"])
    return found


def webhooks() -> dict[str, tuple[str, str]]:
    """event name (the webhook's key) -> (its operationId, its summary)."""
    return {
        event: (operation["operationId"], operation["summary"])
        for event, item in spec_document()["webhooks"].items()
        for operation in item.values()
    }


def test_the_spec_has_what_the_reference_is_checked_for() -> None:
    assert len(operations()) == 14
    assert set(webhooks()) == {"ice", "ace", "dice", "pie", "notify"}


def shows_heading(page: Any, text: str) -> bool:
    """Whether ``page`` comes to show a visible heading reading ``text`` (Redoc renders a route lazily).

    Only a heading's first line counts: Redoc puts badges ("Webhook") on a line of their own.
    """
    script = """text => [...document.querySelectorAll('h1, h2, h3')]
        .some(e => e.innerText.trim().split('\\n')[0].trim() === text && e.getClientRects().length > 0)"""
    try:
        page.wait_for_function(script, arg=text, timeout=5000)
    except Exception:
        return False
    return True


def test_the_reference_shows_every_operation_and_event(browser: Any, site: str) -> None:
    watched = Watched(browser, site)
    page = watched.open(f"{site}/reference.html")
    # Redoc has hydrated once its sidebar shows Redocly's logo, a local copy (see docs/build.py); a
    # logo from elsewhere would be blocked, removed by Redoc and reported in ``problems``.
    logo = "() => [...document.images].some(i => i.alt === 'redocly logo' && i.complete && i.naturalWidth > 0)"
    page.wait_for_function(logo, timeout=10_000)
    missing = []
    for operation_id, (tag, summary) in operations().items():
        # Redoc's route for an operation: its tag's slug, then the operationId in lower case.
        link = f"#/{tag.lower()}/{operation_id.lower()}"
        page.goto(f"{site}/reference.html{link}")
        if not shows_heading(page, summary):
            missing.append(operation_id)
    page.goto(f"{site}/reference.html#/webhooks")
    page.wait_for_load_state("networkidle")
    events = page.eval_on_selector_all("a[href^='#/webhooks/']", "els => els.map(e => e.innerText.trim())")
    for event, (operation_id, summary) in webhooks().items():
        assert event in " ".join(events).split(), f"the reference's webhooks do not list {event}"
        page.goto(f"{site}/reference.html#/webhooks/{operation_id.lower()}")
        if not shows_heading(page, summary):
            missing.append(event)
    assert missing == []
    assert watched.problems == []


@pytest.mark.parametrize("name", GUIDE_PAGES)
def test_each_guide_page_loads_cleanly_and_its_links_resolve(browser: Any, site: str, name: str) -> None:
    watched = Watched(browser, site)
    page = watched.open(f"{site}/{name}")
    assert page.title().endswith(" · sinch-calling " + spec_document()["info"]["version"])
    links: list[str] = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    routes = {f"reference.html#/{tag.lower()}/{op.lower()}" for op, (tag, _) in operations().items()}
    routes |= {f"reference.html#/webhooks/{op.lower()}" for op, _ in webhooks().values()}
    broken = [href for href in links if href.startswith("reference.html#/") and href not in routes]
    for href in links:
        if href.startswith(("http://", "https://", "reference.html#/")):
            continue  # outside links are not followed; Redoc's routes are those checked above
        target, _, anchor = href.partition("#")
        response = page.goto(f"{site}/{target or name}")
        if response is None or not response.ok or (anchor and page.locator(f"[id='{anchor}']").count() == 0):
            broken.append(href)
    assert links and broken == []
    assert watched.problems == []
