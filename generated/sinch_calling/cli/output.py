"""What the command line prints: tables for people, the raw answer for scripts, errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import click

from .. import APIError


def raw(content: bytes) -> None:
    """The answer's body exactly as the server sent it (nothing for an empty answer)."""
    if content:
        sys.stdout.buffer.write(content)
        if not content.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()


def human(data: Any, status: int) -> None:
    """A table of the answer: one row per field, or one row per item of a list of objects."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if data is None:
        console.print(f"[green]Done[/green] ({status})")
        return
    rows = _only_list_of_objects(data)
    if rows is not None:
        name, items = rows
        columns = list(dict.fromkeys(key for item in items for key in _flatten(item)))
        table = Table(title=f"{name} ({len(items)})")
        for column in columns:
            table.add_column(column)
        for item in items:
            flat = _flatten(item)
            table.add_row(*(_text(flat.get(column, "")) for column in columns))
        console.print(table)
        return
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in _flatten(data).items():
        table.add_row(key, _text(value))
    console.print(table)


def _only_list_of_objects(data: Any) -> tuple[str, list[Mapping[str, Any]]] | None:
    if isinstance(data, Mapping) and len(data) == 1:
        ((name, value),) = data.items()
        if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
            return str(name), value
    return None


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, Mapping):
        return {prefix or "value": data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def api_error(error: APIError) -> str:
    """Sinch's error as one line: status, errorCode, message and reference."""
    return (
        f"{error.status_code} {type(error).__name__}: errorCode={error.error_code} "
        f"message={error.message!r} reference={error.reference}"
    )


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)
