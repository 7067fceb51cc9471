"""The server's state behind one small interface, with two implementations.

State is a set of JSON documents addressed by (kind, key): ``numbers``, ``callbacks``,
``calls``, ``conferences``, ``meta``. ``MemoryStore`` keeps them in dicts; ``SqliteStore``
keeps them in one SQLite table in WAL mode and commits each transaction before the
caller answers, so a restart (even after ``kill -9``) loses nothing acknowledged. Several
processes may share one file: a write transaction takes SQLite's write lock at its start
(``BEGIN IMMEDIATE``), so read-modify-write sequences never interleave.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from .jsonio import dumps, loads

__all__ = ["Document", "MemoryStore", "SqliteStore", "Store", "open_store"]

Document = dict[str, Any]


class Store(Protocol):
    """Documents by (kind, key). Mutations belong inside ``transaction()``."""

    def get(self, kind: str, key: str) -> Document | None: ...

    def read(self, kind: str, key: str) -> Document | None:
        """Like ``get``, for callers that promise not to modify the result (may be shared)."""
        ...

    def put(self, kind: str, key: str, value: Document) -> None: ...

    def delete(self, kind: str, key: str) -> None: ...

    def items(self, kind: str) -> list[tuple[str, Document]]: ...

    def transaction(self) -> Any:
        """A context manager: everything inside commits together, or not at all on an exception."""
        ...

    def close(self) -> None: ...


class MemoryStore:
    """In-process dicts of encoded documents. A transaction rolls back its own changes if it raises.

    Documents are kept encoded (as SQLite keeps them), so a caller never shares mutable state
    with the store: what ``get`` returns is a fresh copy, and a later change to a document
    that was ``put`` does not reach the store.
    """

    def __init__(self) -> None:
        self._data: dict[str, dict[str, bytes]] = {}
        self._parsed: dict[tuple[str, str], Document] = {}  # read-only views of _data
        self._lock = threading.RLock()
        self._undo: list[tuple[str, str, bytes | None]] | None = None
        self._transaction = _MemoryTransaction(self)

    def get(self, kind: str, key: str) -> Document | None:
        bucket = self._data.get(kind)
        raw = bucket.get(key) if bucket is not None else None
        if raw is None:
            return None
        result: Document = loads(raw)
        return result

    def read(self, kind: str, key: str) -> Document | None:
        cached = self._parsed.get((kind, key))
        if cached is None:
            cached = self.get(kind, key)
            if cached is not None:
                self._parsed[(kind, key)] = cached
        return cached

    def put(self, kind: str, key: str, value: Document) -> None:
        encoded = bytes(memoryview(dumps(value)))  # a right-sized copy: orjson's own buffer is 8 KiB at least
        with self._lock:
            self._parsed.pop((kind, key), None)
            bucket = self._data.get(kind)
            if bucket is None:
                bucket = self._data[kind] = {}
            if self._undo is not None:
                self._undo.append((kind, key, bucket.get(key)))
            bucket[key] = encoded

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._parsed.pop((kind, key), None)
            bucket = self._data.get(kind, {})
            if key in bucket:
                if self._undo is not None:
                    self._undo.append((kind, key, bucket[key]))
                del bucket[key]

    def items(self, kind: str) -> list[tuple[str, Document]]:
        return [(k, loads(v)) for k, v in sorted(self._data.get(kind, {}).items())]

    def transaction(self) -> _MemoryTransaction:
        return self._transaction

    def _begin(self) -> bool:
        """Enter a transaction; True if it is the outermost one (which owns the undo log)."""
        self._lock.acquire()
        if self._undo is not None:
            return False
        self._undo = []
        return True

    def _end(self, outermost: bool, failed: bool) -> None:
        try:
            if outermost:
                undo, self._undo = self._undo or [], None
                if failed:
                    for kind, key, old in reversed(undo):
                        self._parsed.pop((kind, key), None)
                        if old is None:
                            self._data.get(kind, {}).pop(key, None)
                        else:
                            self._data.setdefault(kind, {})[key] = old
        finally:
            self._lock.release()

    def close(self) -> None:
        pass


class _MemoryTransaction:
    """``MemoryStore.transaction()``: a plain context manager (a generator-based one cost a POST ~2 us).

    Reentrant like the lock it holds: the outermost transaction of a thread owns the undo log.
    """

    __slots__ = ("_outermost", "_store")

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._outermost: list[bool] = []

    def __enter__(self) -> None:
        self._outermost.append(self._store._begin())

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        self._store._end(self._outermost.pop(), kind is not None)


class SqliteStore:
    """One SQLite file in WAL mode; every transaction is committed (and synced) when it ends."""

    def __init__(self, path: str | Path, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self._conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if synchronous.upper() == 'FULL' else 'NORMAL'}")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS documents ("
            " kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key))"
        )

    def get(self, kind: str, key: str) -> Document | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM documents WHERE kind=? AND key=?", (kind, key)).fetchone()
        if row is None:
            return None
        result: Document = loads(row[0])
        return result

    def read(self, kind: str, key: str) -> Document | None:
        return self.get(kind, key)  # other processes may write: always read the file

    def put(self, kind: str, key: str, value: Document) -> None:
        with self.transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO documents (kind, key, value) VALUES (?, ?, ?)",
                (kind, key, dumps(value).decode("utf-8")),
            )

    def delete(self, kind: str, key: str) -> None:
        with self.transaction():
            self._conn.execute("DELETE FROM documents WHERE kind=? AND key=?", (kind, key))

    def items(self, kind: str) -> list[tuple[str, Document]]:
        with self._lock:
            rows = self._conn.execute("SELECT key, value FROM documents WHERE kind=? ORDER BY key", (kind,)).fetchall()
        return [(str(k), loads(v)) for k, v in rows]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_store(path: str | Path | None) -> Store:
    return MemoryStore() if path is None else SqliteStore(path)
