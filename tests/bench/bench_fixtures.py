"""Row 5: the pytest fixtures' start-up beside Prism's, and an inbound IVR flow's wall time.

Each measurement runs in a fresh interpreter (``python -c``), so imports and the spec's compilation
count as a user's first test would pay them:

- first server: from nothing to the first answered request (listener, application, spec compiled);
- each further fresh server (what every test using ``sinch_server`` pays): a new application
  behind the running listener, to its first answered request;
- Prism 5.16.0 (``prism mock``), from its start to the first answered request;
- the inbound IVR flow of tests/server/test_inbound.py (ICE, runMenu, key press, PIE,
  connectConf, DiCE against the example app over HTTP), in process, after the first server.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field

import httpx
from harness import PYTHON, ROOT, SPEC, Row, free_port, median

FRESH_TARGET_MS = 50.0
IVR_TARGET_S = 1.0
ROUNDS = 5
PRISM = ROOT / "node_modules" / ".bin" / "prism"

PROBE = r"""
import json, sys, time
started = time.perf_counter()
sys.path.insert(0, "ROOT")
from sinch_calling_server.testing import Credentials, _Listener, _serve
from examples.webhook_app import CALLBACK_PATH, create_app
from tests.support import serve
import base64, secrets
credentials = Credentials(secrets.token_hex(8), base64.b64encode(b"bench secret").decode())
listener = _Listener(); listener.start()
server = _serve(listener, credentials)
with server.client() as client:
    client.numbers.list()
first = time.perf_counter() - started
fresh = []
for _ in range(20):
    t = time.perf_counter()
    server = _serve(listener, credentials)
    with server.client() as client:
        client.numbers.list()
    fresh.append(time.perf_counter() - t)
app = create_app(credentials.application_key, credentials.application_secret, menu_on_ice=True)
ivr = []
with serve(app) as url:
    for _ in range(5):
        t = time.perf_counter()
        server = _serve(listener, credentials)
        with server.client() as client:
            client.applications.callbacks.update(url={"primary": url + CALLBACK_PATH})
            call_id = server.inbound_call("+46700000001", "+46812345678", presses=["1"], hangup_after=30)
            (ice,) = server.advance(0); (pie,) = server.advance(2)
            assert pie["response"]["action"]["name"] == "connectConf"
            (dice,) = server.advance(30)
            assert client.calls.get(call_id).status == "FINAL"
        ivr.append(time.perf_counter() - t)
listener.stop()
print(json.dumps({"first": first, "fresh": fresh, "ivr": ivr}))
""".replace("ROOT", str(ROOT))


@dataclass
class FixtureTimes:
    first_s: list[float] = field(default_factory=list)
    fresh_ms: list[float] = field(default_factory=list)
    ivr_s: list[float] = field(default_factory=list)
    prism_s: list[float] = field(default_factory=list)

    def rows(self) -> list[Row]:
        fresh, first, prism, ivr = median(self.fresh_ms), median(self.first_s), median(self.prism_s), median(self.ivr_s)
        return [
            Row(
                "5 fixtures",
                "fresh sinch_server, to first answer",
                f"{fresh:.1f} ms",
                f"<= {FRESH_TARGET_MS:g} ms",
                fresh <= FRESH_TARGET_MS,
            ),
            Row(
                "5 fixtures",
                "first server (fresh interpreter) vs Prism start",
                f"{first:.2f} s vs {prism:.2f} s",
                "below Prism",
                first < prism,
            ),
            Row(
                "5 fixtures",
                "inbound IVR flow (ICE..DiCE), in process",
                f"{ivr * 1000:.0f} ms",
                f"< {IVR_TARGET_S:g} s",
                ivr < IVR_TARGET_S,
            ),
        ]

    def raw(self) -> list[str]:
        return [
            f"first server s: {', '.join(f'{v:.2f}' for v in self.first_s)}",
            f"fresh server ms: {', '.join(f'{v:.1f}' for v in self.fresh_ms)}",
            f"IVR flow s: {', '.join(f'{v:.3f}' for v in self.ivr_s)}",
            f"Prism start s: {', '.join(f'{v:.2f}' for v in self.prism_s)}",
        ]


def _prism_start() -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(PRISM), "mock", str(SPEC), "-p", str(port), "-h", "127.0.0.1", "-m", "false", "-v", "silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/configuration/numbers/", timeout=1)
                return time.perf_counter() - started
            except httpx.TransportError:
                if time.perf_counter() - started > 60:
                    raise RuntimeError("Prism did not answer within 60 s") from None
                time.sleep(0.02)
    finally:
        process.kill()
        process.wait(timeout=10)


def measure() -> FixtureTimes:
    times = FixtureTimes()
    for _ in range(ROUNDS):  # side by side, alternating
        done = subprocess.run([PYTHON, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        result = json.loads(done.stdout.strip().splitlines()[-1])
        times.first_s.append(result["first"])
        times.fresh_ms += [value * 1000 for value in result["fresh"]]
        times.ivr_s += result["ivr"]
        times.prism_s.append(_prism_start())
    return times
