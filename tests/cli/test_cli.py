"""The installed `sinch-calling` command, run as a subprocess against real servers.

Every operation runs against the recorded server (human and --json output); --curl output runs in
a real curl; `callbacks trigger` drives the example webhook app; `callbacks verify` names the cause
of six kinds of tampering. No output may hold the secret.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sinch_calling._commands import COMMANDS
from sinch_calling._runtime.signing import sign_request
from sinch_calling_server import create_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from examples.webhook_app import CALLBACK_PATH
from examples.webhook_app import create_app as create_webhook_app
from tests.support import KEY, SECRET, Clock, serve

pytestmark = pytest.mark.slow  # subprocesses

EXECUTABLE = str(Path(sys.executable).with_name("sinch-calling"))
ENV = {
    **{name: value for name, value in os.environ.items() if not name.startswith("SINCH_")},
    "SINCH_APPLICATION_KEY": KEY,
    "SINCH_APPLICATION_SECRET": SECRET,
    "SINCH_CALLING_CONFIG": "/nonexistent/config.toml",
    "NO_COLOR": "1",
    "COLUMNS": "200",
}


def run(*args: str, env: dict[str, str] | None = None, check: int | None = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([EXECUTABLE, *args], capture_output=True, text=True, env=env or ENV, timeout=60)
    assert SECRET not in done.stdout + done.stderr, "a secret was printed"
    if check is not None:
        assert done.returncode == check, f"{args}: rc={done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Clock]]:
    clock = Clock()
    app = create_app(applications={KEY: SECRET}, clock=clock, validate_responses=True)
    with serve(app) as url:
        yield url + "/v1", clock
    assert app.violations == []


def place(base: str, *args: str) -> str:
    done = run(*args, "--base-url", base, "--json")
    return str(json.loads(done.stdout)["callId"])


# The arguments of each command for a run that succeeds, given a live call and conference.
def arguments(path: list[str], call_id: str, room: str) -> list[str]:
    name = " ".join(path)
    return {
        "callouts tts": ["--to", "+46700000001", "--text", "Hi", "--enable-ace"],
        "callouts conference": ["--to", "+46700000002", "--conference-id", "cli-other"],
        "callouts custom": ["--to", "+46700000003", "--ice", '{"action":{"name":"hangup"}}'],
        "calls get": [call_id],
        "calls update": [call_id, "--instructions", '[{"name":"say","text":"Bye"}]'],
        "calls update_leg": [call_id, "callee", "--data", '{"instructions":[{"name":"say","text":"Hi"}]}'],
        "conferences get": [room],
        "conferences update_participant": [room, call_id, "--command", "unmute"],
        "conferences mute": [room, call_id],
        "conferences unmute": [room, call_id],
        "conferences hold": [room, call_id, "--moh", "music1"],
        "conferences resume": [room, call_id],
        "conferences kick": [room, call_id],
        "conferences kick_all": [room],
        "numbers list": [],
        "numbers assign": ["--numbers", "+46730170101", "--capability", "voice"],
        "numbers unassign": ["--number", "+46730170101", "--capability", "voice"],
        "numbers lookup": ["+46730170101"],
        "applications callbacks get": [],
        "applications callbacks update": ["--url", '{"primary":"https://example.com/sinch"}'],
    }[name]


@pytest.mark.parametrize("output", ["human", "json"])
def test_every_operation_runs(server: tuple[str, Clock], output: str) -> None:
    base, clock = server
    covered = set()
    for spec in COMMANDS:
        path = spec["path"]
        room = f"cli-{output}-{'-'.join(path)}"
        call_id = place(base, "callouts", "conference", "--to", "+46700000009", "--conference-id", room)
        clock.advance(3)  # answered: the call and the conference exist
        extra = ["--json"] if output == "json" else []
        done = run(*path, *arguments(path, call_id, room), "--base-url", base, *extra)
        covered.add(" ".join(path))
        if output == "json" and done.stdout:
            json.loads(done.stdout)  # the raw answer, as JSON
        if output == "human":
            assert done.stdout.strip(), path
    assert covered == {" ".join(spec["path"]) for spec in COMMANDS}


def test_human_output_is_a_table_and_json_is_the_raw_answer(server: tuple[str, Clock]) -> None:
    base, _ = server
    human = run("numbers", "lookup", "+46730170101", "--base-url", base).stdout
    assert "number.countryId" in human and "SE" in human
    raw = run("numbers", "lookup", "+46730170101", "--base-url", base, "--json").stdout
    assert json.loads(raw)["number"]["normalizedNumber"] == "+46730170101"
    listed = run("numbers", "list", "--base-url", base).stdout
    assert "numbers (" in listed and "capability" in listed


def test_errors_print_sinch_fields_and_exit_non_zero(server: tuple[str, Clock]) -> None:
    base, _ = server
    done = run("calls", "get", "0" * 32, "--base-url", base, check=1)
    assert "404 NotFoundError" in done.stderr and "errorCode=40400" in done.stderr and "reference=" in done.stderr
    usage = run("callouts", "tts", "--text", "no destination", "--base-url", base, check=2)
    assert "--destination" in usage.stderr
    bad_json = run("calls", "update", "x", "--action", "{not json", "--base-url", base, check=2)
    assert "not JSON" in bad_json.stderr


def test_curl_output_runs_in_a_real_curl(server: tuple[str, Clock]) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is not installed (apt-get install curl)")
    base, clock = server
    call_id = place(base, "callouts", "conference", "--to", "+46700000009", "--conference-id", "curl-room")
    clock.advance(3)
    for args in (
        ["callouts", "tts", "--to", "+46700000001", "--text", "It's a test"],
        ["calls", "get", call_id],
        ["conferences", "mute", "curl-room", call_id],
        ["numbers", "assign", "--numbers", "+46730170101", "--capability", "voice"],
        ["numbers", "unassign", "--number", "+46730170101", "--capability", "voice"],
    ):
        command = run(*args, "--base-url", base, "--curl").stdout.strip()
        assert command.startswith("curl ") and "authorization: Application" in command
        done = subprocess.run(
            [*shlex.split(command), "-o", "/dev/null", "-w", "%{http_code}"], capture_output=True, text=True, timeout=30
        )
        assert done.stdout in ("200", "204"), (args, done.stdout, done.stderr)


def test_credentials_from_a_profile_and_clear_refusals(server: tuple[str, Clock], tmp_path: Path) -> None:
    base, _ = server
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.test]\napplication_key = "{KEY}"\napplication_secret = "{SECRET}"\nbase_url = "{base}"\n'
    )
    env = {name: value for name, value in ENV.items() if not name.startswith("SINCH_APPLICATION")}
    env["SINCH_CALLING_CONFIG"] = str(config)
    assert run("numbers", "list", "--profile", "test", "--json", env=env).stdout
    missing = run("numbers", "list", "--profile", "nope", env=env, check=2)
    assert "no profile 'nope'" in missing.stderr
    nothing = run("numbers", "list", env=env, check=2)
    assert "SINCH_APPLICATION_KEY" in nothing.stderr


# ---------------------------------------------------------------- callbacks trigger


@pytest.fixture(scope="module")
def webhook_app() -> Iterator[str]:
    with serve(create_webhook_app(KEY, SECRET, conference_id="cli-room")) as url:
        yield url + CALLBACK_PATH


@pytest.mark.parametrize("event", ["ice", "ace", "dice", "pie", "notify"])
def test_trigger_drives_the_example_app(webhook_app: str, event: str) -> None:
    done = run("callbacks", "trigger", event, "--to", webhook_app, "--custom", "cli-test")
    assert ": 200" in done.stdout and "valid:" in done.stdout, done.stdout
    report = json.loads(run("callbacks", "trigger", event, "--to", webhook_app, "--json").stdout)
    assert report["valid"] is True and report["event"]["event"] == event


def test_trigger_reports_what_is_wrong_with_an_answer() -> None:
    async def answer(request: Request) -> JSONResponse:
        event = (await request.json())["event"]
        if event == "ace":
            return JSONResponse({"action": {"name": "park"}})  # not an ACE action
        return JSONResponse({"instructions": [{"name": "say"}], "action": {"name": "hangup"}})  # say without text

    app = Starlette(routes=[Route("/cb", answer, methods=["POST"])])
    with serve(app) as url:
        ace = run("callbacks", "trigger", "ace", "--to", url + "/cb", check=1)
        assert "invalid: not valid SVAML for an ACE" in ace.stdout and '/action/name: "park"' in ace.stdout
        ice = run("callbacks", "trigger", "ice", "--to", url + "/cb", check=1)
        assert '/instructions/0: "text" is a required property' in ice.stdout


def test_trigger_with_the_wrong_secret_is_refused_by_the_app(webhook_app: str) -> None:
    env = ENV | {"SINCH_APPLICATION_SECRET": "b3RoZXIgc2VjcmV0"}
    done = run("callbacks", "trigger", "ice", "--to", webhook_app, env=env, check=1)
    assert "401" in done.stdout


# ---------------------------------------------------------------- callbacks verify


def signed(when: datetime | None = None) -> dict[str, Any]:
    body = json.dumps({"event": "ace", "callid": "c1", "version": 1}, separators=(",", ":")).encode()
    request = httpx.Request(
        "POST", "https://app.example/sinch/callback", content=body, headers={"Content-Type": "application/json"}
    )
    sign_request(request, KEY, __import__("base64").b64decode(SECRET), now=when)
    headers = {
        name: value
        for name, value in request.headers.items()
        if name in ("authorization", "x-timestamp", "content-type")
    }
    return {"method": "POST", "url": str(request.url), "headers": headers, "body": body.decode()}


def write(tmp_path: Path, captured: dict[str, Any], raw_http: bool = False) -> str:
    path = tmp_path / ("request.http" if raw_http else "request.json")
    if raw_http:
        url = httpx.URL(captured["url"])
        lines = [f"{captured['method']} {url.raw_path.decode()} HTTP/1.1", f"Host: {url.host}"]
        lines += [f"{name}: {value}" for name, value in captured["headers"].items()]
        path.write_text("\r\n".join(lines) + "\r\n\r\n" + captured["body"])
    else:
        path.write_text(json.dumps(captured))
    return str(path)


def test_verify_accepts_an_untouched_request(tmp_path: Path) -> None:
    assert "valid:" in run("callbacks", "verify", write(tmp_path, signed())).stdout
    assert "valid:" in run("callbacks", "verify", write(tmp_path, signed(), raw_http=True)).stdout


@pytest.mark.parametrize(
    ("cause", "tamper", "extra_args", "env_change"),
    [
        ("body", lambda c: c | {"body": c["body"].replace('"c1"', '"c2"')}, [], {}),
        ("body", lambda c: c | {"body": json.dumps(json.loads(c["body"]), indent=1)}, [], {}),
        ("path", lambda c: c | {"url": c["url"] + "/ace"}, [], {}),
        ("path", lambda c: c | {"url": c["url"].replace("/sinch/", "/app/sinch/")}, [], {}),
        ("method", lambda c: c | {"method": "PUT"}, [], {}),
        ("skew", lambda c: signed(datetime.now(timezone.utc) - timedelta(hours=2)), [], {}),
        ("secret", lambda c: c, [], {"SINCH_APPLICATION_SECRET": "not base64!"}),
        ("key", lambda c: c, ["--key", "another-application"], {}),
    ],
)
def test_verify_names_the_cause(
    tmp_path: Path, cause: str, tamper: Any, extra_args: list[str], env_change: dict[str, str]
) -> None:
    path = write(tmp_path, tamper(signed()))
    done = run("callbacks", "verify", path, *extra_args, env=ENV | env_change, check=1)
    assert f"invalid ({cause})" in done.stdout, done.stdout + done.stderr


# ---------------------------------------------------------------- help, completion, no server extra


def test_help_and_completion_work_without_the_server_extra() -> None:
    blocked = (
        "import sys\n"
        "for name in ('jsonschema_rs', 'yaml', 'sinch_calling_server', 'granian', 'uvicorn'):\n"
        "    sys.modules[name] = None  # importing it now fails, as without the [server] extra\n"
        "from sinch_calling.cli import main\n"
        "sys.argv = ['sinch-calling', *sys.argv[1:]]\n"
        "main()\n"
    )
    for args in (["--help"], ["callouts", "tts", "--help"], ["callbacks", "verify", "--help"], ["completion", "bash"]):
        done = subprocess.run(
            [sys.executable, "-c", blocked, *args], capture_output=True, text=True, env=ENV, timeout=60
        )
        assert done.returncode == 0, (args, done.stderr)
        assert "Usage:" in done.stdout or "_SINCH_CALLING_COMPLETE" in done.stdout
    completions = subprocess.run(
        [EXECUTABLE],
        capture_output=True,
        text=True,
        env=ENV | {"_SINCH_CALLING_COMPLETE": "bash_complete", "COMP_WORDS": "sinch-calling cal", "COMP_CWORD": "1"},
        timeout=60,
    )
    assert {"calls", "callouts", "callbacks"} <= {line.split(",")[-1] for line in completions.stdout.split()}


def test_the_readme_commands_run(server: tuple[str, Clock], webhook_app: str, tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- cli -->\n```bash\n", 1)[1].split("```", 1)[0]
    base, clock = server
    call_id = place(base, "callouts", "conference", "--to", "+46700000009", "--conference-id", "my-room")
    clock.advance(3)
    (tmp_path / "captured-request.http").write_text(Path(write(tmp_path, signed(), raw_http=True)).read_text())
    for line in block.strip().splitlines():
        command = line.split("   #", 1)[0].replace("CALL_ID", call_id)
        command = command.replace("http://127.0.0.1:8000/sinch/callback", webhook_app)
        args = shlex.split(command)
        assert args[0] == "sinch-calling"
        done = subprocess.run(
            [EXECUTABLE, *args[1:]],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=ENV | {"SINCH_CALLING_LOCAL_URL": base},
            timeout=60,
        )
        assert done.returncode == 0, (line, done.stdout, done.stderr)
