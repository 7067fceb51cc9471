"""A stand-in server for the Sinch Calling API v1, driven by its OpenAPI document.

``create_app(...)`` builds the ASGI application (simulation, replay or record mode);
``sinch_calling_server.cli:main`` is the ``sinch-calling-server`` command.
"""

from .app import create_app
from .auth import Application
from .pipeline import Pipeline
from .store import MemoryStore, SqliteStore, Store

__all__ = ["Application", "MemoryStore", "Pipeline", "SqliteStore", "Store", "create_app"]
__version__ = "0.1.0"
