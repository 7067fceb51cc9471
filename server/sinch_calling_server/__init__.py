"""A stand-in server for the Sinch Calling API v1, driven by its OpenAPI document.

``create_app(settings, **options)`` builds the ASGI application (simulation, replay or record mode)
from a ``Settings`` object (``settings.py``: every option, spelled once);
``sinch_calling_server.cli:main`` is the ``sinch-calling-server`` command.

The names below are imported on first use, so that ``sinch-calling-server --help`` (and the
message naming the missing ``[server]`` extra) needs none of the server's dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .pipeline import Pipeline
    from .settings import Application, Settings
    from .store import MemoryStore, SqliteStore, Store

__all__ = ["Application", "MemoryStore", "Pipeline", "Settings", "SqliteStore", "Store", "create_app"]
__version__ = "0.1.0"

_HOMES = {
    "create_app": "app",
    "Application": "settings",
    "Settings": "settings",
    "Pipeline": "pipeline",
    "MemoryStore": "store",
    "SqliteStore": "store",
    "Store": "store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
