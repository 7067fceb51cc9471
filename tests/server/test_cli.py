"""The ``sinch-calling-server`` command: credentials from flags, config, env, or a demo app."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sinch_calling._runtime.signing import ApplicationAuth
from sinch_calling_server.cli import main

from tests.support import ServerProcess, subprocess_env

from .conftest import KEY, OTHER_KEY, OTHER_SECRET, SECRET, SPEC

pytestmark = pytest.mark.slow


def test_demo_application_is_printed_and_kept_in_the_state(tmp_path: Path) -> None:
    state = str(tmp_path / "s.db")
    server = ServerProcess("--state", state, "--server", "uvicorn")
    try:
        # The credentials line is printed before the server starts listening.
        lines = []
        assert server.process.stdout is not None
        while len(lines) < 3:
            lines.append(server.process.stdout.readline())
        key = re.search(r"SINCH_APPLICATION_KEY=(\S+)", "".join(lines))
        secret = re.search(r"SINCH_APPLICATION_SECRET=(\S+)", "".join(lines))
        assert key and secret
        with httpx.Client(base_url=server.base_url, auth=ApplicationAuth(key[1], secret[1])) as c:
            assert c.get("/v1/configuration/numbers").status_code == 200
    finally:
        server.kill()
    # Restarted on the same state: the same demo application.
    server = ServerProcess("--state", state)
    try:
        with httpx.Client(base_url=server.base_url, auth=ApplicationAuth(key[1], secret[1])) as c:
            assert c.get("/v1/configuration/numbers").status_code == 200
    finally:
        server.kill()


def test_config_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "server.yaml"
    config.write_text(f"applications:\n  - key: {KEY}\n    secret: {SECRET}\nmax_skew: 60\n")
    env = subprocess_env(SINCH_APPLICATION_KEY=OTHER_KEY, SINCH_APPLICATION_SECRET=OTHER_SECRET)
    server = ServerProcess("--config", str(config), env=env)
    try:
        for key, secret in ((KEY, SECRET), (OTHER_KEY, OTHER_SECRET)):
            with httpx.Client(base_url=server.base_url, auth=ApplicationAuth(key, secret)) as c:
                assert c.get("/v1/configuration/numbers").status_code == 200
        with httpx.Client(base_url=server.base_url, auth=httpx.BasicAuth(KEY, SECRET)) as c:
            assert c.get("/calling/v1/calls/id/x").status_code == 404
    finally:
        server.kill()


def test_bad_options_exit_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--spec", str(SPEC), "--app", "no-secret"]) == 2
    assert "KEY:SECRET" in capsys.readouterr().err
    assert main(["--spec", "/nonexistent.yaml", "--app", f"{KEY}:{SECRET}"]) == 2
    assert main(["--spec", str(SPEC), "--app", f"{KEY}:{SECRET}", "--workers", "2"]) == 2
    assert "--state" in capsys.readouterr().err


def test_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sinch_calling_server", "--help"], env=subprocess_env(), capture_output=True, text=True
    )
    assert result.returncode == 0 and "--recordings" in result.stdout and "--upstream-app" in result.stdout


@pytest.mark.parametrize("server_kind", ["granian", "uvicorn"])
def test_raw_garbage_over_a_socket_never_gets_a_500(server_kind: str) -> None:
    """Non-ASCII header values and garbage bodies, byte for byte on the wire."""
    import socket

    server = ServerProcess("--app", f"{KEY}:{SECRET}", "--server", server_kind)
    requests = [
        b"GET /v1/configuration/numbers HTTP/1.1\r\nHost: x\r\nAuthorization: Application \xc3\xa9\xff:\xfe\r\n"
        b"x-timestamp: \xe2\x82\xac\r\n\r\n",
        b"POST /calling/v1/callouts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=\xe9\r\n"
        b'Authorization: Basic \xff\xfe\r\nContent-Length: 6\r\n\r\n\x00\xff{[\x80"',
        b'PATCH /calling/v1/calls/id/%FF%00 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{"a',
        b"GET /v1/calling/query/number/\xe2\x82\xac HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    try:
        for raw in requests:
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(raw)
                answer = sock.recv(65536)
            status = int(answer.split(b" ", 2)[1])
            assert 400 <= status < 500, (raw, answer)
            assert b"Traceback" not in answer
    finally:
        server.kill()
