"""``create_app``: assemble spec, applications, store and backend into one ASGI app."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from .auth import DEFAULT_MAX_SKEW, Application, Authenticator, demo_application
from .callflow import CallFlow
from .delivery import ANY_HOST, DEFAULT_TIMEOUT, LOOPBACK, CallbackDispatcher, JobQueue, SimulatedClock
from .pipeline import DEFAULT_MAX_BODY, Backend, Pipeline
from .simulation import Simulation, load_fixtures
from .spec import CompiledSpec, compile_spec, load_spec
from .store import Store, open_store

__all__ = ["Mode", "create_app"]

log = logging.getLogger("sinch_calling_server")

Mode = Literal["simulate", "replay", "record"]


def _applications(applications: Iterable[Application] | Mapping[str, str] | None) -> list[Application]:
    if applications is None:
        return []
    if isinstance(applications, Mapping):
        return [Application(k, v) for k, v in applications.items()]
    return list(applications)


def create_app(
    *,
    spec: str | Path | Mapping[str, Any] | None = None,
    applications: Iterable[Application] | Mapping[str, str] | None = None,
    store: Store | None = None,
    state: str | Path | None = None,
    mode: Mode = "simulate",
    recordings: str | Path | None = None,
    fallback: Literal["error", "simulate"] = "error",
    upstream: str | None = None,
    upstream_application: Application | None = None,
    upstream_basic: bool = False,
    fixtures: str | Path | None = None,
    clock: Callable[[], float] | None = None,
    id_factory: Callable[[], str] | None = None,
    max_skew: float = DEFAULT_MAX_SKEW,
    replay_guard: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
    validate_responses: bool = False,
    callback_timeout: float = DEFAULT_TIMEOUT,
    test_controls: bool = False,
    deliver_in_background: bool | None = None,
    callback_transport: Any = None,
    callback_hosts: Iterable[str] | None = None,
) -> Pipeline:
    """Build the server as an ASGI application.

    spec: the OpenAPI document (path or mapping); default: ``sinch_calling/openapi.yaml``.
    applications: the credentials accepted (key -> base64 secret, or ``Application`` objects);
        when empty, a demo application is created (and kept in the store) and logged.
    store / state: a ``Store`` object, or a SQLite file path; default in memory.
    mode: ``simulate`` (default), ``replay`` (answer from ``recordings``, by default the packaged
        recordings of the seed's examples; unmatched requests get
        an error, or go to the simulation with ``fallback="simulate"``), or ``record`` (forward
        to ``upstream`` re-signed with ``upstream_application``, save to ``recordings``).
    fixtures: a folder whose numbers.yaml / rates.yaml / calls.yaml replace the packaged ones.
    clock: epoch seconds, for the simulation and the timestamp check (default ``time.time``).
    replay_guard: refuse a signed request sent again unchanged within the allowed skew (Sinch's
        protocol allows it; see ``auth.Authenticator``).
    validate_responses: check every response against the spec; a violation becomes a 500
        and is listed in ``app.violations`` (for tests); so is a callback event that breaks
        the spec's webhook schemas.
    callback_timeout: seconds a callback URL has to answer before the fallback URL is tried.
    test_controls: enable ``POST /_sinch/advance?seconds=N`` (move the simulation's clock
        forward and deliver everything due), ``GET``/``DELETE /_sinch/deliveries`` and
        ``/_sinch/faults`` (fault injection, ``faults.py``; also ``app.faults``), for callers
        with an application's credentials; without it every ``/_sinch/...`` path is a 404.
        ``app.callbacks.advance()`` works regardless.
    deliver_in_background: poll for due callbacks in a background task; default: on with the
        real clock, off with an injected ``clock`` (tests flush with ``app.callbacks``).
    callback_transport: an ``httpx.AsyncBaseTransport`` for callback delivery (tests).
    callback_hosts: the hosts callbacks may be sent to: names, addresses, ``"loopback"`` or ``"*"``;
        default loopback only (any host when a ``callback_transport`` stands in for the network).
    """
    compiled = _compiled(spec) if spec is None or isinstance(spec, (str, Path)) else compile_spec(load_spec(spec))
    now = clock or time.time
    simulated = SimulatedClock(now)  # the simulation's time; /_sinch/advance moves it forward
    the_store = store if store is not None else open_store(state)
    apps = _applications(applications)
    demo = None
    if not apps:
        demo = _demo_application(the_store)
        apps = [demo]
    authenticator = Authenticator(apps, now, max_skew, replay_guard)
    backend: Backend
    simulation: Simulation | None = None
    if mode == "simulate" or (mode == "replay" and fallback == "simulate"):
        simulation = Simulation(the_store, load_fixtures(fixtures), simulated, [a.key for a in apps], id_factory)
    if mode == "simulate":
        assert simulation is not None
        backend = simulation
    elif mode == "replay":
        from .recordings import Replayer, packaged_recordings

        folder = recordings if recordings is not None else packaged_recordings()
        backend = Replayer.from_directory(folder, compiled, fallback=simulation)
    elif mode == "record":
        from .recordings import Recorder

        if recordings is None or upstream is None or upstream_application is None:
            raise ValueError("record mode needs recordings, upstream and upstream_application")
        backend = Recorder(
            recordings,
            upstream,
            upstream_application,
            compiled,
            basic=upstream_basic,
            local_secrets=[a.secret for a in apps],
        )
    else:
        raise ValueError(f"unknown mode {mode!r}")
    app = Pipeline(
        compiled,
        authenticator,
        backend,
        max_body=max_body,
        validate_responses=validate_responses,
        on_shutdown=the_store.close,
    )
    app.demo_application = demo
    delivery_transport = callback_transport
    if test_controls:
        from .faults import Faults, FaultyTransport

        app.faults = Faults(compiled.operations, {a.key: a.secret for a in apps})
        delivery_transport = FaultyTransport(callback_transport, app.faults)
    jobs = JobQueue(the_store)
    flow = None
    if simulation is not None:
        flow = CallFlow(simulation, jobs, compiled.schemas)
        simulation.flow = flow
    app.callbacks = CallbackDispatcher(
        the_store,
        jobs,
        flow,
        {a.key: a.secret_bytes for a in apps},
        simulated,
        timeout=callback_timeout,
        test_controls=test_controls,
        background=clock is None if deliver_in_background is None else deliver_in_background,
        schemas=compiled.schemas,
        violations=app.violations if validate_responses else None,
        transport=delivery_transport,
        allowed_hosts=_callback_hosts(callback_hosts, callback_transport),
    )
    jobs.refresh()  # jobs a --state file kept
    return app


@functools.lru_cache(maxsize=4)
def _compiled(spec: str | Path | None) -> CompiledSpec:
    """A spec file compiled once per process: read-only, so every application can share it.

    Compiling takes about half a second; a test suite builds an application per test.
    """
    return compile_spec(load_spec(spec))


def _callback_hosts(hosts: Iterable[str] | None, transport: Any) -> frozenset[str]:
    if hosts is not None:
        return frozenset(host.lower() for host in hosts)
    return frozenset({ANY_HOST}) if transport is not None else frozenset({LOOPBACK})


def _demo_application(store: Store) -> Application:
    """The demo application of this store: created once, so a --state file keeps it."""
    with store.transaction():
        saved = store.get("meta", "demo-application")
        if saved is not None:
            app = Application(str(saved["key"]), str(saved["secret"]))
        else:
            app = demo_application()
            store.put("meta", "demo-application", {"key": app.key, "secret": app.secret})
    return app
