"""The command for a new user: a start-up line, usage errors, a missing extra, a taken port, --upstream.

Regressions of an adversarial pass: ``--port 99999`` ended in an OverflowError traceback;
without the ``[server]`` extra even ``--help`` crashed with ImportError; ``--upstream
https://host/v1`` forwarded to ``/v1/v1/...``; a second server on the same port started and
silently shared it (granian's SO_REUSEPORT); nothing said where the server listens.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sinch_calling_server import create_app

from tests.support import Clock, ServerProcess, serve, subprocess_env

from .conftest import KEY, OTHER_KEY, OTHER_SECRET, SECRET, SPEC, signed_client

# What `pip install sinch-calling` (without [server]) lacks.
SERVER_EXTRA = ("yaml", "jsonschema_rs", "orjson", "granian", "uvicorn", "phonenumbers", "uvloop")


def run_command(*args: str, block: tuple[str, ...] = (), timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """``sinch-calling-server ARGS`` in a fresh interpreter, with the modules in ``block`` not importable."""
    code = (
        "import runpy, sys\n"
        f"for name in {block!r}: sys.modules[name] = None  # import raises ModuleNotFoundError\n"
        f"sys.argv = ['sinch-calling-server', *{args!r}]\n"
        "runpy.run_module('sinch_calling_server', run_name='__main__', alter_sys=True)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        pytest.fail(f"sinch-calling-server {' '.join(args)} did not exit")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def stop(process: subprocess.Popen[str]) -> None:
    """Kill the command and whatever it started (granian's workers): it runs in its own session."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_bad_port_is_a_usage_error(port: str) -> None:
    result = run_command("--spec", str(SPEC), "--app", f"{KEY}:{SECRET}", "--port", port)
    assert result.returncode == 2, result.stderr
    assert "usage: sinch-calling-server" in result.stderr and "--port" in result.stderr
    assert "0 to 65535" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_port_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "server.yaml"
    config.write_text("port: 70000\n")
    result = run_command("--spec", str(SPEC), "--app", f"{KEY}:{SECRET}", "--config", str(config))
    assert result.returncode == 2 and "0 to 65535" in result.stderr and "Traceback" not in result.stderr


def test_help_works_without_the_server_extra() -> None:
    result = run_command("--help", block=SERVER_EXTRA)
    assert result.returncode == 0, result.stderr
    assert "--upstream-app" in result.stdout and "--test-controls" in result.stdout


def test_without_the_server_extra_the_missing_extra_is_named() -> None:
    result = run_command("--app", f"{KEY}:{SECRET}", block=SERVER_EXTRA)
    assert result.returncode == 2
    assert 'pip install "sinch-calling[server]"' in result.stderr
    assert "Traceback" not in result.stderr


def test_every_setting_has_its_flag_and_the_help_shows_the_servers_defaults() -> None:
    import dataclasses

    from sinch_calling_server.cli import build_parser
    from sinch_calling_server.settings import Settings

    text = " ".join(build_parser().format_help().split())
    for item in dataclasses.fields(Settings):
        assert (item.metadata["flag"] or "--" + item.name.replace("_", "-")) in text
    defaults = Settings()
    assert f"default {defaults.max_skew:.0f}" in text and f"default {defaults.max_body}" in text
    assert f"default {defaults.callback_timeout:g}" in text


@pytest.mark.slow
def test_one_startup_line_with_url_keys_mode_and_state(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    server = ServerProcess("--app", f"{KEY}:{SECRET}", "--app", f"{OTHER_KEY}:{OTHER_SECRET}", "--state", state)
    output = server.output()
    (line,) = [line for line in output.splitlines() if line.startswith("sinch-calling-server:")]
    assert f"listening on http://127.0.0.1:{server.port}" in line
    assert f"application keys: {KEY}, {OTHER_KEY}" in line
    assert "mode: simulate" in line and f"state: {state}" in line
    assert SECRET not in output and OTHER_SECRET not in output


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["granian", "uvicorn"])
def test_a_second_server_on_the_same_port_refuses_to_start(kind: str) -> None:
    first = ServerProcess("--app", f"{KEY}:{SECRET}", "--server", kind)
    where = ("--port", str(first.port), "--server", kind)
    try:
        second = subprocess.Popen(
            [sys.executable, "-m", "sinch_calling_server", "--app", f"{KEY}:{SECRET}", "--spec", str(SPEC), *where],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            _, err = second.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            stop(second)
            pytest.fail("a second server started on a port that is in use")
        assert second.returncode == 2
        assert f"port {first.port}" in err and "another server" in err and "Traceback" not in err
        assert httpx.get(first.base_url + "/v1/configuration/numbers", auth=httpx.BasicAuth(KEY, SECRET)).is_success
    finally:
        first.kill()


def test_claim_port_refuses_a_port_shared_with_so_reuseport() -> None:
    from sinch_calling_server.cli import claim_port

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        if hasattr(socket, "SO_REUSEPORT"):
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(OSError, match=f"another server running on port {port}"):
            claim_port("127.0.0.1", port)
    assert claim_port("127.0.0.1", 0) > 0


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/calling/v1"])
async def test_record_with_a_base_path_in_upstream(clock: Clock, tmp_path: Path, suffix: str) -> None:
    upstream_app = create_app(spec=SPEC, applications={OTHER_KEY: OTHER_SECRET})
    with serve(upstream_app) as upstream_url:
        from sinch_calling_server.settings import Application

        recorder = create_app(
            spec=SPEC,
            applications={KEY: SECRET},
            clock=clock,
            mode="record",
            recordings=tmp_path,
            upstream=upstream_url + suffix,
            upstream_application=Application(OTHER_KEY, OTHER_SECRET),
        )
        async with signed_client(recorder, clock) as client:
            r = await client.get("/v1/configuration/numbers")
            assert r.status_code == 200, r.text
            r = await client.post(
                "/calling/v1/callouts",
                json={"method": "ttsCallout", "ttsCallout": {"destination": {"type": "number", "endpoint": "+4670"}}},
            )
            assert r.status_code == 200, r.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["callout.yaml", "getNumbers.yaml"]
