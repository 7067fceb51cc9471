"""``sinch-calling``: the Sinch Calling API from a terminal.

Hand-written (the generator never touches this folder); the API commands come from the
generated table ``sinch_calling._commands``, so a spec change reaches the command line with the
next ``make generate``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from .. import __version__
from .._commands import EVENTS
from . import config, output
from .operations import add_all

HELP = f"""The Sinch Calling API v1 from a terminal.

\b
Credentials: SINCH_APPLICATION_KEY and SINCH_APPLICATION_SECRET, or a profile in
{config.config_path()} (or $SINCH_CALLING_CONFIG):
  [profiles.default]
  application_key = "..."
  application_secret = "..."
Choose a profile with --profile NAME or $SINCH_CALLING_PROFILE. No command prints a secret.

\b
Examples:
  sinch-calling numbers list
  sinch-calling callouts tts --to +46700000001 --text "Hello" --local
  sinch-calling calls get CALL_ID --json
  sinch-calling conferences mute ROOM CALL_ID --curl
  sinch-calling callbacks trigger ice --to http://127.0.0.1:8000/sinch/callback
"""


@click.group(help=HELP, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sinch-calling")
def cli() -> None:
    pass


add_all(cli)
callbacks_group = click.Group("callbacks", help="Fire test events at your app; check captured signatures.")
cli.add_command(callbacks_group)


def _event_options() -> list[click.Parameter]:
    fields: dict[str, dict[str, Any]] = {}
    for spec in EVENTS.values():
        for field in spec["fields"]:
            fields.setdefault(field["wire"], field)
    options: list[click.Parameter] = []
    for wire, field in fields.items():
        flag = "--" + ("callee" if wire == "to" else wire)  # --to is where the event goes
        options.append(
            click.Option(
                [flag, "field_" + wire], metavar="JSON" if field["kind"] == "json" else None, help=field["help"] or wire
            )
        )
    return options


def _trigger(event: str, to: str, data: str | None, profile: str | None, as_json: bool, **given: Any) -> None:
    from . import trigger
    from .schemas import MissingExtra
    from .values import identity, json_value

    try:
        settings = config.resolve(profile=profile)
    except config.ConfigError as exc:
        output.fail(str(exc), 2)
    fields: dict[str, Any] = json_value(data, "--data") if data else {}
    kinds = {field["wire"]: field["kind"] for spec in EVENTS.values() for field in spec["fields"]}
    for name, value in given.items():
        if value is not None:
            wire = name.removeprefix("field_")
            kind = kinds[wire]
            fields[wire] = (
                identity(value, wire)
                if kind == "identity"
                else json_value(value, wire)
                if kind in ("json", "int", "float", "bool")
                else value
            )
    assert settings.application_key and settings.application_secret
    body = trigger.event_body(event, settings.application_key, fields)
    try:
        response = trigger.send(to, body, settings.application_key, settings.application_secret)
    except Exception as exc:  # any failure to reach the app is the verdict
        output.fail(f"could not deliver the {event.upper()} to {to}: {type(exc).__name__}: {exc}")
    try:
        ok, verdict = trigger.judge(event, EVENTS[event]["answer"], response)
    except MissingExtra as exc:
        output.fail(str(exc), 2)
    if as_json:
        click.echo(
            json_dumps(
                {
                    "event": body,
                    "status": response.status_code,
                    "answer": response.text,
                    "valid": ok,
                    "verdict": verdict,
                }
            )
        )
    else:
        click.echo(f"Sent {event.upper()} {body['callid']} to {to}: {response.status_code}")
        if response.content:
            click.echo(response.text)
        click.secho(("valid: " if ok else "invalid: ") + verdict, fg="green" if ok else "red")
    if not ok:
        raise SystemExit(1)


def json_dumps(value: Any) -> str:
    import json

    return json.dumps(value, indent=2)


callbacks_group.add_command(
    click.Command(
        "trigger",
        callback=_trigger,
        help="Send a realistic, signed EVENT (ice, ace, dice, pie, notify) to your app at --to URL; judge its answer.",
        params=[
            click.Argument(["event"], type=click.Choice(sorted(EVENTS))),
            click.Option(["--to"], required=True, metavar="URL", help="Your app's callback URL."),
            click.Option(
                ["--data"], metavar="JSON", help="Event fields as JSON or @file; the options below override them."
            ),
            click.Option(["--profile"], help="A profile of the config file."),
            click.Option(
                ["--json", "as_json"], is_flag=True, help="Print the event, the answer and the verdict as JSON."
            ),
            *_event_options(),
        ],
    )
)


@callbacks_group.command("verify")
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", help="Your application key (default: from the credentials).")
@click.option(
    "--secret-env",
    default="SINCH_APPLICATION_SECRET",
    show_default=True,
    help="The environment variable holding the secret (never pass a secret as an argument).",
)
@click.option("--profile", help="Take key and secret from this profile.")
@click.option("--max-age", default=900, show_default=True, help="Seconds an x-timestamp may be off.")
def verify_command(request_file: Path, key: str | None, secret_env: str, profile: str | None, max_age: int) -> None:
    """Say whether a captured request's signature holds, and if not, why.

    REQUEST_FILE is raw HTTP (request line, headers, blank line, body) or JSON with method, url,
    headers and body.
    """
    from datetime import timedelta

    from . import verify

    secret = os.environ.get(secret_env)
    if profile or not secret:
        try:
            settings = config.resolve(profile=profile)
        except config.ConfigError as exc:
            output.fail(str(exc), 2)
        secret = settings.application_secret if profile or not secret else secret
        key = key or settings.application_key
    key = key or os.environ.get("SINCH_APPLICATION_KEY")
    if not key or not secret:
        output.fail("a key and a secret are needed (see --help)", 2)
    assert key and secret
    try:
        captured = verify.load(request_file)
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        output.fail(f"cannot read {request_file} as a captured request: {exc}", 2)
    verdict = verify.verify(captured, key, secret, max_age=timedelta(seconds=max_age))
    if verdict.holds:
        click.secho(f"valid: {verdict.explanation}", fg="green")
        return
    click.secho(f"invalid ({verdict.cause}): {verdict.explanation}", fg="red")
    raise SystemExit(1)


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script: eval "$(sinch-calling completion bash)"."""
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    assert completer is not None
    click.echo(completer(cli, {}, "sinch-calling", "_SINCH_CALLING_COMPLETE").source())


def main() -> None:
    cli(prog_name="sinch-calling")
