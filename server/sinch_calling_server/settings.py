"""The server's options, each spelled once: name, default, command-line flag and help.

``Settings`` is what the ``sinch-calling-server`` command (flags, ``--config`` file, environment),
``create_app(...)`` and the worker processes all fill. Only the standard library here: the
command's ``--help`` must work without the ``[server]`` extra.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_CALLBACK_TIMEOUT",
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_SKEW",
    "Application",
    "Settings",
    "add_arguments",
    "parse_app_option",
    "parse_port",
]

DEFAULT_MAX_SKEW = 15 * 60.0  # seconds an x-timestamp may be off the server's clock
DEFAULT_MAX_BODY = 256 * 1024  # bytes
DEFAULT_CALLBACK_TIMEOUT = 5.0  # seconds


@dataclass(frozen=True)
class Application:
    key: str
    secret: str = field(repr=False)  # base64, as the dashboard shows it; never in a repr or a log

    @property
    def secret_bytes(self) -> bytes:
        from sinch_calling._runtime.signing import decode_secret  # the client's rules for secrets

        return decode_secret(self.secret)


def parse_app_option(value: str) -> Application:
    """``KEY:SECRET`` from the command line or a config file; the secret must be base64."""
    key, sep, secret = value.partition(":")
    if not sep or not key.strip() or not secret.strip():
        raise ValueError("expected KEY:SECRET")
    app = Application(key.strip(), secret.strip())
    app.secret_bytes  # noqa: B018 - raises ValueError without echoing the secret
    return app


def parse_port(text: str) -> int:
    """A TCP port, 0 to 65535 (0 picks a free one); an argparse type."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected a number from 0 to 65535") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is out of range: expected 0 to 65535 (0 picks a free one)")
    return value


def _meta(
    help: str,
    *,
    flag: str | None = None,
    parse: Callable[[str], Any] | None = None,
    choices: tuple[str, ...] | None = None,
    metavar: str | None = None,
    config: str | None = None,
) -> dict[str, Any]:
    """What a field of ``Settings`` needs for its flag and its config-file key.

    ``parse`` reads a flag's text (and a config value); booleans are ``store_true`` flags;
    ``flag`` and ``config`` name a flag and a config key other than the field's name.
    """
    return {"help": help, "flag": flag, "parse": parse, "choices": choices, "metavar": metavar, "config": config}


def _application(item: Any) -> Application:
    if isinstance(item, Application):
        return item
    if isinstance(item, Mapping):
        return parse_app_option(f"{item.get('key', '')}:{item.get('secret', '')}")
    return parse_app_option(str(item))


@dataclass(frozen=True)
class Settings:
    """Every option of the server. Flags are ``--`` plus the name with dashes unless ``flag`` says."""

    host: str = field(default="127.0.0.1", metadata=_meta("interface to listen on (default 127.0.0.1)"))
    port: int = field(default=8080, metadata=_meta("port (default 8080; 0 picks a free one)", parse=parse_port))
    spec: str | Path | Mapping[str, Any] | None = field(
        default=None, metadata=_meta("OpenAPI document (default: the copy inside the sinch_calling package)")
    )
    applications: tuple[Application, ...] = field(
        default=(), metadata=_meta("accepted application (repeatable)", flag="--app", metavar="KEY:SECRET")
    )
    state: str | Path | None = field(default=None, metadata=_meta("SQLite file for the state (default: in memory)"))
    mode: str = field(
        default="simulate",
        metadata=_meta("simulate (default), replay or record", choices=("simulate", "replay", "record")),
    )
    recordings: str | Path | None = field(default=None, metadata=_meta("folder of YAML cassettes (replay, record)"))
    fallback: str = field(
        default="error", metadata=_meta("replay: unmatched requests (default error)", choices=("error", "simulate"))
    )
    upstream: str | None = field(default=None, metadata=_meta("record: base URL of the real API"))
    upstream_application: Application | None = field(
        default=None,
        metadata=_meta(
            "record: credentials for the upstream", flag="--upstream-app", metavar="KEY:SECRET", config="upstream_app"
        ),
    )
    upstream_basic: bool = field(default=False, metadata=_meta("record: use Basic upstream"))
    fixtures: str | Path | None = field(
        default=None, metadata=_meta("folder overriding numbers.yaml / rates.yaml / calls.yaml")
    )
    max_skew: float = field(
        default=DEFAULT_MAX_SKEW, metadata=_meta(f"seconds (default {DEFAULT_MAX_SKEW:.0f})", parse=float)
    )
    max_body: int = field(default=DEFAULT_MAX_BODY, metadata=_meta(f"bytes (default {DEFAULT_MAX_BODY})", parse=int))
    replay_guard: bool = field(default=False, metadata=_meta("refuse a signed request sent twice"))
    validate_responses: bool = field(
        default=False, metadata=_meta("check every response against the spec (a violation is a 500)")
    )
    callback_timeout: float = field(
        default=DEFAULT_CALLBACK_TIMEOUT,
        metadata=_meta(f"seconds a callback URL may take (default {DEFAULT_CALLBACK_TIMEOUT:g})", parse=float),
    )
    test_controls: bool = field(
        default=False,
        metadata=_meta("enable /_sinch/advance?seconds=N and /_sinch/deliveries (for the applications' credentials)"),
    )
    callback_hosts: tuple[str, ...] | None = field(
        default=None,
        metadata=_meta(
            "a host callbacks may be sent to (repeatable; 'loopback' is the default, '*' allows any)",
            flag="--callback-host",
            metavar="HOST",
            config="callback_host",
        ),
    )
    server: str = field(
        default="granian", metadata=_meta("HTTP server (default granian)", choices=("granian", "uvicorn"))
    )
    workers: int = field(default=1, metadata=_meta("worker processes (needs --state when > 1)", parse=int))
    log_level: str = field(default="warning", metadata=_meta("debug, info, warning (default), error"))

    def replace(self, **options: Any) -> Settings:
        """A copy with ``options`` changed (names as the fields; TypeError for an unknown one)."""
        unknown = set(options) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown server option(s): {', '.join(sorted(unknown))}")
        # Credentials are read here, not by argparse, whose error would echo the secret.
        if "applications" in options:
            options["applications"] = _applications(options["applications"])
        if options.get("upstream_application") is not None:
            options["upstream_application"] = _application(options["upstream_application"])
        if options.get("callback_hosts") is not None:
            options["callback_hosts"] = tuple(options["callback_hosts"])
        return dataclasses.replace(self, **options)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, base: Settings | None = None) -> Settings:
        """Settings from a config file or the workers' JSON: keys are field names or long flags.

        Values are checked like their flags' text; an unknown key or a bad value is a ValueError.
        """
        options: dict[str, Any] = {}
        for raw_key, value in data.items():
            name = _CONFIG_NAMES.get(str(raw_key).replace("-", "_"))
            if name is None:
                raise ValueError(f"unknown option {raw_key!r} in the settings")
            options[name] = _read(_FIELDS[name], value)
        return (base or cls()).replace(**options)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (for the worker processes; secrets included: it stays in the environment)."""
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Application):
                value = {"key": value.key, "secret": value.secret}
            elif item.name == "applications":
                value = [{"key": app.key, "secret": app.secret} for app in value]
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Path):
                value = str(value)
            data[item.name] = value
        return data


_FIELDS = {item.name: item for item in fields(Settings)}
# Config-file keys: the field's name, its flag's name, and any name ``config`` gives.
_CONFIG_NAMES: dict[str, str] = {}
for _item in fields(Settings):
    _CONFIG_NAMES[_item.name] = _item.name
    if _item.metadata["flag"]:
        _CONFIG_NAMES[_item.metadata["flag"].lstrip("-").replace("-", "_")] = _item.name
    if _item.metadata["config"]:
        _CONFIG_NAMES[_item.metadata["config"]] = _item.name


def _applications(value: Iterable[Any] | Mapping[str, str] | None) -> tuple[Application, ...]:
    """Applications given as ``Application`` objects, ``{key: secret}``, ``{key, secret}`` items or ``KEY:SECRET``."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple(Application(str(key), str(secret)) for key, secret in value.items())
    return tuple(_application(item) for item in value)


def _read(item: dataclasses.Field[Any], value: Any) -> Any:
    """A config value, checked as the flag's text would be."""
    if value is None or item.name == "upstream_application":
        return value  # checked by Settings.replace
    if item.name in ("applications", "callback_hosts") and isinstance(value, str):
        return [value]  # one, not its characters
    if item.name == "applications":
        return value
    if item.name == "callback_hosts":
        return [str(host) for host in value]
    if isinstance(item.default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{item.name} must be true or false")
        return value
    parse = item.metadata["parse"]
    try:
        text = str(value)
        if item.metadata["choices"] and text not in item.metadata["choices"]:
            raise ValueError(f"expected one of {', '.join(item.metadata['choices'])}")
        return parse(text) if parse is not None else text
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise ValueError(f"{item.name}: {exc}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting; every default is None, so that an absent flag leaves the config's value."""
    for item in fields(Settings):
        meta = item.metadata
        flag = meta["flag"] or "--" + item.name.replace("_", "-")
        options: dict[str, Any] = {"dest": item.name, "default": None, "help": meta["help"]}
        if isinstance(item.default, bool):
            options["action"] = "store_true"
        else:
            if item.name in ("applications", "callback_hosts"):
                options["action"] = "append"
            if meta["parse"] is not None:
                options["type"] = meta["parse"]
            if meta["choices"]:
                options["choices"] = meta["choices"]
            if meta["metavar"]:
                options["metavar"] = meta["metavar"]
        parser.add_argument(flag, **options)
