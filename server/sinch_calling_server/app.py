"""``create_app``: assemble spec, applications, store and backend into one ASGI app."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .auth import Authenticator, demo_application
from .clock import Clock, SimulatedClock
from .delivery import ANY_HOST, LOOPBACK, CallbackDispatcher
from .jobs import JobQueue
from .messages import Backend
from .pipeline import Pipeline
from .settings import Application, Settings
from .simulation import Simulation, load_fixtures
from .spec import CompiledSpec, compile_spec, load_spec
from .store import Store, open_store

__all__ = ["create_app"]

log = logging.getLogger("sinch_calling_server")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    id_factory: Callable[[], str] | None = None,
    callback_transport: Any = None,
    **options: Any,
) -> Pipeline:
    """Build the server as an ASGI application, wired once, here.

    settings: every option (``settings.Settings``: the command's flags, its config file);
        ``options`` change single ones by name, e.g. ``create_app(applications={key: secret},
        test_controls=True)``. The main ones:

        spec: the OpenAPI document (path or mapping); default: ``sinch_calling/openapi.yaml``.
        applications: the credentials accepted (key -> base64 secret, or ``Application`` objects);
            when empty, a demo application is created (and kept in the store) and logged.
        state: a SQLite file path; default in memory.
        mode: ``simulate`` (default), ``replay`` (answer from ``recordings``, by default the packaged
            recordings of the seed's examples; unmatched requests get an error, or go to the
            simulation with ``fallback="simulate"``), or ``record`` (forward to ``upstream``
            re-signed with ``upstream_application``, save to ``recordings``).
        fixtures: a folder whose numbers.yaml / rates.yaml / calls.yaml replace the packaged ones.
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
        callback_hosts: the hosts callbacks may be sent to: names, addresses, ``"loopback"`` or
            ``"*"``; default loopback only (any host when a ``callback_transport`` stands in for
            the network).

    clock: epoch seconds, for the simulation and the timestamp check (default ``time.time``). With
        it, callbacks are delivered only when a test asks (``app.callbacks``); on the real clock a
        background task delivers them.
    id_factory: new call ids (tests).
    callback_transport: an ``httpx.AsyncBaseTransport`` for callback delivery (tests).
    """
    settings = (settings or Settings()).replace(**options)
    spec = settings.spec
    compiled = _compiled(spec) if spec is None or isinstance(spec, (str, Path)) else compile_spec(load_spec(spec))
    now = clock or time.time
    simulated = SimulatedClock(now)  # the simulation's time; /_sinch/advance moves it forward
    store = open_store(settings.state)
    apps = list(settings.applications)
    demo = None
    if not apps:
        demo = _demo_application(store)
        apps = [demo]
    jobs = JobQueue(store)
    simulation: Simulation | None = None
    if settings.mode == "simulate" or (settings.mode == "replay" and settings.fallback == "simulate"):
        fixtures = load_fixtures(settings.fixtures)
        keys = [a.key for a in apps]
        simulation = Simulation(store, fixtures, simulated, keys, id_factory, jobs=jobs, schemas=compiled.schemas)
    backend = _backend(settings, compiled, simulation, apps)
    violations: list[str] = []
    faults = None
    delivery_transport = callback_transport
    if settings.test_controls:
        from .faults import Faults, FaultyTransport

        faults = Faults(compiled.operations, {a.key: a.secret for a in apps})
        delivery_transport = FaultyTransport(callback_transport, faults)
    callbacks = CallbackDispatcher(
        store,
        jobs,
        simulation,
        {a.key: a.secret_bytes for a in apps},
        simulated,
        timeout=settings.callback_timeout,
        test_controls=settings.test_controls,
        background=clock is None,
        schemas=compiled.schemas,
        violations=violations if settings.validate_responses else None,
        transport=delivery_transport,
        allowed_hosts=_callback_hosts(settings.callback_hosts, callback_transport),
    )
    app = Pipeline(
        compiled,
        Authenticator(apps, now, settings.max_skew, settings.replay_guard),
        backend,
        max_body=settings.max_body,
        validate_responses=settings.validate_responses,
        violations=violations,
        callbacks=callbacks,
        faults=faults,
        demo_application=demo,
        on_shutdown=store.close,
    )
    jobs.refresh()  # jobs a --state file kept
    return app


def _backend(
    settings: Settings, compiled: CompiledSpec, simulation: Simulation | None, apps: list[Application]
) -> Backend:
    """What answers valid requests in this mode."""
    if settings.mode == "simulate":
        assert simulation is not None
        return simulation
    if settings.mode == "replay":
        from .recordings import Replayer, packaged_recordings

        folder = settings.recordings if settings.recordings is not None else packaged_recordings()
        return Replayer.from_directory(folder, compiled, fallback=simulation)
    if settings.mode == "record":
        from .recordings import Recorder

        upstream, account = settings.upstream, settings.upstream_application
        if settings.recordings is None or upstream is None or account is None:
            raise ValueError("record mode needs recordings, upstream and upstream_application")
        return Recorder(
            settings.recordings,
            upstream,
            account,
            compiled,
            basic=settings.upstream_basic,
            local_secrets=[a.secret for a in apps],
        )
    raise ValueError(f"unknown mode {settings.mode!r}")


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
