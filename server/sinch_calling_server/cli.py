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
from typing import TYPE_CHECKING, Any

# Only the standard library up here: ``--help`` works, and a missing ``[server]`` extra is named,
# before any of the server's dependencies is imported.
if TYPE_CHECKING:
    from .pipeline import Pipeline

__all__ = ["app_from_env", "build_parser", "main"]

# Settings travel to worker processes (several workers, or granian) through this variable.
CONFIG_ENV = "SINCH_CALLING_SERVER_SETTINGS"

# The defaults of auth.DEFAULT_MAX_SKEW, pipeline.DEFAULT_MAX_BODY and delivery.DEFAULT_TIMEOUT,
# repeated so that --help needs none of the server's dependencies (a test keeps them equal).
DEFAULT_MAX_SKEW = 15 * 60.0
DEFAULT_MAX_BODY = 256 * 1024
DEFAULT_CALLBACK_TIMEOUT = 5.0
DEFAULT_PORT = 8080

EXTRA_HINT = 'the recorded server needs the [server] extra: pip install "sinch-calling[server]"'


def _port(text: str) -> int:
    """An argparse type: a TCP port, 0 to 65535 (0 picks a free one)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected a number from 0 to 65535") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is out of range: expected 0 to 65535 (0 picks a free one)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sinch-calling-server",
        description="A spec-driven stand-in server for the Sinch Calling API v1.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples::", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--host", default=None, help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=None, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--spec", help="OpenAPI document (default: the copy inside the sinch_calling package)")
    parser.add_argument("--app", action="append", default=[], metavar="KEY:SECRET", help="accepted application")
    parser.add_argument("--config", help="YAML/JSON file: applications, and any option below by its long name")
    parser.add_argument("--state", help="SQLite file for the state (default: in memory)")
    parser.add_argument("--mode", choices=["simulate", "replay", "record"], default=None)
    parser.add_argument("--recordings", help="folder of YAML cassettes (replay, record)")
    parser.add_argument("--fallback", choices=["error", "simulate"], default=None, help="replay: unmatched requests")
    parser.add_argument("--upstream", help="record: base URL of the real API")
    parser.add_argument("--upstream-app", metavar="KEY:SECRET", help="record: credentials for the upstream")
    parser.add_argument("--upstream-basic", action="store_true", default=None, help="record: use Basic upstream")
    parser.add_argument("--fixtures", help="folder overriding numbers.yaml / rates.yaml / calls.yaml")
    parser.add_argument("--max-skew", type=float, default=None, help=f"seconds (default {DEFAULT_MAX_SKEW:.0f})")
    parser.add_argument("--max-body", type=int, default=None, help=f"bytes (default {DEFAULT_MAX_BODY})")
    parser.add_argument("--replay-guard", action="store_true", default=None, help="refuse a signed request sent twice")
    parser.add_argument("--server", choices=["granian", "uvicorn"], default=None, help="HTTP server (default granian)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (needs --state when > 1)")
    parser.add_argument("--log-level", default=None, help="debug, info, warning (default), error")
    parser.add_argument(
        "--callback-timeout", type=float, default=None, help="seconds a callback URL may take (default 5)"
    )
    parser.add_argument(
        "--test-controls",
        action="store_true",
        default=None,
        help="enable /_sinch/advance?seconds=N and /_sinch/deliveries (for the applications' credentials)",
    )
    parser.add_argument(
        "--callback-host",
        action="append",
        default=None,
        dest="callback_hosts",
        metavar="HOST",
        help="a host callbacks may be sent to (repeatable; 'loopback' is the default, '*' allows any)",
    )
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """Merge config file < environment < command line into plain JSON-able settings."""
    import yaml

    from .auth import parse_app_option

    settings: dict[str, Any] = {}
    if args.config:
        text = Path(args.config).read_text(encoding="utf-8")
        loaded = yaml.safe_load(text) or {}
        if not isinstance(loaded, dict):
            raise ValueError("the config file must be a mapping")
        settings.update({str(k).replace("-", "_"): v for k, v in loaded.items()})
    apps: list[dict[str, str]] = []
    for item in settings.pop("applications", None) or []:
        app = parse_app_option(f"{item['key']}:{item['secret']}") if isinstance(item, dict) else parse_app_option(item)
        apps.append({"key": app.key, "secret": app.secret})
    env_key, env_secret = os.environ.get("SINCH_APPLICATION_KEY"), os.environ.get("SINCH_APPLICATION_SECRET")
    if env_key and env_secret:
        app = parse_app_option(f"{env_key}:{env_secret}")
        apps.append({"key": app.key, "secret": app.secret})
    for value in args.app:
        app = parse_app_option(value)
        apps.append({"key": app.key, "secret": app.secret})
    settings["applications"] = apps
    for name in (
        "host", "port", "spec", "state", "mode", "recordings", "fallback", "upstream", "upstream_app",
        "upstream_basic", "fixtures", "max_skew", "max_body", "replay_guard", "server", "workers", "log_level",
        "callback_timeout", "test_controls", "callback_hosts",
    ):  # fmt: skip
        value = getattr(args, name)
        if value is not None:
            settings[name] = value
    if settings.get("upstream_app"):
        app = parse_app_option(str(settings["upstream_app"]))
        settings["upstream_app"] = {"key": app.key, "secret": app.secret}
    if "port" in settings:
        try:
            settings["port"] = _port(str(settings["port"]))
        except argparse.ArgumentTypeError as exc:
            raise ValueError(str(exc)) from None
    return settings


def _app_from_settings(settings: dict[str, Any]) -> Pipeline:
    from .app import create_app
    from .auth import Application

    upstream = settings.get("upstream_app")
    return create_app(
        spec=settings.get("spec"),
        applications=[Application(a["key"], a["secret"]) for a in settings.get("applications", [])],
        state=settings.get("state"),
        mode=settings.get("mode", "simulate"),
        recordings=settings.get("recordings"),
        fallback=settings.get("fallback", "error"),
        upstream=settings.get("upstream"),
        upstream_application=Application(upstream["key"], upstream["secret"]) if upstream else None,
        upstream_basic=bool(settings.get("upstream_basic", False)),
        fixtures=settings.get("fixtures"),
        max_skew=float(settings.get("max_skew", DEFAULT_MAX_SKEW)),
        replay_guard=bool(settings.get("replay_guard", False)),
        max_body=int(settings.get("max_body", DEFAULT_MAX_BODY)),
        callback_timeout=float(settings.get("callback_timeout", DEFAULT_CALLBACK_TIMEOUT)),
        test_controls=bool(settings.get("test_controls", False)),
        callback_hosts=settings.get("callback_hosts"),
    )


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
    settings = json.loads(os.environ.get(CONFIG_ENV, "{}"))
    _configure_logging(str(settings.get("log_level", "warning")))
    exit_with_parent()
    return _app_from_settings(settings)


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

    from .spec import SpecError

    try:
        settings = _settings(args)
        workers = int(settings.get("workers", 1))
        if workers > 1 and not settings.get("state"):
            raise ValueError("--workers > 1 needs --state FILE: workers share their state through it")
        host = str(settings.get("host", "127.0.0.1"))
        # Refuse a port another server holds before anything else (granian shares ports through
        # SO_REUSEPORT: a second server would silently take half the connections); 0: pick one now.
        port = claim_port(host, int(settings.get("port", DEFAULT_PORT)))
        # Build once here: refuses a bad spec or settings before any worker starts, and makes
        # (and stores) the demo application so that every worker agrees on it.
        app = _app_from_settings(settings)
    except (ValueError, OSError, SpecError, yaml.YAMLError) as exc:
        print(f"sinch-calling-server: {exc}", file=sys.stderr)
        return 2
    if app.demo_application is not None:
        demo = app.demo_application
        print("No application configured; created a demo application:", flush=True)
        print(f"  SINCH_APPLICATION_KEY={demo.key}", flush=True)
        print(f"  SINCH_APPLICATION_SECRET={demo.secret}", flush=True)
        settings["applications"] = [{"key": demo.key, "secret": demo.secret}]
    settings["port"] = port
    level = str(settings.get("log_level", "warning")).lower()
    _configure_logging(level)
    server = settings.get("server", "granian")
    print(startup_line(settings, host, port), flush=True)
    if workers == 1 and server == "uvicorn":
        import uvicorn

        uvicorn.run(app, host=host, port=port, log_level=level, access_log=level == "debug")
        return 0
    app.close()
    os.environ[CONFIG_ENV] = json.dumps(settings)
    if server == "uvicorn":
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


def startup_line(settings: dict[str, Any], host: str, port: int) -> str:
    """One line for the console: where, for which application keys (never a secret), how."""
    keys = ", ".join(str(a["key"]) for a in settings.get("applications", [])) or "none"
    mode = str(settings.get("mode", "simulate"))
    if mode == "replay":
        recordings = settings.get("recordings") or "packaged recordings"
        mode += f" ({recordings}, fallback {settings.get('fallback', 'error')})"
    elif mode == "record":
        mode += f" (upstream {settings.get('upstream')}, to {settings.get('recordings')})"
    state = settings.get("state") or "in memory"
    extras = " test controls on;" if settings.get("test_controls") else ""
    return (
        f"sinch-calling-server: listening on {_url(host, port)}; application keys: {keys}; mode: {mode}; "
        f"state: {state};{extras} server: {settings.get('server', 'granian')} x{settings.get('workers', 1)}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
