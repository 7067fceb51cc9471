"""Where the command line finds credentials and the server: options, the environment, a profile.

Precedence, most specific first: ``--base-url``/``--local``/``--region``; then, for the key and
secret, the profile named with ``--profile`` (or ``SINCH_CALLING_PROFILE``); then the client's own
environment variables (``SINCH_APPLICATION_KEY``, ``SINCH_APPLICATION_SECRET``); then the profile
``default``. Profiles live in a TOML file (``SINCH_CALLING_CONFIG``, or
``~/.config/sinch-calling/config.toml``)::

    [profiles.default]
    application_key = "..."
    application_secret = "..."
    region = "euc1"           # optional
    base_url = "http://..."   # optional
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from .._runtime.base_client import KEY_ENV, SECRET_ENV

CONFIG_ENV = "SINCH_CALLING_CONFIG"
PROFILE_ENV = "SINCH_CALLING_PROFILE"
LOCAL_URL_ENV = "SINCH_CALLING_LOCAL_URL"
LOCAL_URL = "http://127.0.0.1:8080/v1"  # `sinch-calling-server`'s default port


class ConfigError(Exception):
    """The configuration cannot be used; the message says why and never holds a secret."""


@dataclass(frozen=True)
class Settings:
    application_key: str | None = None
    application_secret: str | None = None
    region: str | None = None
    base_url: str | None = None

    def __repr__(self) -> str:  # never the secret
        secret = "***" if self.application_secret else None
        return (
            f"Settings(application_key={self.application_key!r}, application_secret={secret!r}, "
            f"region={self.region!r}, base_url={self.base_url!r})"
        )


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or Path.home() / ".config" / "sinch-calling" / "config.toml")


def _profile(name: str, required: bool) -> Settings:
    path = config_path()
    if not path.exists():
        if required:
            raise ConfigError(f"profile {name!r} asked for, but there is no config file at {path}")
        return Settings()
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    profile = data.get("profiles", {}).get(name)
    if profile is None:
        if required:
            raise ConfigError(f"no profile {name!r} in {path}")
        return Settings()
    known = {"application_key", "application_secret", "region", "base_url"}
    unknown = set(profile) - known
    if unknown:
        raise ConfigError(f"profile {name!r} in {path}: unknown settings {sorted(unknown)}")
    return Settings(**{key: str(value) for key, value in profile.items()})


def resolve(
    *, profile: str | None = None, base_url: str | None = None, local: bool = False, region: str | None = None
) -> Settings:
    """The settings a command runs with (see the module docstring for the order)."""
    named = profile or os.environ.get(PROFILE_ENV)
    environment = Settings(os.environ.get(KEY_ENV) or None, os.environ.get(SECRET_ENV) or None)
    if named:
        chosen = _profile(named, required=True)
        settings = Settings(
            chosen.application_key or environment.application_key,
            chosen.application_secret or environment.application_secret,
            chosen.region,
            chosen.base_url,
        )
    else:
        default = _profile("default", required=False)
        settings = Settings(
            environment.application_key or default.application_key,
            environment.application_secret or default.application_secret,
            default.region,
            default.base_url,
        )
    if local:
        settings = replace(settings, base_url=os.environ.get(LOCAL_URL_ENV) or LOCAL_URL)
    if base_url:
        settings = replace(settings, base_url=base_url)
    if region:
        settings = replace(settings, region=region)
    if not settings.application_key or not settings.application_secret:
        raise ConfigError(
            f"no credentials: set {KEY_ENV} and {SECRET_ENV}, or add a profile to {config_path()} "
            "(see `sinch-calling --help`)"
        )
    return settings
