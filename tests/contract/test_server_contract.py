"""The recorded server against its spec, as schemathesis sees it.

Every operation, every phase: examples, coverage and fuzzing (positive and negative data, each
case checked by every default check, ``ignored_auth`` included), then stateful sequences that
follow the spec's links. All of it twice: in process over ASGI, and against a real
``sinch-calling-server`` subprocess on a free loopback port.

Each generated case is signed by ``SinchSigner`` when ``requests`` has prepared it, i.e. over the
body, Content-Type and path that are really sent, so the server's behaviour past authentication
is what gets tested; ``signed_requests_pass_authentication`` (harness.py) fails any signed request
the server refuses. ``ignored_auth`` re-sends cases without credentials and with wrong ones.

Stateful runs start from a fresh server each (a new simulation in process, a restarted
subprocess over loopback): Hypothesis replays and shrinks runs, which only works when the same
choices meet the same server state.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.core.transport import Response
from sinch_calling_server.simulation import Simulation, load_fixtures
from sinch_calling_server.store import MemoryStore

from tests.support import KEY, Clock, ServerProcess, free_port

from .harness import (
    RUN,
    SPEC,
    IdQueue,
    SinchSigner,
    fixtures_dir,
    in_process_app,
    live_server,
    schemathesis_config,
    seed_spec_examples,
)

_TMP = Path(tempfile.mkdtemp(prefix="contract-fixtures-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
FIXTURES = fixtures_dir(_TMP)


def load_schema() -> Any:
    schema = schemathesis.openapi.from_path(SPEC, config=schemathesis_config())
    schema.auth.set_from_requests(SinchSigner())
    return schema


def stateful_settings(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        derandomize=not RUN.fuzz,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        stateful_step_count=schemathesis_config().projects.get_default().phases.stateful.max_steps,
    )


def counting(machine: type, suite: str) -> type:
    class Counting(machine):  # type: ignore[misc, valid-type]
        def after_call(self, response: Response, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            RUN.count(suite, case.operation.label)

    return Counting


# ---------------------------------------------------------------- in process (ASGI)

ASGI_IDS = IdQueue()
schema = load_schema()
schema.app = in_process_app(FIXTURES, id_factory=ASGI_IDS)
ASGI_SEEDED: set[str] = set()


def seed_once_per_operation(case: schemathesis.Case, seeded: set[str], ids: IdQueue | None) -> None:
    """Before an operation's first case (an example), (re)create the resources the examples name."""
    if case.operation.label not in seeded:
        seeded.add(case.operation.label)
        seed_spec_examples(case.operation.schema, ids)


@schema.parametrize()
def test_server_conforms_in_process(case: schemathesis.Case) -> None:
    RUN.count("server/asgi", case.operation.label)
    seed_once_per_operation(case, ASGI_SEEDED, ASGI_IDS)
    case.call_and_validate()


# A clock that stands still: a stateful run must meet the same server whenever it is replayed.
STATEFUL_CLOCK = Clock()
# The frozen clock drifts from the signer's real one; the timestamp check is tested elsewhere.
STATEFUL_APP = in_process_app(FIXTURES, clock=STATEFUL_CLOCK, max_skew=10.0**9)
stateful_schema = load_schema()
stateful_schema.app = STATEFUL_APP


class InProcessMachine(counting(stateful_schema.as_state_machine(), "server/asgi stateful")):  # type: ignore[misc]
    def setup(self) -> None:
        # A new simulation (empty store, packaged fixtures) for every run.
        STATEFUL_APP.backend = Simulation(MemoryStore(), load_fixtures(FIXTURES), STATEFUL_CLOCK, [KEY])


TestServerStatefulInProcess = InProcessMachine.TestCase
TestServerStatefulInProcess.settings = stateful_settings(RUN.stateful_examples)


# ---------------------------------------------------------------- a live sinch-calling-server over loopback

# The port is picked now, so that the schema knows its base URL when the tests are collected;
# the server runs only while the live tests do, and is always stopped.
LIVE_PORT = free_port()
live_schema = load_schema()
live_schema.config.update(base_url=f"http://127.0.0.1:{LIVE_PORT}/v1")


class Live:
    """The subprocess behind LIVE_PORT; restart() gives the stateful runs a fresh one each."""

    server: ServerProcess | None = None

    @classmethod
    def restart(cls) -> None:
        cls.stop()
        cls.server = live_server(FIXTURES, port=LIVE_PORT)

    @classmethod
    def stop(cls) -> None:
        if cls.server is not None:
            cls.server.stop()
            cls.server = None


@pytest.fixture(scope="module")
def live() -> Iterator[type[Live]]:
    Live.restart()
    try:
        yield Live
    finally:
        Live.stop()


LIVE_SEEDED: set[str] = set()


@live_schema.parametrize()
def test_server_conforms_over_loopback(case: schemathesis.Case, live: type[Live]) -> None:
    RUN.count("server/live", case.operation.label)
    seed_once_per_operation(case, LIVE_SEEDED, None)
    case.call_and_validate()


class LiveMachine(counting(live_schema.as_state_machine(), "server/live stateful")):  # type: ignore[misc]
    def setup(self) -> None:
        Live.restart()


def test_server_stateful_over_loopback(live: type[Live]) -> None:
    # Fewer runs than in process: each one starts a new server process (about a second).
    LiveMachine.run(settings=stateful_settings(max(RUN.stateful_examples // 3, 5)))
