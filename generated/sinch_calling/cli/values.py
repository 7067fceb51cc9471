"""Reading option values: JSON or @file, identities written as a phone number, lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

IDENTITY_TYPES = ("number", "username", "sip", "did", "websocket")


def json_value(text: str, what: str) -> Any:
    """``text`` as JSON, or the JSON in the file ``@path``."""
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {text[1:]}: {exc.strerror}", param_hint=what) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON ({exc.msg} at {exc.pos})", param_hint=what) from None


def identity(text: str, what: str) -> Any:
    """``+46700000001`` (a number), ``username:alice`` / ``sip:alice@example.com``, or JSON."""
    if text.startswith(("{", "@")):
        return json_value(text, what)
    kind, sep, endpoint = text.partition(":")
    if sep and kind.lower() in IDENTITY_TYPES and endpoint:
        return {"type": kind.lower(), "endpoint": endpoint}
    return {"type": "number", "endpoint": text}


def convert(kind: str, value: Any, what: str) -> Any:
    """An option's value for the client, by the kind the command table gives it."""
    if kind == "json":
        return json_value(value, what)
    if kind == "identity":
        return identity(value, what)
    if kind == "list":
        return list(value)
    return value


def click_type(kind: str, choices: list[Any]) -> click.ParamType[Any]:
    if kind == "int":
        return click.INT
    if kind == "float":
        return click.FLOAT
    if kind == "choice":
        return click.Choice([str(choice) for choice in choices])
    return click.STRING
