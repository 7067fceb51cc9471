"""The callback jobs of simulated calls: due-dated, kept in the store next to the calls."""

from __future__ import annotations

from typing import Any

from .store import Document, Store

__all__ = ["JobQueue"]

# Jobs due at the same moment run in the order their events happen in a call.
_KIND_ORDER = {"ice": 0, "answer": 1, "pie": 2, "dice": 3}


class JobQueue:
    """Due-dated jobs in the store (kind ``jobs``, key ``callId:kind``): one per call and kind."""

    KIND = "jobs"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.next_due: float | None = None  # a hint for this process; the store is the truth

    def schedule(self, call_id: str, kind: str, at: float, **data: Any) -> None:
        """Add (or move) the job; inside the caller's transaction."""
        self.store.put(self.KIND, f"{call_id}:{kind}", {"callId": call_id, "kind": kind, "at": at, **data})
        if self.next_due is None or at < self.next_due:
            self.next_due = at

    def pending(self) -> list[Document]:
        return sorted((doc for _, doc in self.store.items(self.KIND)), key=_job_order)

    def claim_due(self, now: float) -> list[Document]:
        """Remove and return the jobs due by ``now``, oldest first (atomic across processes)."""
        with self.store.transaction():
            due = [(key, doc) for key, doc in self.store.items(self.KIND) if float(doc["at"]) <= now]
            for key, _ in due:
                self.store.delete(self.KIND, key)
        return sorted((doc for _, doc in due), key=_job_order)

    def refresh(self) -> None:
        times = [float(doc["at"]) for _, doc in self.store.items(self.KIND)]
        self.next_due = min(times) if times else None


def _job_order(job: Document) -> tuple[float, int]:
    return float(job["at"]), _KIND_ORDER.get(str(job.get("kind")), 9)
