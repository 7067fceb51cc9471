"""What every contract test shares: the spec, the run's settings, request signing and the servers.

The run's settings come from ``schemathesis.toml`` (the fixed seed and derandomised generation of
``make test``); ``--fuzz`` (``make fuzz``) turns them into a long randomised campaign. conftest.py
calls ``configure`` before any test module is imported, so modules can read ``RUN`` at import.
"""

from __future__ import annotations

import collections
import copy
import random
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
import schemathesis
import tomllib
import yaml
from schemathesis import Config
from sinch_calling._runtime.parsing import parse_datetime
from sinch_calling._runtime.signing import compute_signature, content_md5, decode_secret, string_to_sign, utc_timestamp
from sinch_calling_server import create_app
from sinch_calling_server.pipeline import Pipeline

from tests.support import KEY, SECRET, ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "calling-api.yaml"
CONFIG_FILE = ROOT / "schemathesis.toml"
PACKAGED_DATA = ROOT / "server" / "sinch_calling_server" / "data"

# How many state machine runs (each up to `[phases.stateful] max-steps` calls) `make test` makes
# in process; over loopback a third of that, since every run restarts the server.
STATEFUL_EXAMPLES = 30
# What `--fuzz` changes in schemathesis.toml: many more examples, a random seed, no derandomisation.
FUZZ_EXAMPLES = 400
FUZZ_STATEFUL_STEPS = 50
FUZZ_STATEFUL_EXAMPLES = 200


@dataclass
class Run:
    fuzz: bool = False
    seed: int = 0
    max_examples: int = 0  # for the hypothesis tests written here (client, models)
    stateful_examples: int = 0
    counts: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )

    def count(self, suite: str, operation: str) -> None:
        self.counts[suite][operation] += 1


RUN = Run()


def raw_config() -> dict[str, Any]:
    with CONFIG_FILE.open("rb") as handle:
        return tomllib.load(handle)


def configure(*, fuzz: bool, seed: int | None) -> None:
    """Decide the run's mode and seed once, before the test modules load their schemas."""
    data = raw_config()
    RUN.fuzz = fuzz
    if fuzz:
        RUN.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    else:
        RUN.seed = seed if seed is not None else int(data["seed"])
    RUN.max_examples = FUZZ_EXAMPLES if fuzz else int(data["generation"]["max-examples"])
    RUN.stateful_examples = FUZZ_STATEFUL_EXAMPLES if fuzz else STATEFUL_EXAMPLES


def schemathesis_config() -> Config:
    """schemathesis.toml, with the run's seed (and the fuzzing overrides under --fuzz)."""
    data = copy.deepcopy(raw_config())
    data["seed"] = RUN.seed
    if RUN.fuzz:
        data.setdefault("generation", {}).update({"deterministic": False, "max-examples": FUZZ_EXAMPLES})
        data.setdefault("phases", {}).setdefault("stateful", {})["max-steps"] = FUZZ_STATEFUL_STEPS
    return Config.from_dict(data)


# ---------------------------------------------------------------- signing what is really sent


class SinchSigner(requests.auth.AuthBase):
    """Signs a prepared ``requests`` request as the Sinch ``Application`` scheme.

    It runs when the request is final: over the body bytes, the Content-Type header and the
    percent-encoded path exactly as they go on the wire (loopback or ASGI), so a request the
    server refuses with 401 is a server or test bug, never a signature over different bytes.
    Schemathesis attaches it to every generated case; its ``ignored_auth`` probes are sent
    without it.
    """

    def __init__(self, key: str = KEY, secret: str = SECRET) -> None:
        self.key = key
        self._secret = decode_secret(secret)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        assert isinstance(body, bytes), f"cannot sign a streamed body: {type(body)!r}"
        path = urlsplit(request.path_url).path
        timestamp = utc_timestamp(datetime.now(timezone.utc))
        content_type = request.headers.get("Content-Type", "")
        if isinstance(content_type, bytes):
            content_type = content_type.decode("latin-1")
        to_sign = string_to_sign(request.method or "", content_md5(body), content_type, timestamp, path)
        request.headers["x-timestamp"] = timestamp
        request.headers["Authorization"] = f"Application {self.key}:{compute_signature(self._secret, to_sign)}"
        return request

    def __repr__(self) -> str:
        return f"SinchSigner(key={self.key!r})"


# ---------------------------------------------------------------- the server under test


def fixtures_dir(tmp: Path) -> Path:
    """The packaged fixtures, with calls answered at once, so conferences have participants to manage."""
    calls = yaml.safe_load((PACKAGED_DATA / "calls.yaml").read_text(encoding="utf-8"))
    calls["ring_seconds"] = 0
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "calls.yaml").write_text(yaml.safe_dump(calls), encoding="utf-8")
    return tmp


def _no_callback_network(request: httpx.Request) -> httpx.Response:
    # Fuzzed callback URLs (updateCallbacks, a custom callout's `pie`) must not reach the network.
    return httpx.Response(200)


def in_process_app(fixtures: Path, **options: Any) -> Pipeline:
    """The recorded server as an ASGI app; it does not check its own answers (the tests do).

    Callback events it would send go to a local stub that acknowledges them.
    """
    options.setdefault("callback_transport", httpx.MockTransport(_no_callback_network))
    return create_app(spec=SPEC, applications={KEY: SECRET}, fixtures=fixtures, **options)


class IdQueue:
    """A server's call-id factory: the ids a test asked for, in order, then random ones."""

    def __init__(self) -> None:
        self.pending: collections.deque[str] = collections.deque()
        self.lock = threading.Lock()

    def __call__(self) -> str:
        with self.lock:
            return self.pending.popleft() if self.pending else uuid.uuid4().hex

    def push(self, call_id: str) -> None:
        with self.lock:
            self.pending.append(call_id)


def seed_spec_examples(schema: Any, ids: IdQueue | None = None) -> None:
    """Make the resources the spec's examples name exist: conference ``myConference`` with call ``4398...``.

    Without them the examples phase would only ever meet 404s. The call gets the example's id
    where the server's id factory can be told (in process); over loopback only the conference
    is the example's. Seeding again resets them (an earlier example may have hung up).
    """
    parameters = spec_document()["components"]["parameters"]
    if ids is not None:
        ids.push(str(parameters["CallId"]["example"]))
    destination = {"type": "number", "endpoint": "+46700000008"}
    body = {
        "method": "conferenceCallout",
        "conferenceCallout": {"destination": destination, "conferenceId": str(parameters["ConferenceId"]["example"])},
    }
    case = schema["/callouts"]["POST"].Case(body=body, media_type="application/json")
    response = case.call(auth=SinchSigner())
    assert response.status_code == 200, f"seeding the spec's examples failed: {response.status_code} {response.text}"


def live_server(fixtures: Path, *extra: str, port: int | None = None) -> ServerProcess:
    """``sinch-calling-server`` in a subprocess with the contract tests' application and fixtures."""
    return ServerProcess(
        "--app",
        f"{KEY}:{SECRET}",
        "--fixtures",
        str(fixtures),
        # A fuzzed callback URL may be delivered to; the server gives up on it quickly.
        "--callback-timeout",
        "0.5",
        *extra,
        port=port,
    )


def operation_label(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def spec_document() -> Mapping[str, Any]:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


@schemathesis.check
def signed_requests_pass_authentication(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A request SinchSigner signed must get past authentication (no 401/403).

    Without this, a signature over the wrong bytes would hide behind the 401 that several
    checks accept, and the server's behaviour past authentication would go untested.
    """
    authorization = response.request.headers.get("Authorization", "")
    if response.status_code in (401, 403) and authorization.startswith(f"Application {KEY}:"):
        raise AssertionError(
            f"a request signed with the test application was refused with {response.status_code}: {response.text[:200]}"
        )
    return None


# ---------------------------------------------------------------- comparing JSON as the client sees it


def same_json(left: Any, right: Any) -> bool:
    """Equal JSON, where two date-time strings of the same instant (``Z`` vs ``+00:00``) count as equal,
    and so do ``600`` and ``600.0`` (one JSON number; a bool is never a number)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same_json(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, str) and isinstance(right, str) and left != right:
        try:
            return parse_datetime(left, "") == parse_datetime(right, "")
        except ValueError:
            return False
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers) and not isinstance(left, bool):
        return not isinstance(right, bool) and left == right
    return type(left) is type(right) and left == right
