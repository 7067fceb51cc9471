"""One command per client method, built from the generated table (``sinch_calling._commands``).

``sinch-calling numbers list`` runs ``client.numbers.list()``: the command tree mirrors the client's
resources, path parameters are arguments, body fields are options (``--enable-ace``), and
``--data`` takes the whole body as JSON (keys as Sinch documents them; options override it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .. import APIConnectionError, APIError, SinchCallingError, SinchClient, with_raw_response
from .._commands import COMMANDS, GROUPS
from . import config, output
from .curl import capture, to_curl
from .values import click_type, convert, json_value

# An identity option also answers to the word people use for it.
ALIASES = {"destination": "--to"}


def common_options() -> list[click.Parameter]:
    """The options every API command takes."""
    return [
        click.Option(["--json", "as_json"], is_flag=True, help="Print the raw JSON answer (for scripts)."),
        click.Option(
            ["--curl", "as_curl"], is_flag=True, help="Print the equivalent signed curl command; send nothing."
        ),
        click.Option(["--profile"], help="A profile of the config file (see `sinch-calling --help`)."),
        click.Option(["--base-url"], help="Send to this URL instead of Sinch (a proxy, a recorded server)."),
        click.Option(["--local"], is_flag=True, help="Send to the recorded server on this machine (port 8080)."),
        click.Option(["--region"], help="Call-traffic region: euc1, use1, sae1, apse1 or apse2."),
    ]


def _parameters(spec: dict[str, Any]) -> list[click.Parameter]:
    parameters: list[click.Parameter] = []
    has_body = False
    for option in spec["options"]:
        name = option["name"]
        if option["where"] == "path" and option["required"]:
            parameters.append(click.Argument([name], type=click_type(option["kind"], option["choices"])))
            continue
        has_body = has_body or option["where"] == "body"
        flag = "--" + name.replace("_", "-")
        declarations = [flag, *([ALIASES[name]] if name in ALIASES else [])]
        help_text = option["help"] + (" (required)" if option["required"] else "")
        if option["kind"] == "bool":
            parameters.append(click.Option([f"{flag}/--no-{flag[2:]}", name], default=None, help=help_text))
        else:
            parameters.append(
                click.Option(
                    [*declarations, name],
                    type=click_type(option["kind"], option["choices"]),
                    multiple=option["kind"] == "list",
                    help=help_text + (" JSON or @file." if option["kind"] == "json" else ""),
                    metavar=_metavar(option["kind"]),
                )
            )
    if has_body:
        parameters.append(
            click.Option(["--data"], help="The body's fields as JSON or @file (Sinch's names); options override them.")
        )
    return parameters


def _metavar(kind: str) -> str | None:
    return {"json": "JSON", "identity": "NUMBER|JSON", "int": "INTEGER", "list": "VALUE"}.get(kind)


def _arguments(spec: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The method's keyword arguments: path parameters, --data, then the options."""
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    by_wire = {option["wire"]: option for option in spec["options"] if option["where"] == "body"}
    data = given.pop("data", None)
    if data is not None:
        body = json_value(data, "--data")
        if not isinstance(body, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--data")
        for wire, value in body.items():
            if wire in by_wire:
                kwargs[by_wire[wire]["name"]] = value
            else:
                extra[wire] = value  # a field this version does not know: sent as given
    for option in spec["options"]:
        value = given.get(option["name"])
        if value is None or value == ():
            continue
        kwargs[option["name"]] = convert(option["kind"], value, "--" + option["name"].replace("_", "-"))
    missing = [o["name"] for o in spec["options"] if o["required"] and o["where"] == "body" and o["name"] not in kwargs]
    if missing:
        raise click.UsageError("missing " + ", ".join("--" + name.replace("_", "-") for name in missing))
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def _method(client: SinchClient, path: list[str]) -> Callable[..., Any]:
    target: Any = client
    for part in path:
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


def _run(spec: dict[str, Any], given: dict[str, Any]) -> None:
    as_json, as_curl = given.pop("as_json"), given.pop("as_curl")
    try:
        settings = config.resolve(
            profile=given.pop("profile"),
            base_url=given.pop("base_url"),
            local=given.pop("local"),
            region=given.pop("region"),
        )
    except config.ConfigError as exc:
        output.fail(str(exc), 2)
    kwargs = _arguments(spec, given)
    try:
        client = SinchClient(
            application_key=settings.application_key,
            application_secret=settings.application_secret,
            region=settings.region,
            base_url=settings.base_url,
            httpx_client=capture() if as_curl else None,
        )
    except SinchCallingError as exc:
        output.fail(str(exc), 2)
    with client:
        method = _method(client, spec["path"])
        if as_curl:
            click.echo(to_curl(method, kwargs, client))
            return
        try:
            # the method comes from the table, so its signature is unknown to mypy
            response = with_raw_response(method)(**kwargs)  # type: ignore[no-untyped-call]
        except APIError as error:
            output.fail(output.api_error(error))
        except (APIConnectionError, SinchCallingError) as error:
            output.fail(str(error))
        except ValueError as error:  # an empty path parameter
            output.fail(str(error), 2)
    if as_json:
        output.raw(response.content)
    else:
        parsed = response.parsed
        output.human(parsed.to_dict() if parsed is not None else None, response.status_code)


def command(spec: dict[str, Any]) -> click.Command:
    def callback(**given: Any) -> None:
        _run(spec, given)

    return click.Command(
        spec["path"][-1], callback=callback, params=_parameters(spec) + common_options(), help=spec["summary"]
    )


def add_all(root: click.Group) -> None:
    """Add every generated command under its resource groups (``applications callbacks get``)."""
    for spec in COMMANDS:
        group = root
        for part in spec["path"][:-1]:
            found = group.commands.get(part)
            if not isinstance(found, click.Group):
                found = click.Group(part, help=GROUPS.get(" ".join(spec["path"][: spec["path"].index(part) + 1]), ""))
                group.add_command(found)
            group = found
        group.add_command(command(spec))
