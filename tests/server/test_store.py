"""The two stores behave alike; SQLite survives kill -9 and concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sinch_calling._runtime.signing import ApplicationAuth
from sinch_calling_server.store import MemoryStore, SqliteStore, Store

from tests.support import ServerProcess

from .conftest import KEY, SECRET


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "state.db")
    yield made
    made.close()


def test_documents_round_trip(store: Store) -> None:
    assert store.get("calls", "a") is None
    store.put("calls", "b", {"n": 2, "nested": {"x": [1, "é"]}})
    store.put("calls", "a", {"n": 1})
    store.put("conferences", "a", {"other": True})
    assert store.get("calls", "b") == {"n": 2, "nested": {"x": [1, "é"]}}
    assert store.items("calls") == [("a", {"n": 1}), ("b", {"n": 2, "nested": {"x": [1, "é"]}})]
    doc = store.get("calls", "a")
    assert doc is not None
    doc["n"] = 99  # a copy: the store is not changed behind its back
    assert store.get("calls", "a") == {"n": 1}
    assert store.read("calls", "a") == {"n": 1}
    store.put("calls", "a", {"n": 3})
    assert store.read("calls", "a") == {"n": 3}  # a read-only view never goes stale
    store.delete("calls", "a")
    assert store.read("calls", "a") is None
    store.delete("calls", "missing")
    assert store.items("calls") == [("b", {"n": 2, "nested": {"x": [1, "é"]}})]


def test_a_failed_transaction_changes_nothing(store: Store) -> None:
    store.put("k", "kept", {"v": 1})
    assert store.read("k", "kept") == {"v": 1}
    with pytest.raises(RuntimeError), store.transaction():
        store.put("k", "kept", {"v": 2})
        store.put("k", "new", {"v": 3})
        store.delete("k", "kept")
        with store.transaction():  # nested: part of the outer one
            store.put("k", "inner", {"v": 4})
        raise RuntimeError("handler failed")
    assert store.items("k") == [("kept", {"v": 1})]
    assert store.read("k", "kept") == {"v": 1}


def test_concurrent_read_modify_write_loses_nothing(store: Store, tmp_path: Path) -> None:
    store.put("counter", "c", {"n": 0})
    # For SQLite, every thread gets its own connection, as separate worker processes would.
    stores = [store] * 4 if isinstance(store, MemoryStore) else [SqliteStore(tmp_path / "state.db") for _ in range(4)]
    barrier = threading.Barrier(len(stores))

    def bump(each: Store) -> None:
        barrier.wait()
        for _ in range(50):
            with each.transaction():
                doc = each.get("counter", "c")
                assert doc is not None
                doc["n"] += 1
                each.put("counter", "c", doc)

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(bump, stores))
    assert store.get("counter", "c") == {"n": 200}


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    store.put("x", "y", {})
    assert (tmp_path / "state.db-wal").exists()
    store.close()


@pytest.mark.slow
def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    args = ("--state", str(state), "--app", f"{KEY}:{SECRET}")
    server = ServerProcess(*args)
    call_ids: list[str] = []
    try:
        with httpx.Client(base_url=server.base_url, auth=ApplicationAuth(KEY, SECRET)) as c:
            r = c.post("/v1/configuration/numbers", json={"numbers": ["+46730170101"], "capability": "sms"})
            assert r.status_code == 204
            r = c.post(f"/v1/configuration/callbacks/applications/{KEY}", json={"url": {"primary": "http://p.example"}})
            assert r.status_code == 204
            for i in range(20):
                body = {
                    "method": "conferenceCallout",
                    "conferenceCallout": {"destination": {"type": "number", "endpoint": f"+4670000{i:04d}"}},
                }
                body["conferenceCallout"]["conferenceId"] = "durable"  # type: ignore[index]
                r = c.post("/calling/v1/callouts", json=body)
                assert r.status_code == 200
                call_ids.append(r.json()["callId"])
            r = c.patch(f"/calling/v1/calls/id/{call_ids[0]}", json={"action": {"name": "hangup"}})
            assert r.status_code == 204
    finally:
        server.kill()  # SIGKILL, right after the last acknowledged answer

    server = ServerProcess(*args)
    try:
        with httpx.Client(base_url=server.base_url, auth=ApplicationAuth(KEY, SECRET)) as c:
            numbers = c.get("/v1/configuration/numbers").json()["numbers"]
            assert {"number": "+46730170101", "capability": "sms", "applicationkey": KEY} in numbers
            assert c.get(f"/v1/configuration/callbacks/applications/{KEY}").json() == {
                "url": {"primary": "http://p.example"}
            }
            for call_id in call_ids:
                assert c.get(f"/calling/v1/calls/id/{call_id}").status_code == 200
            assert c.get(f"/calling/v1/calls/id/{call_ids[0]}").json()["reason"] == "MANAGERHANGUP"
    finally:
        server.kill()


@pytest.mark.slow
@pytest.mark.parametrize("server_kind", ["granian", "uvicorn"])
def test_concurrent_requests_across_workers(tmp_path: Path, server_kind: str) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "calls.yaml").write_text("ring_seconds: 0\ndefault_max_duration: 3600\n")
    args = ("--state", str(tmp_path / "s.db"), "--app", f"{KEY}:{SECRET}", "--fixtures", str(fixtures))
    server = ServerProcess(*args, "--workers", "2", "--server", server_kind)
    try:

        def join(i: int) -> str:
            body = {
                "method": "conferenceCallout",
                "conferenceCallout": {
                    "destination": {"type": "number", "endpoint": f"+4670000{i:04d}"},
                    "conferenceId": "busy-room",
                },
            }
            with httpx.Client(base_url=server.base_url, auth=ApplicationAuth(KEY, SECRET)) as c:
                r = c.post("/calling/v1/callouts", json=body)
                assert r.status_code == 200, r.text
                return str(r.json()["callId"])

        with ThreadPoolExecutor(16) as pool:
            call_ids = set(pool.map(join, range(60)))
        with httpx.Client(base_url=server.base_url, auth=ApplicationAuth(KEY, SECRET)) as c:
            listed = {p["id"] for p in c.get("/calling/v1/conferences/id/busy-room").json()["participants"]}
        assert listed == call_ids and len(call_ids) == 60
    finally:
        server.kill()
