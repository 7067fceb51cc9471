"""Several workers: one that dies is replaced, and none outlives the main process.

Adversarial pass, issue 16 item 2: with ``--workers 2`` one dead worker stopped the whole server,
and after ``kill -9`` of the main process its workers kept serving (and sharing the port with a
restarted server) for at least a minute.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support import ServerProcess

from .conftest import KEY, SECRET

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")]


def children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[-1][:1]
    return state != "Z"


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def answers(server: ServerProcess) -> bool:
    try:
        return httpx.get(server.base_url + "/v1/configuration/numbers", timeout=1).status_code == 401
    except httpx.TransportError:
        return False


def test_a_dead_worker_is_replaced_and_workers_die_with_the_main_process(tmp_path: Path) -> None:
    server = ServerProcess("--workers", "2", "--state", str(tmp_path / "state.db"), "--app", f"{KEY}:{SECRET}")
    try:
        main = server.process.pid
        assert wait_until(lambda: len(children(main)) == 2, 10)
        first = min(children(main))
        os.kill(first, signal.SIGKILL)
        assert wait_until(lambda: len(children(main) - {first}) == 2, 15), "the dead worker was not replaced"
        assert all(answers(server) for _ in range(10))

        workers = children(main)
        os.kill(main, signal.SIGKILL)  # the main process only, as a crashed host would lose it
        server.process.wait(timeout=10)
        assert wait_until(lambda: not any(alive(w) for w in workers), 10), "workers outlived the main process"
        assert not answers(server)
    finally:
        server.kill()
