"""Recorded interactions (YAML cassettes): replay and record. Work in progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .auth import Application
from .pipeline import Reply, Request
from .spec import CompiledSpec


class Replayer:
    @classmethod
    def from_directory(cls, directory: str | Path, fallback: Any = None) -> Replayer:
        raise NotImplementedError("replay mode is not implemented yet")

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError


class Recorder:
    def __init__(
        self, directory: str | Path, upstream: str, application: Application, spec: CompiledSpec, basic: bool = False
    ) -> None:
        raise NotImplementedError("record mode is not implemented yet")

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError
