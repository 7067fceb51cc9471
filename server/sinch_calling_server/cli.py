"""``sinch-calling-server``: run the stand-in Calling API server.

Examples::

    sinch-calling-server --spec spec/calling-api.yaml --app KEY:BASE64SECRET --port 8080
    sinch-calling-server --state state.db                  # survives restarts, even kill -9
    sinch-calling-server --mode replay --recordings DIR --fallback simulate
    sinch-calling-server --mode record --recordings DIR --upstream https://calling.api.sinch.com \\
        --upstream-app KEY:SECRET

Credentials come from ``--app`` (repeatable), a ``--config`` file (``applications: [{key,
secret}]``), or ``SINCH_APPLICATION_KEY``/``SINCH_APPLICATION_SECRET``; with none, a demo
application is created and its credentials are printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# Only the standard library up here: ``--help`` works, and a missing ``[server]`` extra is named,
# before any of the server's dependencies is imported.
from .settings import Settings, add_arguments, parse_app_option

if TYPE_CHECKING:
    from .pipeline import Pipeline

__all__ = ["app_from_env", "build_parser", "main"]

# Settings travel to worker processes (several workers, or granian) through this variable.
CONFIG_ENV = "SINCH_CALLING_SERVER_SETTINGS"

EXTRA_HINT = 'the recorded server needs the [server] extra: pip install "sinch-calling[server]"'


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sinch-calling-server",
        description="A spec-driven stand-in server for the Sinch Calling API v1.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples::", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--config", help="YAML/JSON file: applications, and any option below by its long name")
    add_arguments(parser)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """Config file < environment < command line; applications from all three."""
    settings = Settings()
    if args.config:
        import yaml

        loaded = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError("the config file must be a mapping")
        settings = Settings.from_mapping(loaded)
    apps = list(settings.applications)
    env_key, env_secret = os.environ.get("SINCH_APPLICATION_KEY"), os.environ.get("SINCH_APPLICATION_SECRET")
    if env_key and env_secret:
        apps.append(parse_app_option(f"{env_key}:{env_secret}"))
    apps.extend(args.applications or [])
    given = {name: value for name, value in vars(args).items() if value is not None and name != "config"}
    return settings.replace(**given | {"applications": apps})


def _configure_logging(level: str) -> None:
    """Show the server's own log (e.g. each callback delivery at ``info``) at ``--log-level``."""
    logger = logging.getLogger("sinch_calling_server")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(levelname)s] %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    value = logging.getLevelName(level.upper())  # the number of a known level name
    logger.setLevel(value if isinstance(value, int) else logging.WARNING)


def app_from_env() -> Pipeline:
    """ASGI factory for worker processes: settings come from ``SINCH_CALLING_SERVER_SETTINGS``."""
    from .app import create_app

    settings = Settings.from_mapping(json.loads(os.environ.get(CONFIG_ENV, "{}")))
    _configure_logging(settings.log_level)
    exit_with_parent()
    return create_app(settings)


def exit_with_parent(interval: float = 0.5) -> None:
    """End this worker when the process that started it is gone (``kill -9`` of the main process).

    Otherwise the orphan keeps serving, and shares the port with a restarted server (SO_REUSEPORT).
    A thread watches the parent's pid; SIGTERM lets the worker stop cleanly, a hard exit follows.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ImportError as exc:
        missing = f" (cannot import {exc.name})" if exc.name else ""
        print(f"sinch-calling-server: {EXTRA_HINT}{missing}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    import yaml

    from .app import create_app
    from .spec import SpecError

    try:
        settings = _settings(args)
        if settings.workers > 1 and not settings.state:
            raise ValueError("--workers > 1 needs --state FILE: workers share their state through it")
        # Refuse a port another server holds before anything else (granian shares ports through
        # SO_REUSEPORT: a second server would silently take half the connections); 0: pick one now.
        port = claim_port(settings.host, settings.port)
        # Build once here: refuses a bad spec or settings before any worker starts, and makes
        # (and stores) the demo application so that every worker agrees on it.
        app = create_app(settings)
    except (ValueError, OSError, SpecError, yaml.YAMLError) as exc:
        print(f"sinch-calling-server: {exc}", file=sys.stderr)
        return 2
    if app.demo_application is not None:
        demo = app.demo_application
        print("No application configured; created a demo application:", flush=True)
        print(f"  SINCH_APPLICATION_KEY={demo.key}", flush=True)
        print(f"  SINCH_APPLICATION_SECRET={demo.secret}", flush=True)
        settings = settings.replace(applications=[demo])
    settings = settings.replace(port=port)
    level = settings.log_level.lower()
    _configure_logging(level)
    host, workers = settings.host, settings.workers
    print(startup_line(settings), flush=True)
    if workers == 1 and settings.server == "uvicorn":
        import uvicorn

        uvicorn.run(app, host=host, port=port, log_level=level, access_log=level == "debug")
        return 0
    app.close()
    os.environ[CONFIG_ENV] = json.dumps(settings.to_json())
    if settings.server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "sinch_calling_server.cli:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=level,
            access_log=level == "debug",
        )
        return 0
    from granian.constants import Interfaces
    from granian.server import Server

    Server(
        "sinch_calling_server.cli:app_from_env",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        log_level=level,  # type: ignore[arg-type]
        log_access=level == "debug",
        respawn_failed_workers=True,  # one dead worker must not stop the others' server
    ).serve()
    return 0


def claim_port(host: str, port: int) -> int:
    """``port``, once it is known to be free on ``host`` (a free one for 0); OSError if it is taken.

    The probe binds like a server that does not share its port: SO_REUSEADDR (a connection of a
    previous run in TIME_WAIT does not count), never SO_REUSEPORT, so any listening socket on
    that port, SO_REUSEPORT or not, makes it fail. Another process may still take the port
    between this check and the server's own bind; that race is not covered.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {host!r}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        if os.name != "nt":  # on Windows SO_REUSEADDR would let the probe share a port in use
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            where = _url(host, port)
            raise OSError(
                f"cannot listen on {where}: {exc.strerror or exc} (is another server running on port {port}? "
                "stop it or pick another --port)"
            ) from None
        return int(probe.getsockname()[1])


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def startup_line(settings: Settings) -> str:
    """One line for the console: where, for which application keys (never a secret), how."""
    keys = ", ".join(app.key for app in settings.applications) or "none"
    mode = settings.mode
    if mode == "replay":
        mode += f" ({settings.recordings or 'packaged recordings'}, fallback {settings.fallback})"
    elif mode == "record":
        mode += f" (upstream {settings.upstream}, to {settings.recordings})"
    state = settings.state or "in memory"
    extras = " test controls on;" if settings.test_controls else ""
    return (
        f"sinch-calling-server: listening on {_url(settings.host, settings.port)}; application keys: {keys}; "
        f"mode: {mode}; state: {state};{extras} server: {settings.server} x{settings.workers}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
